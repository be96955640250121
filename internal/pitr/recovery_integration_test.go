//go:build integration

package pitr_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/virdx/vxplatform-infra/internal/pitr"
)

// writer commits one row at a time, continuously, and remembers when each
// commit was acknowledged.
type writer struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	acks map[int64]time.Time
	err  error
}

const ticksTable = `CREATE TABLE ticks (id bigserial PRIMARY KEY, note text NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp())`

func startWriter(t testing.TB, dsn string) *writer {
	t.Helper()
	w := &writer{stop: make(chan struct{}), done: make(chan struct{}), acks: map[int64]time.Time{}}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		defer conn.Close(context.Background())
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			var id int64
			err := conn.QueryRow(context.Background(), "INSERT INTO ticks (note) VALUES ($1) RETURNING id", fmt.Sprintf("tick %d ü", i)).Scan(&id)
			acked := time.Now()
			w.mu.Lock()
			if err != nil {
				w.err = err
				w.mu.Unlock()
				return
			}
			w.acks[id] = acked
			w.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return w
}

func (w *writer) halt() { close(w.stop); <-w.done }

func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acks)
}

func ids(t testing.TB, dsn, where string) []int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), "SELECT id FROM ticks "+where+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func exec1(t testing.TB, dsn, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func sameIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func describe(ids []int64) string {
	if len(ids) == 0 {
		return "no rows"
	}
	return fmt.Sprintf("%d rows, ids %d..%d", len(ids), ids[0], ids[len(ids)-1])
}

// Continuous writes, a full backup, more writes, T, more writes; a restore to T
// holds exactly the rows whose commits are at or before T (recovery's own
// rule: recovery_target_inclusive). Commit times come from the server
// (track_commit_timestamp, which the settings turn on), so rows committed
// while T is taken are classified exactly, not guessed from the client clock.
func TestRestoreToPointInTime(t *testing.T) {
	r := newRig(t, pitr.DefaultArchiveTimeout)
	exec1(t, r.dsn("postgres"), ticksTable)
	w := startWriter(t, r.dsn("postgres"))
	time.Sleep(2 * time.Second)
	r.backup(t, pitr.BackupFull)
	afterBackup := w.count()
	time.Sleep(2 * time.Second)
	target := time.Now().UTC()
	time.Sleep(2 * time.Second)
	w.halt()
	if w.err != nil {
		t.Fatal("writer: ", w.err)
	}
	r.check(t) // the segment holding T and what follows is in the repository

	stamp := target.Format("2006-01-02 15:04:05.999999+00")
	want := ids(t, r.dsn("postgres"), fmt.Sprintf("WHERE pg_xact_commit_timestamp(xmin) <= '%s'", stamp))
	later := ids(t, r.dsn("postgres"), fmt.Sprintf("WHERE pg_xact_commit_timestamp(xmin) > '%s'", stamp))
	if len(want) <= afterBackup || len(later) == 0 {
		t.Fatalf("the scenario needs rows after the backup and after T: %d acknowledged at the backup, %d at or before T, %d after", afterBackup, len(want), len(later))
	}

	restored := newRestoredCopy(t)
	out, code := r.vxpitr(t, r.restoreEnv(pitr.EnvTargetTime+"="+target.Format(time.RFC3339Nano), pitr.EnvRestoreDir+"="+restored.DataDir, fmt.Sprintf("%s=%d", pitr.EnvVerifyPort, freePort(t))), "restore")
	if code != 0 {
		t.Fatalf("vxpitr restore to %s: exit %d\n%s", target.Format(time.RFC3339Nano), code, out)
	}
	got := ids(t, restored.start(t)("postgres"), "")
	if !sameIDs(got, want) {
		t.Fatalf("restored to %s: %s; committed at or before T: %s (after T: %s)", stamp, describe(got), describe(want), describe(later))
	}
	t.Logf("restored to T=%s: exactly the %s committed at or before T; the %s after T are absent", stamp, describe(got), describe(later))
}

// A target outside the archive is refused before anything is restored, and a
// restore never goes into a directory that holds anything.
func TestRestoreRefusedOutsideTheArchive(t *testing.T) {
	r := newRig(t, pitr.DefaultArchiveTimeout)
	exec1(t, r.dsn("postgres"), ticksTable)
	r.backup(t, pitr.BackupFull)
	r.check(t)
	occupied := ownedDir(t, "occupied")
	if err := os.WriteFile(filepath.Join(occupied, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, target, dir, want string
		code                    int
	}{
		{"before the oldest backup", time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339), "", "is before the archive begins", 1},
		{"after the newest WAL", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "", "is after the archive ends", 1},
		{"into a directory that holds a cluster", "latest", occupied, "holds 1 entries", 1},
		{"a target that is not a time", "yesterday", "", `VXPITR_TARGET_TIME="yesterday": "latest" or an RFC 3339 time`, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.dir
			if dir == "" {
				dir = filepath.Join(ownedDir(t, "restore"), "pgdata")
			}
			out, code := r.vxpitr(t, r.restoreEnv(pitr.EnvTargetTime+"="+c.target, pitr.EnvRestoreDir+"="+dir), "restore")
			if code != c.code || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d (want %d), output must contain %q:\n%s", code, c.code, c.want, out)
			}
			entries, _ := os.ReadDir(dir)
			if c.dir == "" && len(entries) > 0 {
				t.Fatalf("refused, yet %s holds %d entries", dir, len(entries))
			}
			if c.dir != "" && len(entries) != 1 {
				t.Fatalf("the occupied directory was changed: %d entries", len(entries))
			}
		})
	}
}

