#!/usr/bin/env bash
# Rewrites the committed SDL files from the code: the full schema and what each role sees.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -- schema > schema/schema.graphql
for role in PUBLIC PARTNER INTAKE CASE_WORKER ANALYST ADMIN CLIENT; do
  cargo run --quiet -- schema --role "$role" > "schema/schema.$role.graphql"
done
