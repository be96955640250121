package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/virdx/vxplatform-infra/internal/minio"
	"github.com/virdx/vxplatform-infra/stacks"
)

// misconfiguration is one entry of the catalog: a small change to a real stack's
// resources (or one resource added to the real program run), and what the pack
// must say about it on each stack it is tried on.
type misconfiguration struct {
	name string
	// config is set on top of programtest.ValidConfig for every run.
	config []string
	// changes edit or remove real resources.
	changes []resourceChange
	// extra registers additional resources in the same program run.
	extra func(ctx *pulumi.Context, env stacks.Environment) error
	runs  []expectedRun
}

// resourceChange names a real resource by type token and Pulumi name (Pulumi names
// are the same on every stack; {bucket} is the stack's target bucket).
type resourceChange struct {
	typ, name string
	edits     []edit
	remove    bool
}

// expectedRun is one stack the misconfiguration is tried on and exactly the
// violations it must add there. The level is not written down: it follows from
// the rule's scope and the stack, which is the point of trying both kinds.
type expectedRun struct {
	stack  string
	config []string
	want   []expected
}

type expected struct {
	policy  string
	message string
	// at is "type::name" of the resource the violation is about, when it is not
	// the first changed (or the added) resource.
	at string
}

func change(typ, name string, edits ...edit) resourceChange {
	return resourceChange{typ: typ, name: name, edits: edits}
}

func on(stack string, want ...expected) expectedRun { return expectedRun{stack: stack, want: want} }

func want(policy, message string) expected { return expected{policy: policy, message: message} }

const (
	deploymentType  = "kubernetes:apps/v1:Deployment"
	statefulSetType = "kubernetes:apps/v1:StatefulSet"
	cronJobType     = "kubernetes:batch/v1:CronJob"
	jobType         = "kubernetes:batch/v1:Job"
	serviceType     = "kubernetes:core/v1:Service"
	ingressType     = "kubernetes:networking.k8s.io/v1:Ingress"
	netpolType      = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	namespaceType   = "kubernetes:core/v1:Namespace"
	configMapType   = "kubernetes:core/v1:ConfigMap"
	k8sProviderType = "pulumi:providers:kubernetes"
)

// Pod spec paths of the workloads the catalog edits.
const (
	deploymentPod = "spec.template.spec"
	cronJobPod    = "spec.jobTemplate.spec.template.spec"
)

const credentialsHint = ": credentials come only from a Secret (valueFrom.secretKeyRef)"

