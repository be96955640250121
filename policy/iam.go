package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/virdx/vxplatform-infra/stacks"
)

const (
	iamPolicyType      = "minio:index/iamPolicy:IamPolicy"
	iamGroupPolicyType = "minio:index/iamGroupPolicy:IamGroupPolicy"
)

var iamWildcardRule = resourceRule{
	name:        "minio-iam-no-wildcard-admin",
	description: "No IAM policy allows MinIO administration (admin:*, *) or s3:* on every bucket (arn:aws:s3:::*, *, or a policy variable).",
	scope:       everywhere,
	check:       checkIAMWildcard,
}

var iamPatientDataWriteRule = resourceRule{
	name: "minio-iam-patient-data-write-owner-only",
	description: "Only the stack that owns a patient-data bucket may be granted write access to it " +
		"(dataplatform-prod and production's backups: production; dataplatform-dev and staging's backups: staging).",
	scope: everywhere,
	check: checkIAMPatientDataWrite,
}

var iamPreviewPatientDataRule = resourceRule{
	name:        "minio-iam-preview-no-patient-data",
	description: "No preview identity has any access to a patient-data bucket (dataplatform-prod, dataplatform-dev or their backups).",
	scope:       everywhere,
	check:       checkIAMPreviewPatientData,
}

// patientDataOwners says which environment alone may write each patient-data
// bucket; it covers exactly stacks.SensitiveBuckets (a test checks that).
var patientDataOwners = map[string]stacks.Kind{
	stacks.ProductionBucket:                            stacks.KindProduction,
	stacks.BackupBucket(string(stacks.KindProduction)): stacks.KindProduction,
	stacks.StagingBucket:                               stacks.KindStaging,
	stacks.BackupBucket(string(stacks.KindStaging)):    stacks.KindStaging,
}

// iamDocument is one IAM policy document of a resource, with the environments
// whose identities it serves.
type iamDocument struct {
	statements []statement
	// names are the policy's names (name, namePrefix, group), which may claim
	// the identities of another environment.
	names []lookup[string]
	f     findings
}

// environments are the environments whose identities the document serves; only
// the rules that depend on them read the names (and record them undecided).
func (doc iamDocument) environments(t target) []stacks.StackIdentity {
	return identityEnvironments(t, doc.f, doc.names...)
}

// iamDocuments reads the IAM policy documents a resource carries: the policy of an
// IamPolicy or IamGroupPolicy on the central store, and the policies a preview
// hands to its in-cluster store through a ConfigMap (data values that are policy
// documents). A policy that cannot be read fails closed; a ConfigMap value that
// is not a policy document is not one of its policies.
func iamDocuments(t target, r analyzed, f findings) []iamDocument {
	switch {
	case r.Type == iamPolicyType || r.Type == iamGroupPolicyType:
		text, ok := judge(f, stringAt(r.Props, "policy"))
		if !ok {
			return nil
		}
		statements, err := parsePolicyDocument(text)
		if err != nil {
			f.violation("policy cannot be read (%v), so it cannot be checked", err)
			return nil
		}
		names := []lookup[string]{stringAt(r.Props, "name"), stringAt(r.Props, "namePrefix")}
		if r.Type == iamGroupPolicyType {
			names = append(names, stringAt(r.Props, "group"))
		}
		return []iamDocument{{statements: statements, names: names, f: f}}
	case r.isKube("ConfigMap", "core"):
		// ConfigMaps carry all kinds of data: only what is known and reads as a
		// policy document is judged as one.
		data := mapAt(r.Props, "data")
		if data.state != known {
			return nil
		}
		var docs []iamDocument
		for _, key := range slices.Sorted(maps.Keys(data.value.AsMap())) {
			text := stringAt(data.value, key)
			if text.state != known || !looksLikePolicyDocument(text.value) {
				continue
			}
			statements, err := parsePolicyDocument(text.value)
			if err != nil {
				continue
			}
			docs = append(docs, iamDocument{statements: statements, f: f.in(fmt.Sprintf("data[%q]", key))})
		}
		return docs
	}
	return nil
}

func looksLikePolicyDocument(text string) bool {
	var probe struct {
		Statement json.RawMessage
	}
	return json.Unmarshal([]byte(text), &probe) == nil && len(probe.Statement) > 0
}

