package workflows_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/internal/workflows"
)

const repo = "../.."

// infraRunner is the one runs-on of every job that touches the cluster, the
// central MinIO or the state backend: a self-hosted runner inside the network,
// its label configurable by the repository variable INFRA_RUNNER_LABEL.
var infraRunner = []string{"self-hosted", "${{ vars.INFRA_RUNNER_LABEL || 'vx-infra' }}"}

// hostedRunner is where everything else runs.
const hostedRunner = "ubuntu-latest"

// stackScript describes a CI entry point that touches a stack and how a job must
// run it.
type stackScript struct {
	// args is the script's argument list exactly as the job must pass it.
	args string
	// writes: up or destroy (deploy credentials); otherwise a read-only run.
	writes bool
	// environment the job must hold, as a function of its VX_STACK expression.
	environment func(stack string) string
	// preview: VX_STACK must be pr-$VX_PR.
	preview bool
	// config: the script sets the job's VX_CONFIG_<key> on the stack first
	// (vxops preview and up, through stackops.ConfigFromEnv).
	config bool
}

var stackScripts = map[string]stackScript{
	"scripts/ci/deploy.sh":              {args: `"$VX_STACK"`, writes: true, config: true, environment: func(s string) string { return s }},
	"scripts/ci/preview.sh":             {args: `"$VX_STACK" "$VX_PR"`, config: true, environment: func(s string) string { return s + "-readonly" }},
	"scripts/ci/drift.sh":               {args: `"$VX_STACK"`, environment: func(s string) string { return s + "-readonly" }},
	"scripts/ci/preview-environment.sh": {args: `"$VX_PR"`, writes: true, preview: true, config: true, environment: func(string) string { return "previews" }},
	"scripts/ci/destroy-preview.sh":     {args: `"$VX_PR"`, writes: true, preview: true, environment: func(string) string { return "previews" }},
	"scripts/ci/sweep-previews.sh one":  {args: `-stack "$VX_STACK_REF" -pr "$VX_PR" -dry-run="$VX_DRY_RUN"`, writes: true, preview: true, environment: func(string) string { return "previews" }},
}

// clusterScripts touch the cluster or the state backend without a stack update.
var clusterScripts = map[string]struct{ group, environment string }{
	"scripts/ci/restore-staging.sh":     {"pulumi-staging", "staging"},
	"scripts/ci/sweep-previews.sh plan": {"", "previews-readonly"},
}

func load(t *testing.T) []*workflows.Workflow {
	t.Helper()
	ws, err := workflows.Load(filepath.Join(repo, ".github", "workflows"))
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// call is one invocation of a CI script in a job.
type call struct {
	script string // key of stackScripts or clusterScripts
	args   string
}

var scriptCall = regexp.MustCompile(`(scripts/ci/[a-z-]+\.sh(?: (?:one|plan|run))?)(.*)`)

func calls(j *workflows.Job) []call {
	var out []call
	for _, run := range j.Runs() {
		for _, m := range scriptCall.FindAllStringSubmatch(run, -1) {
			args := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[2]), ")"))
			out = append(out, call{m[1], args})
		}
	}
	return out
}

func touchesInfrastructure(j *workflows.Job) bool {
	for _, c := range calls(j) {
		if _, ok := stackScripts[c.script]; ok {
			return true
		}
		if _, ok := clusterScripts[c.script]; ok {
			return true
		}
	}
	return j.UsesAction("./.github/actions/stack-job") || j.EnvironmentName() != "" || strings.Contains(strings.Join(j.Runs(), "\n"), "KUBECONFIG")
}

// stackValues resolves a job's VX_STACK expression to the stacks it can name.
func stackValues(t *testing.T, w *workflows.Workflow, j *workflows.Job, expr string) []string {
	t.Helper()
	switch {
	case expr == "${{ matrix.stack }}":
		v, ok := j.MatrixValues("stack")
		if !ok {
			t.Fatalf("%s/%s: VX_STACK is the matrix's stack, but the matrix lists none", w.File, j.ID)
		}
		return v
	case expr == "${{ inputs.stack }}":
		v := w.ChoiceOptions("stack")
		if len(v) == 0 {
			t.Fatalf("%s/%s: VX_STACK is inputs.stack, but workflow_dispatch has no choice input stack", w.File, j.ID)
		}
		return v
	case strings.HasPrefix(expr, "pr-${{"):
		return []string{"pr-N"}
	case !strings.Contains(expr, "${{"):
		return []string{expr}
	}
	t.Fatalf("%s/%s: VX_STACK=%q: cannot tell which stacks that names", w.File, j.ID, expr)
	return nil
}

