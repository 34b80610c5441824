#!/usr/bin/env bash
# The partner-inbox benchmark (bench/README.md): welzijnshuis on PostgreSQL and on SQLite, side by
# side in one run with PostGraphile v4 serving the same database and with the raw SQL the request
# needs run by pgbench, at 1, 16 and 64 connections. Prints its figures as Markdown tables.
#
#   bash bench/run.sh                      # scale 10000 (100,000 referrals), 10 s a run
#   SCALE=2000 DURATION=5 bash bench/run.sh
#
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth), Node.js and npm; installs wrk from Debian's
# packages and PostGraphile v4 from npm into $BENCH_DIR when missing. Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE="${SCALE:-10000}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-1 16 64}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/wzh_bench}"
BENCH_DIR="${BENCH_DIR:-/var/cache/welzijnshuis-bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/welzijnshuis-target}"
export WELZIJNSHUIS_JWT_SECRET="bench-secret-bench-secret-bench-secret-1234"
# The rate limiter stays on (its cost is part of the figures), far above what the load asks.
export WELZIJNSHUIS_RATE_LIMIT=1000000 WELZIJNSHUIS_RATE_BURST=1000000 RUST_LOG=warn
BIN="$CARGO_TARGET_DIR/release/welzijnshuis"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "== $*" >&2; }

# --- tools --------------------------------------------------------------------------------------
command -v wrk >/dev/null || { say "installing wrk"; apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }; }
if [ ! -x "$BENCH_DIR/node_modules/.bin/postgraphile" ]; then
  say "installing PostGraphile v4 into $BENCH_DIR"
  mkdir -p "$BENCH_DIR" && (cd "$BENCH_DIR" && npm install --silent --no-audit --no-fund postgraphile@4 >/dev/null)
fi
say "building welzijnshuis (release)"
cargo build --release --locked -q

# --- data ---------------------------------------------------------------------------------------
say "loading the demo network at scale $SCALE into PostgreSQL and SQLite"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS wzh_bench WITH (FORCE)" -c "CREATE DATABASE wzh_bench"
DATABASE_URL="$PG_URL" "$BIN" demo --scale "$SCALE" >&2
psql "$PG_URL" -qc "VACUUM ANALYZE"
SQLITE_FILE="$WORK/bench.db"
SQLITE_URL="sqlite://$SQLITE_FILE?mode=rwc"
DATABASE_URL="$SQLITE_URL" "$BIN" demo --scale "$SCALE" >&2
TOKEN="$(DATABASE_URL="$PG_URL" "$BIN" token medewerker@caw.test --ttl 2h)"
SQLITE_TOKEN="$(DATABASE_URL="$SQLITE_URL" "$BIN" token medewerker@caw.test --ttl 2h)"
CAW="$(psql "$PG_URL" -Atc "SELECT id FROM organisations WHERE hsds_id = 'demo-org-caw'")"
CAW_USER="$(psql "$PG_URL" -Atc "SELECT id FROM users WHERE email = 'medewerker@caw.test'")"
INCOMING="$(psql "$PG_URL" -Atc "SELECT count(*) FROM referrals WHERE recipient_id = '$CAW'")"

# --- helpers ------------------------------------------------------------------------------------
wait_for() { # url
  for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "nothing answers at $1" >&2; exit 1
}
peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
metric() { # base-url name
  curl -fs "$1/metrics" | awk -v n="$2" '$1 == n {print $2}'
}
# wrk at $1 connections against $2 with query file $3 and token $4: "req/s p50 p99 errors"
load() {
  local connections="$1" url="$2" query="$3" token="$4" threads=2
  [ "$connections" -lt 2 ] && threads=1
  QUERY_FILE="$query" TOKEN="$token" wrk -t"$threads" -c"$connections" -d"${DURATION}s" --latency \
    -s bench/post.lua "$url" > "$WORK/wrk.txt"
  awk '
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
    /Non-2xx/ { errors += $NF } /Socket errors/ { errors += 1 }
    END { printf "%s %s %s %d\n", rps, p50, p99, errors }' "$WORK/wrk.txt"
}
# Two seconds of load first, not counted: every server's first requests open connections and
# prepare statements (seen: 100 ms each), which would otherwise be the whole p99 of a short run.
warm_up() { # url query token
  QUERY_FILE="$2" TOKEN="$3" wrk -t2 -c16 -d2s -s bench/post.lua "$1" >/dev/null
}
row() { # name connections "rps p50 p99 errors" statements rss
  read -r rps p50 p99 errors <<< "$3"
  printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n" "$1" "$2" "$rps" "$p50" "$p99" "$errors" "$4" "$5"
}

