package components

import (
	"net"
	"strconv"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

// Container ports of the platform's workloads.
const (
	frontendPort    = 3000
	apiPort         = 8000
	postgresPort    = 5432
	objectStorePort = 9000
)

// TrafficRulesArgs are the inputs of TrafficRules.
type TrafficRulesArgs struct {
	Env stacks.Environment
}

// TrafficRules are the explicit allows on top of the namespace's default deny:
// frontend to API, API to Postgres, jobs to Postgres, and egress to the S3
// endpoints only. They select pods of one environment instance, so previews
// sharing a namespace cannot reach each other.
type TrafficRules struct {
	pulumi.ResourceState

	PolicyNames pulumi.StringArrayOutput `pulumi:"policyNames"`
}

// peer is one side of an allowed connection.
type peer struct {
	parts []string // pods of this environment with these app.kubernetes.io/name values
	cidr  string   // or an address range outside the cluster
	// ingressClass selects the ingress controller's namespace by its class label.
	ingressClass string
}

type allowRule struct {
	name    string
	target  []string
	ingress []flow
	egress  []flow
}

type flow struct {
	peer peer
	port int
}

// ingressControllerLabel marks the namespace of the ingress controller serving a class.
const ingressControllerLabel = "virdx.dev/ingress-class"

// NewTrafficRules creates the allow policies of one environment instance.
func NewTrafficRules(ctx *pulumi.Context, name string, args *TrafficRulesArgs, opts ...pulumi.ResourceOption) (*TrafficRules, error) {
	component := &TrafficRules{}
	if err := ctx.RegisterComponentResource(typePrefix+"TrafficRules", name, component, opts...); err != nil {
		return nil, err
	}
	var names pulumi.StringArray
	for _, rule := range allowRules(args.Env) {
		policy, err := networkingv1.NewNetworkPolicy(ctx, name+"-"+rule.name, &networkingv1.NetworkPolicyArgs{
			Metadata: objectMeta(args.Env, "allow-"+rule.name, rule.target[0]),
			Spec:     rule.spec(args.Env),
		}, pulumi.Parent(component))
		if err != nil {
			return nil, err
		}
		names = append(names, policy.Metadata.Name().Elem())
	}
	component.PolicyNames = names.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{"policyNames": component.PolicyNames}); err != nil {
		return nil, err
	}
	return component, nil
}

// allowRules is the whole traffic matrix of an environment.
func allowRules(env stacks.Environment) []allowRule {
	central := flow{peer: peer{cidr: env.Storage.Central.EgressCIDR}, port: endpointPort(env.Storage.Central.HostPort)}
	objectStores := []flow{central}
	if env.Storage.TargetIsPreviewStore {
		objectStores = append(objectStores, flow{peer: peer{parts: []string{partObjectStore}}, port: objectStorePort})
	}
	frontendIn := []flow{}
	if env.Ingress.Enabled {
		frontendIn = append(frontendIn, flow{peer: peer{ingressClass: env.Ingress.Class}, port: frontendPort})
	}
	jobs := []string{partBackup, partRestore}
	rules := []allowRule{
		{name: partFrontend, target: []string{partFrontend}, ingress: frontendIn,
			egress: append([]flow{{peer: peer{parts: []string{partAPI}}, port: apiPort}}, objectStores...)},
		{name: partAPI, target: []string{partAPI}, ingress: []flow{{peer: peer{parts: []string{partFrontend}}, port: apiPort}},
			egress: append([]flow{{peer: peer{parts: []string{partPostgres}}, port: postgresPort}}, objectStores...)},
		{name: partPostgres, target: []string{partPostgres},
			ingress: []flow{{peer: peer{parts: append([]string{partAPI}, jobs...)}, port: postgresPort}}},
		{name: "jobs", target: jobs,
			egress: []flow{{peer: peer{parts: []string{partPostgres}}, port: postgresPort}, central}},
	}
	if env.Backup.PointInTime != nil {
		rules = append(rules, archiveRules(central)...)
	}
	if env.Storage.TargetIsPreviewStore {
		rules = append(rules,
			allowRule{name: partObjectStore, target: []string{partObjectStore},
				ingress: []flow{{peer: peer{parts: []string{partAPI, partFrontend, partBucketInit}}, port: objectStorePort}}},
			allowRule{name: partBucketInit, target: []string{partBucketInit},
				egress: []flow{{peer: peer{parts: []string{partObjectStore}}, port: objectStorePort}}})
	}
	return rules
}

// archiveRules let the database's pgBackRest (archive-push in the server, the
// sidecar) reach the repository, and the pgBackRest jobs reach the repository
// and the sidecar's TLS server.
func archiveRules(central flow) []allowRule {
	return []allowRule{
		{name: "postgres-archive", target: []string{partPostgres},
			ingress: []flow{{peer: peer{parts: []string{partArchive}}, port: archiveServerPort}},
			egress:  []flow{central}},
		{name: partArchive, target: []string{partArchive},
			egress: []flow{{peer: peer{parts: []string{partPostgres}}, port: archiveServerPort}, central}},
	}
}

func (r allowRule) spec(env stacks.Environment) *networkingv1.NetworkPolicySpecArgs {
	var types pulumi.StringArray
	var ingress networkingv1.NetworkPolicyIngressRuleArray
	var egress networkingv1.NetworkPolicyEgressRuleArray
	if r.ingress != nil {
		types = append(types, pulumi.String("Ingress"))
		for _, f := range r.ingress {
			ingress = append(ingress, networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{f.peer.args(env)}, Ports: tcpPort(f.port)})
		}
	}
	if r.egress != nil {
		types = append(types, pulumi.String("Egress"))
		for _, f := range r.egress {
			egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{f.peer.args(env)}, Ports: tcpPort(f.port)})
		}
	}
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: partsSelector(env, r.target),
		PolicyTypes: types,
		Ingress:     ingress,
		Egress:      egress,
	}
}

func (p peer) args(env stacks.Environment) networkingv1.NetworkPolicyPeerArgs {
	switch {
	case p.cidr != "":
		return networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(p.cidr)}}
	case p.ingressClass != "":
		return networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
			MatchLabels: pulumi.StringMap{ingressControllerLabel: pulumi.String(p.ingressClass)}}}
	}
	return networkingv1.NetworkPolicyPeerArgs{PodSelector: partsSelector(env, p.parts)}
}

// partsSelector selects the pods of some parts of this one environment instance.
func partsSelector(env stacks.Environment, parts []string) *metav1.LabelSelectorArgs {
	return &metav1.LabelSelectorArgs{
		MatchLabels: pulumi.StringMap{"app.kubernetes.io/instance": pulumi.String(env.Instance())},
		MatchExpressions: metav1.LabelSelectorRequirementArray{metav1.LabelSelectorRequirementArgs{
			Key: pulumi.String("app.kubernetes.io/name"), Operator: pulumi.String("In"), Values: pulumi.ToStringArray(parts)}},
	}
}

func tcpPort(port int) networkingv1.NetworkPolicyPortArray {
	return networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(port), Protocol: pulumi.String("TCP")}}
}

// endpointPort is the port of a validated host:port.
func endpointPort(hostPort string) int {
	_, port, _ := net.SplitHostPort(hostPort)
	n, _ := strconv.Atoi(port)
	return n
}
