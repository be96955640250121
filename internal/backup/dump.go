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
	d := &dumpRun{cfg: cfg, pg: cfg.Postgres, log: opts.logger(), tool: opts.ToolVersion, started: time.Now().UTC()}
	defer d.close(ctx)
	if err := runSteps(ctx, d.prepare, d.upload, d.record); err != nil {
		return Manifest{}, err
	}
	return d.manifest, nil
}

// dumpRun is one dump: prepare opens the snapshot, upload streams pg_dump of it
// to S3, record counts the rows in the same snapshot and writes the manifest.
// close ends the snapshot and the session.
type dumpRun struct {
	cfg     Config
	pg      PostgresConfig
	log     *slog.Logger
	tool    string // recorded in the manifest
	started time.Time

	store         *Store    // prepare
	pgDump        string    // prepare: the pg_dump binary
	conn          *pgx.Conn // prepare: the session that holds the snapshot
	snapshot      pgx.Tx    // prepare: open until the rows are counted
	snapshotID    string    // prepare: what pg_dump --snapshot takes
	databaseBytes int64     // prepare
	manifest      Manifest  // prepare fills the server's part, upload the archive's, record the rest
}

// prepare finds pg_dump, inspects the database and opens the snapshot that
// pg_dump and the row counts share, and chooses the backup's ID.
func (d *dumpRun) prepare(ctx context.Context) error {
	var err error
	if d.store, err = NewStore(d.cfg.S3); err != nil {
		return err
	}
	if d.pgDump, err = pgTool(d.pg, "pg_dump"); err != nil {
		return err
	}
	if d.manifest.PgDumpVersion, err = toolVersion(ctx, d.pgDump); err != nil {
		return err
	}
	if d.conn, err = connect(ctx, d.pg, d.pg.Database); err != nil {
		return err
	}
	m := &d.manifest
	err = d.conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('server_version_num')::int,
		pg_encoding_to_char(encoding), pg_database_size(datname) FROM pg_database WHERE datname = current_database()`).
		Scan(&m.ServerVersion, &m.ServerVersionNum, &m.Encoding, &d.databaseBytes)
	if err != nil {
		return pgError("inspect", d.pg, d.pg.Database, err)
	}
	if err := d.openSnapshot(ctx); err != nil {
		return err
	}
	if m.ID, err = NewBackupID(d.started); err != nil {
		return err
	}
	m.DumpKey = DumpKey(d.store.Prefix(), m.ID)
	return nil
}

// openSnapshot begins the read-only transaction whose snapshot pg_dump uses.
func (d *dumpRun) openSnapshot(ctx context.Context) error {
	var err error
	d.snapshot, err = d.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return pgError("begin snapshot in", d.pg, d.pg.Database, err)
	}
	if err := d.snapshot.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&d.snapshotID); err != nil {
		return pgError("export snapshot of", d.pg, d.pg.Database, err)
	}
	return nil
}

// upload streams pg_dump's output into a multipart upload while hashing and
// counting it. Whichever side fails first, the other is stopped and no object
// appears.
func (d *dumpRun) upload(ctx context.Context) error {
	id, key := d.manifest.ID, d.manifest.DumpKey
	partSize := choosePartSize(d.cfg.PartSize, d.databaseBytes)
	d.log.Info("dump starting", "backup", id, "database", d.pg.Database, "server", d.pg.Address(),
		"destination", d.store.describe(key), "databaseBytes", d.databaseBytes, "partBytes", partSize)
	uploadCtx, cancelUpload := context.WithCancel(ctx)
	defer cancelUpload()
	stream, err := d.startPgDump(uploadCtx)
	if err != nil {
		return err
	}
	uploaded, uploadErr := d.store.uploadStream(uploadCtx, key, stream, partSize)
	if uploadErr != nil {
		// Stop pg_dump (it may be blocked writing to us). The message must name
		// the real cause: pg_dump failed first exactly when its output ended and
		// it exited non-zero; otherwise the upload failed and pg_dump was killed.
		cancelUpload()
		dumpErr := stream.wait()
		if dumpErr != nil && stream.sawEOF {
			return fmt.Errorf("%w; the upload to %s was aborted, no backup was written", dumpErr, d.store.describe(key))
		}
		return fmt.Errorf("%w; pg_dump was stopped, no backup was written", d.store.s3Error("upload dump", key, uploadErr))
	}
	if err := stream.wait(); err != nil { // normally already seen at EOF
		return err
	}
	if uploaded != stream.n {
		return fmt.Errorf("upload of %s stored %d bytes but pg_dump wrote %d; no backup was written", d.store.describe(key), uploaded, stream.n)
	}
	d.manifest.Size = stream.n
	d.manifest.SHA256 = hex.EncodeToString(stream.hash.Sum(nil))
	d.log.Info("dump uploaded", "backup", id, "bytes", stream.n, "seconds", time.Since(d.started).Seconds())
	return nil
}

// startPgDump starts pg_dump in the snapshot; its output is read through the
// returned dumpReader.
func (d *dumpRun) startPgDump(ctx context.Context) (*dumpReader, error) {
	cmd := exec.CommandContext(ctx, d.pgDump, "--format=custom", "--no-password", "--snapshot="+d.snapshotID)
	cmd.Env = clientEnv(d.pg, d.pg.Database)
	stderr := &tailBuffer{limit: 8 << 10}
	cmd.Stderr = stderr
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("pg_dump: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", d.pgDump, err)
	}
	id := d.manifest.ID
	return &dumpReader{
		r:    stdout,
		hash: sha256.New(),
		wait: sync.OnceValue(func() error {
			if err := cmd.Wait(); err != nil {
				return fmt.Errorf("pg_dump of database %q on %s failed (%v): %s", d.pg.Database, d.pg.Address(), err, stderr.String())
			}
			return nil
		}),
		progress: func(n int64) { d.log.Info("dump progress", "backup", id, "bytesRead", n) },
	}, nil
}

// record counts every table's rows in the dump's snapshot and writes the
// manifest: from this moment the backup exists.
func (d *dumpRun) record(ctx context.Context) error {
	tables, err := countRows(ctx, d.snapshot)
	if err != nil {
		return pgError("count rows in", d.pg, d.pg.Database, err)
	}
	_ = d.snapshot.Rollback(ctx)
	m := &d.manifest
	m.Format = ManifestFormat
	m.Environment = d.cfg.Environment
	m.Database = d.pg.Database
	m.DumpFormat = DumpFormat
	m.StartedAt = d.started
	m.FinishedAt = time.Now().UTC()
	m.Tables = tables
	m.Tool = d.tool
	if err := d.store.putManifest(ctx, *m); err != nil {
		return fmt.Errorf("%w; the dump object exists but without a manifest it is not a backup", err)
	}
	d.log.Info("backup complete", "backup", m.ID, "manifest", d.store.describe(ManifestKey(d.store.Prefix(), m.ID)),
		"bytes", m.Size, "sha256", m.SHA256, "tables", len(tables), "seconds", m.FinishedAt.Sub(d.started).Seconds())
	return nil
}

// close ends the snapshot (read-only: nothing to undo) and the session.
func (d *dumpRun) close(ctx context.Context) {
	if d.snapshot != nil {
		_ = d.snapshot.Rollback(context.WithoutCancel(ctx))
	}
	if d.conn != nil {
		d.conn.Close(context.WithoutCancel(ctx))
	}
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
