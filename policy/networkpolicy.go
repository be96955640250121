package main

import (
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

var networkPolicyOpenPeersRule = resourceRule{
	name: "kubernetes-networkpolicy-no-open-peers",
	description: "No NetworkPolicy admits traffic from, or sends traffic to, every address " +
		"(an ipBlock of 0.0.0.0/0 or ::/0, or a rule without peers).",
	scope: everywhere,
	check: checkNetworkPolicyOpenPeers,
}

var networkPolicyAllNamespacesRule = resourceRule{
	name:        "kubernetes-networkpolicy-no-all-namespaces-ingress",
	description: "No NetworkPolicy admits traffic from every namespace (an empty namespaceSelector).",
	scope:       sensitiveOnly,
	check:       checkNetworkPolicyAllNamespaces,
}

// policyDirection is one side of a NetworkPolicy: ingress rules list "from"
// peers, egress rules "to" peers.
type policyDirection struct {
	rules, peers string
	admits       string
}

var policyDirections = []policyDirection{
	{rules: "ingress", peers: "from", admits: "admits every source"},
	{rules: "egress", peers: "to", admits: "reaches every destination"},
}

// peerOf is one peer of one rule, with its path.
type peerOf struct {
	props property.Map
	path  string
}

// networkPolicyPeers reads the peers of every rule of a direction. A rule
// without peers is reported through open, since Kubernetes reads it as "all".
func networkPolicyPeers(r analyzed, d policyDirection, f findings, open func(rulePath string)) []peerOf {
	rules, ok := judge(f, listAt(r.Props, "spec", d.rules))
	if !ok {
		return nil
	}
	var peers []peerOf
	for _, rule := range elements(rules, "spec."+d.rules) {
		props, ok := judge(f, rule.asMap())
		if !ok {
			continue
		}
		list := listAt(props, d.peers)
		list.path = rule.path + "." + d.peers
		items, ok := judge(f, list)
		if list.state == absent || (ok && len(items) == 0) {
			open(rule.path)
			continue
		}
		for _, item := range elements(items, list.path) {
			if peer, ok := judge(f, item.asMap()); ok {
				peers = append(peers, peerOf{props: peer, path: item.path})
			}
		}
	}
	return peers
}

// checkNetworkPolicyOpenPeers: a NetworkPolicy is an allow-list on top of the
// namespace's default deny; an allow for every address undoes the deny for the
// selected pods, which on any stack of the shared cluster is a way in or out.
func checkNetworkPolicyOpenPeers(_ target, r analyzed) []finding {
	if !r.isKube("NetworkPolicy", "networking.k8s.io", "extensions") {
		return nil
	}
	f := newFindings()
	for _, d := range policyDirections {
		peers := networkPolicyPeers(r, d, f, func(rulePath string) {
			f.violation("%s has no %s: it %s", rulePath, d.peers, d.admits)
		})
		var ranges []netip.Prefix
		var spelled []string
		for _, peer := range peers {
			cidr := stringAt(peer.props, "ipBlock", "cidr")
			cidr.path = peer.path + ".ipBlock.cidr"
			value, ok := judge(f, cidr)
			if !ok {
				continue
			}
			p, ok := parseRange(value)
			if !ok {
				f.violation("%s %q is not a CIDR", cidr.path, value)
				continue
			}
			if coversEveryAddress([]netip.Prefix{p}) {
				f.violation("%s %s %s", cidr.path, value, d.admits)
				continue
			}
			ranges, spelled = append(ranges, p), append(spelled, value)
		}
		// Ranges that each admit only part of the address space may still add
		// up to all of it.
		if coversEveryAddress(ranges) {
			f.violation("spec.%s ipBlocks together %s (%s)", d.rules, d.admits, strings.Join(spelled, ", "))
		}
	}
	return f.all()
}

// checkNetworkPolicyAllNamespaces: an empty namespaceSelector matches every
// namespace, previews and public-facing ones included; into a patient-data
// namespace that is exactly the exposure the pack exists to prevent.
func checkNetworkPolicyAllNamespaces(_ target, r analyzed) []finding {
	if !r.isKube("NetworkPolicy", "networking.k8s.io", "extensions") {
		return nil
	}
	f := newFindings()
	peers := networkPolicyPeers(r, policyDirections[0], f, func(string) {})
	for _, peer := range peers {
		selector := mapAt(peer.props, "namespaceSelector")
		selector.path = peer.path + ".namespaceSelector"
		value, ok := judge(f, selector)
		if !ok {
			continue
		}
		if empty, decided := selectorIsEmpty(value, selector.path, f); decided && empty {
			f.violation("%s is empty: it admits pods of every namespace", selector.path)
		} else if decided && selectsEveryNamespace(value, selector.path, f) {
			f.violation("%s names no namespace: its expressions match every namespace that lacks a label or has one every namespace has", selector.path)
		}
	}
	return f.all()
}

// selectorIsEmpty reports whether a label selector selects everything (no
// matchLabels and no matchExpressions); decided is false when it cannot tell.
func selectorIsEmpty(selector property.Map, path string, f findings) (empty, decided bool) {
	labels := mapAt(selector, "matchLabels")
	labels.path = path + ".matchLabels"
	expressions := listAt(selector, "matchExpressions")
	expressions.path = path + ".matchExpressions"
	labelValues, labelsKnown := judge(f, labels)
	expressionValues, expressionsKnown := judge(f, expressions)
	if (!labelsKnown && labels.state != absent) || (!expressionsKnown && expressions.state != absent) {
		return false, false
	}
	return labelValues.Len() == 0 && len(expressionValues) == 0, true
}

// namespaceNameLabel is set by Kubernetes on every namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// selectsEveryNamespace reports whether a namespace selector fails to narrow the
// namespaces down: without matchLabels, only an In expression (or Exists on a
// label not every namespace carries) picks namespaces; NotIn and DoesNotExist
// only leave some out, and Exists on the name label matches all of them. A
// selector that cannot be read is left to judge's findings.
func selectsEveryNamespace(selector property.Map, path string, f findings) bool {
	if labels := mapAt(selector, "matchLabels"); labels.state != absent {
		return labels.state == known && labels.value.Len() == 0 && !expressionsNarrow(selector, path, f)
	}
	return !expressionsNarrow(selector, path, f)
}

func expressionsNarrow(selector property.Map, path string, f findings) bool {
	expressions := listAt(selector, "matchExpressions")
	items, ok := judge(f, expressions)
	if !ok {
		return expressions.state != absent // unreadable: judged already, not reported twice
	}
	for _, item := range elements(items, path+".matchExpressions") {
		expression, ok := judge(f, item.asMap())
		if !ok {
			return true
		}
		operator, operatorKnown := judge(f, stringAt(expression, "operator"))
		key, keyKnown := judge(f, stringAt(expression, "key"))
		if !operatorKnown || !keyKnown {
			return true
		}
		switch {
		case strings.EqualFold(operator, "In"):
			return true
		case strings.EqualFold(operator, "Exists") && key != namespaceNameLabel:
			return true
		}
	}
	return false
}
