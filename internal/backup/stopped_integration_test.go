//go:build integration

package backup

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/virdx/vxplatform-infra/internal/localenv"
)

// noToolSessions waits until no session of the tool (pg_dump, pg_restore or its
// own) is left on a database: a failed run must not leave pg_dump behind.
func noToolSessions(t *testing.T, pg pgServer, database string) {
	t.Helper()
	conn := pg.connect(t, "postgres")
	deadline := time.Now().Add(15 * time.Second)
	for {
		var n int
		err := conn.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name IN ('vxbackup', 'pg_dump', 'pg_restore')", database).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions of the tool are still connected to %s", n, database)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// S3 goes away (SIGKILL to a private MinIO) in the middle of a multipart upload,
// and later in the middle of a restore's download.
func TestS3StoppedMidTransfer(t *testing.T) {
	pg := sharedPG()
	private := privateServers(t, localenv.MinIOServer)
	s3 := private.MinIO
	bucket := newBucket(t, s3)
	backupKeys, restoreKeys := backupIdentities(t, s3, bucket)

	small := pg.newDatabase(t)
	pg.exec(t, small, smallDataset...)
	baseline := mustRun(t, "dump", toolEnv(s3, bucket, backupKeys, pg, small)).stdout
	// 160 MiB that does not compress: the first progress report comes at 64 MiB,
	// and the ~96 MiB still to go take pg_dump's compression a second or more
	// even on a fast machine, so the kill lands in the middle.
	big := pg.newDatabase(t)
	pg.fillRandom(t, big, "scans", 160)

	t.Run("during the upload", func(t *testing.T) {
		run := startTool(t, "dump", toolEnv(s3, bucket, backupKeys, pg, big))
		run.waitForLine(t, `msg="dump progress"`, 2*time.Minute)
		control(t, private.Crash, localenv.MinIOServer)
		res := run.wait(t, 2*time.Minute)
		control(t, private.Start, localenv.MinIOServer)
		requireFailure(t, res, "upload dump", "S3 endpoint "+s3.Endpoint+" is unreachable", "pg_dump was stopped, no backup was written")
		noToolSessions(t, pg, big)
		if got := latestBackup(t, s3, bucket, "postgres/"); got != baseline {
			t.Errorf("latest moved from %s to %s", baseline, got)
		}
		if got := listKeys(t, s3, bucket, "postgres/dumps/"); len(got) != 1 || got[0] != DumpKey("postgres/", baseline) {
			t.Errorf("dump objects after the failed upload: %v, want only the baseline's", got)
		}
	})

	t.Run("during the download of a restore", func(t *testing.T) {
		bigBackup := mustRun(t, "dump", toolEnv(s3, bucket, backupKeys, pg, big)).stdout
		target := pg.newDatabase(t)
		pg.exec(t, target, `CREATE TABLE live (id int)`, `INSERT INTO live VALUES (1), (2)`)
		before, oid := pg.digest(t, target), pg.databaseOID(t, target)

		run := startTool(t, "restore", toolEnv(s3, bucket, restoreKeys, pg, target))
		run.waitForLine(t, `msg="restore progress"`, 2*time.Minute)
		control(t, private.Crash, localenv.MinIOServer)
		res := run.wait(t, 2*time.Minute)
		control(t, private.Start, localenv.MinIOServer)
		requireFailure(t, res, "reading the archive stopped after", DumpKey("postgres/", bigBackup), "was not touched")
		if pg.databaseOID(t, target) != oid || !sameDigest(pg.digest(t, target), before) {
			t.Error("the restore target changed")
		}
		if left := pg.leftoverScratch(t, target); len(left) > 0 {
			t.Errorf("scratch databases left behind: %v", left)
		}
		if got := latestBackup(t, s3, bucket, "postgres/"); got != bigBackup {
			t.Errorf("latest is %s, want %s", got, bigBackup)
		}
	})
}

// PostgreSQL is stopped before and in the middle of a dump and a restore.
func TestPostgresStopped(t *testing.T) {
	private := privateServers(t, localenv.PostgresServer)
	pg := pgServer{private.Postgres}
	s3 := shared.MinIO
	bucket := newBucket(t, s3)
	backupKeys, restoreKeys := backupIdentities(t, s3, bucket)

	small := pg.newDatabase(t)
	pg.exec(t, small, smallDataset...)
	baseline := mustRun(t, "dump", toolEnv(s3, bucket, backupKeys, pg, small)).stdout
	big := pg.newDatabase(t) // see TestS3StoppedMidTransfer for the size
	pg.fillRandom(t, big, "scans", 160)
	target := pg.newDatabase(t)
	pg.exec(t, target, `CREATE TABLE live (id int PRIMARY KEY, v text)`, `INSERT INTO live SELECT g, 'live ' || g FROM generate_series(1, 500) g`)
	targetDigest, targetOID := pg.digest(t, target), pg.databaseOID(t, target)

	requireLatest := func(t *testing.T, want string) {
		t.Helper()
		if got := latestBackup(t, s3, bucket, "postgres/"); got != want {
			t.Errorf("latest is %s, want %s", got, want)
		}
	}
	requireTargetUntouched := func(t *testing.T) {
		t.Helper()
		if pg.databaseOID(t, target) != targetOID {
			t.Error("the restore target was replaced")
		}
		if !sameDigest(pg.digest(t, target), targetDigest) {
			t.Error("the restore target's data changed")
		}
	}

	t.Run("before a dump and a restore", func(t *testing.T) {
		control(t, private.Stop, localenv.PostgresServer)
		dump := runTool(t, "dump", toolEnv(s3, bucket, backupKeys, pg, big))
		restore := runTool(t, "restore", toolEnv(s3, bucket, restoreKeys, pg, target))
		control(t, private.Start, localenv.PostgresServer)
		requireFailure(t, dump, "the database server is unreachable")
		requireFailure(t, restore, "the database server is unreachable")
		requireLatest(t, baseline)
		requireTargetUntouched(t)
	})

	t.Run("in the middle of a dump", func(t *testing.T) {
		run := startTool(t, "dump", toolEnv(s3, bucket, backupKeys, pg, big))
		run.waitForLine(t, `msg="dump progress"`, 2*time.Minute)
		control(t, private.Crash, localenv.PostgresServer)
		res := run.wait(t, 2*time.Minute)
		control(t, private.Start, localenv.PostgresServer)
		requireFailure(t, res, "pg_dump of database", "failed", "was aborted, no backup was written")
		requireLatest(t, baseline)
		if got := listKeys(t, s3, bucket, "postgres/dumps/"); len(got) != 1 {
			t.Errorf("dump objects after the failed dump: %v, want only the baseline's", got)
		}
		requireTargetUntouched(t)
	})

	t.Run("in the middle of a restore", func(t *testing.T) {
		bigBackup := mustRun(t, "dump", toolEnv(s3, bucket, backupKeys, pg, big)).stdout
		run := startTool(t, "restore", toolEnv(s3, bucket, restoreKeys, pg, target))
		run.waitForLine(t, `msg="restore progress"`, 2*time.Minute)
		control(t, private.Crash, localenv.PostgresServer)
		res := run.wait(t, 2*time.Minute)
		control(t, private.Start, localenv.PostgresServer)
		requireFailure(t, res, "was not touched")
		if !strings.Contains(res.stderr, "pg_restore") && !strings.Contains(res.stderr, "unreachable") {
			t.Errorf("the message does not say that the database failed:\n%s", res)
		}
		requireTargetUntouched(t)
		requireLatest(t, bigBackup)
		// The scratch database could not be dropped while the server was down;
		// the next run clears it before it starts.
		mustRun(t, "verify", toolEnv(s3, bucket, restoreKeys, pg, target))
		if left := pg.leftoverScratch(t, target); len(left) > 0 {
			t.Errorf("scratch databases still there after the next run: %v", left)
		}
		requireTargetUntouched(t)
	})
}
