package components

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

// WebServiceArgs are the inputs of a WebService.
type WebServiceArgs struct {
	Env       stacks.Environment
	Part      string // frontend or api
	Image     pulumi.StringInput
	Workload  stacks.Workload
	Port      int
	ReadyPath string
	LivePath  string
	// Variables are the container's environment; credentials only as Secret references.
	Variables corev1.EnvVarArray
}

// WebService is a stateless HTTP workload: a Deployment that keeps its capacity
// through rollouts, a ClusterIP Service, and a PodDisruptionBudget when it has
// more than one replica.
type WebService struct {
	pulumi.ResourceState

	ServiceName    pulumi.StringOutput `pulumi:"serviceName"`
	DeploymentName pulumi.StringOutput `pulumi:"deploymentName"`
	Image          pulumi.StringOutput `pulumi:"image"`
}

// NewWebService creates a web service of an environment.
func NewWebService(ctx *pulumi.Context, name string, args *WebServiceArgs, opts ...pulumi.ResourceOption) (*WebService, error) {
	component := &WebService{}
	if err := ctx.RegisterComponentResource(typePrefix+"WebService", name, component, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	parent := pulumi.Parent(component)
	container := containerSpec{
		Name:          args.Part,
		Image:         args.Image,
		Env:           args.Variables,
		Port:          args.Port,
		Resources:     args.Workload.Resources,
		Readiness:     httpProbe(args.ReadyPath, 5),
		Liveness:      httpProbe(args.LivePath, 15),
		WritablePaths: []string{"/tmp"},
	}
	pod := podSpec(podArgs{RunAsUser: nonRootUser, Containers: []containerSpec{container}})
	// Replicas on different nodes, where the cluster has them, so one node lost
	// does not take the service down.
	pod.TopologySpreadConstraints = corev1.TopologySpreadConstraintArray{corev1.TopologySpreadConstraintArgs{
		MaxSkew:           pulumi.Int(1),
		TopologyKey:       pulumi.String("kubernetes.io/hostname"),
		WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
		LabelSelector:     &metav1.LabelSelectorArgs{MatchLabels: selectorLabels(env, args.Part)},
	}}
	deployment, err := appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: objectMeta(env, args.Part, args.Part),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(args.Workload.Replicas),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: selectorLabels(env, args.Part)},
			// Surge first, never drop below the desired count during a rollout.
			Strategy: &appsv1.DeploymentStrategyArgs{
				Type:          pulumi.String("RollingUpdate"),
				RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{MaxUnavailable: pulumi.Int(0), MaxSurge: pulumi.Int(1)},
			},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: objectLabels(env, args.Part)},
				Spec:     pod,
			},
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	service, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: objectMeta(env, args.Part, args.Part),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: selectorLabels(env, args.Part),
			Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("http"), Port: pulumi.Int(80), TargetPort: pulumi.String("http")}},
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	if args.Workload.Replicas > 1 {
		if _, err := policyv1.NewPodDisruptionBudget(ctx, name, &policyv1.PodDisruptionBudgetArgs{
			Metadata: objectMeta(env, args.Part, args.Part),
			Spec: &policyv1.PodDisruptionBudgetSpecArgs{
				MaxUnavailable: pulumi.Int(1),
				Selector:       &metav1.LabelSelectorArgs{MatchLabels: selectorLabels(env, args.Part)},
			},
		}, parent); err != nil {
			return nil, err
		}
	}
	component.ServiceName = service.Metadata.Name().Elem()
	component.DeploymentName = deployment.Metadata.Name().Elem()
	component.Image = args.Image.ToStringOutput()
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"serviceName":    component.ServiceName,
		"deploymentName": component.DeploymentName,
		"image":          component.Image,
	}); err != nil {
		return nil, err
	}
	return component, nil
}
