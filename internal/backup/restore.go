package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Restore replaces the configured database with a backup (BACKUP_NAME, default
// the latest). The backup is restored into a fresh database next to the target
// while its checksum is computed; only when pg_restore succeeded, the archive's
// size and SHA-256 equal the manifest's and every table has the manifest's row
// count is the fresh database swapped in under the target's name. Until that
// moment the target is not touched; on any failure the fresh database is
// dropped and the target is exactly as it was.
func Restore(ctx context.Context, cfg Config, opts Options) (Manifest, error) {
	r := newRestoreRun(cfg, opts, VerbRestore, scratchRestore)
	defer r.close(ctx)
	if err := runSteps(ctx, r.prepare, r.load, r.check, r.swapIn); err != nil {
		return Manifest{}, err
	}
	r.log.Info("restore complete", "backup", r.backup.ID, "database", r.pg.Database, "seconds", time.Since(r.started).Seconds())
	return r.backup, nil
}

// Verify restores a backup into a scratch database, checks it exactly like
// Restore does (checksum, pg_restore, row counts against the manifest) and drops
// the scratch database: Restore's steps without the swap. The configured
// database is only used for its name.
func Verify(ctx context.Context, cfg Config, opts Options) (Manifest, error) {
	r := newRestoreRun(cfg, opts, VerbVerify, scratchVerify)
	defer r.close(ctx)
	if err := runSteps(ctx, r.prepare, r.noteMissingTarget, r.load, r.check); err != nil {
		return Manifest{}, err
	}
	r.log.Info("verify complete", "backup", r.backup.ID, "seconds", time.Since(r.started).Seconds())
	return r.backup, nil
}

// runSteps runs the steps of a procedure in order and stops at the first error.
func runSteps(ctx context.Context, steps ...func(context.Context) error) error {
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// restoreRun is one restore or verify: a backup loaded into a scratch database
// next to the target and checked there; a restore then swaps it in. Each step
// is a method; close releases whatever the steps acquired, and drops the
// scratch database unless it became the target.
type restoreRun struct {
	cfg     Config
	pg      PostgresConfig
	log     *slog.Logger
	verb    Verb   // the word that starts every log line: restore or verify
	purpose string // of the scratch database: scratchRestore or scratchVerify
	started time.Time

	store        *Store        // prepare
	pgRestore    string        // prepare: the pg_restore binary
	backup       Manifest      // prepare: validated
	admin        *pgx.Conn     // prepare: the maintenance database
	targetExists bool          // prepare
	archive      io.ReadCloser // load: the dump object
	scratch      string        // load: the database restored into; "" once swapped in
}

func newRestoreRun(cfg Config, opts Options, verb Verb, purpose string) *restoreRun {
	return &restoreRun{cfg: cfg, pg: cfg.Postgres, log: opts.logger(), verb: verb, purpose: purpose, started: time.Now()}
}

// prepare finds and validates the manifest, checks that the server can load
// the backup, drops the scratch databases an interrupted run left behind and
// looks the target up. Nothing is created yet.
func (r *restoreRun) prepare(ctx context.Context) error {
	var err error
	if r.store, err = NewStore(r.cfg.S3); err != nil {
		return err
	}
	if r.pgRestore, err = pgTool(r.pg, "pg_restore"); err != nil {
		return err
	}
	if r.backup, err = r.store.FindBackup(ctx, r.cfg.BackupName, r.cfg.Environment); err != nil {
		return err
	}
	m := r.backup
	r.log.Info(string(r.verb)+" starting", "backup", m.ID, "environment", m.Environment, "sourceDatabase", m.Database,
		"dumpedAt", m.StartedAt, "bytes", m.Size, "target", r.pg.Database, "server", r.pg.Address())
	if r.admin, err = connect(ctx, r.pg, r.pg.MaintenanceDatabase); err != nil {
		return err
	}
	if err := r.checkServerVersion(ctx); err != nil {
		return err
	}
	if err := dropLeftoverScratch(ctx, r.admin, r.pg.Database, r.log); err != nil {
		return pgError("clean up before restoring into", r.pg, r.pg.Database, err)
	}
	if r.targetExists, err = databaseExists(ctx, r.admin, r.pg.Database); err != nil {
		return pgError("look up", r.pg, r.pg.Database, err)
	}
	return nil
}

// checkServerVersion refuses a backup from a newer major version than the
// server's: pg_restore could not load it.
func (r *restoreRun) checkServerVersion(ctx context.Context) error {
	var serverVersionNum int
	if err := r.admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&serverVersionNum); err != nil {
		return pgError("inspect", r.pg, r.pg.MaintenanceDatabase, err)
	}
	if serverVersionNum/10000 < r.backup.ServerVersionNum/10000 {
		return fmt.Errorf("backup %s comes from PostgreSQL %s; the server at %s runs %d.x, which cannot load it",
			r.backup.ID, r.backup.ServerVersion, r.pg.Address(), serverVersionNum/10000)
	}
	return nil
}

// noteMissingTarget says that verify only borrows the configured database's name.
func (r *restoreRun) noteMissingTarget(context.Context) error {
	if !r.targetExists {
		r.log.Info("verify: the configured database does not exist; only its name is used", "database", r.pg.Database)
	}
	return nil
}

// load opens the archive (refusing one whose size is not the manifest's),
// creates the scratch database and restores the archive into it while hashing
// it.
func (r *restoreRun) load(ctx context.Context) error {
	var err error
	if r.archive, err = r.store.dumpObject(ctx, r.backup); err != nil {
		return err
	}
	scratch, err := scratchDatabaseName(r.pg.Database, r.purpose)
	if err != nil {
		return err
	}
	if _, err := r.admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE template0 ENCODING '%s'", quoteIdent(scratch), r.backup.Encoding)); err != nil {
		return pgError("create scratch database in", r.pg, scratch, err)
	}
	r.scratch = scratch
	r.log.Info(string(r.verb)+": restoring into a scratch database", "database", scratch)
	if err := r.restoreArchive(ctx); err != nil {
		return fmt.Errorf("%w; the target database %q was not touched", err, r.pg.Database)
	}
	return nil
}

