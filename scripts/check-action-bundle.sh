#!/usr/bin/env bash
# Rebuilds the GitHub Action's bundle into a temp folder and fails if it differs
# from the committed one in action/dist/ (or the folder given), the bundle the
# Action runs from. Fix with `npm run build:action`.
#
# Usage: scripts/check-action-bundle.sh [bundle-dir]   (default: action/dist)
set -euo pipefail
cd "$(dirname "$0")/.."

committed="${1:-action/dist}"
node_bin="node"
[ -x node_modules/.bin/node ] && node_bin="node_modules/.bin/node"
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
"$node_bin" scripts/build-action.mjs "$fresh" >/dev/null

if ! diff -r -q "$fresh" "$committed" >/dev/null 2>&1; then
  echo "$committed is not the bundle of the current sources:" >&2
  diff -r -q "$fresh" "$committed" 2>&1 | sed -e "s|$fresh|<fresh build>|g" >&2 || true
  echo "Run \`npm run build:action\` and commit action/dist/." >&2
  exit 1
fi
echo "$committed matches a fresh build."
