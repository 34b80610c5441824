#!/usr/bin/env bash
# Where the inbox's CPU time goes: perf samples the server (and, separately, PostgreSQL) while
# wrk runs the partner inbox at 16 connections, and prints the functions with the most samples
# (self time; the release build has symbols but no frame pointers, so no call stacks).
#
#   bash bench/profile.sh                     # on the database bench/run.sh left (wzh_bench)
#   BIN=/path/to/welzijnshuis bash bench/profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_SAMPLED="${SECONDS_SAMPLED:-8}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/wzh_bench?sslmode=disable}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/welzijnshuis-target}"
BIN="${BIN:-$CARGO_TARGET_DIR/release/welzijnshuis}"
export WELZIJNSHUIS_JWT_SECRET="bench-secret-bench-secret-bench-secret-1234"
export WELZIJNSHUIS_RATE_LIMIT=1000000 WELZIJNSHUIS_RATE_BURST=1000000 RUST_LOG=warn
WORK="$(mktemp -d)"
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

TOKEN="$(DATABASE_URL="$PG_URL" "$BIN" token medewerker@caw.test --ttl 1h)"
DATABASE_URL="$PG_URL" WELZIJNSHUIS_ADDR=127.0.0.1:18095 "$BIN" serve > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18095/readyz >/dev/null 2>&1 && break; sleep 0.2; done
QUERY_FILE=bench/inbox.graphql TOKEN="$TOKEN" wrk -t2 -c16 -d2s -s bench/post.lua http://127.0.0.1:18095/graphql >/dev/null
QUERY_FILE=bench/inbox.graphql TOKEN="$TOKEN" wrk -t2 -c16 -d"$((SECONDS_SAMPLED + 2))s" -s bench/post.lua \
  http://127.0.0.1:18095/graphql > "$WORK/wrk.txt" &
LOAD=$!
sleep 1
perf record -q -F 999 -o "$WORK/server.data" -p "$SERVER" -- sleep "$SECONDS_SAMPLED" 2>/dev/null
wait "$LOAD"
echo "inbox at 16 connections while sampled: $(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt") req/s"
echo
echo "welzijnshuis, self time by function (top 25):"
perf report -q -i "$WORK/server.data" --no-children --sort symbol --percent-limit 0.7 --stdio 2>/dev/null \
  | awk 'NF { $1 = $1; sub(/ - -$/, ""); print }' | cut -c1-140 | head -25
