package main

var ownNamespaceRule = resourceRule{
	name: "kubernetes-object-in-own-namespace",
	description: "Every Kubernetes object of a stack lives in that environment's own namespace " +
		"(data-platform-<environment>; previews share data-platform-previews).",
	scope: everywhere,
	check: checkOwnNamespace,
}

// checkOwnNamespace: namespaces are the boundary every other rule relies on
// (quota, default deny, pod security labels). An object that one stack places
// in another environment's namespace, say a NetworkPolicy a preview drops into
// production's namespace, is judged there by nobody.
func checkOwnNamespace(t target, r analyzed) []finding {
	f := newFindings()
	own, known := t.ownNamespace()
	check := func(l lookup[string], what string) {
		value, ok := judge(f, l)
		switch {
		case !ok:
		case !known:
			f.violation("%s is %q, but stack %q is not one of the platform's environments, so no namespace is its own", what, value, t.stack)
		case value != own:
			f.violation("%s is %q, not this stack's namespace %q", what, value, own)
		}
	}
	switch {
	case r.Type == "pulumi:providers:kubernetes":
		// The provider's namespace is where objects without metadata.namespace go.
		check(stringAt(r.Props, "namespace"), "the provider's default namespace")
	case r.isKube("Namespace", "core"):
		check(stringAt(r.Props, "metadata", "name"), "the namespace created")
	default:
		if _, _, isKube := r.kubeType(); isKube {
			check(stringAt(r.Props, "metadata", "namespace"), "metadata.namespace")
		}
	}
	return f.all()
}
