// Command vxbackup backs an environment's PostgreSQL database up to S3 and
// restores it from there. It is what the backup CronJob and the restore Jobs of
// components/backupjob.go run.
//
//	vxbackup dump      pg_dump (custom format) streamed to S3, then a manifest
//	vxbackup restore   replace PGDATABASE with the latest (or BACKUP_NAME) backup
//	vxbackup verify    restore into a scratch database, compare row counts, drop it
//	vxbackup list      print the backups whose manifests exist
//
// All settings come from the environment (or NAME_FILE files mounted from
// Secrets); see internal/backup/README.md. Arguments other than the verb are
// refused, so that nobody is tempted to pass a credential on the command line.
// Exit status: 0 success, 1 the operation failed, 2 usage or configuration error.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/virdx/vxplatform-infra/internal/backup"
)

// version is set at build time: -ldflags "-X main.version=v0.3.0".
var version = "dev"

const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func main() {
	keepMemoryFlat()
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// keepMemoryFlat makes the garbage collector run before the heap doubles. The
// live heap is almost all the two upload part buffers (32 MiB, no pointers, so
// cheap to collect around), but every uploaded part also leaves its request's
// chunk buffers behind as garbage; with Go's default (GOGC=100) the heap grew
// to twice the buffers before a collection and peak memory rose with the dump
// size (37 MiB at 100 MB, 67 MiB at 1 GB). GOGC, if set, still wins.
func keepMemoryFlat() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(20)
	}
}

func run(args []string, lookup backup.LookupFunc, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "vxbackup: expected exactly one argument, the verb; got %d (settings come only from the environment)\n", len(args))
		usage(stderr)
		return exitUsage
	}
	verb := backup.Verb(args[0])
	switch args[0] {
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(stdout, "vxbackup", version)
		return exitOK
	}
	if !knownVerb(verb) {
		fmt.Fprintf(stderr, "vxbackup: unknown verb %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("verb", string(verb))
	cfg, err := backup.ConfigFromEnv(verb, lookup)
	if err != nil {
		log.Error(string(verb)+" not started", "error", err)
		return exitUsage
	}
	// Kubernetes stops a Job with SIGTERM: cancelling aborts the multipart upload
	// or the restore and drops the scratch database instead of leaving them.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	opts := backup.Options{Log: log, ToolVersion: "vxbackup " + version}
	var m backup.Manifest
	switch verb {
	case backup.VerbDump:
		m, err = backup.Dump(ctx, cfg, opts)
	case backup.VerbRestore:
		m, err = backup.Restore(ctx, cfg, opts)
	case backup.VerbVerify:
		m, err = backup.Verify(ctx, cfg, opts)
	case backup.VerbList:
		err = list(ctx, cfg, stdout)
	}
	if err != nil {
		log.Error(string(verb)+" failed", "error", err, "peakRSSKiB", peakRSSKiB())
		return exitFailed
	}
	if m.ID != "" {
		fmt.Fprintln(stdout, m.ID)
	}
	log.Info(string(verb)+" succeeded", "peakRSSKiB", peakRSSKiB())
	return exitOK
}

func knownVerb(v backup.Verb) bool {
	for _, known := range backup.Verbs {
		if v == known {
			return true
		}
	}
	return false
}

func list(ctx context.Context, cfg backup.Config, stdout io.Writer) error {
	backups, err := backup.List(ctx, cfg)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTARTED\tDATABASE\tBYTES\tTABLES\tSTATUS")
	for _, b := range backups {
		if b.Err != nil {
			fmt.Fprintf(w, "%s\t\t\t\t\tUNUSABLE: %v\n", b.ID, b.Err)
			continue
		}
		m := b.Manifest
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\tok\n", m.ID, m.StartedAt.Format(time.RFC3339), m.Database, m.Size, len(m.Tables))
	}
	return w.Flush()
}

// peakRSSKiB is this process's peak resident memory (not pg_dump's), logged so
// that the benchmark can check it stays flat.
func peakRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Maxrss
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: vxbackup dump|restore|verify|list|version

Settings (environment only; each may also be NAME_FILE, a file holding the value):
  BACKUP_ENVIRONMENT     environment whose backups are written or read
  S3_ENDPOINT            host:port of the S3 endpoint
  S3_USE_TLS             true (default) or false
  S3_BUCKET, S3_PREFIX   where the backups are (e.g. dataplatform-backups-production, postgres/)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
  PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD
  BACKUP_NAME            restore/verify: "latest" (default) or a backup ID from 'list'
Optional: S3_REGION, VXBACKUP_S3_MAX_RETRIES, VXBACKUP_PART_SIZE_MIB,
  VXBACKUP_PG_BIN_DIR, VXBACKUP_MAINTENANCE_DATABASE (default postgres)
`)
}
