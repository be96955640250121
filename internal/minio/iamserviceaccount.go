package minio

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const iamServiceAccountToken = "minio:index/iamServiceAccount:IamServiceAccount"

// IamServiceAccount is an access key pair owned by a user. The provider
// generates both keys, so SecretKey exists only as an output and is marked
// secret there.
type IamServiceAccount struct {
	pulumi.CustomResourceState

	AccessKey    pulumi.StringOutput    `pulumi:"accessKey"`
	DisableUser  pulumi.BoolPtrOutput   `pulumi:"disableUser"`
	Policy       pulumi.StringPtrOutput `pulumi:"policy"`
	SecretKey    pulumi.StringOutput    `pulumi:"secretKey"`
	Status       pulumi.StringOutput    `pulumi:"status"`
	TargetUser   pulumi.StringOutput    `pulumi:"targetUser"`
	UpdateSecret pulumi.BoolPtrOutput   `pulumi:"updateSecret"`
}

type iamServiceAccountArgs struct {
	DisableUser  *bool   `pulumi:"disableUser"`
	Policy       *string `pulumi:"policy"`
	TargetUser   string  `pulumi:"targetUser"`
	UpdateSecret *bool   `pulumi:"updateSecret"`
}

// IamServiceAccountArgs configures an IamServiceAccount.
type IamServiceAccountArgs struct {
	DisableUser pulumi.BoolPtrInput
	// Policy is a JSON session policy that narrows, never widens, the
	// permissions inherited from TargetUser.
	Policy pulumi.StringPtrInput
	// TargetUser is the user whose permissions the keys act with.
	TargetUser pulumi.StringInput
	// UpdateSecret makes the provider rotate the secret key.
	UpdateSecret pulumi.BoolPtrInput
}

func (IamServiceAccountArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*iamServiceAccountArgs)(nil)).Elem()
}

// NewIamServiceAccount registers an IamServiceAccount.
func NewIamServiceAccount(ctx *pulumi.Context,
	name string, args *IamServiceAccountArgs, opts ...pulumi.ResourceOption) (*IamServiceAccount, error) {
	if args == nil {
		args = &IamServiceAccountArgs{}
	}
	if err := checkRequired("IamServiceAccount", name,
		requiredInput{"TargetUser", args.TargetUser},
	); err != nil {
		return nil, err
	}
	opts = append(opts, pulumi.AdditionalSecretOutputs([]string{"secretKey"}))

	var account IamServiceAccount
	err := ctx.RegisterResource(iamServiceAccountToken, name, args, &account, withPackageDefaults(opts)...)
	if err != nil {
		return nil, err
	}
	return &account, nil
}
