package main

import (
	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const packName = "vxplatform-exposure"

// packVersion is also the version in PulumiPolicy.yaml; a test keeps them equal.
var packVersion = semver.MustParse("1.1.0")

// resourceRules and stackRules are every rule of the pack, in the order the
// README's table lists them. A rule not listed here is not enforced; a test
// fails for any rule declared in this package but missing here.
var resourceRules = []resourceRule{
	serviceExposureRule,
	ingressInternalOnlyRule,
	ingressTLSNoWildcardRule,
	ingressOwnHostnameRule,
	podHostAccessRule,
	containerSecurityContextRule,
	networkPolicyOpenPeersRule,
	networkPolicyAllNamespacesRule,
	ownNamespaceRule,
	namespacePodSecurityRule,
	rbacRule,
	bucketPublicACLRule,
	bucketPolicyAnonymousRule,
	iamWildcardRule,
	iamPatientDataWriteRule,
	iamPreviewPatientDataRule,
	iamAttachmentsRule,
	literalCredentialsRule,
	imageTaggedRule,
	imageDigestRule,
	containerResourcesRule,
	opaqueObjectsRule,
}

var stackRules = []stackRule{
	defaultDenyRule,
}

// newPack is the factory policyx.Main calls once the engine has said which stack
// it analyzes (ConfigureStack). Only the stack name is used: stack config is the
// stack owner's to change and must not weaken the pack.
func newPack(pctx *pulumi.Context) (policyx.PolicyPack, error) {
	return packFor(targetFor(pctx.Stack()))
}

func packFor(t target) (policyx.PolicyPack, error) {
	policies := make([]policyx.Policy, 0, len(resourceRules)+len(stackRules))
	for _, r := range resourceRules {
		policies = append(policies, r.policy(t))
	}
	for _, r := range stackRules {
		policies = append(policies, r.policy(t))
	}
	// The pack-level level is ignored by policyx (pulumi/pulumi#24650); each policy
	// carries its own.
	return policyx.NewPolicyPack(packName, packVersion, policyx.EnforcementLevelMandatory, policies)
}
