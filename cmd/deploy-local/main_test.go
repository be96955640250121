package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeSteps records which expensive steps the job reached; build fails unless
// buildOK, so that a test can stop the job right after its checks.
type fakeSteps struct {
	calls   []string
	buildOK bool
	applied job
}

var errStopHere = errors.New("fake build: stopping the test here")

func (f *fakeSteps) build(context.Context) error {
	f.calls = append(f.calls, "build")
	if !f.buildOK {
		return errStopHere
	}
	return nil
}

func (f *fakeSteps) startPlane(context.Context) (string, error) {
	f.calls = append(f.calls, "startPlane")
	return "/fake/kubeconfig", nil
}

func (f *fakeSteps) apply(_ context.Context, j job) error {
	f.calls = append(f.calls, "apply")
	f.applied = j
	return nil
}

// sandbox gives the job a control plane run directory of its own (VX_RUN, not
// created) and the default ports; it returns the run directory.
func sandbox(t *testing.T) string {
	t.Helper()
	run := filepath.Join(t.TempDir(), "run")
	t.Setenv("VX_RUN", run)
	for _, v := range []string{"VX_ETCD_PORT", "VX_ETCD_PEER_PORT", "VX_APISERVER_PORT", "VX_KCM_PORT",
		"VX_SCHEDULER_PORT", "VX_KWOK_PORT", "VX_CP_TIMEOUT", "VX_PV_SIZE", "VX_PV_COUNT", "VX_KWOK_NODES", "VX_CP_FRESH"} {
		t.Setenv(v, "")
	}
	return run
}

type result struct {
	code           int
	stdout, stderr string
	steps          *fakeSteps
}

func runJob(t *testing.T, s *fakeSteps, args ...string) result {
	t.Helper()
	repo, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), repo, args, s, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String(), s}
}

// files lists everything under dir ("" entries for a missing dir).
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// writeState writes a file-backend checkpoint for stack holding the stack resource
// and the given resource types; with none, the stack holds nothing (as after a
// destroy).
func writeState(t *testing.T, run, stack string, types ...string) {
	t.Helper()
	dir := filepath.Join(run, "deploy-local", "backend", ".pulumi", "stacks", "data-platform")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var resources []string
	if len(types) > 0 {
		resources = append(resources, fmt.Sprintf(`{"urn":"urn:pulumi:%s::data-platform::pulumi:pulumi:Stack::data-platform-%s","type":"pulumi:pulumi:Stack","custom":false}`, stack, stack))
	}
	for i, typ := range types {
		resources = append(resources, fmt.Sprintf(`{"urn":"urn:pulumi:%s::data-platform::%s::r%d","type":"%s","custom":true}`, stack, typ, i, typ))
	}
	checkpoint := fmt.Sprintf(`{"version":3,"checkpoint":{"stack":"%s","latest":{"manifest":{"time":"2026-12-03T08:00:00Z","magic":"","version":""},"resources":[%s]}}}`,
		stack, strings.Join(resources, ","))
	if err := os.WriteFile(filepath.Join(dir, stack+".json"), []byte(checkpoint), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The usage names the job's flags only: flags that imported packages register on
// the global FlagSet (klog, glog) never show, and nothing is built, started or
// written.
func TestHelpPrintsTheJobsOwnFlagsAndDoesNothing(t *testing.T) {
	run := sandbox(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runJob(t, &fakeSteps{}, arg)
		if r.code != exitOK || len(r.steps.calls) > 0 || r.stderr != "" {
			t.Fatalf("%s: exit %d, steps %v, stderr %q; want 0, none, empty", arg, r.code, r.steps.calls, r.stderr)
		}
		for _, want := range []string{"-stacks", "-destroy", "-state", "scripts/control-plane.sh stop"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.stdout)
			}
		}
		flag.CommandLine.VisitAll(func(f *flag.Flag) {
			if strings.Contains(r.stdout, "-"+f.Name+" ") || strings.Contains(r.stdout, "-"+f.Name+"\n") {
				t.Errorf("%s: usage shows the global flag -%s", arg, f.Name)
			}
		})
	}
	if got := files(t, run); got != nil {
		t.Errorf("-h wrote %v", got)
	}
}

