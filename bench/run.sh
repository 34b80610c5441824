#!/usr/bin/env bash
# Every speed target of issue 16 measured in one run on one machine, and printed against the
# targets (bench/RESULTS.md says what each means and how the figures came about):
#
#   - the partner inbox (bench/inbox.graphql): welzijnshuis on PostgreSQL and on SQLite, PostGraphile
#     v4 on the same database and query, and pgbench running the statements the request runs,
#     at each of CONNECTIONS;
#   - its latency at a constant offered load of half its maximum (oha --qps, corrected for
#     coordinated omission);
#   - the write path (bench/referral_loop.lua: createReferral, then three status changes) and the
#     public social map (bench/socialmap.graphql), each against pgbench running its statements;
#   - with GROWTH_SCALE, the inbox again over a network of that scale (100000: 1,000,000
#     referrals), against the same at SCALE.
#
#   bash bench/run.sh                                  # scale 10000 (100,000 referrals), 10 s a run
#   SCALE=2000 DURATION=3 bash bench/run.sh            # the quick run (about three minutes)
#   GROWTH_SCALE=100000 bash bench/run.sh              # and the growth target (loads 1,000,000)
#   BIN=/path/to/welzijnshuis bash bench/run.sh        # another build (before/after comparisons;
#                                                      # by default the production profile's)
#
# The raw-SQL scripts are not written by hand: PostgreSQL logs the statements of one request
# (log_statement = all, for the bench database only) and bench/capture.py turns them into a
# pgbench script, ids the request generated drawn fresh per transaction.
#
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, its log readable in $PG_LOG), Node.js and npm;
# installs wrk (Debian), PostGraphile v4 (npm) and oha (cargo) into $BENCH_DIR when missing.
# Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE="${SCALE:-10000}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-1 16 64}"
GROWTH_SCALE="${GROWTH_SCALE:-}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_HOST_URL="${PG_HOST_URL:-postgres://postgres@127.0.0.1:5432}"
# Every peer talks to PostgreSQL the same way: plain TCP on the loopback. libpq (pgbench) and
# sqlx (welzijnshuis) would otherwise negotiate TLS with Debian's PostgreSQL (ssl = on) and
# node-postgres (PostGraphile) would not: an unequal transport, ~6 % of the server's CPU.
PG_PARAMS="${PG_PARAMS:-?sslmode=disable}"
PG_LOG="${PG_LOG:-$(ls -t /var/log/postgresql/postgresql-*-main.log | head -1)}"
BENCH_DIR="${BENCH_DIR:-/var/cache/welzijnshuis-bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/welzijnshuis-target}"
export WELZIJNSHUIS_JWT_SECRET="bench-secret-bench-secret-bench-secret-1234"
# The rate limiter stays on (its cost is part of the figures), far above what the load asks.
export WELZIJNSHUIS_RATE_LIMIT=1000000 WELZIJNSHUIS_RATE_BURST=1000000 RUST_LOG=warn
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in wzh_bench wzh_bench_growth; do
    psql "$PG_ADMIN" -qc "ALTER DATABASE $db RESET log_statement" >/dev/null 2>&1 || true
  done
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
OHA="$BENCH_DIR/bin/oha"
if [ ! -x "$OHA" ]; then
  say "installing oha into $BENCH_DIR (a few minutes, once)"
  cargo install --quiet --locked --root "$BENCH_DIR" --no-default-features --features native-tls oha
fi
if [ -z "${BIN:-}" ]; then
  # The build a house deploys (Cargo.toml's production profile), not the quicker --release.
  say "building welzijnshuis (the production profile: about 19 minutes from nothing)"
  cargo build --profile production --locked -q
  BIN="$CARGO_TARGET_DIR/production/welzijnshuis"
fi

# --- data ---------------------------------------------------------------------------------------
load_pg() { # database scale
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  DATABASE_URL="$PG_HOST_URL/$1" "$BIN" demo --scale "$2" >&2
  psql "$PG_HOST_URL/$1" -qc "VACUUM ANALYZE"
}
say "loading the demo network at scale $SCALE into PostgreSQL and SQLite"
PG_URL="$PG_HOST_URL/wzh_bench$PG_PARAMS"
load_pg wzh_bench "$SCALE"
SQLITE_URL="sqlite://$WORK/bench.db?mode=rwc"
DATABASE_URL="$SQLITE_URL" "$BIN" demo --scale "$SCALE" >&2
sql() { psql "$PG_URL" -Atc "$1"; }
CAW="$(sql "SELECT id FROM organisations WHERE hsds_id = 'demo-org-caw'")"
INCOMING="$(sql "SELECT count(*) FROM referrals WHERE recipient_id = '$CAW'")"
token() { DATABASE_URL="$1" "$BIN" token "$2" --ttl 2h; }
PARTNER="$(token "$PG_URL" medewerker@caw.test)"
SQLITE_PARTNER="$(token "$SQLITE_URL" medewerker@caw.test)"
SENDER="$(token "$PG_URL" maatschappelijk.werker@welzijnshuis.test)"
# The write loop refers a client who consented to share with CAW, in a life domain CAW answers.
LOOP_CLIENT="$(sql "SELECT client_id FROM consents WHERE recipient_id = '$CAW' AND revoked_at IS NULL LIMIT 1")"
LOOP_DOMAIN="$(sql "SELECT l.life_domain FROM service_life_domains l JOIN services s ON s.id = l.service_id WHERE s.organisation_id = '$CAW' LIMIT 1")"
export SENDER_TOKEN="$SENDER" RECIPIENT_TOKEN="$PARTNER" CLIENT_ID="$LOOP_CLIENT" RECIPIENT_ID="$CAW" LIFE_DOMAIN="$LOOP_DOMAIN"

# --- helpers ------------------------------------------------------------------------------------
wait_for() { # url
  for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "nothing answers at $1" >&2; exit 1
}
peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
metric() { # base-url name
  curl -fs "$1/metrics" | awk -v n="$2" '$1 == n {print $2}'
}
body_of() { # query-file → a JSON request body
  python3 -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' "$1"
}
post() { # base query-file token
  curl -fs -o /dev/null -X POST "$1/graphql" -H 'Content-Type: application/json' \
    ${3:+-H "Authorization: Bearer $3"} --data "$(body_of "$2")"
}
# Where the CPU goes, per request: the server's own (its /proc/PID/stat), the load generator's
# (bash's `time` of it) and the rest of the machine's busy time over the same window — on a quiet
# machine, PostgreSQL. On two shared cores these three add up to what one request costs, and so
# bound the throughput: 2 cores / (server + database + load generator).
CLK_TCK="$(getconf CLK_TCK)"
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
proc_ticks() { if [ -n "${1:-}" ]; then awk '{print $14 + $15}' "/proc/$1/stat"; else echo 0; fi; }
# Runs "$@" (a load generator writing its report to stdout) and prints "server-ms database-ms
# generator-ms" per request; the awk program given sets n, the requests done, from the report.
cpu_per_request() { # server-pid requests-awk-program command...
  local pid="$1" program="$2" b0 s0 b1 s1 times rc=0
  shift 2
  b0="$(busy_ticks)" s0="$(proc_ticks "$pid")"
  times="$( { TIMEFORMAT='%3U %3S'; time "$@" > "$WORK/generator.txt" 2> "$WORK/generator.err"; } 2>&1 )" || rc=$?
  b1="$(busy_ticks)" s1="$(proc_ticks "$pid")"
  [ "$rc" = 0 ] || { cat "$WORK/generator.txt" "$WORK/generator.err" >&2; return "$rc"; }
  awk -v b="$((b1 - b0))" -v s="$((s1 - s0))" -v t="$times" -v hz="$CLK_TCK" "$program"' END {
      split(t, g, " "); gen = (g[1] + g[2]) * 1000
      busy = b * 1000 / hz; server = s * 1000 / hz
      if (n > 0) printf "%.2f %.2f %.2f\n", server / n, (busy - server - gen) / n, gen / n
      else print "– – –" }' "$WORK/generator.txt"
}
WRK_REQUESTS='/ requests in / {n = $1}'
PGBENCH_REQUESTS='/number of transactions actually processed/ {split($NF, a, "/"); n = a[1]}'
# wrk at $1 connections against $2 with query file $3 and token $4, the server's pid $5:
# "req/s p50 p99 errors server-ms database-ms generator-ms"
load() {
  local connections="$1" url="$2" query="$3" token="$4" pid="${5:-}" threads=2 cpu
  [ "$connections" -lt 2 ] && threads=1
  cpu="$(QUERY_FILE="$query" TOKEN="$token" cpu_per_request "$pid" "$WRK_REQUESTS" \
    wrk -t"$threads" -c"$connections" -d"${DURATION}s" --latency -s bench/post.lua "$url")"
  cp "$WORK/generator.txt" "$WORK/wrk.txt"
  echo "$(wrk_summary "$WORK/wrk.txt") $cpu"
}
wrk_summary() {
  awk '
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
    /Non-2xx/ { errors += $NF } /Socket errors/ { errors += 1 }
    END { printf "%s %s %s %d\n", rps, p50, p99, errors }' "$1"
}
# Two seconds of load first, not counted: every server's first requests open connections and
# prepare statements (seen: 100 ms each), which would otherwise be the whole p99 of a short run.
warm_up() { # url query token
  QUERY_FILE="$2" TOKEN="$3" wrk -t2 -c16 -d2s -s bench/post.lua "$1" >/dev/null
}
row() { # name connections "rps p50 p99 errors server-ms database-ms generator-ms" statements rss
  read -r rps p50 p99 errors server database generator <<< "$3"
  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s · %s · %s |\n" "$1" "$2" "$rps" "$p50" "$p99" "$errors" "$4" "$5" \
    "${server:-–}" "${database:-–}" "${generator:-–}"
}
start_server() { # database-url port → pid in SERVER
  DATABASE_URL="$1" WELZIJNSHUIS_ADDR="127.0.0.1:$2" "$BIN" serve > "$WORK/$2.log" 2>&1 &
  SERVER=$!
  PIDS+=("$SERVER")
  wait_for "http://127.0.0.1:$2/readyz"
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "–" }'; }
percent() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else print "–" }'; }
times() { awk -v f="$1" -v a="$2" 'BEGIN { print f * a }'; }
# The server's own count of SQL statements per GraphQL request: `mark`, load, `since_mark`.
mark() { # base
  MARK_SUM="$(metric "$1" welzijnshuis_graphql_request_sql_statements_sum)"
  MARK_COUNT="$(metric "$1" welzijnshuis_graphql_request_sql_statements_count)"
}
since_mark() { # base → mean statements per request since the mark
  local sum count
  sum="$(metric "$1" welzijnshuis_graphql_request_sql_statements_sum)"
  count="$(metric "$1" welzijnshuis_graphql_request_sql_statements_count)"
  awk -v s="$sum" -v t="$MARK_SUM" -v n="$count" -v m="$MARK_COUNT" 'BEGIN { if (n > m) printf "%.1f", (s - t) / (n - m); else print "–" }'
}

