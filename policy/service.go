package main

import "strings"

var serviceExposureRule = resourceRule{
	name: "kubernetes-service-no-external-exposure",
	description: "No Service of type LoadBalancer or NodePort and no Service externalIPs: " +
		"only the ingress controller exposes workloads.",
	scope: everywhere,
	check: checkServiceExposure,
}

// checkServiceExposure: a LoadBalancer, a NodePort (a port on every node, which
// also run production's pods) or externalIPs each bypass the ingress controller
// and its allow-list.
func checkServiceExposure(_ target, r analyzed) []finding {
	if !r.isKube("Service", "core") {
		return nil
	}
	f := newFindings()
	if kind, ok := judge(f, stringAt(r.Props, "spec", "type")); ok &&
		(strings.EqualFold(kind, "LoadBalancer") || strings.EqualFold(kind, "NodePort")) {
		f.violation("spec.type is %s: it exposes the Service outside the cluster", kind)
	}
	if ips, ok := judge(f, listAt(r.Props, "spec", "externalIPs")); ok && len(ips) > 0 {
		addresses, _ := stringsOf(ips)
		f.violation("spec.externalIPs routes outside addresses to the Service (%s)", strings.Join(addresses, ", "))
	}
	return f.all()
}
