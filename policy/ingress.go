package main

import (
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/virdx/vxplatform-infra/stacks"
)

// Annotations through which ingress-nginx enforces a source allow-list; newer
// controllers accept the second name too.
var sourceRangeAnnotations = []string{
	"nginx.ingress.kubernetes.io/whitelist-source-range",
	"nginx.ingress.kubernetes.io/allowlist-source-range",
}

const legacyIngressClassAnnotation = "kubernetes.io/ingress.class"

var ingressInternalOnlyRule = resourceRule{
	name: "kubernetes-ingress-internal-only",
	description: "An Ingress uses the internal ingress class and a source allow-list that does not admit every address; " +
		"Gateway API routes are not used.",
	scope: sensitiveOnly,
	check: checkIngressInternalOnly,
}

var ingressTLSNoWildcardRule = resourceRule{
	name:        "kubernetes-ingress-tls-no-wildcard-host",
	description: "Every Ingress host is explicit (no wildcard, no catch-all) and served over TLS.",
	scope:       everywhere,
	check:       checkIngressTLSNoWildcard,
}

var ingressOwnHostnameRule = resourceRule{
	name: "kubernetes-ingress-own-hostname",
	description: "An Ingress claims only hostnames of its own environment: under its environment's hostname " +
		"(<environment>." + stacks.BaseDomain + ", pr-<N>.previews." + stacks.BaseDomain + "); outside " + stacks.BaseDomain +
		" only on production, staging and public.",
	scope: everywhere,
	check: checkIngressOwnHostname,
}

func isIngress(r analyzed) bool {
	return r.isKube("Ingress", "networking.k8s.io", "extensions")
}

// isGatewayAPI matches every Gateway API kind (Gateway, HTTPRoute, GRPCRoute,
// TLSRoute, TCPRoute, UDPRoute, ...), registered as custom resources.
func isGatewayAPI(r analyzed) (string, bool) {
	group, kind, ok := r.kubeType()
	return kind, ok && group == "gateway.networking.k8s.io"
}

// checkIngressInternalOnly: production and staging may be reachable only from
// inside the company network. The internal class is served by a controller that
// is not internet-facing; the allow-list is the second lock. Gateway API objects
// are refused outright: the pack cannot check an equivalent of either lock there.
func checkIngressInternalOnly(_ target, r analyzed) []finding {
	f := newFindings()
	if kind, ok := isGatewayAPI(r); ok {
		f.violation("Gateway API %s objects are not allowed: production and staging are published only through an Ingress of class %q with a source allow-list",
			kind, stacks.InternalIngressClass)
		return f.all()
	}
	if !isIngress(r) {
		return nil
	}
	checkIngressClass(r, f)
	checkSourceAllowList(r, f)
	return f.all()
}

func checkIngressClass(r analyzed, f findings) {
	class := stringAt(r.Props, "spec", "ingressClassName")
	if class.state == absent {
		class = stringAt(r.Props, "metadata", "annotations", legacyIngressClassAnnotation)
	}
	value, ok := judge(f, class)
	switch {
	case class.state == absent:
		f.violation("has no ingress class: the cluster's default class may be internet-facing; use %q", stacks.InternalIngressClass)
	case ok && value != stacks.InternalIngressClass:
		f.violation("%s is %q: only class %q is reachable from inside the company network alone", class.path, value, stacks.InternalIngressClass)
	}
}

func checkSourceAllowList(r analyzed, f findings) {
	annotations := mapAt(r.Props, "metadata", "annotations")
	values, ok := judge(f, annotations)
	if !ok && annotations.state != absent {
		return
	}
	found := false
	for _, name := range sourceRangeAnnotations {
		annotation := stringAt(values, name)
		annotation.path = "annotation " + name
		value, ok := judge(f, annotation)
		if annotation.state != absent {
			found = true
		}
		if !ok {
			continue
		}
		var cidrs []string
		for _, item := range strings.Split(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				cidrs = append(cidrs, item)
			}
		}
		if len(cidrs) == 0 {
			f.violation("annotation %s is empty: it admits every address", name)
		}
		var ranges []netip.Prefix
		for _, cidr := range cidrs {
			p, ok := parseRange(cidr)
			if !ok {
				f.violation("annotation %s: %q is not a CIDR", name, cidr)
				continue
			}
			ranges = append(ranges, p)
		}
		if coversEveryAddress(ranges) {
			f.violation("source allow-list admits every address (%s)", strings.Join(everyoneRanges(ranges), ","))
		}
	}
	if !found {
		f.violation("has no source allow-list (annotation %s)", sourceRangeAnnotations[0])
	}
}

