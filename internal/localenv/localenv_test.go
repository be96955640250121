package localenv

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/stacks"
)

// The local config must be one the program accepts, for every kind of stack, and
// point at the local control plane.
func TestConfigIsValidForEveryStack(t *testing.T) {
	for _, stack := range []string{"production", "staging", "public", "previews", "pr-1", "pr-123"} {
		cfg := Config(stack)
		env, err := stacks.Load(stack, cfg)
		if err != nil {
			t.Errorf("%s: %v", stack, err)
			continue
		}
		if env.Cluster.KubeContext != KubeContext {
			t.Errorf("%s: kubeContext %q, want %q", stack, env.Cluster.KubeContext, KubeContext)
		}
		if env.Kind != stacks.KindPreviews && env.Sizing.PostgresVolume.StorageClass != StorageClass() {
			t.Errorf("%s: database storage class %q, want %q", stack, env.Sizing.PostgresVolume.StorageClass, StorageClass())
		}
	}
}

func TestClaims(t *testing.T) {
	got, err := Claims("previews", "production", "pr-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"50Gi", "2Gi", "5Gi"} // production's database; a preview's database and object store
	if len(got) != len(want) {
		t.Fatalf("Claims = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Claims = %v, want %v", got, want)
		}
	}
}

func TestKubernetesPluginVersionFollowsGoMod(t *testing.T) {
	repo, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	v, err := KubernetesPluginVersion(repo)
	if err != nil {
		t.Fatal(err)
	}
	if v == "" || v[0] == 'v' {
		t.Errorf("version %q: want a bare semver like 4.32.0", v)
	}
}

func TestBinDirIsRelativeToTheClone(t *testing.T) {
	t.Setenv("VX_BIN", "out")
	if got := BinDir("/repo"); got != filepath.Join("/repo", "out") {
		t.Errorf("BinDir = %s", got)
	}
	t.Setenv("VX_BIN", "/abs")
	if got := BinDir("/repo"); got != "/abs" {
		t.Errorf("BinDir = %s", got)
	}
}

// With the local test MinIO, every workload stack's central store is that MinIO,
// over plain HTTP, with its root user as the provider's admin.
func TestConfigForPointsAtTheLocalMinIO(t *testing.T) {
	store := MinIO{Endpoint: "127.0.0.1:59000", RootUser: "vxadmin", RootPassword: "vxadmin-secret-123"}
	for _, stack := range []string{"production", "staging", "public", "pr-7"} {
		cfg := ConfigFor(stack, store)
		env, err := stacks.Load(stack, cfg)
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		if c := env.Storage.Central; c.HostPort != store.Endpoint || c.UseTLS || c.EgressCIDR != "127.0.0.1/32" {
			t.Errorf("%s: central store %+v", stack, c)
		}
		if cfg["minioUser"] != store.RootUser || cfg["minioPassword"] != store.RootPassword {
			t.Errorf("%s: minio admin %q/%q", stack, cfg["minioUser"], cfg["minioPassword"])
		}
	}
	if cfg := ConfigFor("previews", store); cfg["s3Endpoint"] != "" {
		t.Errorf("previews has no workloads, yet s3Endpoint=%q", cfg["s3Endpoint"])
	}
}

func TestMinIOFromEnvNamesWhatIsMissing(t *testing.T) {
	t.Setenv("MINIO_ENDPOINT", "127.0.0.1:1")
	t.Setenv("MINIO_ROOT_USER", "")
	t.Setenv("MINIO_ROOT_PASSWORD", "")
	_, err := MinIOFromEnv()
	if err == nil || !strings.Contains(err.Error(), "MINIO_ROOT_PASSWORD") || !strings.Contains(err.Error(), "MINIO_ROOT_USER") || !strings.Contains(err.Error(), "scripts/test-servers.sh start") {
		t.Errorf("got %v", err)
	}
}
