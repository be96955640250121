package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/virdx/vxplatform-infra/stacks"
)

// target is the stack a preview or update runs against, as the pack sees it.
type target struct {
	stack string
	// kind is empty when the stack name is not one of the platform's environments.
	kind stacks.Kind
	// identity is the environment the stack name stands for (zero when unknown).
	identity stacks.StackIdentity
	// sensitive is decided by the stack name alone. Stack config is written by
	// whoever owns the stack, so it must never be able to relax the pack.
	sensitive bool
}

// targetFor maps a stack name to what the pack enforces on it. A name that is not
// one of the platform's environments is treated as sensitive: the program refuses
// such stacks, so the pack only meets one when something unexpected runs, and then
// it fails closed.
func targetFor(stack string) target {
	id, err := stacks.ParseStackName(stack)
	if err != nil {
		return target{stack: stack, sensitive: true}
	}
	return target{stack: stack, kind: id.Kind, identity: id, sensitive: id.Kind.Sensitive()}
}

// ownNamespace is the only namespace the stack's Kubernetes objects may live in,
// as the environment model places them (stacks.NamespaceOf).
func (t target) ownNamespace() (string, bool) {
	if t.kind == "" {
		return "", false
	}
	return stacks.NamespaceOf(t.kind), true
}

// isPreviewKind reports whether a kind is a pull-request preview or the shared
// base of the previews: both run unreviewed code.
func isPreviewKind(k stacks.Kind) bool {
	return k == stacks.KindPreview || k == stacks.KindPreviews
}

// scope says where a rule blocks.
type scope int

const (
	// everywhere: mandatory on every stack, because a breach on any stack reaches
	// patient data (shared cluster, shared nodes, shared object store).
	everywhere scope = iota + 1
	// sensitiveOnly: mandatory on production and staging, advisory elsewhere.
	sensitiveOnly
	// advisoryEverywhere: shown on every stack, never blocking.
	advisoryEverywhere
)

// level is the enforcement level of a rule on a target. policyx ignores the
// pack-level default and advisory is the zero value (pulumi/pulumi#24650), so
// every policy gets its level from here, explicitly; a scope this function does
// not know fails closed.
func (s scope) level(t target) policyx.EnforcementLevel {
	if s == advisoryEverywhere || (s == sensitiveOnly && !t.sensitive) {
		return policyx.EnforcementLevelAdvisory
	}
	return policyx.EnforcementLevelMandatory
}

func (s scope) String() string {
	switch s {
	case everywhere:
		return "mandatory everywhere"
	case sensitiveOnly:
		return "mandatory on production and staging, advisory elsewhere"
	case advisoryEverywhere:
		return "advisory everywhere"
	}
	return "invalid scope"
}
