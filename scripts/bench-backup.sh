#!/usr/bin/env bash
# bench-backup.sh - benchmark vxbackup against plain pg_dump / pg_restore on the
# same generated data in the same run. Not part of the test run (minutes, ~3 GB
# of disk for the 1 GB case).
#
# Usage:
#   eval "$(scripts/test-servers.sh start)"
#   scripts/bench-backup.sh [SIZE_MB...]        default: 100 1024
#
# For each size it generates a database of about SIZE_MB (pg_database_size) and,
# BENCH_REPS times (default 3), alternating the two so that background load hits
# both alike:
#   dump:    pg_dump --format=custom > /dev/null     vs  vxbackup dump (to MinIO)
#   restore: pg_restore from a local archive file    vs  vxbackup restore (from MinIO,
#            into a new database)                        checksum, row counts, swap
# It prints the medians, the ratios (dump: pg_dump time / vxbackup time, goal
# >= 0.9; restore: vxbackup time / pg_restore time, goal <= 1.15) and vxbackup's
# peak RSS (its own, not pg_dump's; goal flat and <= 64 MiB) as Markdown rows.
#
# Needs the variables of scripts/test-servers.sh (PGHOST PGPORT PGUSER PGBIN
# MINIO_ENDPOINT MINIO_ROOT_USER MINIO_ROOT_PASSWORD MC) and go.
# Environment: BENCH_REPS [3]  BENCH_DIR [/var/tmp]: where its scratch directory (the
# built tool, archives, mc config) is made; removed at the end unless BENCH_KEEP=1.
set -euo pipefail

_VX_NAME=bench-backup
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

for v in PGHOST PGPORT PGUSER PGBIN MINIO_ENDPOINT MINIO_ROOT_USER MINIO_ROOT_PASSWORD MC; do
  [[ -n ${!v:-} ]] || die "$v is not set: run eval \"\$(scripts/test-servers.sh start)\" first"
done
REPS=${BENCH_REPS:-3}
KEEP=${BENCH_KEEP:-0}
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(100 1024)
export PATH="$PGBIN:$PATH" PGDATABASE=postgres

