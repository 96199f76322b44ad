#!/usr/bin/env bash
# Installs what the benchmarks need beyond the test suite's tools (scripts/setup-tests.sh): 7-Zip,
# which the large benchmark (bench/large.mjs) tests its ZIP64 zip with, from Debian's packages, and
# restic 0.17.3, the scale benchmark's peer (bench/scale.mjs), built from source with Go; and
# libdeflate's binding, which backups deflate with (gcc and libdeflate-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/apt-install.sh p7zip-full zip unzip time python3 gcc libc6-dev libdeflate-dev >/dev/null
scripts/build-libdeflate-binding.sh --require
scripts/fetch-restic.sh
