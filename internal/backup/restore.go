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
	return restore(ctx, cfg, opts, true)
}

// Verify restores a backup into a scratch database, checks it exactly like
// Restore does (checksum, pg_restore, row counts against the manifest) and drops
// the scratch database. The configured database is only used for its name.
func Verify(ctx context.Context, cfg Config, opts Options) (Manifest, error) {
	return restore(ctx, cfg, opts, false)
}

func restore(ctx context.Context, cfg Config, opts Options, swap bool) (Manifest, error) {
	log := opts.logger()
	pg := cfg.Postgres
	verb, purpose := "restore", scratchRestore
	if !swap {
		verb, purpose = "verify", scratchVerify
	}
	started := time.Now()
	store, err := NewStore(cfg.S3)
	if err != nil {
		return Manifest{}, err
	}
	pgRestore, err := pgTool(pg, "pg_restore")
	if err != nil {
		return Manifest{}, err
	}
	m, err := store.FindBackup(ctx, cfg.BackupName, cfg.Environment)
	if err != nil {
		return Manifest{}, err
	}
	log.Info(verb+" starting", "backup", m.ID, "environment", m.Environment, "sourceDatabase", m.Database,
		"dumpedAt", m.StartedAt, "bytes", m.Size, "target", pg.Database, "server", pg.Address())

	admin, err := connect(ctx, pg, pg.MaintenanceDatabase)
	if err != nil {
		return Manifest{}, err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	var serverVersionNum int
	if err := admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&serverVersionNum); err != nil {
		return Manifest{}, pgError("inspect", pg, pg.MaintenanceDatabase, err)
	}
	if serverVersionNum/10000 < m.ServerVersionNum/10000 {
		return Manifest{}, fmt.Errorf("backup %s comes from PostgreSQL %s; the server at %s runs %d.x, which cannot load it", m.ID, m.ServerVersion, pg.Address(), serverVersionNum/10000)
	}
	if err := dropLeftoverScratch(ctx, admin, pg.Database, log); err != nil {
		return Manifest{}, pgError("clean up before restoring into", pg, pg.Database, err)
	}
	targetExists, err := databaseExists(ctx, admin, pg.Database)
	if err != nil {
		return Manifest{}, pgError("look up", pg, pg.Database, err)
	}
	if !targetExists && !swap {
		log.Info("verify: the configured database does not exist; only its name is used", "database", pg.Database)
	}

	obj, err := store.dumpObject(ctx, m)
	if err != nil {
		return Manifest{}, err
	}
	defer obj.Close()

	scratch, err := scratchDatabaseName(pg.Database, purpose)
	if err != nil {
		return Manifest{}, err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE template0 ENCODING '%s'", quoteIdent(scratch), m.Encoding)); err != nil {
		return Manifest{}, pgError("create scratch database in", pg, scratch, err)
	}
	keepScratch := false
	defer func() {
		if keepScratch {
			return
		}
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := dropDatabase(cleanup, admin, scratch); err != nil {
			log.Error("could not drop the scratch database; drop it by hand", "database", scratch, "server", pg.Address(), "error", err)
		}
	}()
	log.Info(verb+": restoring into a scratch database", "database", scratch)

	progress := func(n int64) { log.Info(verb+" progress", "backup", m.ID, "bytesRead", n, "of", m.Size) }
	if err := streamIntoDatabase(ctx, pgRestore, pg, scratch, obj, m, store, progress); err != nil {
		return Manifest{}, fmt.Errorf("%w; the target database %q was not touched", err, pg.Database)
	}
	restoredConn, err := connect(ctx, pg, scratch)
	if err != nil {
		return Manifest{}, err
	}
	got, err := countRows(ctx, restoredConn)
	restoredConn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return Manifest{}, pgError("count rows in", pg, scratch, err)
	}
	if diffs := compareRowCounts(m.Tables, got); len(diffs) > 0 {
		return Manifest{}, fmt.Errorf("backup %s restored, but its row counts differ from the manifest: %s; the target database %q was not touched",
			m.ID, strings.Join(diffs, "; "), pg.Database)
	}
	log.Info(verb+": checksum and row counts match the manifest", "backup", m.ID, "sha256", m.SHA256, "tables", len(got))
	if !swap {
		log.Info("verify complete", "backup", m.ID, "seconds", time.Since(started).Seconds())
		return m, nil
	}

	if err := swapIn(ctx, admin, pg, scratch, targetExists, log); err != nil {
		return Manifest{}, err
	}
	keepScratch = true // it is the target now
	log.Info("restore complete", "backup", m.ID, "database", pg.Database, "seconds", time.Since(started).Seconds())
	return m, nil
}