// assertRefused fails unless the job refused (exit 2) before any expensive step,
// saying want on stderr.
func assertRefused(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != exitRefused || len(r.steps.calls) > 0 {
		t.Fatalf("exit %d, steps %v; want %d and none\n%s", r.code, r.steps.calls, exitRefused, r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
}

// Bad flags and stack names print the usage; bad control-plane variables name the
// variable, its value and what is allowed. Nothing is written either way.
func TestBadInvocationIsRefusedWithoutSideEffects(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		variable string // set to value, if not empty
		value    string
		want     string
		usage    bool
	}{
		{"unknown flag", []string{"-v"}, "", "", "flag provided but not defined: -v", true},
		{"positional argument", []string{"pr-1"}, "", "", `unexpected argument "pr-1"`, true},
		{"flag without value", []string{"-stacks"}, "", "", "flag needs an argument: -stacks", true},
		{"bad stack name", []string{"-stacks", "previews,pr-x"}, "", "", `stack name "pr-x"`, false},
		{"unknown stack", []string{"-stacks", "qa"}, "", "", `stack name "qa": unknown environment`, false},
		{"empty stack name", []string{"-stacks", "previews,,pr-1"}, "", "", "an empty stack name", false},
		{"listed twice", []string{"-stacks", "previews,pr-1,pr-1"}, "", "", "pr-1 is listed twice", false},
		{"port out of range", nil, "VX_APISERVER_PORT", "99999", "VX_APISERVER_PORT='99999' is not a port (allowed: 1-65535)", false},
		{"port not a number", nil, "VX_KWOK_PORT", "http", "VX_KWOK_PORT='http' is not a port", false},
		{"port taken twice", nil, "VX_KCM_PORT", "16443", "VX_KCM_PORT and VX_APISERVER_PORT are both 16443", false},
		{"timeout", []string{"-destroy"}, "VX_CP_TIMEOUT", "soon", "VX_CP_TIMEOUT='soon' is not a number of seconds", false},
		{"volume size", nil, "VX_PV_SIZE", "big", "VX_PV_SIZE='big' is not a Kubernetes quantity", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := sandbox(t)
			if c.variable != "" {
				t.Setenv(c.variable, c.value)
			}
			r := runJob(t, &fakeSteps{}, c.args...)
			assertRefused(t, r, c.want)
			if got := strings.Contains(r.stderr, "Usage:"); got != c.usage {
				t.Errorf("usage printed: %v, want %v", got, c.usage)
			}
			if got := files(t, run); got != nil {
				t.Errorf("wrote %v", got)
			}
		})
	}
}

// A pr-<N> deploys into the namespace of the previews stack: without it, in the
// list or deployed, the job refuses before building or starting anything.
func TestPreviewWithoutItsBaseIsRefusedBeforeAnythingStarts(t *testing.T) {
	cases := []struct {
		name     string
		previews []string // resource types of a recorded previews stack; nil: none recorded
		fresh    string   // VX_CP_FRESH
		args     []string
		refusal  string // "" if accepted
	}{
		{"no previews anywhere", nil, "0", []string{"-stacks", "pr-2"}, "deploy both with  -stacks previews,pr-2"},
		{"previews destroyed (state without resources)", []string{}, "0", []string{"-stacks", "pr-2"}, "deploy both with  -stacks previews,pr-2"},
		{"previews deployed, plane keeps its data", []string{"kubernetes:core/v1:Namespace"}, "0", []string{"-stacks", "pr-2"}, ""},
		{"previews deployed, plane starts fresh", []string{"kubernetes:core/v1:Namespace"}, "1", []string{"-stacks", "pr-2"},
			"the state lists previews, but the control plane is stopped and starts with an empty etcd"},
		{"previews in the list", nil, "1", []string{"-stacks", "pr-2,previews"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := sandbox(t)
			t.Setenv("VX_CP_FRESH", c.fresh)
			if c.previews != nil {
				writeState(t, run, "previews", c.previews...)
			}
			before := files(t, run)
			r := runJob(t, &fakeSteps{}, c.args...)
			if c.refusal != "" {
				assertRefused(t, r, c.refusal)
			} else if !slices.Equal(r.steps.calls, []string{"build"}) {
				t.Fatalf("steps %v, want the build to start (exit %d)\n%s", r.steps.calls, r.code, r.stderr)
			}
			if got := files(t, run); !slices.Equal(got, before) {
				t.Errorf("files changed: %v -> %v", before, got)
			}
		})
	}
}