// The monitoring CronJob's check on a real repository: quiet while backups and
// WAL are fresh, loud (exit 1, every exceeded bound named) once they are not.
func TestFreshnessCheck(t *testing.T) {
	r := newRig(t, pitr.DefaultArchiveTimeout)
	r.backup(t, pitr.BackupFull)
	r.check(t)
	cases := []struct {
		name, backupAge, walAge string
		code                    int
		want                    []string
	}{
		{"fresh", "26h", "5m", 0, []string{"pitr_newest_backup_age_seconds=", "pitr_newest_wal_age_seconds="}},
		{"backup too old", "1ms", "5m", 1, []string{"level=ERROR vxpitr check", "the newest backup", "more than VXPITR_MAX_BACKUP_AGE=1ms"}},
		{"archive stalled", "26h", "1ms", 1, []string{"the newest archived WAL segment arrived", "VXPITR_MAX_WAL_AGE=1ms"}},
		{"bad bound", "soon", "5m", 2, []string{`VXPITR_MAX_BACKUP_AGE="soon": a positive Go duration`}},
	}
	t.Run("archiving broken", func(t *testing.T) {
		// The job's key is wrong: pgbackrest check cannot reach the repository.
		out, code := r.vxpitr(t, append(r.job, pitr.EnvS3KeySecret+"=wrong-secret"), "check")
		if code != 1 || !strings.Contains(out, "archiving is broken: pgbackrest check") {
			t.Fatalf("exit %d, want 1 naming the broken archive:\n%s", code, out)
		}
	})
	t.Run("sidecar with a wrong key", func(t *testing.T) {
		env := r.settings.SidecarEnv(pitr.TLSServer{Address: "127.0.0.1", Port: freePort(t), CertFile: "/nonexistent", KeyFile: "/nonexistent", CAFile: "/nonexistent", ClientCN: "x"})
		env["VX_PG_BIN_DIR"], env["VX_STANZA_ATTEMPTS"] = r.pgBin(), "1"
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := asPostgres(ctx, append(pitr.EnvList(env), r.keys[0], pitr.EnvS3KeySecret+"=wrong-secret", r.keys[2]), tools.sidecar).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "WAL is NOT being archived") {
			t.Fatalf("the sidecar must fail loudly with a wrong key, got %v:\n%s", err, out)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := r.vxpitr(t, append(r.job, pitr.EnvMaxBackupAge+"="+c.backupAge, pitr.EnvMaxWALAge+"="+c.walAge), "check")
			if code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// Postgres crashes while writing (the volume is lost with it); a
// restore to the latest point holds every row committed more than
// archive_timeout before the kill. The loss is measured and printed: it is the
// recovery point of the setup as shipped (archive_timeout 60 s).
func TestKillDuringWritesRestoreLatest(t *testing.T) {
	r := newRig(t, pitr.DefaultArchiveTimeout)
	exec1(t, r.dsn("postgres"), ticksTable)
	w := startWriter(t, r.dsn("postgres"))
	r.backup(t, pitr.BackupFull)
	time.Sleep(pitr.DefaultArchiveTimeout + 20*time.Second)
	r.crash(t)
	// Taken once the server is gone: every row acknowledged before is counted
	// against the recovery point (an upper bound of the instant of the crash).
	killed := time.Now()
	w.halt() // its next insert fails: the server is gone
	time.Sleep(2 * time.Second)

	restoredCopy := newRestoredCopy(t)
	out, code := r.vxpitr(t, r.restoreEnv(pitr.EnvTargetTime+"=latest", pitr.EnvRestoreDir+"="+restoredCopy.DataDir, fmt.Sprintf("%s=%d", pitr.EnvVerifyPort, freePort(t))), "restore")
	if code != 0 {
		t.Fatalf("vxpitr restore latest: exit %d\n%s", code, out)
	}
	restored := map[int64]bool{}
	for _, id := range ids(t, restoredCopy.start(t)("postgres"), "") {
		restored[id] = true
	}
	var missingOld []int64
	var lost []time.Time
	var newestRestored time.Time
	for id, acked := range w.acks {
		switch {
		case restored[id] && acked.After(newestRestored):
			newestRestored = acked
		case !restored[id]:
			lost = append(lost, acked)
			if killed.Sub(acked) > pitr.DefaultArchiveTimeout {
				missingOld = append(missingOld, id)
			}
		}
	}
	sort.Slice(missingOld, func(i, j int) bool { return missingOld[i] < missingOld[j] })
	rpo := killed.Sub(newestRestored)
	fmt.Printf("RPO: %.1f s of committed writes lost at an unclean kill (%d of %d acknowledged rows; archive_timeout %s)\n",
		rpo.Seconds(), len(lost), len(w.acks), pitr.DefaultArchiveTimeout)
	if len(missingOld) > 0 {
		t.Fatalf("rows committed more than %s before the kill are missing: %s", pitr.DefaultArchiveTimeout, describe(missingOld))
	}
	if rpo > pitr.DefaultArchiveTimeout+5*time.Second {
		t.Fatalf("RPO %.1f s exceeds archive_timeout %s", rpo.Seconds(), pitr.DefaultArchiveTimeout)
	}
}
