package main

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

// The families of issue #8: resources that reach an exposure the first catalog
// blocks by another spelling, objects no rule judged, and legitimate
// configurations the pack must not block. Each family has a blocked case and,
// where a legitimate configuration is near it, its twin, which must add nothing.
func init() { catalog = append(catalog, hardeningCatalog...) }

func ipBlock(cidr string) property.Value {
	return obj(map[string]property.Value{"ipBlock": obj(map[string]property.Value{"cidr": str(cidr)})})
}

func expression(key, operator string, values ...string) property.Value {
	fields := map[string]property.Value{"key": str(key), "operator": str(operator)}
	if len(values) > 0 {
		var items []property.Value
		for _, v := range values {
			items = append(items, str(v))
		}
		fields["values"] = list(items...)
	}
	return obj(fields)
}

func namespaceSelector(expressions ...property.Value) property.Value {
	return obj(map[string]property.Value{"matchExpressions": list(expressions...)})
}

var hardeningCatalog = []misconfiguration{
	// --- Patches are judged like the objects they patch.
	{
		name:  "Service patch turning the API into a LoadBalancer",
		extra: addServicePatch,
		runs: []expectedRun{
			on("production",
				want("kubernetes-service-no-external-exposure", "spec.type is LoadBalancer: it exposes the Service outside the cluster"),
				want("kubernetes-no-opaque-objects", "a ServicePatch changes an object this pack cannot see in full; declare the whole object instead")),
			on("pr-123",
				want("kubernetes-service-no-external-exposure", "spec.type is LoadBalancer: it exposes the Service outside the cluster"),
				want("kubernetes-no-opaque-objects", "a ServicePatch changes an object this pack cannot see in full; declare the whole object instead")),
		},
	},

	// --- ExternalName Services.
	{
		// Production's API aliased: from a preview it is published through the
		// preview's own Ingress; in production it is production's own Service.
		name:  "ExternalName alias of production's API",
		extra: addExternalName("data-platform-api." + stacks.NamespaceOf(stacks.KindProduction) + ".svc.cluster.local"),
		runs: []expectedRun{
			on("pr-123", want("kubernetes-service-no-external-exposure", `spec.externalName "data-platform-api.data-platform-production.svc.cluster.local" aliases a Service of namespace "data-platform-production": an ExternalName may only alias a Service of this stack's namespace`)),
			on("public", want("kubernetes-service-no-external-exposure", `spec.externalName "data-platform-api.data-platform-production.svc.cluster.local" aliases a Service of namespace "data-platform-production": an ExternalName may only alias a Service of this stack's namespace`)),
			on("production"),
		},
	},
	{
		name:  "ExternalName pointing outside the cluster",
		extra: addExternalName("db.example.com"),
		runs: []expectedRun{
			on("staging", want("kubernetes-service-no-external-exposure", `spec.externalName "db.example.com" points outside the cluster: an ExternalName may only alias a Service of this stack's namespace (<service>.{namespace}.svc)`)),
			on("public", want("kubernetes-service-no-external-exposure", `spec.externalName "db.example.com" points outside the cluster: an ExternalName may only alias a Service of this stack's namespace (<service>.{namespace}.svc)`)),
		},
	},

	// --- Address ranges, judged by what they cover together.
	{
		name:    "Ingress allow-list of two halves of IPv4",
		config:  internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress", set("metadata.annotations.[nginx.ingress.kubernetes.io/whitelist-source-range]", str("0.0.0.0/1, 128.0.0.0/1")))},
		runs: []expectedRun{
			on("staging", want("kubernetes-ingress-internal-only", "source allow-list admits every address (0.0.0.0/1,128.0.0.0/1)")),
			on("public", want("kubernetes-ingress-internal-only", "source allow-list admits every address (0.0.0.0/1,128.0.0.0/1)")),
		},
	},
	{
		name:    "Ingress allow-list of all IPv4 spelled as IPv4-mapped IPv6",
		config:  internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress", set("metadata.annotations.[nginx.ingress.kubernetes.io/allowlist-source-range]", str("::ffff:0.0.0.0/96")))},
		runs: []expectedRun{
			on("production", want("kubernetes-ingress-internal-only", "source allow-list admits every address (0.0.0.0/0)")),
			on("public", want("kubernetes-ingress-internal-only", "source allow-list admits every address (0.0.0.0/0)")),
		},
	},
	{
		name: "API reachable from two halves of IPv6",
		changes: []resourceChange{change(netpolType, "data-platform-traffic-api",
			set("spec.ingress.0.from", list(ipBlock("::/1"), ipBlock("8000::/1"))))},
		runs: []expectedRun{
			on("production", want("kubernetes-networkpolicy-no-open-peers", "spec.ingress ipBlocks together admits every source (::/1, 8000::/1)")),
			on("pr-123", want("kubernetes-networkpolicy-no-open-peers", "spec.ingress ipBlocks together admits every source (::/1, 8000::/1)")),
		},
	},
	{
		// The legitimate twin: two halves of a private range are that range.
		name: "API reachable from two halves of 10.0.0.0/8",
		changes: []resourceChange{change(netpolType, "data-platform-traffic-api",
			set("spec.ingress.0.from", list(ipBlock("10.0.0.0/9"), ipBlock("10.128.0.0/9"))))},
		runs: []expectedRun{on("production"), on("public")},
	},

	// --- Hostnames of the stack's own environment only.
	{
		name:   "preview claiming production's hostname",
		config: []string{"ingress", "true"},
		changes: []resourceChange{change(ingressType, "data-platform-ingress",
			set("spec.rules.0.host", str("production.data.virdx.dev")), set("spec.tls.0.hosts.0", str("production.data.virdx.dev")))},
		runs: []expectedRun{
			on("pr-123",
				want("kubernetes-ingress-own-hostname", `spec.rules[0].host "production.data.virdx.dev" belongs to another environment: this stack may claim only {host} and names under it`),
				want("kubernetes-ingress-own-hostname", `spec.tls[0].hosts "production.data.virdx.dev" belongs to another environment: this stack may claim only {host} and names under it`)),
			on("public",
				want("kubernetes-ingress-own-hostname", `spec.rules[0].host "production.data.virdx.dev" belongs to another environment: this stack may claim only {host} and names under it`),
				want("kubernetes-ingress-own-hostname", `spec.tls[0].hosts "production.data.virdx.dev" belongs to another environment: this stack may claim only {host} and names under it`)),
		},
	},
	{
		name:   "preview claiming another preview's hostname",
		config: []string{"ingress", "true"},
		changes: []resourceChange{change(ingressType, "data-platform-ingress",
			set("spec.rules.0.host", str("pr-7.previews.data.virdx.dev")), set("spec.tls.0.hosts.0", str("pr-7.previews.data.virdx.dev")))},
		runs: []expectedRun{
			on("pr-123",
				want("kubernetes-ingress-own-hostname", `spec.rules[0].host "pr-7.previews.data.virdx.dev" belongs to another environment: this stack may claim only {host} and names under it`),
				want("kubernetes-ingress-own-hostname", `spec.tls[0].hosts "pr-7.previews.data.virdx.dev" belongs to another environment: this stack may claim only {host} and names under it`)),
		},
	},
	{
		name:   "preview claiming a custom domain",
		config: []string{"ingress", "true"},
		changes: []resourceChange{change(ingressType, "data-platform-ingress",
			set("spec.rules.0.host", str("data.virdx.com")), set("spec.tls.0.hosts.0", str("data.virdx.com")))},
		runs: []expectedRun{
			on("pr-123",
				want("kubernetes-ingress-own-hostname", `spec.rules[0].host "data.virdx.com" is outside data.virdx.dev: a preview may claim only {host} and names under it`),
				want("kubernetes-ingress-own-hostname", `spec.tls[0].hosts "data.virdx.com" is outside data.virdx.dev: a preview may claim only {host} and names under it`)),
			on("public"),
		},
	},
	{
		name:   "a name under the stack's own hostname",
		config: []string{"ingress", "true"},
		changes: []resourceChange{change(ingressType, "data-platform-ingress",
			replaceText("spec.rules.0.host", "{host}", "files.{host}"), replaceText("spec.tls.0.hosts.0", "{host}", "files.{host}"))},
		runs: []expectedRun{on("pr-123"), on("public")},
	},

	// --- Pod security to the full restricted standard.
	{
		name:    "API container with an Unconfined seccomp profile",
		changes: []resourceChange{change(deploymentType, "data-platform-api", set(deploymentPod+".containers.0.securityContext.seccompProfile", obj(map[string]property.Value{"type": str("Unconfined")})))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-restricted-security-context", `container "api": securityContext.seccompProfile.type is "Unconfined": only RuntimeDefault or Localhost confine system calls`)),
			on("pr-123", want("kubernetes-container-restricted-security-context", `container "api": securityContext.seccompProfile.type is "Unconfined": only RuntimeDefault or Localhost confine system calls`)),
		},
	},
	{
		name:    "backup pod without a seccomp profile",
		changes: []resourceChange{change(cronJobType, "data-platform-backup-backup", del(cronJobPod+".securityContext.seccompProfile"))},
		runs: []expectedRun{
			on("staging", want("kubernetes-container-restricted-security-context", `container "backup": seccompProfile.type is set neither for the container nor for the pod: use RuntimeDefault`)),
			on("public", want("kubernetes-container-restricted-security-context", `container "backup": seccompProfile.type is set neither for the container nor for the pod: use RuntimeDefault`)),
		},
	},
	{
		name:    "frontend container keeping its capabilities",
		changes: []resourceChange{change(deploymentType, "data-platform-frontend", del(deploymentPod+".containers.0.securityContext.capabilities.drop"))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-restricted-security-context", `container "frontend": securityContext.capabilities.drop does not include ALL`)),
			on("public", want("kubernetes-container-restricted-security-context", `container "frontend": securityContext.capabilities.drop does not include ALL`)),
		},
	},
	{
		name:  "PersistentVolume on a node's directory",
		extra: addHostPathVolume,
		runs: []expectedRun{
			on("staging", want("kubernetes-pod-no-host-access", "spec.hostPath: the PersistentVolume mounts the node's filesystem into whatever pod claims it")),
			on("pr-123", want("kubernetes-pod-no-host-access", "spec.hostPath: the PersistentVolume mounts the node's filesystem into whatever pod claims it")),
		},
	},
	{
		name: "Postgres pod with an NFS volume",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres", set(deploymentPod+".volumes.+",
			obj(map[string]property.Value{"name": str("share"), "nfs": obj(map[string]property.Value{"server": str("10.0.0.5"), "path": str("/")})})))},
		runs: []expectedRun{
			on("production", want("kubernetes-pod-no-host-access", `pod: volume "share" is of type nfs, which the restricted pod security standard does not allow`)),
			on("public", want("kubernetes-pod-no-host-access", `pod: volume "share" is of type nfs, which the restricted pod security standard does not allow`)),
		},
	},

	// --- RBAC, namespace labels, objects without a namespace.
	{
		name:  "RoleBinding to every authenticated user",
		extra: addRoleBinding("Group", "system:authenticated", ""),
		runs: []expectedRun{
			on("production", want("kubernetes-rbac-no-broad-grants", `subjects[0] binds Group "system:authenticated": that is every authenticated user, including every other environment's service accounts`)),
			on("pr-123", want("kubernetes-rbac-no-broad-grants", `subjects[0] binds Group "system:authenticated": that is every authenticated user, including every other environment's service accounts`)),
		},
	},
	{
		name:  "RoleBinding of a service account of production's namespace",
		extra: addRoleBinding("ServiceAccount", "default", stacks.NamespaceOf(stacks.KindProduction)),
		runs: []expectedRun{
			on("pr-123", want("kubernetes-rbac-no-broad-grants", `subjects[0] binds service account default of namespace "data-platform-production": grants stay within this stack's namespace`)),
			on("staging", want("kubernetes-rbac-no-broad-grants", `subjects[0] binds service account default of namespace "data-platform-production": grants stay within this stack's namespace`)),
			on("production"),
		},
	},
	{
		name:  "ClusterRoleBinding",
		extra: addClusterRoleBinding,
		runs: []expectedRun{
			on("production", want("kubernetes-rbac-no-broad-grants", "a ClusterRoleBinding grants in every namespace, patient-data namespaces included; use a RoleBinding in {namespace}")),
			on("public", want("kubernetes-rbac-no-broad-grants", "a ClusterRoleBinding grants in every namespace, patient-data namespaces included; use a RoleBinding in {namespace}")),
		},
	},
	{
		name:  "Role with wildcard verbs",
		extra: addRole("*"),
		runs: []expectedRun{
			on("staging", want("kubernetes-rbac-no-broad-grants", "rules[0].verbs has a wildcard: it grants what nobody reviewed, including what later API versions add")),
			on("pr-123", want("kubernetes-rbac-no-broad-grants", "rules[0].verbs has a wildcard: it grants what nobody reviewed, including what later API versions add")),
		},
	},
	{
		name:  "Role reading ConfigMaps",
		extra: addRole("get", "list"),
		runs:  []expectedRun{on("production"), on("pr-123")},
	},
	{
		name:    "namespace relaxed to the baseline pod security standard",
		changes: []resourceChange{change(namespaceType, "data-platform-namespace", set("metadata.labels.[pod-security.kubernetes.io/enforce]", str("baseline")))},
		runs: []expectedRun{
			on("production", want("kubernetes-namespace-restricted-pod-security", `label pod-security.kubernetes.io/enforce is "baseline": only restricted keeps pods off the nodes' privileges`)),
			on("previews", want("kubernetes-namespace-restricted-pod-security", `label pod-security.kubernetes.io/enforce is "baseline": only restricted keeps pods off the nodes' privileges`)),
		},
	},
	{
		name:    "API Deployment without a namespace",
		changes: []resourceChange{change(deploymentType, "data-platform-api", del("metadata.namespace"))},
		runs: []expectedRun{
			on("staging", want("kubernetes-object-in-own-namespace", `metadata.namespace is not set: the object would go to whatever namespace its provider or the kubeconfig names; set it to "{namespace}"`)),
			on("pr-123", want("kubernetes-object-in-own-namespace", `metadata.namespace is not set: the object would go to whatever namespace its provider or the kubeconfig names; set it to "{namespace}"`)),
		},
	},
	{
		name:    "Kubernetes provider without a default namespace",
		changes: []resourceChange{change(k8sProviderType, "data-platform-kubernetes", del("namespace"))},
		runs: []expectedRun{
			on("production", want("kubernetes-object-in-own-namespace", `the provider has no default namespace: objects without metadata.namespace would go to the kubeconfig context's namespace; set it to "{namespace}"`)),
			on("public", want("kubernetes-object-in-own-namespace", `the provider has no default namespace: objects without metadata.namespace would go to the kubeconfig context's namespace; set it to "{namespace}"`)),
		},
	},

	// --- Namespace selectors that match every namespace by expression.
	{
		name: "Postgres reachable from every namespace by an Exists expression",
		changes: []resourceChange{change(netpolType, "data-platform-traffic-postgres",
			set("spec.ingress.0.from.0.namespaceSelector", namespaceSelector(expression("kubernetes.io/metadata.name", "Exists"))))},
		runs: []expectedRun{
			on("production", want("kubernetes-networkpolicy-no-all-namespaces-ingress", "spec.ingress[0].from[0].namespaceSelector names no namespace: its expressions match every namespace that lacks a label or has one every namespace has")),
			on("public", want("kubernetes-networkpolicy-no-all-namespaces-ingress", "spec.ingress[0].from[0].namespaceSelector names no namespace: its expressions match every namespace that lacks a label or has one every namespace has")),
		},
	},
	{
		name: "Postgres reachable from every namespace but one",
		changes: []resourceChange{change(netpolType, "data-platform-traffic-postgres",
			set("spec.ingress.0.from.0.namespaceSelector", namespaceSelector(expression("kubernetes.io/metadata.name", "NotIn", "kube-system"))))},
		runs: []expectedRun{
			on("staging", want("kubernetes-networkpolicy-no-all-namespaces-ingress", "spec.ingress[0].from[0].namespaceSelector names no namespace: its expressions match every namespace that lacks a label or has one every namespace has")),
			on("pr-123", want("kubernetes-networkpolicy-no-all-namespaces-ingress", "spec.ingress[0].from[0].namespaceSelector names no namespace: its expressions match every namespace that lacks a label or has one every namespace has")),
		},
	},
	{
		name: "Postgres reachable from its own namespace by name",
		changes: []resourceChange{change(netpolType, "data-platform-traffic-postgres",
			set("spec.ingress.0.from.0.namespaceSelector", namespaceSelector(expression("kubernetes.io/metadata.name", "In", "{namespace}"))))},
		runs: []expectedRun{on("production"), on("public")},
	},

	// --- MinIO documents as MinIO reads them.
	{
		name:  "IAM policy with lower-case keys granting s3:* on every bucket",
		extra: addIAMPolicy("ops", `{"version":"2012-10-17","statement":[{"effect":"Allow","action":"s3:*","resource":"arn:aws:s3:::*"}]}`),
		runs: []expectedRun{
			on("production",
				want("minio-iam-no-wildcard-admin", "statement #0 allows s3:* on every bucket"),
				want("minio-iam-patient-data-write-owner-only", "statement #0 lets production write dataplatform-backups-staging, dataplatform-dev: only the owning stack may write a patient-data bucket")),
			on("public",
				want("minio-iam-no-wildcard-admin", "statement #0 allows s3:* on every bucket"),
				want("minio-iam-patient-data-write-owner-only", "statement #0 lets public write dataplatform-backups-production, dataplatform-backups-staging, dataplatform-dev, dataplatform-prod: only the owning stack may write a patient-data bucket")),
		},
	},
	{
		name:  "IAM policy allowing MinIO administration",
		extra: addIAMPolicy("ops", `{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Action":["admin:*"],"Resource":["arn:aws:s3:::{bucket}"]}]}`),
		runs: []expectedRun{
			on("staging", want("minio-iam-no-wildcard-admin", `statement "Admin" allows MinIO administration (admin:*), which reaches every bucket and identity`)),
			on("pr-123", want("minio-iam-no-wildcard-admin", `statement "Admin" allows MinIO administration (admin:*), which reaches every bucket and identity`)),
		},
	},
	{
		name:  "preview policy whose Resource is a policy variable",
		extra: addIAMPolicy("reader", `{"Version":"2012-10-17","Statement":[{"Sid":"Own","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::${aws:username}/*"]}]}`),
		runs: []expectedRun{
			on("pr-123",
				want("minio-iam-preview-no-patient-data", `gives preview pr-123 access to patient-data bucket dataplatform-prod (statements "Own")`),
				want("minio-iam-preview-no-patient-data", `gives preview pr-123 access to patient-data bucket dataplatform-dev (statements "Own")`),
				want("minio-iam-preview-no-patient-data", `gives preview pr-123 access to patient-data bucket dataplatform-backups-production (statements "Own")`),
				want("minio-iam-preview-no-patient-data", `gives preview pr-123 access to patient-data bucket dataplatform-backups-staging (statements "Own")`)),
		},
	},
	{
		name:    "production policy named for a preview identity of another purpose",
		changes: []resourceChange{change(iamPolicyType, "data-platform-bucket-viewer", set("name", str("dataplatform-pr-7-uploader")))},
		runs: []expectedRun{
			on("production", want("minio-iam-preview-no-patient-data", `gives preview pr-7 access to patient-data bucket dataplatform-prod (statements "Grant0Bucket", "Grant0List", "Grant0Objects")`)),
		},
	},
	{
		name:    "IAM policy whose name is not known during preview",
		changes: []resourceChange{change(iamPolicyType, "data-platform-bucket-viewer", set("name", computedValue()))},
		runs: []expectedRun{
			on("production",
				want("minio-iam-patient-data-write-owner-only", previewPrefix+"name, so the identities this policy serves, is not known yet"),
				want("minio-iam-preview-no-patient-data", previewPrefix+"name, so the identities this policy serves, is not known yet")),
			on("public"),
		},
	},
	{
		name:  "built-in consoleAdmin policy attached to the app identity",
		extra: addMinio(iamUserPolicyAttachmentType, "admin-attachment", map[string]string{"userName": "dataplatform-{stack}-app", "policyName": "consoleAdmin"}),
		runs: []expectedRun{
			on("production", want("minio-iam-attachments-own-environment", `policyName is MinIO's built-in policy "consoleAdmin", which applies to every bucket, patient data included`)),
			on("pr-123", want("minio-iam-attachments-own-environment", `policyName is MinIO's built-in policy "consoleAdmin", which applies to every bucket, patient data included`)),
		},
	},
	{
		// Before a first create the policy's name is that policy's output: the
		// attachment cannot hide a grant, so it warns and is decided at up.
		name:    "policy attachment whose policy name is not known during preview",
		changes: []resourceChange{change(iamUserPolicyAttachmentType, "data-platform-bucket-app", set("policyName", computedValue()))},
		runs: []expectedRun{
			on("production", want("pack-decided-at-up", "minio-iam-attachments-own-environment: policyName is not known yet; decided at up")),
			on("public", want("pack-decided-at-up", "minio-iam-attachments-own-environment: policyName is not known yet; decided at up")),
		},
	},
	{
		name:  "the stack's own policy attached to its own identity",
		extra: addMinio(iamUserPolicyAttachmentType, "own-attachment", map[string]string{"userName": "dataplatform-{stack}-app", "policyName": "dataplatform-{stack}-viewer"}),
		runs:  []expectedRun{on("production"), on("pr-123")},
	},
	{
		name:  "built-in readwrite policy attached to a group",
		extra: addMinio(iamGroupPolicyAttachmentType, "group-attachment", map[string]string{"groupName": "dataplatform-{stack}-ops", "policyName": "readwrite"}),
		runs: []expectedRun{
			on("staging", want("minio-iam-attachments-own-environment", `policyName is MinIO's built-in policy "readwrite", which applies to every bucket, patient data included`)),
			on("public", want("minio-iam-attachments-own-environment", `policyName is MinIO's built-in policy "readwrite", which applies to every bucket, patient data included`)),
		},
	},
	{
		name:  "preview identity added to a production group",
		extra: addGroupMembership("dataplatform-production-readers", "dataplatform-pr-7-app"),
		runs: []expectedRun{
			on("production", want("minio-iam-attachments-own-environment", "joins names of different environments on stack production: dataplatform-production-readers (production), dataplatform-pr-7-app (pr-7); identities, groups and policies stay within their environment")),
			on("public", want("minio-iam-attachments-own-environment", "joins names of different environments on stack public: dataplatform-production-readers (production), dataplatform-pr-7-app (pr-7); identities, groups and policies stay within their environment")),
		},
	},
	{
		name:  "production identity added to a production group",
		extra: addGroupMembership("dataplatform-production-readers", "dataplatform-production-viewer"),
		runs:  []expectedRun{on("production")},
	},
	{
		name:  "user of no environment added to a production group",
		extra: addGroupMembership("dataplatform-production-readers", "alice"),
		runs: []expectedRun{
			on("production", want("minio-iam-attachments-own-environment", previewPrefix+`whose identity users[0] "alice" is (it names no environment) is not known yet`)),
		},
	},
	{
		name: "group policy for a preview group reading the production bucket",
		extra: addMinio(iamGroupPolicyType, "preview-group-policy", map[string]string{"group": "dataplatform-pr-7-readers",
			"policy": `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::dataplatform-prod/*"]}]}`}),
		runs: []expectedRun{
			on("production", want("minio-iam-preview-no-patient-data", `gives preview pr-7 access to patient-data bucket dataplatform-prod (statements "Read")`)),
		},
	},

	// --- Credentials by a wider pattern, and no false blocks.
	{
		name: "database password in a DB_PASS variable",
		changes: []resourceChange{change(deploymentType, "data-platform-api", set(deploymentPod+".containers.0.env.+", obj(map[string]property.Value{
			"name": str("DB_PASS"), "value": str("hunter2")})))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-no-literal-credentials", `container "api": env DB_PASS is a literal value`+credentialsHint)),
			on("public", want("kubernetes-container-no-literal-credentials", `container "api": env DB_PASS is a literal value`+credentialsHint)),
		},
	},
	{
		name:    "password in a --db-pass flag",
		changes: []resourceChange{change(cronJobType, "data-platform-backup-backup", set(cronJobPod+".containers.0.args", list(str("dump"), str("--db-pass"), str("hunter2"))))},
		runs: []expectedRun{
			on("staging", want("kubernetes-container-no-literal-credentials", `container "backup": args[1] passes --db-pass a literal value`+credentialsHint)),
			on("public", want("kubernetes-container-no-literal-credentials", `container "backup": args[1] passes --db-pass a literal value`+credentialsHint)),
		},
	},
	{
		name:    "flag naming the Secret that holds the password",
		changes: []resourceChange{change(cronJobType, "data-platform-backup-backup", set(cronJobPod+".containers.0.args", list(str("dump"), str("--password-secret=postgres-credentials"))))},
		runs:    []expectedRun{on("staging"), on("public")},
	},
	{
		name:    "password in the Postgres liveness probe",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres", set(deploymentPod+".containers.0.livenessProbe.exec.command", list(str("sh"), str("-c"), str("PGPASSWORD=hunter2 pg_isready"))))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-no-literal-credentials", `container "postgres": livenessProbe.exec.command[2] sets PGPASSWORD to a literal value`+credentialsHint)),
			on("pr-123", want("kubernetes-container-no-literal-credentials", `container "postgres": livenessProbe.exec.command[2] sets PGPASSWORD to a literal value`+credentialsHint)),
		},
	},
	{
		name:  "API token in a ConfigMap for envFrom",
		extra: addConfigMap(map[string]string{"API_TOKEN": "not-a-real-token", "LOG_LEVEL": "info"}),
		runs: []expectedRun{
			on("production", want("kubernetes-container-no-literal-credentials", `data["API_TOKEN"] is a credential in a ConfigMap, which containers receive in the clear (envFrom, configMapKeyRef, volumes): `+fromSecretOnly)),
			on("public", want("kubernetes-container-no-literal-credentials", `data["API_TOKEN"] is a credential in a ConfigMap, which containers receive in the clear (envFrom, configMapKeyRef, volumes): `+fromSecretOnly)),
		},
	},
	{
		name: "POSTGRES_PASSWORD_FILE pointing into a mounted Secret",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres",
			set(deploymentPod+".volumes.+", obj(map[string]property.Value{"name": str("pg-credentials"), "secret": obj(map[string]property.Value{"secretName": str("postgres-credentials")})})),
			set(deploymentPod+".containers.0.volumeMounts.+", obj(map[string]property.Value{"name": str("pg-credentials"), "mountPath": str("/run/secrets/postgres"), "readOnly": flag(true)})),
			set(deploymentPod+".containers.0.env.1", obj(map[string]property.Value{"name": str("POSTGRES_PASSWORD_FILE"), "value": str("/run/secrets/postgres/password")})))},
		runs: []expectedRun{on("production"), on("pr-123")},
	},
	{
		name: "POSTGRES_PASSWORD_FILE pointing outside any Secret",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres",
			set(deploymentPod+".containers.0.env.1", obj(map[string]property.Value{"name": str("POSTGRES_PASSWORD_FILE"), "value": str("/run/secrets/postgres/../../../etc/pg-password")})))},
		runs: []expectedRun{
			on("staging", want("kubernetes-container-no-literal-credentials", `container "postgres": env POSTGRES_PASSWORD_FILE points at "/run/secrets/postgres/../../../etc/pg-password", which is not in a mounted Secret`+credentialsHint)),
			on("public", want("kubernetes-container-no-literal-credentials", `container "postgres": env POSTGRES_PASSWORD_FILE points at "/run/secrets/postgres/../../../etc/pg-password", which is not in a mounted Secret`+credentialsHint)),
		},
	},
}

