#!/usr/bin/env bash
# Copies the view library (Preact, its hooks, htm) from web/tests/node_modules into the folder
# given (web/vendor by default) as plain ES modules that import one another by relative path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="${1:-$here/../vendor}"
nm="$here/node_modules"
mkdir -p "$out"
sed '/sourceMappingURL/d' "$nm/preact/dist/preact.module.js" >"$out/preact.js"
sed -e 's#from"preact"#from"./preact.js"#g' -e '/sourceMappingURL/d' \
  "$nm/preact/hooks/dist/hooks.module.js" >"$out/hooks.js"
sed '/sourceMappingURL/d' "$nm/htm/dist/htm.module.js" >"$out/htm.js"
cp "$nm/preact/LICENSE" "$out/LICENSE-preact.txt"
cp "$nm/htm/LICENSE" "$out/LICENSE-htm.txt"
