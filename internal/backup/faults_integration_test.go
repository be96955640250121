//go:build integration

package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/virdx/vxplatform-infra/internal/localenv"
)

// faultFixture is the state every fault must leave alone: a bucket whose
// latest backup is baseline, and a restore target with its own data.
type faultFixture struct {
	pg                      pgServer
	s3                      *localenv.MinIO
	bucket                  string
	backupKeys, restoreKeys [2]string
	source, target          string
	baseline                string
	dumpKeys                []string
	targetDigest            map[string]tableDigest
	targetOID               uint32
}

// newFaultFixture fills bucket (which backupKeys may write and restoreKeys read).
func newFaultFixture(t *testing.T, pg pgServer, s3 *localenv.MinIO, bucket string, backupKeys, restoreKeys [2]string) *faultFixture {
	t.Helper()
	f := &faultFixture{pg: pg, s3: s3, bucket: bucket, backupKeys: backupKeys, restoreKeys: restoreKeys}
	f.source = pg.newDatabase(t)
	pg.exec(t, f.source, smallDataset...)
	f.baseline = mustRun(t, "dump", f.dumpEnv()).stdout
	f.target = pg.newDatabase(t)
	pg.exec(t, f.target, `CREATE TABLE live (id int PRIMARY KEY, v text)`, `INSERT INTO live SELECT g, 'live data ' || g FROM generate_series(1, 100) g`)
	f.snapshot(t)
	return f
}

// snapshot records what must not change.
func (f *faultFixture) snapshot(t *testing.T) {
	f.dumpKeys = listKeys(t, f.s3, f.bucket, "postgres/dumps/")
	f.targetDigest = f.pg.digest(t, f.target)
	f.targetOID = f.pg.databaseOID(t, f.target)
}

func (f *faultFixture) dumpEnv() map[string]string {
	return toolEnv(f.s3, f.bucket, f.backupKeys, f.pg, f.source)
}

func (f *faultFixture) restoreEnv() map[string]string {
	return toolEnv(f.s3, f.bucket, f.restoreKeys, f.pg, f.target)
}

// requireNothingMoved checks the promises every failure keeps: "latest" is
// still the baseline, no new dump object appeared, and the restore target is
// the same database with the same data, with no scratch database left.
func (f *faultFixture) requireNothingMoved(t *testing.T) {
	t.Helper()
	if got := latestBackup(t, f.s3, f.bucket, "postgres/"); got != f.baseline {
		t.Errorf("latest moved from %s to %s", f.baseline, got)
	}
	if got := listKeys(t, f.s3, f.bucket, "postgres/dumps/"); strings.Join(got, ",") != strings.Join(f.dumpKeys, ",") {
		t.Errorf("dump objects changed:\n got %v\nwant %v", got, f.dumpKeys)
	}
	if got := f.pg.databaseOID(t, f.target); got != f.targetOID {
		t.Errorf("the restore target was replaced (oid %d, was %d)", got, f.targetOID)
	}
	if got := f.pg.digest(t, f.target); !sameDigest(got, f.targetDigest) {
		t.Errorf("the restore target's data changed:\n got %v\nwant %v", got, f.targetDigest)
	}
	if left := f.pg.leftoverScratch(t, f.target); len(left) > 0 {
		t.Errorf("scratch databases left behind: %v", left)
	}
}

func requireFailure(t *testing.T, res toolResult, want ...string) {
	t.Helper()
	if res.code != 1 {
		t.Errorf("exit %d, want 1 (failed):\n%s", res.code, res)
	}
	if !strings.Contains(res.stderr, "level=ERROR") {
		t.Errorf("no error logged:\n%s", res)
	}
	for _, line := range strings.Split(res.stderr, "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Log(line) // the message an operator sees, in the test log for review
		}
	}
	// slog quotes the error: compare with its quotes unescaped.
	requireContains(t, "stderr", strings.ReplaceAll(res.stderr, `\"`, `"`), want...)
	if res.stdout != "" {
		t.Errorf("a failed run printed a backup ID: %q", res.stdout)
	}
}

func manifestKeyOf(id string) string { return ManifestKey("postgres/", id) }