func addServicePatch(ctx *pulumi.Context, env stacks.Environment) error {
	_, err := corev1.NewServicePatch(ctx, "expose-api", &corev1.ServicePatchArgs{
		Metadata: &metav1.ObjectMetaPatchArgs{Name: pulumi.String(env.ResourceName("api")), Namespace: pulumi.String(env.Namespace)},
		Spec:     &corev1.ServiceSpecPatchArgs{Type: pulumi.String("LoadBalancer")},
	})
	return err
}

func addExternalName(target string) func(*pulumi.Context, stacks.Environment) error {
	return func(ctx *pulumi.Context, env stacks.Environment) error {
		_, err := corev1.NewService(ctx, "alias", &corev1.ServiceArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("alias"), Namespace: pulumi.String(env.Namespace)},
			Spec:     &corev1.ServiceSpecArgs{Type: pulumi.String("ExternalName"), ExternalName: pulumi.String(target)},
		})
		return err
	}
}

func addHostPathVolume(ctx *pulumi.Context, env stacks.Environment) error {
	_, err := corev1.NewPersistentVolume(ctx, "node-disk", &corev1.PersistentVolumeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(env.ResourceName("node-disk"))},
		Spec: &corev1.PersistentVolumeSpecArgs{
			Capacity:    pulumi.StringMap{"storage": pulumi.String("1Gi")},
			AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
			HostPath:    &corev1.HostPathVolumeSourceArgs{Path: pulumi.String("/var/lib")},
		},
	})
	return err
}

