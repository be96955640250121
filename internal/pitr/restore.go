package pitr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// RestoreRequest is a point-in-time restore into a fresh data directory.
type RestoreRequest struct {
	Stanza string
	Target Target
	// DataDir must not exist or be empty: a restore never writes over a cluster.
	DataDir string
	// PGBin holds postgres and pg_ctl of the repository's major version.
	PGBin string
	// VerifyPort is where the restored cluster listens (on a private socket
	// only) while it is checked.
	VerifyPort int
	// RecoveryTimeout bounds the WAL replay of the verification start.
	RecoveryTimeout time.Duration
	Run             Runner
	Log             io.Writer
}

// RestoreResult is what the verified restore holds.
type RestoreResult struct {
	Window    Window
	Databases map[string]int64 // database → number of relations it holds
}

// Restore checks the target against the archive, restores into req.DataDir with
// pgBackRest, then starts the copy privately (no TCP, no archiving), waits for
// recovery to reach the target and promote, connects to every database, and
// stops it cleanly. On any failure the error says why and the directory is
// left for inspection; nothing else is touched.
func Restore(ctx context.Context, req RestoreRequest) (RestoreResult, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(req.Log, "vxpitr: "+format+"\n", a...) }
	if err := requireFreshDir(req.DataDir); err != nil {
		return RestoreResult{}, err
	}
	_, window, err := Inspect(ctx, req.Run, req.Stanza)
	if err != nil {
		return RestoreResult{}, err
	}
	if err := window.Admit(req.Target); err != nil {
		return RestoreResult{}, err
	}
	// PostgreSQL refuses a data directory others can enter.
	if err := os.MkdirAll(req.DataDir, 0o700); err != nil {
		return RestoreResult{}, err
	}
	if err := os.Chmod(req.DataDir, 0o700); err != nil {
		return RestoreResult{}, err
	}
	logf("restoring stanza %s to %s into %s (archive: %s to %s)", req.Stanza, req.Target, req.DataDir, stamp(window.Earliest), stamp(window.Latest))
	args := []string{"restore", "--pg1-path=" + req.DataDir, "--archive-mode=off", "--log-level-console=info"}
	if req.Target.Latest {
		args = append(args, "--type=default")
	} else {
		args = append(args, "--type=time", "--target="+req.Target.Time.UTC().Format("2006-01-02 15:04:05.999999-07"), "--target-action=promote")
	}
	if out, err := req.Run(ctx, args...); err != nil {
		return RestoreResult{}, fmt.Errorf("restore into %s failed (the directory holds a partial copy: delete it before the next attempt): %w", req.DataDir, err)
	} else {
		logf("%s", strings.TrimSpace(string(out)))
	}
	databases, err := verifyRestored(ctx, req)
	if err != nil {
		return RestoreResult{}, fmt.Errorf("the restored copy in %s failed verification (do not swap it in): %w", req.DataDir, err)
	}
	logf("verified: recovery reached %s and promoted; databases: %v", req.Target, databases)
	return RestoreResult{Window: window, Databases: databases}, nil
}

func requireFreshDir(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("%s=%q: an absolute path to a fresh (missing or empty) directory", EnvRestoreDir, dir)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s=%q: %w", EnvRestoreDir, dir, err)
	case len(entries) > 0:
		return fmt.Errorf("%s=%q holds %d entries: a restore goes into a fresh, empty directory and never over a cluster; nothing was restored", EnvRestoreDir, dir, len(entries))
	}
	return nil
}

// verifyRestored starts the copy with no TCP listener and archiving off, waits
// until it has left recovery, reads every database, and stops it.
func verifyRestored(ctx context.Context, req RestoreRequest) (map[string]int64, error) {
	socketDir, err := os.MkdirTemp("", "vxpitr-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(socketDir)
	logFile := filepath.Join(socketDir, "postgres.log")
	port := strconv.Itoa(req.VerifyPort)
	options := fmt.Sprintf("-p %s -k %s -c listen_addresses='' -c archive_mode=off", port, socketDir)
	pgCtl := filepath.Join(req.PGBin, "pg_ctl")
	start := exec.CommandContext(ctx, pgCtl, "-D", req.DataDir, "-l", logFile, "-o", options, "-w", "-t", strconv.Itoa(int(req.RecoveryTimeout/time.Second)), "start")
	if out, err := start.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("the copy did not start: %v: %s%s", err, out, logTail(logFile))
	}
	defer func() {
		stop := exec.Command(pgCtl, "-D", req.DataDir, "-m", "fast", "-w", "-t", "60", "stop")
		if out, err := stop.CombinedOutput(); err != nil {
			fmt.Fprintf(req.Log, "vxpitr: stopping the verified copy: %v: %s\n", err, out)
		}
	}()
	dsn := func(db string) string {
		return fmt.Sprintf("host=%s port=%s user=postgres dbname=%s sslmode=disable", socketDir, port, db)
	}
	deadline := time.Now().Add(req.RecoveryTimeout)
	for {
		inRecovery, err := queryBool(ctx, dsn("postgres"), "SELECT pg_is_in_recovery()")
		if err == nil && !inRecovery {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("still in recovery after %s (last error: %v)%s", req.RecoveryTimeout, err, logTail(logFile))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	conn, err := pgx.Connect(ctx, dsn("postgres"))
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1")
	if err != nil {
		conn.Close(ctx)
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	conn.Close(ctx)
	if err != nil {
		return nil, err
	}
	databases := map[string]int64{}
	for _, name := range names {
		c, err := pgx.Connect(ctx, dsn(name))
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", name, err)
		}
		var n int64
		err = c.QueryRow(ctx, "SELECT count(*) FROM pg_class").Scan(&n)
		c.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", name, err)
		}
		databases[name] = n
	}
	return databases, nil
}

func queryBool(ctx context.Context, dsn, sql string) (bool, error) {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false, err
	}
	defer c.Close(ctx)
	var v bool
	err = c.QueryRow(ctx, sql).Scan(&v)
	return v, err
}

func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\nserver log (end):\n" + strings.Join(lines, "\n")
}
