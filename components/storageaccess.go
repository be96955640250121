package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

// Keys of every storage access Secret: the access key pair of one object-store
// identity, the only way a workload learns it.
const (
	StorageAccessKeyID     = "accessKeyId"
	StorageAccessSecretKey = "secretAccessKey"
)

// generatedSecretKey makes a secret key for an object-store identity. It stays a
// Pulumi secret from here to the Kubernetes Secret.
func generatedSecretKey(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (*random.RandomPassword, error) {
	return random.NewRandomPassword(ctx, name, &random.RandomPasswordArgs{
		Length:  pulumi.Int(40),
		Special: pulumi.Bool(false),
	}, opts...)
}

// storageAccessSecretName is the Kubernetes Secret holding one identity's keys.
func storageAccessSecretName(env stacks.Environment, id stacks.Identity) string {
	name := "s3-" + string(id.Purpose)
	if id.Store == stacks.StorePreview {
		name = "object-store-" + string(id.Purpose)
	}
	return env.ResourceName(name)
}

// newStorageAccessSecret delivers an identity's keys to the workloads that use it.
func newStorageAccessSecret(ctx *pulumi.Context, name string, env stacks.Environment, id stacks.Identity, accessKey, secretKey pulumi.StringInput, opts ...pulumi.ResourceOption) (*corev1.Secret, error) {
	meta := objectMeta(env, "", string(id.Purpose))
	meta.Name = pulumi.String(storageAccessSecretName(env, id))
	return corev1.NewSecret(ctx, name, &corev1.SecretArgs{
		Metadata: meta,
		Type:     pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			StorageAccessKeyID:     accessKey,
			StorageAccessSecretKey: secretKey,
		},
	}, opts...)
}
