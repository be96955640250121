//go:build integration

package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/internal/testconfig"
	"github.com/virdx/vxplatform-infra/stacks"
)

// The access matrix on a real MinIO: every identity of production, staging,
// public and pr-123, created with the policy document stacks.Identity.PolicyJSON
// renders (the one the components apply), tries to read, list, write and
// delete in every bucket, at the bucket's root and under the backup prefix.
// Each answer must be what its grants say: allowed, or AccessDenied.
//
// The central store and a preview's own in-cluster store are two private MinIO
// servers, so the real bucket and user names are used without touching anyone
// else's servers.

// accessStacks are the environments whose identities are checked.
var accessStacks = []string{"production", "staging", "public", "pr-123"}

type operation string

const (
	opRead   operation = "read"
	opList   operation = "list"
	opWrite  operation = "write"
	opDelete operation = "delete"
)

// allowedByGrants is the meaning of the grants, written independently of the
// policy documents: what the matrix promises.
func allowedByGrants(grants []stacks.Grant, bucket, key string, op operation) bool {
	for _, g := range grants {
		if g.Bucket != bucket || !strings.HasPrefix(key, g.Prefix) {
			continue
		}
		switch op {
		case opRead, opList:
			if g.Access == stacks.AccessRead || g.Access == stacks.AccessReadWrite {
				return true
			}
		case opWrite:
			if g.Access == stacks.AccessReadWrite || g.Access == stacks.AccessWriteOnly {
				return true
			}
		case opDelete:
			if g.Access == stacks.AccessReadWrite {
				return true
			}
		}
	}
	return false
}

// location is where in a bucket an operation is tried: the bucket's root, a data
// folder, and the backup prefix.
var locations = []string{"", "data/", stacks.BackupObjectPrefix}

type accessCell struct {
	identity, store, bucket, location string
	op                                operation
	allowed                           bool
}

type storeUnderTest struct {
	name    stacks.Store
	server  *localenv.MinIO
	buckets []string
}

func TestAccessMatrixOnRealMinIO(t *testing.T) {
	var identities []stacks.Identity
	for _, stack := range accessStacks {
		env, err := stacks.Load(stack, testconfig.Valid(stack))
		if err != nil {
			t.Fatalf("stacks.Load(%s): %v", stack, err)
		}
		identities = append(identities, env.Storage.Identities...)
	}
	stores := map[stacks.Store]*storeUnderTest{
		stacks.StoreCentral: {name: stacks.StoreCentral, server: privateServers(t, localenv.MinIOServer).MinIO},
		stacks.StorePreview: {name: stacks.StorePreview, server: privateServers(t, localenv.MinIOServer).MinIO},
	}
	// Every bucket any identity is granted, plus every bucket that must stay out
	// of reach, in the store it lives in.
	central := map[string]bool{stacks.ProductionBucket: true, stacks.StagingBucket: true, stacks.PublicBucket: true}
	for _, kind := range []string{"production", "staging", "public"} {
		central[stacks.BackupBucket(kind)] = true
	}
	preview := map[string]bool{}
	for _, id := range identities {
		for _, g := range id.Grants {
			if id.Store == stacks.StorePreview {
				preview[g.Bucket] = true
			} else {
				central[g.Bucket] = true
			}
		}
	}
	stores[stacks.StoreCentral].buckets = sortedKeys(central)
	stores[stacks.StorePreview].buckets = sortedKeys(preview)

	ctx := context.Background()
	for _, s := range stores {
		root := rootClient(t, s.server)
		for _, b := range s.buckets {
			if err := root.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
				t.Fatalf("%s store: make bucket %s: %v", s.name, b, err)
			}
		}
	}
	keys := map[string][2]string{}
	for _, id := range identities {
		doc, err := id.PolicyJSON()
		if err != nil {
			t.Fatal(err)
		}
		access, secret := createIdentity(t, stores[id.Store].server, id.Name, doc)
		keys[string(id.Store)+"/"+id.Name] = [2]string{access, secret}
	}

	var cells []accessCell
	for _, id := range identities {
		idKeys := keys[string(id.Store)+"/"+id.Name]
		for _, s := range stores {
			// An identity exists only in its own store; in the other one every
			// request must be refused.
			home := s.name == id.Store
			client := s3Client(t, s.server.Endpoint, idKeys[0], idKeys[1])
			root := rootClient(t, s.server)
			for _, bucket := range s.buckets {
				for _, loc := range locations {
					for _, op := range []operation{opRead, opList, opWrite, opDelete} {
						want := home && allowedByGrants(id.Grants, bucket, loc, op)
						got, err := try(ctx, client, root, bucket, loc, op, id.Name)
						if err != nil {
							t.Fatalf("%s in the %s store: %s %s/%s: %v", id.Name, s.name, op, bucket, loc, err)
						}
						if got != want {
							t.Errorf("%s (%s identity) in the %s store: %s s3://%s/%s: allowed=%t, the matrix says %t",
								id.Name, id.Store, s.name, op, bucket, loc, got, want)
						}
						cells = append(cells, accessCell{id.Name, string(s.name), bucket, loc, op, got})
					}
				}
			}
		}
	}
	requireMeaningfulMatrix(t, cells)
	logMatrix(t, cells)
}

