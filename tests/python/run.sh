#!/usr/bin/env bash
# healthplug through the official Python MCP SDK (tests/python/test_mcp.py).
#
#   tests/python/run.sh [HEALTHPLUG_BIN] [-- PYTEST_ARGS...]
#
# HEALTHPLUG_BIN defaults to target/debug/healthplug and the fixture packages
# to $HEALTHPLUG_FIXTURES or target/wasm/packages/fixtures, both built by
# `cargo test --workspace`. Builds nothing. Keeps a virtualenv in
# target/py-mcp (created on first use) with requirements.txt installed.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/target/debug/healthplug"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    bin="$1"
    shift
fi
[ "${1:-}" = "--" ] && shift
fixtures="${HEALTHPLUG_FIXTURES:-$root/target/wasm/packages/fixtures}"
venv="$root/target/py-mcp"

die() { echo "python-sdk: $*" >&2; exit 1; }

[ -x "$bin" ] || die "no healthplug binary at $bin (build it: cargo build -p healthplug-host)"
for fixture in conformance probe; do
    [ -f "$fixtures/$fixture/healthplug.toml" ] ||
        die "no $fixture fixture package in $fixtures (build them: cargo test -p healthplug-tests --test all --no-run)"
done
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || die "$python is not installed (Python 3.10 or later)"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" || die "cannot create a virtualenv in $venv (Debian: apt-get install python3-venv)"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" ||
    die "pip install -r requirements.txt failed (is PyPI reachable?)"

export HEALTHPLUG_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export HEALTHPLUG_FIXTURES="$(cd "$fixtures" && pwd)"
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider test_mcp.py "$@"
