//go:build integration

package backup

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// roundTripDataset has several tables and schemas, non-ASCII text everywhere
// (names, values, a schema and a table), rows of about a megabyte, NULLs,
// jsonb, arrays, foreign keys, a view, a sequence in use and an empty table:
// 451,000 rows in all.
var roundTripDataset = []string{
	`CREATE TABLE patients (id bigserial PRIMARY KEY, name text NOT NULL, city text, born date, note text)`,
	`INSERT INTO patients (name, city, born, note)
	 SELECT (ARRAY['Zoë Müller','Łukasz Żółć','José Peña','Ærøskøbing Ørsted','山田 太郎','Σωκράτης','Иван Петров','مريم العلي','😀 Emoji Person'])[1 + g % 9] || ' #' || g,
	        (ARRAY['Zürich','Kraków','São Paulo','東京', NULL])[1 + g % 5],
	        date '1940-01-01' + (g % 30000),
	        CASE WHEN g % 7 = 0 THEN NULL ELSE 'Befund: ' || md5(g::text) || E' \t\\ «quoted» \n next line' END
	 FROM generate_series(1, 300000) g`,
	`CREATE TABLE measurements (id bigserial PRIMARY KEY, patient_id bigint NOT NULL REFERENCES patients(id),
	   taken_at timestamptz NOT NULL, value numeric(12,4), tags text[], payload jsonb)`,
	`INSERT INTO measurements (patient_id, taken_at, value, tags, payload)
	 SELECT 1 + g % 300000, timestamptz '2020-01-01 00:00+00' + g * interval '1 minute', (g * 1.2345) % 1000,
	        ARRAY['t' || g % 3, 'ü'], jsonb_build_object('g', g, 'text', 'Grüße ' || g, 'nested', jsonb_build_array(g, g * 2, NULL))
	 FROM generate_series(1, 150000) g`,
	`CREATE INDEX measurements_taken_at ON measurements (taken_at)`,
	// About 1.3 MB of text and 320 kB of bytea per row.
	`CREATE TABLE documents (id int PRIMARY KEY, title text, body text, attachment bytea)`,
	`INSERT INTO documents
	 SELECT g, 'Dokument ' || g || ' – Übersicht', repeat(md5(g::text) || 'ä€', 40000), decode(repeat(md5((g * 7)::text), 20000), 'hex')
	 FROM generate_series(1, 40) g`,
	`CREATE SCHEMA "Audit Trail"`,
	`CREATE TABLE "Audit Trail"."Événements" (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT '2026-01-01', what text)`,
	`INSERT INTO "Audit Trail"."Événements" (what) SELECT 'geändert von Jürgen ' || g FROM generate_series(1, 1000) g`,
	`CREATE TABLE empty_table (id int)`,
	`CREATE VIEW patients_per_city AS SELECT city, count(*) AS n FROM patients GROUP BY city`,
}

