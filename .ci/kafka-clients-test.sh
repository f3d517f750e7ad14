#!/usr/bin/env bash
# Kafka's own clients against the local cluster of deploy/cluster.sh (Kafka listeners on 9092, 9192,
# 9292): installs Debian's python3-kafka and kcat when missing (needs root then), starts a fresh
# cluster in a temporary RAFTMQ_HOME, runs .ci/kafka-clients-check.sh (the kafka-python seed demo,
# kcat metadata / keyed produce / consume, kcat -G and kafka-python groups) and
# .ci/kafka-tools-check.sh (Kafka 4.4's command-line tools, resolved with Maven), and stops and
# deletes the cluster whatever happens; then .ci/security-check.sh (the secured cluster of
# deploy/cluster.sh start --secure, with kcat and Kafka's tools over SASL_SSL and mTLS).
# Run by .ci/run after the Maven tests, or on its own: .ci/kafka-clients-test.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { echo "[kafka-clients-test $(date +%T)] $*"; }
die() { log "FAILED: $*" >&2; exit 1; }

missing=()
command -v kcat >/dev/null || missing+=(kcat)
/usr/bin/python3 -c 'import kafka' 2>/dev/null || missing+=(python3-kafka)
if ((${#missing[@]})); then
  [[ $EUID -eq 0 ]] || die "${missing[*]} missing and not root: apt-get install -y ${missing[*]}"
  log "installing ${missing[*]}"
  timeout 600 apt-get update -q >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi

for port in 9092 9192 9292 9093 9193 9293 8080 8180 8280; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use (a local cluster or docker-compose running?): stop it first"
  fi
done

export RAFTMQ_HOME
RAFTMQ_HOME="$(mktemp -d)"
cleanup() {
  local status=$?
  if ((status != 0)); then
    for n in 1 2 3; do
      log "the last 40 lines of node $n's log:"
      tail -n 40 "$RAFTMQ_HOME/node-$n.log" 2>/dev/null | sed 's/^/    /'
    done
  fi
  deploy/cluster.sh clean >/dev/null 2>&1 || true
  rm -rf "$RAFTMQ_HOME"
  exit "$status"
}
trap cleanup EXIT

deploy/cluster.sh start
.ci/kafka-clients-check.sh 127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292 8080,8180,8280
.ci/kafka-tools-check.sh 127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292
# The secured cluster uses the same ports: this one goes first.
deploy/cluster.sh clean >/dev/null
.ci/security-check.sh
