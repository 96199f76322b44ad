#!/usr/bin/env bash
# Builds the Pulumi CLI from source at the version of the installed @pulumi/pulumi npm package, because
# the CLI is published neither on npm nor in Debian, and beside it pulumi-gen-python-sdk
# (scripts/pulumi/gen-python-sdk), Pulumi's Python SDK generator from the same release. The results are
# cached in .cache/pulumi/<version>/bin and reused; the last line printed is the bin folder to put on PATH.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
sdk_package_json="$repo_root/node_modules/@pulumi/pulumi/package.json"
if [ ! -f "$sdk_package_json" ]; then
  echo "build-pulumi: $sdk_package_json not found; run 'npm ci' in $repo_root first." >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "build-pulumi: 'node' is not on PATH; install Node.js 20 or newer." >&2
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build-pulumi: the Go toolchain ('go') is not on PATH; install Go 1.25 or newer." >&2
  exit 1
fi

version=$(node -p 'require(process.argv[1]).version' "$sdk_package_json")
if [ -z "$version" ]; then
  echo "build-pulumi: could not read the version from $sdk_package_json." >&2
  exit 1
fi

cache_dir="$repo_root/.cache/pulumi/$version"
bin_dir="$cache_dir/bin"
module_dir="$cache_dir/module"
mkdir -p "$bin_dir"

install_dynamic_provider_launcher() {
  local target="$bin_dir/pulumi-resource-pulumi-nodejs"
  if ! cmp -s "$repo_root/scripts/pulumi/pulumi-resource-pulumi-nodejs" "$target"; then
    cp "$repo_root/scripts/pulumi/pulumi-resource-pulumi-nodejs" "$target.tmp"
    chmod 755 "$target.tmp"
    mv "$target.tmp" "$target"
  fi
}

# The test setup and CI may start this script at the same time; one build is enough.
exec 9>"$cache_dir/.lock"
flock 9

# pkg/v3's Python code generator, built in the module the CLI was built in (same versions, same replacements).
build_python_sdk_generator() {
  if [ -x "$bin_dir/pulumi-gen-python-sdk" ] && cmp -s "$repo_root/scripts/pulumi/gen-python-sdk/main.go" "$module_dir/gen-python-sdk/main.go"; then
    return
  fi
  echo "build-pulumi: building pulumi-gen-python-sdk v$version..." >&2
  mkdir -p "$module_dir/gen-python-sdk"
  cp "$repo_root/scripts/pulumi/gen-python-sdk/main.go" "$module_dir/gen-python-sdk/main.go"
  (cd "$module_dir" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w" -o "$bin_dir/pulumi-gen-python-sdk.tmp" ./gen-python-sdk)
  mv "$bin_dir/pulumi-gen-python-sdk.tmp" "$bin_dir/pulumi-gen-python-sdk"
}

if [ -x "$bin_dir/pulumi" ] && "$bin_dir/pulumi" version 2>/dev/null | grep -qx "v$version" && [ -f "$module_dir/go.mod" ]; then
  install_dynamic_provider_launcher
  build_python_sdk_generator
  echo "build-pulumi: pulumi v$version already built" >&2
  echo "$bin_dir"
  exit 0
fi

echo "build-pulumi: building pulumi v$version from source (several minutes on a cold Go cache)..." >&2
started=$(date +%s)

# A throwaway module that pins pkg/v3 and sdk/v3 to the same release. pkg/v3's go.mod replaces sdk/v3 with
# a local path (ignored outside its own repository) and other modules with forks; the forks must be copied
# here because replace directives only apply in the main module.
rm -rf "$module_dir"
mkdir -p "$module_dir"
cd "$module_dir"
export CGO_ENABLED=0
go mod init pulumi-cli-build >/dev/null 2>&1
go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$version" -require="github.com/pulumi/pulumi/sdk/v3@v$version"
pkg_go_mod=$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
if [ ! -f "$pkg_go_mod" ]; then
  echo "build-pulumi: could not download github.com/pulumi/pulumi/pkg/v3@v$version through the Go module proxy ($(go env GOPROXY))." >&2
  exit 1
fi
# Only module replacements carry a version; local-path ones have none and are skipped.
go mod edit -json "$pkg_go_mod" |
  node -e '
    const goMod = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const { Old, New } of goMod.Replace ?? []) {
      if (New.Version) console.log(`${Old.Path}${Old.Version ? "@" + Old.Version : ""}=${New.Path}@${New.Version}`);
    }' |
  while read -r replacement; do
    go mod edit -replace="$replacement"
  done
go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version" >&2

go build -trimpath \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
  -o "$bin_dir/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
mv "$bin_dir/pulumi.tmp" "$bin_dir/pulumi"
install_dynamic_provider_launcher
build_python_sdk_generator

echo "build-pulumi: built pulumi v$version in $(( $(date +%s) - started ))s" >&2
echo "$bin_dir"