// streamIntoDatabase feeds the archive to pg_restore while hashing it. It reads
// the object to its end even when pg_restore stops early, so that a corrupt
// archive is reported as a checksum mismatch (the cause) and not only as
// pg_restore's complaint (the symptom).
func streamIntoDatabase(ctx context.Context, pgRestore string, pg PostgresConfig, database string, obj io.Reader, m Manifest, store *Store, progress func(int64)) error {
	restoreCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// --no-owner/--no-privileges: the archive's roles belong to the source
	// environment; everything restored is owned by the restoring user.
	cmd := exec.CommandContext(restoreCtx, pgRestore, "--exit-on-error", "--no-owner", "--no-privileges", "--no-password", "--dbname", database)
	cmd.Env = clientEnv(pg, database)
	stderr := &tailBuffer{limit: 8 << 10}
	cmd.Stderr = stderr
	cmd.WaitDelay = 10 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("pg_restore: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", pgRestore, err)
	}

	hasher := sha256.New()
	counted := &countingWriter{progress: progress}
	feed := &tolerantWriter{w: stdin}
	// 1 MiB reads: fewer round trips through the pipe than io.Copy's 32 KiB.
	_, readErr := io.CopyBuffer(io.MultiWriter(hasher, counted, feed), obj, make([]byte, 1<<20))
	_ = stdin.Close()
	if readErr != nil {
		cancel() // pg_restore must not finish on a partial archive
	}
	restoreErr := cmd.Wait()

	if readErr != nil {
		return fmt.Errorf("reading the archive stopped after %d of %d bytes: %w", counted.n, m.Size, store.s3Error("read dump", m.DumpKey, readErr))
	}
	sum := hex.EncodeToString(hasher.Sum(nil))
	if counted.n != m.Size || sum != m.SHA256 {
		return fmt.Errorf("dump %s is corrupt: %d bytes with sha256 %s, but its manifest says %d bytes with sha256 %s (pg_restore: %s)",
			store.describe(m.DumpKey), counted.n, sum, m.Size, m.SHA256, exitSummary(restoreErr, stderr))
	}
	if restoreErr != nil || feed.err != nil {
		return fmt.Errorf("pg_restore of backup %s into database %q on %s failed (%s)", m.ID, database, pg.Address(), exitSummary(restoreErr, stderr))
	}
	return nil
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
func swapIn(ctx context.Context, admin *pgx.Conn, pg PostgresConfig, restored string, targetExists bool, log *slog.Logger) error {
	target := pg.Database
	rename := func(tx pgx.Tx, from, to string) error {
		_, err := tx.Exec(ctx, "ALTER DATABASE "+quoteIdent(from)+" RENAME TO "+quoteIdent(to))
		return err
	}
	if !targetExists {
		tx, err := admin.Begin(ctx)
		if err != nil {
			return pgError("swap in", pg, target, err)
		}
		if err := rename(tx, restored, target); err != nil {
			_ = tx.Rollback(ctx)
			return pgError("rename the restored database to", pg, target, err)
		}
		return pgError("rename the restored database to", pg, target, tx.Commit(ctx))
	}

	replaced, err := scratchDatabaseName(target, scratchReplaced)
	if err != nil {
		return err
	}
	// Nobody may connect while the names change; sessions still connected to the
	// target are ended (the applications reconnect to the restored database).
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+quoteIdent(target)+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return pgError("close for the swap", pg, target, err)
	}
	reopen := func() {
		if _, err := admin.Exec(context.WithoutCancel(ctx), "ALTER DATABASE "+quoteIdent(target)+" WITH ALLOW_CONNECTIONS true"); err != nil {
			log.Error("could not reopen the target database; run ALTER DATABASE ... WITH ALLOW_CONNECTIONS true", "database", target, "error", err)
		}
	}
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", target); err != nil {
		reopen()
		return pgError("end the sessions of", pg, target, err)
	}
	err = pgx.BeginFunc(ctx, admin, func(tx pgx.Tx) error {
		if err := rename(tx, target, replaced); err != nil {
			return err
		}
		return rename(tx, restored, target)
	})
	if err != nil {
		reopen()
		return fmt.Errorf("%w; the target database was left as it was", pgError("swap the restored database in as", pg, target, err))
	}
	log.Info("restore: swapped in; dropping the replaced database", "replaced", replaced)
	if err := dropDatabase(ctx, admin, replaced); err != nil {
		// The restore itself succeeded; only space is wasted.
		log.Error("could not drop the replaced database; drop it by hand", "database", replaced, "error", err)
	}
	return nil
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