// try performs one operation and reports whether it was allowed. Only
// AccessDenied counts as refused; any other error fails the test (a cell that
// errors for another reason proves nothing).
func try(ctx context.Context, client, root *minio.Client, bucket, location string, op operation, who string) (bool, error) {
	seedKey := location + "seed-" + who
	var err error
	switch op {
	case opRead:
		if _, err := root.PutObject(ctx, bucket, seedKey, strings.NewReader("seed"), 4, minio.PutObjectOptions{}); err != nil {
			return false, fmt.Errorf("seed: %w", err)
		}
		var obj *minio.Object
		obj, err = client.GetObject(ctx, bucket, seedKey, minio.GetObjectOptions{})
		if err == nil {
			var data []byte
			data, err = io.ReadAll(obj)
			obj.Close()
			if err == nil && string(data) != "seed" {
				return false, fmt.Errorf("read %q, wrote %q", data, "seed")
			}
		}
	case opList:
		for o := range client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: location, MaxKeys: 1}) {
			err = o.Err
			break
		}
	case opWrite:
		key := location + "written-by-" + who
		_, err = client.PutObject(ctx, bucket, key, bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{})
		if err == nil {
			if _, serr := root.StatObject(ctx, bucket, key, minio.StatObjectOptions{}); serr != nil {
				return false, fmt.Errorf("write reported success but the object is not there: %w", serr)
			}
		}
	case opDelete:
		victim := location + "delete-me-" + who
		if _, err := root.PutObject(ctx, bucket, victim, strings.NewReader("v"), 1, minio.PutObjectOptions{}); err != nil {
			return false, fmt.Errorf("seed: %w", err)
		}
		err = client.RemoveObject(ctx, bucket, victim, minio.RemoveObjectOptions{})
		_, serr := root.StatObject(ctx, bucket, victim, minio.StatObjectOptions{})
		gone := minio.ToErrorResponse(serr).Code == "NoSuchKey"
		if (err == nil) != gone {
			return false, fmt.Errorf("delete returned %v but the object gone=%t", err, gone)
		}
	}
	if err == nil {
		return true, nil
	}
	switch minio.ToErrorResponse(err).Code {
	case "AccessDenied":
		return false, nil
	case "InvalidAccessKeyId", "SignatureDoesNotMatch":
		// The identity does not exist in this store (or a namesake with other
		// keys does: pr-123-app lives in both stores): refused as well.
		return false, nil
	}
	return false, err
}

