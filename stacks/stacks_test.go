package stacks

import (
	"errors"
	"strings"
	"testing"
)

func TestParseStackName(t *testing.T) {
	tests := []struct {
		stack   string
		kind    Kind
		pr      int
		wantErr string
	}{
		{stack: "production", kind: KindProduction},
		{stack: "staging", kind: KindStaging},
		{stack: "public", kind: KindPublic},
		{stack: "previews", kind: KindPreviews},
		{stack: "pr-123", kind: KindPreview, pr: 123},
		{stack: "pr-1", kind: KindPreview, pr: 1},
		{stack: "pr-0", wantErr: `"0" is not a pull request number`},
		{stack: "pr-abc", wantErr: `"abc" is not a pull request number`},
		{stack: "pr-007", wantErr: `"007" is not a pull request number`},
		{stack: "pr--5", wantErr: `"-5" is not a pull request number`},
		{stack: "pr-", wantErr: `"" is not a pull request number`},
		{stack: "prod", wantErr: `stack name "prod": unknown environment`},
		{stack: "Production", wantErr: `unknown environment`},
		{stack: "", wantErr: `unknown environment`},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			got, err := ParseStackName(tt.stack)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "pr-<N>") {
					t.Fatalf("ParseStackName(%q) error = %v, want it to contain %q and the allowed names", tt.stack, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Kind != tt.kind || got.PRNumber != tt.pr {
				t.Fatalf("ParseStackName(%q) = %+v, %v; want kind %s pr %d", tt.stack, got, err, tt.kind, tt.pr)
			}
		})
	}
}

func TestSensitivityFollowsStackNameOnly(t *testing.T) {
	for stack, want := range map[string]bool{"production": true, "staging": true, "public": false, "previews": false, "pr-123": false} {
		env, err := Load(stack, validConfig(stack))
		if err != nil {
			t.Fatalf("Load(%s): %v", stack, err)
		}
		if env.Sensitive != want {
			t.Errorf("%s: Sensitive = %v, want %v", stack, env.Sensitive, want)
		}
	}
}

func TestLoadPresets(t *testing.T) {
	tests := []struct {
		stack          string
		namespace      string
		ownsNamespace  bool
		prefix         string
		pin            bool
		backup         bool
		restoreFrom    string
		restoreOnStart bool
		hostname       string
	}{
		{"production", "data-platform-production", true, "", true, true, "", false, "production.data.virdx.dev"},
		{"staging", "data-platform-staging", true, "", true, true, "production", false, "staging.data.virdx.dev"},
		{"public", "data-platform-public", true, "", false, true, "", false, "public.data.virdx.dev"},
		{"pr-123", "data-platform-previews", false, "pr-123-", false, false, "public", true, "pr-123.previews.data.virdx.dev"},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			env, err := Load(tt.stack, validConfig(tt.stack))
			if err != nil {
				t.Fatal(err)
			}
			if env.Namespace != tt.namespace || env.OwnsNamespace != tt.ownsNamespace || env.NamePrefix != tt.prefix {
				t.Errorf("namespace %q owns %v prefix %q", env.Namespace, env.OwnsNamespace, env.NamePrefix)
			}
			if env.Images.PinDigests != tt.pin || env.Backup.Enabled != tt.backup {
				t.Errorf("pin %v backup %v", env.Images.PinDigests, env.Backup.Enabled)
			}
			gotRestore, gotOnCreate := "", false
			if env.Backup.RestoreFrom != nil {
				gotRestore, gotOnCreate = env.Backup.RestoreFrom.Environment, env.Backup.RestoreFrom.OnCreate
			}
			if gotRestore != tt.restoreFrom || gotOnCreate != tt.restoreOnStart {
				t.Errorf("restore from %q on create %v", gotRestore, gotOnCreate)
			}
			if env.Ingress.Enabled || env.Ingress.Host != tt.hostname {
				t.Errorf("ingress %+v", env.Ingress)
			}
			if env.Images.Frontend != "ghcr.io/virdx/vxplatform-frontend:v1.4.2" || env.Images.API != "ghcr.io/virdx/vxplatform-api:v1.4.2" {
				t.Errorf("images %+v", env.Images)
			}
		})
	}
}

