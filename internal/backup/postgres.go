package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// connect opens a session to one database of the configured server. Settings
// come from the resolved Config (which already read any *_FILE), never from
// arguments.
func connect(ctx context.Context, cfg PostgresConfig, database string) (*pgx.Conn, error) {
	// ParseConfig("") still applies PGSSLMODE, PGCONNECT_TIMEOUT and the like.
	cc, err := pgx.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("postgres settings: %w", err)
	}
	cc.Host = cfg.Host
	cc.Port = uint16(cfg.Port)
	cc.Database = database
	cc.User = cfg.User
	cc.Password = cfg.Password
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = 15 * time.Second
	}
	cc.RuntimeParams["application_name"] = "vxbackup"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, pgError("connect to", cfg, database, err)
	}
	return conn, nil
}

// clientEnv is the environment of pg_dump and pg_restore: the connection
// settings as libpq variables (so that no credential is ever an argument), plus
// what libpq may legitimately need from ours (TLS settings, HOME for ~/.pgpass).
func clientEnv(cfg PostgresConfig, database string) []string {
	env := []string{
		"PGHOST=" + cfg.Host,
		"PGPORT=" + strconv.Itoa(cfg.Port),
		"PGDATABASE=" + database,
		"PGUSER=" + cfg.User,
		"PGAPPNAME=vxbackup",
	}
	if cfg.Password != "" {
		env = append(env, "PGPASSWORD="+cfg.Password)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "PATH", name == "HOME", name == "LANG", name == "TZ",
			strings.HasPrefix(name, "PGSSL"), name == "PGCONNECT_TIMEOUT", name == "PGPASSFILE":
			env = append(env, kv)
		}
	}
	return env
}

// pgTool is the path of pg_dump or pg_restore.
func pgTool(cfg PostgresConfig, name string) (string, error) {
	if cfg.BinDir != "" {
		p := filepath.Join(cfg.BinDir, name)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s not found in %s (%s): %w", name, cfg.BinDir, EnvPGBinDir, err)
		}
		return p, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH (install the PostgreSQL client or set %s): %w", name, EnvPGBinDir, err)
	}
	return p, nil
}

// toolVersion is `<tool> --version`, recorded in the manifest.
func toolVersion(ctx context.Context, path string) (string, error) {
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// userTablesQuery lists the tables whose rows pg_dump writes: ordinary tables
// (partitions included, partitioned parents excluded because their rows are the
// partitions'), outside the system schemas, and not owned by an extension
// (CREATE EXTENSION recreates those).
const userTablesQuery = `
SELECT n.nspname, c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2`

// queryer is a connection or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// countRows counts the rows of every user table, in whatever snapshot q sees.
func countRows(ctx context.Context, q queryer) ([]TableRows, error) {
	rows, err := q.Query(ctx, userTablesQuery)
	if err != nil {
		return nil, err
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TableRows, error) {
		var t TableRows
		err := r.Scan(&t.Schema, &t.Table)
		return t, err
	})
	if err != nil {
		return nil, err
	}
	batch := &pgx.Batch{}
	for _, t := range tables {
		batch.Queue("SELECT count(*) FROM " + pgx.Identifier{t.Schema, t.Table}.Sanitize())
	}
	results := q.SendBatch(ctx, batch)
	for i := range tables {
		if err := results.QueryRow().Scan(&tables[i].Rows); err != nil {
			results.Close()
			return nil, fmt.Errorf("count rows of %s: %w", tables[i].QualifiedName(), err)
		}
	}
	if err := results.Close(); err != nil {
		return nil, err
	}
	if tables == nil {
		tables = []TableRows{} // an empty database has an empty list, not a missing one
	}
	return tables, nil
}

// compareRowCounts lists every difference between the manifest's counts and
// the restored database's.
func compareRowCounts(want, got []TableRows) []string {
	index := func(ts []TableRows) map[string]int64 {
		m := make(map[string]int64, len(ts))
		for _, t := range ts {
			m[t.QualifiedName()] = t.Rows
		}
		return m
	}
	wantBy, gotBy := index(want), index(got)
	var diffs []string
	for _, t := range want {
		n, ok := gotBy[t.QualifiedName()]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing (manifest: %d rows)", t.QualifiedName(), t.Rows))
		case n != t.Rows:
			diffs = append(diffs, fmt.Sprintf("%s: %d rows, manifest: %d", t.QualifiedName(), n, t.Rows))
		}
	}
	for _, t := range got {
		if _, ok := wantBy[t.QualifiedName()]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: not in the manifest (%d rows)", t.QualifiedName(), t.Rows))
		}
	}
	return diffs
}

// The purposes of scratch databases: a restore in progress, a verify in
// progress, and a target that was swapped out and is about to be dropped.
const (
	scratchRestore  = "restore"
	scratchVerify   = "verify"
	scratchReplaced = "replaced"
)

const scratchRandomHex = 8

// scratchPrefix is a scratch database's name without its random part, e.g.
// dataplatform_vxrestore_; it leaves room within PostgreSQL's 63-byte limit.
func scratchPrefix(target, purpose string) string {
	suffix := "_vx" + purpose + "_"
	const maxIdentifier = 63
	if len(target)+len(suffix)+scratchRandomHex > maxIdentifier {
		target = target[:maxIdentifier-len(suffix)-scratchRandomHex]
	}
	return target + suffix
}

// scratchDatabaseName names a temporary database next to target, e.g.
// dataplatform_vxrestore_1a2b3c4d.
func scratchDatabaseName(target, purpose string) (string, error) {
	var b [scratchRandomHex / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return scratchPrefix(target, purpose) + hex.EncodeToString(b[:]), nil
}

// isScratchOf reports whether name is a scratch database of target.
func isScratchOf(name, target string) bool {
	for _, purpose := range []string{scratchRestore, scratchVerify, scratchReplaced} {
		rest, ok := strings.CutPrefix(name, scratchPrefix(target, purpose))
		if ok && len(rest) == scratchRandomHex && strings.Trim(rest, "0123456789abcdef") == "" {
			return true
		}
	}
	return false
}

// dropLeftoverScratch drops the scratch databases of target that an earlier run
// could not drop (the server went away, the pod was killed). One that still
// has a session belongs to a run in progress and is left alone.
func dropLeftoverScratch(ctx context.Context, conn *pgx.Conn, target string, log *slog.Logger) error {
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database d
		WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)`)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range names {
		if !isScratchOf(name, target) {
			continue
		}
		log.Info("dropping a scratch database left by an earlier run", "database", name)
		if err := dropDatabase(ctx, conn, name); err != nil {
			return fmt.Errorf("drop leftover scratch database %q: %w", name, err)
		}
	}
	return nil
}

func quoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

func databaseExists(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var exists bool
	err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	return exists, err
}

// dropDatabase removes a scratch database even if a session still uses it.
func dropDatabase(ctx context.Context, conn *pgx.Conn, name string) error {
	_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)")
	return err
}