func addRoleBinding(kind, name, namespace string) func(*pulumi.Context, stacks.Environment) error {
	return func(ctx *pulumi.Context, env stacks.Environment) error {
		subject := rbacv1.SubjectArgs{Kind: pulumi.String(kind), Name: pulumi.String(name)}
		if kind == "ServiceAccount" {
			subject.Namespace = pulumi.String(namespace)
		} else {
			subject.ApiGroup = pulumi.String("rbac.authorization.k8s.io")
		}
		_, err := rbacv1.NewRoleBinding(ctx, "grant", &rbacv1.RoleBindingArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("grant"), Namespace: pulumi.String(env.Namespace)},
			RoleRef:  &rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: pulumi.String("reader")},
			Subjects: rbacv1.SubjectArray{subject},
		})
		return err
	}
}

func addClusterRoleBinding(ctx *pulumi.Context, env stacks.Environment) error {
	_, err := rbacv1.NewClusterRoleBinding(ctx, "cluster-grant", &rbacv1.ClusterRoleBindingArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(env.ResourceName("reader"))},
		RoleRef:  &rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: pulumi.String("view")},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"), Name: pulumi.String("default"), Namespace: pulumi.String(env.Namespace)}},
	})
	return err
}

func addRole(verbs ...string) func(*pulumi.Context, stacks.Environment) error {
	return func(ctx *pulumi.Context, env stacks.Environment) error {
		_, err := rbacv1.NewRole(ctx, "reader", &rbacv1.RoleArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("reader"), Namespace: pulumi.String(env.Namespace)},
			Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
				ApiGroups: pulumi.StringArray{pulumi.String("")},
				Resources: pulumi.StringArray{pulumi.String("configmaps")},
				Verbs:     pulumi.ToStringArray(verbs),
			}},
		})
		return err
	}
}