// check compares every table's row count in the scratch database with the
// manifest's (the checksum was compared while loading).
func (r *restoreRun) check(ctx context.Context) error {
	restored, err := connect(ctx, r.pg, r.scratch)
	if err != nil {
		return err
	}
	got, err := countRows(ctx, restored)
	restored.Close(context.WithoutCancel(ctx))
	if err != nil {
		return pgError("count rows in", r.pg, r.scratch, err)
	}
	if diffs := compareRowCounts(r.backup.Tables, got); len(diffs) > 0 {
		return fmt.Errorf("backup %s restored, but its row counts differ from the manifest: %s; the target database %q was not touched",
			r.backup.ID, strings.Join(diffs, "; "), r.pg.Database)
	}
	r.log.Info(string(r.verb)+": checksum and row counts match the manifest", "backup", r.backup.ID, "sha256", r.backup.SHA256, "tables", len(got))
	return nil
}

// close drops the scratch database unless it was swapped in, and releases the
// archive and the connection.
func (r *restoreRun) close(ctx context.Context) {
	if r.scratch != "" && r.admin != nil {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		if err := dropDatabase(cleanup, r.admin, r.scratch); err != nil {
			r.log.Error("could not drop the scratch database; drop it by hand", "database", r.scratch, "server", r.pg.Address(), "error", err)
		}
		cancel()
	}
	if r.archive != nil {
		r.archive.Close()
	}
	if r.admin != nil {
		r.admin.Close(context.WithoutCancel(ctx))
	}
}

// restoreArchive feeds the archive to pg_restore while hashing it. It reads
// the object to its end even when pg_restore stops early, so that a corrupt
// archive is reported as a checksum mismatch (the cause) and not only as
// pg_restore's complaint (the symptom).
func (r *restoreRun) restoreArchive(ctx context.Context) error {
	restoreCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd, stdin, stderr, err := r.startPgRestore(restoreCtx)
	if err != nil {
		return err
	}
	m := r.backup
	hasher := sha256.New()
	counted := &countingWriter{progress: func(n int64) { r.log.Info(string(r.verb)+" progress", "backup", m.ID, "bytesRead", n, "of", m.Size) }}
	feed := &tolerantWriter{w: stdin}
	// 1 MiB reads: fewer round trips through the pipe than io.Copy's 32 KiB.
	_, readErr := io.CopyBuffer(io.MultiWriter(hasher, counted, feed), r.archive, make([]byte, 1<<20))
	_ = stdin.Close()
	if readErr != nil {
		cancel() // pg_restore must not finish on a partial archive
	}
	restoreErr := cmd.Wait()

	if readErr != nil {
		return fmt.Errorf("reading the archive stopped after %d of %d bytes: %w", counted.n, m.Size, r.store.s3Error("read dump", m.DumpKey, readErr))
	}
	sum := hex.EncodeToString(hasher.Sum(nil))
	if counted.n != m.Size || sum != m.SHA256 {
		return fmt.Errorf("dump %s is corrupt: %d bytes with sha256 %s, but its manifest says %d bytes with sha256 %s (pg_restore: %s)",
			r.store.describe(m.DumpKey), counted.n, sum, m.Size, m.SHA256, exitSummary(restoreErr, stderr))
	}
	if restoreErr != nil || feed.err != nil {
		return fmt.Errorf("pg_restore of backup %s into database %q on %s failed (%s)", m.ID, r.scratch, r.pg.Address(), exitSummary(restoreErr, stderr))
	}
	return nil
}

