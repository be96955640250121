package main

import "strings"

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
	_, kind, isKube := r.objectType()
	switch {
	case r.Type == "pulumi:providers:kubernetes":
		// The provider's namespace is where objects without metadata.namespace go;
		// without one, they go to the kubeconfig context's namespace.
		namespace := stringAt(r.Props, "namespace")
		if namespace.state == absent {
			f.violation("the provider has no default namespace: objects without metadata.namespace would go to the kubeconfig context's namespace; set it to %q", own)
		}
		check(namespace, "the provider's default namespace")
	case r.isKube("Namespace", "core"):
		check(stringAt(r.Props, "metadata", "name"), "the namespace created")
	case !isKube || clusterScopedKinds[kind]:
	case strings.HasPrefix(r.Type, "kubernetes:helm.sh/") || strings.HasPrefix(r.Type, "kubernetes:yaml/"):
		// Charts and manifests carry their target namespace at the top level.
		check(stringAt(r.Props, "namespace"), "namespace")
	default:
		namespace := stringAt(r.Props, "metadata", "namespace")
		if namespace.state == absent && !r.isPatch() {
			f.violation("metadata.namespace is not set: the object would go to whatever namespace its provider or the kubeconfig names; set it to %q", own)
		}
		check(namespace, "metadata.namespace")
	}
	return f.all()
}

// clusterScopedKinds have no namespace; other rules judge the ones that matter
// (ClusterRoleBinding, PersistentVolume, Namespace).
var clusterScopedKinds = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"StorageClass": true, "CustomResourceDefinition": true, "IngressClass": true, "PriorityClass": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "APIService": true,
	"CSIDriver": true, "RuntimeClass": true, "ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"GatewayClass": true,
}

var namespacePodSecurityRule = resourceRule{
	name: "kubernetes-namespace-restricted-pod-security",
	description: "Every namespace a stack creates or changes enforces the restricted Pod Security standard " +
		"(label pod-security.kubernetes.io/enforce: restricted, enforce-version latest or unset).",
	scope: everywhere,
	check: checkNamespacePodSecurity,
}

const (
	enforceLabel        = "pod-security.kubernetes.io/enforce"
	enforceVersionLabel = "pod-security.kubernetes.io/enforce-version"
)

// checkNamespacePodSecurity: admission is the lock behind the pack's own pod
// rules, for whatever reaches the cluster without a preview (kubectl, an
// operator, a Helm hook). A namespace that relaxes it, or pins it to an old
// version of the standard, lets privileged pods onto the nodes that run
// production. A patch that leaves the label alone changes nothing.
func checkNamespacePodSecurity(_ target, r analyzed) []finding {
	if !r.isKube("Namespace", "core") {
		return nil
	}
	f := newFindings()
	enforce := stringAt(r.Props, "metadata", "labels", enforceLabel)
	enforce.path = "label " + enforceLabel
	switch value, ok := judge(f, enforce); {
	case enforce.state == absent && !r.isPatch():
		f.violation("%s is not set: the cluster's default (possibly privileged) applies; set it to restricted", enforce.path)
	case ok && value != "restricted":
		f.violation("%s is %q: only restricted keeps pods off the nodes' privileges", enforce.path, value)
	}
	version := stringAt(r.Props, "metadata", "labels", enforceVersionLabel)
	version.path = "label " + enforceVersionLabel
	if value, ok := judge(f, version); ok && value != "latest" {
		f.violation("%s is %q: an old version of the standard allows what the current one forbids; use latest or leave it unset", version.path, value)
	}
	return f.all()
}