func TestPersistentEnvironmentsAreSizedIdentically(t *testing.T) {
	prod, _ := Load("production", validConfig("production"))
	for _, stack := range []string{"staging", "public"} {
		env, err := Load(stack, validConfig(stack))
		if err != nil {
			t.Fatal(err)
		}
		if env.Sizing != prod.Sizing {
			t.Errorf("%s sizing differs from production:\n%+v\n%+v", stack, env.Sizing, prod.Sizing)
		}
	}
	preview, _ := Load("pr-123", validConfig("pr-123"))
	if preview.Sizing.Frontend.Replicas != 1 || preview.Sizing.API.Replicas != 1 {
		t.Errorf("preview replicas %d/%d, want 1/1", preview.Sizing.Frontend.Replicas, preview.Sizing.API.Replicas)
	}
	for name, pair := range map[string][2]string{
		"frontend cpu": {preview.Sizing.Frontend.Resources.CPURequest, prod.Sizing.Frontend.Resources.CPURequest},
		"api memory":   {preview.Sizing.API.Resources.MemoryRequest, prod.Sizing.API.Resources.MemoryRequest},
		"postgres mem": {preview.Sizing.Postgres.Resources.MemoryLimit, prod.Sizing.Postgres.Resources.MemoryLimit},
		"volume":       {preview.Sizing.PostgresVolume.Size, prod.Sizing.PostgresVolume.Size},
	} {
		if mustQuantityF(t, pair[0]) >= mustQuantityF(t, pair[1]) {
			t.Errorf("preview %s %s is not smaller than production's %s", name, pair[0], pair[1])
		}
	}
}