// Deploying runs the steps in order, previews before the previews that need it.
func TestDeployOnAStoppedPlaneBuildsStartsAndApplies(t *testing.T) {
	sandbox(t)
	f := &fakeSteps{buildOK: true}
	r := runJob(t, f, "-stacks", "pr-7,public,previews")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if want := []string{"build", "startPlane", "apply"}; !slices.Equal(f.calls, want) {
		t.Fatalf("steps %v, want %v", f.calls, want)
	}
	if want := []string{"previews", "pr-7", "public"}; !slices.Equal(f.applied.plan, want) {
		t.Errorf("plan %v, want %v", f.applied.plan, want)
	}
	if f.applied.kubeconfig != "/fake/kubeconfig" || f.applied.plane.state != planeStopped {
		t.Errorf("job %+v", f.applied)
	}
}

func TestDestroyAgainstAStoppedPlaneStartsNothing(t *testing.T) {
	for _, fresh := range []string{"1", "0"} {
		t.Run("VX_CP_FRESH="+fresh, func(t *testing.T) { destroyAgainstAStoppedPlane(t, fresh) })
	}
}

func destroyAgainstAStoppedPlane(t *testing.T, fresh string) {
	run := sandbox(t)
	t.Setenv("VX_CP_FRESH", fresh)
	writeState(t, run, "previews", "kubernetes:core/v1:Namespace", "kubernetes:core/v1:ResourceQuota")
	writeState(t, run, "pr-1", "kubernetes:apps/v1:Deployment")
	before := files(t, run)
	r := runJob(t, &fakeSteps{}, "-destroy")
	if r.code != exitOK || len(r.steps.calls) > 0 {
		t.Fatalf("exit %d, steps %v; want 0 and none\n%s", r.code, r.steps.calls, r.stderr)
	}
	for _, want := range []string{"is stopped: nothing destroyed, nothing started", "pr-1 (2 resources), previews (3 resources)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := files(t, run); !slices.Equal(got, before) {
		t.Errorf("files changed: %v -> %v", before, got)
	}
}

func TestDestroyWithNothingRecordedSaysSo(t *testing.T) {
	sandbox(t)
	r := runJob(t, &fakeSteps{}, "-destroy", "-stacks", "previews,pr-4")
	if r.code != exitOK || len(r.steps.calls) > 0 || !strings.Contains(r.stdout, "nothing to destroy") {
		t.Fatalf("exit %d, steps %v, stdout %q", r.code, r.steps.calls, r.stdout)
	}
}

// Destroying previews deletes the namespace of every pr-<N>: refused while one
// that is not destroyed with it is recorded.
func TestDestroyOfPreviewsWhileAPreviewLivesIsRefused(t *testing.T) {
	run := sandbox(t)
	t.Setenv("VX_CP_FRESH", "0") // what the state records is still on the plane
	writeState(t, run, "previews", "kubernetes:core/v1:Namespace")
	writeState(t, run, "pr-1", "kubernetes:apps/v1:Deployment")
	writeState(t, run, "pr-3", "kubernetes:apps/v1:Deployment")
	r := runJob(t, &fakeSteps{}, "-destroy", "-stacks", "previews,pr-1")
	assertRefused(t, r, "-stacks pr-3,previews -destroy")
}

// A plane recorded as started with other ports is never stopped or restarted for
// a run with other port variables: refused, naming the variable and both values.
// The recorded "etcd" is this test process: alive, so the record counts, and
// nothing is ever signalled by a check.
func TestPortMismatchWithTheRunningPlaneIsRefused(t *testing.T) {
	run := sandbox(t)
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	record := "VX_ETCD_PORT=26790\nVX_ETCD_PEER_PORT=26800\nVX_APISERVER_PORT=19443\nVX_KCM_PORT=19257\nVX_SCHEDULER_PORT=19259\nVX_KWOK_PORT=19247\n"
	if err := os.WriteFile(filepath.Join(run, "plane.env"), []byte(record), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "pids"), fmt.Appendf(nil, "etcd %d\n", os.Getpid()), 0o600); err != nil {
		t.Fatal(err)
	}
	before := files(t, run)

	t.Setenv("VX_APISERVER_PORT", "16443")
	r := runJob(t, &fakeSteps{}, "-stacks", "previews")
	assertRefused(t, r, "VX_APISERVER_PORT=16443 (the plane uses 19443)")
	if got := files(t, run); !slices.Equal(got, before) {
		t.Errorf("files changed: %v -> %v", before, got)
	}

	// The recorded ports, given or not, are accepted: the plane (not healthy: its
	// processes are not ours) is handed to the build and start steps.
	for _, port := range []string{"19443", ""} {
		t.Setenv("VX_APISERVER_PORT", port)
		r = runJob(t, &fakeSteps{}, "-stacks", "previews")
		if !slices.Equal(r.steps.calls, []string{"build"}) {
			t.Errorf("VX_APISERVER_PORT=%q: steps %v, want the build to start\n%s", port, r.steps.calls, r.stderr)
		}
	}
}