// requireMeaningfulMatrix guards against a matrix that passes vacuously: it
// must contain both answers, and the cells the platform depends on.
func requireMeaningfulMatrix(t *testing.T, cells []accessCell) {
	t.Helper()
	find := func(identity, bucket, loc string, op operation) (accessCell, bool) {
		for _, c := range cells {
			if c.identity == identity && c.store == string(stacks.StoreCentral) && c.bucket == bucket && c.location == loc && c.op == op {
				return c, true
			}
		}
		return accessCell{}, false
	}
	must := []struct {
		identity, bucket, loc string
		op                    operation
		allowed               bool
	}{
		{"dataplatform-production-backup", "dataplatform-backups-production", "postgres/", opWrite, true},
		{"dataplatform-production-backup", "dataplatform-backups-production", "postgres/", opRead, false},
		{"dataplatform-production-backup", "dataplatform-backups-production", "postgres/", opList, false},
		{"dataplatform-production-backup", "dataplatform-backups-production", "postgres/", opDelete, false},
		{"dataplatform-production-backup", "dataplatform-backups-production", "data/", opWrite, false},
		{"dataplatform-staging-restore", "dataplatform-backups-production", "postgres/", opRead, true},
		{"dataplatform-staging-restore", "dataplatform-backups-production", "postgres/", opList, true},
		{"dataplatform-staging-restore", "dataplatform-backups-production", "", opList, false},
		{"dataplatform-staging-restore", "dataplatform-backups-production", "postgres/", opWrite, false},
		{"dataplatform-pr-123-restore", "dataplatform-backups-public", "postgres/", opRead, true},
		{"dataplatform-pr-123-restore", "dataplatform-backups-production", "postgres/", opRead, false},
		{"dataplatform-pr-123-app", "dataplatform-prod", "data/", opRead, false},
		{"dataplatform-production-app", "dataplatform-prod", "data/", opDelete, true},
		{"dataplatform-production-viewer", "dataplatform-prod", "data/", opWrite, false},
	}
	for _, m := range must {
		c, ok := find(m.identity, m.bucket, m.loc, m.op)
		if !ok {
			t.Errorf("the matrix has no cell %s %s s3://%s/%s", m.identity, m.op, m.bucket, m.loc)
			continue
		}
		if c.allowed != m.allowed {
			t.Errorf("%s %s s3://%s/%s: allowed=%t, must be %t", m.identity, m.op, m.bucket, m.loc, c.allowed, m.allowed)
		}
	}
	allowed := 0
	for _, c := range cells {
		if c.allowed {
			allowed++
		}
	}
	t.Logf("%d cells checked: %d allowed, %d refused", len(cells), allowed, len(cells)-allowed)
	if allowed == 0 || allowed == len(cells) {
		t.Errorf("every cell has the same answer (%d of %d allowed)", allowed, len(cells))
	}
}

// logMatrix prints the checked matrix compactly (r=read l=list w=write d=delete,
// "-" refused), one line per identity and bucket that allows anything.
func logMatrix(t *testing.T, cells []accessCell) {
	type row struct{ identity, store, bucket string }
	marks := map[row]map[string]string{}
	for _, c := range cells {
		r := row{c.identity, c.store, c.bucket}
		if marks[r] == nil {
			marks[r] = map[string]string{}
		}
		m := marks[r][c.location]
		if m == "" {
			m = "----"
		}
		i := map[operation]int{opRead: 0, opList: 1, opWrite: 2, opDelete: 3}[c.op]
		if c.allowed {
			m = m[:i] + string("rlwd"[i]) + m[i+1:]
		}
		marks[r][c.location] = m
	}
	var lines []string
	for r, m := range marks {
		if m[""]+m["data/"]+m["postgres/"] == strings.Repeat("----", 3) {
			continue
		}
		lines = append(lines, fmt.Sprintf("%-34s %-8s %-32s root:%s data/:%s postgres/:%s", r.identity, r.store, r.bucket, m[""], m["data/"], m["postgres/"]))
	}
	sort.Strings(lines)
	t.Logf("allowed cells (everything not listed is refused):\n%s", strings.Join(lines, "\n"))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