func TestRoundTrip(t *testing.T) {
	pg := sharedPG()
	s3 := shared.MinIO
	bucket := newBucket(t, s3)
	backupKeys, restoreKeys := backupIdentities(t, s3, bucket)
	source := pg.newDatabase(t)
	start := time.Now()
	pg.exec(t, source, roundTripDataset...)
	t.Logf("dataset created in %s", time.Since(start).Round(time.Millisecond))
	want := pg.digest(t, source)
	var totalRows int64
	for _, d := range want {
		totalRows += d.Rows
	}
	if len(want) != 5 || totalRows != 451040 {
		t.Fatalf("the dataset is not what the test means to back up: %d tables, %d rows: %v", len(want), totalRows, want)
	}

	// Dump with the write-only backup identity.
	dump := mustRun(t, "dump", toolEnv(s3, bucket, backupKeys, pg, source))
	id := dump.stdout
	if got := latestBackup(t, s3, bucket, "postgres/"); got != id {
		t.Fatalf("latest is %q after dump %q", got, id)
	}
	m, err := ParseManifest(getObject(t, s3, bucket, ManifestKey("postgres/", id)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate("postgres/", ManifestKey("postgres/", id), "production"); err != nil {
		t.Fatal(err)
	}
	archive := getObject(t, s3, bucket, m.DumpKey)
	if sha256Hex(archive) != m.SHA256 || int64(len(archive)) != m.Size {
		t.Errorf("the stored archive (%d bytes, sha256 %s) is not what the manifest says (%d, %s)", len(archive), sha256Hex(archive), m.Size, m.SHA256)
	}
	if string(archive[:5]) != "PGDMP" {
		t.Errorf("the archive does not start with pg_dump's custom-format magic: %q", archive[:5])
	}
	for _, tr := range m.Tables {
		if d := want[tr.QualifiedName()]; d.Rows != tr.Rows {
			t.Errorf("manifest: %s has %d rows, the database %d", tr.QualifiedName(), tr.Rows, d.Rows)
		}
	}
	if len(m.Tables) != len(want) {
		t.Errorf("manifest lists %d tables, the database has %d", len(m.Tables), len(want))
	}

	// Restore with the read-only restore identity into a database that does not exist yet ...
	fresh := uniqueName(t, "_")
	pg.dropAtCleanup(t, fresh)
	mustRun(t, "restore", toolEnv(s3, bucket, restoreKeys, pg, fresh))
	if got := pg.digest(t, fresh); !sameDigest(got, want) {
		t.Errorf("restored into a new database: tables differ\n got %v\nwant %v", got, want)
	}

	// ... and over an existing one that holds other data and has a session open.
	target := pg.newDatabase(t)
	pg.exec(t, target, `CREATE TABLE patients (id int)`, `INSERT INTO patients VALUES (1)`, `CREATE TABLE stale (x text)`)
	oidBefore := pg.databaseOID(t, target)
	session := pg.connect(t, target)
	mustRun(t, "restore", toolEnv(s3, bucket, restoreKeys, pg, target))
	if got := pg.digest(t, target); !sameDigest(got, want) {
		t.Errorf("restored over an existing database: tables differ\n got %v\nwant %v", got, want)
	}
	if pg.databaseOID(t, target) == oidBefore {
		t.Error("the target database is the same one as before: the restore did not swap a fresh database in")
	}
	if err := session.Ping(context.Background()); err == nil {
		t.Error("a session on the replaced database is still open")
	}
	if left := pg.leftoverScratch(t, target); len(left) > 0 {
		t.Errorf("scratch databases left behind: %v", left)
	}

	verify := mustRun(t, "verify", toolEnv(s3, bucket, restoreKeys, pg, target))
	requireContains(t, "verify output", verify.stderr, "checksum and row counts match the manifest", fmt.Sprintf("tables=%d", len(want)))
	if left := pg.leftoverScratch(t, target); len(left) > 0 {
		t.Errorf("verify left scratch databases behind: %v", left)
	}
}

// A second dump becomes "latest"; an older one stays restorable by name.
func TestLatestAndNamedBackups(t *testing.T) {
	pg := sharedPG()
	s3 := shared.MinIO
	bucket := newBucket(t, s3)
	backupKeys, restoreKeys := backupIdentities(t, s3, bucket)
	source := pg.newDatabase(t)
	pg.exec(t, source, smallDataset...)
	first := mustRun(t, "dump", toolEnv(s3, bucket, backupKeys, pg, source)).stdout
	firstDigest := pg.digest(t, source)
	pg.exec(t, source, `INSERT INTO patients (name) VALUES ('added after the first backup')`)
	second := mustRun(t, "dump", toolEnv(s3, bucket, backupKeys, pg, source)).stdout
	secondDigest := pg.digest(t, source)
	if first >= second {
		t.Fatalf("backup IDs do not sort by time: %s then %s", first, second)
	}
	if got := latestBackup(t, s3, bucket, "postgres/"); got != second {
		t.Fatalf("latest is %s, want %s", got, second)
	}

	tests := []struct {
		name, backupName string
		want             map[string]tableDigest
	}{
		{"latest", LatestBackup, secondDigest},
		{"by name", first, firstDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := pg.newDatabase(t)
			res := mustRun(t, "restore", with(toolEnv(s3, bucket, restoreKeys, pg, target), EnvBackupName, tt.backupName))
			if got := pg.digest(t, target); !sameDigest(got, tt.want) {
				t.Errorf("restored %s: got %v, want %v", tt.backupName, got, tt.want)
			}
			if tt.backupName != LatestBackup && res.stdout != tt.backupName {
				t.Errorf("restored %s, asked for %s", res.stdout, tt.backupName)
			}
		})
	}

	list := mustRun(t, "list", toolEnv(s3, bucket, restoreKeys, pg, source))
	requireContains(t, "list output", list.stdout, first, second)
}
