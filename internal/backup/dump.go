package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os/exec"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options are what the caller supplies besides the configuration.
type Options struct {
	Log *slog.Logger
	// ToolVersion is recorded in manifests.
	ToolVersion string
}

func (o Options) logger() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

const (
	// defaultPartSize keeps memory flat: two parts are in memory while streaming.
	defaultPartSize = 16 << 20
	// partsBudget leaves headroom below S3's limit of 10,000 parts.
	partsBudget = 9000
	// progressEvery is how often a dump logs how far it got.
	progressEvery = 64 << 20
)

// choosePartSize returns the configured part size, or one large enough that a
// dump as large as the whole database (a pessimistic bound: the archive is
// compressed and holds no indexes) needs fewer than partsBudget parts.
func choosePartSize(configured, databaseBytes int64) int64 {
	if configured > 0 {
		return configured
	}
	size := int64(defaultPartSize)
	if need := (databaseBytes + partsBudget - 1) / partsBudget; need > size {
		size = (need + 1<<20 - 1) &^ (1<<20 - 1) // whole MiB
	}
	return size
}

// Dump streams `pg_dump --format=custom` of the configured database to the
// backup prefix and then writes its manifest. Nothing touches the local disk.
//
// pg_dump runs in a snapshot exported by the tool's own transaction, so the row
// counts in the manifest are exactly the rows in the archive, whatever is written
// meanwhile. The manifest is written only after pg_dump exited 0, the upload is
// complete and the counts are known: any failure leaves "latest" where it was.
func Dump(ctx context.Context, cfg Config, opts Options) (Manifest, error) {
	log := opts.logger()
	pg := cfg.Postgres
	started := time.Now().UTC()
	store, err := NewStore(cfg.S3)
	if err != nil {
		return Manifest{}, err
	}
	pgDump, err := pgTool(pg, "pg_dump")
	if err != nil {
		return Manifest{}, err
	}
	pgDumpVersion, err := toolVersion(ctx, pgDump)
	if err != nil {
		return Manifest{}, err
	}

	conn, err := connect(ctx, pg, pg.Database)
	if err != nil {
		return Manifest{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var m Manifest
	var databaseBytes int64
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('server_version_num')::int,
		pg_encoding_to_char(encoding), pg_database_size(datname) FROM pg_database WHERE datname = current_database()`).
		Scan(&m.ServerVersion, &m.ServerVersionNum, &m.Encoding, &databaseBytes)
	if err != nil {
		return Manifest{}, pgError("inspect", pg, pg.Database, err)
	}

	// The snapshot transaction stays open until the counts are taken: pg_dump and
	// the counts then see the same data.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Manifest{}, pgError("begin snapshot in", pg, pg.Database, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only; nothing to undo
	var snapshot string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snapshot); err != nil {
		return Manifest{}, pgError("export snapshot of", pg, pg.Database, err)
	}

	id, err := NewBackupID(started)
	if err != nil {
		return Manifest{}, err
	}
	key := DumpKey(store.Prefix(), id)
	partSize := choosePartSize(cfg.PartSize, databaseBytes)
	log.Info("dump starting", "backup", id, "database", pg.Database, "server", pg.Address(),
		"destination", store.describe(key), "databaseBytes", databaseBytes, "partBytes", partSize)

	uploadCtx, cancelUpload := context.WithCancel(ctx)
	defer cancelUpload()
	cmd := exec.CommandContext(uploadCtx, pgDump, "--format=custom", "--no-password", "--snapshot="+snapshot)
	cmd.Env = clientEnv(pg, pg.Database)
	stderr := &tailBuffer{limit: 8 << 10}
	cmd.Stderr = stderr
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Manifest{}, fmt.Errorf("pg_dump: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return Manifest{}, fmt.Errorf("start %s: %w", pgDump, err)
	}
	stream := &dumpReader{
		r:    stdout,
		hash: sha256.New(),
		wait: sync.OnceValue(func() error {
			if err := cmd.Wait(); err != nil {
				return fmt.Errorf("pg_dump of database %q on %s failed (%v): %s", pg.Database, pg.Address(), err, stderr.String())
			}
			return nil
		}),
		progress: func(n int64) { log.Info("dump progress", "backup", id, "bytesRead", n) },
	}
	uploaded, uploadErr := store.uploadStream(uploadCtx, key, stream, partSize)
	if uploadErr != nil {
		// Stop pg_dump (it may be blocked writing to us). The message must name
		// the real cause: pg_dump failed first exactly when its output ended and
		// it exited non-zero; otherwise the upload failed and pg_dump was killed.
		cancelUpload()
		dumpErr := stream.wait()
		if dumpErr != nil && stream.sawEOF {
			return Manifest{}, fmt.Errorf("%w; the upload to %s was aborted, no backup was written", dumpErr, store.describe(key))
		}
		return Manifest{}, fmt.Errorf("%w; pg_dump was stopped, no backup was written", store.s3Error("upload dump", key, uploadErr))
	}
	if err := stream.wait(); err != nil { // normally already seen at EOF
		return Manifest{}, err
	}
	if uploaded != stream.n {
		return Manifest{}, fmt.Errorf("upload of %s stored %d bytes but pg_dump wrote %d; no backup was written", store.describe(key), uploaded, stream.n)
	}
	log.Info("dump uploaded", "backup", id, "bytes", stream.n, "seconds", time.Since(started).Seconds())

	tables, err := countRows(ctx, tx)
	if err != nil {
		return Manifest{}, pgError("count rows in", pg, pg.Database, err)
	}
	_ = tx.Rollback(ctx)

	m.Format = ManifestFormat
	m.ID = id
	m.Environment = cfg.Environment
	m.Database = pg.Database
	m.DumpKey = key
	m.DumpFormat = DumpFormat
	m.Size = stream.n
	m.SHA256 = hex.EncodeToString(stream.hash.Sum(nil))
	m.StartedAt = started
	m.FinishedAt = time.Now().UTC()
	m.PgDumpVersion = pgDumpVersion
	m.Tables = tables
	m.Tool = opts.ToolVersion
	if err := store.putManifest(ctx, m); err != nil {
		return Manifest{}, fmt.Errorf("%w; the dump object exists but without a manifest it is not a backup", err)
	}
	log.Info("backup complete", "backup", id, "manifest", store.describe(ManifestKey(store.Prefix(), id)),
		"bytes", m.Size, "sha256", m.SHA256, "tables", len(tables), "seconds", m.FinishedAt.Sub(started).Seconds())
	return m, nil
}

// dumpReader hashes and counts pg_dump's output as the uploader reads it. At
// the end of the output it waits for pg_dump and turns a failed pg_dump into a
// read error, so that the uploader aborts instead of completing a truncated
// object.
type dumpReader struct {
	r            io.Reader
	hash         hash.Hash
	n            int64
	sawEOF       bool
	wait         func() error
	progress     func(int64)
	lastProgress int64
}

func (d *dumpReader) Read(p []byte) (int, error) {
	if d.sawEOF {
		// The uploader reads again after the end; the pipe is closed by then.
		if werr := d.wait(); werr != nil {
			return 0, werr
		}
		return 0, io.EOF
	}
	n, err := d.r.Read(p)
	if n > 0 {
		d.hash.Write(p[:n])
		d.n += int64(n)
		if d.n-d.lastProgress >= progressEvery {
			d.lastProgress = d.n
			d.progress(d.n)
		}
	}
	if err == io.EOF {
		d.sawEOF = true
		if werr := d.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// tailBuffer keeps the last bytes written to it: the end of a tool's stderr is
// where its error is.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return "(no output)"
	}
	return string(bytes.TrimSpace(t.buf))
}
