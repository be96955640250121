package minio

import (
	"context"
	"fmt"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const ilmPolicyToken = "minio:index/ilmPolicy:IlmPolicy"

// IlmPolicy is a bucket's lifecycle (expiry) configuration. A bucket has a
// single lifecycle configuration, so all of its rules belong in one IlmPolicy.
type IlmPolicy struct {
	pulumi.CustomResourceState

	Bucket pulumi.StringOutput      `pulumi:"bucket"`
	Rules  IlmPolicyRuleArrayOutput `pulumi:"rules"`
}

type ilmPolicyArgs struct {
	Bucket string          `pulumi:"bucket"`
	Rules  []IlmPolicyRule `pulumi:"rules"`
}

// IlmPolicyArgs configures an IlmPolicy.
type IlmPolicyArgs struct {
	Bucket pulumi.StringInput
	Rules  IlmPolicyRuleArrayInput
}

func (IlmPolicyArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*ilmPolicyArgs)(nil)).Elem()
}

// NewIlmPolicy registers an IlmPolicy.
func NewIlmPolicy(ctx *pulumi.Context,
	name string, args *IlmPolicyArgs, opts ...pulumi.ResourceOption) (*IlmPolicy, error) {
	if args == nil {
		args = &IlmPolicyArgs{}
	}
	// Rules are only checkable when they were built directly; an Output-valued
	// list is left to the provider. An empty list counts as missing because a
	// lifecycle configuration without rules is rejected by MinIO.
	var rulesInput pulumi.Input = args.Rules
	rules, plainRules := args.Rules.(IlmPolicyRuleArray)
	if plainRules && len(rules) == 0 {
		rulesInput = nil
	}
	required := []requiredInput{
		{"Bucket", args.Bucket},
		{"Rules", rulesInput},
	}
	if plainRules {
		for i, rule := range rules {
			if plain, ok := plainIlmPolicyRule(rule); ok {
				required = append(required, requiredInput{fmt.Sprintf("Rules[%d].Id", i), plain.Id})
			}
		}
	}
	if err := checkRequired("IlmPolicy", name, required...); err != nil {
		return nil, err
	}
	var policy IlmPolicy
	err := ctx.RegisterResource(ilmPolicyToken, name, args, &policy, withPackageDefaults(opts)...)
	if err != nil {
		return nil, err
	}
	return &policy, nil
}

func plainIlmPolicyRule(input IlmPolicyRuleInput) (IlmPolicyRuleArgs, bool) {
	switch rule := input.(type) {
	case IlmPolicyRuleArgs:
		return rule, true
	case *IlmPolicyRuleArgs:
		if rule != nil {
			return *rule, true
		}
	}
	return IlmPolicyRuleArgs{}, false
}

// IlmPolicyRule is the resolved form of one lifecycle rule.
type IlmPolicyRule struct {
	Expiration                      *string        `pulumi:"expiration"`
	Filter                          *string        `pulumi:"filter"`
	Id                              string         `pulumi:"id"`
	NoncurrentVersionExpirationDays *int           `pulumi:"noncurrentVersionExpirationDays"`
	Status                          *string        `pulumi:"status"`
	Tags                            map[string]any `pulumi:"tags"`
}

// IlmPolicyRuleInput accepts IlmPolicyRuleArgs or an Output of a rule.
type IlmPolicyRuleInput interface {
	pulumi.Input

	ToIlmPolicyRuleOutput() IlmPolicyRuleOutput
	ToIlmPolicyRuleOutputWithContext(context.Context) IlmPolicyRuleOutput
}

