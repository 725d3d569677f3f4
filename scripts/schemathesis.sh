#!/usr/bin/env bash
# Runs schemathesis, with all its default checks, against a live server started on a fresh
# SQLite database, using the committed openapi.yaml.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${CARGO_TARGET_DIR:-$root/target}/debug/alongside"
st="$root/.venv/bin/st"
work=$(mktemp -d)
port=$("$root/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

email="schemathesis-$(date +%s)@example.org"
password="schemathesis password"
# An administrator, so that every operation, admin ones included, is exercised.
DATA_DIR="$work" ALONGSIDE_ADMIN_PASSWORD="$password" RUST_LOG=warn \
  "$bin" create-admin --email "$email" >/dev/null

DATA_DIR="$work" PORT="$port" AUTH_RATE_LIMIT_PER_MINUTE=1000000 LOCATION_CHANGES_PER_HOUR=1000000 \
  CONNECTION_REQUESTS_PER_DAY=1000000 RUST_LOG=warn "$bin" serve >"$work/server.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

token=$(curl -fs -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" |
  "$root/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

cd "$root"
"$st" run "$root/openapi.yaml" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-60}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --generation-database none \
  --no-color \
  "$@"
