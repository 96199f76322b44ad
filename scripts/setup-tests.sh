#!/usr/bin/env bash
# Installs everything the test suite needs on a Debian machine with Node and Go:
# the database servers and archive tools from Debian's packages, the npm
# dependencies, the Pulumi CLI and Pulumi YAML's language host built from
# source, a Python environment with Pulumi's SDK, the oldest Node.js
# app-backup supports, and libdeflate's binding (with gcc and libdeflate-dev).
# (The test setup builds dist/ and the provider plugin.)
set -euo pipefail
cd "$(dirname "$0")/.."

installed=$(scripts/apt-install.sh postgresql mariadb-server zip unzip openssl python3 python3-venv util-linux time openssh-server openssh-client gcc libc6-dev libdeflate-dev)
if [ -n "$installed" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # The tests start their own throwaway servers; the packaged services are not needed.
  for service in mariadb postgresql; do
    $sudo service "$service" stop >/dev/null 2>&1 || true
  done
fi

npm ci --no-audit --no-fund
scripts/build-libdeflate-binding.sh --require
scripts/build-ssh2-binding.sh
scripts/build-pulumi.sh
scripts/build-pulumi-yaml.sh
scripts/setup-python.sh
scripts/fetch-node.sh
scripts/actionlint.sh --install
