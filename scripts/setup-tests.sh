#!/usr/bin/env bash
# Installs everything the test suite needs on a Debian machine with Node and Go:
# the database servers and archive tools from Debian's packages, the npm
# dependencies, and the Pulumi CLI built from source.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql mariadb-server zip unzip openssl python3 util-linux time)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The tests start their own throwaway servers; the packaged services are not needed.
  for service in mariadb postgresql; do
    $sudo service "$service" stop >/dev/null 2>&1 || true
  done
fi

npm ci --no-audit --no-fund
scripts/build-pulumi.sh
scripts/actionlint.sh --install
