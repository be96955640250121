package minio

import (
	"context"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const s3BucketVersioningToken = "minio:index/s3BucketVersioning:S3BucketVersioning"

// S3BucketVersioning turns object versioning on or suspends it for a bucket.
type S3BucketVersioning struct {
	pulumi.CustomResourceState

	Bucket                  pulumi.StringOutput                             `pulumi:"bucket"`
	VersioningConfiguration S3BucketVersioningVersioningConfigurationOutput `pulumi:"versioningConfiguration"`
}

type s3BucketVersioningArgs struct {
	Bucket                  string                                    `pulumi:"bucket"`
	VersioningConfiguration S3BucketVersioningVersioningConfiguration `pulumi:"versioningConfiguration"`
}

// S3BucketVersioningArgs configures an S3BucketVersioning.
type S3BucketVersioningArgs struct {
	Bucket                  pulumi.StringInput
	VersioningConfiguration S3BucketVersioningVersioningConfigurationInput
}

func (S3BucketVersioningArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*s3BucketVersioningArgs)(nil)).Elem()
}

// NewS3BucketVersioning registers an S3BucketVersioning.
func NewS3BucketVersioning(ctx *pulumi.Context,
	name string, args *S3BucketVersioningArgs, opts ...pulumi.ResourceOption) (*S3BucketVersioning, error) {
	if args == nil {
		args = &S3BucketVersioningArgs{}
	}
	required := []requiredInput{
		{"Bucket", args.Bucket},
		{"VersioningConfiguration", args.VersioningConfiguration},
	}
	if config, ok := plainVersioningConfiguration(args.VersioningConfiguration); ok {
		required = append(required, requiredInput{"VersioningConfiguration.Status", config.Status})
	}
	if err := checkRequired("S3BucketVersioning", name, required...); err != nil {
		return nil, err
	}
	var versioning S3BucketVersioning
	err := ctx.RegisterResource(s3BucketVersioningToken, name, args, &versioning, withPackageDefaults(opts)...)
	if err != nil {
		return nil, err
	}
	return &versioning, nil
}

// plainVersioningConfiguration exposes the nested args when the caller built
// them directly, so a missing Status fails at construction instead of at
// deploy time. A configuration that is an Output can only be checked by the
// provider.
func plainVersioningConfiguration(
	input S3BucketVersioningVersioningConfigurationInput,
) (S3BucketVersioningVersioningConfigurationArgs, bool) {
	switch config := input.(type) {
	case S3BucketVersioningVersioningConfigurationArgs:
		return config, true
	case *S3BucketVersioningVersioningConfigurationArgs:
		if config != nil {
			return *config, true
		}
	}
	return S3BucketVersioningVersioningConfigurationArgs{}, false
}

// S3BucketVersioningVersioningConfiguration is the resolved form of the
// versioningConfiguration block.
type S3BucketVersioningVersioningConfiguration struct {
	ExcludeFolders   *bool    `pulumi:"excludeFolders"`
	ExcludedPrefixes []string `pulumi:"excludedPrefixes"`
	Status           string   `pulumi:"status"`
}

// S3BucketVersioningVersioningConfigurationInput accepts
// S3BucketVersioningVersioningConfigurationArgs or an Output of the block.
type S3BucketVersioningVersioningConfigurationInput interface {
	pulumi.Input

	ToS3BucketVersioningVersioningConfigurationOutput() S3BucketVersioningVersioningConfigurationOutput
	ToS3BucketVersioningVersioningConfigurationOutputWithContext(context.Context) S3BucketVersioningVersioningConfigurationOutput
}

// S3BucketVersioningVersioningConfigurationArgs is the versioningConfiguration
// block.
type S3BucketVersioningVersioningConfigurationArgs struct {
	// ExcludeFolders keeps objects whose names end in "/" unversioned.
	ExcludeFolders pulumi.BoolPtrInput `pulumi:"excludeFolders"`
	// ExcludedPrefixes keeps objects under these prefixes unversioned.
	ExcludedPrefixes pulumi.StringArrayInput `pulumi:"excludedPrefixes"`
	// Status is "Enabled" or "Suspended"; a bucket's versioning cannot be
	// switched off again once enabled, only suspended.
	Status pulumi.StringInput `pulumi:"status"`
}

func (S3BucketVersioningVersioningConfigurationArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*S3BucketVersioningVersioningConfiguration)(nil)).Elem()
}

func (i S3BucketVersioningVersioningConfigurationArgs) ToS3BucketVersioningVersioningConfigurationOutput() S3BucketVersioningVersioningConfigurationOutput {
	return i.ToS3BucketVersioningVersioningConfigurationOutputWithContext(context.Background())
}

func (i S3BucketVersioningVersioningConfigurationArgs) ToS3BucketVersioningVersioningConfigurationOutputWithContext(ctx context.Context) S3BucketVersioningVersioningConfigurationOutput {
	return pulumi.ToOutputWithContext(ctx, i).(S3BucketVersioningVersioningConfigurationOutput)
}

// S3BucketVersioningVersioningConfigurationOutput is the versioningConfiguration
// block as the provider reports it.
type S3BucketVersioningVersioningConfigurationOutput struct{ *pulumi.OutputState }

func (S3BucketVersioningVersioningConfigurationOutput) ElementType() reflect.Type {
	return reflect.TypeOf((*S3BucketVersioningVersioningConfiguration)(nil)).Elem()
}

func (o S3BucketVersioningVersioningConfigurationOutput) ToS3BucketVersioningVersioningConfigurationOutput() S3BucketVersioningVersioningConfigurationOutput {
	return o
}

func (o S3BucketVersioningVersioningConfigurationOutput) ToS3BucketVersioningVersioningConfigurationOutputWithContext(context.Context) S3BucketVersioningVersioningConfigurationOutput {
	return o
}

func (o S3BucketVersioningVersioningConfigurationOutput) Status() pulumi.StringOutput {
	return o.ApplyT(func(v S3BucketVersioningVersioningConfiguration) string { return v.Status }).(pulumi.StringOutput)
}

func init() {
	pulumi.RegisterOutputType(S3BucketVersioningVersioningConfigurationOutput{})
}
