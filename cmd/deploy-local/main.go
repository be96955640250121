// Command deploy-local is the main job: it deploys environments of the data platform
// into the local control plane (scripts/control-plane.sh) with the real program, the
// real Pulumi engine and Kubernetes provider, and prints the stack outputs, what runs
// and how to reach it. Run it through scripts/deploy-local.sh, which compiles it.
//
// It checks everything it can before it builds or starts anything: its flags, the
// stack names, that a pr-<N> has its base (the previews stack, in the list or
// already deployed), and the control plane's variables against the plane that runs
// (scripts/control-plane.sh check). Only then does it build the missing tools,
// start the plane when it does not run, and deploy. A destroy against a stopped
// plane reports that and starts nothing.
//
// The random and docker providers are the stand-ins of e2e/standin (test doubles:
// no registry is contacted); the minio provider is the test double of
// e2e/miniotest, which applies the central buckets and identities to a local test
// MinIO the job starts (scripts/test-servers.sh). State lives in -state
// (default: deploy-local in the plane's run directory, since the state describes
// what that plane holds), so a second run is an update; every up refreshes first,
// so a control plane restarted from scratch is simply deployed again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	repo, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy-local:", err)
		os.Exit(1)
	}
	os.Exit(runMain(ctx, repo, os.Args[1:], newRealSteps(repo, os.Stdout, os.Stderr), os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // something that was tried failed
	exitRefused = 2 // bad flags, stack names or variables, or a request refused before anything started
)

// options are the flags of one run.
type options struct {
	stacks   []string
	stateDir string // "" is <plane run dir>/deploy-local
	destroy  bool
}

const defaultStacks = "previews,pr-1"

// parseArgs parses the job's own flags on a FlagSet of its own, so that flags other
// packages register on the global one (klog's) never show. -h prints the usage to
// stdout; a bad flag prints it to stderr.
func parseArgs(args []string, stdout, stderr io.Writer) (options, int, bool) {
	var o options
	fs := flag.NewFlagSet("deploy-local", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	list := fs.String("stacks", defaultStacks, "comma-separated `list` of stacks: previews, production, staging, public, pr-<N>;\n"+
		"previews is deployed before any pr-<N> (it owns their namespace) and destroyed after them")
	fs.StringVar(&o.stateDir, "state", "", "`dir`ectory of the Pulumi state of the local deployments\n(default: deploy-local in the control plane's run directory)")
	fs.BoolVar(&o.destroy, "destroy", false, "destroy the stacks instead (the control plane keeps running)")
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(fs, stdout)
		return o, exitOK, false
	case err != nil:
		fmt.Fprintln(stderr, "deploy-local:", err)
		usage(fs, stderr)
		return o, exitRefused, false
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "deploy-local: unexpected argument %q (stacks go in -stacks, comma-separated)\n", fs.Arg(0))
		usage(fs, stderr)
		return o, exitRefused, false
	}
	for _, s := range strings.Split(*list, ",") {
		o.stacks = append(o.stacks, strings.TrimSpace(s))
	}
	return o, exitOK, true
}

func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: scripts/deploy-local.sh [-stacks LIST] [-destroy] [-state DIR]

Deploys environments of the data platform with the real program into a local
Kubernetes control plane on 127.0.0.1 (building the tools and starting the plane
when they are missing), then prints the outputs, what runs and how to reach it.

