#!/usr/bin/env bash
# python-gitlab's own functional tests, unmodified, against Gantry: see scripts/conformance/run.py.
#   scripts/conformance.sh                     all modules; writes COMPATIBILITY.md
#   scripts/conformance.sh --implemented-only  the areas Gantry implements; exits 1 on a failure
#   … --database-url postgres://…              the same on PostgreSQL (a fresh database per module)
# Needs python3 with venv (installed from Debian's packages when missing) and a built gantry
# binary ($GANTRY_BIN, else $CARGO_TARGET_DIR/debug/gantry, else target/debug/gantry).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
exec python3 scripts/conformance/run.py "$@"
