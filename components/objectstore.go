package components

import (
	"fmt"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

const (
	objectStoreData   = "/data"
	objectStoreConfig = "/policies"
	// objectStoreUID is an arbitrary non-root user; MinIO needs none of its own.
	objectStoreUID = 10002
)

// ObjectStoreArgs are the inputs of ObjectStore.
type ObjectStoreArgs struct {
	Env       stacks.Environment
	Image     pulumi.StringInput
	ToolImage pulumi.StringInput
}

// ObjectStore is a preview's own small MinIO inside the cluster: workload, volume,
// Service, root Secret, and a Job that creates the preview's bucket and its users,
// so that nothing outside the cluster has to reach it.
type ObjectStore struct {
	pulumi.ResourceState

	// Endpoint is host:port of the store inside the cluster.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// AccessSecrets maps an identity's purpose to the name of its storage access Secret.
	AccessSecrets pulumi.StringMapOutput `pulumi:"accessSecrets"`
}

// NewObjectStore creates a preview's in-cluster object store.
func NewObjectStore(ctx *pulumi.Context, name string, args *ObjectStoreArgs, opts ...pulumi.ResourceOption) (*ObjectStore, error) {
	component := &ObjectStore{}
	if err := ctx.RegisterComponentResource(typePrefix+"ObjectStore", name, component, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	parent := pulumi.Parent(component)
	serviceName := env.ResourceName(partObjectStore)
	endpoint := fmt.Sprintf("%s.%s.svc:%d", serviceName, env.Namespace, objectStorePort)

	root, err := newRootAccessSecret(ctx, name, env, parent)
	if err != nil {
		return nil, err
	}
	var identities []stacks.Identity
	for _, id := range env.Storage.Identities {
		if id.Store == stacks.StorePreview {
			identities = append(identities, id)
		}
	}
	secrets := pulumi.StringMap{}
	policies := pulumi.StringMap{}
	for _, id := range identities {
		document, err := id.PolicyJSON()
		if err != nil {
			return nil, err
		}
		policies[string(id.Purpose)+".json"] = pulumi.String(document)
		key, err := generatedSecretKey(ctx, name+"-"+string(id.Purpose)+"-key", parent)
		if err != nil {
			return nil, err
		}
		secret, err := newStorageAccessSecret(ctx, name+"-"+string(id.Purpose), env, id, pulumi.String(id.Name), key.Result, parent)
		if err != nil {
			return nil, err
		}
		secrets[string(id.Purpose)] = secret.Metadata.Name().Elem()
	}
	policyMap, err := corev1.NewConfigMap(ctx, name+"-policies", &corev1.ConfigMapArgs{
		Metadata: objectMeta(env, "object-store-policies", partBucketInit),
		Data:     policies,
	}, parent)
	if err != nil {
		return nil, err
	}
	claim, err := corev1.NewPersistentVolumeClaim(ctx, name, &corev1.PersistentVolumeClaimArgs{
		Metadata: objectMeta(env, partObjectStore, partObjectStore),
		Spec:     claimSpec(env.Sizing.ObjectStoreVolume),
	}, parent)
	if err != nil {
		return nil, err
	}
	service, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: objectMeta(env, partObjectStore, partObjectStore),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: selectorLabels(env, partObjectStore),
			Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("s3"), Port: pulumi.Int(objectStorePort), TargetPort: pulumi.String("s3")}},
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	server, err := appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: objectMeta(env, partObjectStore, partObjectStore),
		Spec:     objectStoreSpec(env, args.Image, root, claim.Metadata.Name().Elem()),
	}, parent)
	if err != nil {
		return nil, err
	}
	initPod := podSpec(podArgs{
		RunAsUser: nonRootUser,
		Restart:   restartOnFailure,
		Volumes: corev1.VolumeArray{corev1.VolumeArgs{
			Name: pulumi.String("policies"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: policyMap.Metadata.Name().Elem()},
		}},
		Containers: []containerSpec{bucketInitContainer(env, args.ToolImage, endpoint, root, identities, secrets)},
	})
	if _, err := batchv1.NewJob(ctx, name+"-init", &batchv1.JobArgs{
		Metadata: objectMeta(env, partBucketInit, partBucketInit),
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(6),
			ActiveDeadlineSeconds: pulumi.Int(600),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: objectLabels(env, partBucketInit)},
				Spec:     initPod,
			},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{server, service})); err != nil {
		return nil, err
	}
	component.Endpoint = pulumi.String(endpoint).ToStringOutput()
	component.AccessSecrets = secrets.ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"endpoint":      component.Endpoint,
		"accessSecrets": component.AccessSecrets,
	}); err != nil {
		return nil, err
	}
	return component, nil
}