var catalog = []misconfiguration{
	// --- Services
	{
		name:    "frontend Service of type LoadBalancer",
		changes: []resourceChange{change(serviceType, "data-platform-frontend", set("spec.type", str("LoadBalancer")))},
		runs: []expectedRun{
			on("production", want("kubernetes-service-no-external-exposure", "spec.type is LoadBalancer: it exposes the Service outside the cluster")),
			on("public", want("kubernetes-service-no-external-exposure", "spec.type is LoadBalancer: it exposes the Service outside the cluster")),
		},
	},
	{
		name:    "API Service of type NodePort",
		changes: []resourceChange{change(serviceType, "data-platform-api", set("spec.type", str("NodePort")))},
		runs: []expectedRun{
			on("staging", want("kubernetes-service-no-external-exposure", "spec.type is NodePort: it exposes the Service outside the cluster")),
			on("pr-123", want("kubernetes-service-no-external-exposure", "spec.type is NodePort: it exposes the Service outside the cluster")),
		},
	},
	{
		name:    "Postgres Service with externalIPs",
		changes: []resourceChange{change(serviceType, "data-platform-postgres", set("spec.externalIPs", list(str("203.0.113.10"))))},
		runs: []expectedRun{
			on("production", want("kubernetes-service-no-external-exposure", "spec.externalIPs routes outside addresses to the Service (203.0.113.10)")),
			on("public", want("kubernetes-service-no-external-exposure", "spec.externalIPs routes outside addresses to the Service (203.0.113.10)")),
		},
	},

	// --- Ingress and Gateway API
	{
		name:    "Ingress on the public ingress class",
		config:  internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress", set("spec.ingressClassName", str("nginx")))},
		runs: []expectedRun{
			on("production", want("kubernetes-ingress-internal-only", `spec.ingressClassName is "nginx": only class "internal" is reachable from inside the company network alone`)),
			on("public", want("kubernetes-ingress-internal-only", `spec.ingressClassName is "nginx": only class "internal" is reachable from inside the company network alone`)),
		},
	},
	{
		name:    "Ingress without a class",
		config:  internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress", del("spec.ingressClassName"))},
		runs: []expectedRun{
			on("staging", want("kubernetes-ingress-internal-only", `has no ingress class: the cluster's default class may be internet-facing; use "internal"`)),
			on("pr-123", want("kubernetes-ingress-internal-only", `has no ingress class: the cluster's default class may be internet-facing; use "internal"`)),
		},
	},
	{
		name:   "Ingress class set through the legacy annotation",
		config: internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress",
			del("spec.ingressClassName"), set("metadata.annotations.[kubernetes.io/ingress.class]", str("nginx")))},
		runs: []expectedRun{
			on("production", want("kubernetes-ingress-internal-only", `metadata.annotations.kubernetes.io/ingress.class is "nginx": only class "internal" is reachable from inside the company network alone`)),
			on("public", want("kubernetes-ingress-internal-only", `metadata.annotations.kubernetes.io/ingress.class is "nginx": only class "internal" is reachable from inside the company network alone`)),
		},
	},
	{
		name:    "Ingress without a source allow-list",
		config:  internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress", del("metadata.annotations.[nginx.ingress.kubernetes.io/whitelist-source-range]"))},
		runs: []expectedRun{
			on("production", want("kubernetes-ingress-internal-only", "has no source allow-list (annotation nginx.ingress.kubernetes.io/whitelist-source-range)")),
			on("public", want("kubernetes-ingress-internal-only", "has no source allow-list (annotation nginx.ingress.kubernetes.io/whitelist-source-range)")),
		},
	},
	{
		name:    "Ingress allow-list that admits every address",
		config:  internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress", set("metadata.annotations.[nginx.ingress.kubernetes.io/whitelist-source-range]", str("10.0.0.0/8,0.0.0.0/0")))},
		runs: []expectedRun{
			on("staging", want("kubernetes-ingress-internal-only", "source allow-list admits every address (0.0.0.0/0)")),
			on("public", want("kubernetes-ingress-internal-only", "source allow-list admits every address (0.0.0.0/0)")),
		},
	},
	{
		name:    "Ingress with a wildcard host",
		config:  internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress", set("spec.rules.0.host", str("*.data.virdx.dev")))},
		runs: []expectedRun{
			on("production", want("kubernetes-ingress-tls-no-wildcard-host", `spec.rules[0].host "*.data.virdx.dev" is a wildcard`),
				want("kubernetes-ingress-own-hostname", `spec.rules[0].host "*.data.virdx.dev" belongs to another environment: this stack may claim only {host} and names under it`)),
			on("public", want("kubernetes-ingress-tls-no-wildcard-host", `spec.rules[0].host "*.data.virdx.dev" is a wildcard`),
				want("kubernetes-ingress-own-hostname", `spec.rules[0].host "*.data.virdx.dev" belongs to another environment: this stack may claim only {host} and names under it`)),
		},
	},
	{
		name:    "Ingress rule without a host",
		config:  internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress", del("spec.rules.0.host"))},
		runs: []expectedRun{
			on("staging", want("kubernetes-ingress-tls-no-wildcard-host", "spec.rules[0] has no host: it matches every hostname")),
			on("pr-123", want("kubernetes-ingress-tls-no-wildcard-host", "spec.rules[0] has no host: it matches every hostname")),
		},
	},
	{
		name:    "Ingress without TLS",
		config:  internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress", del("spec.tls"))},
		runs: []expectedRun{
			on("production", want("kubernetes-ingress-tls-no-wildcard-host", `host "{host}" is not covered by spec.tls`)),
			on("public", want("kubernetes-ingress-tls-no-wildcard-host", `host "{host}" is not covered by spec.tls`)),
		},
	},
	{
		name:   "Ingress with a default backend",
		config: internalIngressConfig,
		changes: []resourceChange{change(ingressType, "data-platform-ingress",
			set("spec.defaultBackend", obj(map[string]property.Value{"service": obj(map[string]property.Value{
				"name": str("frontend"), "port": obj(map[string]property.Value{"name": str("http")})})})))},
		runs: []expectedRun{
			on("staging", want("kubernetes-ingress-tls-no-wildcard-host", "spec.defaultBackend serves every hostname")),
			on("pr-123", want("kubernetes-ingress-tls-no-wildcard-host", "spec.defaultBackend serves every hostname")),
		},
	},
	{
		name:  "Gateway API HTTPRoute",
		extra: addHTTPRoute,
		runs: []expectedRun{
			on("production", want("kubernetes-ingress-internal-only", `Gateway API HTTPRoute objects are not allowed: production and staging are published only through an Ingress of class "internal" with a source allow-list`)),
			on("public", want("kubernetes-ingress-internal-only", `Gateway API HTTPRoute objects are not allowed: production and staging are published only through an Ingress of class "internal" with a source allow-list`)),
		},
	},

	// --- Pod security
	{
		name:    "API pods on the host network",
		changes: []resourceChange{change(deploymentType, "data-platform-api", set(deploymentPod+".hostNetwork", flag(true)))},
		runs: []expectedRun{
			on("production", want("kubernetes-pod-no-host-access", "pod: hostNetwork is true: the pod shares the node's network")),
			on("pr-123", want("kubernetes-pod-no-host-access", "pod: hostNetwork is true: the pod shares the node's network")),
		},
	},
	{
		name:    "Postgres pod in the host PID namespace",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres", set(deploymentPod+".hostPID", flag(true)))},
		runs: []expectedRun{
			on("staging", want("kubernetes-pod-no-host-access", "pod: hostPID is true: the pod shares the node's process namespace")),
			on("public", want("kubernetes-pod-no-host-access", "pod: hostPID is true: the pod shares the node's process namespace")),
		},
	},
	{
		name:    "backup job in the host IPC namespace",
		changes: []resourceChange{change(cronJobType, "data-platform-backup-backup", set(cronJobPod+".hostIPC", flag(true)))},
		runs: []expectedRun{
			on("production", want("kubernetes-pod-no-host-access", "pod: hostIPC is true: the pod shares the node's IPC namespace")),
			on("public", want("kubernetes-pod-no-host-access", "pod: hostIPC is true: the pod shares the node's IPC namespace")),
		},
	},
	{
		name:    "frontend container with a hostPort",
		changes: []resourceChange{change(deploymentType, "data-platform-frontend", set(deploymentPod+".containers.0.ports.0.hostPort", num(3000)))},
		runs: []expectedRun{
			on("production", want("kubernetes-pod-no-host-access", `container "frontend": ports[0].hostPort is 3000: it opens a port on the node`)),
			on("pr-123", want("kubernetes-pod-no-host-access", `container "frontend": ports[0].hostPort is 3000: it opens a port on the node`)),
		},
	},
	{
		name: "Postgres pod mounting the node's root filesystem",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres", set(deploymentPod+".volumes.+",
			obj(map[string]property.Value{"name": str("node-root"), "hostPath": obj(map[string]property.Value{"path": str("/")})})))},
		runs: []expectedRun{
			on("staging", want("kubernetes-pod-no-host-access", `pod: volume "node-root" mounts the node's filesystem (hostPath)`)),
			on("public", want("kubernetes-pod-no-host-access", `pod: volume "node-root" mounts the node's filesystem (hostPath)`)),
		},
	},
	{
		name:    "privileged API container",
		changes: []resourceChange{change(deploymentType, "data-platform-api", set(deploymentPod+".containers.0.securityContext.privileged", flag(true)))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-restricted-security-context", `container "api": securityContext.privileged is true: the container has full access to the node`)),
			on("public", want("kubernetes-container-restricted-security-context", `container "api": securityContext.privileged is true: the container has full access to the node`)),
		},
	},
	{
		name:    "privileged bucket-init job of a preview",
		changes: []resourceChange{change(jobType, "data-platform-object-store-init", set(deploymentPod+".containers.0.securityContext.privileged", flag(true)))},
		runs: []expectedRun{
			on("pr-123", want("kubernetes-container-restricted-security-context", `container "object-store-init": securityContext.privileged is true: the container has full access to the node`)),
		},
	},
	{
		name:    "frontend container allowed to escalate privileges",
		changes: []resourceChange{change(deploymentType, "data-platform-frontend", set(deploymentPod+".containers.0.securityContext.allowPrivilegeEscalation", flag(true)))},
		runs: []expectedRun{
			on("staging", want("kubernetes-container-restricted-security-context", `container "frontend": securityContext.allowPrivilegeEscalation is true`)),
			on("pr-123", want("kubernetes-container-restricted-security-context", `container "frontend": securityContext.allowPrivilegeEscalation is true`)),
		},
	},
	{
		name:    "Postgres container without allowPrivilegeEscalation",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres", del(deploymentPod+".containers.0.securityContext.allowPrivilegeEscalation"))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-restricted-security-context", `container "postgres": securityContext.allowPrivilegeEscalation is not set to false (Kubernetes allows escalation by default)`)),
			on("public", want("kubernetes-container-restricted-security-context", `container "postgres": securityContext.allowPrivilegeEscalation is not set to false (Kubernetes allows escalation by default)`)),
		},
	},
	{
		name: "API that may run as root",
		changes: []resourceChange{change(deploymentType, "data-platform-api",
			del(deploymentPod+".securityContext.runAsNonRoot"), del(deploymentPod+".containers.0.securityContext.runAsNonRoot"))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-restricted-security-context", `container "api": runAsNonRoot is set to true neither for the container nor for the pod: it may run as root`)),
			on("pr-123", want("kubernetes-container-restricted-security-context", `container "api": runAsNonRoot is set to true neither for the container nor for the pod: it may run as root`)),
		},
	},
	{
		name:    "backup job running as uid 0",
		changes: []resourceChange{change(cronJobType, "data-platform-backup-backup", set(cronJobPod+".securityContext.runAsUser", num(0)))},
		runs: []expectedRun{
			on("staging", want("kubernetes-container-restricted-security-context", `container "backup": pod securityContext.runAsUser is 0: it runs as root`)),
			on("public", want("kubernetes-container-restricted-security-context", `container "backup": pod securityContext.runAsUser is 0: it runs as root`)),
		},
	},
	{
		name:    "frontend container adding SYS_ADMIN",
		changes: []resourceChange{change(deploymentType, "data-platform-frontend", set(deploymentPod+".containers.0.securityContext.capabilities.add", list(str("SYS_ADMIN"))))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-restricted-security-context", `container "frontend": securityContext.capabilities.add grants SYS_ADMIN`)),
			on("public", want("kubernetes-container-restricted-security-context", `container "frontend": securityContext.capabilities.add grants SYS_ADMIN`)),
		},
	},

	// --- Network policies
	{
		name: "API reachable from every address",
		changes: []resourceChange{change(netpolType, "data-platform-traffic-api",
			set("spec.ingress.0.from", list(obj(map[string]property.Value{"ipBlock": obj(map[string]property.Value{"cidr": str("0.0.0.0/0")})}))))},
		runs: []expectedRun{
			on("production", want("kubernetes-networkpolicy-no-open-peers", "spec.ingress[0].from[0].ipBlock.cidr 0.0.0.0/0 admits every source")),
			on("public", want("kubernetes-networkpolicy-no-open-peers", "spec.ingress[0].from[0].ipBlock.cidr 0.0.0.0/0 admits every source")),
		},
	},
	{
		name:    "Postgres ingress rule without peers",
		changes: []resourceChange{change(netpolType, "data-platform-traffic-postgres", del("spec.ingress.0.from"))},
		runs: []expectedRun{
			on("staging", want("kubernetes-networkpolicy-no-open-peers", "spec.ingress[0] has no from: it admits every source")),
			on("pr-123", want("kubernetes-networkpolicy-no-open-peers", "spec.ingress[0] has no from: it admits every source")),
		},
	},
	{
		name:    "jobs may send to every IPv6 address",
		changes: []resourceChange{change(netpolType, "data-platform-traffic-jobs", set("spec.egress.1.to.0.ipBlock.cidr", str("::/0")))},
		runs: []expectedRun{
			on("production", want("kubernetes-networkpolicy-no-open-peers", "spec.egress[1].to[0].ipBlock.cidr ::/0 reaches every destination")),
			on("public", want("kubernetes-networkpolicy-no-open-peers", "spec.egress[1].to[0].ipBlock.cidr ::/0 reaches every destination")),
		},
	},
	{
		name:    "Postgres reachable from the API pods of every namespace",
		changes: []resourceChange{change(netpolType, "data-platform-traffic-postgres", set("spec.ingress.0.from.0.namespaceSelector", obj(map[string]property.Value{})))},
		runs: []expectedRun{
			on("production", want("kubernetes-networkpolicy-no-all-namespaces-ingress", "spec.ingress[0].from[0].namespaceSelector is empty: it admits pods of every namespace")),
			on("public", want("kubernetes-networkpolicy-no-all-namespaces-ingress", "spec.ingress[0].from[0].namespaceSelector is empty: it admits pods of every namespace")),
		},
	},
	{
		name:    "namespace without its default-deny policy",
		changes: []resourceChange{{typ: netpolType, name: "data-platform-namespace-default-deny", remove: true}},
		runs: []expectedRun{
			on("production", expected{policy: "kubernetes-namespace-default-deny", message: `namespace "{namespace}" has no default-deny NetworkPolicy for ingress and egress in this stack`, at: namespaceType + "::data-platform-namespace"}),
			on("public", expected{policy: "kubernetes-namespace-default-deny", message: `namespace "{namespace}" has no default-deny NetworkPolicy for ingress and egress in this stack`, at: namespaceType + "::data-platform-namespace"}),
			on("previews", expected{policy: "kubernetes-namespace-default-deny", message: `namespace "{namespace}" has no default-deny NetworkPolicy for ingress and egress in this stack`, at: namespaceType + "::data-platform-namespace"}),
		},
	},
	{
		name:    "default deny for ingress only",
		changes: []resourceChange{change(netpolType, "data-platform-namespace-default-deny", set("spec.policyTypes", list(str("Ingress"))))},
		runs: []expectedRun{
			on("staging", expected{policy: "kubernetes-namespace-default-deny", message: `namespace "{namespace}" has no default-deny NetworkPolicy for egress in this stack`, at: namespaceType + "::data-platform-namespace"}),
			on("previews", expected{policy: "kubernetes-namespace-default-deny", message: `namespace "{namespace}" has no default-deny NetworkPolicy for egress in this stack`, at: namespaceType + "::data-platform-namespace"}),
		},
	},
	{
		// A preview may rely on the previews stack for its namespace's deny; production
		// and staging may not rely on any other stack.
		name: "deploying into a namespace whose deny lives elsewhere",
		changes: []resourceChange{
			{typ: namespaceType, name: "data-platform-namespace", remove: true},
			{typ: netpolType, name: "data-platform-namespace-default-deny", remove: true},
		},
		runs: []expectedRun{
			on("production", expected{policy: "kubernetes-namespace-default-deny",
				message: `namespace "{namespace}", which this stack deploys into but does not create, has no default-deny NetworkPolicy for ingress and egress in this stack`,
				at:      deploymentType + "::data-platform-api"}),
			on("public"),
		},
	},
	{
		name:    "API deployed into another environment's namespace",
		changes: []resourceChange{change(deploymentType, "data-platform-api", set("metadata.namespace", str("data-platform-production")))},
		runs: []expectedRun{
			on("public", want("kubernetes-object-in-own-namespace", `metadata.namespace is "data-platform-production", not this stack's namespace "{namespace}"`)),
			on("pr-123", want("kubernetes-object-in-own-namespace", `metadata.namespace is "data-platform-production", not this stack's namespace "{namespace}"`)),
		},
	},
	{
		name:    "production API deployed into the public namespace",
		changes: []resourceChange{change(deploymentType, "data-platform-api", set("metadata.namespace", str("data-platform-public")))},
		runs: []expectedRun{
			on("production",
				want("kubernetes-object-in-own-namespace", `metadata.namespace is "data-platform-public", not this stack's namespace "{namespace}"`),
				want("kubernetes-namespace-default-deny", `namespace "data-platform-public", which this stack deploys into but does not create, has no default-deny NetworkPolicy for ingress and egress in this stack`)),
		},
	},
	{
		name:    "Kubernetes provider defaulting to another namespace",
		changes: []resourceChange{change(k8sProviderType, "data-platform-kubernetes", set("namespace", str("default")))},
		runs: []expectedRun{
			on("staging", want("kubernetes-object-in-own-namespace", `the provider's default namespace is "default", not this stack's namespace "{namespace}"`)),
			on("public", want("kubernetes-object-in-own-namespace", `the provider's default namespace is "default", not this stack's namespace "{namespace}"`)),
		},
	},

	// --- Object storage
	{
		name:    "public-read bucket",
		changes: []resourceChange{change("minio:index/s3Bucket:S3Bucket", "data-platform-bucket-{bucket}", set("acl", str("public-read")))},
		runs: []expectedRun{
			on("production", want("minio-bucket-no-public-acl", `acl is "public-read": the bucket must be private`)),
			on("public", want("minio-bucket-no-public-acl", `acl is "public-read": the bucket must be private`)),
		},
	},
	{
		name:  "bucket policy for anonymous readers",
		extra: addAnonymousBucketPolicy,
		runs: []expectedRun{
			on("production", want("minio-bucket-policy-no-anonymous-principal", `statement "PublicRead" allows access to an anonymous principal ("*")`)),
			on("public", want("minio-bucket-policy-no-anonymous-principal", `statement "PublicRead" allows access to an anonymous principal ("*")`)),
		},
	},
	{
		// s3:* on every bucket is also write access to the other stacks' buckets.
		name: "IAM policy with s3:* on every bucket",
		changes: []resourceChange{change("minio:index/iamPolicy:IamPolicy", "data-platform-bucket-app",
			replaceText("policy", `"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:ListMultipartUploadParts","s3:PutObject"],"Resource":["arn:aws:s3:::{bucket}/*"]`,
				`"Action":["s3:*"],"Resource":["arn:aws:s3:::*"]`))},
		runs: []expectedRun{
			on("production",
				want("minio-iam-no-wildcard-admin", `statement "Grant0Objects" allows s3:* on every bucket`),
				want("minio-iam-patient-data-write-owner-only", `statement "Grant0Objects" lets production write dataplatform-backups-staging, dataplatform-dev: only the owning stack may write a patient-data bucket`)),
			on("public",
				want("minio-iam-no-wildcard-admin", `statement "Grant0Objects" allows s3:* on every bucket`),
				want("minio-iam-patient-data-write-owner-only", `statement "Grant0Objects" lets public write dataplatform-backups-production, dataplatform-backups-staging, dataplatform-dev, dataplatform-prod: only the owning stack may write a patient-data bucket`)),
		},
	},
	{
		name: "staging app identity writing the production bucket",
		changes: []resourceChange{change("minio:index/iamPolicy:IamPolicy", "data-platform-bucket-app",
			replaceText("policy", "arn:aws:s3:::{bucket}/*", "arn:aws:s3:::dataplatform-prod/*"))},
		runs: []expectedRun{
			on("staging", want("minio-iam-patient-data-write-owner-only", `statement "Grant0Objects" lets staging write dataplatform-prod: only the owning stack may write a patient-data bucket`)),
			on("public", want("minio-iam-patient-data-write-owner-only", `statement "Grant0Objects" lets public write dataplatform-prod: only the owning stack may write a patient-data bucket`)),
		},
	},
	{
		name: "backup identity writing production's backups",
		changes: []resourceChange{change("minio:index/iamPolicy:IamPolicy", "data-platform-bucket-backup",
			replaceText("policy", "dataplatform-backups-{stack}", "dataplatform-backups-production"))},
		runs: []expectedRun{
			on("staging", want("minio-iam-patient-data-write-owner-only", `statement "Grant0Objects" lets staging write dataplatform-backups-production: only the owning stack may write a patient-data bucket`)),
			on("public", want("minio-iam-patient-data-write-owner-only", `statement "Grant0Objects" lets public write dataplatform-backups-production: only the owning stack may write a patient-data bucket`)),
		},
	},
	{
		// pgBackRest's identity reads and deletes too: pointed at production's
		// repository it could read patient data and hide production's history.
		name: "staging archive identity on production's repository",
		changes: []resourceChange{change("minio:index/iamPolicy:IamPolicy", "data-platform-bucket-archive",
			replaceText("policy", "dataplatform-backups-{stack}", "dataplatform-backups-production"))},
		runs: []expectedRun{
			on("staging", want("minio-iam-patient-data-write-owner-only", `statement "Grant0Objects" lets staging write dataplatform-backups-production: only the owning stack may write a patient-data bucket`)),
		},
	},
	{
		name: "preview reading the production bucket",
		changes: []resourceChange{change("minio:index/iamPolicy:IamPolicy", "data-platform-bucket-app",
			replaceText("policy", stacks.PublicBucket, stacks.ProductionBucket))},
		runs: []expectedRun{
			on("pr-123", want("minio-iam-preview-no-patient-data", `gives preview pr-123 access to patient-data bucket dataplatform-prod (statements "Grant0Bucket", "Grant0List", "Grant0Objects")`)),
		},
	},
	{
		name: "preview restoring production's backups",
		changes: []resourceChange{change("minio:index/iamPolicy:IamPolicy", "data-platform-bucket-restore",
			replaceText("policy", "dataplatform-backups-public", "dataplatform-backups-production"))},
		runs: []expectedRun{
			on("pr-123", want("minio-iam-preview-no-patient-data", `gives preview pr-123 access to patient-data bucket dataplatform-backups-production (statements "Grant0Bucket", "Grant0List", "Grant0Objects")`)),
		},
	},
	{
		name: "preview's in-cluster viewer policy naming the staging bucket",
		changes: []resourceChange{change(configMapType, "data-platform-object-store-policies",
			replaceText("data.[viewer.json]", "preview-data", stacks.StagingBucket))},
		runs: []expectedRun{
			on("pr-123", want("minio-iam-preview-no-patient-data", `data["viewer.json"]: gives preview pr-123 access to patient-data bucket dataplatform-dev (statements "Grant0Bucket", "Grant0List", "Grant0Objects")`)),
		},
	},
	{
		name:    "production policy named for a preview identity",
		changes: []resourceChange{change("minio:index/iamPolicy:IamPolicy", "data-platform-bucket-viewer", set("name", str("dataplatform-pr-7-viewer")))},
		runs: []expectedRun{
			on("production", want("minio-iam-preview-no-patient-data", `gives preview pr-7 access to patient-data bucket dataplatform-prod (statements "Grant0Bucket", "Grant0List", "Grant0Objects")`)),
		},
	},

	// --- Credentials
	{
		name: "database URL with its password as a literal env value",
		changes: []resourceChange{change(deploymentType, "data-platform-api", set(deploymentPod+".containers.0.env.0", obj(map[string]property.Value{
			"name": str("DATABASE_URL"), "value": str("postgresql://dataplatform:hunter2@postgres:5432/dataplatform")})))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-no-literal-credentials", `container "api": env DATABASE_URL has a password in a URL`+credentialsHint)),
			on("public", want("kubernetes-container-no-literal-credentials", `container "api": env DATABASE_URL has a password in a URL`+credentialsHint)),
		},
	},
	{
		name: "S3 secret key as a literal env value",
		changes: []resourceChange{change(cronJobType, "data-platform-backup-backup", set(cronJobPod+".containers.0.env.6", obj(map[string]property.Value{
			"name": str("AWS_SECRET_ACCESS_KEY"), "value": str("not-a-real-key")})))},
		runs: []expectedRun{
			on("staging", want("kubernetes-container-no-literal-credentials", `container "backup": env AWS_SECRET_ACCESS_KEY is a literal value`+credentialsHint)),
			on("public", want("kubernetes-container-no-literal-credentials", `container "backup": env AWS_SECRET_ACCESS_KEY is a literal value`+credentialsHint)),
		},
	},
	{
		name: "Postgres password from a ConfigMap",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres", set(deploymentPod+".containers.0.env.1.valueFrom", obj(map[string]property.Value{
			"configMapKeyRef": obj(map[string]property.Value{"name": str("postgres-settings"), "key": str("password")})})))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-no-literal-credentials", `container "postgres": env POSTGRES_PASSWORD comes from a ConfigMap`+credentialsHint)),
			on("pr-123", want("kubernetes-container-no-literal-credentials", `container "postgres": env POSTGRES_PASSWORD comes from a ConfigMap`+credentialsHint)),
		},
	},
	{
		name:    "password on the backup tool's command line",
		changes: []resourceChange{change(cronJobType, "data-platform-backup-backup", set(cronJobPod+".containers.0.args", list(str("dump"), str("--password=hunter2"))))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-no-literal-credentials", `container "backup": args[1] passes --password a literal value`+credentialsHint)),
			on("public", want("kubernetes-container-no-literal-credentials", `container "backup": args[1] passes --password a literal value`+credentialsHint)),
		},
	},
	{
		name: "password assigned in the bucket-init script",
		changes: []resourceChange{change(jobType, "data-platform-object-store-init",
			replaceText(deploymentPod+".containers.0.args.0", "set -eu", "set -eu\nMINIO_ROOT_PASSWORD=hunter2"))},
		runs: []expectedRun{
			on("pr-123", want("kubernetes-container-no-literal-credentials", `container "object-store-init": args[0] sets MINIO_ROOT_PASSWORD to a literal value`+credentialsHint)),
		},
	},

	// --- Images
	{
		name:    "frontend on the latest tag",
		changes: []resourceChange{change(deploymentType, "data-platform-frontend", set(deploymentPod+".containers.0.image", str("ghcr.io/virdx/vxplatform-frontend:latest")))},
		runs: []expectedRun{
			on("production",
				want("kubernetes-container-image-tagged", `container "frontend": image "ghcr.io/virdx/vxplatform-frontend:latest" uses the latest tag`),
				want("kubernetes-container-image-digest", `container "frontend": image is not pinned by digest (repository@sha256:...)`)),
			// public is not pinned, so the digest advisory is there before and after.
			on("public", want("kubernetes-container-image-tagged", `container "frontend": image "ghcr.io/virdx/vxplatform-frontend:latest" uses the latest tag`)),
		},
	},
	{
		name:    "untagged Postgres image",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres", set(deploymentPod+".containers.0.image", str("docker.io/library/postgres")))},
		runs: []expectedRun{
			on("staging",
				want("kubernetes-container-image-tagged", `container "postgres": image "docker.io/library/postgres" has no tag, which means latest`),
				want("kubernetes-container-image-digest", `container "postgres": image is not pinned by digest (repository@sha256:...)`)),
			on("pr-123", want("kubernetes-container-image-tagged", `container "postgres": image "docker.io/library/postgres" has no tag, which means latest`)),
		},
	},
	{
		name:    "API deployed by tag instead of digest",
		changes: []resourceChange{change(deploymentType, "data-platform-api", set(deploymentPod+".containers.0.image", str("ghcr.io/virdx/vxplatform-api:v1.4.2")))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-image-digest", `container "api": image is not pinned by digest (repository@sha256:...)`)),
			{stack: "public", config: []string{"pinImages", "true"}, want: []expected{want("kubernetes-container-image-digest", `container "api": image is not pinned by digest (repository@sha256:...)`)}},
		},
	},

	// --- Resources
	{
		name:    "API container without limits",
		changes: []resourceChange{change(deploymentType, "data-platform-api", del(deploymentPod+".containers.0.resources.limits"))},
		runs: []expectedRun{
			on("production", want("kubernetes-container-resources", `container "api": has no resources.limits.cpu, resources.limits.memory`)),
			on("public", want("kubernetes-container-resources", `container "api": has no resources.limits.cpu, resources.limits.memory`)),
		},
	},
	{
		name:    "Postgres container without a memory request",
		changes: []resourceChange{change(statefulSetType, "data-platform-postgres", del(deploymentPod+".containers.0.resources.requests.memory"))},
		runs: []expectedRun{
			on("staging", want("kubernetes-container-resources", `container "postgres": has no resources.requests.memory`)),
			on("pr-123", want("kubernetes-container-resources", `container "postgres": has no resources.requests.memory`)),
		},
	},

	// --- Objects the pack cannot see into
	{
		name:  "Helm v3 Release",
		extra: addHelmRelease,
		runs: []expectedRun{
			on("production", want("kubernetes-no-opaque-objects", "a Helm v3 Release deploys objects this pack cannot see; use a helm.sh/v4 Chart, whose objects it checks")),
			on("public", want("kubernetes-no-opaque-objects", "a Helm v3 Release deploys objects this pack cannot see; use a helm.sh/v4 Chart, whose objects it checks")),
		},
	},
	{
		name:  "server-side apply patch of the API Deployment",
		extra: addDeploymentPatch,
		runs: []expectedRun{
			on("staging", want("kubernetes-no-opaque-objects", "a DeploymentPatch changes an object this pack cannot see in full; declare the whole object instead")),
			on("pr-123", want("kubernetes-no-opaque-objects", "a DeploymentPatch changes an object this pack cannot see in full; declare the whole object instead")),
		},
	},
}

