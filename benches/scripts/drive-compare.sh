#!/usr/bin/env bash
# Compares server builds on the same PostgreSQL cluster in one run, with the cluster's raw
# single-row commit rate and raw primary-key SELECT rate (pgbench) as the baselines:
#
#   benches/scripts/drive-compare.sh OLD_BINARY NEW_BINARY [drive options...]
#
# Each binary serves a fresh database (created and dropped here) and is driven by
# `target/release/drive` with the given options, twice, interleaved (old, new, old, new).
# Each row adds the CPU time per accepted order of the server process and of every
# process named postgres (every cluster on the machine: keep others idle) (utime + stime from /proc), and the server's peak RSS. The cluster is
# PGHOST/PGPORT/PGUSER (default 127.0.0.1:5432, postgres), trust auth; build `drive` first
# with `cargo build --release -p benches --bin drive`.
set -euo pipefail

old=$(realpath "$1") new=$(realpath "$2")
shift 2
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
drive=$(realpath "${DRIVE:-$(dirname "$0")/../../target/release/drive}")
port=${DRIVE_PORT:-8090}
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

ticks() { # utime + stime of the given processes, in clock ticks
  local total=0 pid
  for pid in "$@"; do
    if [ -r "/proc/$pid/stat" ]; then
      total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    fi
  done
  echo "$total"
}
per_order() { # ticks -> milliseconds per order, one decimal
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t * 1000 / hz / n }'
}

baseline() {
  local db=drive_raw_$$
  psql -qc "CREATE DATABASE $db"
  psql -qd "$db" -c "CREATE TABLE raw_events (position bigint GENERATED ALWAYS AS IDENTITY,
    stream_id text, version bigint, payload jsonb, PRIMARY KEY (stream_id, version))" \
    -c "CREATE TABLE raw_orders (id bigint PRIMARY KEY, payload jsonb)" \
    -c "INSERT INTO raw_orders SELECT n, jsonb_build_object('status', 'CONFIRMED', 'total', '1.00')
        FROM generate_series(1, 100000) n" -c "VACUUM ANALYZE raw_orders"
  echo "INSERT INTO raw_events (stream_id, version, payload) VALUES (md5(random()::text), 1, '{\"sku\": \"A-1\", \"quantity\": 1}');" >"$work/raw.sql"
  printf '%s\n' '\set id random(1, 100000)' 'SELECT payload FROM raw_orders WHERE id = :id;' >"$work/select.sql"
  local tps select
  tps=$(pgbench -n -M prepared -f "$work/raw.sql" -c 16 -j 2 -T 5 "$db" 2>/dev/null |
    awk '/^tps/ {print int($3)}')
  select=$(pgbench -n -M prepared -f "$work/select.sql" -c 16 -j 2 -T 5 "$db" 2>/dev/null |
    awk '/^tps/ {print int($3)}')
  psql -qc "DROP DATABASE $db"
  echo "| pgbench raw single-row INSERT, 16 clients | $tps commits/s |"
  echo "| pgbench raw primary-key SELECT, 16 clients | $select selects/s |"
}

run() {
  local binary=$1 label=$2
  shift 2
  local db=drive_$$_$RANDOM
  psql -qc "CREATE DATABASE $db"
  (
    cd "$work"
    export DOMAINFLOW_JWT_SECRET=drive-compare-secret-0123456789abcdef
    export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db"
    export DOMAINFLOW_LISTEN=127.0.0.1:$port RUST_LOG=warn
    # drive sends the whole load as one customer principal from one address, far above
    # what one customer or one client may send.
    export DOMAINFLOW_RATE_LIMIT=off DOMAINFLOW_ADDRESS_RATE_LIMIT=off
    "$binary" serve >"$work/server.log" 2>&1 &
    local server=$!
    for _ in $(seq 1 150); do
      curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
      sleep 0.2
    done
    local operator customer
    operator=$("$binary" token --sub drive-ops --role operator)
    customer=$("$binary" token --sub "drive-$RANDOM" --role customer)
    local s0 p0 s1 p1
    s0=$(ticks "$server")
    p0=$(ticks $(pgrep -x postgres))
    "$drive" --url "http://127.0.0.1:$port" --operator "$operator" --customer "$customer" "$@" >"$work/drive.out"
    s1=$(ticks "$server")
    p1=$(ticks $(pgrep -x postgres))
    local accepted rss
    accepted=$(grep -o '"accepted":[0-9]*' "$work/drive.out" | cut -d: -f2)
    rss=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$server/status")
    row=$(grep -E '^\| (place|read|mixed) \|' "$work/drive.out")
    echo "| $label $row $(per_order $((s1 - s0)) "$accepted") | $(per_order $((p1 - p0)) "$accepted") | $rss |"
    kill "$server"
    wait "$server" 2>/dev/null || true
  )
  psql -qc "DROP DATABASE $db WITH (FORCE)"
}

baseline
echo
echo "| build | scenario | clients | SKUs | accepted/s | fulfilled/s | place p50/p95/p99 ms | reads/s | read p50/p95/p99 ms | max lag s | violations | server CPU ms/order | PostgreSQL CPU ms/order | server peak RSS MB |"
echo "|---|---|---:|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---:|"
for _ in 1 2; do
  run "$old" old "$@"
  run "$new" new "$@"
done
