//go:build e2e

package e2e

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/program"
)

// exposureServiceName is the test's LoadBalancer Service (also its Pulumi name).
const exposureServiceName = "e2e-public-api"

// withPublicExposure is the real program plus the mistake the policy pack exists
// to stop: production's API published through a LoadBalancer. It lives in the
// test; the program has no switch for it.
func withPublicExposure(ctx *pulumi.Context) error {
	if err := program.Run(ctx); err != nil {
		return err
	}
	k8s, err := kubernetes.NewProvider(ctx, "e2e-exposure-kubernetes", &kubernetes.ProviderArgs{
		Context: pulumi.StringPtr(localenv.KubeContext),
	})
	if err != nil {
		return err
	}
	_, err = corev1.NewService(ctx, exposureServiceName, &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(exposureServiceName), Namespace: pulumi.String("data-platform-production")},
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("LoadBalancer"),
			Selector: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("api"), "app.kubernetes.io/instance": pulumi.String("production")},
			Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Port: pulumi.Int(443), TargetPort: pulumi.String("http")}},
		},
	}, pulumi.Provider(k8s))
	return err
}
