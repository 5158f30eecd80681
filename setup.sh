#!/usr/bin/env bash
# Create or reuse the virtual environment at .venv with linguafranca and its pinned dependencies.
# Idempotent: when .venv already matches pyproject.toml it returns at once.
set -euo pipefail
cd "$(dirname "$0")"
stamp=.venv/.linguafranca-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "setup.sh: Python >= 3.11 needed" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and alone, so pip takes the pinned wheel rather than resolving a different build for another package.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[test]"
echo "$want" > "$stamp"
