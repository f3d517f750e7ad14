#!/usr/bin/env bash
# What open web view pages cost a node: CPU (user + system) and RSS of node 1 of the local cluster
# (deploy/cluster.sh, started here in a new temporary RAFTMQ_HOME and stopped on exit) over WINDOW
# seconds with 0, 1 and 20 open event streams (GET /api/events, what an open page holds: curl
# stands in for the browser, the node's work per page is the same). The cluster is idle apart from
# the streams; the node polls its peers' /api/local every second in every case.
#
#   deploy/bench/web-view-cost.sh [WINDOW]    default 60 (seconds per case, after a 10 s warm-up)
#
# RAFTMQ_PORT_OFFSET (default 20000) moves every port. Needs the jar (mvn -B -DskipTests package).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JAR="$ROOT/broker-node/target/raftmq-node.jar"
WINDOW="${1:-60}"
export RAFTMQ_PORT_OFFSET="${RAFTMQ_PORT_OFFSET:-20000}"
[[ -f "$JAR" ]] || { echo "no $JAR: build it first (mvn -B -DskipTests package)" >&2; exit 2; }
RAFTMQ_HOME="$(mktemp -d /tmp/raftmq-web-cost.XXXXXX)"
export RAFTMQ_HOME
STREAMS=()

stop() {
  for pid in "${STREAMS[@]}"; do kill "$pid" 2> /dev/null || true; done
  "$ROOT/deploy/cluster.sh" stop > /dev/null 2>&1 || true
  rm -rf "$RAFTMQ_HOME"
}
trap stop EXIT

"$ROOT/deploy/cluster.sh" start > "$RAFTMQ_HOME/start.log"
PID="$(cat "$RAFTMQ_HOME/node-1.pid")"
PORT=$((RAFTMQ_PORT_OFFSET + 8080))
TICKS="$(getconf CLK_TCK)"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
rss_mib() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$PID/status"; }

echo "node 1 (pid $PID), http://127.0.0.1:$PORT/, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), ${WINDOW} s per case"
printf "%-8s %10s %10s\n" "streams" "CPU %" "RSS MiB"
for n in 0 1 20; do
  while (( ${#STREAMS[@]} < n )); do
    curl -sN "http://127.0.0.1:$PORT/api/events" > /dev/null &
    STREAMS+=("$!")
  done
  sleep 10
  before="$(cpu_ticks)"
  sleep "$WINDOW"
  after="$(cpu_ticks)"
  printf "%-8s %10s %10s\n" "$n" "$(awk -v d=$((after - before)) -v t="$TICKS" -v w="$WINDOW" \
    'BEGIN { printf "%.1f", 100 * d / t / w }')" "$(rss_mib)"
done
