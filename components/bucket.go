package components

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/internal/minio"
	"github.com/virdx/vxplatform-infra/stacks"
)

// BucketArgs are the inputs of Bucket.
type BucketArgs struct {
	Env stacks.Environment
}

// Bucket is the environment's share of the central MinIO: the buckets it owns, one
// user per identity of the access matrix with that identity's IAM policy, and each
// identity's keys as a Kubernetes Secret. The MinIO provider comes from the parent.
type Bucket struct {
	pulumi.ResourceState

	BucketNames pulumi.StringArrayOutput `pulumi:"bucketNames"`
	// AccessSecrets maps an identity's purpose to the name of its storage access Secret.
	AccessSecrets pulumi.StringMapOutput `pulumi:"accessSecrets"`
}

// NewBucket creates an environment's buckets and identities on the central store.
func NewBucket(ctx *pulumi.Context, name string, args *BucketArgs, opts ...pulumi.ResourceOption) (*Bucket, error) {
	component := &Bucket{}
	if err := ctx.RegisterComponentResource(typePrefix+"Bucket", name, component, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	parent := pulumi.Parent(component)
	var names pulumi.StringArray
	var buckets []pulumi.Resource
	for _, owned := range env.Storage.OwnedBuckets {
		bucket, err := newOwnedBucket(ctx, name+"-"+owned.Name, owned, parent)
		if err != nil {
			return nil, err
		}
		names = append(names, bucket.Bucket)
		buckets = append(buckets, bucket)
	}
	secrets := pulumi.StringMap{}
	for _, id := range env.Storage.Identities {
		if id.Store != stacks.StoreCentral {
			continue
		}
		secretName, err := newCentralIdentity(ctx, name+"-"+string(id.Purpose), env, id, append([]pulumi.ResourceOption{parent}, pulumi.DependsOn(buckets))...)
		if err != nil {
			return nil, err
		}
		secrets[string(id.Purpose)] = secretName
	}
	component.BucketNames = names.ToStringArrayOutput()
	component.AccessSecrets = secrets.ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"bucketNames":   component.BucketNames,
		"accessSecrets": component.AccessSecrets,
	}); err != nil {
		return nil, err
	}
	return component, nil
}

func newOwnedBucket(ctx *pulumi.Context, name string, owned stacks.OwnedBucket, parent pulumi.ResourceOption) (*minio.S3Bucket, error) {
	opts := []pulumi.ResourceOption{parent}
	if owned.Protected {
		opts = append(opts, pulumi.Protect(true))
	}
	bucket, err := minio.NewS3Bucket(ctx, name, &minio.S3BucketArgs{
		Bucket:       pulumi.StringPtr(owned.Name),
		Acl:          pulumi.StringPtr("private"),
		ForceDestroy: pulumi.BoolPtr(false),
	}, opts...)
	if err != nil {
		return nil, err
	}
	if owned.Versioned {
		if _, err := minio.NewS3BucketVersioning(ctx, name, &minio.S3BucketVersioningArgs{
			Bucket:                  bucket.Bucket,
			VersioningConfiguration: &minio.S3BucketVersioningVersioningConfigurationArgs{Status: pulumi.String("Enabled")},
		}, parent); err != nil {
			return nil, err
		}
	}
	if owned.RetentionDays > 0 {
		if _, err := minio.NewIlmPolicy(ctx, name, &minio.IlmPolicyArgs{
			Bucket: bucket.Bucket,
			Rules: minio.IlmPolicyRuleArray{
				// Dumps only: pgBackRest writes archive.info and backup.info once
				// and expires its own backups and WAL by age; an expiry of its
				// current objects would break the repository.
				minio.IlmPolicyRuleArgs{
					Id:                              pulumi.String("expire-backups"),
					Filter:                          pulumi.StringPtr(stacks.BackupObjectPrefix),
					Expiration:                      pulumi.StringPtr(fmt.Sprintf("%dd", owned.RetentionDays)),
					NoncurrentVersionExpirationDays: pulumi.IntPtr(owned.RetentionDays),
					Status:                          pulumi.StringPtr("Enabled"),
				},
				// What pgBackRest expired, or a stolen key deleted, stays as a
				// non-current version for the retention period.
				minio.IlmPolicyRuleArgs{
					Id:                              pulumi.String("expire-archive-history"),
					Filter:                          pulumi.StringPtr(stacks.ArchiveObjectPrefix),
					NoncurrentVersionExpirationDays: pulumi.IntPtr(owned.RetentionDays),
					Status:                          pulumi.StringPtr("Enabled"),
				},
			},
		}, parent); err != nil {
			return nil, err
		}
	}
	return bucket, nil
}

// newCentralIdentity creates a user with exactly its grants and returns the name of
// its storage access Secret.
func newCentralIdentity(ctx *pulumi.Context, name string, env stacks.Environment, id stacks.Identity, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	document, err := id.PolicyJSON()
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	secretKey, err := generatedSecretKey(ctx, name+"-key", opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	user, err := minio.NewIamUser(ctx, name, &minio.IamUserArgs{
		Name:   pulumi.StringPtr(id.Name),
		Secret: secretKey.Result,
	}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	policy, err := minio.NewIamPolicy(ctx, name, &minio.IamPolicyArgs{
		Name:   pulumi.StringPtr(id.Name),
		Policy: pulumi.String(document),
	}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := minio.NewIamUserPolicyAttachment(ctx, name, &minio.IamUserPolicyAttachmentArgs{
		UserName:   user.Name,
		PolicyName: policy.Name,
	}, opts...); err != nil {
		return pulumi.StringOutput{}, err
	}
	secret, err := newStorageAccessSecret(ctx, name+"-credentials", env, id, user.Name, secretKey.Result, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return secret.Metadata.Name().Elem(), nil
}