func TestConfigOverrides(t *testing.T) {
	env, err := Load("public", with(validConfig("public"),
		"frontendReplicas", "3", "apiReplicas", "4", "postgresStorage", "100Gi", "storageClass", "fast-ssd",
		"ingress", "true", "hostname", "data.example.org", "backupSchedule", "0 */6 * * *", "backupRetentionDays", "90",
		"s3EgressCidr", "192.168.10.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	s := env.Sizing
	if s.Frontend.Replicas != 3 || s.API.Replicas != 4 || s.PostgresVolume.Size != "100Gi" || s.PostgresVolume.StorageClass != "fast-ssd" {
		t.Errorf("sizing overrides not applied: %+v", s)
	}
	if !env.Ingress.Enabled || env.Ingress.Host != "data.example.org" || env.Ingress.Class != "nginx" {
		t.Errorf("ingress overrides not applied: %+v", env.Ingress)
	}
	if env.Backup.Schedule != "0 */6 * * *" || env.Backup.RetentionDays != 90 || env.Storage.Central.EgressCIDR != "192.168.10.0/24" {
		t.Errorf("backup/egress overrides not applied: %+v %+v", env.Backup, env.Storage.Central)
	}
}

func TestSensitiveIngressIsInternalWithAllowList(t *testing.T) {
	env, err := Load("production", with(validConfig("production"), "ingress", "true", "ingressAllowedSources", "10.0.0.0/8, 192.168.0.0/16"))
	if err != nil {
		t.Fatal(err)
	}
	if env.Ingress.Class != InternalIngressClass || len(env.Ingress.AllowedSources) != 2 {
		t.Errorf("ingress = %+v", env.Ingress)
	}
}

// TestBadConfigs: each bad config is rejected, naming the key, the value and what
// is allowed; and a config with several problems reports all of them.
func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name    string
		stack   string
		cfg     Config
		key     string
		value   string
		allowed string
	}{
		{"replicas above bound", "production", with(validConfig("production"), "apiReplicas", "50"), "apiReplicas", "50", "from 2 to 10"},
		{"one replica on production", "production", with(validConfig("production"), "frontendReplicas", "1"), "frontendReplicas", "1", "from 2 to 10"},
		{"preview replicas above bound", "pr-7", with(validConfig("pr-7"), "apiReplicas", "3"), "apiReplicas", "3", "from 1 to 2"},
		{"replicas not a number", "public", with(validConfig("public"), "apiReplicas", "two"), "apiReplicas", "two", "whole number"},
		{"quantity with decimal suffix", "staging", with(validConfig("staging"), "postgresStorage", "2Gb"), "postgresStorage", "2Gb", "Mi, Gi or Ti"},
		{"quantity too small", "production", with(validConfig("production"), "postgresStorage", "1Gi"), "postgresStorage", "1Gi", "from 10Gi to 2Ti"},
		{"preview volume too large", "pr-7", with(validConfig("pr-7"), "postgresStorage", "50Gi"), "postgresStorage", "50Gi", "from 1Gi to 10Gi"},
		{"bucket with capitals", "public", with(validConfig("public"), "bucket", "DataPlatform_Public"), "bucket", "DataPlatform_Public", "S3 bucket name"},
		{"bucket too short", "public", with(validConfig("public"), "bucket", "ab"), "bucket", "ab", "3-63 characters"},
		{"bucket as IP", "public", with(validConfig("public"), "bucket", "192.168.1.10"), "bucket", "192.168.1.10", "not an IP address"},
		{"staging writing the production bucket", "staging", with(validConfig("staging"), "bucket", "dataplatform-prod"), "bucket", "dataplatform-prod", "belongs to production"},
		{"public taking a backup bucket", "public", with(validConfig("public"), "bucket", "dataplatform-backups-production"), "bucket", "dataplatform-backups-production", "backup buckets"},
		{"preview asking for the production bucket", "pr-9", with(validConfig("pr-9"), "sourceBucket", "dataplatform-prod"), "sourceBucket", "dataplatform-prod", "never get access to patient-data"},
		{"preview asking for the staging bucket", "pr-9", with(validConfig("pr-9"), "sourceBucket", "dataplatform-dev"), "sourceBucket", "dataplatform-dev", "never get access to patient-data"},
		{"preview asking for its own target bucket", "pr-9", with(validConfig("pr-9"), "bucket", "my-preview"), "bucket", "my-preview", "does not use bucket"},
		{"empty image tag", "production", with(validConfig("production"), "apiTag", ""), "apiTag", "", "image tag"},
		{"latest image tag", "public", with(validConfig("public"), "frontendTag", "latest"), "frontendTag", "latest", "not 'latest'"},
		{"image tag with colon", "public", with(validConfig("public"), "frontendTag", "v1:2"), "frontendTag", "v1:2", "image tag"},
		{"missing image tag", "staging", without(validConfig("staging"), "frontendTag"), "frontendTag", "", "required for a staging stack"},
		{"missing secret", "production", without(validConfig("production"), "minioPassword"), "minioPassword", "", "pulumi config set --secret minioPassword"},
		{"hostname with underscore", "public", with(validConfig("public"), "hostname", "public_data.virdx.dev"), "hostname", "public_data.virdx.dev", "DNS name"},
		{"wildcard hostname", "public", with(validConfig("public"), "hostname", "*.data.virdx.dev"), "hostname", "*.data.virdx.dev", "no wildcard"},
		{"single-label hostname", "public", with(validConfig("public"), "hostname", "localhost"), "hostname", "localhost", "DNS name"},
		{"public ingress class on production", "production", with(validConfig("production"), "ingressClass", "nginx"), "ingressClass", "nginx", `"internal"`},
		{"sensitive ingress without allow-list", "staging", with(validConfig("staging"), "ingress", "true"), "ingressAllowedSources", "", "at least one CIDR"},
		{"sensitive ingress open to all", "production", with(validConfig("production"), "ingress", "true", "ingressAllowedSources", "0.0.0.0/0"), "ingressAllowedSources", "0.0.0.0/0", "never open to every address"},
		{"bad CIDR", "public", with(validConfig("public"), "ingressAllowedSources", "10.0.0.0/33"), "ingressAllowedSources", "10.0.0.0/33", "CIDR"},
		{"unpinned production", "production", with(validConfig("production"), "pinImages", "false"), "pinImages", "false", "always deploy images by digest"},
		{"bool that is not one", "public", with(validConfig("public"), "ingress", "yes"), "ingress", "yes", "true or false"},
		{"bad cron", "production", with(validConfig("production"), "backupSchedule", "every day"), "backupSchedule", "every day", "five-field cron"},
		{"cron out of range", "production", with(validConfig("production"), "backupSchedule", "61 2 * * *"), "backupSchedule", "61 2 * * *", "five-field cron"},
		{"cron step of zero", "production", with(validConfig("production"), "backupSchedule", "*/0 * * * *"), "backupSchedule", "*/0 * * * *", "five-field cron"},
		{"cron list item out of range", "production", with(validConfig("production"), "backupSchedule", "0 1-5/2,25 * * *"), "backupSchedule", "0 1-5/2,25 * * *", "five-field cron"},
		{"retention too short", "production", with(validConfig("production"), "backupRetentionDays", "1"), "backupRetentionDays", "1", "from 7 to 3650"},
		{"endpoint without port", "public", with(validConfig("public"), "s3Endpoint", "minio.virdx.dev"), "s3Endpoint", "minio.virdx.dev", "host:port"},
		{"hostname endpoint without egress range", "public", with(validConfig("public"), "s3Endpoint", "minio.virdx.dev:443"), "s3EgressCidr", "", "required when s3Endpoint is a hostname"},
		{"egress open to everyone", "public", with(validConfig("public"), "s3EgressCidr", "0.0.0.0/0"), "s3EgressCidr", "0.0.0.0/0", "not every address"},
		{"unknown key", "public", with(validConfig("public"), "replicas", "3"), "replicas", "[not shown]", "config reference"},
		{"key the kind does not use", "previews", with(validConfig("previews"), "apiTag", "v1"), "apiTag", "v1", "previews stack does not use apiTag"},
		{"missing kube context", "previews", without(validConfig("previews"), "kubeContext"), "kubeContext", "", "required for a previews stack"},
		{"blank kube context", "public", with(validConfig("public"), "kubeContext", " "), "kubeContext", " ", "context in your kubeconfig"},
		{"storage class not a name", "public", with(validConfig("public"), "storageClass", "Fast SSD"), "storageClass", "Fast SSD", "storage class name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Load(tt.stack, tt.cfg)
			var cfgErr *ConfigError
			if !errors.As(err, &cfgErr) {
				t.Fatalf("Load = %+v, %v; want a *ConfigError", env, err)
			}
			if env.Stack != "" {
				t.Errorf("an Environment was returned alongside the error: %+v", env)
			}
			found := false
			for _, p := range cfgErr.Problems {
				if p.Key == tt.key && p.Value == tt.value && strings.Contains(p.Allowed, tt.allowed) {
					found = true
				}
			}
			msg := err.Error()
			if !found || !strings.Contains(msg, "data-platform:"+tt.key) || !strings.Contains(msg, `"`+tt.value+`"`) {
				t.Errorf("want a problem naming key %q value %q allowed %q; got:\n%s", tt.key, tt.value, tt.allowed, msg)
			}
		})
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	cfg := with(without(validConfig("staging"), "minioUser"), "apiReplicas", "0", "postgresStorage", "2Gb", "hostname", "bad_host", "bucket", "dataplatform-prod")
	_, err := Load("staging", cfg)
	var cfgErr *ConfigError
	if !errors.As(err, &cfgErr) {
		t.Fatalf("want *ConfigError, got %v", err)
	}
	keys := map[string]bool{}
	for _, p := range cfgErr.Problems {
		keys[p.Key] = true
	}
	for _, k := range []string{"minioUser", "apiReplicas", "postgresStorage", "hostname", "bucket"} {
		if !keys[k] {
			t.Errorf("problem for %s not reported; got %v", k, err)
		}
	}
}

