#!/usr/bin/env bash
# Makes sure a Chromium for the browser test exists: $CHROMIUM_PATH, else /usr/bin/chromium, else Debian's package
# (apt-get as root, or with passwordless sudo). Prints the binary's path on stdout; everything else goes to stderr.
set -euo pipefail
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
say() { [ "$quiet" = 1 ] || echo "setup-browser: $*" >&2; }
works() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if [ -n "${CHROMIUM_PATH:-}" ]; then
  if works "$CHROMIUM_PATH"; then echo "$CHROMIUM_PATH"; exit 0; fi
  echo "setup-browser: CHROMIUM_PATH=$CHROMIUM_PATH is not a working chromium" >&2
  exit 1
fi
if works /usr/bin/chromium; then echo /usr/bin/chromium; exit 0; fi

apt=""
if [ "$(id -u)" = 0 ]; then apt="apt-get"; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then apt="sudo -n apt-get"; fi
if [ -n "$apt" ] && command -v apt-get >/dev/null 2>&1; then
  say "installing Debian's chromium with $apt"
  export DEBIAN_FRONTEND=noninteractive
  $apt install -y --no-install-recommends chromium >&2 || { $apt update >&2 && $apt install -y --no-install-recommends chromium >&2; }
  if works /usr/bin/chromium; then echo /usr/bin/chromium; exit 0; fi
fi
cat >&2 <<MSG
setup-browser: no Chromium for the browser test.
  Fix one of:
    - install Debian's chromium: sudo apt-get install chromium
    - or set CHROMIUM_PATH=/path/to/chromium
MSG
exit 1
