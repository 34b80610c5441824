#!/usr/bin/env bash
# The soak: the partner inbox at half the measured maximum for ten minutes, on PostgreSQL with
# the scaled demo network; prints the server's memory every 30 s and every error. Not in CI.
#
#   bash bench/soak.sh                 # measures the maximum first (16 connections, 10 s)
#   RATE=130 MINUTES=10 bash bench/soak.sh
#
# Passes when memory stays flat (the last sample within 10 % of the first after warm-up) and
# there are no errors: no socket error, no non-2xx answer, no INTERNAL outcome in /metrics.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE="${SCALE:-10000}"
MINUTES="${MINUTES:-10}"
CONNECTIONS=16
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/wzh_bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/welzijnshuis-target}"
export WELZIJNSHUIS_JWT_SECRET="bench-secret-bench-secret-bench-secret-1234"
export WELZIJNSHUIS_RATE_LIMIT=1000000 WELZIJNSHUIS_RATE_BURST=1000000 RUST_LOG=warn
BIN="$CARGO_TARGET_DIR/release/welzijnshuis"
BASE=http://127.0.0.1:18090
WORK="$(mktemp -d)"
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
cargo build --release --locked -q
if ! psql "$PG_URL" -Atc "SELECT 1 FROM organisations LIMIT 1" >/dev/null 2>&1; then
  psql "$PG_ADMIN" -qc "CREATE DATABASE wzh_bench"
  DATABASE_URL="$PG_URL" "$BIN" demo --scale "$SCALE"
  psql "$PG_URL" -qc "VACUUM ANALYZE"
fi
TOKEN="$(DATABASE_URL="$PG_URL" "$BIN" token medewerker@caw.test --ttl 2h)"
DATABASE_URL="$PG_URL" WELZIJNSHUIS_ADDR=127.0.0.1:18090 "$BIN" serve > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fs "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status"; }

if [ -z "${RATE:-}" ]; then
  QUERY_FILE=bench/inbox.graphql TOKEN="$TOKEN" wrk -t2 -c"$CONNECTIONS" -d10s -s bench/post.lua "$BASE/graphql" > "$WORK/max.txt"
  MAX="$(awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/max.txt")"
  RATE=$((MAX / 2))
  echo "measured maximum: $MAX req/s; soaking at $RATE req/s"
fi
INTERVAL_MS=$((1000 * CONNECTIONS / RATE))

echo "minute  RSS (MB)"
(
  for i in $(seq 0 $((MINUTES * 2))); do
    printf "%5.1f   %s\n" "$(echo "$i / 2" | bc -l)" "$(rss)"
    sleep 30
  done
) &
SAMPLER=$!
INTERVAL_MS="$INTERVAL_MS" QUERY_FILE=bench/inbox.graphql TOKEN="$TOKEN" \
  wrk -t2 -c"$CONNECTIONS" -d"${MINUTES}m" --latency -s bench/post.lua "$BASE/graphql" > "$WORK/soak.txt"
kill "$SAMPLER" 2>/dev/null || true
echo
grep -E "Requests/sec|50%|99%|requests in|Non-2xx|Socket errors" "$WORK/soak.txt" || true
echo "outcomes:"
curl -fs "$BASE/metrics" | grep '^welzijnshuis_graphql_requests_total' | sed 's/^/  /'
if grep -q "Non-2xx\|Socket errors" "$WORK/soak.txt" || curl -fs "$BASE/metrics" | grep -q 'outcome="INTERNAL"'; then
  echo "FAILED: errors during the soak"; exit 1
fi
echo "no errors"
