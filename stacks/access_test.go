package stacks

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// cell is one (identity, bucket, prefix) entry of the access matrix.
type cell struct {
	identity string
	store    Store
	bucket   string
	prefix   string
	access   Access
}

func cellsOf(ids []Identity) []cell {
	var cells []cell
	for _, id := range ids {
		for _, g := range id.Grants {
			cells = append(cells, cell{id.Name, id.Store, g.Bucket, g.Prefix, g.Access})
		}
	}
	sort.Slice(cells, func(i, j int) bool { return fmt.Sprint(cells[i]) < fmt.Sprint(cells[j]) })
	return cells
}

// ExpectedAccessMatrix is the access matrix written out by hand, cell by cell, as
// the platform's owners described it.
var expectedAccessMatrix = map[string][]cell{
	"production": {
		{"dataplatform-production-app", StoreCentral, "dataplatform-prod", "", AccessReadWrite},
		{"dataplatform-production-archive", StoreCentral, "dataplatform-backups-production", "pgbackrest/", AccessReadWriteKeepVersions},
		{"dataplatform-production-backup", StoreCentral, "dataplatform-backups-production", "postgres/", AccessWriteOnly},
		{"dataplatform-production-viewer", StoreCentral, "dataplatform-prod", "", AccessRead},
	},
	"staging": {
		{"dataplatform-staging-app", StoreCentral, "dataplatform-dev", "", AccessReadWrite},
		{"dataplatform-staging-app", StoreCentral, "dataplatform-prod", "", AccessRead},
		{"dataplatform-staging-archive", StoreCentral, "dataplatform-backups-staging", "pgbackrest/", AccessReadWriteKeepVersions},
		{"dataplatform-staging-backup", StoreCentral, "dataplatform-backups-staging", "postgres/", AccessWriteOnly},
		{"dataplatform-staging-restore", StoreCentral, "dataplatform-backups-production", "postgres/", AccessRead},
		{"dataplatform-staging-viewer", StoreCentral, "dataplatform-dev", "", AccessRead},
		{"dataplatform-staging-viewer", StoreCentral, "dataplatform-prod", "", AccessRead},
	},
	"public": {
		{"dataplatform-public-app", StoreCentral, "dataplatform-public", "", AccessReadWrite},
		{"dataplatform-public-backup", StoreCentral, "dataplatform-backups-public", "postgres/", AccessWriteOnly},
		{"dataplatform-public-viewer", StoreCentral, "dataplatform-public", "", AccessRead},
	},
	"previews": nil,
	"pr-123": {
		{"dataplatform-pr-123-app", StoreCentral, "dataplatform-public", "", AccessRead},
		{"dataplatform-pr-123-app", StorePreview, "preview-data", "", AccessReadWrite},
		{"dataplatform-pr-123-restore", StoreCentral, "dataplatform-backups-public", "postgres/", AccessRead},
		{"dataplatform-pr-123-viewer", StoreCentral, "dataplatform-public", "", AccessRead},
		{"dataplatform-pr-123-viewer", StorePreview, "preview-data", "", AccessRead},
	},
}

func TestAccessMatrixCellByCell(t *testing.T) {
	for stack, want := range expectedAccessMatrix {
		t.Run(stack, func(t *testing.T) {
			env, err := Load(stack, validConfig(stack))
			if err != nil {
				t.Fatal(err)
			}
			sort.Slice(want, func(i, j int) bool { return fmt.Sprint(want[i]) < fmt.Sprint(want[j]) })
			got := cellsOf(env.Storage.Identities)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("access matrix of %s:\n got %v\nwant %v", stack, got, want)
			}
		})
	}
}

func TestNoPreviewEverTouchesSensitiveBuckets(t *testing.T) {
	for _, stack := range []string{"pr-1", "pr-123", "pr-99999"} {
		for _, source := range []string{"", "dataplatform-public", "another-public-set"} {
			cfg := validConfig(stack)
			if source != "" {
				cfg = with(cfg, "sourceBucket", source)
			}
			env, err := Load(stack, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cellsOf(env.Storage.Identities) {
				if IsSensitiveBucket(c.bucket) {
					t.Errorf("%s (sourceBucket %q): %s gets %s on %s", stack, source, c.identity, c.access, c.bucket)
				}
			}
		}
	}
}

// TestPolicyDocuments checks the IAM documents that MinIO enforces: the right
// actions on the right resources, and nothing more.
func TestPolicyDocuments(t *testing.T) {
	tests := []struct {
		grant Grant
		// want maps each statement's resource and condition to its sorted actions.
		want map[string]string
	}{
		{Grant{Bucket: "b", Access: AccessRead}, map[string]string{
			"arn:aws:s3:::b":      "s3:GetBucketLocation",
			"arn:aws:s3:::b list": "s3:ListBucket",
			"arn:aws:s3:::b/*":    "s3:GetObject",
		}},
		{Grant{Bucket: "b", Access: AccessReadWrite}, map[string]string{
			"arn:aws:s3:::b":      "s3:GetBucketLocation,s3:ListBucketMultipartUploads",
			"arn:aws:s3:::b list": "s3:ListBucket",
			"arn:aws:s3:::b/*":    "s3:AbortMultipartUpload,s3:DeleteObject,s3:GetObject,s3:ListMultipartUploadParts,s3:PutObject",
		}},
		{Grant{Bucket: "b", Prefix: "postgres/", Access: AccessRead}, map[string]string{
			"arn:aws:s3:::b":                        "s3:GetBucketLocation",
			"arn:aws:s3:::b list prefix=postgres/*": "s3:ListBucket",
			"arn:aws:s3:::b/postgres/*":             "s3:GetObject",
		}},
		{Grant{Bucket: "b", Prefix: "postgres/", Access: AccessWriteOnly}, map[string]string{
			"arn:aws:s3:::b":            "s3:GetBucketLocation,s3:ListBucketMultipartUploads",
			"arn:aws:s3:::b/postgres/*": "s3:AbortMultipartUpload,s3:ListMultipartUploadParts,s3:PutObject",
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.grant.Access)+tt.grant.Prefix, func(t *testing.T) {
			doc, err := Identity{Name: "x", Grants: []Grant{tt.grant}}.PolicyJSON()
			if err != nil {
				t.Fatal(err)
			}
			var parsed PolicyDocument
			if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, st := range parsed.Statement {
				key := strings.Join(st.Resource, ",")
				if contains(st.Action, "s3:ListBucket") {
					key += " list"
				}
				if p := st.Condition["StringLike"]["s3:prefix"]; p != "" {
					key += " prefix=" + p
				}
				if st.Effect != "Allow" || len(st.Condition) > 0 && !contains(st.Action, "s3:ListBucket") {
					t.Errorf("statement %+v: a condition belongs on ListBucket alone", st)
				}
				got[key] = strings.Join(st.Action, ",")
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("policy %s\n got %v\nwant %v", doc, got, tt.want)
			}
			if parsed.Version != "2012-10-17" || strings.Contains(doc, `"s3:*"`) || strings.Contains(doc, `arn:aws:s3:::*`) {
				t.Errorf("bad version or wildcard in %s", doc)
			}
		})
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