// newRootAccessSecret generates the store's root user and returns the name of its
// storage access Secret; only the store and its init Job use it.
func newRootAccessSecret(ctx *pulumi.Context, name string, env stacks.Environment, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	key, err := generatedSecretKey(ctx, name+"-root-key", parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	secret, err := corev1.NewSecret(ctx, name+"-root", &corev1.SecretArgs{
		Metadata: objectMeta(env, "object-store-root", partObjectStore),
		Type:     pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			StorageAccessKeyID:     pulumi.String("root-" + env.Instance()),
			StorageAccessSecretKey: key.Result,
		},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return secret.Metadata.Name().Elem(), nil
}

func claimSpec(vol stacks.Volume) *corev1.PersistentVolumeClaimSpecArgs {
	spec := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.ToStringArray([]string{"ReadWriteOnce"}),
		Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(vol.Size)}},
	}
	if vol.StorageClass != "" {
		spec.StorageClassName = pulumi.String(vol.StorageClass)
	}
	return spec
}

func objectStoreSpec(env stacks.Environment, image pulumi.StringInput, root, claim pulumi.StringOutput) *appsv1.DeploymentSpecArgs {
	container := containerSpec{
		Name:     partObjectStore,
		Image:    image,
		Args:     []string{"server", objectStoreData, "--address", fmt.Sprintf(":%d", objectStorePort)},
		Port:     objectStorePort,
		PortName: "s3",
		Env: corev1.EnvVarArray{
			secretEnv("MINIO_ROOT_USER", root, StorageAccessKeyID),
			secretEnv("MINIO_ROOT_PASSWORD", root, StorageAccessSecretKey),
			plainEnv("MINIO_BROWSER", "off"),
			plainEnv("MINIO_UPDATE", "off"),
		},
		Resources:     env.Sizing.ObjectStore.Resources,
		Readiness:     &corev1.ProbeArgs{HttpGet: &corev1.HTTPGetActionArgs{Path: pulumi.String("/minio/health/ready"), Port: pulumi.String("s3")}, PeriodSeconds: pulumi.Int(10)},
		Liveness:      &corev1.ProbeArgs{HttpGet: &corev1.HTTPGetActionArgs{Path: pulumi.String("/minio/health/live"), Port: pulumi.String("s3")}, PeriodSeconds: pulumi.Int(20)},
		WritablePaths: []string{"/tmp"},
		Mounts:        corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String(objectStoreData)}},
	}
	return &appsv1.DeploymentSpecArgs{
		Replicas: pulumi.Int(env.Sizing.ObjectStore.Replicas),
		Selector: &metav1.LabelSelectorArgs{MatchLabels: selectorLabels(env, partObjectStore)},
		// One volume, one writer: the old pod stops before the new one starts.
		Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")},
		Template: &corev1.PodTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: objectLabels(env, partObjectStore)},
			Spec: podSpec(podArgs{
				RunAsUser: objectStoreUID,
				Volumes: corev1.VolumeArray{corev1.VolumeArgs{
					Name: pulumi.String("data"), PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: claim},
				}},
				Containers: []containerSpec{container},
			}),
		},
	}
}

// bucketInitContainer creates the bucket and one user per identity, each with its
// policy from the mounted ConfigMap. Keys come from Secrets through the
// environment; the script names variables, never values.
func bucketInitContainer(env stacks.Environment, image pulumi.StringInput, endpoint string, root pulumi.StringOutput, identities []stacks.Identity, secrets pulumi.StringMap) containerSpec {
	vars := corev1.EnvVarArray{
		plainEnv("MC_CONFIG_DIR", "/tmp/.mc"),
		plainEnv("STORE_URL", "http://"+endpoint),
		plainEnv("BUCKET", env.Storage.TargetBucket),
		secretEnv("ROOT_USER", root, StorageAccessKeyID),
		secretEnv("ROOT_PASSWORD", root, StorageAccessSecretKey),
	}
	script := []string{
		"set -eu",
		`mc alias set store "$STORE_URL" "$ROOT_USER" "$ROOT_PASSWORD"`,
		`mc mb --ignore-existing "store/$BUCKET"`,
	}
	for _, id := range identities {
		upper := strings.ToUpper(string(id.Purpose))
		vars = append(vars,
			secretEnv(upper+"_ACCESS_KEY", secrets[string(id.Purpose)], StorageAccessKeyID),
			secretEnv(upper+"_SECRET_KEY", secrets[string(id.Purpose)], StorageAccessSecretKey))
		script = append(script,
			fmt.Sprintf(`mc admin policy create store %s %s/%s.json`, id.Name, objectStoreConfig, id.Purpose),
			fmt.Sprintf(`mc admin user add store "$%s_ACCESS_KEY" "$%s_SECRET_KEY"`, upper, upper),
			fmt.Sprintf(`mc admin policy attach store %s --user "$%s_ACCESS_KEY"`, id.Name, upper))
	}
	return containerSpec{
		Name:          partBucketInit,
		Image:         image,
		Command:       []string{"/bin/sh", "-c"},
		Args:          []string{strings.Join(script, "\n")},
		Env:           vars,
		Resources:     env.Sizing.Job,
		WritablePaths: []string{"/tmp"},
		Mounts:        corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("policies"), MountPath: pulumi.String(objectStoreConfig), ReadOnly: pulumi.Bool(true)}},
	}
}
