package program_test

import (
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/internal/programtest"
)

// TestBadConfigurationsRegisterNothing: every bad configuration stops the program
// before a single resource is registered, with a message naming the key, the value
// and what is allowed.
func TestBadConfigurationsRegisterNothing(t *testing.T) {
	valid := programtest.ValidConfig
	with, without := programtest.With, programtest.Without
	tests := []struct {
		name  string
		stack string
		cfg   map[string]string
		want  []string // fragments the error must contain
	}{
		{"unknown stack name", "prod", valid("production"), []string{`stack name "prod"`, "pr-<N>"}},
		{"pr-0", "pr-0", valid("pr-1"), []string{`stack name "pr-0"`, `"0" is not a pull request number`}},
		{"pr-abc", "pr-abc", valid("pr-1"), []string{`"abc" is not a pull request number`}},
		{"replicas out of bounds", "production", with(valid("production"), "apiReplicas", "11"), []string{"data-platform:apiReplicas", `"11"`, "from 2 to 10"}},
		{"preview replicas out of bounds", "pr-123", with(valid("pr-123"), "frontendReplicas", "5"), []string{"data-platform:frontendReplicas", `"5"`, "from 1 to 2"}},
		{"2Gb", "staging", with(valid("staging"), "postgresStorage", "2Gb"), []string{"data-platform:postgresStorage", `"2Gb"`, "Mi, Gi or Ti"}},
		{"bucket breaking S3 rules", "public", with(valid("public"), "bucket", "Public_Data"), []string{"data-platform:bucket", `"Public_Data"`, "S3 bucket name"}},
		{"bucket with double dot", "public", with(valid("public"), "bucket", "public..data"), []string{"data-platform:bucket", `"public..data"`, "no '..'"}},
		{"empty image tag", "production", with(valid("production"), "frontendTag", ""), []string{"data-platform:frontendTag", `""`, "image tag"}},
		{"latest tag", "public", with(valid("public"), "apiTag", "latest"), []string{"data-platform:apiTag", `"latest"`, "not 'latest'"}},
		{"preview asking for prod", "pr-123", with(valid("pr-123"), "sourceBucket", "dataplatform-prod"), []string{"data-platform:sourceBucket", `"dataplatform-prod"`, "never get access to patient-data"}},
		{"preview asking for dev", "pr-123", with(valid("pr-123"), "sourceBucket", "dataplatform-dev"), []string{"data-platform:sourceBucket", `"dataplatform-dev"`, "patient-data"}},
		{"preview asking for prod backups", "pr-123", with(valid("pr-123"), "sourceBucket", "dataplatform-backups-production"), []string{"data-platform:sourceBucket", "backup buckets"}},
		{"staging writing prod", "staging", with(valid("staging"), "bucket", "dataplatform-prod"), []string{"data-platform:bucket", `"dataplatform-prod"`, "belongs to production"}},
		{"hostname not DNS", "public", with(valid("public"), "hostname", "public data"), []string{"data-platform:hostname", `"public data"`, "DNS name"}},
		{"wildcard hostname", "staging", with(valid("staging"), "hostname", "*.virdx.dev"), []string{"data-platform:hostname", `"*.virdx.dev"`, "no wildcard"}},
		{"public class on production", "production", with(valid("production"), "ingress", "true", "ingressClass", "nginx", "ingressAllowedSources", "10.0.0.0/8"), []string{"data-platform:ingressClass", `"nginx"`, `"internal"`}},
		{"sensitive ingress without allow-list", "production", with(valid("production"), "ingress", "true"), []string{"data-platform:ingressAllowedSources", "at least one CIDR"}},
		{"unpinned staging", "staging", with(valid("staging"), "pinImages", "false"), []string{"data-platform:pinImages", `"false"`, "by digest"}},
		{"bad schedule", "production", with(valid("production"), "backupSchedule", "daily"), []string{"data-platform:backupSchedule", `"daily"`, "cron"}},
		{"missing secret", "public", without(valid("public"), "minioPassword"), []string{"data-platform:minioPassword", "--secret"}},
		{"missing kube context", "production", without(valid("production"), "kubeContext"), []string{"data-platform:kubeContext", "required"}},
		{"key previews does not use", "previews", with(valid("previews"), "frontendTag", "v1"), []string{"data-platform:frontendTag", "does not use"}},
		{"endpoint without port", "public", with(valid("public"), "s3Endpoint", "10.1.2.3"), []string{"data-platform:s3Endpoint", `"10.1.2.3"`, "host:port"}},
		{"misspelt replicas", "production", with(valid("production"), "apiReplica", "3"), []string{"data-platform:apiReplica", "did you mean apiReplicas?"}},
		{"misspelt secret", "public", with(valid("public"), "minioPasword", "hunter2"), []string{"data-platform:minioPasword", `"[not shown]"`, "did you mean minioPassword?"}},
		{"misspelt ingress", "staging", with(valid("staging"), "ingres", "true"), []string{"data-platform:ingres", "did you mean ingress?"}},
		{"unknown key on previews", "previews", with(valid("previews"), "namespace", "mine"), []string{"data-platform:namespace", "did you mean"}},
		{"unknown key on a preview", "pr-123", with(valid("pr-123"), "sourceBuckets", "dataplatform-public"), []string{"data-platform:sourceBuckets", "did you mean sourceBucket?"}},
		{"kube context the kubeconfig lacks", "production", with(valid("production"), "kubeContext", "vx-clustr"), []string{"data-platform:kubeContext", `"vx-clustr"`, "one of the contexts in the kubeconfig", "vx-cluster, vx-other", "did you mean vx-cluster?"}},
		{"kube context the kubeconfig lacks on previews", "previews", with(valid("previews"), "kubeContext", "production-cluster"), []string{"data-platform:kubeContext", `"production-cluster"`, "one of the contexts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, err := programtest.RunProgram(tt.stack, tt.cfg)
			if err == nil {
				t.Fatalf("accepted; registered %d resources", len(run.Resources))
			}
			for _, fragment := range tt.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("error does not contain %q:\n%v", fragment, err)
				}
			}
			if len(run.Resources) != 0 {
				t.Errorf("%d resources registered before the error, want none: %v", len(run.Resources), run.CountByType())
			}
		})
	}
}

