package stackops

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
)

// Report is what one operation found.
type Report struct {
	Stack      string
	Operation  string
	Changes    []Step
	Violations []Violation
	Outputs    auto.OutputMap
	Duration   time.Duration
}

// finish ends an operation's report: the steps that change something, sorted
// by URN, and every policy finding.
func (r Report) finish(l *EventLog, start time.Time) Report {
	steps, violations := l.Finish()
	for _, s := range steps {
		if s.Changes() {
			r.Changes = append(r.Changes, s)
		}
	}
	sort.Slice(r.Changes, func(i, j int) bool { return r.Changes[i].URN < r.Changes[j].URN })
	r.Violations = violations
	r.Duration = time.Since(start)
	return r
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
	l := NewEventLog()
	opts := []optpreview.Option{optpreview.EventStreams(l.Events()), optpreview.ProgressStreams(w.Log), optpreview.ErrorProgressStreams(w.Log),
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
	r := Report{Stack: ref, Operation: "preview"}.finish(l, start)
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
	l := NewEventLog()
	fmt.Fprintf(w.Log, "### pulumi up --stack %s --policy-pack %s\n", ref, w.PolicyPack)
	start := time.Now()
	res, err := st.Up(ctx, optup.EventStreams(l.Events()), optup.ProgressStreams(w.Log), optup.ErrorProgressStreams(w.Log),
		optup.Color("never"), optup.SuppressProgress(), optup.PolicyPacks(w.PolicyPack))
	r := Report{Stack: ref, Operation: "up"}.finish(l, start)
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
//
// The program runs with the config of the stack's last update (pulumi config
// refresh), not the checkout's: the deploy job sets image tags and secrets at
// deploy time and commits none of them, so a fresh checkout could not even load
// the stack, and any other config would report its own differences as drift.
func (w *Workspace) Drift(ctx context.Context, ref string) (Report, error) {
	st, err := w.stack(ctx, ref, false)
	if err != nil {
		return Report{Operation: "drift check"}, err
	}
	if _, err := st.RefreshConfig(ctx); err != nil {
		return Report{Operation: "drift check"}, fmt.Errorf("the config of stack %s's last update (pulumi config refresh): %w", ref, err)
	}
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
