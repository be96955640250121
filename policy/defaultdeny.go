package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

var defaultDenyRule = stackRule{
	name: "kubernetes-namespace-default-deny",
	description: "Every namespace the stack creates, and on production and staging every namespace it deploys into, " +
		"has a default-deny NetworkPolicy for ingress and egress in the same stack.",
	scope: everywhere,
	check: checkDefaultDeny,
}

// namespaceUse is what the stack does with one namespace.
type namespaceUse struct {
	createdBy string // URN of the Namespace object, if the stack creates it
	// user is an object deployed into it: the smallest URN, so that the report
	// does not depend on the order in which the engine registered resources.
	user   string
	denies map[string]bool
}

// checkDefaultDeny: without a default deny, every pod of the namespace accepts
// traffic from every pod of the cluster and reaches every address, whatever the
// allow policies say. A namespace the stack creates must come with its deny. A
// pull-request preview deploys into the shared namespace that the previews stack
// creates and denies, so on non-sensitive stacks a namespace the stack only uses
// is left to its owner (which this rule checks in turn); production and staging
// must prove the deny for every namespace they touch, within their own stack.
func checkDefaultDeny(t target, resources []analyzed) []finding {
	f := newFindings()
	uses := map[string]*namespaceUse{}
	use := func(name string) *namespaceUse {
		if uses[name] == nil {
			uses[name] = &namespaceUse{denies: map[string]bool{}}
		}
		return uses[name]
	}
	// undecided remembers resources whose namespace or deny cannot be read yet, so
	// that a missing deny is reported as undecided rather than as a violation.
	var undecided []string
	for _, r := range resources {
		// A patch changes an object declared elsewhere: it neither creates a
		// namespace nor proves a deny.
		if _, _, isKube := r.kubeType(); !isKube || r.isPatch() {
			continue
		}
		if r.isKube("Namespace", "core") {
			name := stringAt(r.Props, "metadata", "name")
			switch name.state {
			case known:
				use(name.value).createdBy = r.URN
			case unknown:
				undecided = append(undecided, r.URN)
			}
			continue
		}
		namespace := stringAt(r.Props, "metadata", "namespace")
		switch namespace.state {
		case known:
		case unknown:
			undecided = append(undecided, r.URN)
			continue
		default:
			continue
		}
		u := use(namespace.value)
		if u.user == "" || r.URN < u.user {
			u.user = r.URN
		}
		if r.isKube("NetworkPolicy", "networking.k8s.io", "extensions") {
			directions, decided := deniedDirections(r.Props)
			if !decided {
				undecided = append(undecided, r.URN)
			}
			for _, d := range directions {
				u.denies[d] = true
			}
		}
	}
	names := make([]string, 0, len(uses))
	for name := range uses {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		u := uses[name]
		if u.createdBy == "" && !t.sensitive {
			continue
		}
		var missing []string
		for _, d := range []string{"ingress", "egress"} {
			if !u.denies[d] {
				missing = append(missing, d)
			}
		}
		if len(missing) == 0 {
			continue
		}
		at, subject := u.createdBy, fmt.Sprintf("namespace %q", name)
		if at == "" {
			at, subject = u.user, fmt.Sprintf("namespace %q, which this stack deploys into but does not create,", name)
		}
		nf := f.on(at)
		if len(undecided) > 0 {
			nf.undecided("whether " + subject + " has a default-deny NetworkPolicy")
			continue
		}
		nf.violation("%s has no default-deny NetworkPolicy for %s in this stack", subject, strings.Join(missing, " and "))
	}
	return f.all()
}

// deniedDirections lists the directions ("ingress", "egress") a NetworkPolicy
// denies for every pod of its namespace: it selects all pods and allows nothing
// in that direction. decided is false when a needed field is not known.
func deniedDirections(props property.Map) (directions []string, decided bool) {
	probe := newFindings()
	selector := mapAt(props, "spec", "podSelector")
	value, ok := judge(probe, selector)
	if !ok && selector.state != absent {
		return nil, false
	}
	// An absent podSelector is the empty selector: it is required and not
	// omitempty in the Kubernetes API.
	if empty, decidedSelector := selectorIsEmpty(value, selector.path, probe); !decidedSelector {
		return nil, false
	} else if !empty {
		return nil, true
	}
	types := listAt(props, "spec", "policyTypes")
	typeValues, ok := judge(probe, types)
	if !ok && types.state != absent {
		return nil, false
	}
	declared, complete := stringsOf(typeValues)
	if !complete {
		return nil, false
	}
	if types.state == absent {
		// Kubernetes defaults policyTypes to Ingress, plus Egress when egress rules exist.
		declared = []string{"Ingress"}
		if isPresent(props, "spec", "egress") {
			declared = append(declared, "Egress")
		}
	}
	decided = true
	for _, d := range policyDirections {
		if !slices.ContainsFunc(declared, func(s string) bool { return strings.EqualFold(s, d.rules) }) {
			continue
		}
		rules := listAt(props, "spec", d.rules)
		switch rules.state {
		case absent:
			directions = append(directions, d.rules)
		case known:
			if len(rules.value) == 0 {
				directions = append(directions, d.rules)
			}
		default:
			decided = false
		}
	}
	return directions, decided
}

func isPresent(props property.Map, path ...string) bool {
	v, st := walk(props, path)
	return st != absent && !v.IsNull()
}