`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprint(w, `
The control plane is set by VX_RUN, VX_*_PORT and the other variables of
'scripts/control-plane.sh help'; a running plane keeps the ports it was started
with. Stop it with scripts/control-plane.sh stop.
`)
}

// steps are the expensive things the job does, in order; everything before them
// is checks that build, start and write nothing.
type steps interface {
	// build builds the missing tools, the stand-in and the policy pack.
	build(ctx context.Context) error
	// startPlane starts the control plane and returns its kubeconfig.
	startPlane(ctx context.Context) (string, error)
	// apply deploys or destroys the job's stacks on the running plane.
	apply(ctx context.Context, j job) error
}

// job is what a run was asked to do, after every check.
type job struct {
	plan       []string // stacks in the order to deploy (or destroy)
	destroy    bool
	stateDir   string
	stateFlag  string // -state as given ("" for the default)
	kubeconfig string
	plane      plane
	recorded   map[string]int // resources each stack holds in the state
}

// runMain is the whole job; it returns the exit code.
func runMain(ctx context.Context, repo string, args []string, s steps, stdout, stderr io.Writer) int {
	o, code, ok := parseArgs(args, stdout, stderr)
	if !ok {
		return code
	}
	if err := perform(ctx, repo, o, s, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "deploy-local:", err)
		if errors.Is(err, errRefused) {
			return exitRefused
		}
		return exitFailed
	}
	return exitOK
}

// perform checks what it can without side effects, then runs the steps.
func perform(ctx context.Context, repo string, o options, s steps, stdout, stderr io.Writer) error {
	j, err := prepare(ctx, repo, o, stderr)
	if err != nil {
		return err
	}
	if j.destroy {
		if done, msg := destroyNeedsNothing(j); done {
			fmt.Fprintln(stdout, msg)
			return nil
		}
	}
	if err := s.build(ctx); err != nil {
		return err
	}
	if j.plane.state != planeRunning {
		if j.kubeconfig, err = s.startPlane(ctx); err != nil {
			return err
		}
	}
	return s.apply(ctx, j)
}

// prepare turns the options into a job: the stack plan, the plane and what the
// state records. It builds, starts and writes nothing.
func prepare(ctx context.Context, repo string, o options, stderr io.Writer) (job, error) {
	plan, err := planStacks(o.stacks, o.destroy)
	if err != nil {
		return job{}, err
	}
	p, err := checkPlane(ctx, repo, stderr)
	if err != nil {
		return job{}, err
	}
	j := job{plan: plan, destroy: o.destroy, stateDir: o.stateDir, stateFlag: o.stateDir, plane: p, kubeconfig: p.kubeconfig}
	if j.stateDir == "" {
		j.stateDir = filepath.Join(p.run, "deploy-local")
	}
	if j.recorded, err = recordedStacks(j.stateDir); err != nil {
		return job{}, err
	}
	if err := checkBases(j.plan, j.destroy, p.holds(j.recorded)); err != nil {
		if j.recorded[previewsBase] > 0 && !j.destroy {
			err = fmt.Errorf("%w\n(the state lists previews, but the control plane is %s and starts with an empty etcd: VX_CP_FRESH=1)", err, p.state)
		}
		return job{}, err
	}
	return j, nil
}

// destroyNeedsNothing says when a destroy has nothing to do on the plane: nothing
// is recorded for the stacks, or the plane does not run (then it starts none: its
// next fresh start wipes etcd anyway).
func destroyNeedsNothing(j job) (bool, string) {
	var held []string
	for _, name := range j.plan {
		if n := j.recorded[name]; n > 0 {
			held = append(held, fmt.Sprintf("%s (%d resources)", name, n))
		}
	}
	if len(held) == 0 {
		return true, fmt.Sprintf("nothing to destroy: the state in %s holds no resources of %s", j.stateDir, strings.Join(j.plan, ", "))
	}
	if j.plane.state == planeRunning {
		return false, ""
	}
	return true, fmt.Sprintf("the control plane (%s) is %s: nothing destroyed, nothing started.\n"+
		"Its state (%s) still lists %s.\n"+
		"A fresh start of the plane (VX_CP_FRESH=1, the default) begins with an empty etcd, and the next\n"+
		"deploy's refresh drops them from the state. With VX_CP_FRESH=0 (a plane that keeps its data),\n"+
		"start the plane and run -destroy again.",
		j.plane.run, j.plane.state, j.stateDir, strings.Join(held, ", "))
}
