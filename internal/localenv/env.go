package localenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// PulumiVersion is the CLI the Automation API is pinned to (scripts/tools.sh builds it).
const PulumiVersion = "3.274.1"

// Env is one self-contained Pulumi installation under Dir: PULUMI_HOME with the
// plugins, a file backend, and a work directory per stack. Nothing outside Dir is
// read or written (no ~/.pulumi), so runs never interfere with each other.
type Env struct {
	Dir        string
	Kubeconfig string
	Tools      Tools
	// Log receives the engine's progress output of every operation (nil: none).
	Log io.Writer
	// TrustedCAFile is the CA (PEM) that the engine and its plugins trust as
	// their system roots, as SSL_CERT_FILE: the local test MinIO's (MinIO.CAFile)
	// when it speaks HTTPS. The program names no CA: in a real deployment the
	// central MinIO's certificate chains to the runner's system roots, so here
	// trust comes from the environment too, and the minio test double (minio-go
	// and the mc it runs) verifies the server against it. "" leaves the host's
	// system roots.
	TrustedCAFile string
	cmd           auto.PulumiCommand
}

// Passphrase protects the file backend's secrets. The backend only ever holds
// throw-away local state, so a fixed passphrase is fine.
const Passphrase = "vxplatform-local-only"

// New prepares an Env in dir (created if needed) and installs the plugins into its
// PULUMI_HOME, skipping those already installed from the same binary.
func New(ctx context.Context, dir string, tools Tools, kubeconfig string) (*Env, error) {
	if kubeconfig == "" {
		return nil, fmt.Errorf("no kubeconfig: start the control plane with scripts/control-plane.sh start and set KUBECONFIG to the path it prints")
	}
	if _, err := os.Stat(kubeconfig); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w (is the control plane running? scripts/control-plane.sh status)", kubeconfig, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// What an earlier run left in tmp (kubeconfig copies) goes now.
	if err := os.RemoveAll(filepath.Join(abs, "tmp")); err != nil {
		return nil, err
	}
	for _, d := range []string{"home", "backend", "work", "tmp"} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o700); err != nil {
			return nil, err
		}
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{
		Root:    filepath.Dir(filepath.Dir(tools.Pulumi)), // Root/bin/pulumi
		Version: semver.MustParse(PulumiVersion),
	})
	if err != nil {
		return nil, fmt.Errorf("the Pulumi CLI at %s: %w", tools.Pulumi, err)
	}
	e := &Env{Dir: abs, Kubeconfig: kubeconfig, Tools: tools, cmd: cmd}
	if err := e.installPlugins(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// TempDir is the temporary directory of the engine and its plugins.
func (e *Env) TempDir() string { return filepath.Join(e.Dir, "tmp") }

// Home is the PULUMI_HOME of this Env.
func (e *Env) Home() string { return filepath.Join(e.Dir, "home") }

// BackendURL is the file backend of this Env.
func (e *Env) BackendURL() string { return "file://" + filepath.Join(e.Dir, "backend") }

// Vars is the environment of every Pulumi command (and of the plugins it starts).
func (e *Env) Vars() map[string]string {
	vars := map[string]string{
		"PULUMI_HOME":              e.Home(),
		"PULUMI_BACKEND_URL":       e.BackendURL(),
		"PULUMI_CONFIG_PASSPHRASE": Passphrase,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
		// Nothing can be downloaded here: a missing plugin must fail at once, by name.
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		// The Kubernetes provider reads the kubeconfig from here; the context is
		// the stack's kubeContext config.
		"KUBECONFIG": e.Kubeconfig,
		// The Kubernetes provider writes the kubeconfig (with the admin's client
		// key) to a temporary file it never removes: temporary files stay in this
		// Env, never in the system's temporary directory.
		"TMPDIR": e.TempDir(),
		// The minio test double runs mc for IAM operations; mc's config (it holds
		// no credential: they reach mc through its environment) stays in this Env.
		"VX_MINIOTEST_MC":  e.Tools.MC,
		"VX_MINIOTEST_DIR": filepath.Join(e.Dir, "miniotest"),
	}
	if e.TrustedCAFile != "" {
		// Go (the engine, the plugins, minio-go) and mc read their roots from here.
		vars["SSL_CERT_FILE"] = e.TrustedCAFile
	}
	return vars
}

type plugin struct{ name, version, file string }

func (e *Env) plugins() ([]plugin, error) {
	k8sVersion, err := KubernetesPluginVersion(e.Tools.Repo)
	if err != nil {
		return nil, err
	}
	list := []plugin{{"kubernetes", k8sVersion, e.Tools.KubernetesProvider}}
	// Each test double says which packages and versions it impersonates.
	for _, double := range []string{e.Tools.Standin, e.Tools.MinioTest} {
		served, err := servedPlugins(double)
		if err != nil {
			return nil, err
		}
		list = append(list, served...)
	}
	return list, nil
}

// servedPlugins are the "NAME VERSION" lines of `double -plugins`.
func servedPlugins(double string) ([]plugin, error) {
	out, err := exec.Command(double, "-plugins").Output()
	if err != nil {
		return nil, fmt.Errorf("%s -plugins: %w", double, err)
	}
	var list []plugin
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			return nil, fmt.Errorf("%s -plugins: unexpected line %q", double, sc.Text())
		}
		list = append(list, plugin{f[0], f[1], double})
	}
	return list, nil
}

func (e *Env) installPlugins(ctx context.Context) error {
	list, err := e.plugins()
	if err != nil {
		return err
	}
	for _, p := range list {
		installed := filepath.Join(e.Home(), "plugins", fmt.Sprintf("resource-%s-v%s", p.name, p.version), "pulumi-resource-"+p.name)
		if same, err := sameContent(p.file, installed); err != nil {
			return err
		} else if same {
			continue
		}
		args := []string{"plugin", "install", "resource", p.name, p.version, "--file", p.file, "--reinstall"}
		cmd := exec.CommandContext(ctx, e.Tools.Pulumi, args...)
		cmd.Env = os.Environ()
		for k, v := range e.Vars() {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("PULUMI_HOME=%s pulumi %s: %w\n%s", e.Home(), strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// sameContent reports whether b exists and has a's content.
func sameContent(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil || sa.Size() != sb.Size() {
		return false, nil
	}
	ha, err := fileHash(a)
	if err != nil {
		return false, err
	}
	hb, err := fileHash(b)
	return err == nil && bytes.Equal(ha, hb), nil
}

func fileHash(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
