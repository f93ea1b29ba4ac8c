#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is needed, type-checks, then runs every unit
# test (src/**/*.test.ts) and end-to-end suite (test/e2e/**/*.test.ts) with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
[ -x .cache/kubectl/kubectl ] && export PATH="$PWD/.cache/kubectl:$PATH"
[ -x .cache/helm/helm ] && export PATH="$PWD/.cache/helm:$PATH"
# Informers freeze what they cache (src/client/informer-mutation-detector.ts); the e2e servers inherit it.
export BERTH_CACHE_MUTATION_DETECTOR=1
echo "== type check"
npx --no-install tsc --noEmit -p .
echo "== tests"
# Node 20's runner does not expand globs itself: list the files here.
# Suites that run a whole `berth up` (real pods, nftables, DNS) run one at a time after the rest:
# two of them side by side with the other suites overload a 2-core machine into timeouts.
serial_re='^test/e2e/(node-agent|services|runc-pods|drain|in-cluster|join|local-path|statefulset|lab|ha-cluster|lab-node-loss|multi-node-network|metrics|ui|fencing|fencing-replicated|replicated-volumes|admission-webhooks|ecosystem|stateful-failover)\.test\.ts$'
mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort | grep -Ev "$serial_re")
mapfile -t serial < <(find test/e2e -name '*.test.ts' | sort | grep -E "$serial_re")
mkdir -p .cache
run_tests() { # concurrency tap-file files...
  local conc=$1 tap=$2; shift 2
  # --test-timeout bounds each test and each file (Node applies it to both): a hang fails its file
  # after 15 minutes instead of holding CI until its own limit.
  node --import tsx --test --test-concurrency="$conc" --test-timeout=900000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "$@"
}
set +e
run_tests 2 .cache/test-results.tap "${files[@]}"
rc=$?
# The whole-node suites also take a machine-wide lock, so that another checkout's suites (a second
# engineer's run on the same machine) never share the bridge, nftables tables or ports with them.
exec 9>/tmp/berth-e2e.lock
flock 9
run_tests 1 .cache/test-results-serial.tap "${serial[@]}"
rc2=$? # before the unlock: its own status would hide a failed serial suite
flock -u 9
set -e
[ "$rc" -eq 0 ] && rc=$rc2
sum() { grep -hE "^# $1 " .cache/test-results.tap .cache/test-results-serial.tap | awk '{n += $3} END {print n + 0}'; }
pass=$(sum pass)
fail=$(sum fail)
skip=$(sum skipped)
cancelled=$(sum cancelled) # timed out, or cut short by a file that timed out
todo=$(sum todo) # acceptance cases that run but are known not to pass yet (named in their files)
echo
echo "tests: ${pass:-0} passed, ${fail:-0} failed, ${cancelled:-0} cancelled, ${skip:-0} skipped, ${todo:-0} todo (run, not yet passing)"
exit $rc
