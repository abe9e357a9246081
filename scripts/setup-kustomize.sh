#!/usr/bin/env bash
# Finds or builds kustomize, which `npm test` uses to render deploy/kubernetes (test/unit/kubernetes.test.ts).
# Order: $KUSTOMIZE_PATH, then the project-local .tools/bin/kustomize at the pinned version, else `go install` of the
# pinned module from the Go module proxy into .tools/bin (a few minutes the first time; the module cache makes reruns fast).
# Prints the binary's path on stdout; everything else goes to stderr.
set -euo pipefail

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin/kustomize"
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
say() { [ "$quiet" = 1 ] || echo "setup-kustomize: $*" >&2; }
version_of() { "$1" version 2>/dev/null | head -n1; }

if [ -n "${KUSTOMIZE_PATH:-}" ]; then
  if "$KUSTOMIZE_PATH" version >/dev/null 2>&1; then say "using $KUSTOMIZE_PATH ($(version_of "$KUSTOMIZE_PATH"))"; echo "$KUSTOMIZE_PATH"; exit 0; fi
  echo "setup-kustomize: KUSTOMIZE_PATH=$KUSTOMIZE_PATH is not a working kustomize binary" >&2
  exit 1
fi
if [ -x "$bin" ] && [ "$(version_of "$bin")" = "$KUSTOMIZE_VERSION" ]; then
  say "using $bin ($KUSTOMIZE_VERSION)"; echo "$bin"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<MSG
setup-kustomize: kustomize $KUSTOMIZE_VERSION is not in .tools/bin and go is not installed to build it.
  Fix one of: install Go (1.24 or newer) and re-run scripts/setup-kustomize.sh, or set KUSTOMIZE_PATH=/path/to/kustomize.
MSG
  exit 1
fi
say "building sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION into $root/.tools/bin (go install)"
mkdir -p "$root/.tools/bin"
if GOBIN="$root/.tools/bin" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2 && [ "$(version_of "$bin")" = "$KUSTOMIZE_VERSION" ]; then
  say "installed $bin"; echo "$bin"; exit 0
fi
echo "setup-kustomize: go install of kustomize $KUSTOMIZE_VERSION failed (see above)" >&2
exit 1
