// Package stacks is the environment model of the data platform: what each Pulumi
// stack deploys, decided in plain Go from the stack name and its config, so that
// every decision that depends on the kind of environment is made once, here, and is
// testable without Pulumi.
package stacks

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the kind of environment a stack deploys. It follows from the stack name
// alone, so that no stack config can change how sensitive an environment is.
type Kind string

const (
	KindProduction Kind = "production"
	KindStaging    Kind = "staging"
	KindPublic     Kind = "public"
	// KindPreviews is the long-lived base of all previews: it owns the shared
	// namespace, its quota and its network policies, and nothing else.
	KindPreviews Kind = "previews"
	// KindPreview is one preview per pull request, stack name pr-<N>.
	KindPreview Kind = "preview"
)

const previewStackPrefix = "pr-"

// allowedStackNames is what an error about a stack name tells the user.
const allowedStackNames = "production, staging, public, previews or pr-<N> with N a positive integer"

// StackIdentity is what the stack name alone decides.
type StackIdentity struct {
	Stack    string
	Kind     Kind
	PRNumber int // set only for KindPreview
}

// Sensitive reports whether the environment holds patient data. Production and
// staging do (staging is restored from production backups).
func (k Kind) Sensitive() bool {
	return k == KindProduction || k == KindStaging
}

// ArchivesWAL reports whether the environment's database has point-in-time
// recovery (Backup.PointInTime): a day of lost patient data is not acceptable,
// so every patient-data database archives its WAL.
func (k Kind) ArchivesWAL() bool {
	return k.Sensitive()
}

// Persistent reports whether the environment keeps its own data and is backed up.
func (k Kind) Persistent() bool {
	return k == KindProduction || k == KindStaging || k == KindPublic
}

// ParseStackName maps a Pulumi stack name to the environment it deploys.
func ParseStackName(stack string) (StackIdentity, error) {
	switch Kind(stack) {
	case KindProduction, KindStaging, KindPublic, KindPreviews:
		return StackIdentity{Stack: stack, Kind: Kind(stack)}, nil
	}
	digits, isPreview := strings.CutPrefix(stack, previewStackPrefix)
	if !isPreview {
		return StackIdentity{}, fmt.Errorf("stack name %q: unknown environment; allowed: %s", stack, allowedStackNames)
	}
	number, err := strconv.Atoi(digits)
	if err != nil || number <= 0 || digits != strconv.Itoa(number) {
		return StackIdentity{}, fmt.Errorf("stack name %q: %q is not a pull request number; allowed: %s", stack, digits, allowedStackNames)
	}
	return StackIdentity{Stack: stack, Kind: KindPreview, PRNumber: number}, nil
}