// startPgRestore starts pg_restore into the scratch database, reading the
// archive from its stdin.
func (r *restoreRun) startPgRestore(ctx context.Context) (*exec.Cmd, io.WriteCloser, *tailBuffer, error) {
	// --no-owner/--no-privileges: the archive's roles belong to the source
	// environment; everything restored is owned by the restoring user.
	cmd := exec.CommandContext(ctx, r.pgRestore, "--exit-on-error", "--no-owner", "--no-privileges", "--no-password", "--dbname", r.scratch)
	cmd.Env = clientEnv(r.pg, r.scratch)
	stderr := &tailBuffer{limit: 8 << 10}
	cmd.Stderr = stderr
	cmd.WaitDelay = 10 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pg_restore: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, fmt.Errorf("start %s: %w", r.pgRestore, err)
	}
	return cmd, stdin, stderr, nil
}

func exitSummary(err error, stderr *tailBuffer) string {
	if err == nil {
		return "exited 0"
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return fmt.Sprintf("%v: %s", exitErr, stderr.String())
	}
	return fmt.Sprintf("%v: %s", err, stderr.String())
}

// swapIn puts the restored database under the target's name. Both renames
// happen in one transaction, so the target name always points at a complete
// database: the old one or the restored one.
func (r *restoreRun) swapIn(ctx context.Context) error {
	if !r.targetExists {
		return r.renameIntoPlace(ctx)
	}
	replaced, err := scratchDatabaseName(r.pg.Database, scratchReplaced)
	if err != nil {
		return err
	}
	if err := r.closeTarget(ctx); err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, r.admin, func(tx pgx.Tx) error {
		if err := renameDatabase(ctx, tx, r.pg.Database, replaced); err != nil {
			return err
		}
		return renameDatabase(ctx, tx, r.scratch, r.pg.Database)
	})
	if err != nil {
		r.reopenTarget(ctx)
		return fmt.Errorf("%w; the target database was left as it was", pgError("swap the restored database in as", r.pg, r.pg.Database, err))
	}
	r.scratch = "" // it is the target now
	r.log.Info("restore: swapped in; dropping the replaced database", "replaced", replaced)
	if err := dropDatabase(ctx, r.admin, replaced); err != nil {
		// The restore itself succeeded; only space is wasted.
		r.log.Error("could not drop the replaced database; drop it by hand", "database", replaced, "error", err)
	}
	return nil
}

// renameIntoPlace gives the restored database the target's name when there is
// no target yet (a new preview).
func (r *restoreRun) renameIntoPlace(ctx context.Context) error {
	target := r.pg.Database
	tx, err := r.admin.Begin(ctx)
	if err != nil {
		return pgError("swap in", r.pg, target, err)
	}
	if err := renameDatabase(ctx, tx, r.scratch, target); err != nil {
		_ = tx.Rollback(ctx)
		return pgError("rename the restored database to", r.pg, target, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return pgError("rename the restored database to", r.pg, target, err)
	}
	r.scratch = "" // it is the target now
	return nil
}

// closeTarget keeps everyone out of the target while the names change: no new
// connections, and the sessions still connected are ended (the applications
// reconnect to the restored database).
func (r *restoreRun) closeTarget(ctx context.Context) error {
	target := r.pg.Database
	if _, err := r.admin.Exec(ctx, "ALTER DATABASE "+quoteIdent(target)+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return pgError("close for the swap", r.pg, target, err)
	}
	if _, err := r.admin.Exec(ctx, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", target); err != nil {
		r.reopenTarget(ctx)
		return pgError("end the sessions of", r.pg, target, err)
	}
	return nil
}

// reopenTarget undoes closeTarget when the swap did not happen.
func (r *restoreRun) reopenTarget(ctx context.Context) {
	if _, err := r.admin.Exec(context.WithoutCancel(ctx), "ALTER DATABASE "+quoteIdent(r.pg.Database)+" WITH ALLOW_CONNECTIONS true"); err != nil {
		r.log.Error("could not reopen the target database; run ALTER DATABASE ... WITH ALLOW_CONNECTIONS true", "database", r.pg.Database, "error", err)
	}
}

func renameDatabase(ctx context.Context, tx pgx.Tx, from, to string) error {
	_, err := tx.Exec(ctx, "ALTER DATABASE "+quoteIdent(from)+" RENAME TO "+quoteIdent(to))
	return err
}

// countingWriter counts the archive's bytes and reports progress.
type countingWriter struct {
	n            int64
	progress     func(int64)
	lastProgress int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.n-c.lastProgress >= progressEvery {
		c.lastProgress = c.n
		c.progress(c.n)
	}
	return len(p), nil
}

// tolerantWriter remembers the first write error (pg_restore exited) and then
// discards, so that the rest of the archive is still hashed.
type tolerantWriter struct {
	w   io.Writer
	err error
}

func (t *tolerantWriter) Write(p []byte) (int, error) {
	if t.err == nil {
		if _, err := t.w.Write(p); err != nil {
			t.err = err
		}
	}
	return len(p), nil
}