# --- the statements of one request, as pgbench scripts --------------------------------------------
# The server is started after log_statement is switched on for the bench database (it applies to
# new connections), the request sent once, and the log written meanwhile kept.
capture() { # name kind(query|loop) [query-file token]
  local name="$1" kind="$2" offset since_ms
  psql "$PG_ADMIN" -qc "ALTER DATABASE wzh_bench SET log_statement = 'all'"
  start_server "$PG_URL" 18089
  sleep 0.5
  offset="$(stat -c %s "$PG_LOG")"
  since_ms="$(python3 -c 'import time; print(int(time.time() * 1000) - 5)')"
  if [ "$kind" = loop ]; then
    loop_once http://127.0.0.1:18089
  else
    post http://127.0.0.1:18089 "$3" "$4"
  fi
  sleep 0.5
  tail -c +"$((offset + 1))" "$PG_LOG" > "$WORK/$name.log"
  stop_server
  psql "$PG_ADMIN" -qc "ALTER DATABASE wzh_bench RESET log_statement"
  python3 bench/capture.py "$WORK/$name.log" wzh_bench "$since_ms" > "$WORK/$name.sql"
}
# One turn of the write loop (bench/referral_loop.lua), request by request.
loop_once() { # base
  python3 - "$1" <<'PY'
import json, os, sys, urllib.request
def post(token, query, variables):
    request = urllib.request.Request(sys.argv[1] + "/graphql", method="POST",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    body = json.load(urllib.request.urlopen(request))
    assert "errors" not in body, body
    return next(iter(body["data"].values()))
made = post(os.environ["SENDER_TOKEN"], "mutation Refer($input: CreateReferralInput!) { createReferral(input: $input) { id version } }",
    {"input": {"clientId": os.environ["CLIENT_ID"], "recipientId": os.environ["RECIPIENT_ID"],
               "lifeDomain": os.environ["LIFE_DOMAIN"], "reason": "bench loop"}})
for status in ["RECEIVED", "ACCEPTED", "IN_PROGRESS"]:
    made = post(os.environ["RECIPIENT_TOKEN"], "mutation Move($id: ID!, $status: ReferralStatus!, $v: Int!) { changeReferralStatus(id: $id, status: $status, expectedVersion: $v) { id version } }",
        {"id": made["id"], "status": status, "v": made["version"]})
PY
}
# pgbench at $1 connections running script $2: "transactions/s average-latency"
# (and "database-ms generator-ms" per transaction: PostgreSQL's CPU and pgbench's own)
pgbench_run() {
  local threads=2 cpu
  [ "$1" -lt 2 ] && threads=1
  cpu="$(cpu_per_request "" "$PGBENCH_REQUESTS" pgbench -n -M prepared -c "$1" -j "$threads" -T "$DURATION" -f "$2" "$PG_URL")" || {
    echo "0 – – –"; return; }
  cp "$WORK/generator.txt" "$WORK/pgbench.txt"
  awk -v cpu="$cpu" '/^tps/ {tps = $3} /latency average/ {lat = $4 "ms"} END {split(cpu, c, " "); printf "%.1f %s %s %s\n", tps, lat, c[2], c[3]}' "$WORK/pgbench.txt"
}

echo
echo "Scale $SCALE: $(sql "SELECT count(*) FROM clients") clients, $(sql "SELECT count(*) FROM referrals") referrals; CAW's inbox holds $INCOMING. ${DURATION} s a run; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); $("$BIN" --version 2>/dev/null || echo welzijnshuis)."

say "capturing the statements of one inbox, one social map search and one write loop"
capture inbox query bench/inbox.graphql "$PARTNER"
capture socialmap query bench/socialmap.graphql ""
capture loop loop
# The loop's script is four requests; pgbench runs it as one transaction of its statements.
for name in inbox socialmap loop; do
  say "$name: $(grep -c ';$' "$WORK/$name.sql") statements captured"
done
# A pgbench run first, not counted, so that both sides start from warm caches.
pgbench -n -M prepared -c 4 -j 2 -T 2 -f "$WORK/inbox.sql" "$PG_URL" >/dev/null 2>&1 || true

# --- the inbox ----------------------------------------------------------------------------------
echo
echo "### The partner inbox"
echo
echo "| server | connections | requests/s | p50 | p99 | errors | SQL statements / request | peak RSS | CPU ms / request: server · database · load generator |"
echo "|---|---|---|---|---|---|---|---|---|"
declare -A INBOX INBOX_P50 INBOX_P99 INBOX_CPU INBOX_PG_DATABASE
run_welzijnshuis() { # name database-url token port key
  local name="$1" url="$2" token="$3" port="$4" key="$5" base="http://127.0.0.1:$4"
  start_server "$url" "$port"
  # Statements per request, whatever the page size: the inbox at 5 and at 50.
  local per_size=""
  for first in 5 50; do
    sed "s/first: 50/first: $first/" bench/inbox.graphql > "$WORK/inbox-$first.graphql"
    mark "$base"
    post "$base" "$WORK/inbox-$first.graphql" "$token"
    per_size="$per_size first:$first→$(since_mark "$base")"
  done
  say "$name: statements for one inbox request:$per_size"
  warm_up "$base/graphql" bench/inbox.graphql "$token"
  for c in $CONNECTIONS; do
    mark "$base"
    local result
    result="$(load "$c" "$base/graphql" bench/inbox.graphql "$token" "$SERVER")"
    row "$name" "$c" "$result" "$(since_mark "$base")" "$(peak_rss_mb "$SERVER") MB"
    INBOX["$key $c"]="$(echo "$result" | cut -d' ' -f1)"
    INBOX_P50["$key $c"]="$(echo "$result" | cut -d' ' -f2)"
    INBOX_P99["$key $c"]="$(echo "$result" | cut -d' ' -f3)"
    INBOX_CPU["$key $c"]="$(echo "$result" | cut -d' ' -f5-7)"
  done
  stop_server
}
run_welzijnshuis "welzijnshuis on PostgreSQL" "$PG_URL" "$PARTNER" 18080 pg

sed "s/ORG_ID/$CAW/" bench/inbox.postgraphile.graphql > "$WORK/postgraphile.graphql"
NODE_ENV=production "$BENCH_DIR/node_modules/.bin/postgraphile" --connection "$PG_URL" --schema public \
  --host 127.0.0.1 --port 15000 --disable-query-log --disable-graphiql > "$WORK/postgraphile.log" 2>&1 &
POSTGRAPHILE=$!
PIDS+=("$POSTGRAPHILE")
for _ in $(seq 1 100); do
  curl -fs -X POST http://127.0.0.1:15000/graphql -H 'Content-Type: application/json' -d '{"query":"{__typename}"}' >/dev/null 2>&1 && break
  sleep 0.2
done
warm_up http://127.0.0.1:15000/graphql "$WORK/postgraphile.graphql" ""
# PostGraphile runs one SQL statement per GraphQL query.
for c in $CONNECTIONS; do
  result="$(load "$c" http://127.0.0.1:15000/graphql "$WORK/postgraphile.graphql" "" "$POSTGRAPHILE")"
  row "PostGraphile v4 (no access rules)" "$c" "$result" 1 "$(peak_rss_mb "$POSTGRAPHILE") MB"
  INBOX["postgraphile $c"]="$(echo "$result" | cut -d' ' -f1)"
done
kill "$POSTGRAPHILE"; wait "$POSTGRAPHILE" 2>/dev/null || true

INBOX_STATEMENTS="$(grep -c ';$' "$WORK/inbox.sql")"
for c in $CONNECTIONS; do
  read -r tps latency database generator <<< "$(pgbench_run "$c" "$WORK/inbox.sql")"
  printf "| raw SQL in pgbench (%s statements) | %s | %s | avg %s | – | 0 | %s | – | – · %s · %s |\n" "$INBOX_STATEMENTS" "$c" "$tps" "$latency" "$INBOX_STATEMENTS" "$database" "$generator"
  INBOX["pgbench $c"]="$tps"
  INBOX_PG_DATABASE["$c"]="$database"
done

run_welzijnshuis "welzijnshuis on SQLite" "$SQLITE_URL" "$SQLITE_PARTNER" 18081 sqlite

# --- latency at half the maximum ------------------------------------------------------------------
echo
echo "### Latency at a constant offered load (PostgreSQL, 16 connections)"
echo
start_server "$PG_URL" 18082
warm_up http://127.0.0.1:18082/graphql bench/inbox.graphql "$PARTNER"
MAX16="${INBOX[pg 16]:-$(load 16 http://127.0.0.1:18082/graphql bench/inbox.graphql "$PARTNER" | cut -d' ' -f1)}"
RATE="$(awk -v m="$MAX16" 'BEGIN { printf "%d", m / 2 }')"
"$OHA" --no-tui --output-format json -z "${DURATION}s" -c 16 -q "$RATE" --latency-correction \
  -m POST -H "Authorization: Bearer $PARTNER" -H 'Content-Type: application/json' \
  -d "$(body_of bench/inbox.graphql)" http://127.0.0.1:18082/graphql > "$WORK/oha.json"
read -r OHA_RPS OHA_P50 OHA_P99 OHA_OK <<< "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
p = r["latencyPercentiles"]
print("%.1f %.2fms %.2fms %.4f" % (r["summary"]["requestsPerSec"], p["p50"] * 1000, p["p99"] * 1000, r["summary"]["successRate"]))' "$WORK/oha.json")"
stop_server
echo "| offered | achieved | p50 | p99 | success rate |"
echo "|---|---|---|---|---|"
echo "| $RATE req/s (half of $MAX16) | $OHA_RPS req/s | $OHA_P50 | $OHA_P99 | $OHA_OK |"

# --- the write path and the social map ------------------------------------------------------------
echo
echo "### The write path and the public social map (PostgreSQL, 16 connections)"
echo
echo "| workload | welzijnshuis | p50 | p99 | failures | raw SQL in pgbench | |"
echo "|---|---|---|---|---|---|---|"
start_server "$PG_URL" 18083
wrk -t16 -c16 -d"${DURATION}s" --latency -s bench/referral_loop.lua http://127.0.0.1:18083 > "$WORK/loop.txt"
read -r LOOP_RPS LOOP_P50 LOOP_P99 LOOP_ERRORS <<< "$(wrk_summary "$WORK/loop.txt")"
LOOP_FAILURES="$(awk '/^loop failures:/ {print $3}' "$WORK/loop.txt")"
grep -q '^first failure' "$WORK/loop.txt" && say "write loop: $(grep '^first failure' "$WORK/loop.txt")"
LOOPS="$(awk -v r="$LOOP_RPS" 'BEGIN { printf "%.1f", r / 4 }')"
warm_up http://127.0.0.1:18083/graphql bench/socialmap.graphql ""
read -r MAP_RPS MAP_P50 MAP_P99 MAP_ERRORS MAP_SERVER MAP_DATABASE MAP_GENERATOR <<< "$(load 16 http://127.0.0.1:18083/graphql bench/socialmap.graphql "" "$SERVER")"
stop_server
read -r LOOP_TPS _ <<< "$(pgbench_run 16 "$WORK/loop.sql")"
read -r MAP_TPS _ MAP_PG_DATABASE MAP_PG_GENERATOR <<< "$(pgbench_run 16 "$WORK/socialmap.sql")"
echo "| write loop (4 mutations) | $LOOPS loops/s ($LOOP_RPS req/s) | $LOOP_P50 | $LOOP_P99 | $((LOOP_FAILURES + LOOP_ERRORS)) | $LOOP_TPS loops/s ($(grep -c ';$' "$WORK/loop.sql") statements) | $(percent "$LOOPS" "$LOOP_TPS") % |"
echo "| social map search | $MAP_RPS req/s | $MAP_P50 | $MAP_P99 | $MAP_ERRORS | $MAP_TPS ($(grep -c ';$' "$WORK/socialmap.sql") statements) | $(percent "$MAP_RPS" "$MAP_TPS") % |"
echo
echo "CPU ms per social map search: welzijnshuis $MAP_SERVER · PostgreSQL $MAP_DATABASE · wrk $MAP_GENERATOR; in pgbench: PostgreSQL $MAP_PG_DATABASE · pgbench $MAP_PG_GENERATOR."

# --- growth -------------------------------------------------------------------------------------
GROWTH_LINE=""
if [ -n "$GROWTH_SCALE" ]; then
  echo
  echo "### Growth: the inbox at scale $SCALE and at scale $GROWTH_SCALE (PostgreSQL)"
  echo
  say "loading the demo network at scale $GROWTH_SCALE (this takes a while)"
  load_pg wzh_bench_growth "$GROWTH_SCALE"
  GROWTH_URL="$PG_HOST_URL/wzh_bench_growth$PG_PARAMS"
  GROWTH_PARTNER="$(token "$GROWTH_URL" medewerker@caw.test)"
  GROWTH_INCOMING="$(psql "$GROWTH_URL" -Atc "SELECT count(*) FROM referrals r JOIN organisations o ON o.id = r.recipient_id WHERE o.hsds_id = 'demo-org-caw'")"
  echo "| scale | referrals | CAW's inbox | connections | requests/s | p50 | p99 | SQL statements / request | peak RSS | CPU ms / request: server · database · load generator |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for c in 1 16; do
    for side in small large; do
      if [ $side = small ]; then u="$PG_URL" t="$PARTNER" s="$SCALE" n="$INCOMING"; else u="$GROWTH_URL" t="$GROWTH_PARTNER" s="$GROWTH_SCALE" n="$GROWTH_INCOMING"; fi
      start_server "$u" 18084
      warm_up http://127.0.0.1:18084/graphql bench/inbox.graphql "$t"
      mark http://127.0.0.1:18084
      result="$(load "$c" http://127.0.0.1:18084/graphql bench/inbox.graphql "$t" "$SERVER")"
      read -r g_rps g_p50 g_p99 _ g_server g_database g_generator <<< "$result"
      echo "| $s | $(psql "$u" -Atc "SELECT count(*) FROM referrals") | $n | $c | $g_rps | $g_p50 | $g_p99 | $(since_mark http://127.0.0.1:18084) | $(peak_rss_mb "$SERVER") MB | $g_server · $g_database · $g_generator |"
      [ "$c" = 1 ] && eval "GROWTH_P50_$side=$g_p50"
      [ $side = large ] && eval "GROWTH_RSS_$c=$(peak_rss_mb "$SERVER")"
      stop_server
    done
  done
  GROWTH_LINE="| inbox p50 at $GROWTH_SCALE within 1.5 × at $SCALE (1 connection); peak RSS ≤ 64 MB | ${GROWTH_P50_small:-?} → ${GROWTH_P50_large:-?}; ${GROWTH_RSS_1:-?} MB at 1 connection, ${GROWTH_RSS_16:-?} MB at 16 | |"
fi

# --- against the targets --------------------------------------------------------------------------
# What bounds a target, from this run's own figures. The cores are shared by the server, the
# database and the load generator, so a throughput of T requests/s leaves the server at most
# cores × 1000 / T − (the others' CPU per request) ms of CPU per request: `leaves`.
CORES="$(nproc)"
leaves() { # target-req/s others-ms... → the server's CPU budget per request, in ms ("–": unknown)
  local others=0 x
  for x in "${@:2}"; do
    case "$x" in ''|–|-) echo "–"; return ;; esac
    others="$others + $x"
  done
  awk -v t="$1" -v c="$CORES" "BEGIN { if (t > 0) printf \"%.2f\", c * 1000 / t - ($others); else print \"–\" }"
}
as_budget() { case "$1" in –) echo "–" ;; -*) echo "nothing ($1 ms)" ;; *) echo "$1 ms" ;; esac; }
# "database" is the rest of the machine under the server: PostgreSQL and the kernel. PostgreSQL
# runs the same statements for less under pgbench, so the budget is also given with its cost
# there (pgbench-database), which is the most the server could hope to be left.
server_budget() { # name target-req/s "server database generator" [pgbench-database] → a sentence
  local server database generator budget
  read -r server database generator <<< "$3"
  budget="$(as_budget "$(leaves "$2" "$database" "$generator")")"
  [ -n "${4:-}" ] && budget="$budget ($(as_budget "$(leaves "$2" "$4" "$generator")") with PostgreSQL at its pgbench cost, $4)"
  echo "$1 leaves the server $budget per request; it took $server ms (the rest of the machine $database, the load generator $generator)"
}
# The cores a run kept busy (server, the rest of the machine and the load generator). 16
# connections can at most fill the cores: at their CPU per request that bounds the 16 / 1 ratio
# at cores / (cores busy at 16) × the ratio measured.
busy_cores() { # req/s "server database generator" ("–": unknown)
  local server database generator
  read -r server database generator <<< "$2"
  awk -v r="$1" -v a="$server" -v b="$database" -v g="$generator" \
    'BEGIN { if (r > 0 && a != "–" && b != "–" && g != "–") printf "%.2f", r * (a + b + g) / 1000; else print "–" }'
}
full_cores_ratio() { # measured-ratio cores-busy → the ratio with every core busy
  awk -v r="$1" -v c="$CORES" -v b="$2" 'BEGIN { if (b != "–" && b > 0 && r != "–") printf "%.2f", r * c / b; else print "–" }'
}
SQLITE_BUSY_1="$(busy_cores "${INBOX[sqlite 1]:-0}" "${INBOX_CPU[sqlite 1]:-0 0 0}")"
SQLITE_BUSY_16="$(busy_cores "${INBOX[sqlite 16]:-0}" "${INBOX_CPU[sqlite 16]:-0 0 0}")"
echo
echo "### Against the targets"
echo
echo "Each bound is computed from this run's figures (bench/RESULTS.md says how)."
echo
echo "| target | measured | what bounds it in this run |"
echo "|---|---|---|"
echo "| inbox, PostgreSQL, 16 connections ≥ 2 × PostGraphile | ${INBOX[pg 16]:-?} vs ${INBOX[postgraphile 16]:-?} req/s: $(ratio "${INBOX[pg 16]:-0}" "${INBOX[postgraphile 16]:-0}") × | $(server_budget "2 × PostGraphile" "$(times 2 "${INBOX[postgraphile 16]:-0}")" "${INBOX_CPU[pg 16]:-– – –}" "${INBOX_PG_DATABASE[16]:-}") |"
echo "| … ≥ 60 % of the raw-SQL ceiling | ${INBOX[pg 16]:-?} vs ${INBOX[pgbench 16]:-?}: $(percent "${INBOX[pg 16]:-0}" "${INBOX[pgbench 16]:-0}") % | $(server_budget "60 % of pgbench" "$(times 0.6 "${INBOX[pgbench 16]:-0}")" "${INBOX_CPU[pg 16]:-– – –}" "${INBOX_PG_DATABASE[16]:-}") |"
echo "| p99 ≤ 20 ms at half the maximum, offered at a constant rate | $OHA_P99 at $RATE req/s | one inbox alone (1 connection): p50 ${INBOX_P50[pg 1]:-?}, p99 ${INBOX_P99[pg 1]:-?} |"
echo "| SQLite, 16 connections ≥ 1.5 × 1 connection | ${INBOX[sqlite 16]:-?} vs ${INBOX[sqlite 1]:-?}: $(ratio "${INBOX[sqlite 16]:-0}" "${INBOX[sqlite 1]:-0}") × | the cores busy: $SQLITE_BUSY_1 of $CORES at 1 connection, $SQLITE_BUSY_16 at 16; all $CORES busy at 16 connections' CPU per request would give $(full_cores_ratio "$(ratio "${INBOX[sqlite 16]:-0}" "${INBOX[sqlite 1]:-0}")" "$SQLITE_BUSY_16") × |"
echo "| SQLite, 16 connections ≥ 0.8 × PostgreSQL | ${INBOX[sqlite 16]:-?} vs ${INBOX[pg 16]:-?}: $(ratio "${INBOX[sqlite 16]:-0}" "${INBOX[pg 16]:-0}") × | $(server_budget "0.8 × PostgreSQL" "$(times 0.8 "${INBOX[pg 16]:-0}")" "${INBOX_CPU[sqlite 16]:-– – –}") |"
echo "| write loop ≥ 50 % of pgbench, no failure | $LOOPS vs $LOOP_TPS loops/s: $(percent "$LOOPS" "$LOOP_TPS") %, $((LOOP_FAILURES + LOOP_ERRORS)) failures | |"
echo "| social map ≥ 50 % of pgbench | $MAP_RPS vs $MAP_TPS: $(percent "$MAP_RPS" "$MAP_TPS") % | $(server_budget "50 % of pgbench" "$(times 0.5 "$MAP_TPS")" "$MAP_SERVER $MAP_DATABASE $MAP_GENERATOR" "$MAP_PG_DATABASE") |"
[ -n "$GROWTH_LINE" ] && echo "$GROWTH_LINE"
exit 0
