//go:build integration

package pitr_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/virdx/vxplatform-infra/internal/pitr"
	"github.com/virdx/vxplatform-infra/stacks"
)

// The archive on a real MinIO with the identities of the one access model:
// production's archive identity reads, lists, writes and deletes its own
// repository prefix and nothing else of the bucket; every other identity of
// production (app, viewer, dump writer), and every identity of staging, public
// and a preview, is refused each of those. Then every identity tries to destroy
// the repository (deleting every object and every version it can name); each
// version survives, and after the delete markers are removed (the documented
// undelete) the repository restores the database.
func TestArchiveConfinedAndHistorySurvivesDeletes(t *testing.T) {
	r := newRig(t, pitr.DefaultArchiveTimeout)
	exec1(t, r.dsn("postgres"), ticksTable)
	exec1(t, r.dsn("postgres"), "INSERT INTO ticks (note) SELECT 'row ' || g FROM generate_series(1, 1000) g")
	r.backup(t, pitr.BackupFull)
	r.check(t)
	want := ids(t, r.dsn("postgres"), "")

	ctx := context.Background()
	bucket := r.settings.Repo.Bucket
	archiveInfo := stacks.ArchiveObjectPrefix + "archive/" + stanza + "/archive.info"
	dumpKey := stacks.BackupObjectPrefix + "dumps/some.pgdump"
	if _, err := r.minio.admin.PutObject(ctx, bucket, dumpKey, bytes.NewReader([]byte("dump")), 4, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	versionsBefore := objectVersions(t, r.minio.admin, bucket)

	type who struct {
		id     stacks.Identity
		client *minio.Client
	}
	var everyone []who
	owner := archiveIdentity(t, environment(t, "production"))
	for _, stack := range []string{"production", "staging", "public", "pr-123"} {
		for _, id := range environment(t, stack).Storage.Identities {
			if id.Store != stacks.StoreCentral {
				continue
			}
			var key, secret string
			if id.Name == owner.Name {
				key, secret = strings.TrimPrefix(r.keys[0], pitr.EnvS3Key+"="), strings.TrimPrefix(r.keys[1], pitr.EnvS3KeySecret+"=")
			} else {
				key, secret = r.minio.identity(t, id)
			}
			everyone = append(everyone, who{id, r.minio.client(t, key, secret)})
		}
	}

	for _, w := range everyone {
		isOwner := w.id.Name == owner.Name
		attempts := map[string]error{
			"list the repository":   listErr(ctx, w.client, bucket, stacks.ArchiveObjectPrefix),
			"read archive.info":     readErr(ctx, w.client, bucket, archiveInfo),
			"write into the prefix": putErr(ctx, w.client, bucket, stacks.ArchiveObjectPrefix+"probe-"+w.id.Name),
		}
		for what, err := range attempts {
			if isOwner && err != nil {
				t.Errorf("%s (the archive identity) cannot %s: %v", w.id.Name, what, err)
			}
			if !isOwner && !accessDenied(err) {
				t.Errorf("%s can %s of production's archive (error: %v); only %s may", w.id.Name, what, err, owner.Name)
			}
		}
		if isOwner {
			// Confined to its prefix: not the dumps next to it.
			if err := readErr(ctx, w.client, bucket, dumpKey); !accessDenied(err) {
				t.Errorf("%s can read the dumps (%v): it must be confined to %s", w.id.Name, err, stacks.ArchiveObjectPrefix)
			}
		}
	}

	// The attack: every identity deletes every object version it could learn of,
	// then every object.
	for _, w := range everyone {
		for _, v := range versionsBefore {
			w.client.RemoveObject(ctx, bucket, v.Key, minio.RemoveObjectOptions{VersionID: v.VersionID})
		}
		for _, v := range versionsBefore {
			w.client.RemoveObject(ctx, bucket, v.Key, minio.RemoveObjectOptions{})
		}
	}
	after := map[string]bool{}
	for _, v := range objectVersions(t, r.minio.admin, bucket) {
		after[v.Key+"@"+v.VersionID] = true
	}
	for _, v := range versionsBefore {
		if !after[v.Key+"@"+v.VersionID] {
			t.Errorf("%s version %s was destroyed", v.Key, v.VersionID)
		}
	}
	if _, _, err := pitr.Inspect(ctx, pitr.CommandRunner("pgbackrest", r.restoreEnv()), stanza); err == nil {
		t.Fatal("the archive identity's deletes should hide the repository from pgBackRest (delete markers), yet it still reads it")
	}
	undelete(t, r.minio.admin, bucket, stacks.ArchiveObjectPrefix)

	restored := newRestoredCopy(t)
	out, code := r.vxpitr(t, r.restoreEnv(pitr.EnvTargetTime+"=latest", pitr.EnvRestoreDir+"="+restored.DataDir, fmt.Sprintf("%s=%d", pitr.EnvVerifyPort, freePort(t))), "restore")
	if code != 0 {
		t.Fatalf("restore after the undelete: exit %d\n%s", code, out)
	}
	if got := ids(t, restored.start(t)("postgres"), ""); !sameIDs(got, want) {
		t.Fatalf("after the attack and the undelete the restore holds %s, want %s", describe(got), describe(want))
	}
}

func objectVersions(t testing.TB, c *minio.Client, bucket string) []minio.ObjectInfo {
	t.Helper()
	var out []minio.ObjectInfo
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if !o.IsDeleteMarker {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no objects in %s", bucket)
	}
	return out
}

// undelete removes the delete markers under a prefix (an administrator's
// operation: internal/pitr/README.md), so that the versions they hid are
// current again.
func undelete(t testing.TB, admin *minio.Client, bucket, prefix string) {
	t.Helper()
	ctx := context.Background()
	for o := range admin.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.IsDeleteMarker {
			if err := admin.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func listErr(ctx context.Context, c *minio.Client, bucket, prefix string) error {
	for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, MaxKeys: 1}) {
		return o.Err
	}
	return nil
}

func readErr(ctx context.Context, c *minio.Client, bucket, key string) error {
	o, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return err
	}
	defer o.Close()
	_, err = o.Stat()
	return err
}

func putErr(ctx context.Context, c *minio.Client, bucket, key string) error {
	_, err := c.PutObject(ctx, bucket, key, bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{})
	return err
}

func accessDenied(err error) bool {
	return err != nil && minio.ToErrorResponse(err).Code == "AccessDenied"
}
