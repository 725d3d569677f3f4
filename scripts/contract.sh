#!/usr/bin/env bash
# The clients' contract: openapi.yaml must be a valid OpenAPI document (openapi-spec-validator,
# and `redocly lint` with its recommended rules: no errors, no warnings); a Python client
# (openapi-python-client) and TypeScript types (openapi-typescript, checked with tsc) generated
# from it must each have every operation; and the generated Python client must carry three
# practitioners through register -> verify -> profile -> suggestions -> request -> accept
# against a live server on a fresh SQLite database, with its email going to a real SMTP server.
# Needs .venv (tests/requirements.txt), contract/node_modules (`npm ci` in contract/) and the
# debug `alongside` binary; ./scripts/test prepares all three.
set -euo pipefail
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/debug/alongside"
py="$root/.venv/bin/python"
node_bin="$root/contract/node_modules/.bin"
doc="$root/openapi.yaml"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "contract: validating openapi.yaml"
"$root/.venv/bin/openapi-spec-validator" "$doc"
"$py" "$root/contract/check.py" document "$doc"
# The recommended rules, whatever configuration file may lie around.
(cd "$work" && "$node_bin/redocly" lint "$doc" --extends=recommended --format=json \
  >"$work/redocly.json" 2>"$work/redocly.err") || true
if ! "$py" "$root/contract/check.py" redocly "$work/redocly.json"; then
  cat "$work/redocly.err" >&2
  exit 1
fi

echo "contract: generating clients"
# Once with the settings the Python driver uses (enum classes) and once with literal enums, a
# setting under which generators have dropped operations before.
"$root/.venv/bin/openapi-python-client" generate --path "$doc" \
  --config "$root/contract/python-client.yaml" --meta none --fail-on-warning \
  --output-path "$work/python/alongside_client" >"$work/generate.log" 2>&1 ||
  { cat "$work/generate.log" >&2; exit 1; }
{ cat "$root/contract/python-client.yaml"; echo "literal_enums: true"; } >"$work/literal.yaml"
"$root/.venv/bin/openapi-python-client" generate --path "$doc" \
  --config "$work/literal.yaml" --meta none --fail-on-warning \
  --output-path "$work/python-literal/alongside_client" >"$work/generate.log" 2>&1 ||
  { cat "$work/generate.log" >&2; exit 1; }
mkdir -p "$work/ts"
"$node_bin/openapi-typescript" "$doc" --output "$work/ts/schema.d.ts" >"$work/ts.log" 2>&1 ||
  { cat "$work/ts.log" >&2; exit 1; }
cp "$root/contract/usage.ts" "$work/ts/usage.ts"

"$py" "$root/contract/check.py" coverage "$doc" "$work/python-literal/alongside_client" \
  "$work/ts/schema.d.ts" "$work/ts/operations.ts" >/dev/null
"$py" "$root/contract/check.py" coverage "$doc" "$work/python/alongside_client" \
  "$work/ts/schema.d.ts" "$work/ts/operations.ts"
(cd "$work/ts" && "$node_bin/tsc" --noEmit --strict --target es2022 --module esnext \
  --moduleResolution bundler usage.ts operations.ts)
echo "contract: tsc accepts the TypeScript types, every operation's and contract/usage.ts"

echo "contract: driving a live server through the generated Python client"
free_port() {
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
smtp_port=$(free_port)
"$py" "$root/tests/support/smtp_sink.py" --port "$smtp_port" --dir "$work/mail" \
  >"$work/smtp.out" 2>"$work/smtp.err" &
pids+=($!)
for _ in $(seq 1 100); do
  grep -qx ready "$work/smtp.out" 2>/dev/null && break
  sleep 0.1
done
grep -qx ready "$work/smtp.out" || { cat "$work/smtp.err" >&2; exit 1; }

port=$(free_port)
base="http://127.0.0.1:$port"
DATA_DIR="$work/data" PORT="$port" SMTP_URL="smtp://127.0.0.1:$smtp_port" RUST_LOG=warn \
  "$bin" serve >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! curl -fs "$base/healthz" >/dev/null 2>&1; then
  echo "contract: the server did not start:" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi

if ! "$py" "$root/contract/drive.py" "$work/python" "$base" "$work/mail"; then
  echo "contract: server log:" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
