#!/usr/bin/env bash
# The fault-injection suite's long run (docs/RELIABILITY.md): builds the node jar, runs the
# fault-tests module's FaultSuiteIT with the given number of randomized fault runs, and prints the
# table of fault type x runs x outcome (also left in fault-tests/target/fault-suite-results.md).
#
#   deploy/fault-suite.sh --runs 100 [--seed S] [--types KILL_LEADER,CUT_PAIR] [--expected-to-fail T,..]
#
# Violations of the fault types in --expected-to-fail (default: fault-tests/pom.xml's list of known
# holes) are counted in the table but do not fail the run.
#
# Run i uses seed S+i; a run's seed, with the same --types, replays its schedule:
#   deploy/fault-suite.sh --runs 1 --seed 1234 --types KILL_LEADER,CUT_PAIR
# Network partitions need root (network namespaces, nft); power loss, disk full and fsync stalls
# need deploy/faultfs/faultfs.py and FUSE. Without them those fault types are skipped (the log says
# why). Extra Maven arguments (e.g. -o) go in MAVEN_ARGS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=100
SEED=""
TYPES=""
EXPECTED=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --types) TYPES="$2"; shift 2 ;;
    --expected-to-fail) EXPECTED=(-Draftmq.faults.expectedToFail="$2"); shift 2 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$ROOT"
# shellcheck disable=SC2086
mvn -B ${MAVEN_ARGS:-} -pl fault-tests -am verify \
  -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=FaultSuiteIT -Dfailsafe.failIfNoSpecifiedTests=false \
  -Draftmq.faults.runs="$RUNS" -Draftmq.faults.seed="$SEED" -Draftmq.faults.types="$TYPES" \
  "${EXPECTED[@]}" | tee "$ROOT/fault-tests/target-fault-suite.log" \
  | grep --line-buffered -E '^\[fault-(suite|run)' || true
mkdir -p "$ROOT/fault-tests/target"
mv -f "$ROOT/fault-tests/target-fault-suite.log" "$ROOT/fault-tests/target/fault-suite.log"
echo
cat "$ROOT/fault-tests/target/fault-suite-results.md" 2>/dev/null || echo "no results table (the build failed before the suite ran)"
echo
echo "full log: fault-tests/target/fault-suite.log"
if grep -q "BUILD SUCCESS" "$ROOT/fault-tests/target/fault-suite.log"; then
  exit 0
fi
exit 1
