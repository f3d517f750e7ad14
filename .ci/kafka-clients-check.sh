#!/usr/bin/env bash
# Real Kafka clients against a running raftmq cluster's Kafka listeners:
#   1. the kafka-python demo raftmq's users start from (deploy/seed-demo/, unchanged): the consumer
#      (no group, reads from the end) prints every message the producer sent; topic `test` is
#      created by the clients' own Metadata requests (auto.create.topics.enable);
#   2. kcat (librdkafka): cluster metadata, keyed produce, consume from the beginning;
#   3. consumer groups: kcat -G and kafka-python's KafkaConsumer(group_id=...) read a topic, commit,
#      and a second run of each resumes with exactly the records produced since.
# Needs /usr/bin/python3 with kafka-python (Debian python3-kafka) and kcat; .ci/kafka-clients-test.sh
# installs them. Used by .ci/kafka-clients-test.sh (deploy/cluster.sh) and .ci/compose-test.sh.
#
# Usage: .ci/kafka-clients-check.sh KAFKA_BOOTSTRAP HTTP_PORTS
#   e.g. .ci/kafka-clients-check.sh 127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292 8080,8180,8280
# (the nodes' HTTP ports, on 127.0.0.1: /metrics says when the demo's consumer has started fetching)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BOOTSTRAP="${1:?usage: $0 KAFKA_BOOTSTRAP HTTP_PORTS}"
IFS=, read -r -a HTTP_PORTS <<< "${2:?usage: $0 KAFKA_BOOTSTRAP HTTP_PORTS}"
FIRST="${BOOTSTRAP%%,*}"
COUNT="${SEED_DEMO_COUNT:-3}"
WORK="$(mktemp -d)"
CONSUMER_PID=""