// TestSeveralProblemsReportedTogether: one run shows every problem.
func TestSeveralProblemsReportedTogether(t *testing.T) {
	cfg := programtest.With(programtest.ValidConfig("production"), "apiReplicas", "0", "postgresStorage", "2Gb", "hostname", "x", "frontendTag", "latest")
	_, err := programtest.RunProgram("production", cfg)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, key := range []string{"apiReplicas", "postgresStorage", "hostname", "frontendTag"} {
		if !strings.Contains(err.Error(), "data-platform:"+key) {
			t.Errorf("problem with %s not reported:\n%v", key, err)
		}
	}
	if !strings.Contains(err.Error(), "4 config problem(s)") {
		t.Errorf("want a count of 4 problems: %v", err)
	}
}

// TestConfigAndKubeconfigProblemsReportedTogether: an unknown key, a bad value
// and a kube context the kubeconfig lacks come out in one run, and nothing is
// registered.
func TestConfigAndKubeconfigProblemsReportedTogether(t *testing.T) {
	cfg := programtest.With(programtest.ValidConfig("staging"), "apiReplica", "3", "postgresStorage", "2Gb", "kubeContext", "elsewhere")
	run, err := programtest.RunProgram("staging", cfg)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, fragment := range []string{"3 config problem(s)", "data-platform:apiReplica ", "data-platform:postgresStorage", "data-platform:kubeContext"} {
		if !strings.Contains(err.Error(), fragment) {
			t.Errorf("error does not contain %q:\n%v", fragment, err)
		}
	}
	if len(run.Resources) != 0 {
		t.Errorf("%d resources registered, want none", len(run.Resources))
	}
}
