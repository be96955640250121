package stackops

import (
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
)

// Step is one resource step the engine reported.
type Step struct {
	Op    string // create, update, same, delete, replace, ...
	URN   string
	Type  string
	Diffs []string // the properties that changed, for updates
}

// Name is the resource's Pulumi name (the last URN segment).
func (s Step) Name() string { return s.URN[strings.LastIndex(s.URN, "::")+2:] }

// noChangeOps are steps that change nothing: unchanged resources, reads, and the
// refresh steps of a --refresh run (drift shows up as the update that follows).
var noChangeOps = map[string]bool{"same": true, "read": true, "refresh": true}

// Changes reports whether the step changes anything.
func (s Step) Changes() bool { return !noChangeOps[s.Op] }

// Violation is one policy pack finding.
type Violation struct {
	Pack, Policy, Level, Message, URN string
}

// Qualified is the policy's name with its pack's: pack/policy.
func (v Violation) Qualified() string { return v.Pack + "/" + v.Policy }

// EventLog gathers the engine events of one operation: hand Events to the
// operation's EventStreams option and call Finish when it returns. The CI
// commands (cmd/vxops) and the local environment (internal/localenv) both read
// the engine through it.
type EventLog struct {
	ch         chan events.EngineEvent
	done       chan struct{}
	steps      []Step
	violations []Violation
}

// NewEventLog starts gathering.
func NewEventLog() *EventLog {
	l := &EventLog{ch: make(chan events.EngineEvent), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for ev := range l.ch {
			switch {
			case ev.ResourcePreEvent != nil:
				m := ev.ResourcePreEvent.Metadata
				l.steps = append(l.steps, Step{Op: string(m.Op), URN: m.URN, Type: m.Type, Diffs: m.Diffs})
			case ev.PolicyEvent != nil:
				p := ev.PolicyEvent
				l.violations = append(l.violations, Violation{Pack: p.PolicyPackName, Policy: p.PolicyName,
					Level: p.EnforcementLevel, Message: strings.TrimSpace(p.Message), URN: p.ResourceURN})
			}
		}
	}()
	return l
}

// Events is the channel the Automation API streams the operation's events to.
func (l *EventLog) Events() chan<- events.EngineEvent { return l.ch }

// Finish waits for the event stream to end and returns every step and policy
// finding. The SDK closes the stream when the CLI finishes, but never when the
// CLI failed before streaming: then it gives up after ten seconds.
func (l *EventLog) Finish() ([]Step, []Violation) {
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
	}
	return l.steps, l.violations
}
