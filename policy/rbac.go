package main

import (
	"slices"
	"strings"
)

var rbacRule = resourceRule{
	name: "kubernetes-rbac-no-broad-grants",
	description: "No ClusterRoleBinding; no binding to anonymous, all authenticated users or all service accounts, or to a " +
		"service account of another namespace; no role with wildcard verbs, resources or API groups, or escalate, bind or impersonate.",
	scope: everywhere,
	check: checkRBAC,
}

const rbacGroup = "rbac.authorization.k8s.io"

// broadSubjects are the groups and users that stand for "everyone" of a kind.
var broadSubjects = map[string]string{
	"Group/system:unauthenticated": "every anonymous request",
	"Group/system:authenticated":   "every authenticated user, including every other environment's service accounts",
	"Group/system:serviceaccounts": "every service account of the cluster",
	"User/system:anonymous":        "every anonymous request",
}

// escalatingVerbs let the holder grant itself more than the role says.
var escalatingVerbs = []string{"escalate", "bind", "impersonate"}

// checkRBAC: all environments share one cluster. A ClusterRoleBinding grants in
// every namespace, patient-data namespaces included; a binding to a broad group
// hands the grant to every other environment's workloads; a binding of another
// namespace's service account lets that environment act inside this one (and a
// preview's inside production's); wildcard roles grant what nobody reviewed.
func checkRBAC(t target, r analyzed) []finding {
	f := newFindings()
	switch {
	case r.isKube("ClusterRoleBinding", rbacGroup):
		f.violation("a ClusterRoleBinding grants in every namespace, patient-data namespaces included; use a RoleBinding in %s", namespaceOr(t, "the stack's namespace"))
		checkSubjects(t, r, f)
	case r.isKube("RoleBinding", rbacGroup):
		checkSubjects(t, r, f)
	case r.isKube("Role", rbacGroup) || r.isKube("ClusterRole", rbacGroup):
		checkRoleRules(r, f)
	}
	return f.all()
}

func namespaceOr(t target, fallback string) string {
	if own, ok := t.ownNamespace(); ok {
		return own
	}
	return fallback
}

func checkSubjects(t target, r analyzed, f findings) {
	subjects, ok := judge(f, listAt(r.Props, "subjects"))
	if !ok {
		return
	}
	own, hasOwn := t.ownNamespace()
	for _, item := range elements(subjects, "subjects") {
		subject, ok := judge(f, item.asMap())
		if !ok {
			continue
		}
		kind, kindOK := judge(f, stringAt(subject, "kind"))
		name, nameOK := judge(f, stringAt(subject, "name"))
		if !kindOK || !nameOK {
			continue
		}
		if who, broad := broadSubjects[kind+"/"+name]; broad {
			f.violation("%s binds %s %q: that is %s", item.path, kind, name, who)
			continue
		}
		if kind == "Group" {
			if namespace, ok := strings.CutPrefix(name, "system:serviceaccounts:"); ok && (!hasOwn || namespace != own) {
				f.violation("%s binds every service account of namespace %q, not of this stack's namespace", item.path, namespace)
			}
		}
		if kind == "ServiceAccount" {
			namespace := stringAt(subject, "namespace")
			namespace.path = item.path + ".namespace"
			if value, ok := judge(f, namespace); ok && (!hasOwn || value != own) {
				f.violation("%s binds service account %s of namespace %q: grants stay within this stack's namespace", item.path, name, value)
			}
		}
	}
}

func checkRoleRules(r analyzed, f findings) {
	rules, ok := judge(f, listAt(r.Props, "rules"))
	if !ok {
		return
	}
	for _, item := range elements(rules, "rules") {
		rule, ok := judge(f, item.asMap())
		if !ok {
			continue
		}
		for _, field := range []string{"verbs", "resources", "apiGroups", "nonResourceURLs"} {
			values := listAt(rule, field)
			values.path = item.path + "." + field
			list, ok := judge(f, values)
			if !ok {
				continue
			}
			names, complete := stringsOf(list)
			if !complete {
				f.undecided(values.path)
			}
			if slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, "*") }) {
				f.violation("%s has a wildcard: it grants what nobody reviewed, including what later API versions add", values.path)
			}
			if field == "verbs" {
				for _, verb := range names {
					if slices.Contains(escalatingVerbs, strings.ToLower(verb)) {
						f.violation("%s grants %s: the holder can grant itself more than this role", values.path, verb)
					}
				}
			}
		}
	}
}