log() { echo "[kafka-clients $(date +%T)] $*"; }
die() { log "FAILED: $*" >&2; exit 1; }
cleanup() {
  [[ -n "$CONSUMER_PID" ]] && kill "$CONSUMER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v kcat >/dev/null || die "kcat is not installed (apt-get install kcat)"
/usr/bin/python3 -c 'import kafka' 2>/dev/null || die "kafka-python is not installed (apt-get install python3-kafka)"

# Fetch requests the Kafka listeners have served, summed over the nodes.
fetches() {
  local port total=0 n
  for port in "${HTTP_PORTS[@]}"; do
    n="$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && timeout 5 cat <&3) 2>/dev/null \
      | awk '/^raftmq_kafka_requests_total\{api="Fetch"\}/ { print $2 }')"
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

# --- 1. the seed demo ------------------------------------------------------------------------------
log "seed demo: consumer.py (no group, from the end), then product.py ($COUNT messages) on $FIRST"
before="$(fetches)"
BOOTSTRAP="$FIRST" SEED_DEMO_TIMEOUT_MS=15000 /usr/bin/python3 "$ROOT/deploy/seed-demo/consumer.py" \
  >"$WORK/consumer.out" 2>"$WORK/consumer.err" &
CONSUMER_PID=$!
# The consumer reads from the end: the producer may only start once the consumer has its positions,
# which it has once it fetches.
deadline=$((SECONDS + 60))
until (( $(fetches) > before )); do
  kill -0 "$CONSUMER_PID" 2>/dev/null || { cat "$WORK/consumer.err" >&2; die "consumer.py exited before fetching"; }
  ((SECONDS < deadline)) || { cat "$WORK/consumer.err" >&2; die "consumer.py did not fetch within 60 s"; }
  sleep 0.2
done
log "the consumer fetches; starting the producer"
BOOTSTRAP="$FIRST" SEED_DEMO_COUNT="$COUNT" SEED_DEMO_SLEEP="${SEED_DEMO_SLEEP:-1}" \
  timeout 120 /usr/bin/python3 "$ROOT/deploy/seed-demo/product.py" >"$WORK/producer.out" 2>&1 \
  || { cat "$WORK/producer.out" >&2; die "product.py failed"; }
deadline=$((SECONDS + 30))
until (( $(grep -c "value=b'Hello, kafka'" "$WORK/consumer.out" || true) >= COUNT )); do
  kill -0 "$CONSUMER_PID" 2>/dev/null || break
  ((SECONDS < deadline)) || break
  sleep 0.2
done
kill "$CONSUMER_PID" 2>/dev/null || true
wait "$CONSUMER_PID" 2>/dev/null || true
CONSUMER_PID=""
sed 's/^/    /' "$WORK/consumer.out"
got="$(grep -c "^test:[0-9]*:[0-9]*: key=None value=b'Hello, kafka'$" "$WORK/consumer.out" || true)"
((got == COUNT)) || { cat "$WORK/consumer.err" >&2; die "consumer.py printed $got of the $COUNT messages product.py sent"; }
log "seed demo: the consumer printed all $COUNT messages"

# --- 2. kcat ---------------------------------------------------------------------------------------
log "kcat -L (metadata)"
kcat -b "$BOOTSTRAP" -L -t test >"$WORK/metadata.out" 2>&1 || { cat "$WORK/metadata.out" >&2; die "kcat -L failed"; }
sed 's/^/    /' "$WORK/metadata.out"
grep -q ' 3 brokers:' "$WORK/metadata.out" || die "kcat -L does not list 3 brokers"
grep -q 'topic "test" with [0-9]* partitions' "$WORK/metadata.out" || die "kcat -L does not show topic test"

topic="kcat-$(date +%s)-$$"
log "kcat: keyed produce to $topic (created by the producer's metadata request)"
printf 'k1:v1\nk2:v2\nk3:v3\n' | kcat -b "$BOOTSTRAP" -t "$topic" -P -K: -X request.required.acks=-1 \
  >"$WORK/produce.out" 2>&1 || { cat "$WORK/produce.out" >&2; die "kcat -P failed"; }
log "kcat: consume $topic from the beginning"
timeout 60 kcat -b "$BOOTSTRAP" -t "$topic" -C -o beginning -e -q -f '%k=%s\n' >"$WORK/consume.out" 2>&1 \
  || { cat "$WORK/consume.out" >&2; die "kcat -C failed"; }
sed 's/^/    /' "$WORK/consume.out"
[[ "$(sort "$WORK/consume.out" | tr '\n' ' ')" == "k1=v1 k2=v2 k3=v3 " ]] \
  || die "kcat read back '$(tr '\n' ' ' < "$WORK/consume.out")', expected k1=v1 k2=v2 k3=v3"
# --- 3. consumer groups: kcat -G and kafka-python with group_id --------------------------------------
gtopic="groups-$(date +%s)-$$"
seq 0 29 | sed 's/^/m-/' | kcat -b "$BOOTSTRAP" -t "$gtopic" -P -X request.required.acks=-1 >"$WORK/gproduce.out" 2>&1 \
  || { cat "$WORK/gproduce.out" >&2; die "kcat -P to $gtopic failed"; }
# kcat -G: a balanced consumer in group kcat-$$, committing as it goes and when it closes.
kcat_group() {
  timeout 60 kcat -b "$BOOTSTRAP" -G "kcat-$$" -X auto.offset.reset=earliest -c "$1" -q -f '%s\n' "$gtopic" \
    >"$WORK/$2.out" 2>"$WORK/$2.err" || { cat "$WORK/$2.err" >&2; die "kcat -G ($2) failed"; }
}
log "kcat -G kcat-$$: reads the 30 messages of $gtopic and commits"
kcat_group 30 kcat-group1
[[ "$(wc -l < "$WORK/kcat-group1.out")" -eq 30 ]] || die "kcat -G read $(wc -l < "$WORK/kcat-group1.out") of 30"
seq 30 39 | sed 's/^/m-/' | kcat -b "$BOOTSTRAP" -t "$gtopic" -P -X request.required.acks=-1 >"$WORK/gproduce.out" 2>&1 \
  || { cat "$WORK/gproduce.out" >&2; die "kcat -P to $gtopic failed"; }
log "kcat -G kcat-$$ again: resumes with exactly the 10 new messages"
kcat_group 10 kcat-group2
[[ "$(sort -t- -k2 -n "$WORK/kcat-group2.out" | tr '\n' ' ')" == "$(seq 30 39 | sed 's/^/m-/' | tr '\n' ' ')" ]] \
  || die "the second kcat -G run read '$(tr '\n' ' ' < "$WORK/kcat-group2.out")', expected m-30 .. m-39"

# kafka-python: KafkaConsumer(group_id=...), commit, close; a second consumer of the group resumes.
cat >"$WORK/group_consumer.py" <<'PY'
import os, sys
from kafka import KafkaConsumer
want = int(sys.argv[1])
consumer = KafkaConsumer(os.environ['TOPIC'], bootstrap_servers=os.environ['BOOTSTRAP'].split(','),
                         group_id=os.environ['GROUP'], auto_offset_reset='earliest', enable_auto_commit=False,
                         consumer_timeout_ms=30000)
got = []
for msg in consumer:
    got.append(msg.value.decode())
    if len(got) == want:
        break
consumer.commit()
consumer.close()
print('\n'.join(got))
PY
py_group() {
  TOPIC="$gtopic" GROUP="py-$$" BOOTSTRAP="$BOOTSTRAP" timeout 90 /usr/bin/python3 "$WORK/group_consumer.py" "$1" \
    >"$WORK/$2.out" 2>"$WORK/$2.err" || { cat "$WORK/$2.err" >&2; die "kafka-python group consumer ($2) failed"; }
}
log "kafka-python KafkaConsumer(group_id='py-$$'): reads the 40 messages, commits"
py_group 40 py-group1
[[ "$(grep -c '^m-' "$WORK/py-group1.out")" -eq 40 ]] || die "kafka-python read $(grep -c '^m-' "$WORK/py-group1.out") of 40"
seq 40 44 | sed 's/^/m-/' | kcat -b "$BOOTSTRAP" -t "$gtopic" -P -X request.required.acks=-1 >"$WORK/gproduce.out" 2>&1 \
  || { cat "$WORK/gproduce.out" >&2; die "kcat -P to $gtopic failed"; }
log "kafka-python again: resumes with exactly the 5 new messages"
py_group 5 py-group2
[[ "$(grep '^m-' "$WORK/py-group2.out" | sort -t- -k2 -n | tr '\n' ' ')" == "$(seq 40 44 | sed 's/^/m-/' | tr '\n' ' ')" ]] \
  || die "the second kafka-python consumer read '$(tr '\n' ' ' < "$WORK/py-group2.out")', expected m-40 .. m-44"

log "PASSED: the seed demo, kcat (also -G) and kafka-python groups work against $BOOTSTRAP"