# --- welzijnshuis -------------------------------------------------------------------------------
run_welzijnshuis() { # name database-url token port
  local name="$1" url="$2" token="$3" port="$4" base="http://127.0.0.1:$4"
  DATABASE_URL="$url" WELZIJNSHUIS_ADDR="127.0.0.1:$port" "$BIN" serve > "$WORK/$port.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_for "$base/readyz"
  # Statements per request, whatever the page size: the inbox at 5 and at 50.
  local per_size=""
  for first in 5 50; do
    local before after
    before="$(metric "$base" welzijnshuis_sql_statements_total)"
    sed "s/first: 50/first: $first/" bench/inbox.graphql > "$WORK/inbox-$first.graphql"
    curl -fs -o /dev/null -X POST "$base/graphql" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      --data "$(python3 -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' "$WORK/inbox-$first.graphql")"
    after="$(metric "$base" welzijnshuis_sql_statements_total)"
    per_size="$per_size first:$first→$((after - before))"
  done
  say "$name: statements for one inbox request:$per_size"
  warm_up "$base/graphql" bench/inbox.graphql "$token"
  for c in $CONNECTIONS; do
    local sum_before count_before sum_after count_after result
    sum_before="$(metric "$base" welzijnshuis_graphql_request_sql_statements_sum)"
    count_before="$(metric "$base" welzijnshuis_graphql_request_sql_statements_count)"
    result="$(load "$c" "$base/graphql" bench/inbox.graphql "$token")"
    sum_after="$(metric "$base" welzijnshuis_graphql_request_sql_statements_sum)"
    count_after="$(metric "$base" welzijnshuis_graphql_request_sql_statements_count)"
    local statements
    statements="$(awk -v s="$sum_after" -v t="$sum_before" -v n="$count_after" -v m="$count_before" 'BEGIN { printf "%.1f", (s - t) / (n - m) }')"
    row "$name" "$c" "$result" "$statements" "$(peak_rss_mb "$pid") MB"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# --- PostGraphile -------------------------------------------------------------------------------
run_postgraphile() {
  sed "s/ORG_ID/$CAW/" bench/inbox.postgraphile.graphql > "$WORK/postgraphile.graphql"
  NODE_ENV=production "$BENCH_DIR/node_modules/.bin/postgraphile" --connection "$PG_URL" --schema public \
    --host 127.0.0.1 --port 15000 --disable-query-log --disable-graphiql > "$WORK/postgraphile.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 100); do
    curl -fs -X POST http://127.0.0.1:15000/graphql -H 'Content-Type: application/json' -d '{"query":"{__typename}"}' >/dev/null 2>&1 && break
    sleep 0.2
  done
  warm_up http://127.0.0.1:15000/graphql "$WORK/postgraphile.graphql" ""
  # PostGraphile runs one SQL statement per GraphQL query.
  for c in $CONNECTIONS; do
    row "PostGraphile v4 (no access rules)" "$c" "$(load "$c" http://127.0.0.1:15000/graphql "$WORK/postgraphile.graphql" "")" 1 "$(peak_rss_mb "$pid") MB"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# --- raw SQL ------------------------------------------------------------------------------------
# The statements welzijnshuis runs for the inbox, with the ids of the first page as literals:
# the user behind the token, the page, its count, the clients (scoped), the organisations, the
# events (scoped), the partner's consents for those clients, and the audit entries.
run_pgbench() {
  local page clients
  page="$(psql "$PG_URL" -Atc "SELECT string_agg(quote_literal(id::text), ',') FROM (SELECT id FROM referrals WHERE recipient_id = '$CAW' ORDER BY created_at DESC, id DESC LIMIT 50) p")"
  clients="$(psql "$PG_URL" -Atc "SELECT string_agg(DISTINCT quote_literal(client_id::text), ',') FROM (SELECT client_id FROM referrals WHERE recipient_id = '$CAW' ORDER BY created_at DESC, id DESC LIMIT 50) p")"
  local scope="(sender_id = '$CAW' OR recipient_id = '$CAW')"
  cat > "$WORK/inbox.sql" <<SQL
SELECT * FROM users WHERE id = '$CAW_USER' AND active;
SELECT * FROM referrals WHERE $scope AND recipient_id = '$CAW' ORDER BY created_at DESC, id DESC LIMIT 51;
SELECT count(*) FROM referrals WHERE $scope AND recipient_id = '$CAW';
SELECT * FROM clients WHERE id IN ($clients) AND id IN (SELECT client_id FROM referrals WHERE $scope);
SELECT * FROM organisations WHERE id IN (SELECT sender_id FROM referrals WHERE id IN ($page) UNION SELECT recipient_id FROM referrals WHERE id IN ($page));
SELECT * FROM referral_events WHERE referral_id IN ($page) AND referral_id IN (SELECT id FROM referrals WHERE $scope) ORDER BY at, id;
SELECT * FROM consents WHERE recipient_id = '$CAW' AND revoked_at IS NULL AND client_id IN ($clients);
INSERT INTO audit_log (id, at, user_id, role, organisation_id, action, subject_type, subject_id, client_id, categories, operation_name, request_id)
  SELECT gen_random_uuid(), now(), '$CAW_USER', 'PARTNER', '$CAW', 'READ', 'client', id, id, 'IDENTITY,CONTACT', 'Inbox', 'pgbench'
  FROM clients WHERE id IN ($clients);
SQL
  for c in $CONNECTIONS; do
    local threads=2
    [ "$c" -lt 2 ] && threads=1
    pgbench -n -M prepared -c "$c" -j "$threads" -T "$DURATION" -f "$WORK/inbox.sql" "$PG_URL" > "$WORK/pgbench.txt" 2>&1
    local tps latency
    tps="$(awk '/^tps/ {printf "%.1f", $3}' "$WORK/pgbench.txt")"
    latency="$(awk '/latency average/ {print $4 "ms"}' "$WORK/pgbench.txt")"
    printf "| raw SQL in pgbench (8 statements) | %s | %s | avg %s | – | 0 | 8 | – |\n" "$c" "$tps" "$latency"
  done
}

echo
echo "Scale $SCALE: $(psql "$PG_URL" -Atc "SELECT count(*) FROM clients") clients, $(psql "$PG_URL" -Atc "SELECT count(*) FROM referrals") referrals; CAW's inbox holds $INCOMING. ${DURATION} s a run; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)."
echo
echo "| server | connections | requests/s | p50 | p99 | errors | SQL statements / request | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
run_welzijnshuis "welzijnshuis on PostgreSQL" "$PG_URL" "$TOKEN" 18080
run_postgraphile
run_pgbench
run_welzijnshuis "welzijnshuis on SQLite" "$SQLITE_URL" "$SQLITE_TOKEN" 18081
