#!/usr/bin/env bash
# `npm test`: build, type-check, refuse import cycles (dependency-cruiser), make sure the Temporal CLI is there, run jest (extra arguments go to jest), then print
# the fault suite's summary line when it ran.
set -uo pipefail
cd "$(dirname "$0")/.."
rm -f test-results/faults-summary.json
npm run build --silent && npm run typecheck --silent && npm run lint:deps --silent && bash scripts/setup-temporal.sh --quiet >/dev/null && bash scripts/setup-browser.sh --quiet >/dev/null && bash scripts/setup-kustomize.sh --quiet >/dev/null || exit 1
# --forceExit: once every test file has finished, a handle some test left open (a socket, a child's pipe) must not keep
# jest - and CI - waiting forever; what is still open is reported, not waited for.
npx jest --runInBand --forceExit "$@"
status=$?
if [ -f test-results/faults-summary.json ] || [ "${FAULTS_REQUIRED:-0}" = 1 ]; then
  node scripts/fault-summary.js || status=1
fi
exit "$status"