// identityEnvironments are the environments whose identities a policy may serve:
// the stack that creates it, and every environment its names claim
// (stacks.IdentityEnvironment: by the environment in the name, whatever purpose
// follows it). A production stack creating a policy named for a preview identity
// still hands production's access to a preview. On a sensitive stack a name that
// is not known yet is undecided, never assumed to be the stack's own.
func identityEnvironments(t target, f findings, names ...lookup[string]) []stacks.StackIdentity {
	own := t.identity
	own.Stack = t.stack
	envs := []stacks.StackIdentity{own}
	for _, name := range names {
		switch name.state {
		case unknown:
			if t.sensitive {
				f.undecided(name.path + ", so the identities this policy serves,")
			}
		case known:
			if id, ok := stacks.IdentityEnvironment(name.value); ok && id.Stack != t.stack && !slices.Contains(envs, id) {
				envs = append(envs, id)
			}
		}
	}
	return envs
}

// checkIAMWildcard: s3:* on every bucket is administrator access to the central
// store, patient data included, whoever holds it.
func checkIAMWildcard(t target, r analyzed) []finding {
	f := newFindings()
	for _, doc := range iamDocuments(t, r, f) {
		for _, st := range doc.statements {
			switch {
			case st.grantsAdmin():
				doc.f.violation("statement %s allows MinIO administration (admin:*), which reaches every bucket and identity", st.id)
			case st.allow && st.grantsEverything() && st.coversEveryBucket():
				doc.f.violation("statement %s allows s3:* on every bucket", st.id)
			}
		}
	}
	return f.all()
}

func (st statement) grantsEverything() bool {
	if st.notAction {
		return true
	}
	for _, a := range st.actions {
		if a == "*" || strings.EqualFold(a, "s3:*") {
			return true
		}
	}
	return false
}

func (st statement) coversEveryBucket() bool {
	if st.notResource {
		return true
	}
	for _, res := range st.resources {
		if withoutVariables(res) == "*" {
			return true
		}
		if rest, ok := cutARNPrefix(res); ok {
			if bucketPart, _, _ := strings.Cut(rest, "/"); strings.Trim(bucketPart, "*") == "" {
				return true
			}
		}
	}
	return false
}

// checkIAMPatientDataWrite: staging reads production's bucket (restored records
// point there) and restores production's backups, but must never be able to
// change them; no other environment may write any patient-data bucket at all.
func checkIAMPatientDataWrite(t target, r analyzed) []finding {
	f := newFindings()
	buckets := slices.Sorted(maps.Keys(patientDataOwners))
	for _, doc := range iamDocuments(t, r, f) {
		for _, env := range doc.environments(t) {
			for _, st := range doc.statements {
				var foreign []string
				for _, bucket := range buckets {
					if env.Kind != patientDataOwners[bucket] && st.covers(bucket) && st.grantsAny(s3WriteActions) {
						foreign = append(foreign, bucket)
					}
				}
				if len(foreign) > 0 {
					doc.f.violation("statement %s lets %s write %s: only the owning stack may write a patient-data bucket",
						st.id, environmentLabel(env), strings.Join(foreign, ", "))
				}
			}
		}
	}
	return f.all()
}

// checkIAMPreviewPatientData: previews run unreviewed pull-request code; they
// get public data only, never a patient-data bucket, not even to read.
func checkIAMPreviewPatientData(t target, r analyzed) []finding {
	f := newFindings()
	for _, doc := range iamDocuments(t, r, f) {
		for _, env := range doc.environments(t) {
			if !isPreviewKind(env.Kind) {
				continue
			}
			for _, bucket := range stacks.SensitiveBuckets {
				var statements []string
				for _, st := range doc.statements {
					if st.covers(bucket) {
						statements = append(statements, st.id)
					}
				}
				if len(statements) > 0 {
					doc.f.violation("gives preview %s access to patient-data bucket %s (statements %s)",
						env.Stack, bucket, strings.Join(statements, ", "))
				}
			}
		}
	}
	return f.all()
}

func environmentLabel(env stacks.StackIdentity) string {
	if env.Stack == "" {
		return "an unnamed stack"
	}
	return env.Stack
}
