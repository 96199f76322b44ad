#!/usr/bin/env bash
# Creates the Python virtual environment the Pulumi tests run Python programs in, with the packages of
# scripts/pulumi/requirements.txt from PyPI. Cached in .cache/python/<hash of the requirements>/ and
# reused; the last line printed is the environment's folder.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
requirements="$repo_root/scripts/pulumi/requirements.txt"
if ! command -v python3 >/dev/null 2>&1; then
  echo "setup-python: python3 is not on PATH; install Python 3.10 or newer (Debian: apt-get install python3 python3-venv)." >&2
  exit 1
fi

key=$( (python3 --version; cat "$requirements") | sha256sum | cut -c1-16)
venv="$repo_root/.cache/python/$key"
mkdir -p "$repo_root/.cache/python"
exec 9>"$repo_root/.cache/python/.lock"
flock 9

if [ -f "$venv/.complete" ]; then
  echo "setup-python: $venv is ready" >&2
  echo "$venv"
  exit 0
fi

echo "setup-python: creating $venv" >&2
rm -rf "$venv"
if ! python3 -m venv "$venv" >&2; then
  echo "setup-python: python3 -m venv failed; install the venv module (Debian: apt-get install python3-venv)." >&2
  exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
touch "$venv/.complete"
echo "$venv"
