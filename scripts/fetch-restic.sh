#!/usr/bin/env bash
# Builds restic, the peer tool of the scale benchmark (bench/scale.mjs), from source with the Go
# toolchain (the Go module proxy serves it). Cached in .cache/restic/<version>/ and reused; the last
# line printed is the path of its `restic`.
set -euo pipefail

version=0.17.3

repo_root=$(cd "$(dirname "$0")/.." && pwd)
dir="$repo_root/.cache/restic/$version"
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

if [ -x "$dir/bin/restic" ]; then
  echo "$dir/bin/restic"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "fetch-restic: go is not on PATH; install Go 1.22 or newer (https://go.dev/dl/) to build restic $version." >&2
  exit 1
fi
echo "fetch-restic: building restic $version with go install (a few minutes)" >&2
# GOBIN puts the binary in the cache; the module and build caches stay in the cache folder too, so
# nothing outside the checkout is written.
GOBIN="$dir/bin.partial" GOMODCACHE="$dir/gomod" GOCACHE="$dir/gocache" GOFLAGS=-modcacherw \
  go install "github.com/restic/restic/cmd/restic@v$version" >&2
rm -rf "$dir/gomod" "$dir/gocache"
mv "$dir/bin.partial" "$dir/bin"
"$dir/bin/restic" version >&2
echo "$dir/bin/restic"
