package main

var opaqueObjectsRule = resourceRule{
	name: "kubernetes-no-opaque-objects",
	description: "No Helm v3 Release and no server-side apply patch (*Patch kinds): " +
		"the pack cannot see the objects they create or change.",
	scope: sensitiveOnly,
	check: checkOpaqueObjects,
}

// checkOpaqueObjects: every other rule judges the objects Pulumi registers. A
// Helm v3 Release renders its chart inside the provider, and a *Patch changes a
// live object the stack does not hold in full; on production and staging nothing
// may pass unseen. (Helm v4 Chart and yaml/v2 register their objects, which the
// rules do see.)
func checkOpaqueObjects(_ target, r analyzed) []finding {
	group, kind, ok := r.kubeType()
	if !ok {
		return nil
	}
	f := newFindings()
	switch {
	case group == "helm.sh" && kind == "Release":
		f.violation("a Helm v3 Release deploys objects this pack cannot see; use a helm.sh/v4 Chart, whose objects it checks")
	case r.isPatch():
		f.violation("a %s changes an object this pack cannot see in full; declare the whole object instead", kind)
	}
	return f.all()
}
