#!/usr/bin/env bash
# `npm test`: everything CI runs. Installs the Debian packages the tests need when missing (Chromium,
# CJK fonts, GDAL), typechecks, runs the unit tests, builds the demo city, tiles and web bundle when
# missing or stale, then runs the integration and browser tests. Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - t0 ))s)"; }

step "system packages"
bash scripts/system-packages.sh test

step "typecheck (vue-tsc)"
npx vue-tsc --noEmit -p tsconfig.json

step "build demo data, tiles and web bundle (only what is missing)"
npx tsx scripts/ensure-built.ts

step "unit and integration tests (vitest)"
mkdir -p .tmp
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json
rc=$?
set -e
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (r.numTotalTests === 0) { console.error("no tests ran"); process.exit(1); }
' || rc=1
echo "total time $(( $(date +%s) - t0 ))s"
exit $rc
