package stacks

import (
	"fmt"
	"strings"
)

// Naming and placement rules of the platform. Every other package (components,
// the policy pack) takes them from here, so that a change of a name's format
// cannot leave a rule that parses the old format behind.

// namespacePrefix starts every environment's namespace.
const namespacePrefix = "data-platform-"

// identityPrefix starts every object-store identity name.
const identityPrefix = "dataplatform-"

// NamespaceOf is the namespace an environment of kind k deploys into: its own,
// data-platform-<kind>, except that every pull-request preview shares the one the
// previews stack creates.
func NamespaceOf(k Kind) string {
	return namespacePrefix + string(NamespaceOwner(k))
}

// NamespaceOwner is the kind of stack that creates the namespace an environment
// of kind k deploys into: the environment itself, or for a pull-request preview
// the previews stack.
func NamespaceOwner(k Kind) Kind {
	if k == KindPreview {
		return KindPreviews
	}
	return k
}

// Purposes lists every identity purpose, in the order identities are described.
func Purposes() []Purpose {
	return []Purpose{PurposeApp, PurposeViewer, PurposeBackup, PurposeRestore, PurposeArchive}
}

// IdentityName is the object-store identity of a stack for a purpose:
// dataplatform-<stack>-<purpose>. Policies and users carry the same name.
func IdentityName(stack string, p Purpose) string {
	return identityPrefix + stack + "-" + string(p)
}

// IdentityEnvironment is the environment an object-store name claims, whatever
// follows the stack in it: dataplatform-pr-7-app and dataplatform-pr-7-uploader
// both belong to preview pr-7. MinIO compares names exactly, but the comparison
// here ignores case so that a look-alike spelling is never taken for a name of
// no environment. ok is false when no known stack follows the prefix.
func IdentityEnvironment(name string) (StackIdentity, bool) {
	rest, found := strings.CutPrefix(strings.ToLower(name), identityPrefix)
	if !found {
		return StackIdentity{}, false
	}
	for i := len(rest); i > 0; i-- {
		if i < len(rest) && rest[i] != '-' {
			continue
		}
		if id, err := ParseStackName(rest[:i]); err == nil {
			return id, true
		}
	}
	return StackIdentity{}, false
}

// DefaultHostname is the hostname an environment serves under unless its config
// names another: <kind>.<base domain>, pr-<N>.previews.<base domain>.
func DefaultHostname(id StackIdentity) string {
	if id.Kind == KindPreview {
		return fmt.Sprintf("pr-%d.%s.%s", id.PRNumber, KindPreviews, baseDomain)
	}
	return string(id.Kind) + "." + baseDomain
}

// HostnameEnvironment is the environment whose hostname tree holds host: the
// most specific default hostname (DefaultHostname) that host equals or lies
// under. pr-7.previews.<base> and names under it belong to preview pr-7, the
// rest of previews.<base> to the previews stack. ok is false for hosts outside
// every environment's tree (the base domain itself, other domains).
func HostnameEnvironment(host string) (StackIdentity, bool) {
	rest, found := strings.CutSuffix(strings.ToLower(strings.TrimSuffix(host, ".")), "."+baseDomain)
	if !found {
		return StackIdentity{}, false
	}
	labels := strings.Split(rest, ".")
	last := len(labels) - 1
	if Kind(labels[last]) == KindPreviews && last > 0 {
		if id, err := ParseStackName(labels[last-1]); err == nil && id.Kind == KindPreview {
			return id, true
		}
	}
	id, err := ParseStackName(labels[last])
	if err != nil || id.Kind == KindPreview {
		return StackIdentity{}, false
	}
	return id, true
}

// BaseDomain is the domain under which every environment's default hostname lies.
const BaseDomain = baseDomain

// ParseIdentityName reads an identity name back into the stack it belongs to and
// its purpose. ok is false for a name that is not dataplatform-<stack>-<purpose>
// with a stack name the platform knows and one of Purposes().
func ParseIdentityName(name string) (id StackIdentity, p Purpose, ok bool) {
	rest, found := strings.CutPrefix(name, identityPrefix)
	if !found {
		return StackIdentity{}, "", false
	}
	for _, purpose := range Purposes() {
		stack, found := strings.CutSuffix(rest, "-"+string(purpose))
		if !found {
			continue
		}
		parsed, err := ParseStackName(stack)
		if err != nil {
			return StackIdentity{}, "", false
		}
		return parsed, purpose, true
	}
	return StackIdentity{}, "", false
}
