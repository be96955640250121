package localenv

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/internal/stackops"
	"github.com/virdx/vxplatform-infra/stacks"
)

// Stack is one stack of the project in an Env, run as an inline program.
type Stack struct {
	auto.Stack
	Name string
	env  *Env
}

// Stack creates or selects a stack whose program is program (normally
// program.Run) and sets exactly cfg as its config (secret keys as secrets).
func (e *Env) Stack(ctx context.Context, name string, program pulumi.RunFunc, cfg stacks.Config) (*Stack, error) {
	project := workspace.Project{
		Name:    stacks.ConfigNamespace,
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		Backend: &workspace.ProjectBackend{URL: e.BackendURL()},
	}
	st, err := auto.UpsertStackInlineSource(ctx, name, project.Name.String(), program,
		auto.Pulumi(e.cmd),
		auto.Project(project),
		auto.PulumiHome(e.Home()),
		auto.EnvVars(e.Vars()),
		auto.SecretsProvider("passphrase"),
		auto.WorkDir(filepath.Join(e.Dir, "work")),
	)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", name, err)
	}
	if err := setConfig(ctx, st, cfg); err != nil {
		return nil, fmt.Errorf("stack %s: %w", name, err)
	}
	return &Stack{Stack: st, Name: name, env: e}, nil
}

// setConfig makes the stack's data-platform config exactly cfg.
func setConfig(ctx context.Context, st auto.Stack, cfg stacks.Config) error {
	want := auto.ConfigMap{}
	for k, v := range cfg {
		want[stacks.ConfigNamespace+":"+k] = auto.ConfigValue{Value: v, Secret: isSecret(k)}
	}
	have, err := st.GetAllConfig(ctx)
	if err != nil {
		return err
	}
	var stale []string
	for k := range have {
		if _, keep := want[k]; !keep && strings.HasPrefix(k, stacks.ConfigNamespace+":") {
			stale = append(stale, k)
		}
	}
	if len(stale) > 0 {
		if err := st.RemoveAllConfig(ctx, stale); err != nil {
			return err
		}
	}
	return st.SetAllConfig(ctx, want)
}

func isSecret(key string) bool {
	for _, k := range stacks.ConfigKeys {
		if k.Name == key {
			return k.Secret
		}
	}
	return false
}

// Step and Violation are what the engine reported (internal/stackops reads the
// engine for the CI commands and for this package alike).
type (
	Step      = stackops.Step
	Violation = stackops.Violation
)

// Outcome is what one operation did.
type Outcome struct {
	Steps      []Step
	Violations []Violation
	Outputs    auto.OutputMap
	Duration   time.Duration
}

// Resources counts the distinct resources the steps were about (a refresh
// reports each resource twice: its refresh and its update step).
func (o Outcome) Resources() int {
	seen := map[string]bool{}
	for _, s := range o.Steps {
		seen[s.URN] = true
	}
	return len(seen)
}

// Changed are the steps that change something, sorted by URN.
func (o Outcome) Changed() []Step {
	var out []Step
	for _, s := range o.Steps {
		if s.Changes() {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// outcome is what an operation's event log gathered, and how long it took.
func outcome(l *stackops.EventLog, start time.Time) Outcome {
	steps, violations := l.Finish()
	return Outcome{Steps: steps, Violations: violations, Duration: time.Since(start)}
}

func (s *Stack) policyPacks() []string {
	if s.env.Tools.PolicyPack == "" {
		return nil
	}
	return []string{s.env.Tools.PolicyPack}
}

func (s *Stack) log() io.Writer {
	if s.env.Log == nil {
		return io.Discard
	}
	return s.env.Log
}

// Up deploys the stack, with the policy pack when there is one.
func (s *Stack) Up(ctx context.Context, opts ...optup.Option) (Outcome, error) {
	l := stackops.NewEventLog()
	start := time.Now()
	fmt.Fprintf(s.log(), "\n### pulumi up (stack %s)\n", s.Name)
	base := []optup.Option{optup.EventStreams(l.Events()), optup.ProgressStreams(s.log()), optup.ErrorProgressStreams(s.log()),
		optup.Color("never"), optup.SuppressProgress()}
	if packs := s.policyPacks(); packs != nil {
		base = append(base, optup.PolicyPacks(packs...))
	}
	res, err := s.Stack.Up(ctx, append(base, opts...)...)
	out := outcome(l, start)
	out.Outputs = res.Outputs
	if err != nil {
		return out, fmt.Errorf("pulumi up (stack %s) failed after %s: %w", s.Name, out.Duration.Round(time.Millisecond), err)
	}
	return out, nil
}

// Preview previews the stack, with the policy pack when there is one.
func (s *Stack) Preview(ctx context.Context, opts ...optpreview.Option) (Outcome, error) {
	l := stackops.NewEventLog()
	start := time.Now()
	fmt.Fprintf(s.log(), "\n### pulumi preview (stack %s)\n", s.Name)
	base := []optpreview.Option{optpreview.EventStreams(l.Events()), optpreview.ProgressStreams(s.log()),
		optpreview.ErrorProgressStreams(s.log()), optpreview.Color("never"), optpreview.SuppressProgress()}
	if packs := s.policyPacks(); packs != nil {
		base = append(base, optpreview.PolicyPacks(packs...))
	}
	_, err := s.Stack.Preview(ctx, append(base, opts...)...)
	out := outcome(l, start)
	if err != nil {
		return out, fmt.Errorf("pulumi preview (stack %s) failed after %s: %w", s.Name, out.Duration.Round(time.Millisecond), err)
	}
	return out, nil
}

// Destroy deletes everything the stack deployed.
func (s *Stack) Destroy(ctx context.Context, opts ...optdestroy.Option) (Outcome, error) {
	l := stackops.NewEventLog()
	start := time.Now()
	fmt.Fprintf(s.log(), "\n### pulumi destroy (stack %s)\n", s.Name)
	base := []optdestroy.Option{optdestroy.EventStreams(l.Events()), optdestroy.ProgressStreams(s.log()),
		optdestroy.ErrorProgressStreams(s.log()), optdestroy.Color("never"), optdestroy.SuppressProgress()}
	_, err := s.Stack.Destroy(ctx, append(base, opts...)...)
	out := outcome(l, start)
	if err != nil {
		return out, fmt.Errorf("pulumi destroy (stack %s) failed after %s: %w", s.Name, out.Duration.Round(time.Millisecond), err)
	}
	return out, nil
}