func TestEveryJobTouchingAStackRunsInTheNetworkAndHoldsTheStacksGroup(t *testing.T) {
	checked := 0
	for _, w := range load(t) {
		for _, j := range w.Jobs {
			for _, c := range calls(j) {
				spec, ok := stackScripts[c.script]
				if !ok {
					continue
				}
				checked++
				where := w.File + "/" + j.ID
				if got := workflows.Strings(j.RunsOn); !slices.Equal(got, infraRunner) {
					t.Errorf("%s runs %s on %q, want %q", where, c.script, got, infraRunner)
				}
				if c.args != spec.args {
					t.Errorf("%s: %s %s, want the arguments %s (from the job's env)", where, c.script, c.args, spec.args)
				}
				stack := j.Env["VX_STACK"]
				if stack == "" {
					t.Errorf("%s: no env VX_STACK naming the stack %s touches", where, c.script)
					continue
				}
				if spec.preview && stack != "pr-"+j.Env["VX_PR"] {
					t.Errorf("%s: VX_STACK=%q, want pr-$VX_PR (pr-%s)", where, stack, j.Env["VX_PR"])
				}
				if j.Concurrency == nil || j.Concurrency.Group != "pulumi-"+stack {
					t.Errorf("%s: concurrency %+v, want group pulumi-%s (the stack's group)", where, j.Concurrency, stack)
				}
				if env := j.EnvironmentName(); env != spec.environment(stack) {
					t.Errorf("%s: environment %q, want %q", where, env, spec.environment(stack))
				}
				for _, s := range stackValues(t, w, j, stack) {
					if _, ok := map[string]bool{"production": true, "staging": true, "public": true, "previews": true, "pr-N": true}[s]; !ok {
						t.Errorf("%s: touches unknown stack %q", where, s)
					}
				}
			}
		}
	}
	if checked < 6 {
		t.Errorf("only %d stack-touching script calls found: the workflows or this test's table drifted", checked)
	}
}

func TestClusterJobsRunInTheNetworkWithTheirGroupAndEnvironment(t *testing.T) {
	found := map[string]bool{}
	for _, w := range load(t) {
		for _, j := range w.Jobs {
			for _, c := range calls(j) {
				spec, ok := clusterScripts[c.script]
				if !ok {
					continue
				}
				found[c.script] = true
				where := w.File + "/" + j.ID
				if got := workflows.Strings(j.RunsOn); !slices.Equal(got, infraRunner) {
					t.Errorf("%s runs %s on %q, want %q", where, c.script, got, infraRunner)
				}
				if spec.group != "" && (j.Concurrency == nil || j.Concurrency.Group != spec.group) {
					t.Errorf("%s: concurrency %+v, want group %s", where, j.Concurrency, spec.group)
				}
				if env := j.EnvironmentName(); env != spec.environment {
					t.Errorf("%s: environment %q, want %q", where, env, spec.environment)
				}
			}
		}
	}
	for s := range clusterScripts {
		if !found[s] {
			t.Errorf("no workflow runs %s", s)
		}
	}
}

// A pending job replaced by another in its group is cancelled: every group waits
// in line (queue: max) and never cancels what runs.
func TestNoConcurrencyGroupCancelsAPendingOrRunningJob(t *testing.T) {
	for _, w := range load(t) {
		if w.Concurrency != nil {
			t.Errorf("%s: workflow-level concurrency %+v: groups are per job and per stack", w.File, w.Concurrency)
		}
		for _, j := range w.Jobs {
			c := j.Concurrency
			if c == nil {
				continue
			}
			if c.CancelInProgress == nil || *c.CancelInProgress {
				t.Errorf("%s/%s: concurrency group %s must set cancel-in-progress: false", w.File, j.ID, c.Group)
			}
			if c.Queue != "max" {
				t.Errorf("%s/%s: concurrency group %s must set queue: max (otherwise a new job cancels the pending one)", w.File, j.ID, c.Group)
			}
			if !strings.HasPrefix(c.Group, "pulumi-") {
				t.Errorf("%s/%s: group %q is not a stack's group pulumi-<stack>", w.File, j.ID, c.Group)
			}
		}
	}
}

