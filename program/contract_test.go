package program_test

import (
	"strings"
	"testing"
)

// TestContainerEnvironmentContract pins the environment the application images
// are given (README, "Config reference"): names, and which come from Secrets.
func TestContainerEnvironmentContract(t *testing.T) {
	central := "S3_ENDPOINT=192.168.10.101:10000 S3_USE_TLS=true S3_ACCESS_KEY_ID<%s S3_SECRET_ACCESS_KEY<%s"
	source := " S3_SOURCE_ENDPOINT=192.168.10.101:10000 S3_SOURCE_USE_TLS=true S3_SOURCE_ACCESS_KEY_ID<%s S3_SOURCE_SECRET_ACCESS_KEY<%s"
	preview := "S3_ENDPOINT=pr-123-object-store.data-platform-previews.svc:9000 S3_USE_TLS=false S3_ACCESS_KEY_ID<%s S3_SECRET_ACCESS_KEY<%s"
	fill := func(format, secret string) string { return strings.ReplaceAll(format, "%s", secret) }
	tests := []struct {
		stack, deployment, want string
	}{
		{"production", "api", "DATABASE_URL<postgres-credentials S3_BUCKET=dataplatform-prod S3_READ_BUCKETS= " + fill(central, "s3-app")},
		{"production", "frontend", "API_URL=http://api S3_BUCKET=dataplatform-prod S3_READ_BUCKETS= " + fill(central, "s3-viewer")},
		{"staging", "api", "DATABASE_URL<postgres-credentials S3_BUCKET=dataplatform-dev S3_READ_BUCKETS=dataplatform-prod " + fill(central, "s3-app")},
		{"pr-123", "pr-123-api", "DATABASE_URL<pr-123-postgres-credentials S3_BUCKET=preview-data S3_READ_BUCKETS=dataplatform-public " +
			fill(preview, "pr-123-object-store-app") + fill(source, "pr-123-s3-app")},
	}
	for _, tt := range tests {
		t.Run(tt.stack+"/"+tt.deployment, func(t *testing.T) {
			d, ok := runStack(t, tt.stack).Find(tDeployment, tt.deployment)
			if !ok {
				t.Fatalf("no Deployment %s", tt.deployment)
			}
			var got []string
			for _, v := range list(d.Inputs, "spec.template.spec.containers.0.env") {
				env := unwrap(v).ObjectValue()
				if secret := str(env, "valueFrom.secretKeyRef.name"); secret != "" {
					got = append(got, str(env, "name")+"<"+secret)
				} else {
					got = append(got, str(env, "name")+"="+str(env, "value"))
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("environment\n got %s\nwant %s", strings.Join(got, " "), tt.want)
			}
		})
	}
}
