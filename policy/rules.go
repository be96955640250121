package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// analyzed is a resource as the rules see it: pure data, no engine types, so that
// every rule is a plain function that tests can call directly.
type analyzed struct {
	Type  string
	Name  string
	URN   string
	Props property.Map
}

func analyzedFrom(r policyx.AnalyzerResource) analyzed {
	return analyzed{Type: r.Type, Name: r.Name, URN: r.URN, Props: r.Properties}
}

// kubeType splits a Kubernetes type token ("kubernetes:apps/v1:Deployment") into
// its API group ("core" for the core group) and kind.
func (r analyzed) kubeType() (group, kind string, ok bool) {
	rest, isKube := strings.CutPrefix(r.Type, "kubernetes:")
	if !isKube {
		return "", "", false
	}
	groupVersion, kind, found := strings.Cut(rest, ":")
	if !found {
		return "", "", false
	}
	group, _, _ = strings.Cut(groupVersion, "/")
	return group, kind, true
}

// patchSuffix ends the kinds of server-side apply patches (DeploymentPatch, ...).
const patchSuffix = "Patch"

// objectType is kubeType with a patch read as the kind it patches: a patch is
// judged by the same rules as the object it changes.
func (r analyzed) objectType() (group, kind string, ok bool) {
	group, kind, ok = r.kubeType()
	if base, isPatch := strings.CutSuffix(kind, patchSuffix); isPatch && base != "" {
		kind = base
	}
	return group, kind, ok
}

// isPatch reports whether the resource is a server-side apply patch.
func (r analyzed) isPatch() bool {
	_, kind, ok := r.kubeType()
	return ok && strings.HasSuffix(kind, patchSuffix) && kind != patchSuffix
}

// isKube reports whether the resource is a Kubernetes object of kind in one of
// the groups (any group when none are given), or a patch of one.
func (r analyzed) isKube(kind string, groups ...string) bool {
	g, k, ok := r.objectType()
	if !ok || k != kind {
		return false
	}
	if len(groups) == 0 {
		return true
	}
	for _, want := range groups {
		if g == want {
			return true
		}
	}
	return false
}

// resourceRule checks one resource at a time (policyx resource validation).
type resourceRule struct {
	name        string
	description string
	scope       scope
	check       func(target, analyzed) []finding
}

// stackRule checks all resources of the stack together (policyx stack validation).
type stackRule struct {
	name        string
	description string
	scope       scope
	check       func(target, []analyzed) []finding
}

func (r resourceRule) policy(t target) policyx.Policy {
	return policyx.NewResourceValidationPolicy(r.name, policyx.ResourceValidationPolicyArgs{
		Description:      r.description,
		EnforcementLevel: r.scope.level(t),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			res := analyzedFrom(args.Resource)
			report(args.Manager, t, guarded(res.URN, func() []finding { return r.check(t, res) }))
			return nil
		},
	})
}

func (r stackRule) policy(t target) policyx.Policy {
	return policyx.NewStackValidationPolicy(r.name, policyx.StackValidationPolicyArgs{
		Description:      r.description,
		EnforcementLevel: r.scope.level(t),
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			resources := make([]analyzed, len(args.Resources))
			for i, res := range args.Resources {
				resources[i] = analyzedFrom(res)
			}
			report(args.Manager, t, guarded("", func() []finding { return r.check(t, resources) }))
			return nil
		},
	})
}

// guarded runs a check and turns a panic into a finding. A panic inside the
// analyzer's gRPC handler would kill the pack and fail the run with a stack trace
// instead of a verdict; an error return would do the same (pulumi/pulumi#24654).
// The property helpers are built not to panic; this is the second line.
func guarded(urn string, check func() []finding) (fs []finding) {
	defer func() {
		if p := recover(); p != nil {
			fs = []finding{{message: fmt.Sprintf("the policy pack failed while checking (%v), so this cannot be verified", p), urn: urn}}
		}
	}()
	return check()
}

// report hands findings to the engine. Undecided findings block sensitive stacks,
// where an unverifiable value must never pass silently; elsewhere they are dropped
// so that previews of non-sensitive stacks stay free of noise (pulumi/pulumi#19737).
func report(m policyx.PolicyManager, t target, fs []finding) {
	for _, f := range fs {
		if (f.undecided && !t.sensitive) || f.deferred {
			continue
		}
		message := f.message
		if f.undecided {
			message = previewPrefix + message
		}
		m.ReportViolation(message, f.urn)
	}
}
