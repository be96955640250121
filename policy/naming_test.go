package main

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/virdx/vxplatform-infra/stacks"
)

// realStackNames are the stacks of every kind the platform has.
var realStackNames = []string{"production", "staging", "public", "previews", "pr-123"}

// TestPackPlacesObjectsWhereStacksDoes: the namespace the pack holds a stack's
// objects to is the one the environment model deploys into, for every kind.
func TestPackPlacesObjectsWhereStacksDoes(t *testing.T) {
	for _, stack := range realStackNames {
		env := environment(t, stack, nil)
		own, ok := targetFor(stack).ownNamespace()
		if !ok || own != env.Namespace {
			t.Errorf("%s: the pack's own namespace is %q (%v), the model deploys into %q", stack, own, ok, env.Namespace)
		}
	}
}

// TestPackRecognisesEveryRealIdentity feeds the pack every identity name the
// environment model produces, for every kind of stack, as the name of a policy
// created by every other stack: the pack must attribute each to the environment
// the model made it for. A change of the name format in stacks that the pack did
// not follow would fail here, not silently weaken the preview rule.
func TestPackRecognisesEveryRealIdentity(t *testing.T) {
	seen := 0
	for _, owner := range realStackNames {
		env := environment(t, owner, nil)
		for _, id := range env.Storage.Identities {
			for _, creator := range realStackNames {
				f := newFindings()
				envs := identityEnvironments(targetFor(creator), f, lookup[string]{value: id.Name, state: known, path: "name"})
				if !slices.Contains(envs, env.StackIdentity) {
					t.Errorf("policy %q created by %s: the pack attributes it to %v, not to %s", id.Name, creator, envs, owner)
				}
				if len(f.all()) > 0 {
					t.Errorf("policy %q created by %s: findings %v", id.Name, creator, f.all())
				}
			}
			seen++
		}
	}
	if seen < 10 {
		t.Fatalf("the model produced only %d identities across %v", seen, realStackNames)
	}
}

func TestIdentityEnvironmentsOfOtherNames(t *testing.T) {
	tests := []struct {
		stack string
		name  lookup[string]
		want  []string
		// undecided: the name is not known and the stack is sensitive.
		undecided bool
	}{
		{stack: "production", name: knownName("dataplatform-pr-7-uploader"), want: []string{"production", "pr-7"}},
		{stack: "production", name: knownName("DATAPLATFORM-PR-7-APP"), want: []string{"production", "pr-7"}},
		{stack: "public", name: knownName("dataplatform-qa-app"), want: []string{"public"}},
		{stack: "public", name: knownName("something-else"), want: []string{"public"}},
		{stack: "production", name: lookup[string]{state: unknown, path: "name"}, want: []string{"production"}, undecided: true},
		{stack: "public", name: lookup[string]{state: unknown, path: "name"}, want: []string{"public"}},
	}
	for _, tt := range tests {
		f := newFindings()
		var got []string
		for _, env := range identityEnvironments(targetFor(tt.stack), f, tt.name) {
			got = append(got, env.Stack)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v on %s: %v, want %v", tt.name, tt.stack, got, tt.want)
		}
		if undecided := len(f.all()) == 1 && f.all()[0].undecided; undecided != tt.undecided || (!tt.undecided && len(f.all()) > 0) {
			t.Errorf("%+v on %s: findings %v, want undecided %v", tt.name, tt.stack, f.all(), tt.undecided)
		}
	}
}

func knownName(s string) lookup[string] { return lookup[string]{value: s, state: known, path: "name"} }

// Names of every stack are the model's: stacks.Purposes() covers every purpose
// an identity of a real stack has.
func TestEveryRealPurposeIsListed(t *testing.T) {
	for _, stack := range realStackNames {
		for _, id := range environment(t, stack, nil).Storage.Identities {
			if !slices.Contains(stacks.Purposes(), id.Purpose) {
				t.Errorf("%s: identity %s has purpose %q, not in stacks.Purposes()", stack, id.Name, id.Purpose)
			}
		}
	}
}

// TestUnknownStacksOwnNoHostname: a stack name the platform does not know is
// sensitive (fail closed) and owns no hostname.
func TestUnknownStacksOwnNoHostname(t *testing.T) {
	ingress := analyzed{Type: ingressType, URN: "ingress", Props: property.NewMap(map[string]property.Value{
		"spec": obj(map[string]property.Value{"rules": list(obj(map[string]property.Value{"host": str("production.data.virdx.dev")}))}),
	})}
	for stack, want := range map[string]int{"dev": 1, "production": 0} {
		if got := checkIngressOwnHostname(targetFor(stack), ingress); len(got) != want {
			t.Errorf("%s: findings %v, want %d", stack, got, want)
		}
	}
}