mkdir -p "${BENCH_DIR:-/var/tmp}"
DIR=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vxbackup-bench.XXXXXX")
TOOL=$DIR/vxbackup
BUCKET=vxbench-$(date +%s)
DATABASES=()
export MC_CONFIG_DIR=$DIR/mc MC_HOST_vxbench="http://$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD@$MINIO_ENDPOINT"
cleanup() {
  if ((KEEP)); then log "kept: $DIR, bucket $BUCKET, databases ${DATABASES[*]}"; return; fi
  "$MC" --quiet rb --force "vxbench/$BUCKET" >/dev/null 2>&1 || true
  for db in "${DATABASES[@]}"; do psql -qX -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log "building vxbackup"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$TOOL" ./cmd/vxbackup)
"$MC" --quiet mb "vxbench/$BUCKET" >/dev/null

sql() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
elapsed_s() { echo "$(( $(now_ms) - $1 ))" | awk '{ printf "%.3f", $1 / 1000 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# generate DB SIZE_MB: patient-like rows (text, numbers, timestamps, jsonb) until
# the database is about SIZE_MB.
generate() {
  local db=$1 mb=$2 rows
  # Measured: an empty database is about 8 MiB, and each row (with its share of
  # the patients table and the indexes) about 280 bytes.
  rows=$(((mb - 8) * 3700))
  sql -c "CREATE DATABASE \"$db\""
  DATABASES+=("$db")
  sql -d "$db" <<SQL
CREATE TABLE patients (id bigserial PRIMARY KEY, name text, city text, born date);
INSERT INTO patients (name, city, born)
  SELECT 'Patient ' || g || ' Müller', (ARRAY['Zürich','Kraków','東京','São Paulo'])[1 + g % 4], date '1940-01-01' + g % 30000
  FROM generate_series(1, $((rows / 20))) g;
CREATE TABLE measurements (id bigserial PRIMARY KEY, patient_id bigint, taken_at timestamptz, kind text,
  value numeric(12,4), note text, payload jsonb);
INSERT INTO measurements (patient_id, taken_at, kind, value, note, payload)
  SELECT 1 + g % $((rows / 20)), timestamptz '2020-01-01' + g * interval '7 seconds', (ARRAY['hr','bp','spo2','temp'])[1 + g % 4],
         (g * 1.618) % 500, 'Befund ' || md5(g::text) || ' ' || md5((g + 1)::text),
         jsonb_build_object('device', 'dev-' || g % 97, 'seq', g, 'flags', jsonb_build_array(g % 2 = 0, g % 3 = 0), 'hash', md5((g * 3)::text))
  FROM generate_series(1, $rows) g;
VACUUM ANALYZE;
SQL
}

vx_env() { # vx_env DATABASE: the environment of a vxbackup run against the bench bucket
  echo BACKUP_ENVIRONMENT=bench S3_ENDPOINT="$MINIO_ENDPOINT" S3_USE_TLS=false S3_BUCKET="$BUCKET" \
    S3_PREFIX="postgres/" AWS_ACCESS_KEY_ID="$MINIO_ROOT_USER" AWS_SECRET_ACCESS_KEY="$MINIO_ROOT_PASSWORD" \
    PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" PGDATABASE="$1" VXBACKUP_PG_BIN_DIR="$PGBIN"
}

# run_vx VERB DATABASE: run the tool; prints "SECONDS PEAK_RSS_KIB"
run_vx() {
  local t0 log=$DIR/vx.log
  t0=$(now_ms)
  # shellcheck disable=SC2046 # word splitting of the KEY=VALUE list is intended
  env -i PATH="$PATH" HOME="$HOME" $(vx_env "$2") "$TOOL" "$1" >/dev/null 2>"$log" \
    || { cat "$log" >&2; die "vxbackup $1 failed"; }
  echo "$(elapsed_s "$t0") $(sed -n 's/.*peakRSSKiB=\([0-9]*\).*/\1/p' "$log" | tail -1)"
}

ROWS=()
for mb in "${SIZES[@]}"; do
  db=vxbench_${mb}mb_$$
  log "generating about $mb MB in $db"
  t0=$(now_ms)
  generate "$db" "$mb"
  bytes=$(sql -c "SELECT pg_database_size('$db')")
  log "generated $(mib "$bytes") MiB in $(elapsed_s "$t0")s"
  archive=$DIR/$db.pgdump
  pg_dump --format=custom --no-password -d "$db" >"$archive"
  archive_bytes=$(stat -c %s "$archive")

  dump_pg=() dump_vx=() dump_rss=() restore_pg=() restore_vx=() restore_rss=()
  for ((i = 1; i <= REPS; i++)); do
    log "$db: round $i of $REPS"
    t0=$(now_ms); pg_dump --format=custom --no-password -d "$db" >/dev/null; dump_pg+=("$(elapsed_s "$t0")")
    read -r s rss < <(run_vx dump "$db"); dump_vx+=("$s"); dump_rss+=("$rss")

    target=${db}_pgr$i
    sql -c "CREATE DATABASE \"$target\" TEMPLATE template0"
    DATABASES+=("$target")
    t0=$(now_ms)
    pg_restore --exit-on-error --no-owner --no-privileges --no-password -d "$target" "$archive"
    restore_pg+=("$(elapsed_s "$t0")")
    sql -c "DROP DATABASE \"$target\""

    target=${db}_vxr$i
    DATABASES+=("$target")
    read -r s rss < <(run_vx restore "$target"); restore_vx+=("$s"); restore_rss+=("$rss")
    sql -c "DROP DATABASE \"$target\""
  done
  rm -f "$archive"
  md=$(median "${dump_pg[@]}") mv=$(median "${dump_vx[@]}") rp=$(median "${restore_pg[@]}") rv=$(median "${restore_vx[@]}")
  log "$db: pg_dump ${dump_pg[*]} | vxbackup dump ${dump_vx[*]} | pg_restore ${restore_pg[*]} | vxbackup restore ${restore_vx[*]}"
  log "$db: peak RSS KiB dump ${dump_rss[*]} | restore ${restore_rss[*]}"
  ROWS+=("$(printf '| %s MiB | %s MiB | %ss (%s MB/s) | %ss | **%s** | %ss | %ss | **%s** | %s / %s MiB |' \
    "$(mib "$bytes")" "$(mib "$archive_bytes")" \
    "$md" "$(awk -v b="$bytes" -v s="$md" 'BEGIN { printf "%.0f", b / 1e6 / s }')" "$mv" "$(ratio "$md" "$mv")" \
    "$rp" "$rv" "$(ratio "$rv" "$rp")" \
    "$(mib "$(( $(printf '%s\n' "${dump_rss[@]}" | sort -n | tail -1) * 1024 ))")" \
    "$(mib "$(( $(printf '%s\n' "${restore_rss[@]}" | sort -n | tail -1) * 1024 ))")")")
  sql -c "DROP DATABASE \"$db\" WITH (FORCE)"
done

echo "| database | archive | pg_dump -Fc > /dev/null | vxbackup dump | dump ratio (goal ≥ 0.9) | pg_restore (local file) | vxbackup restore | restore ratio (goal ≤ 1.15) | vxbackup peak RSS dump / restore |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "medians of $REPS rounds; $(nproc) cores; $(date -u +%Y-%m-%d); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
