package components

import (
	"strconv"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

// NamespaceArgs are the inputs of a Namespace.
type NamespaceArgs struct {
	Env stacks.Environment
}

// Namespace is an isolated namespace: quota, container bounds, and a default-deny
// network policy, so that nothing talks to anything unless an explicit rule says so.
type Namespace struct {
	pulumi.ResourceState

	Name pulumi.StringOutput `pulumi:"name"`
}

// NewNamespace creates the namespace of an environment that owns one.
func NewNamespace(ctx *pulumi.Context, name string, args *NamespaceArgs, opts ...pulumi.ResourceOption) (*Namespace, error) {
	component := &Namespace{}
	if err := ctx.RegisterComponentResource(typePrefix+"Namespace", name, component, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	parent := pulumi.Parent(component)
	nsOpts := []pulumi.ResourceOption{parent}
	if env.ProtectNamespace {
		nsOpts = append(nsOpts, pulumi.Protect(true))
	}
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(env.Namespace), Labels: namespaceLabels(env)},
	}, nsOpts...)
	if err != nil {
		return nil, err
	}
	// Children depend on the namespace object, not just its name, so they wait for it.
	inNamespace := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns})}
	meta := func(objectName string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: pulumi.String(env.Namespace), Labels: namespaceLabels(env)}
	}
	q := env.Sizing.Quota
	if _, err := corev1.NewResourceQuota(ctx, name+"-quota", &corev1.ResourceQuotaArgs{
		Metadata: meta("quota"),
		Spec: &corev1.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{
			"requests.cpu":           pulumi.String(q.CPURequests),
			"requests.memory":        pulumi.String(q.MemoryRequests),
			"limits.cpu":             pulumi.String(q.CPULimits),
			"limits.memory":          pulumi.String(q.MemoryLimits),
			"pods":                   pulumi.String(strconv.Itoa(q.Pods)),
			"persistentvolumeclaims": pulumi.String(strconv.Itoa(q.Claims)),
			"requests.storage":       pulumi.String(q.Storage),
			// Only the ingress controller may expose anything.
			"services.loadbalancers": pulumi.String("0"),
			"services.nodeports":     pulumi.String("0"),
		}},
	}, inNamespace...); err != nil {
		return nil, err
	}
	b := env.Sizing.Bounds
	if _, err := corev1.NewLimitRange(ctx, name+"-limits", &corev1.LimitRangeArgs{
		Metadata: meta("container-bounds"),
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{corev1.LimitRangeItemArgs{
			Type:           pulumi.String("Container"),
			DefaultRequest: pulumi.StringMap{"cpu": pulumi.String(b.Default.CPURequest), "memory": pulumi.String(b.Default.MemoryRequest)},
			Default:        pulumi.StringMap{"cpu": pulumi.String(b.Default.CPULimit), "memory": pulumi.String(b.Default.MemoryLimit)},
			Max:            pulumi.StringMap{"cpu": pulumi.String(b.MaxCPU), "memory": pulumi.String(b.MaxMem)},
		}}},
	}, inNamespace...); err != nil {
		return nil, err
	}
	if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-default-deny", &networkingv1.NetworkPolicyArgs{
		Metadata: meta("default-deny"),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
		},
	}, inNamespace...); err != nil {
		return nil, err
	}
	if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-allow-dns", &networkingv1.NetworkPolicyArgs{
		Metadata: meta("allow-dns"),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
					NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
					PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"k8s-app": pulumi.String("kube-dns")}},
				}},
				Ports: networkingv1.NetworkPolicyPortArray{
					networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(53), Protocol: pulumi.String("UDP")},
					networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(53), Protocol: pulumi.String("TCP")},
				},
			}},
		},
	}, inNamespace...); err != nil {
		return nil, err
	}
	component.Name = ns.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{"name": component.Name}); err != nil {
		return nil, err
	}
	return component, nil
}

func namespaceLabels(env stacks.Environment) pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/part-of":          pulumi.String("data-platform"),
		"app.kubernetes.io/managed-by":       pulumi.String("pulumi"),
		labelKind:                            pulumi.String(env.NamespaceClass.OwnerKind),
		labelSensitivity:                     pulumi.String(env.NamespaceClass.Sensitivity),
		"pod-security.kubernetes.io/enforce": pulumi.String("restricted"),
	}
}
