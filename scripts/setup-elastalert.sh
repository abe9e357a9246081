#!/usr/bin/env bash
# Creates .tools/elastalert-venv with a pinned ElastAlert2 from PyPI, for `npm run bench` (the comparison with
# ElastAlert2's FrequencyRule). Idempotent: a venv that already imports the pinned version is reused.
# Prints the venv's python on stdout; everything else goes to stderr.
#
# elastalert2 2.19.0 is the newest release that installs on Python 3.11 (later ones need 3.12+); the rule-type code
# the benchmark drives (elastalert/ruletypes.py: FrequencyRule, EventWindow) depends on sortedcontainers, which is
# pinned too, so the measured code is the same on every machine. elastalert/util.py imports pytz without declaring it
# (it used to come with APScheduler < 3.11), so pytz is installed explicitly.
set -euo pipefail

ELASTALERT2_VERSION="${ELASTALERT2_VERSION:-2.19.0}"
SORTEDCONTAINERS_VERSION="2.4.0"
PYTZ_VERSION="2025.2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/elastalert-venv"
python_bin="${ELASTALERT_PYTHON:-python3}"

say() { echo "setup-elastalert: $*" >&2; }
ready() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$ELASTALERT2_VERSION" >/dev/null 2>&1 <<'PY'
import sys
from importlib.metadata import version
assert version("elastalert2") == sys.argv[1], version("elastalert2")
import elastalert.ruletypes  # noqa: F401  (the module the benchmark drives)
PY
}

if ready; then
  echo "$venv/bin/python"
  exit 0
fi
if ! command -v "$python_bin" >/dev/null 2>&1; then
  say "$python_bin not found: install Python 3.9+ (or set ELASTALERT_PYTHON) and re-run"
  exit 1
fi
say "installing elastalert2==$ELASTALERT2_VERSION into $venv (first run only; a minute or two)"
rm -rf "$venv"
mkdir -p "$root/.tools"
"$python_bin" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "elastalert2==$ELASTALERT2_VERSION" "sortedcontainers==$SORTEDCONTAINERS_VERSION" "pytz==$PYTZ_VERSION" >&2
if ! ready; then
  say "the venv at $venv does not import elastalert2 $ELASTALERT2_VERSION after installing; see the pip output above"
  exit 1
fi
echo "$venv/bin/python"
