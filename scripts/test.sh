#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is needed, type-checks, then runs every unit
# test (src/**/*.test.ts) and end-to-end suite (test/e2e/**/*.test.ts) with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
[ -x .cache/kubectl/kubectl ] && export PATH="$PWD/.cache/kubectl:$PATH"
echo "== type check"
npx --no-install tsc --noEmit -p .
echo "== tests"
# Node 20's runner does not expand globs itself: list the files here.
mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
mkdir -p .cache
set +e
node --import tsx --test --test-concurrency=2 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=.cache/test-results.tap \
  "${files[@]}"
rc=$?
set -e
pass=$(grep -E '^# pass ' .cache/test-results.tap | tail -1 | awk '{print $3}')
fail=$(grep -E '^# fail ' .cache/test-results.tap | tail -1 | awk '{print $3}')
skip=$(grep -E '^# skipped ' .cache/test-results.tap | tail -1 | awk '{print $3}')
echo
echo "tests: ${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
exit $rc
