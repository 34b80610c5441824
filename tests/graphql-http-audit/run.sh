#!/usr/bin/env bash
# The graphql-http conformance audit (every MUST and SHOULD) against a real welzijnshuis process,
# and the WebSocket door checked with the reference graphql-transport-ws client (ws-client.mjs).
#
#   tests/graphql-http-audit/run.sh [path/to/welzijnshuis]
#
# Without a path, builds the binary with cargo (in $CARGO_TARGET_DIR when set). Starts it on a
# free loopback port with a fresh SQLite database in a temporary folder, waits for /readyz, runs
# audit.mjs against /graphql, and stops the server whatever happens. With
# AUDIT_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres set, the same again on a fresh
# PostgreSQL database created on that server (and dropped afterwards).
# Needs node (18 or later: fetch) and the packages of this folder (`npm ci` is run when they are missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

binary="${1:-}"
if [ -z "$binary" ]; then
  (cd "$root" && cargo build --locked --bin welzijnshuis)
  binary="${CARGO_TARGET_DIR:-$root/target}/debug/welzijnshuis"
fi
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
[ -x "$binary" ] || { echo "no welzijnshuis binary at $binary" >&2; exit 2; }

if [ ! -d "$here/node_modules/graphql-http" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

tmp="$(mktemp -d)"
server_pid=""
postgres_db=""

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    # SIGTERM drains in at most WELZIJNSHUIS_SHUTDOWN_GRACE_SECS; then make sure.
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

cleanup() {
  stop_server
  if [ -n "$postgres_db" ]; then
    psql "$AUDIT_POSTGRES_URL" -Atq -c "drop database if exists $postgres_db with (force)" >/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A copy, so both runs audit the same binary even when another build (a shared CARGO_TARGET_DIR
# used by several work trees) replaces it meanwhile.
cp "$binary" "$tmp/welzijnshuis"
binary="$tmp/welzijnshuis"

# Runs the audit against a server on DATABASE_URL $2; $1 names the run.
audit_on() {
  local label="$1" database_url="$2" log="$tmp/server-$1.log" addr="" started
  local secret="graphql-http-audit-secret-$(date +%s%N)-long-enough"
  started=$(date +%s)
  : >"$log"
  # Port 0: the kernel picks a free port, and the server prints the address it got.
  DATABASE_URL="$database_url" \
    WELZIJNSHUIS_ADDR=127.0.0.1:0 \
    WELZIJNSHUIS_JWT_SECRET="$secret" \
    WELZIJNSHUIS_SHUTDOWN_GRACE_SECS=2 \
    RUST_LOG=warn \
    "$binary" serve --demo >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    addr="$(sed -n 's|^welzijnshuis listens on http://\([^/]*\)/.*|\1|p' "$log" | head -1 || true)"
    if [ -n "$addr" ] && curl -fsS -o /dev/null "http://$addr/readyz" 2>/dev/null; then
      break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "the server ($label) exited before it was ready:" >&2
      cat "$log" >&2
      return 1
    fi
    addr=""
    sleep 0.1
  done
  if [ -z "$addr" ]; then
    echo "the server ($label) was not ready within 60 s:" >&2
    tail -n 50 "$log" >&2
    return 1
  fi
  echo "== graphql-http audit on $label (http://$addr/graphql; ready in $(($(date +%s) - started)) s)"
  local status=0
  node "$here/audit.mjs" "http://$addr/graphql" || status=$?
  # The WebSocket door, with the reference graphql-transport-ws client, as a partner.
  local token
  token="$(DATABASE_URL="$database_url" WELZIJNSHUIS_JWT_SECRET="$secret" "$binary" token medewerker@caw.test 2>/dev/null)"
  echo "== graphql-ws reference client on $label (ws://$addr/graphql/ws)"
  node "$here/ws-client.mjs" "http://$addr" "$token" || status=$?
  stop_server
  if [ "$status" -ne 0 ]; then
    echo "-- the server's log ($label):" >&2
    tail -n 50 "$log" >&2
  fi
  return "$status"
}

# Both databases are audited even when the first fails; the script fails when either did.
failed=""
audit_on sqlite "sqlite://$tmp/a.db?mode=rwc" || failed="$failed sqlite"

if [ -n "${AUDIT_POSTGRES_URL:-}" ]; then
  postgres_db="welzijnshuis_audit_$$"
  psql "$AUDIT_POSTGRES_URL" -Atq -c "create database $postgres_db" >/dev/null
  audit_on postgres "${AUDIT_POSTGRES_URL%/*}/$postgres_db" || failed="$failed postgres"
fi

if [ -n "$failed" ]; then
  echo "graphql-http audit failed on:$failed" >&2
  exit 1
fi
