package stackops

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
)

// Change is one resource the engine would change (or did).
type Change struct {
	Op    string // create, update, delete, replace, ...
	URN   string
	Type  string
	Diffs []string
}

// Name is the resource's Pulumi name (the last URN segment).
func (c Change) Name() string { return c.URN[strings.LastIndex(c.URN, "::")+2:] }

// Violation is one policy pack finding.
type Violation struct {
	Policy, Level, Message, URN string
}

// Report is what one operation found.
type Report struct {
	Stack      string
	Operation  string
	Changes    []Change
	Violations []Violation
	Outputs    auto.OutputMap
	Duration   time.Duration
}

// ignoredOps are steps that change nothing: unchanged resources, reads, and the
// refresh steps of a --refresh run (drift shows up as the update that follows).
var ignoredOps = map[string]bool{"same": true, "read": true, "refresh": true}

// events gathers one operation's engine events.
type eventLog struct {
	ch   chan events.EngineEvent
	done chan struct{}
	r    Report
}

func newEventLog(stack, op string) *eventLog {
	l := &eventLog{ch: make(chan events.EngineEvent), done: make(chan struct{}), r: Report{Stack: stack, Operation: op}}
	go func() {
		defer close(l.done)
		for ev := range l.ch {
			switch {
			case ev.ResourcePreEvent != nil:
				m := ev.ResourcePreEvent.Metadata
				if !ignoredOps[string(m.Op)] {
					l.r.Changes = append(l.r.Changes, Change{Op: string(m.Op), URN: m.URN, Type: m.Type, Diffs: m.Diffs})
				}
			case ev.PolicyEvent != nil:
				p := ev.PolicyEvent
				l.r.Violations = append(l.r.Violations, Violation{Policy: p.PolicyPackName + "/" + p.PolicyName,
					Level: p.EnforcementLevel, Message: strings.TrimSpace(p.Message), URN: p.ResourceURN})
			}
		}
	}()
	return l
}

// finish waits for the stream to end (the SDK closes it when the CLI finishes,
// but not when the CLI failed before streaming).
func (l *eventLog) finish(start time.Time) Report {
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
	}
	l.r.Duration = time.Since(start)
	sort.Slice(l.r.Changes, func(i, j int) bool { return l.r.Changes[i].URN < l.r.Changes[j].URN })
	return l.r
}

// PreviewOptions: Refresh reads the live state first; ExpectNoChanges makes any
// change an error (drift detection).
type PreviewOptions struct {
	Refresh, ExpectNoChanges bool
	// Config is set on the stack first (see ConfigFromEnv).
	Config map[string]string
}

// Preview previews a stack through the policy pack.
func (w *Workspace) Preview(ctx context.Context, ref string, o PreviewOptions) (Report, error) {
	st, err := w.stack(ctx, ref, false)
	if err != nil {
		return Report{Stack: ref, Operation: "preview"}, err
	}
	if err := setConfig(ctx, st, o.Config); err != nil {
		return Report{Stack: ref, Operation: "preview"}, err
	}
	l := newEventLog(ref, "preview")
	opts := []optpreview.Option{optpreview.EventStreams(l.ch), optpreview.ProgressStreams(w.Log), optpreview.ErrorProgressStreams(w.Log),
		optpreview.Color("never"), optpreview.SuppressProgress(), optpreview.PolicyPacks(w.PolicyPack), optpreview.Diff()}
	if o.Refresh {
		opts = append(opts, optpreview.Refresh())
	}
	if o.ExpectNoChanges {
		opts = append(opts, optpreview.ExpectNoChanges())
	}
	fmt.Fprintf(w.Log, "### pulumi preview --stack %s --policy-pack %s (refresh %v, expect no changes %v)\n", ref, w.PolicyPack, o.Refresh, o.ExpectNoChanges)
	start := time.Now()
	_, err = st.Preview(ctx, opts...)
	r := l.finish(start)
	if err != nil {
		return r, fmt.Errorf("pulumi preview of %s failed: %w", ref, err)
	}
	return r, nil
}

// Up deploys a stack through the policy pack; create makes a missing stack
// (previews of pull requests), config is set first.
func (w *Workspace) Up(ctx context.Context, ref string, create bool, config map[string]string) (Report, error) {
	st, err := w.stack(ctx, ref, create)
	if err != nil {
		return Report{Stack: ref, Operation: "up"}, err
	}
	if err := setConfig(ctx, st, config); err != nil {
		return Report{Stack: ref, Operation: "up"}, err
	}
	l := newEventLog(ref, "up")
	fmt.Fprintf(w.Log, "### pulumi up --stack %s --policy-pack %s\n", ref, w.PolicyPack)
	start := time.Now()
	res, err := st.Up(ctx, optup.EventStreams(l.ch), optup.ProgressStreams(w.Log), optup.ErrorProgressStreams(w.Log),
		optup.Color("never"), optup.SuppressProgress(), optup.PolicyPacks(w.PolicyPack))
	r := l.finish(start)
	r.Outputs = res.Outputs
	if err != nil {
		return r, fmt.Errorf("pulumi up of %s failed: %w", ref, err)
	}
	return r, nil
}

// DestroyAndRemove destroys every resource of a stack and then removes the stack
// (and its Pulumi.<stack>.yaml) from the backend.
func (w *Workspace) DestroyAndRemove(ctx context.Context, ref string) error {
	st, err := w.stack(ctx, ref, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(w.Log, "### pulumi destroy --stack %s --remove\n", ref)
	if _, err := st.Destroy(ctx, optdestroy.ProgressStreams(w.Log), optdestroy.ErrorProgressStreams(w.Log),
		optdestroy.Color("never"), optdestroy.SuppressProgress(), optdestroy.Remove()); err != nil {
		return fmt.Errorf("pulumi destroy --remove of %s failed: %w", ref, err)
	}
	return nil
}

// Outputs are the stack's current outputs.
func (w *Workspace) Outputs(ctx context.Context, ref string) (auto.OutputMap, error) {
	st, err := w.stack(ctx, ref, false)
	if err != nil {
		return nil, err
	}
	return st.Outputs(ctx)
}

// Drift runs `pulumi preview --refresh --expect-no-changes` through the policy
// pack. The report's changes are what the program would do to put the live
// objects back: drift when there are any. The CLI fails on changes too, so the
// error is nil exactly when nothing drifted; a failure without reported changes
// is an error of its own and never reads as "no drift".
func (w *Workspace) Drift(ctx context.Context, ref string) (Report, error) {
	r, err := w.Preview(ctx, ref, PreviewOptions{Refresh: true, ExpectNoChanges: true})
	r.Operation = "drift check"
	return r, err
}

// Mandatory are the mandatory policy violations of a report.
func (r Report) Mandatory() []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.Level == "mandatory" {
			out = append(out, v)
		}
	}
	return out
}
