package minio

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const s3BucketPolicyToken = "minio:index/s3BucketPolicy:S3BucketPolicy"

// S3BucketPolicy attaches a resource policy to a bucket. Such a policy can
// grant anonymous access, which is why the policy pack inspects it.
type S3BucketPolicy struct {
	pulumi.CustomResourceState

	Bucket pulumi.StringOutput `pulumi:"bucket"`
	Policy pulumi.StringOutput `pulumi:"policy"`
}

type s3BucketPolicyArgs struct {
	Bucket string `pulumi:"bucket"`
	Policy string `pulumi:"policy"`
}

// S3BucketPolicyArgs configures an S3BucketPolicy.
type S3BucketPolicyArgs struct {
	Bucket pulumi.StringInput
	// Policy is an S3 bucket policy as a JSON document.
	Policy pulumi.StringInput
}

func (S3BucketPolicyArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*s3BucketPolicyArgs)(nil)).Elem()
}

// NewS3BucketPolicy registers an S3BucketPolicy.
func NewS3BucketPolicy(ctx *pulumi.Context,
	name string, args *S3BucketPolicyArgs, opts ...pulumi.ResourceOption) (*S3BucketPolicy, error) {
	if args == nil {
		args = &S3BucketPolicyArgs{}
	}
	if err := checkRequired("S3BucketPolicy", name,
		requiredInput{"Bucket", args.Bucket},
		requiredInput{"Policy", args.Policy},
	); err != nil {
		return nil, err
	}
	var policy S3BucketPolicy
	err := ctx.RegisterResource(s3BucketPolicyToken, name, args, &policy, withPackageDefaults(opts)...)
	if err != nil {
		return nil, err
	}
	return &policy, nil
}
