package program

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// kubeconfigWith is a kubeconfig file defining the contexts, all on one cluster.
func kubeconfigWith(t *testing.T, dir, name string, contexts ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\nusers:\n- name: u\n  user: {}\ncontexts:\n")
	for _, c := range contexts {
		b.WriteString("- name: " + c + "\n  context:\n    cluster: c\n    user: u\n")
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadKubeconfig(t *testing.T) {
	dir := t.TempDir()
	first := kubeconfigWith(t, dir, "first", "vx-k8s", "shared")
	second := kubeconfigWith(t, dir, "second", "vx-local", "shared")
	empty := kubeconfigWith(t, dir, "empty")
	missing := filepath.Join(dir, "missing")
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("contexts: [this is not: a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		precedence []string
		files      []string
		contexts   []string
		wantErr    string
	}{
		{"one file", []string{first}, []string{first}, []string{"shared", "vx-k8s"}, ""},
		{"files merged", []string{first, second}, []string{first, second}, []string{"shared", "vx-k8s", "vx-local"}, ""},
		{"missing file skipped", []string{missing, second}, []string{second}, []string{"shared", "vx-local"}, ""},
		{"no file at all", []string{missing}, nil, nil, ""},
		{"a file without contexts", []string{empty}, []string{empty}, nil, ""},
		{"unreadable file", []string{broken}, []string{broken}, nil, "reading kubeconfig " + broken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc, err := loadKubeconfig(&clientcmd.ClientConfigLoadingRules{Precedence: tt.precedence})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(kc.Files, tt.files) || !reflect.DeepEqual(kc.Contexts, tt.contexts) || !reflect.DeepEqual(kc.Searched, tt.precedence) {
				t.Errorf("got %+v, want files %v contexts %v", kc, tt.files, tt.contexts)
			}
		})
	}
}

// TestLoadKubeconfigReadsWhatTheProviderReads: KUBECONFIG's list, else
// ~/.kube/config (client-go fixes that path when it starts, so the test checks
// where it looks rather than moving HOME).
func TestLoadKubeconfigReadsWhatTheProviderReads(t *testing.T) {
	dir := t.TempDir()
	listed := kubeconfigWith(t, dir, "listed", "from-env")

	t.Setenv("KUBECONFIG", "")
	kc, _ := LoadKubeconfig()
	if !reflect.DeepEqual(kc.Searched, []string{clientcmd.RecommendedHomeFile}) {
		t.Errorf("without KUBECONFIG: searched %v, want [%s]", kc.Searched, clientcmd.RecommendedHomeFile)
	}
	t.Setenv("KUBECONFIG", filepath.Join(dir, "absent")+string(filepath.ListSeparator)+listed)
	kc, err := LoadKubeconfig()
	if err != nil || !reflect.DeepEqual(kc.Files, []string{listed}) || !reflect.DeepEqual(kc.Contexts, []string{"from-env"}) {
		t.Errorf("with KUBECONFIG: %+v, %v; want only the listed file", kc, err)
	}
	kc, err = KubeconfigAt(listed)()
	if err != nil || !reflect.DeepEqual(kc.Files, []string{listed}) || !reflect.DeepEqual(kc.Contexts, []string{"from-env"}) {
		t.Errorf("KubeconfigAt(%s): %+v, %v", listed, kc, err)
	}
}

func TestKubeContextProblem(t *testing.T) {
	kc := Kubeconfig{Files: []string{"/k/config"}, Searched: []string{"/k/config"}, Contexts: []string{"virdx-k8s", "vx-local"}}
	none := Kubeconfig{Searched: []string{"/root/.kube/config"}}
	tests := []struct {
		name    string
		kc      Kubeconfig
		loadErr error
		context string
		preview bool
		want    []string // fragments of Allowed; nil: no problem
	}{
		{"context present", kc, nil, "virdx-k8s", false, nil},
		{"context present, preview", kc, nil, "vx-local", true, nil},
		{"context missing", kc, nil, "virdx-k8", false, []string{"one of the contexts in the kubeconfig (/k/config): virdx-k8s, vx-local", "did you mean virdx-k8s?"}},
		{"context missing, preview", kc, nil, "prod-cluster", true, []string{"virdx-k8s, vx-local"}},
		{"kubeconfig without contexts", Kubeconfig{Files: []string{"/k/config"}}, nil, "virdx-k8s", false, []string{"/k/config defines none"}},
		{"no kubeconfig, update", none, nil, "virdx-k8s", false, []string{"no kubeconfig file found", "/root/.kube/config", "set KUBECONFIG"}},
		{"no kubeconfig, preview", none, nil, "virdx-k8s", true, nil},
		{"unreadable kubeconfig", kc, errors.New("reading kubeconfig /k/config: bad yaml"), "virdx-k8s", true, []string{"readable kubeconfig", "bad yaml"}},
		{"unset context is stacks' to report", kc, nil, "", false, nil},
		{"blank context is stacks' to report", kc, nil, "  ", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, found := kubeContextProblem(tt.kc, tt.loadErr, tt.context, tt.preview)
			if found != (tt.want != nil) {
				t.Fatalf("problem %+v found %v, want %v", p, found, tt.want != nil)
			}
			if !found {
				return
			}
			if p.Key != "kubeContext" || p.Value != tt.context {
				t.Errorf("problem names %s = %q, want kubeContext = %q", p.Key, p.Value, tt.context)
			}
			for _, fragment := range tt.want {
				if !strings.Contains(p.Allowed, fragment) {
					t.Errorf("allowed %q does not contain %q", p.Allowed, fragment)
				}
			}
		})
	}
}