func TestPlanOrder(t *testing.T) {
	cases := []struct {
		names   []string
		destroy bool
		want    []string
	}{
		{[]string{"previews", "pr-1"}, false, []string{"previews", "pr-1"}},
		{[]string{"pr-1", "previews"}, false, []string{"previews", "pr-1"}},
		{[]string{"pr-1", "previews"}, true, []string{"pr-1", "previews"}},
		{[]string{"production", "pr-2", "previews", "pr-1"}, false, []string{"previews", "production", "pr-2", "pr-1"}},
		{[]string{"production", "pr-2", "previews", "pr-1"}, true, []string{"pr-1", "pr-2", "production", "previews"}},
	}
	for _, c := range cases {
		got, err := planStacks(c.names, c.destroy)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("planStacks(%v, destroy=%v) = %v, %v; want %v", c.names, c.destroy, got, err, c.want)
		}
	}
}

// The program exports the same outputs for every stack; only those with a value
// are printed (the previews stack has none but its namespace).
func TestOnlyMeaningfulOutputsArePrinted(t *testing.T) {
	var b bytes.Buffer
	printOutputs(&b, map[string]any{
		"namespace":       "data-platform-previews",
		"frontendService": "",
		"apiService":      "",
		"readBuckets":     []any{},
		"s3Endpoints":     map[string]any{"source": "", "target": ""},
		"images":          map[string]any{},
		"hostname":        nil,
		"password":        secretValue{""},
	})
	if got, want := b.String(), "outputs:\n  namespace        data-platform-previews\n"; got != want {
		t.Errorf("previews-like outputs printed\n%q\nwant\n%q", got, want)
	}
	b.Reset()
	printOutputs(&b, map[string]any{
		"apiService":  "pr-1-api",
		"readBuckets": []any{"dataplatform-public"},
		"s3Endpoints": map[string]any{"target": "pr-1-minio:9000", "source": ""},
		"token":       secretValue{"x"},
	})
	want := "outputs:\n" +
		"  apiService       pr-1-api\n" +
		`  readBuckets      ["dataplatform-public"]` + "\n" +
		`  s3Endpoints      {"source":"","target":"pr-1-minio:9000"}` + "\n" +
		"  token            [secret]\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestParsePlane(t *testing.T) {
	p, err := parsePlane("state=stopped\nrun=/r\nkubeconfig=/r/kubeconfig\nfresh=1\n")
	if err != nil || p != (plane{planeStopped, "/r", "/r/kubeconfig", true}) {
		t.Errorf("parsePlane = %+v, %v", p, err)
	}
	for _, bad := range []string{"", "state=up\nrun=/r\nkubeconfig=/k\n", "state=stopped\n"} {
		if _, err := parsePlane(bad); err == nil {
			t.Errorf("parsePlane(%q): no error", bad)
		}
	}
}

// A step that runs longer than the progress interval is never silent: it says so
// while it runs, with the last line of what it runs.
func TestLongStepsReportProgress(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, every: 10 * time.Millisecond}
	engine := &lastLine{w: io.Discard}
	err := p.step(task{what: "pulumi up pr-1", note: "refresh first", detail: engine.Last}, func() error {
		fmt.Fprint(engine, "Updating (pr-1):\n  +  kubernetes:apps/v1:Deployment pr-1-api creating (1s)\n\n  partial")
		time.Sleep(100 * time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"pulumi up pr-1 (refresh first) ...",
		"... pulumi up pr-1: ", " so far; +  kubernetes:apps/v1:Deployment pr-1-api creating (1s)\n",
		"pulumi up pr-1: done in ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
}
