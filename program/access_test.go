package program_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// allBuckets is every bucket any environment knows of: each cell of the matrix
// below that is not written out must grant nothing.
var allBuckets = []string{
	"dataplatform-prod", "dataplatform-dev", "dataplatform-public",
	"dataplatform-backups-production", "dataplatform-backups-staging", "dataplatform-backups-public",
	"preview-data",
}

const (
	full      = "list,read,write,delete"
	readOnly  = "list,read"
	dumpsOnly = "write(postgres/)"
	readDumps = "list(postgres/),read(postgres/)"
	// archive is pgBackRest's repository: everything under pgbackrest/, but no
	// version of anything in the bucket can be destroyed.
	archive = "list(pgbackrest/),read(pgbackrest/),write(pgbackrest/),delete(pgbackrest/),keep-versions"
)

// expectedAccess is the access matrix as the platform's owners stated it, written
// out by hand: identity (and store) → bucket → what it may do.
var expectedAccess = map[string]map[string]map[string]string{
	"production": {
		"central/dataplatform-production-app":     {"dataplatform-prod": full},
		"central/dataplatform-production-viewer":  {"dataplatform-prod": readOnly},
		"central/dataplatform-production-backup":  {"dataplatform-backups-production": dumpsOnly},
		"central/dataplatform-production-archive": {"dataplatform-backups-production": archive},
	},
	"staging": {
		"central/dataplatform-staging-app":     {"dataplatform-dev": full, "dataplatform-prod": readOnly},
		"central/dataplatform-staging-viewer":  {"dataplatform-dev": readOnly, "dataplatform-prod": readOnly},
		"central/dataplatform-staging-backup":  {"dataplatform-backups-staging": dumpsOnly},
		"central/dataplatform-staging-archive": {"dataplatform-backups-staging": archive},
		"central/dataplatform-staging-restore": {"dataplatform-backups-production": readDumps},
	},
	"public": {
		"central/dataplatform-public-app":    {"dataplatform-public": full},
		"central/dataplatform-public-viewer": {"dataplatform-public": readOnly},
		"central/dataplatform-public-backup": {"dataplatform-backups-public": dumpsOnly},
	},
	"previews": {},
	"pr-123": {
		"central/dataplatform-pr-123-app":     {"dataplatform-public": readOnly},
		"central/dataplatform-pr-123-viewer":  {"dataplatform-public": readOnly},
		"central/dataplatform-pr-123-restore": {"dataplatform-backups-public": readDumps},
		"preview/dataplatform-pr-123-app":     {"preview-data": full},
		"preview/dataplatform-pr-123-viewer":  {"preview-data": readOnly},
	},
}

type statement struct {
	Effect    string
	Action    []string
	Resource  []string
	Condition map[string]map[string]string
}

// capabilities reads what a policy document allows on each bucket, in the terms of
// the matrix above. It interprets the documents independently of the code that
// wrote them.
func capabilities(t *testing.T, document string) map[string]string {
	t.Helper()
	var doc struct{ Statement []statement }
	if err := json.Unmarshal([]byte(document), &doc); err != nil {
		t.Fatalf("policy document is not JSON: %v\n%s", err, document)
	}
	caps := map[string]map[string]bool{}
	add := func(bucket, capability string) {
		if caps[bucket] == nil {
			caps[bucket] = map[string]bool{}
		}
		caps[bucket][capability] = true
	}
	for _, st := range doc.Statement {
		if st.Effect == "Deny" && len(st.Action) == 1 && st.Action[0] == "s3:DeleteObjectVersion" && len(st.Resource) == 1 {
			add(strings.TrimSuffix(strings.TrimPrefix(st.Resource[0], "arn:aws:s3:::"), "/*"), "keep-versions")
			continue
		}
		if st.Effect != "Allow" {
			t.Fatalf("unexpected effect %q", st.Effect)
		}
		for _, arn := range st.Resource {
			path := strings.TrimPrefix(arn, "arn:aws:s3:::")
			bucket, objects, isObject := strings.Cut(path, "/")
			scope := ""
			if isObject && objects != "*" {
				scope = "(" + strings.TrimSuffix(objects, "*") + ")"
			}
			if p := st.Condition["StringLike"]["s3:prefix"]; p != "" {
				scope = "(" + strings.TrimSuffix(p, "*") + ")"
			}
			for _, action := range st.Action {
				switch {
				case action == "s3:ListBucket" && !isObject:
					add(bucket, "list"+scope)
				case action == "s3:GetObject" && isObject:
					add(bucket, "read"+scope)
				case action == "s3:PutObject" && isObject:
					add(bucket, "write"+scope)
				case action == "s3:DeleteObject" && isObject:
					add(bucket, "delete"+scope)
				case strings.Contains(action, "*"):
					t.Errorf("wildcard action %q on %s", action, arn)
				}
			}
		}
	}
	out := map[string]string{}
	for bucket, set := range caps {
		var list []string
		for _, order := range []string{"list", "read", "write", "delete", "keep-versions"} {
			for c := range set {
				if strings.HasPrefix(c, order) {
					list = append(list, c)
				}
			}
		}
		out[bucket] = strings.Join(list, ",")
	}
	return out
}

// registeredPolicies collects every identity's policy document the program
// registered: central ones as IamPolicy resources, a preview store's in the
// ConfigMap its init Job reads.
func registeredPolicies(t *testing.T, stack string) map[string]string {
	run := runStack(t, stack)
	docs := map[string]string{}
	for _, p := range run.ByType(tIamPolicy) {
		docs["central/"+str(p.Inputs, "name")] = str(p.Inputs, "policy")
	}
	for _, cm := range run.ByType(tConfigMap) {
		data, _ := at(cm.Inputs, "data")
		for file, doc := range data.ObjectValue() {
			purpose := strings.TrimSuffix(string(file), ".json")
			docs["preview/dataplatform-"+stack+"-"+purpose] = unwrap(doc).StringValue()
		}
	}
	return docs
}

func TestAccessMatrixInRegisteredPolicies(t *testing.T) {
	for stack, want := range expectedAccess {
		t.Run(stack, func(t *testing.T) {
			docs := registeredPolicies(t, stack)
			var identities []string
			for id := range docs {
				identities = append(identities, id)
			}
			for id := range want {
				if _, ok := docs[id]; !ok {
					identities = append(identities, id)
				}
			}
			sort.Strings(identities)
			for _, id := range identities {
				doc, registered := docs[id]
				if !registered {
					t.Errorf("%s: no policy registered", id)
					continue
				}
				got := capabilities(t, doc)
				for _, bucket := range allBuckets {
					if got[bucket] != want[id][bucket] {
						t.Errorf("%s on %s: allows %q, want %q", id, bucket, got[bucket], want[id][bucket])
					}
				}
				for bucket := range got {
					if !contains(allBuckets, bucket) {
						t.Errorf("%s: grant on unknown bucket %s", id, bucket)
					}
				}
			}
		})
	}
}

func TestPolicyAttachedToItsOwnUser(t *testing.T) {
	for _, stack := range []string{"production", "staging", "public", "pr-123"} {
		run := runStack(t, stack)
		users := map[string]bool{}
		for _, u := range run.ByType(tIamUser) {
			users[str(u.Inputs, "name")] = true
		}
		for _, a := range run.ByType(tIamAttach) {
			// The mock echoes inputs, so an attachment's user and policy are the names given.
			user, policy := str(a.Inputs, "userName"), str(a.Inputs, "policyName")
			if !users[user] || user != policy {
				t.Errorf("%s: attachment of policy %q to user %q", stack, policy, user)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
