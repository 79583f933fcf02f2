#!/usr/bin/env bash
# Installs the readers users check Sluice's columnar output with (pyarrow, DuckDB, fastavro;
# pinned in test/readers/requirements.txt) into a virtual environment under .cache, from PyPI.
# `npm run stack:up` runs it, so the integration tests that read Parquet and Avro objects find
# them; it does nothing when the pinned versions are already there. Prints the python to use.
#
#   SLUICE_STACK_CACHE_DIR [<repo>/.cache]   where the environment is made (python-readers/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${SLUICE_STACK_CACHE_DIR:-$ROOT/.cache}"
case "$CACHE_DIR" in /*) ;; *) CACHE_DIR="$ROOT/$CACHE_DIR" ;; esac
VENV="$CACHE_DIR/python-readers"
REQ="$ROOT/test/readers/requirements.txt"
say() { printf 'python-readers: %s\n' "$*" >&2; }

command -v python3 >/dev/null 2>&1 || {
  say "python3 (3.9 or newer) is needed to read Parquet and Avro in the tests: apt-get install python3 python3-venv"
  exit 1
}
# The requirements file's content is the environment's version: a changed pin rebuilds it.
stamp="$(sha256sum "$REQ" | cut -c1-16)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.sluice-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$VENV/bin/python"
  exit 0
fi
rm -rf "$VENV"
python3 -m venv "$VENV" 2>/dev/null || {
  say "python3 cannot make a virtual environment: apt-get install python3-venv"
  exit 1
}
say "installing $(grep -cv '^#' "$REQ") packages from PyPI into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ" >&2
echo "$stamp" >"$VENV/.sluice-stamp"
echo "$VENV/bin/python"
