package stackops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/virdx/vxplatform-infra/program"
	"github.com/virdx/vxplatform-infra/stacks"
)

// PulumiVersion is the CLI version the pipeline runs; the Automation API refuses
// an older CLI.
const PulumiVersion = "3.274.1"

// Workspace is a directory holding Pulumi.yaml and the stack files (the clone's
// root in CI), the CLI, and the policy pack every preview, up and drift run uses.
type Workspace struct {
	Dir string
	// Pulumi is the CLI binary; "" finds pulumi on PATH.
	Pulumi string
	// PolicyPack is the built policy pack (scripts/build-policy-pack.sh).
	PolicyPack string
	// Log receives the engine's progress output.
	Log io.Writer

	project string
	cmd     auto.PulumiCommand
}

// Open checks the workspace and the CLI's version.
func Open(dir, pulumiBin, policyPack string, log io.Writer) (*Workspace, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	proj, err := workspace.LoadProject(filepath.Join(abs, "Pulumi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", abs, err)
	}
	if proj.Name.String() != stacks.ConfigNamespace {
		return nil, fmt.Errorf("workspace %s: project %q, want %q", abs, proj.Name, stacks.ConfigNamespace)
	}
	if policyPack == "" {
		return nil, errors.New("no policy pack: every preview, up and drift check runs through it (scripts/build-policy-pack.sh prints its path)")
	}
	if st, err := os.Stat(policyPack); err != nil || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("policy pack %s is not an executable file (scripts/build-policy-pack.sh builds it)", policyPack)
	}
	opts := &auto.PulumiCommandOptions{Version: semver.MustParse(PulumiVersion)}
	if pulumiBin != "" {
		opts.Root = filepath.Dir(filepath.Dir(pulumiBin)) // Root/bin/pulumi
		if filepath.Base(pulumiBin) != "pulumi" || filepath.Base(filepath.Dir(pulumiBin)) != "bin" {
			return nil, fmt.Errorf("PULUMI=%s: want a path ending in bin/pulumi", pulumiBin)
		}
	}
	cmd, err := auto.NewPulumiCommand(opts)
	if err != nil {
		return nil, fmt.Errorf("the Pulumi CLI (want v%s): %w", PulumiVersion, err)
	}
	// The Automation API accepts any newer CLI; the pipeline runs the pinned one.
	if got := cmd.Version(); !got.Equals(semver.MustParse(PulumiVersion)) {
		return nil, fmt.Errorf("the Pulumi CLI %s is v%s; the pipeline is pinned to v%s (install it: pulumi/actions pulumi-version, or scripts/tools.sh pulumi)", pulumiBin, got, PulumiVersion)
	}
	if log == nil {
		log = io.Discard
	}
	return &Workspace{Dir: abs, Pulumi: pulumiBin, PolicyPack: policyPack, Log: log, project: proj.Name.String(), cmd: cmd}, nil
}

// stack selects an existing stack (create: or creates it) with the program inline.
// ref is a stack name as the backend prints it (name, owner/name or
// owner/project/name).
func (w *Workspace) stack(ctx context.Context, ref string, create bool) (auto.Stack, error) {
	if _, err := stacks.ParseStackName(bareName(ref)); err != nil {
		return auto.Stack{}, err
	}
	opts := []auto.LocalWorkspaceOption{auto.WorkDir(w.Dir), auto.Pulumi(w.cmd)}
	var st auto.Stack
	var err error
	if create {
		st, err = auto.UpsertStackInlineSource(ctx, ref, w.project, program.Run, opts...)
	} else {
		st, err = auto.SelectStackInlineSource(ctx, ref, w.project, program.Run, opts...)
	}
	if err != nil {
		return auto.Stack{}, fmt.Errorf("stack %s: %w", ref, err)
	}
	return st, nil
}

func bareName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// ConfigFromEnv reads stack config from environment variables VX_CONFIG_<key>,
// so a workflow states in its env block which variable or secret feeds which key
// and no value appears on a command line. Unknown keys are an error; an empty
// value sets nothing (a variable the job's environment does not define), so the
// stack file's value, or the program's "required" error, stands.
func ConfigFromEnv(environ []string) (map[string]string, error) {
	const prefix = "VX_CONFIG_"
	cfg := map[string]string{}
	var unknown []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		key, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if _, known := configKey(key); !known {
			unknown = append(unknown, k)
			continue
		}
		if v != "" {
			cfg[key] = v
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		var names []string
		for _, k := range stacks.ConfigKeys {
			names = append(names, k.Name)
		}
		return nil, fmt.Errorf("%s: not config keys of the program; allowed: %s%s", strings.Join(unknown, ", "), prefix, strings.Join(names, ", "+prefix))
	}
	return cfg, nil
}

func configKey(name string) (stacks.ConfigKey, bool) {
	for _, k := range stacks.ConfigKeys {
		if k.Name == name {
			return k, true
		}
	}
	return stacks.ConfigKey{}, false
}

// setConfig sets keys on the stack, secret keys as Pulumi secrets (encrypted by
// the stack's secrets provider), leaving other keys as the stack file has them.
func setConfig(ctx context.Context, st auto.Stack, cfg map[string]string) error {
	if len(cfg) == 0 {
		return nil
	}
	m := auto.ConfigMap{}
	for k, v := range cfg {
		key, _ := configKey(k)
		m[stacks.ConfigNamespace+":"+k] = auto.ConfigValue{Value: v, Secret: key.Secret}
	}
	return st.SetAllConfig(ctx, m)
}
