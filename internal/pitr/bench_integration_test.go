//go:build integration

package pitr_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/virdx/vxplatform-infra/internal/pitr"
)

// BenchmarkBackupAndRestore measures, in one run on one machine: a full
// pgBackRest backup to MinIO (through the sidecar's TLS server, as the CronJob
// does) against pg_basebackup to a local tar file, and a verified restore of
// the same database against unpacking that tar. Size: pgbench scale
// VXPITR_BENCH_SCALE (default 67, about 1 GB). Run it with scripts/bench-pitr.sh;
// scripts/test.sh does not (it runs no benchmarks).
func BenchmarkBackupAndRestore(b *testing.B) {
	scale := 67
	if v := os.Getenv("VXPITR_BENCH_SCALE"); v != "" {
		var err error
		if scale, err = strconv.Atoi(v); err != nil || scale < 1 {
			b.Fatalf("VXPITR_BENCH_SCALE=%q: a pgbench scale of at least 1 (67 is about 1 GB)", v)
		}
	}
	r := newRig(b, pitr.DefaultArchiveTimeout)
	run(b, nil, filepath.Join(r.pgBin(), "pgbench"), "-i", "-q", "-s", strconv.Itoa(scale), "-h", "127.0.0.1", "-p", strconv.Itoa(r.servers.Postgres.Port), "-U", "postgres", "postgres")
	var size int64
	conn, err := pgx.Connect(context.Background(), r.dsn("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	if err := conn.QueryRow(context.Background(), "SELECT sum(pg_database_size(datname)) FROM pg_database").Scan(&size); err != nil {
		b.Fatal(err)
	}
	conn.Close(context.Background())
	r.check(b)
	mb := float64(size) / (1 << 20)

	timed := func(f func()) time.Duration { start := time.Now(); f(); return time.Since(start) }
	b.ResetTimer()
	pgbackrestBackup := timed(func() { r.backup(b, pitr.BackupFull) })
	tarDir := ownedDir(b, "basebackup")
	basebackup := timed(func() {
		run(b, nil, filepath.Join(r.pgBin(), "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(r.servers.Postgres.Port), "-U", "postgres",
			"-D", tarDir, "-Ft", "-X", "fetch", "-c", "fast")
	})
	restoreDir := filepath.Join(ownedDir(b, "restore"), "pgdata")
	restore := timed(func() {
		out, code := r.vxpitr(b, r.restoreEnv(pitr.EnvTargetTime+"=latest", pitr.EnvRestoreDir+"="+restoreDir, fmt.Sprintf("%s=%d", pitr.EnvVerifyPort, freePort(b))), "restore")
		if code != 0 {
			b.Fatalf("restore: exit %d\n%s", code, out)
		}
	})
	untarDir := ownedDir(b, "untar")
	untar := timed(func() { run(b, nil, "tar", "-xf", filepath.Join(tarDir, "base.tar"), "-C", untarDir) })
	b.StopTimer()

	fmt.Printf("database: %.0f MiB (pgbench scale %d)\n", mb, scale)
	fmt.Printf("full backup, pgBackRest to MinIO (TLS, lz4, 2 processes): %6.1f s  %6.1f MiB/s\n", pgbackrestBackup.Seconds(), mb/pgbackrestBackup.Seconds())
	fmt.Printf("pg_basebackup to a local tar file:                        %6.1f s  %6.1f MiB/s\n", basebackup.Seconds(), mb/basebackup.Seconds())
	fmt.Printf("  ratio pgBackRest / pg_basebackup time: %.2f\n", pgbackrestBackup.Seconds()/basebackup.Seconds())
	fmt.Printf("verified restore (pgbackrest restore + recovery + checks): %6.1f s\n", restore.Seconds())
	fmt.Printf("unpacking the local tar (no recovery, no checks):          %6.1f s\n", untar.Seconds())
	fmt.Printf("  ratio restore / unpack time: %.2f\n", restore.Seconds()/untar.Seconds())
	b.ReportMetric(mb/pgbackrestBackup.Seconds(), "backup-MiB/s")
	b.ReportMetric(mb/basebackup.Seconds(), "basebackup-MiB/s")
	b.ReportMetric(restore.Seconds(), "restore-s")
}
