#!/usr/bin/env bash
# The social map import at scale: writes an HSDS file of N services (default 200,000), then
# imports it into an empty SQLite and an empty PostgreSQL database with the release build,
# twice each (new, then the same file again: every service updated), and prints the time and
# peak memory of each run, and the memory of importing a file ten times smaller. Not in CI.
#
#   bash bench/import.sh
#   SERVICES=20000 bash bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SERVICES="${SERVICES:-200000}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/wzh_import_bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/welzijnshuis-target}"
export WELZIJNSHUIS_JWT_SECRET="bench-secret-bench-secret-bench-secret-1234" RUST_LOG=warn
BIN="$CARGO_TARGET_DIR/release/welzijnshuis"
WORK="$(mktemp -d)"
cleanup() { psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS wzh_import_bench" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release --locked -q

# One service as the demo's social map has them: an organization shared by 100 services, a
# location shared by 20, a schedule, two languages, two life domains.
generate() {
  python3 - "$1" "$2" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as out:
    out.write('{"services": [')
    for i in range(n):
        service = {
            "id": f"bench-{i}", "name": f"Dienst {i}", "status": "active",
            "description": "Begeleiding bij budget, huur en schulden, op afspraak in het Welzijnshuis.",
            "organization": {"id": f"bench-org-{i // 100}", "name": f"Organisatie {i // 100}"},
            "languages": [{"code": "nl"}, {"code": "fr"}],
            "attributes": [{"taxonomy_term": {"code": "HOUSING", "vocabulary": "welzijnshuis-life-domain"}},
                           {"taxonomy_term": {"code": "FINANCES", "vocabulary": "welzijnshuis-life-domain"}}],
            "schedules": [{"byday": "MO,WE", "opens_at": "09:00", "closes_at": "12:00"}],
            "service_at_locations": [{"location": {"id": f"bench-loc-{i // 20}", "name": "Welzijnshuis",
                "latitude": 50.95, "longitude": 3.12,
                "addresses": [{"address_1": "Zuidstraat 1", "city": "Roeselare", "postal_code": "8800", "country": "BE"}]}}],
        }
        out.write(("," if i else "") + json.dumps(service))
    out.write("]}")
PY
}

# Runs an import; prints "<seconds> s, peak <MB> MB".
measure() {
  local url="$1" file="$2" start end
  start=$(date +%s.%N)
  DATABASE_URL="$url" /usr/bin/time -f "%M" -o "$WORK/rss" "$BIN" socialmap import "$file" > "$WORK/out"
  end=$(date +%s.%N)
  printf "%6.1f s, peak %4d MB  (%s)\n" "$(echo "$end - $start" | bc)" "$(( $(cat "$WORK/rss") / 1024 ))" "$(cat "$WORK/out")"
}

generate "$SERVICES" "$WORK/map.json"
generate "$((SERVICES / 10))" "$WORK/small.json"
echo "file: $SERVICES services, $(( $(stat -c %s "$WORK/map.json") >> 20 )) MB"

SQLITE="sqlite://$WORK/import.db?mode=rwc"
echo -n "SQLite, new:          "; measure "$SQLITE" "$WORK/map.json"
echo -n "SQLite, again:        "; measure "$SQLITE" "$WORK/map.json"
echo -n "SQLite, 1/10 the file:"; measure "sqlite://$WORK/small.db?mode=rwc" "$WORK/small.json"

psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS wzh_import_bench" >/dev/null 2>&1
psql "$PG_ADMIN" -qc "CREATE DATABASE wzh_import_bench"
echo -n "PostgreSQL, new:      "; measure "$PG_URL" "$WORK/map.json"
echo -n "PostgreSQL, again:    "; measure "$PG_URL" "$WORK/map.json"
