package workflows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/internal/stackops"
	"github.com/virdx/vxplatform-infra/internal/workflows"
)

// pinnedPlugins is what scripts/ci/install-plugins.sh installs.
func pinnedPlugins(t *testing.T) map[string]string {
	t.Helper()
	out, err := exec.Command("bash", filepath.Join(repo, "scripts", "ci", "install-plugins.sh"), "list").Output()
	if err != nil {
		t.Fatalf("scripts/ci/install-plugins.sh list: %v", err)
	}
	pins := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("install-plugins.sh list: line %q", line)
		}
		pins[f[0]] = f[1]
	}
	return pins
}

// minioProviderVersion is the providerVersion constant of internal/minio.
func minioProviderVersion(t *testing.T) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repo, "internal", "minio", "version.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range g.Specs {
			v, ok := s.(*ast.ValueSpec)
			if !ok || len(v.Names) != 1 || v.Names[0].Name != "providerVersion" || len(v.Values) != 1 {
				continue
			}
			if lit, ok := v.Values[0].(*ast.BasicLit); ok {
				s, err := strconv.Unquote(lit.Value)
				if err == nil {
					return s
				}
			}
		}
	}
	t.Fatal("internal/minio/version.go: no providerVersion string constant")
	return ""
}

func TestPluginPinsEqualGoModMinioAndTheReadme(t *testing.T) {
	pins := pinnedPlugins(t)
	data, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"minio": minioProviderVersion(t)}
	sdks := map[string]string{
		"github.com/pulumi/pulumi-kubernetes/sdk/v4": "kubernetes",
		"github.com/pulumi/pulumi-random/sdk/v4":     "random",
		"github.com/pulumi/pulumi-docker/sdk/v4":     "docker",
	}
	for _, r := range mod.Require {
		if name, ok := sdks[r.Mod.Path]; ok {
			want[name] = strings.TrimPrefix(r.Mod.Version, "v")
		}
	}
	if len(want) != 4 {
		t.Fatalf("go.mod and internal/minio give versions for %v; want kubernetes, random, docker and minio", want)
	}
	for name, v := range want {
		if pins[name] != v {
			t.Errorf("install-plugins.sh pins %s %q; go.mod / internal/minio say %q", name, pins[name], v)
		}
	}
	if len(pins) != len(want) {
		t.Errorf("install-plugins.sh pins %v; want exactly %v", pins, want)
	}

	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	mentions := regexp.MustCompile("`(kubernetes|random|docker|minio)` v?([0-9]+\\.[0-9]+\\.[0-9]+)").FindAllStringSubmatch(string(readme), -1)
	seen := map[string]bool{}
	for _, m := range mentions {
		seen[m[1]] = true
		if want[m[1]] != m[2] {
			t.Errorf("README names plugin %s %s; the pin is %s", m[1], m[2], want[m[1]])
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("README does not name the %s plugin's version", name)
		}
	}
}

func TestPulumiCLIPinnedEverywhereToOneVersion(t *testing.T) {
	action, err := workflows.LoadAction(filepath.Join(repo, ".github", "actions", "stack-job", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var installed []string
	for _, s := range action.Runs.Steps {
		if strings.HasPrefix(s.Uses, "pulumi/actions@") {
			installed = append(installed, s.With["pulumi-version"])
		}
	}
	if len(installed) != 1 || installed[0] != stackops.PulumiVersion {
		t.Errorf("the stack-job action installs Pulumi CLI %q, want exactly [%s]", installed, stackops.PulumiVersion)
	}
	if localenv.PulumiVersion != stackops.PulumiVersion {
		t.Errorf("localenv pins the CLI at %s, stackops at %s", localenv.PulumiVersion, stackops.PulumiVersion)
	}
	tools, err := os.ReadFile(filepath.Join(repo, "scripts", "tools.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tools), "\nPULUMI_VERSION=v"+stackops.PulumiVersion+"\n") {
		t.Errorf("scripts/tools.sh does not build Pulumi CLI v%s", stackops.PulumiVersion)
	}
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`Pulumi CLI v?([0-9]+\.[0-9]+\.[0-9]+)`).FindAllStringSubmatch(string(readme), -1) {
		if m[1] != stackops.PulumiVersion {
			t.Errorf("README names Pulumi CLI %s, the pin is %s", m[1], stackops.PulumiVersion)
		}
	}
	for _, w := range load(t) {
		for _, j := range w.Jobs {
			for _, s := range j.Steps {
				if strings.HasPrefix(s.Uses, "pulumi/") && s.Uses != "pulumi/actions@v7" {
					t.Errorf("%s/%s uses %s: install the CLI through the stack-job action only", w.File, j.ID, s.Uses)
				}
			}
		}
	}
}

// cacheKeyedBy finds an actions/cache step for path whose key is the output of a
// step that runs keyCommand.
func cacheKeyedBy(steps []workflows.Step, path, keyCommand string) bool {
	keyStep := ""
	for _, s := range steps {
		if s.ID != "" && strings.Contains(s.Run, keyCommand) {
			keyStep = s.ID
		}
	}
	for _, s := range steps {
		if strings.HasPrefix(s.Uses, "actions/cache@") && s.With["path"] == path &&
			keyStep != "" && s.With["key"] == "${{ steps."+keyStep+".outputs.key }}" {
			return true
		}
	}
	return false
}

func TestToolAndPluginCachesAreKeyedByThePins(t *testing.T) {
	tests, err := workflows.LoadFile(filepath.Join(repo, ".github", "workflows", "tests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !cacheKeyedBy(tests.Jobs["test"].Steps, "~/.cache/vxplatform", "scripts/tools.sh key") {
		t.Error("tests.yaml: the tool cache ~/.cache/vxplatform is not restored with a key from scripts/tools.sh key")
	}
	action, err := workflows.LoadAction(filepath.Join(repo, ".github", "actions", "stack-job", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !cacheKeyedBy(action.Runs.Steps, "~/.pulumi/plugins", "scripts/ci/install-plugins.sh list") {
		t.Error("stack-job action: the plugin cache is not keyed by scripts/ci/install-plugins.sh list")
	}
	installs := 0
	for _, s := range action.Runs.Steps {
		if strings.Contains(s.Run, "scripts/ci/install-plugins.sh") && !strings.Contains(s.Run, " list") {
			installs++
		}
	}
	if installs != 1 {
		t.Errorf("stack-job action installs the plugins %d times, want once", installs)
	}
}
