#!/usr/bin/env bash
# Lints this repository's workflows and the example workflows with actionlint, built from source with `go install`
# into .cache/actionlint/<version>/ the first time (needs Go and the Go module proxy).
#
# actionlint checks workflow files: their syntax and keys, `${{ }}` expressions and
# their types, contexts available per key, `needs`, runner labels, cron syntax,
# script injection through untrusted inputs, and the `with:` inputs and outputs of
# well-known actions and of local ones (`uses: ./`, whose action.yml it reads; the
# test runs the examples that way against ours). It does not lint an action.yml by
# itself; test/action/action-metadata.test.ts checks ours. shellcheck and pyflakes
# on `run:` scripts are turned off so results do not depend on what is installed.
#
# Usage: scripts/actionlint.sh [-flags...] [files...]
#          (no files: .github/workflows/*.yml examples/workflows/*.yml; e.g. `-verbose` lists each file linted)
#        scripts/actionlint.sh --install    (only build it, e.g. from scripts/setup-tests.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

version="v1.7.12"
bin_dir="$PWD/.cache/actionlint/$version"
actionlint="$bin_dir/actionlint"

if [ ! -x "$actionlint" ]; then
  command -v go >/dev/null || { echo "actionlint.sh: Go is needed to build actionlint $version (apt-get install golang, or https://go.dev/dl/)." >&2; exit 2; }
  mkdir -p "$bin_dir"
  echo "Building actionlint $version into $bin_dir ..." >&2
  GOBIN="$bin_dir" GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
fi

if [ "${1:-}" = "--install" ]; then
  "$actionlint" -version | head -n 1
  exit 0
fi
files_given=false
for arg in "$@"; do
  [[ "$arg" == -* ]] || files_given=true
done
if ! $files_given; then
  set -- "$@" .github/workflows/*.yml examples/workflows/*.yml
fi
exec "$actionlint" -no-color -shellcheck= -pyflakes= "$@"
