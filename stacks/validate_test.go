package stacks

import (
	"strings"
	"testing"
)

// TestNameAndQuantityRules pins the edges of the rules that Kubernetes' and
// minio-go's validators now decide.
func TestNameAndQuantityRules(t *testing.T) {
	label63, label64 := strings.Repeat("a", 63), strings.Repeat("a", 64)
	validStorageSize := func(v string) bool { _, ok := storageBytes(v); return ok }
	tests := []struct {
		rule  string
		check func(string) bool
		value string
		want  bool
	}{
		{"hostname", validHostname, "staging.data.virdx.dev", true},
		{"hostname", validHostname, label63 + ".virdx.dev", true},
		{"hostname", validHostname, label64 + ".virdx.dev", false},
		{"hostname", validHostname, "staging.data.virdx.dev.", false},
		{"hostname", validHostname, "localhost", false},
		{"hostname", validHostname, "Staging.virdx.dev", false},
		{"hostname", validHostname, "*.virdx.dev", false},
		{"hostname", validHostname, "a..virdx.dev", false},
		{"hostname", validHostname, "-a.virdx.dev", false},
		{"DNS label", validDNSLabel, "nginx", true},
		{"DNS label", validDNSLabel, label63, true},
		{"DNS label", validDNSLabel, label64, false},
		{"DNS label", validDNSLabel, "internal.class", false},
		{"DNS label", validDNSLabel, "Nginx", false},
		{"object name", validObjectName, "fast-ssd", true},
		{"object name", validObjectName, "pr-1-web.tls", true},
		{"object name", validObjectName, "Fast SSD", false},
		{"object name", validObjectName, "-web-tls", false},
		{"object name", validObjectName, "", false},
		{"bucket", validBucketName, "dataplatform-public", true},
		{"bucket", validBucketName, "data.platform", true},
		{"bucket", validBucketName, "ab", false},
		{"bucket", validBucketName, strings.Repeat("b", 64), false},
		{"bucket", validBucketName, "Public_Data", false},
		{"bucket", validBucketName, "public..data", false},
		{"bucket", validBucketName, "public-.data", false},
		{"bucket", validBucketName, "192.168.1.10", false},
		{"bucket", validBucketName, "xn--public", false},
		{"bucket", validBucketName, "public-s3alias", false},
		{"storage size", validStorageSize, "50Gi", true},
		{"storage size", validStorageSize, "1024Mi", true},
		{"storage size", validStorageSize, "2Ti", true},
		{"storage size", validStorageSize, "2Gb", false},
		{"storage size", validStorageSize, "2G", false},
		{"storage size", validStorageSize, "1.5Gi", false},
		{"storage size", validStorageSize, "0Gi", false},
		{"storage size", validStorageSize, "20", false},
	}
	for _, tt := range tests {
		if got := tt.check(tt.value); got != tt.want {
			t.Errorf("%s %q: valid = %v, want %v", tt.rule, tt.value, got, tt.want)
		}
	}
	if n, _ := storageBytes("10Gi"); n != 10<<30 {
		t.Errorf("10Gi = %d bytes", n)
	}
}

func TestParseQuantity(t *testing.T) {
	for q, want := range map[string]float64{"500m": 0.5, "2": 2, "256Mi": 256 << 20, "1Gi": 1 << 30, "2Ti": 2 << 40} {
		if got, err := ParseQuantity(q); err != nil || got != want {
			t.Errorf("ParseQuantity(%q) = %v, %v; want %v", q, got, err, want)
		}
	}
	if _, err := ParseQuantity("2Gb"); err == nil || !strings.Contains(err.Error(), `"2Gb"`) {
		t.Errorf("ParseQuantity(2Gb) error %v, want one naming the value", err)
	}
}
