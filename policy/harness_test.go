package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/virdx/vxplatform-infra/internal/programtest"
	"github.com/virdx/vxplatform-infra/stacks"
)

// violation is one diagnostic as the engine would show it.
type violation struct {
	policy  string
	level   policyx.EnforcementLevel
	message string
	urn     string
}

func (v violation) String() string {
	return fmt.Sprintf("%s [%s] %s (%s)", v.policy, levelName(v.level), v.message, v.urn)
}

func levelName(l policyx.EnforcementLevel) string {
	switch l {
	case policyx.EnforcementLevelMandatory:
		return "mandatory"
	case policyx.EnforcementLevelAdvisory:
		return "advisory"
	case policyx.EnforcementLevelDisabled:
		return "disabled"
	}
	return fmt.Sprintf("level %d", l)
}

// recorder is the PolicyManager the engine would give a policy: it fills in the
// analyzed resource's URN when a policy reports without one, as policyx does.
type recorder struct {
	policy     policyx.Policy
	defaultURN string
	out        *[]violation
}

func (r recorder) ReportViolation(message, urn string) {
	if urn == "" {
		urn = r.defaultURN
	}
	*r.out = append(*r.out, violation{policy: r.policy.Name(), level: r.policy.EnforcementLevel(), message: message, urn: urn})
}

// evaluate runs the pack built for stack the way the engine does: every resource
// through every resource policy (Analyze), then all of them through the stack
// policies (AnalyzeStack; the engine passes outputs there).
func evaluate(t *testing.T, stack string, inputs, outputs []analyzed) []violation {
	t.Helper()
	pack, err := packFor(targetFor(stack))
	if err != nil {
		t.Fatalf("packFor(%s): %v", stack, err)
	}
	var out []violation
	for _, p := range pack.Policies() {
		switch p := p.(type) {
		case policyx.ResourceValidationPolicy:
			for _, r := range inputs {
				err := p.Validate(context.Background(), policyx.ResourceValidationArgs{
					Manager:  recorder{policy: p, defaultURN: r.URN, out: &out},
					Resource: policyx.AnalyzerResource{Type: r.Type, Name: r.Name, URN: r.URN, Properties: r.Props},
				})
				if err != nil {
					t.Fatalf("%s on %s returned an error: %v", p.Name(), r.URN, err)
				}
			}
		case policyx.StackValidationPolicy:
			resources := make([]policyx.AnalyzerResource, len(outputs))
			for i, r := range outputs {
				resources[i] = policyx.AnalyzerResource{Type: r.Type, Name: r.Name, URN: r.URN, Properties: r.Props}
			}
			if err := p.Validate(context.Background(), policyx.StackValidationArgs{
				Manager:   recorder{policy: p, out: &out},
				Resources: resources,
			}); err != nil {
				t.Fatalf("%s returned an error: %v", p.Name(), err)
			}
		default:
			t.Fatalf("policy %s is neither a resource nor a stack validation policy", p.Name())
		}
	}
	return out
}

// runProgram runs the real program for a stack under mocks with ValidConfig plus
// the given key/value pairs.
func runProgram(t *testing.T, stack string, config []string, extra ...func(*pulumi.Context) error) *programtest.Run {
	t.Helper()
	run, err := programtest.RunProgram(stack, programtest.With(programtest.ValidConfig(stack), config...), extra...)
	if err != nil {
		t.Fatalf("program run for %s: %v", stack, err)
	}
	return run
}

// environment is the model's view of a stack under the same config.
func environment(t *testing.T, stack string, config []string) stacks.Environment {
	t.Helper()
	env, err := stacks.Load(stack, programtest.With(programtest.ValidConfig(stack), config...))
	if err != nil {
		t.Fatalf("stacks.Load(%s): %v", stack, err)
	}
	return env
}

func inputsOf(run *programtest.Run) []analyzed  { return convert(run, false) }
func outputsOf(run *programtest.Run) []analyzed { return convert(run, true) }

func convert(run *programtest.Run, outputs bool) []analyzed {
	out := make([]analyzed, len(run.Resources))
	for i, r := range run.Resources {
		props := r.Inputs
		if outputs {
			props = r.Outputs
		}
		out[i] = analyzed{Type: r.Type, Name: r.Name, URN: r.URN, Props: resource.FromResourcePropertyMap(props)}
	}
	return out
}

// diff compares two lists of violations as multisets.
func diff(before, after []violation) (added, removed []violation) {
	count := map[violation]int{}
	for _, v := range before {
		count[v]++
	}
	for _, v := range after {
		if count[v] > 0 {
			count[v]--
			continue
		}
		added = append(added, v)
	}
	for v, n := range count {
		for ; n > 0; n-- {
			removed = append(removed, v)
		}
	}
	return added, removed
}

func sortViolations(vs []violation) []violation {
	out := append([]violation(nil), vs...)
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func listViolations(vs []violation) string {
	if len(vs) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for _, v := range sortViolations(vs) {
		b.WriteString("  " + v.String() + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// ruleScope is the scope a rule is designed to have (designedScopes), not the
// one the code gives it, so that the catalog's levels do not follow the code.
func ruleScope(t *testing.T, name string) scope {
	t.Helper()
	s, ok := designedScopes[name]
	if !ok {
		t.Fatalf("no rule named %s in designedScopes", name)
	}
	return s
}
