// Package localenv runs the real platform program through the real Pulumi engine
// against a local control plane (scripts/control-plane.sh): it finds the built
// tools, prepares a self-contained Pulumi home and file backend, installs the
// Kubernetes provider plugin and the test-double plugins (e2e/standin for random
// and docker, e2e/miniotest for minio, applied to the local test MinIO), and wraps the
// Automation API. The end-to-end test (e2e/, build tag e2e) and cmd/deploy-local
// share it, so that what the test proves is what the main job does.
package localenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// Tools are the binaries an engine-level run needs.
type Tools struct {
	// Pulumi is the CLI binary (.../bin/pulumi, built by scripts/tools.sh).
	Pulumi string
	// KubernetesProvider is the pulumi-resource-kubernetes plugin binary.
	KubernetesProvider string
	// Standin is the stand-in provider (e2e/standin) for random and docker.
	Standin string
	// MinioTest is the minio provider test double (e2e/miniotest), which applies
	// the program's minio resources to the local test MinIO.
	MinioTest string
	// MC is the mc program the minio test double runs for IAM operations.
	MC string
	// PolicyPack is the policy pack binary; "" when not built.
	PolicyPack string
	// Repo is the clone the tools were found for (its go.mod pins the plugin versions).
	Repo string
}

// RepoRoot is the clone this code runs in: VX_REPO, or the nearest directory up
// from the working directory that holds this module's go.mod.
func RepoRoot() (string, error) {
	if dir := os.Getenv("VX_REPO"); dir != "" {
		return dir, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/virdx/vxplatform-infra\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the vxplatform-infra clone (no go.mod found upwards); set VX_REPO")
		}
		dir = parent
	}
}

// BinDir is where the project's build steps put binaries: VX_BIN (relative to the
// clone, as scripts/build-policy-pack.sh takes it) or <repo>/bin.
func BinDir(repo string) string {
	dir := os.Getenv("VX_BIN")
	if dir == "" {
		dir = "bin"
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(repo, dir)
	}
	return dir
}

// StandinBuildCommand builds the stand-in where FindTools looks for it.
func StandinBuildCommand(repo string) []string {
	return []string{"go", "build", "-o", filepath.Join(BinDir(repo), "vx-standin"), "./e2e/standin"}
}

// MinioTestBuildCommand builds the minio test double where FindTools looks for it.
func MinioTestBuildCommand(repo string) []string {
	return []string{"go", "build", "-o", filepath.Join(BinDir(repo), "vx-miniotest"), "./e2e/miniotest"}
}

// FindTools locates every tool, each from its environment variable (the names
// `scripts/tools.sh env` prints) or its default place. requirePolicy makes a
// missing policy pack an error. Every error names the command that builds the tool.
func FindTools(repo string, requirePolicy bool) (Tools, error) {
	t := Tools{Repo: repo}
	var problems []string
	fromTools := func(envVar, tool string) string {
		if p := os.Getenv(envVar); p != "" {
			if isExecutable(p) {
				return p
			}
			problems = append(problems, fmt.Sprintf("%s=%s is not an executable file", envVar, p))
			return ""
		}
		out, err := exec.Command(filepath.Join(repo, "scripts", "tools.sh"), "path", tool).Output()
		p := strings.TrimSpace(string(out))
		if err != nil || !isExecutable(p) {
			problems = append(problems, fmt.Sprintf("%s is not built: run scripts/tools.sh %s", tool, tool))
			return ""
		}
		return p
	}
	fromBin := func(envVar, name, build string) string {
		if p := os.Getenv(envVar); p != "" {
			if isExecutable(p) {
				return p
			}
			problems = append(problems, fmt.Sprintf("%s=%s is not an executable file", envVar, p))
			return ""
		}
		p := filepath.Join(BinDir(repo), name)
		if !isExecutable(p) {
			problems = append(problems, fmt.Sprintf("%s not found at %s: run %s", name, p, build))
			return ""
		}
		return p
	}
	t.Pulumi = fromTools("VX_PULUMI", "pulumi")
	t.KubernetesProvider = fromTools("VX_KUBERNETES_PROVIDER", "kubernetes-provider")
	t.Standin = fromBin("VX_STANDIN", "vx-standin", strings.Join(StandinBuildCommand(repo), " "))
	t.MinioTest = fromBin("VX_MINIOTEST", "vx-miniotest", strings.Join(MinioTestBuildCommand(repo), " "))
	t.MC = fromTools("VX_MC", "mc")
	if requirePolicy {
		t.PolicyPack = fromBin("VX_POLICY_PACK", "policy-pack", "scripts/build-policy-pack.sh")
	} else if p := filepath.Join(BinDir(repo), "policy-pack"); os.Getenv("VX_POLICY_PACK") != "" || isExecutable(p) {
		t.PolicyPack = fromBin("VX_POLICY_PACK", "policy-pack", "scripts/build-policy-pack.sh")
	}
	if len(problems) > 0 {
		return t, errors.New("missing tools:\n  " + strings.Join(problems, "\n  "))
	}
	return t, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// KubernetesPluginVersion is the kubernetes plugin version the program's SDK
// requests: the version of github.com/pulumi/pulumi-kubernetes/sdk/v4 in the
// clone's go.mod (what the program is built with), without the "v". Build info
// would not do: test binaries carry no dependency list.
func KubernetesPluginVersion(repo string) (string, error) {
	const sdk = "github.com/pulumi/pulumi-kubernetes/sdk/v4"
	path := filepath.Join(repo, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f, err := modfile.ParseLax(path, data, nil)
	if err != nil {
		return "", err
	}
	for _, r := range f.Require {
		if r.Mod.Path == sdk {
			return strings.TrimPrefix(r.Mod.Version, "v"), nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", path, sdk)
}
