package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// oddValues are values a rule may meet where it expects something else.
var oddValues = map[string]property.Value{
	"computed":         computedValue(),
	"secret computed":  computedValue().WithSecret(true),
	"null":             {},
	"string":           str("x"),
	"number":           num(-1),
	"bool":             flag(true),
	"empty list":       list(),
	"list of null":     list(property.Value{}),
	"list of computed": list(computedValue()),
	"empty object":     obj(map[string]property.Value{}),
	"secret object":    obj(map[string]property.Value{"a": str("b")}).WithSecret(true),
}

// TestRulesNeverPanic replaces every value of every real resource, one at a
// time, with each odd value and runs every rule on the result. A panic here is a
// crashed pack during someone's preview.
func TestRulesNeverPanic(t *testing.T) {
	for _, stack := range []string{"production", "pr-123"} {
		resources := inputsOf(runProgram(t, stack, []string{"ingress", "true", "ingressAllowedSources", "10.0.0.0/8"}))
		target := targetFor(stack)
		checks := 0
		for i, r := range resources {
			for _, path := range propertyPaths(property.New(r.Props), nil) {
				for name, odd := range oddValues {
					changed := r
					changed.Props = changeValue(t, property.New(r.Props), path, strings.Join(path, "."),
						func(property.Value, bool) (property.Value, bool) { return odd, true }).AsMap()
					where := fmt.Sprintf("%s %s with %s at %s", stack, r.URN, name, strings.Join(path, "."))
					for _, rule := range resourceRules {
						noPanic(t, rule.name+" on "+where, func() { rule.check(target, changed) })
					}
					stackResources := append([]analyzed(nil), resources...)
					stackResources[i] = changed
					for _, rule := range stackRules {
						noPanic(t, rule.name+" on "+where, func() { rule.check(target, stackResources) })
					}
					checks++
				}
			}
		}
		if checks < 1000 {
			t.Fatalf("%s: only %d variations tried: the property walk is broken", stack, checks)
		}
		t.Logf("%s: %d variations, each through every rule", stack, checks)
	}
}

func noPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s: panic: %v", what, p)
		}
	}()
	fn()
}

// propertyPaths lists the path of every value inside v, containers included.
func propertyPaths(v property.Value, prefix []string) [][]string {
	var paths [][]string
	visit := func(step string, child property.Value) {
		path := append(append([]string{}, prefix...), step)
		paths = append(paths, path)
		paths = append(paths, propertyPaths(child, path)...)
	}
	switch {
	case v.IsMap():
		for _, key := range slices.Sorted(maps.Keys(v.AsMap().AsMap())) {
			visit(key, v.AsMap().Get(key))
		}
	case v.IsArray():
		for i, item := range v.AsArray().AsSlice() {
			visit(strconv.Itoa(i), item)
		}
	}
	return paths
}

// TestGuardedTurnsAPanicIntoAViolation: the second line of defence. A rule that
// panics anyway must block, not crash the analyzer.
func TestGuardedTurnsAPanicIntoAViolation(t *testing.T) {
	broken := resourceRule{
		name: "broken", description: "panics", scope: sensitiveOnly,
		check: func(target, analyzed) []finding { panic("index out of range") },
	}
	var got []violation
	policy := broken.policy(targetFor("production")).(policyx.ResourceValidationPolicy)
	err := policy.Validate(context.Background(), policyx.ResourceValidationArgs{
		Manager:  recorder{policy: policy, defaultURN: "urn:x", out: &got},
		Resource: policyx.AnalyzerResource{Type: "kubernetes:core/v1:Service", URN: "urn:x"},
	})
	if err != nil {
		t.Fatalf("Validate returned %v", err)
	}
	want := violation{policy: "broken", level: policyx.EnforcementLevelMandatory, urn: "urn:x",
		message: "the policy pack failed while checking (index out of range), so this cannot be verified"}
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %v, want %v", got, want)
	}
}