func TestSecretsNeverShownInErrors(t *testing.T) {
	_, err := Load("previews", with(validConfig("previews"), "minioPassword", "hunter2-secret"))
	if err == nil || strings.Contains(err.Error(), "hunter2-secret") || !strings.Contains(err.Error(), "[secret]") {
		t.Fatalf("error must name the key but hide the secret value: %v", err)
	}
	_, err = Load("public", with(validConfig("public"), "minioPasword", "hunter2-secret"))
	if err == nil || strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("a misspelt secret key must not be shown: %v", err)
	}
}

func TestPreviewsNamespaceHoldsTenPreviews(t *testing.T) {
	previews, err := Load("previews", validConfig("previews"))
	if err != nil {
		t.Fatal(err)
	}
	preview, _ := Load("pr-1", validConfig("pr-1"))
	prod, _ := Load("production", validConfig("production"))
	q := previews.Sizing.Quota
	footprint := PreviewFootprint(preview.Sizing)
	checks := []struct {
		name          string
		quota         string
		perPreview    float64
		persistent    string
		quantityParse func(*testing.T, string) float64
	}{
		{"cpu requests", q.CPURequests, footprint.CPURequests, prod.Sizing.Quota.CPURequests, mustQuantityF},
		{"cpu limits", q.CPULimits, footprint.CPULimits, prod.Sizing.Quota.CPULimits, mustQuantityF},
		{"memory requests", q.MemoryRequests, footprint.MemoryRequests, prod.Sizing.Quota.MemoryRequests, mustQuantityF},
		{"memory limits", q.MemoryLimits, footprint.MemoryLimits, prod.Sizing.Quota.MemoryLimits, mustQuantityF},
		{"storage", q.Storage, footprint.Storage, prod.Sizing.Quota.Storage, mustQuantityF},
	}
	for _, c := range checks {
		total := c.quantityParse(t, c.quota)
		if total < MinConcurrentPreviews*c.perPreview {
			t.Errorf("%s: quota %s holds fewer than %d previews of %v", c.name, c.quota, MinConcurrentPreviews, c.perPreview)
		}
		if total <= c.quantityParse(t, c.persistent) {
			t.Errorf("%s: previews quota %s is not larger than a persistent namespace's %s", c.name, c.quota, c.persistent)
		}
	}
	if q.Pods < MinConcurrentPreviews*footprint.Pods || q.Claims < MinConcurrentPreviews*footprint.Claims {
		t.Errorf("pods %d / claims %d too few for %d previews of %d pods, %d claims", q.Pods, q.Claims, MinConcurrentPreviews, footprint.Pods, footprint.Claims)
	}
	if q.Pods <= prod.Sizing.Quota.Pods {
		t.Errorf("previews pods quota %d not larger than production's %d", q.Pods, prod.Sizing.Quota.Pods)
	}
}

