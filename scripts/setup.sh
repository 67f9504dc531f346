# shellcheck shell=bash
# Sourced by scripts/start and scripts/test: install dependencies when the lockfile
# changed, then bring the local servers up and export their URLs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (npm ci)…" >&2
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >&2
fi

# up exits 1 (saying why) when it cannot provide a server: stop here too.
exports=$(infra/local/up) || exit 1
eval "$exports"

# The dashboard (/ui) is served from ui/dist: build it when its sources changed.
if [ ! -f ui/dist/app.js ] || [ -n "$(find ui/src ui/index.html -newer ui/dist/app.js -print -quit)" ]; then
  node_modules/.bin/tsx scripts/build-ui.ts >&2
fi