func addHTTPRoute(ctx *pulumi.Context, env stacks.Environment) error {
	_, err := apiextensions.NewCustomResource(ctx, "web-route", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("gateway.networking.k8s.io/v1"),
		Kind:       pulumi.String("HTTPRoute"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String("web"), Namespace: pulumi.String(env.Namespace)},
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
			"hostnames": []string{env.Ingress.Host},
			"rules":     []any{map[string]any{"backendRefs": []any{map[string]any{"name": "frontend", "port": 80}}}},
		}},
	})
	return err
}

func addAnonymousBucketPolicy(ctx *pulumi.Context, env stacks.Environment) error {
	_, err := minio.NewS3BucketPolicy(ctx, "open-bucket", &minio.S3BucketPolicyArgs{
		Bucket: pulumi.String(env.Storage.TargetBucket),
		Policy: pulumi.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`,
			env.Storage.TargetBucket)),
	})
	return err
}

func addHelmRelease(ctx *pulumi.Context, env stacks.Environment) error {
	_, err := helmv3.NewRelease(ctx, "dashboard", &helmv3.ReleaseArgs{
		Chart:     pulumi.String("kubernetes-dashboard"),
		Namespace: pulumi.String(env.Namespace),
	})
	return err
}

func addDeploymentPatch(ctx *pulumi.Context, env stacks.Environment) error {
	_, err := appsv1.NewDeploymentPatch(ctx, "scale-api", &appsv1.DeploymentPatchArgs{
		Metadata: &metav1.ObjectMetaPatchArgs{Name: pulumi.String(env.ResourceName("api")), Namespace: pulumi.String(env.Namespace)},
		Spec:     &appsv1.DeploymentSpecPatchArgs{Replicas: pulumi.Int(5)},
	})
	return err
}

// TestMisconfigurationCatalog applies each misconfiguration to a real stack and
// requires exactly the expected violations to appear (and none to disappear),
// each at the level its rule has on that stack, as the pack reports them over
// the Analyzer protocol.
func TestMisconfigurationCatalog(t *testing.T) {
	if len(catalog) < 25 {
		t.Fatalf("the catalog has %d misconfigurations; the pack must be proven on at least 25", len(catalog))
	}
	runs := 0
	for _, m := range catalog {
		runs += len(m.runs)
	}
	t.Logf("%d misconfigurations, %d runs", len(catalog), runs)
	// The catalog is judged by the pack as the engine serves it: over gRPC.
	client := startAnalyzer(t)
	handshake(t, client)
	// The real stacks' own verdicts, once per stack and config.
	baselines := map[string][]violation{}
	for _, m := range catalog {
		for _, r := range m.runs {
			t.Run(m.name+"/"+r.stack, func(t *testing.T) {
				config := append(append([]string{}, m.config...), r.config...)
				env := environment(t, r.stack, config)
				fill := placeholders(env)

				baseRun := runProgram(t, r.stack, config)
				baseline := inputsOf(baseRun)
				changed, firstURN := applyChanges(t, baseline, m.changes, fill)
				if m.extra != nil {
					extraRun := runProgram(t, r.stack, config, func(ctx *pulumi.Context) error { return m.extra(ctx, env) })
					changed = inputsOf(extraRun)
					firstURN = addedURN(t, baseline, changed)
				}
				key := fmt.Sprint(r.stack, config)
				before, seen := baselines[key]
				if !seen {
					before = evaluateOverGRPC(t, client, r.stack, baseline, baseline)
					baselines[key] = before
				}
				after := evaluateOverGRPC(t, client, r.stack, changed, changed)
				added, removed := diff(before, after)

				var wanted []violation
				for _, w := range r.want {
					urn := firstURN
					if w.at != "" {
						urn = findURN(t, changed, w.at)
					}
					level := ruleScope(t, w.policy).level(targetFor(r.stack))
					wanted = append(wanted, violation{policy: w.policy, level: level, message: fill.Replace(w.message), urn: urn})
				}
				missing, unexpected := diff(added, wanted)
				if len(missing) > 0 || len(unexpected) > 0 || len(removed) > 0 {
					t.Errorf("violations added by the misconfiguration:\n%s\nwanted:\n%s\nremoved by it:\n%s",
						listViolations(added), listViolations(wanted), listViolations(removed))
				}
				if !targetFor(r.stack).sensitive {
					for _, v := range added {
						if ruleScope(t, v.policy) == sensitiveOnly && v.level != policyx.EnforcementLevelAdvisory {
							t.Errorf("sensitive-only %s is %s on %s", v.policy, levelName(v.level), r.stack)
						}
					}
				}
			})
		}
	}
}

// TestCatalogCoversEveryRule: every rule is proven by at least one
// misconfiguration, and a sensitive-only rule is shown both to block on
// production or staging and only to advise elsewhere.
func TestCatalogCoversEveryRule(t *testing.T) {
	covered := map[string]bool{}
	for _, m := range catalog {
		for _, r := range m.runs {
			for _, w := range r.want {
				covered[w.policy] = true
			}
		}
	}
	for _, r := range allRuleNames() {
		if !covered[r] {
			t.Errorf("no misconfiguration in the catalog exercises %s", r)
		}
	}
	for _, m := range catalog {
		sensitiveOnlyRule := false
		var sensitiveRun, otherRun bool
		for _, r := range m.runs {
			for _, w := range r.want {
				if ruleScope(t, w.policy) == sensitiveOnly {
					sensitiveOnlyRule = true
				}
			}
			if targetFor(r.stack).sensitive {
				sensitiveRun = true
			} else {
				otherRun = true
			}
		}
		if sensitiveOnlyRule && !(sensitiveRun && otherRun) {
			t.Errorf("%q checks a sensitive-only rule but is not tried on both a sensitive and a non-sensitive stack", m.name)
		}
	}
}

// placeholders fills {stack}, {namespace}, {host} and {bucket} in the catalog's
// paths, values and messages with what they are on one stack.
func placeholders(env stacks.Environment) *strings.Replacer {
	return strings.NewReplacer("{stack}", env.Stack, "{namespace}", env.Namespace, "{host}", env.Ingress.Host, "{bucket}", env.Storage.TargetBucket)
}

// applyChanges edits or removes the named resources of a run.
func applyChanges(t *testing.T, resources []analyzed, changes []resourceChange, fill *strings.Replacer) ([]analyzed, string) {
	t.Helper()
	out := append([]analyzed(nil), resources...)
	var firstURN string
	for _, c := range changes {
		name := fill.Replace(c.name)
		i := indexOf(out, c.typ, name)
		if i < 0 {
			t.Fatalf("the run has no %s named %s", c.typ, name)
		}
		if firstURN == "" {
			firstURN = out[i].URN
		}
		if c.remove {
			out = append(out[:i], out[i+1:]...)
			continue
		}
		for _, e := range c.edits {
			out[i].Props = e(t, out[i].Props, fill)
		}
	}
	return out, firstURN
}

func indexOf(resources []analyzed, typ, name string) int {
	for i, r := range resources {
		if r.Type == typ && r.Name == name {
			return i
		}
	}
	return -1
}

// findURN is the URN of the resource "type::name".
func findURN(t *testing.T, resources []analyzed, ref string) string {
	t.Helper()
	typ, name, _ := strings.Cut(ref, "::")
	i := indexOf(resources, typ, name)
	if i < 0 {
		t.Fatalf("no resource %s", ref)
	}
	return resources[i].URN
}

// addedURN is the URN of the one resource a run has beyond the baseline.
func addedURN(t *testing.T, baseline, changed []analyzed) string {
	t.Helper()
	var added []string
	for _, r := range changed {
		if indexOf(baseline, r.Type, r.Name) < 0 {
			added = append(added, r.URN)
		}
	}
	if len(added) != 1 {
		t.Fatalf("expected the extra function to add one resource, it added %v", added)
	}
	return added[0]
}

func allRuleNames() []string {
	var names []string
	for _, r := range resourceRules {
		names = append(names, r.name)
	}
	for _, r := range stackRules {
		names = append(names, r.name)
	}
	return names
}
