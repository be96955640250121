package minio

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const iamUserPolicyAttachmentToken = "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment"

// IamUserPolicyAttachment grants a user the permissions of a named policy.
type IamUserPolicyAttachment struct {
	pulumi.CustomResourceState

	PolicyName pulumi.StringOutput `pulumi:"policyName"`
	UserName   pulumi.StringOutput `pulumi:"userName"`
}

type iamUserPolicyAttachmentArgs struct {
	PolicyName string `pulumi:"policyName"`
	UserName   string `pulumi:"userName"`
}

// IamUserPolicyAttachmentArgs configures an IamUserPolicyAttachment. Passing
// IamPolicy.Name and IamUser.Name, rather than literals, also orders the
// attachment after both.
type IamUserPolicyAttachmentArgs struct {
	PolicyName pulumi.StringInput
	UserName   pulumi.StringInput
}

func (IamUserPolicyAttachmentArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*iamUserPolicyAttachmentArgs)(nil)).Elem()
}

// NewIamUserPolicyAttachment registers an IamUserPolicyAttachment.
func NewIamUserPolicyAttachment(ctx *pulumi.Context,
	name string, args *IamUserPolicyAttachmentArgs, opts ...pulumi.ResourceOption) (*IamUserPolicyAttachment, error) {
	if args == nil {
		args = &IamUserPolicyAttachmentArgs{}
	}
	if err := checkRequired("IamUserPolicyAttachment", name,
		requiredInput{"PolicyName", args.PolicyName},
		requiredInput{"UserName", args.UserName},
	); err != nil {
		return nil, err
	}
	var attachment IamUserPolicyAttachment
	err := ctx.RegisterResource(iamUserPolicyAttachmentToken, name, args, &attachment, withPackageDefaults(opts)...)
	if err != nil {
		return nil, err
	}
	return &attachment, nil
}
