package minio

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const iamPolicyToken = "minio:index/iamPolicy:IamPolicy"

// IamPolicy is a named, canned IAM policy that users and groups can be
// attached to.
type IamPolicy struct {
	pulumi.CustomResourceState

	Name       pulumi.StringOutput    `pulumi:"name"`
	NamePrefix pulumi.StringPtrOutput `pulumi:"namePrefix"`
	Policy     pulumi.StringOutput    `pulumi:"policy"`
}

type iamPolicyArgs struct {
	Name       *string `pulumi:"name"`
	NamePrefix *string `pulumi:"namePrefix"`
	Policy     string  `pulumi:"policy"`
}

// IamPolicyArgs configures an IamPolicy. Without Name or NamePrefix the
// provider derives a name from the resource name.
type IamPolicyArgs struct {
	Name       pulumi.StringPtrInput
	NamePrefix pulumi.StringPtrInput
	// Policy is an IAM policy as a JSON document.
	Policy pulumi.StringInput
}

func (IamPolicyArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*iamPolicyArgs)(nil)).Elem()
}

// NewIamPolicy registers an IamPolicy.
func NewIamPolicy(ctx *pulumi.Context,
	name string, args *IamPolicyArgs, opts ...pulumi.ResourceOption) (*IamPolicy, error) {
	if args == nil {
		args = &IamPolicyArgs{}
	}
	if err := checkRequired("IamPolicy", name,
		requiredInput{"Policy", args.Policy},
	); err != nil {
		return nil, err
	}
	var policy IamPolicy
	err := ctx.RegisterResource(iamPolicyToken, name, args, &policy, withPackageDefaults(opts)...)
	if err != nil {
		return nil, err
	}
	return &policy, nil
}