// editManifest rewrites the baseline's manifest (as an attacker or a bug might).
func (f *faultFixture) editManifest(t *testing.T, edit func(map[string]any)) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(getObject(t, f.s3, f.bucket, manifestKeyOf(f.baseline)), &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	putObject(t, f.s3, f.bucket, manifestKeyOf(f.baseline), data)
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name string
		verb string
		// prepare may damage the fixture and returns the environment of the run.
		prepare func(t *testing.T, f *faultFixture) map[string]string
		want    []string
		// wantIdentityNamed: the message must name the S3 identity that was refused.
		wantIdentityNamed bool
	}{
		{
			name: "dump with a wrong secret key", verb: "dump",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.dumpEnv(), EnvS3SecretKey, "wrong-secret-key-123")
			},
			want: []string{"credentials rejected", "wrong secret key", "AWS_SECRET_ACCESS_KEY", "pg_dump was stopped, no backup was written"},
		},
		{
			name: "dump with an unknown access key", verb: "dump",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.dumpEnv(), EnvS3AccessKey, "nobody-"+randomHex(t, 4))
			},
			want: []string{"credentials rejected", "does not know access key"},
		},
		{
			name: "dump to a missing bucket", verb: "dump",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.dumpEnv(), EnvS3Bucket, "vxt-no-such-bucket-"+randomHex(t, 4))
			},
			// The write-only identity may not even learn that the bucket is missing.
			want: []string{"vxt-no-such-bucket-", "no backup was written"},
		},
		{
			name: "dump to an unreachable S3 endpoint", verb: "dump",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.dumpEnv(), EnvS3Endpoint, "127.0.0.1:"+closedPort(t))
			},
			want: []string{"is unreachable", "S3_ENDPOINT", "no backup was written"},
		},
		{
			name: "dump from a Postgres that is not running", verb: "dump",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.dumpEnv(), EnvPGPort, closedPort(t))
			},
			want: []string{"the database server is unreachable", "PGHOST, PGPORT"},
		},
		{
			name: "dump as a role that does not exist", verb: "dump",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.dumpEnv(), EnvPGUser, "nobody_"+randomHex(t, 4))
			},
			want: []string{"not authorized", "PGUSER"},
		},
		{
			name: "pg_dump fails after it started", verb: "dump",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				// A role that may connect but not read the tables: our own session
				// works, pg_dump fails once it locks them.
				role := "vxt_limited_" + randomHex(t, 4)
				f.pg.exec(t, "postgres", "CREATE ROLE "+role+" LOGIN")
				t.Cleanup(func() { f.pg.exec(t, "postgres", "DROP ROLE IF EXISTS "+role) })
				return with(f.dumpEnv(), EnvPGUser, role)
			},
			want: []string{"pg_dump of database", "permission denied", "the upload to", "was aborted, no backup was written"},
		},
		{
			name: "restore with the backup identity (it may not read)", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.restoreEnv(), EnvS3AccessKey, f.backupKeys[0], EnvS3SecretKey, f.backupKeys[1])
			},
			want:              []string{"access denied", "list backups"},
			wantIdentityNamed: true,
		},
		{
			name: "restore with a wrong secret key", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.restoreEnv(), EnvS3SecretKey, "wrong-secret-key-123")
			},
			want: []string{"credentials rejected", "wrong secret key"},
		},
		{
			name: "restore into a Postgres that is not running", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.restoreEnv(), EnvPGPort, closedPort(t))
			},
			want: []string{"the database server is unreachable"},
		},
		{
			name: "restore a corrupted dump object (same size)", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				key := DumpKey("postgres/", f.baseline)
				data := getObject(t, f.s3, f.bucket, key)
				for i := len(data) / 2; i < len(data)/2+64; i++ {
					data[i] ^= 0xff
				}
				putObject(t, f.s3, f.bucket, key, data)
				return f.restoreEnv()
			},
			want: []string{"is corrupt", "sha256", "was not touched"},
		},
		{
			name: "verify a corrupted dump object", verb: "verify",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				key := DumpKey("postgres/", f.baseline)
				data := getObject(t, f.s3, f.bucket, key)
				data[len(data)-10] ^= 0x01
				putObject(t, f.s3, f.bucket, key, data)
				return f.restoreEnv()
			},
			want: []string{"is corrupt"},
		},
		{
			name: "restore a truncated dump object", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				key := DumpKey("postgres/", f.baseline)
				data := getObject(t, f.s3, f.bucket, key)
				putObject(t, f.s3, f.bucket, key, data[:len(data)*2/3])
				return f.restoreEnv()
			},
			want: []string{"truncated or replaced", "refusing to restore it"},
		},
		{
			name: "restore a dump whose object is gone", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				if err := rootClient(t, f.s3).RemoveObject(context.Background(), f.bucket, DumpKey("postgres/", f.baseline), minio.RemoveObjectOptions{}); err != nil {
					t.Fatal(err)
				}
				f.snapshot(t)
				return f.restoreEnv()
			},
			want: []string{"read dump", "does not exist"},
		},
		{
			name: "restore from a manifest without a checksum", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				f.editManifest(t, func(m map[string]any) { delete(m, "sha256") })
				return f.restoreEnv()
			},
			want: []string{"is not valid", `sha256 "" is not 64 lowercase hex digits`},
		},
		{
			name: "restore from a manifest with a wrong checksum", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				f.editManifest(t, func(m map[string]any) { m["sha256"] = strings.Repeat("0", 64) })
				return f.restoreEnv()
			},
			want: []string{"is corrupt", "manifest says"},
		},
		{
			name: "restore from a manifest whose row counts disagree", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				f.editManifest(t, func(m map[string]any) {
					tables := m["tables"].([]any)
					tables[0].(map[string]any)["rows"] = float64(999999)
				})
				return f.restoreEnv()
			},
			want: []string{"row counts differ from the manifest", "manifest: 999999", "was not touched"},
		},
		{
			name: "restore another environment's backup", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.restoreEnv(), EnvEnvironment, "staging")
			},
			want: []string{`environment is "production", expected "staging"`},
		},
		{
			name: "restore a named backup that does not exist", verb: "restore",
			prepare: func(t *testing.T, f *faultFixture) map[string]string {
				return with(f.restoreEnv(), EnvBackupName, "20200101T000000.000Z-00000000")
			},
			want: []string{"read manifest", "does not exist"},
		},
	}
	// Every case has a bucket of its own; two identities cover them all.
	buckets := make([]string, len(tests))
	for i := range tests {
		buckets[i] = newBucket(t, shared.MinIO)
	}
	backupKeys, restoreKeys := backupIdentitiesFor(t, shared.MinIO, buckets)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFaultFixture(t, sharedPG(), shared.MinIO, buckets[i], backupKeys, restoreKeys)
			env := tt.prepare(t, f)
			res := runTool(t, tt.verb, env)
			want := tt.want
			if tt.wantIdentityNamed {
				want = append(want, fmt.Sprintf("identity %q", env[EnvS3AccessKey]))
			}
			requireFailure(t, res, want...)
			f.requireNothingMoved(t)
		})
	}
}

