package minio

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const iamUserToken = "minio:index/iamUser:IamUser"

// IamUser is a MinIO user. Its name is the access key and Secret the secret
// key, so Secret is treated as a secret both going in and coming out.
type IamUser struct {
	pulumi.CustomResourceState

	DisableUser  pulumi.BoolPtrOutput `pulumi:"disableUser"`
	ForceDestroy pulumi.BoolPtrOutput `pulumi:"forceDestroy"`
	Name         pulumi.StringOutput  `pulumi:"name"`
	Secret       pulumi.StringOutput  `pulumi:"secret"`
	Status       pulumi.StringOutput  `pulumi:"status"`
	Tags         pulumi.MapOutput     `pulumi:"tags"`
	UpdateSecret pulumi.BoolPtrOutput `pulumi:"updateSecret"`
}

type iamUserArgs struct {
	DisableUser  *bool          `pulumi:"disableUser"`
	ForceDestroy *bool          `pulumi:"forceDestroy"`
	Name         *string        `pulumi:"name"`
	Secret       *string        `pulumi:"secret"`
	Tags         map[string]any `pulumi:"tags"`
	UpdateSecret *bool          `pulumi:"updateSecret"`
}

// IamUserArgs configures an IamUser. Every input is optional: without Name the
// provider derives one from the resource name, and without Secret it
// generates one.
type IamUserArgs struct {
	DisableUser pulumi.BoolPtrInput
	// ForceDestroy deletes the user even if it still has service accounts
	// that this program does not manage.
	ForceDestroy pulumi.BoolPtrInput
	Name         pulumi.StringPtrInput
	// Secret is always stored as a secret, whatever the caller passes.
	Secret pulumi.StringPtrInput
	Tags   pulumi.MapInput
	// UpdateSecret makes the provider rotate a generated secret.
	UpdateSecret pulumi.BoolPtrInput
}

func (IamUserArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*iamUserArgs)(nil)).Elem()
}

// NewIamUser registers an IamUser.
func NewIamUser(ctx *pulumi.Context,
	name string, args *IamUserArgs, opts ...pulumi.ResourceOption) (*IamUser, error) {
	if args == nil {
		args = &IamUserArgs{}
	}
	// Copied so that the caller's struct is not rewritten behind its back.
	secured := *args
	if secured.Secret != nil {
		secured.Secret = pulumi.ToSecret(secured.Secret).(pulumi.StringPtrInput)
	}
	// A generated secret only exists as an output, so the input wrapping
	// above is not enough on its own.
	opts = append(opts, pulumi.AdditionalSecretOutputs([]string{"secret"}))

	var user IamUser
	err := ctx.RegisterResource(iamUserToken, name, &secured, &user, withPackageDefaults(opts)...)
	if err != nil {
		return nil, err
	}
	return &user, nil
}