func TestProductionAndPublicDeployOnlyByManualDispatchBehindTheirEnvironment(t *testing.T) {
	deploys := map[string]bool{}
	for _, w := range load(t) {
		for _, j := range w.Jobs {
			for _, c := range calls(j) {
				if c.script != "scripts/ci/deploy.sh" {
					continue
				}
				stack := j.Env["VX_STACK"]
				for _, s := range stackValues(t, w, j, stack) {
					deploys[s] = true
					if s != "production" && s != "public" {
						continue
					}
					where := w.File + "/" + j.ID
					if _, ok := w.On["workflow_dispatch"]; !ok {
						t.Errorf("%s deploys %s but the workflow has no workflow_dispatch trigger", where, s)
					}
					if !strings.Contains(j.If, "github.event_name == 'workflow_dispatch'") {
						t.Errorf("%s deploys %s with if %q; want it to run only on github.event_name == 'workflow_dispatch'", where, s, j.If)
					}
					if j.EnvironmentName() != stack {
						t.Errorf("%s deploys %s outside its environment (environment %q)", where, s, j.EnvironmentName())
					}
				}
			}
		}
	}
	for _, s := range []string{"production", "staging", "public", "previews"} {
		if !deploys[s] {
			t.Errorf("no workflow deploys %s", s)
		}
	}
}

// Pull request code never gets deploy credentials for production or staging,
// and fork pull requests get no environment at all.
func TestPullRequestsAndForks(t *testing.T) {
	const forkGuard = "github.event.pull_request.head.repo.full_name == github.repository"
	for _, w := range load(t) {
		if _, ok := w.On["pull_request_target"]; ok {
			t.Errorf("%s: pull_request_target runs with the repository's secrets on fork code", w.File)
		}
		if _, ok := w.On["pull_request"]; !ok {
			continue
		}
		for _, j := range w.Jobs {
			where := w.File + "/" + j.ID
			if touchesInfrastructure(j) && !strings.Contains(j.If, forkGuard) {
				t.Errorf("%s touches the infrastructure without the fork guard %q (if: %q)", where, forkGuard, j.If)
			}
			env := j.EnvironmentName()
			stack := j.Env["VX_STACK"]
			if env == "" {
				continue
			}
			for _, s := range stackValues(t, w, j, stack) {
				if s == "production" || s == "staging" || s == "public" {
					if !strings.HasSuffix(env, "-readonly") {
						t.Errorf("%s: pull request job on %s in environment %q; want a -readonly environment", where, s, env)
					}
				}
			}
		}
	}
}

func TestHostedRunnersNeverTouchTheInfrastructure(t *testing.T) {
	for _, w := range load(t) {
		for _, j := range w.Jobs {
			if j.Uses != "" {
				continue // a reusable workflow: its own jobs are checked
			}
			runsOn := workflows.Strings(j.RunsOn)
			if slices.Equal(runsOn, infraRunner) {
				continue
			}
			if !slices.Equal(runsOn, []string{hostedRunner}) {
				t.Errorf("%s/%s runs on %q: want %q or the in-network runner %q", w.File, j.ID, runsOn, hostedRunner, infraRunner)
			}
			if touchesInfrastructure(j) {
				t.Errorf("%s/%s runs on a hosted runner but touches the cluster, MinIO or a stack", w.File, j.ID)
			}
		}
	}
}

var pulumiCommand = regexp.MustCompile(`\bpulumi\s+(preview|up|update|destroy|refresh|import|state)\b`)

// Every preview, up and drift run goes through scripts/ci, that is through
// vxops, which always passes the policy pack (internal/stackops refuses to open
// a workspace without one).
func TestEveryStackOperationGoesThroughThePolicyPackEntryPoints(t *testing.T) {
	action, err := workflows.LoadAction(filepath.Join(repo, ".github", "actions", "stack-job", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string][]workflows.Step{"stack-job action": action.Runs.Steps}
	for _, w := range load(t) {
		for _, j := range w.Jobs {
			steps[w.File+"/"+j.ID] = j.Steps
		}
	}
	for where, ss := range steps {
		for _, s := range ss {
			if pulumiCommand.MatchString(s.Run) {
				t.Errorf("%s runs the Pulumi CLI directly (%q): use scripts/ci, which goes through the policy pack", where, s.Run)
			}
			if strings.HasPrefix(s.Uses, "pulumi/actions@") && s.With["command"] != "" {
				t.Errorf("%s: pulumi/actions with command %q: the action only installs the pinned CLI here", where, s.With["command"])
			}
		}
	}
	for script := range stackScripts {
		file := filepath.Join(repo, strings.Fields(script)[0])
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^policy_pack$`).Match(b) {
			t.Errorf("%s does not build or locate the policy pack (policy_pack)", file)
		}
	}
}