// IlmPolicyRuleArgs is one lifecycle rule.
type IlmPolicyRuleArgs struct {
	// Expiration is either a number of days such as "7d" or an ISO date.
	Expiration pulumi.StringPtrInput `pulumi:"expiration"`
	// Filter is the object-name prefix the rule applies to.
	Filter pulumi.StringPtrInput `pulumi:"filter"`
	// Id must be unique within the policy.
	Id pulumi.StringInput `pulumi:"id"`
	// NoncurrentVersionExpirationDays only matters on versioned buckets, where
	// Expiration alone leaves old versions behind.
	NoncurrentVersionExpirationDays pulumi.IntPtrInput `pulumi:"noncurrentVersionExpirationDays"`
	// Status is "Enabled" or "Disabled".
	Status pulumi.StringPtrInput `pulumi:"status"`
	// Tags narrows the rule to objects carrying all of these tags.
	Tags pulumi.MapInput `pulumi:"tags"`
}

func (IlmPolicyRuleArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*IlmPolicyRule)(nil)).Elem()
}

func (i IlmPolicyRuleArgs) ToIlmPolicyRuleOutput() IlmPolicyRuleOutput {
	return i.ToIlmPolicyRuleOutputWithContext(context.Background())
}

func (i IlmPolicyRuleArgs) ToIlmPolicyRuleOutputWithContext(ctx context.Context) IlmPolicyRuleOutput {
	return pulumi.ToOutputWithContext(ctx, i).(IlmPolicyRuleOutput)
}

// IlmPolicyRuleOutput is one lifecycle rule as the provider reports it.
type IlmPolicyRuleOutput struct{ *pulumi.OutputState }

func (IlmPolicyRuleOutput) ElementType() reflect.Type {
	return reflect.TypeOf((*IlmPolicyRule)(nil)).Elem()
}

func (o IlmPolicyRuleOutput) ToIlmPolicyRuleOutput() IlmPolicyRuleOutput {
	return o
}

func (o IlmPolicyRuleOutput) ToIlmPolicyRuleOutputWithContext(context.Context) IlmPolicyRuleOutput {
	return o
}

// IlmPolicyRuleArrayInput accepts IlmPolicyRuleArray or an Output of a rule
// list.
type IlmPolicyRuleArrayInput interface {
	pulumi.Input

	ToIlmPolicyRuleArrayOutput() IlmPolicyRuleArrayOutput
	ToIlmPolicyRuleArrayOutputWithContext(context.Context) IlmPolicyRuleArrayOutput
}

// IlmPolicyRuleArray is a list of rules, each given as IlmPolicyRuleArgs.
type IlmPolicyRuleArray []IlmPolicyRuleInput

func (IlmPolicyRuleArray) ElementType() reflect.Type {
	return reflect.TypeOf((*[]IlmPolicyRule)(nil)).Elem()
}

func (i IlmPolicyRuleArray) ToIlmPolicyRuleArrayOutput() IlmPolicyRuleArrayOutput {
	return i.ToIlmPolicyRuleArrayOutputWithContext(context.Background())
}

func (i IlmPolicyRuleArray) ToIlmPolicyRuleArrayOutputWithContext(ctx context.Context) IlmPolicyRuleArrayOutput {
	return pulumi.ToOutputWithContext(ctx, i).(IlmPolicyRuleArrayOutput)
}

// IlmPolicyRuleArrayOutput is the rule list as the provider reports it.
type IlmPolicyRuleArrayOutput struct{ *pulumi.OutputState }

func (IlmPolicyRuleArrayOutput) ElementType() reflect.Type {
	return reflect.TypeOf((*[]IlmPolicyRule)(nil)).Elem()
}

func (o IlmPolicyRuleArrayOutput) ToIlmPolicyRuleArrayOutput() IlmPolicyRuleArrayOutput {
	return o
}

func (o IlmPolicyRuleArrayOutput) ToIlmPolicyRuleArrayOutputWithContext(context.Context) IlmPolicyRuleArrayOutput {
	return o
}

func init() {
	pulumi.RegisterOutputType(IlmPolicyRuleOutput{})
	pulumi.RegisterOutputType(IlmPolicyRuleArrayOutput{})
}