// The backup identity writes dumps but can neither read, list nor delete them:
// a stolen backup credential cannot leak or destroy earlier backups.
func TestBackupIdentityCannotReadListOrDelete(t *testing.T) {
	bucket := newBucket(t, shared.MinIO)
	backupKeys, restoreKeys := backupIdentities(t, shared.MinIO, bucket)
	f := newFaultFixture(t, sharedPG(), shared.MinIO, bucket, backupKeys, restoreKeys)
	client := s3Client(t, f.s3.Endpoint, f.backupKeys[0], f.backupKeys[1])
	ctx := context.Background()
	dumpKey, manifestKey := DumpKey("postgres/", f.baseline), manifestKeyOf(f.baseline)
	attempts := []struct {
		name string
		do   func() error
	}{
		{"read the dump", func() error {
			obj, err := client.GetObject(ctx, f.bucket, dumpKey, minio.GetObjectOptions{})
			if err != nil {
				return err
			}
			defer obj.Close()
			_, err = obj.Read(make([]byte, 16))
			return err
		}},
		{"stat the manifest", func() error {
			_, err := client.StatObject(ctx, f.bucket, manifestKey, minio.StatObjectOptions{})
			return err
		}},
		{"list the prefix", func() error {
			for o := range client.ListObjects(ctx, f.bucket, minio.ListObjectsOptions{Prefix: "postgres/", Recursive: true}) {
				return o.Err
			}
			return errors.New("listing returned nothing and no error")
		}},
		{"delete the dump", func() error { return client.RemoveObject(ctx, f.bucket, dumpKey, minio.RemoveObjectOptions{}) }},
		{"delete the manifest", func() error { return client.RemoveObject(ctx, f.bucket, manifestKey, minio.RemoveObjectOptions{}) }},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			err := a.do()
			if code := minio.ToErrorResponse(err).Code; code != "AccessDenied" {
				t.Errorf("backup identity could %s (error %v), want AccessDenied", a.name, err)
			}
		})
	}
	// Still there, and still restorable.
	if got := getObject(t, f.s3, f.bucket, dumpKey); len(got) == 0 {
		t.Error("the dump is gone")
	}
	f.requireNothingMoved(t)
	mustRun(t, "verify", f.restoreEnv())
}

