#!/usr/bin/env bash
# Builds Pulumi YAML's language host, pulumi-language-yaml, from its Go module: the `pulumi` CLI runs
# YAML programs through it, and it is published neither on npm nor in Debian. The result is cached in
# .cache/pulumi-yaml/<version>/bin and reused; the last line printed is the bin folder to put on PATH.
set -euo pipefail

# The release of github.com/pulumi/pulumi-yaml the tests run YAML programs with.
version=v1.25.0

repo_root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v go >/dev/null 2>&1; then
  echo "build-pulumi-yaml: the Go toolchain ('go') is not on PATH; install Go 1.25 or newer." >&2
  exit 1
fi

bin_dir="$repo_root/.cache/pulumi-yaml/$version/bin"
mkdir -p "$bin_dir"
exec 9>"$bin_dir/../.lock"
flock 9

if [ -x "$bin_dir/pulumi-language-yaml" ]; then
  echo "build-pulumi-yaml: pulumi-language-yaml $version already built" >&2
  echo "$bin_dir"
  exit 0
fi

echo "build-pulumi-yaml: building pulumi-language-yaml $version from source (a few minutes on a cold Go cache)..." >&2
started=$(date +%s)
# The module has no replace directives, so `go install module@version` builds it as released.
CGO_ENABLED=0 GOBIN="$bin_dir/.tmp" go install -trimpath -ldflags "-s -w" "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$version" >&2
mv "$bin_dir/.tmp/pulumi-language-yaml" "$bin_dir/pulumi-language-yaml"
rmdir "$bin_dir/.tmp"
echo "build-pulumi-yaml: built pulumi-language-yaml $version in $(( $(date +%s) - started ))s" >&2
echo "$bin_dir"
