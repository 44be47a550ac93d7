#!/usr/bin/env bash
# `npm test`: everything CI runs. Installs the Debian packages the tests need when missing (Chromium,
# CJK fonts, GDAL, PostgreSQL/PostGIS, mosquitto), typechecks, runs the unit tests, builds the demo city, tiles and web bundle when
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

step "PostgreSQL/PostGIS: start the private cluster and load the demo city (only what is missing)"
# The query tests run against both stores: embedded, and PostGIS through TEST_DATABASE_URL.
# Services started here are stopped again on exit; ones that were already running are left alone.
stop_on_exit=()
npx tsx scripts/pg-local.ts status >/dev/null 2>&1 || stop_on_exit+=("npx tsx scripts/pg-local.ts stop")
npx tsx scripts/mosquitto-local.ts status >/dev/null 2>&1 || stop_on_exit+=("npx tsx scripts/mosquitto-local.ts stop")
cleanup() { for c in "${stop_on_exit[@]}"; do $c >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
TEST_DATABASE_URL=$(npx tsx scripts/pg-local.ts start)
export TEST_DATABASE_URL
DATABASE_URL="$TEST_DATABASE_URL" npx tsx scripts/load-postgis.ts

step "mosquitto: a private broker for the telemetry tests"
TEST_MQTT_URL=$(npx tsx scripts/mosquitto-local.ts start)
export TEST_MQTT_URL

step "unit and integration tests (vitest)"
mkdir -p .tmp
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json
rc=$?
set -e
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  // A file that fails before its tests run (import error, failing beforeAll) fails no test: say so.
  const broken = r.testResults.filter((f) => f.status === "failed" && f.assertionResults.every((a) => a.status !== "failed")).map((f) => f.name);
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : "")
    + (broken.length ? `; ${broken.length} test file(s) failed outside any test: ${broken.join(", ")}` : ""));
  if (broken.length) process.exitCode = 1;
  if (r.numTotalTests === 0) { console.error("no tests ran"); process.exit(1); }
' || rc=1
echo "total time $(( $(date +%s) - t0 ))s"
exit $rc