// A writer commits during the whole dump. The dump is one snapshot: the row
// counts in the manifest match the archive exactly, and invariants that every
// transaction keeps (one order has three lines; the ledger total is the sum of
// its entries) hold in the restored copy.
func TestConcurrentWriterDuringDump(t *testing.T) {
	pg := sharedPG()
	s3 := shared.MinIO
	bucket := newBucket(t, s3)
	backupKeys, restoreKeys := backupIdentities(t, s3, bucket)
	source := pg.newDatabase(t)
	pg.exec(t, source,
		`CREATE TABLE orders (id bigserial PRIMARY KEY, note text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
		`CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders(id), n int NOT NULL)`,
		`CREATE TABLE ledger (id int PRIMARY KEY, total bigint NOT NULL)`,
		`CREATE TABLE ledger_entries (id bigserial PRIMARY KEY, amount bigint NOT NULL)`,
		`INSERT INTO ledger VALUES (1, 0)`)
	// Bulk that makes the dump take a while, so that commits land inside it.
	pg.fillRandom(t, source, "filler", 48)

	ctx, stopWriter := context.WithCancel(context.Background())
	conn := pg.connect(t, source)
	commits := make(chan time.Time, 1<<20)
	writerDone := make(chan error, 1)
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			tx, err := conn.Begin(ctx)
			if err != nil {
				if ctx.Err() != nil {
					break // stopped while beginning: not a failure of the writer
				}
				writerDone <- err
				return
			}
			_, err = tx.Exec(ctx, `WITH o AS (INSERT INTO orders (note) VALUES ('Bestellung ' || $1::int) RETURNING id)
				INSERT INTO order_lines SELECT o.id, g FROM o, generate_series(1, 3) g`, i)
			if err == nil {
				_, err = tx.Exec(ctx, `INSERT INTO ledger_entries (amount) VALUES ($1)`, i%100+1)
			}
			if err == nil {
				_, err = tx.Exec(ctx, `UPDATE ledger SET total = total + $1 WHERE id = 1`, i%100+1)
			}
			if err == nil {
				err = tx.Commit(ctx)
			} else {
				_ = tx.Rollback(context.Background())
			}
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				writerDone <- err
				return
			}
			commits <- time.Now()
		}
		writerDone <- nil
	}()
	time.Sleep(300 * time.Millisecond) // some rows before the dump starts

	dumpStart := time.Now()
	dump := mustRun(t, "dump", toolEnv(s3, bucket, backupKeys, pg, source))
	dumpEnd := time.Now()
	time.Sleep(200 * time.Millisecond)
	stopWriter()
	if err := <-writerDone; err != nil {
		t.Fatalf("writer: %v", err)
	}
	close(commits)
	during := 0
	for at := range commits {
		if at.After(dumpStart) && at.Before(dumpEnd) {
			during++
		}
	}
	if during < 10 {
		t.Fatalf("only %d commits happened during the dump (%s): the test did not overlap writes with it", during, dumpEnd.Sub(dumpStart))
	}
	t.Logf("%d commits during the %s dump", during, dumpEnd.Sub(dumpStart).Round(time.Millisecond))

	target := pg.newDatabase(t)
	mustRun(t, "restore", toolEnv(s3, bucket, restoreKeys, pg, target))
	m, err := ParseManifest(getObject(t, s3, bucket, manifestKeyOf(dump.stdout)))
	if err != nil {
		t.Fatal(err)
	}
	restored := pg.connect(t, target)
	var orders, lines, entries, entrySum, total, maxID int64
	err = restored.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_lines),
		(SELECT count(*) FROM ledger_entries), (SELECT coalesce(sum(amount), 0) FROM ledger_entries),
		(SELECT total FROM ledger WHERE id = 1), (SELECT coalesce(max(id), 0) FROM orders)`).Scan(&orders, &lines, &entries, &entrySum, &total, &maxID)
	if err != nil {
		t.Fatal(err)
	}
	if lines != 3*orders || entries != orders || total != entrySum {
		t.Errorf("the restored copy is not one snapshot: %d orders, %d lines, %d ledger entries summing to %d, ledger total %d", orders, lines, entries, entrySum, total)
	}
	for _, tr := range m.Tables {
		if tr.QualifiedName() == "public.orders" && tr.Rows != orders {
			t.Errorf("manifest counts %d orders, the restored copy has %d", tr.Rows, orders)
		}
	}
	var sourceOrders int64
	if err := pg.connect(t, source).QueryRow(context.Background(), "SELECT count(*) FROM orders").Scan(&sourceOrders); err != nil {
		t.Fatal(err)
	}
	if sourceOrders <= orders {
		t.Errorf("source has %d orders, the backup %d: nothing was written after the snapshot, so the test proves nothing", sourceOrders, orders)
	}
	// The orders in the backup are exactly the source's orders up to the snapshot.
	q := "SELECT md5(string_agg(id || '|' || note || '|' || created_at, ',' ORDER BY id)) FROM orders WHERE id <= $1"
	var inBackup, inSource string
	if err := restored.QueryRow(context.Background(), q, maxID).Scan(&inBackup); err != nil {
		t.Fatal(err)
	}
	if err := pg.connect(t, source).QueryRow(context.Background(), q, maxID).Scan(&inSource); err != nil {
		t.Fatal(err)
	}
	if inBackup != inSource {
		t.Errorf("orders up to id %d differ between the backup and the source", maxID)
	}
}