// checkIngressTLSNoWildcard: ingress controllers are shared between environments,
// so a wildcard or host-less rule (or a default backend) can capture requests
// meant for another environment's hostname; a host without TLS sends sessions in
// the clear.
func checkIngressTLSNoWildcard(_ target, r analyzed) []finding {
	if !isIngress(r) {
		return nil
	}
	f := newFindings()
	for _, field := range []string{"defaultBackend", "backend"} {
		if backend := mapAt(r.Props, "spec", field); backend.state != absent {
			f.violation("spec.%s serves every hostname", field)
		}
	}
	var hosts []string
	if rules, ok := judge(f, listAt(r.Props, "spec", "rules")); ok {
		for _, rule := range elements(rules, "spec.rules") {
			props, ok := judge(f, rule.asMap())
			if !ok {
				continue
			}
			host := stringAt(props, "host")
			host.path = rule.path + ".host"
			value, ok := judge(f, host)
			switch {
			case host.state == absent || (ok && value == ""):
				f.violation("%s has no host: it matches every hostname", rule.path)
			case ok && strings.Contains(value, "*"):
				f.violation("%s %q is a wildcard", host.path, value)
			case ok:
				hosts = append(hosts, value)
			}
		}
	}
	covered, decidable := tlsHosts(r, f)
	if !decidable {
		return f.all()
	}
	for _, host := range hosts {
		if !coversHost(covered, host) {
			f.violation("host %q is not covered by spec.tls", host)
		}
	}
	return f.all()
}

// tlsHosts lists the hosts spec.tls covers; decidable is false when some of them
// are not known.
func tlsHosts(r analyzed, f findings) (hosts []string, decidable bool) {
	tls := listAt(r.Props, "spec", "tls")
	entries, ok := judge(f, tls)
	if !ok {
		return nil, tls.state == absent
	}
	decidable = true
	for _, entry := range elements(entries, "spec.tls") {
		props, ok := judge(f, entry.asMap())
		if !ok {
			decidable = false
			continue
		}
		list := listAt(props, "hosts")
		list.path = entry.path + ".hosts"
		values, ok := judge(f, list)
		if !ok {
			decidable = decidable && list.state == absent
			continue
		}
		names, complete := stringsOf(values)
		if !complete {
			f.undecided(list.path)
			decidable = false
		}
		hosts = append(hosts, names...)
	}
	return hosts, decidable
}

// coversHost matches a host against TLS hosts, where "*.example.org" covers
// exactly one label.
func coversHost(tlsHosts []string, host string) bool {
	for _, h := range tlsHosts {
		if h == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			if label, rest, found := strings.Cut(host, "."); found && label != "" && rest == suffix {
				return true
			}
		}
	}
	return false
}

// checkIngressOwnHostname: the ingress controllers are shared, and a host rule
// routes every request for that host, on every path, to whoever claimed it. A
// preview claiming production's hostname (or a path under it) would receive
// production's sessions. Every stack may claim its own hostname and names under
// it; the platform's other names belong to other environments. Names outside the
// platform's domain are custom domains of the long-lived environments, which
// previews never claim.
func checkIngressOwnHostname(t target, r analyzed) []finding {
	if !isIngress(r) {
		return nil
	}
	f := newFindings()
	own := stacks.DefaultHostname(t.identity)
	claim := func(path, host string) {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		env, inTree := stacks.HostnameEnvironment(host)
		switch {
		case host == "":
		case t.kind == "":
			f.violation("%s %q: stack %q is not one of the platform's environments, so no hostname is its own", path, host, t.stack)
		case inTree && env.Stack == t.stack:
		case inTree || host == stacks.BaseDomain || strings.HasSuffix(host, "."+stacks.BaseDomain):
			f.violation("%s %q belongs to another environment: this stack may claim only %s and names under it", path, host, own)
		case isPreviewKind(t.kind):
			f.violation("%s %q is outside %s: a preview may claim only %s and names under it", path, host, stacks.BaseDomain, own)
		}
	}
	eachIngressEntry(r, f, "rules", func(path string, props property.Map) {
		host := stringAt(props, "host")
		host.path = path + ".host"
		if value, ok := judge(f, host); ok {
			claim(host.path, value)
		}
	})
	eachIngressEntry(r, f, "tls", func(path string, props property.Map) {
		hosts := listAt(props, "hosts")
		hosts.path = path + ".hosts"
		if values, ok := judge(f, hosts); ok {
			names, _ := stringsOf(values)
			for _, name := range names {
				claim(hosts.path, name)
			}
		}
	})
	return f.all()
}

// eachIngressEntry visits every readable entry of spec.<field> (rules, tls).
func eachIngressEntry(r analyzed, f findings, field string, visit func(path string, props property.Map)) {
	entries, ok := judge(f, listAt(r.Props, "spec", field))
	if !ok {
		return
	}
	for _, entry := range elements(entries, "spec."+field) {
		if props, ok := judge(f, entry.asMap()); ok {
			visit(entry.path, props)
		}
	}
}
