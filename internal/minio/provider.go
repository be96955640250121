package minio

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const providerToken = "pulumi:providers:minio"

// Provider is an explicit minio provider instance. An explicit provider, rather
// than stack configuration, lets one program talk to several MinIO servers,
// for example one per preview environment.
type Provider struct {
	pulumi.ProviderResourceState

	MinioApiVersion   pulumi.StringPtrOutput `pulumi:"minioApiVersion"`
	MinioCacertFile   pulumi.StringPtrOutput `pulumi:"minioCacertFile"`
	MinioCertFile     pulumi.StringPtrOutput `pulumi:"minioCertFile"`
	MinioKeyFile      pulumi.StringPtrOutput `pulumi:"minioKeyFile"`
	MinioPassword     pulumi.StringPtrOutput `pulumi:"minioPassword"`
	MinioRegion       pulumi.StringPtrOutput `pulumi:"minioRegion"`
	MinioServer       pulumi.StringOutput    `pulumi:"minioServer"`
	MinioSessionToken pulumi.StringPtrOutput `pulumi:"minioSessionToken"`
	MinioUser         pulumi.StringPtrOutput `pulumi:"minioUser"`
}

type providerArgs struct {
	MinioApiVersion   *string `pulumi:"minioApiVersion"`
	MinioCacertFile   *string `pulumi:"minioCacertFile"`
	MinioCertFile     *string `pulumi:"minioCertFile"`
	MinioInsecure     *bool   `pulumi:"minioInsecure"`
	MinioKeyFile      *string `pulumi:"minioKeyFile"`
	MinioPassword     *string `pulumi:"minioPassword"`
	MinioRegion       *string `pulumi:"minioRegion"`
	MinioServer       string  `pulumi:"minioServer"`
	MinioSessionToken *string `pulumi:"minioSessionToken"`
	MinioSsl          *bool   `pulumi:"minioSsl"`
	MinioUser         *string `pulumi:"minioUser"`
}

// ProviderArgs configures a Provider. The deprecated minioAccessKey and
// minioSecretKey are left out on purpose: MinioUser and MinioPassword replace
// them.
type ProviderArgs struct {
	// MinioApiVersion is the S3 signature version, "v2" or "v4" (default v4).
	MinioApiVersion pulumi.StringPtrInput
	MinioCacertFile pulumi.StringPtrInput
	MinioCertFile   pulumi.StringPtrInput
	// MinioInsecure skips TLS certificate verification.
	MinioInsecure pulumi.BoolPtrInput
	MinioKeyFile  pulumi.StringPtrInput
	// MinioPassword is always stored as a secret, whatever the caller passes.
	MinioPassword pulumi.StringPtrInput
	// MinioRegion defaults to us-east-1.
	MinioRegion pulumi.StringPtrInput
	// MinioServer is "host:port", without a scheme; MinioSsl selects https.
	MinioServer pulumi.StringInput
	// MinioSessionToken is always stored as a secret, like MinioPassword.
	MinioSessionToken pulumi.StringPtrInput
	MinioSsl          pulumi.BoolPtrInput
	MinioUser         pulumi.StringPtrInput
}

func (ProviderArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*providerArgs)(nil)).Elem()
}

// NewProvider registers a minio provider instance. Credentials are wrapped as
// secrets here so that a plain string from the caller can never reach the
// state file unencrypted.
func NewProvider(ctx *pulumi.Context,
	name string, args *ProviderArgs, opts ...pulumi.ResourceOption) (*Provider, error) {
	if args == nil {
		args = &ProviderArgs{}
	}
	if err := checkRequired("Provider", name,
		requiredInput{"MinioServer", args.MinioServer},
	); err != nil {
		return nil, err
	}

	// Copied so that the caller's struct is not rewritten behind its back.
	secured := *args
	if secured.MinioPassword != nil {
		secured.MinioPassword = pulumi.ToSecret(secured.MinioPassword).(pulumi.StringPtrInput)
	}
	if secured.MinioSessionToken != nil {
		secured.MinioSessionToken = pulumi.ToSecret(secured.MinioSessionToken).(pulumi.StringPtrInput)
	}
	opts = append(opts, pulumi.AdditionalSecretOutputs([]string{
		"minioPassword",
		"minioSessionToken",
	}))

	var provider Provider
	err := ctx.RegisterResource(providerToken, name, &secured, &provider, withPackageDefaults(opts)...)
	if err != nil {
		return nil, err
	}
	return &provider, nil
}
