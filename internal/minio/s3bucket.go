package minio

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const s3BucketToken = "minio:index/s3Bucket:S3Bucket"

// S3Bucket is a bucket on a MinIO server.
type S3Bucket struct {
	pulumi.CustomResourceState

	Acl              pulumi.StringPtrOutput `pulumi:"acl"`
	Arn              pulumi.StringOutput    `pulumi:"arn"`
	Bucket           pulumi.StringOutput    `pulumi:"bucket"`
	BucketDomainName pulumi.StringOutput    `pulumi:"bucketDomainName"`
	BucketPrefix     pulumi.StringPtrOutput `pulumi:"bucketPrefix"`
	ForceDestroy     pulumi.BoolPtrOutput   `pulumi:"forceDestroy"`
	ObjectLocking    pulumi.BoolPtrOutput   `pulumi:"objectLocking"`
	Quota            pulumi.IntPtrOutput    `pulumi:"quota"`
}

type s3BucketArgs struct {
	Acl           *string `pulumi:"acl"`
	Bucket        *string `pulumi:"bucket"`
	BucketPrefix  *string `pulumi:"bucketPrefix"`
	ForceDestroy  *bool   `pulumi:"forceDestroy"`
	ObjectLocking *bool   `pulumi:"objectLocking"`
	Quota         *int    `pulumi:"quota"`
}

// S3BucketArgs configures an S3Bucket. Every input is optional: without Bucket
// or BucketPrefix the provider derives a name from the resource name.
type S3BucketArgs struct {
	// Acl is one of private (the provider default), public-read, public-write,
	// public-read-write or public. Anything but private exposes the bucket.
	Acl          pulumi.StringPtrInput
	Bucket       pulumi.StringPtrInput
	BucketPrefix pulumi.StringPtrInput
	// ForceDestroy lets deletion succeed on a bucket that still holds objects.
	ForceDestroy pulumi.BoolPtrInput
	// ObjectLocking can only be chosen when the bucket is created.
	ObjectLocking pulumi.BoolPtrInput
	// Quota is a hard size limit in bytes.
	Quota pulumi.IntPtrInput
}

func (S3BucketArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*s3BucketArgs)(nil)).Elem()
}

// NewS3Bucket registers an S3Bucket.
func NewS3Bucket(ctx *pulumi.Context,
	name string, args *S3BucketArgs, opts ...pulumi.ResourceOption) (*S3Bucket, error) {
	if args == nil {
		args = &S3BucketArgs{}
	}
	var bucket S3Bucket
	err := ctx.RegisterResource(s3BucketToken, name, args, &bucket, withPackageDefaults(opts)...)
	if err != nil {
		return nil, err
	}
	return &bucket, nil
}
