package localenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/stacks"
)

// The local config must be one the program accepts, for every kind of stack, and
// point at the local control plane. Without a local MinIO: the test servers'
// variables in this process's environment (the integration stage's plain-HTTP
// MinIO) must not change what is tested; TestConfigForPointsAtTheLocalMinIO
// covers the stores.
func TestConfigIsValidForEveryStack(t *testing.T) {
	for _, stack := range []string{"production", "staging", "public", "previews", "pr-1", "pr-123"} {
		cfg := ConfigFor(stack, MinIO{})
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
// over HTTPS exactly when the server speaks it (it has a CA), with its root user
// as the provider's admin, and egress to the address it listens on.
func TestConfigForPointsAtTheLocalMinIO(t *testing.T) {
	cases := []struct {
		name    string
		store   MinIO
		wantTLS bool
		stacks  []string
	}{
		// deploy-local's MinIO (previews and pr-1): production and staging
		// require TLS, so they are the stacks' own tests' business here.
		{"plain HTTP on the address", MinIO{Endpoint: "127.0.0.1:59000", RootUser: "vxadmin", RootPassword: "vxadmin-secret-123"}, false,
			[]string{"public", "pr-7"}},
		// the e2e's MinIO, for every stack
		{"HTTPS on the certificate's name", MinIO{Endpoint: "localhost:60000", RootUser: "vxadmin", RootPassword: "vxadmin-secret-123",
			CAFile: "/run/tls/ca.crt"}, true, []string{"production", "staging", "public", "pr-7"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, stack := range c.stacks {
				cfg := ConfigFor(stack, c.store)
				env, err := stacks.Load(stack, cfg)
				if err != nil {
					t.Fatalf("%s: %v", stack, err)
				}
				if got := env.Storage.Central; got.HostPort != c.store.Endpoint || got.UseTLS != c.wantTLS || got.EgressCIDR != "127.0.0.1/32" {
					t.Errorf("%s: central store %+v, want %s with TLS %t and egress to 127.0.0.1/32", stack, got, c.store.Endpoint, c.wantTLS)
				}
				if cfg["minioUser"] != c.store.RootUser || cfg["minioPassword"] != c.store.RootPassword {
					t.Errorf("%s: minio admin %q/%q", stack, cfg["minioUser"], cfg["minioPassword"])
				}
			}
			if cfg := ConfigFor("previews", c.store); cfg["s3Endpoint"] != "" {
				t.Errorf("previews has no workloads, yet s3Endpoint=%q", cfg["s3Endpoint"])
			}
		})
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

// The engine and its plugins trust the CA given as TrustedCAFile through
// SSL_CERT_FILE, and only then: without one they keep the host's system roots.
func TestVarsGiveTheTrustedCAAsSSLCertFile(t *testing.T) {
	cases := []struct {
		name, ca string
		want     string
		set      bool
	}{
		{"a CA", "/run/tls/ca.crt", "/run/tls/ca.crt", true},
		{"none", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &Env{Dir: "/state", Kubeconfig: "/kubeconfig", TrustedCAFile: c.ca}
			got, set := e.Vars()["SSL_CERT_FILE"]
			if got != c.want || set != c.set {
				t.Errorf("SSL_CERT_FILE=%q (set %t), want %q (set %t)", got, set, c.want, c.set)
			}
		})
	}
}

// RootCAs is a pool of the server's CA only; an HTTP server or a file without a
// certificate is an error that says which.
func TestRootCAsRefusesWhatIsNoCA(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		store MinIO
		want  string
	}{
		{"plain HTTP", MinIO{Endpoint: "127.0.0.1:59000"}, "speaks plain HTTP"},
		{"a missing file", MinIO{Endpoint: "localhost:59000", CAFile: filepath.Join(t.TempDir(), "gone.crt")}, "no such file"},
		{"no certificate in the file", MinIO{Endpoint: "localhost:59000", CAFile: notPEM}, "holds no PEM certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.store.RootCAs(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("RootCAs: %v, want an error containing %q", err, c.want)
			}
		})
	}
}
