package main

import "strings"

var serviceExposureRule = resourceRule{
	name: "kubernetes-service-no-external-exposure",
	description: "No Service of type LoadBalancer or NodePort, no Service externalIPs, and no ExternalName Service that aliases " +
		"anything but a Service of the stack's own namespace: only the ingress controller exposes workloads.",
	scope: everywhere,
	check: checkServiceExposure,
}

// checkServiceExposure: a LoadBalancer, a NodePort (a port on every node, which
// also run production's pods) or externalIPs each bypass the ingress controller
// and its allow-list.
func checkServiceExposure(t target, r analyzed) []finding {
	if !r.isKube("Service", "core") {
		return nil
	}
	f := newFindings()
	if kind, ok := judge(f, stringAt(r.Props, "spec", "type")); ok {
		switch {
		case strings.EqualFold(kind, "LoadBalancer") || strings.EqualFold(kind, "NodePort"):
			f.violation("spec.type is %s: it exposes the Service outside the cluster", kind)
		case strings.EqualFold(kind, "ExternalName"):
			checkExternalName(t, r, f)
		}
	}
	if ips, ok := judge(f, listAt(r.Props, "spec", "externalIPs")); ok && len(ips) > 0 {
		addresses, _ := stringsOf(ips)
		f.violation("spec.externalIPs routes outside addresses to the Service (%s)", strings.Join(addresses, ", "))
	}
	return f.all()
}

// clusterServiceSuffixes end the in-cluster DNS names of Services.
var clusterServiceSuffixes = []string{".svc", ".svc.cluster.local"}

// checkExternalName: an ExternalName Service is a DNS alias that the ingress
// controller and every client follow. Aliasing another namespace's Service
// (production's API, say) lets a stack publish it through its own Ingress on
// the shared controller; aliasing a name outside the cluster makes the
// controller a proxy to anywhere. Only an alias to a Service of the stack's own
// namespace is allowed.
func checkExternalName(t target, r analyzed, f findings) {
	name, ok := judge(f, stringAt(r.Props, "spec", "externalName"))
	if !ok {
		return
	}
	host := strings.ToLower(strings.TrimSuffix(name, "."))
	own, hasOwn := t.ownNamespace()
	for _, suffix := range clusterServiceSuffixes {
		rest, inCluster := strings.CutSuffix(host, suffix)
		if !inCluster {
			continue
		}
		_, namespace, qualified := strings.Cut(rest, ".")
		if qualified && hasOwn && namespace == own {
			return
		}
		f.violation("spec.externalName %q aliases a Service of namespace %q: an ExternalName may only alias a Service of this stack's namespace", name, namespace)
		return
	}
	f.violation("spec.externalName %q points outside the cluster: an ExternalName may only alias a Service of this stack's namespace (<service>.%s.svc)", name, own)
}
