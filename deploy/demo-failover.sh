#!/usr/bin/env bash
# Fault-tolerance demo: kill the leader of a partition while a producer (acks=all) and a consumer
# run, and print the timeline: when the leader was killed, when a new one was elected, when the
# first record after the kill was acknowledged, and that every acknowledged record can be read back.
# It first prints the address of the web view, which shows the same failover live in a browser.
#
#   deploy/demo-failover.sh              on the local process cluster (deploy/cluster.sh; started
#                                        here if it is not running)
#   deploy/demo-failover.sh --compose    on the docker-compose cluster (docker-compose.yml, already up)
#
# Further arguments go to `raftmq demo failover` (see `bin/raftmq demo failover --help`), e.g.
# `--rate 2000` or `--warmup-ms 10000`. The killed node is started again at the end.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE=local
if [[ "${1:-}" == "--compose" ]]; then
  MODE=compose
  shift
fi

if [[ "$MODE" == "local" ]]; then
  status="$("$ROOT/deploy/cluster.sh" status)"
  if ! grep -q ": running" <<< "$status" || grep -q ": stopped" <<< "$status"; then
    echo "starting the local cluster (deploy/cluster.sh start)"
    "$ROOT/deploy/cluster.sh" start
  fi
  # kill -9 straight from the pid file: the demo times from the moment this command returns, so it
  # should return as soon as the signal is sent (deploy/cluster.sh kill N also waits for the exit).
  HOME_DIR="${RAFTMQ_HOME:-$ROOT/run/cluster}"
  KILL="kill -9 \$(cat $(printf %q "$HOME_DIR")/node-{node}.pid)"
  RESTART="$(printf %q "$ROOT/deploy/cluster.sh") restart {node}"
else
  if command -v docker-compose > /dev/null; then
    COMPOSE=(docker-compose)
  else
    COMPOSE=(docker compose)
  fi
  COMPOSE+=(-f "$(printf %q "$ROOT/docker-compose.yml")")
  KILL="${COMPOSE[*]} kill node{node}"
  RESTART="${COMPOSE[*]} start node{node}"
fi

if [[ "$MODE" == "local" ]]; then
  HTTP_PORT=$(( ${RAFTMQ_PORT_OFFSET:-0} + 8080 ))
else
  HTTP_PORT="${RAFTMQ_COMPOSE_HTTP_PORT_1:-8080}"
fi
echo "watch it live: http://127.0.0.1:$HTTP_PORT/ (the web view; any node's HTTP port serves it, and the page"
echo "moves to another node when the one it came from is killed)"

exec "$ROOT/bin/raftmq" demo failover \
  --bootstrap-server 127.0.0.1:9093,127.0.0.1:9193,127.0.0.1:9293 \
  --kill-command "$KILL" --restart-command "$RESTART" "$@"
