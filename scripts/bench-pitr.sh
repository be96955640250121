#!/usr/bin/env bash
# bench-pitr.sh - the point-in-time-recovery numbers of BENCHMARKS.md, in one run:
# full-backup throughput of pgBackRest to MinIO against pg_basebackup to a local
# file, verified restore time against unpacking that file (about 1 GB), and the
# RPO of an unclean kill (TestKillDuringWritesRestoreLatest).
#
# Usage: scripts/bench-pitr.sh            (VXPITR_BENCH_SCALE=67: pgbench scale, ~1 GB)
# Needs pgbackrest, PostgreSQL 15 and minio/mc (scripts/tools.sh minio mc); every
# server is a private instance of scripts/test-servers.sh, on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
command -v pgbackrest >/dev/null || { echo "bench-pitr: install pgbackrest (apt-get install -y pgbackrest)" >&2; exit 1; }
scripts/tools.sh minio mc >/dev/null # built first; scripts/test-servers.sh finds them
echo "== backup and restore (pgbench scale ${VXPITR_BENCH_SCALE:-67})"
go test -count=1 -tags integration -run '^$' -bench BenchmarkBackupAndRestore -benchtime 1x -timeout 60m ./internal/pitr/
echo "== RPO at an unclean kill"
go test -count=1 -tags integration -run 'TestKillDuringWritesRestoreLatest' -timeout 30m ./internal/pitr/ -v | grep -E '^RPO|^(ok|FAIL|---)'
