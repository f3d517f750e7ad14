#!/usr/bin/env bash
# The workload of run.sh through raftmq's own client and protocol (`raftmq perf`, gRPC) on a fresh
# deploy/cluster.sh cluster: topic perf-bench (3 partitions, RF 3, min.insync.replicas=2), 1,000,000
# records of 100 B at acks=all then acks=1, a consumer reading the 2,000,000 (assigned, no group),
# end-to-end latency of 10,000 records at acks=all on e2e-bench (1 partition, RF 3). Prints one
# summary line per step. The cluster is stopped and its data deleted afterwards.
#
# Usage:  deploy/kafka-compare/raftmq-perf.sh [PRODUCER_PROP=VALUE ...]   e.g. batch.size=131072
# Env:    NUM_RECORDS (default 1000000), RECORD_SIZE (default 100), E2E_RECORDS (default 10000)
set -euo pipefail

BASE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BASE/../.." && pwd)"
NUM_RECORDS="${NUM_RECORDS:-1000000}"
RECORD_SIZE="${RECORD_SIZE:-100}"
E2E_RECORDS="${E2E_RECORDS:-10000}"
BOOTSTRAP=127.0.0.1:9093,127.0.0.1:9193,127.0.0.1:9293
export RAFTMQ_HOME="$BASE/target/raftmq-perf-$(date +%Y%m%d-%H%M%S)-$$"
LOGS="$BASE/target/logs/raftmq-perf-$(basename "$RAFTMQ_HOME")"
mkdir -p "$LOGS"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
cleanup() {
  local rc=$?
  "$ROOT/deploy/cluster.sh" stop >/dev/null 2>&1 || true
  cp "$RAFTMQ_HOME"/node-*.log "$LOGS/" 2>/dev/null || true
  rm -rf "$RAFTMQ_HOME"
  exit $rc
}
trap cleanup EXIT

# shellcheck source=deploy/kafka-compare/cpu.sh
source "$BASE/cpu.sh"
CPU_PID_DIR="$RAFTMQ_HOME"
timed() { local out="$1"; shift; /usr/bin/time -f '%U %S' -o "$out.cpu" "$@" >"$out" 2>&1; }

props=()
[ $# -gt 0 ] && props=(--producer-props "$@")
raftmq() { "$ROOT/bin/raftmq" "$@"; }

log "raftmq perf (gRPC), producer props: ${*:-none}; logs in $LOGS"
"$ROOT/deploy/cluster.sh" start >"$LOGS/cluster-start.out" 2>&1 || { cat "$LOGS/cluster-start.out" >&2; exit 1; }
raftmq topics --bootstrap-server "$BOOTSTRAP" --create --topic perf-bench --partitions 3 --replication-factor 3 \
  --config min.insync.replicas=2 >/dev/null
raftmq topics --bootstrap-server "$BOOTSTRAP" --create --topic e2e-bench --partitions 1 --replication-factor 3 \
  --config min.insync.replicas=2 >/dev/null
SUMMARY=()
for acks in all 1; do
  before="$(nodes_cpu "$CPU_PID_DIR")"
  timed "$LOGS/produce-$acks.out" "$ROOT/bin/raftmq" perf produce --bootstrap-server "$BOOTSTRAP" --topic perf-bench \
    --num-records "$NUM_RECORDS" --record-size "$RECORD_SIZE" --throughput -1 --acks "$acks" ${props[@]+"${props[@]}"}
  SUMMARY+=("acks=$acks: $(grep 'records sent' "$LOGS/produce-$acks.out" | tail -1) $(cpu_line "$LOGS/produce-$acks.out" "$before")")
done
before="$(nodes_cpu "$CPU_PID_DIR")"
timed "$LOGS/consume.out" "$ROOT/bin/raftmq" perf consume --bootstrap-server "$BOOTSTRAP" --topic perf-bench \
  --num-records $((2 * NUM_RECORDS))
SUMMARY+=("consume: $(tail -1 "$LOGS/consume.out") $(cpu_line "$LOGS/consume.out" "$before")")
raftmq perf e2e --bootstrap-server "$BOOTSTRAP" --topic e2e-bench --num-records "$E2E_RECORDS" >"$LOGS/e2e.out" 2>&1
SUMMARY+=("e2e: $(grep -iE 'percentile|p99|avg' "$LOGS/e2e.out" | tr '\n' ' ')")
echo
echo "=== raftmq (gRPC, raftmq perf), 3 nodes combined, extra props: ${*:-none}"
for s in "${SUMMARY[@]}"; do echo "$s"; done
echo
