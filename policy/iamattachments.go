package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/virdx/vxplatform-infra/stacks"
)

const (
	iamUserPolicyAttachmentType  = "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment"
	iamGroupPolicyAttachmentType = "minio:index/iamGroupPolicyAttachment:IamGroupPolicyAttachment"
	iamGroupMembershipType       = "minio:index/iamGroupMembership:IamGroupMembership"
	iamGroupUserAttachmentType   = "minio:index/iamGroupUserAttachment:IamGroupUserAttachment"
)

var iamAttachmentsRule = resourceRule{
	name: "minio-iam-attachments-own-environment",
	description: "No identity or group gets a MinIO built-in policy (readwrite, readonly, consoleAdmin, ...), and no attachment " +
		"or group membership joins identities, groups or policies of different environments.",
	scope: everywhere,
	check: checkIAMAttachments,
}

// builtinPolicies are the policies every MinIO server has. Each applies to every
// bucket (or to the whole server): attached to any identity, they reach patient
// data whatever that identity's own policy says.
var builtinPolicies = []string{"consoleAdmin", "readwrite", "readonly", "writeonly", "diagnostics"}

// attachmentNames says, per resource type (minio 0.17.1 schema), which inputs
// name a policy and which name identities or groups.
var attachmentNames = map[string]struct {
	policy  string
	members []string
	lists   []string
}{
	iamUserPolicyAttachmentType:  {policy: "policyName", members: []string{"userName"}},
	iamGroupPolicyAttachmentType: {policy: "policyName", members: []string{"groupName"}},
	iamGroupMembershipType:       {members: []string{"group"}, lists: []string{"users"}},
	iamGroupUserAttachmentType:   {members: []string{"groupName", "userName"}},
}

// checkIAMAttachments: identities are recognised by the environment in their
// name (stacks.IdentityEnvironment), not by a fixed list of purposes. A group
// carries its policies to every member, and an attachment carries a policy to
// its user, so each must stay within one environment: a preview identity in a
// production group reads patient data as surely as a policy naming the bucket.
// On production and staging a name that belongs to no environment cannot be
// judged and is never assumed to be the stack's own. Names that are not known
// yet refer to objects of this stack, each judged on its own.
func checkIAMAttachments(t target, r analyzed) []finding {
	names, ok := attachmentNames[r.Type]
	if !ok {
		return nil
	}
	f := newFindings()
	var joined []string
	claimed := map[string]bool{t.stack: true}
	consider := func(path, name string, isPolicy bool) {
		if isPolicy && slices.ContainsFunc(builtinPolicies, func(b string) bool { return strings.EqualFold(b, name) }) {
			f.violation("%s is MinIO's built-in policy %q, which applies to every bucket, patient data included", path, name)
			return
		}
		env, ok := stacks.IdentityEnvironment(name)
		switch {
		case ok:
			claimed[env.Stack] = true
			joined = append(joined, fmt.Sprintf("%s (%s)", name, env.Stack))
		case t.sensitive && !isPolicy:
			f.undecided(fmt.Sprintf("whose identity %s %q is (it names no environment)", path, name))
		}
	}
	if names.policy != "" {
		if name, ok := judgeReference(f, stringAt(r.Props, names.policy)); ok {
			consider(names.policy, name, true)
		}
	}
	for _, key := range names.members {
		if name, ok := judgeReference(f, stringAt(r.Props, key)); ok {
			consider(key, name, false)
		}
	}
	for _, key := range names.lists {
		items, ok := judgeReference(f, listAt(r.Props, key))
		if !ok {
			continue
		}
		for _, item := range elements(items, key) {
			if name, ok := judgeReference(f, item.asString()); ok {
				consider(item.path, name, false)
			}
		}
	}
	if len(claimed) > 1 {
		f.violation("joins names of different environments on stack %s: %s; identities, groups and policies stay within their environment",
			t.stack, strings.Join(joined, ", "))
	}
	return f.all()
}

// judgeReference is judge for a name that refers to another resource. Before a
// first create, such names are outputs of the resources they name (a policy's
// name, a user's name), which are judged on their own; an unknown reference can
// hide no grant and no credential, so it is deferred: shown as a warning during
// preview and decided at up, when it is known.
func judgeReference[T any](f findings, l lookup[T]) (T, bool) {
	if l.state == unknown {
		f.deferred(l.path)
		var zero T
		return zero, false
	}
	return judge(f, l)
}
