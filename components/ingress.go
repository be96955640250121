package components

import (
	"strings"

	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

// sourceRangeAnnotation is how the ingress controller enforces a source allow-list.
const sourceRangeAnnotation = "nginx.ingress.kubernetes.io/whitelist-source-range"

// IngressArgs are the inputs of Ingress.
type IngressArgs struct {
	Env             stacks.Environment
	FrontendService pulumi.StringInput
}

// Ingress publishes the frontend under the environment's readable hostname, over
// TLS, through the class (and source allow-list) the environment model chose.
type Ingress struct {
	pulumi.ResourceState

	Hostname pulumi.StringOutput `pulumi:"hostname"`
}

// NewIngress creates the environment's Ingress.
func NewIngress(ctx *pulumi.Context, name string, args *IngressArgs, opts ...pulumi.ResourceOption) (*Ingress, error) {
	component := &Ingress{}
	if err := ctx.RegisterComponentResource(typePrefix+"Ingress", name, component, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	meta := objectMeta(env, "web", partFrontend)
	if len(env.Ingress.AllowedSources) > 0 {
		meta.Annotations = pulumi.StringMap{sourceRangeAnnotation: pulumi.String(strings.Join(env.Ingress.AllowedSources, ","))}
	}
	host := env.Ingress.Host
	ingress, err := networkingv1.NewIngress(ctx, name, &networkingv1.IngressArgs{
		Metadata: meta,
		Spec: &networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(env.Ingress.Class),
			Tls: networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
				Hosts: pulumi.ToStringArray([]string{host}), SecretName: pulumi.String(env.Ingress.TLSSecret)}},
			Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
				Host: pulumi.String(host),
				Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{networkingv1.HTTPIngressPathArgs{
					Path: pulumi.String("/"), PathType: pulumi.String("Prefix"),
					Backend: &networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
						Name: args.FrontendService, Port: &networkingv1.ServiceBackendPortArgs{Name: pulumi.String("http")}}},
				}}},
			}},
		},
	}, pulumi.Parent(component))
	if err != nil {
		return nil, err
	}
	component.Hostname = ingress.Spec.Rules().Index(pulumi.Int(0)).Host().Elem()
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{"hostname": component.Hostname}); err != nil {
		return nil, err
	}
	return component, nil
}