func mustQuantityF(t *testing.T, q string) float64 {
	t.Helper()
	n, err := ParseQuantity(q)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKindDecisions: what each kind of environment decides for the components,
// which never ask for the kind themselves.
func TestKindDecisions(t *testing.T) {
	tests := []struct {
		stack           string
		hasWorkloads    bool
		protect         bool
		class           NamespaceClass
		retainDatabase  bool
		backupNames     string
		pullRequest     string
		inClusterObject bool
	}{
		{"production", true, true, NamespaceClass{"production", SensitivityPatientData}, true, "production", "", false},
		{"staging", true, true, NamespaceClass{"staging", SensitivityPatientData}, true, "staging", "", false},
		{"public", true, false, NamespaceClass{"public", SensitivityNone}, true, "public", "", false},
		{"previews", false, false, NamespaceClass{"previews", SensitivityNone}, false, "", "", false},
		{"pr-123", true, false, NamespaceClass{"previews", SensitivityNone}, false, "", "123", true},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			env, err := Load(tt.stack, validConfig(tt.stack))
			if err != nil {
				t.Fatal(err)
			}
			got := []any{env.HasWorkloads, env.ProtectNamespace, env.NamespaceClass, env.Sizing.PostgresVolume.RetainOnDelete,
				env.Backup.Environment, env.PullRequest, env.Storage.TargetIsPreviewStore}
			want := []any{tt.hasWorkloads, tt.protect, tt.class, tt.retainDatabase, tt.backupNames, tt.pullRequest, tt.inClusterObject}
			names := []string{"HasWorkloads", "ProtectNamespace", "NamespaceClass", "PostgresVolume.RetainOnDelete", "Backup.Environment", "PullRequest", "Storage.TargetIsPreviewStore"}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s = %v, want %v", names[i], got[i], want[i])
				}
			}
		})
	}
}

// TestUnknownKeysSuggestTheClosestKnownKey: a misspelt key is an error naming
// the key and the known key it is nearest to.
func TestUnknownKeysSuggestTheClosestKnownKey(t *testing.T) {
	tests := []struct{ stack, key, suggestion string }{
		{"production", "apiReplica", "apiReplicas"},
		{"public", "minioPasword", "minioPassword"},
		{"staging", "ingres", "ingress"},
		{"pr-4", "sourcebucket", "sourceBucket"},
		{"previews", "kubeContex", "kubeContext"},
		{"public", "replicas", "apiReplicas"},
		{"public", "backupRetention", "backupRetentionDays"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := Load(tt.stack, with(validConfig(tt.stack), tt.key, "hunter2"))
			var cfgErr *ConfigError
			if !errors.As(err, &cfgErr) || len(cfgErr.Problems) != 1 {
				t.Fatalf("want exactly one problem, got %v", err)
			}
			p := cfgErr.Problems[0]
			if p.Key != tt.key || p.Value != hiddenValue || !strings.Contains(p.Allowed, "did you mean "+tt.suggestion+"?") {
				t.Errorf("problem %+v: want key %s, value hidden, suggestion %s", p, tt.key, tt.suggestion)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the value of an unknown key is shown: %v", err)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	tests := []struct {
		name       string
		candidates []string
		want       string
	}{
		{"ingres", []string{"ingressClass", "ingress", "hostname"}, "ingress"},
		{"HOSTNAME", []string{"hostname", "bucket"}, "hostname"},
		{"abc", []string{"abd", "abe"}, "abd"},
		{"x", nil, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.name, tt.candidates); got != tt.want {
			t.Errorf("Closest(%q, %v) = %q, want %q", tt.name, tt.candidates, got, tt.want)
		}
	}
	for a, b := range map[[2]string]int{{"", "abc"}: 3, {"kitten", "sitting"}: 3, {"same", "same"}: 0, {"flaw", "lawn"}: 2} {
		if got := editDistance(a[0], a[1]); got != b {
			t.Errorf("editDistance(%q, %q) = %d, want %d", a[0], a[1], got, b)
		}
	}
}
