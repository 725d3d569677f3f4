#!/usr/bin/env bash
# The web app's tests: installs what is missing (web/tests/node_modules with playwright-core,
# axe-core and the view library; contract/node_modules for openapi-typescript and tsc;
# Debian's chromium), checks that web/vendor is the view library as installed, generates the
# API types from openapi.yaml and type-checks the whole app with them, then builds and starts
# the debug `alongside` (which embeds web/) on a fresh SQLite database with its emails in a file outbox and runs the browser
# journeys (web/tests/journeys.mjs), which also take the screenshots in docs/screenshots/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/debug/alongside"
web="$root/web"
work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -d "$web/tests/node_modules/playwright-core" ]; then
  (cd "$web/tests" && npm ci --silent --no-audit --no-fund)
fi
if [ ! -x "$root/contract/node_modules/.bin/tsc" ]; then
  (cd "$root/contract" && npm ci --silent --no-audit --no-fund)
fi
chromium="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$chromium" ]; then
  echo "web: installing chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  chromium=$(command -v chromium)
fi

echo "web: checking the vendored view library"
"$web/tests/vendor.sh" "$work/vendor"
for file in preact.js hooks.js htm.js LICENSE-preact.txt LICENSE-htm.txt; do
  cmp -s "$work/vendor/$file" "$web/vendor/$file" ||
    { echo "web/vendor/$file differs from the installed package; run web/tests/vendor.sh" >&2; exit 1; }
done

echo "web: type-checking the app against openapi.yaml"
mkdir -p "$web/types"
"$root/contract/node_modules/.bin/openapi-typescript" "$root/openapi.yaml" \
  -o "$web/types/api.d.ts" >/dev/null 2>"$work/openapi-typescript.log" ||
  { cat "$work/openapi-typescript.log" >&2; exit 1; }
"$root/contract/node_modules/.bin/tsc" -p "$web/tsconfig.json"

echo "web: the shell's size"
shell_bytes=0
for file in "$web"/index.html "$web"/*.css "$web"/*.js "$web"/vendor/*.js "$web"/pages/*.js; do
  size=$(gzip -9 -c "$file" | wc -c)
  shell_bytes=$((shell_bytes + size))
done
echo "web: the whole app is $shell_bytes bytes gzipped"
if [ "$shell_bytes" -gt 102400 ]; then
  echo "web: the app is over 100 KB compressed" >&2
  exit 1
fi

# The app is embedded at compile time: the binary must be built from web/ as it is now.
(cd "$root" && cargo build -p api --quiet)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATA_DIR="$work/data" DATABASE_URL="sqlite://$work/data/alongside.db?mode=rwc" \
  PORT="$port" HOST=127.0.0.1 PUBLIC_URL="http://localhost:$port" RUST_LOG=warn \
  SMTP_URL="" CORS_ORIGINS="" CONNECTION_REQUESTS_PER_DAY=2 \
  SCHEDULER_INTERVAL_SECONDS=1 CHECK_IN_FIRST_SECONDS=20
unset SMTP_URL CORS_ORIGINS
mkdir -p "$DATA_DIR"
admin_email="admin@example.org"
admin_password="an admin password"
ALONGSIDE_ADMIN_PASSWORD="$admin_password" "$bin" create-admin --email "$admin_email" \
  >"$work/create-admin.log" 2>&1 || { cat "$work/create-admin.log" >&2; exit 1; }
"$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null ||
  { cat "$work/server.log" >&2; echo "web: the server did not start" >&2; exit 1; }

echo "web: browser journeys"
BASE_URL="http://localhost:$port" OUTBOX="$DATA_DIR/outbox" SCREENSHOTS="$root/docs/screenshots" \
  ADMIN_EMAIL="$admin_email" ADMIN_PASSWORD="$admin_password" CHROMIUM="$chromium" \
  node "$web/tests/journeys.mjs" || { tail -n 30 "$work/server.log" >&2; exit 1; }
