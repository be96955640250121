package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func props(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, keepAll)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheck(t *testing.T) {
	const bucketURN = "urn:pulumi:s::p::minio:index/s3Bucket:S3Bucket::reports"
	cases := []struct {
		name        string
		urn         string
		olds, news  resource.PropertyMap
		wantFailure string
		want        func(t *testing.T, got resource.PropertyMap)
	}{
		{name: "schema defaults are filled in", urn: bucketURN,
			news: resource.PropertyMap{"bucket": strProp("reports")},
			want: func(t *testing.T, got resource.PropertyMap) {
				if str(got, "acl") != "private" || !set(got, "forceDestroy") || boolean(got, "objectLocking") {
					t.Errorf("defaults not applied: %v", got)
				}
			}},
		{name: "an unset name is generated from the resource name", urn: bucketURN,
			news: resource.PropertyMap{},
			want: func(t *testing.T, got resource.PropertyMap) {
				if !regexp.MustCompile(`^reports-[0-9a-f]{7}$`).MatchString(str(got, "bucket")) {
					t.Errorf("auto-name %q", str(got, "bucket"))
				}
			}},
		{name: "a generated name stays on update", urn: bucketURN,
			olds: resource.PropertyMap{"bucket": strProp("reports-abcdef0")}, news: resource.PropertyMap{},
			want: func(t *testing.T, got resource.PropertyMap) {
				if str(got, "bucket") != "reports-abcdef0" {
					t.Errorf("auto-name changed to %q", str(got, "bucket"))
				}
			}},
		{name: "a prefix starts the generated name", urn: "urn:pulumi:s::p::minio:index/iamPolicy:IamPolicy::p",
			news: resource.PropertyMap{"namePrefix": strProp("ro-"), "policy": strProp("{}")},
			want: func(t *testing.T, got resource.PropertyMap) {
				if !strings.HasPrefix(str(got, "name"), "ro-") {
					t.Errorf("name %q", str(got, "name"))
				}
			}},
		{name: "an unknown input is named with the allowed ones", urn: bucketURN,
			news: resource.PropertyMap{"bukket": strProp("x")}, wantFailure: `"bukket" is not an input of minio:index/s3Bucket:S3Bucket; its inputs are acl, bucket`},
		{name: "a wrong type is named", urn: bucketURN,
			news: resource.PropertyMap{"forceDestroy": strProp("yes")}, wantFailure: "forceDestroy: yes is not a boolean"},
		{name: "a missing required input is named", urn: "urn:pulumi:s::p::minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment::a",
			news: resource.PropertyMap{"userName": strProp("u")}, wantFailure: "policyName: required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := &pulumirpc.CheckRequest{Urn: c.urn, News: props(t, c.news)}
			if c.olds != nil {
				req.Olds = props(t, c.olds)
			}
			res, err := newServer("mc", t.TempDir()).Check(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var failures []string
			for _, f := range res.Failures {
				failures = append(failures, f.Reason)
			}
			if c.wantFailure != "" {
				if !strings.Contains(strings.Join(failures, "\n"), c.wantFailure) {
					t.Errorf("failures %q, want one containing %q", failures, c.wantFailure)
				}
				return
			}
			if len(failures) > 0 {
				t.Fatalf("unexpected failures %q", failures)
			}
			got, err := plugin.UnmarshalProperties(res.Inputs, keepAll)
			if err != nil {
				t.Fatal(err)
			}
			c.want(t, got)
		})
	}
}

func TestUnknownTypeIsAClearError(t *testing.T) {
	_, err := newServer("mc", t.TempDir()).Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: "urn:pulumi:s::p::minio:index/kmsKey:KmsKey::k", News: props(t, resource.PropertyMap{})})
	if err == nil || !strings.Contains(err.Error(), "test double does not implement minio:index/kmsKey:KmsKey") {
		t.Errorf("got %v", err)
	}
}

// The engine looks the plugin up by the version internal/minio registers with.
func TestVersionIsWhatTheProgramRequests(t *testing.T) {
	src, err := os.ReadFile("../../internal/minio/version.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`providerVersion = "([^"]+)"`).FindStringSubmatch(string(src))
	if m == nil || m[1] != version {
		t.Errorf("internal/minio requests %v, the double serves %s", m, version)
	}
}

// Every resource type the program registers is applied by the double.
func TestEveryProgramTokenIsImplemented(t *testing.T) {
	files, err := os.ReadDir("../../internal/minio")
	if err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`Token = "(minio:index/[^"]+)"`)
	n := 0
	for _, f := range files {
		src, err := os.ReadFile("../../internal/minio/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range token.FindAllStringSubmatch(string(src), -1) {
			n++
			if _, ok := resourceTypes[m[1]]; !ok {
				t.Errorf("internal/minio registers %s; the double does not implement it", m[1])
			}
		}
	}
	if n < 8 {
		t.Errorf("found %d tokens in internal/minio, want at least 8", n)
	}
}

// Configure refuses what would skip or replace certificate verification: the
// server is verified against the system roots (SSL_CERT_FILE), as upstream's
// provider does without minioCacertFile; an HTTPS config with none is fine.
func TestConfigureRefusesWhatSkipsVerification(t *testing.T) {
	base := resource.PropertyMap{"minioServer": strProp("localhost:9000"), "minioUser": strProp("u"),
		"minioPassword": strProp("p-secret-123"), "minioSsl": boolProp(true)}
	cases := []struct {
		name  string
		extra resource.PropertyMap
		want  string // "": configured
	}{
		{"HTTPS verified by the system roots", nil, ""},
		{"minioInsecure", resource.PropertyMap{"minioInsecure": boolProp(true)}, "minioInsecure=true is not supported: the double verifies every certificate"},
		{"minioInsecure false", resource.PropertyMap{"minioInsecure": boolProp(false)}, ""},
		{"a CA file", resource.PropertyMap{"minioCacertFile": strProp("/ca.crt")}, "config minioCacertFile is not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base.Copy()
			for k, v := range c.extra {
				cfg[k] = v
			}
			_, err := newServer("mc", t.TempDir()).Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: props(t, cfg)})
			if c.want == "" && err != nil {
				t.Errorf("Configure: %v", err)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("Configure: %v, want an error containing %q", err, c.want)
			}
		})
	}
}