func addConfigMap(data map[string]string) func(*pulumi.Context, stacks.Environment) error {
	return func(ctx *pulumi.Context, env stacks.Environment) error {
		_, err := corev1.NewConfigMap(ctx, "settings", &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("settings"), Namespace: pulumi.String(env.Namespace)},
			Data:     pulumi.ToStringMap(data),
		})
		return err
	}
}

// tokenResource registers a MinIO resource by its token, as the project's own
// minio package does, for the kinds the program never creates.
type tokenResource struct{ pulumi.CustomResourceState }

// addMinio registers one MinIO resource of token with string inputs; {stack}
// and {bucket} in values are the stack's name and target bucket.
func addMinio(token, name string, inputs map[string]string) func(*pulumi.Context, stacks.Environment) error {
	return func(ctx *pulumi.Context, env stacks.Environment) error {
		props := pulumi.Map{}
		for k, v := range inputs {
			props[k] = pulumi.String(placeholders(env).Replace(v))
		}
		var r tokenResource
		return ctx.RegisterResource(token, name, props, &r)
	}
}

func addIAMPolicy(purpose, document string) func(*pulumi.Context, stacks.Environment) error {
	return func(ctx *pulumi.Context, env stacks.Environment) error {
		return addMinio(iamPolicyType, "extra-policy", map[string]string{
			"name": stacks.IdentityName(env.Stack, stacks.Purpose(purpose)), "policy": document})(ctx, env)
	}
}

func addGroupMembership(group string, users ...string) func(*pulumi.Context, stacks.Environment) error {
	return func(ctx *pulumi.Context, env stacks.Environment) error {
		var r tokenResource
		return ctx.RegisterResource(iamGroupMembershipType, "membership", pulumi.Map{
			"group": pulumi.String(group), "users": pulumi.ToStringArray(users), "name": pulumi.String("membership"),
		}, &r)
	}
}
