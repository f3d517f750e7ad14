#!/usr/bin/env bash
# Kafka 4.4's own command-line tools, unchanged, against a running raftmq cluster's Kafka listeners,
# used the way Kafka's quickstart uses them: kafka-broker-api-versions, kafka-topics (create with 3
# partitions, list, describe, alter to more partitions, the refused decrease, delete),
# kafka-console-producer, kafka-console-consumer (--from-beginning; --group, and a second run that
# resumes where the group stopped), kafka-consumer-groups (--list, --describe, --reset-offsets
# --to-earliest --execute, --delete), kafka-configs, kafka-get-offsets, kafka-leader-election,
# kafka-producer-perf-test and kafka-consumer-perf-test (which consumes in a group).
#
# The tools are the classes of kafka-tools 4.4.0 (kafka-topics.sh is org.apache.kafka.tools.TopicCommand,
# and so on), resolved once with Maven into deploy/kafka-compare/target/libs as deploy/kafka-compare
# does. Used by .ci/kafka-clients-test.sh (deploy/cluster.sh).
#
# Usage: .ci/kafka-tools-check.sh KAFKA_BOOTSTRAP
#   e.g. .ci/kafka-tools-check.sh 127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BOOTSTRAP="${1:?usage: $0 KAFKA_BOOTSTRAP}"
LIBS="$ROOT/deploy/kafka-compare/target/libs"
WORK="$(mktemp -d)"
TOPIC="tools-$(date +%s)-$$"
GROUP="tools-group-$$"

log() { echo "[kafka-tools $(date +%T)] $*"; }
die() { log "FAILED: $*" >&2; exit 1; }
trap 'rm -rf "$WORK"' EXIT

if [ ! -e "$LIBS/kafka-tools-4.4.0.jar" ]; then
  log "resolving Kafka 4.4.0's tools into $LIBS (once)"
  mvn -B -q -f "$ROOT/deploy/kafka-compare/pom.xml" dependency:copy-dependencies -DoutputDirectory="$LIBS" \
    -DincludeScope=runtime || die "could not resolve Kafka's jars with Maven"
fi

# tool NAME CLASS ARGS...: runs one tool as its kafka-*.sh script would; output in $WORK/NAME.out.
tool() {
  local name="$1" class="$2"
  shift 2
  timeout 120 java -Xmx256M -Dlog4j2.configurationFile="$ROOT/deploy/kafka-compare/config/log4j2-tools.properties" \
    -Dkafka.logs.dir="$WORK/logs" -cp "$LIBS/*" "$class" "$@" >"$WORK/$name.out" 2>&1
}
show() { sed 's/^/    /' "$WORK/$1.out"; }
must() {
  local name="$1"
  shift
  tool "$name" "$@" || { show "$name" >&2; die "$name exited with an error"; }
}
expect() {
  local name="$1" pattern="$2" why="$3"
  grep -Eq -- "$pattern" "$WORK/$name.out" || { show "$name" >&2; die "$why"; }
}

T=org.apache.kafka.tools

log "kafka-broker-api-versions"
must api-versions $T.BrokerApiVersionsCommand --bootstrap-server "$BOOTSTRAP"
expect api-versions 'JoinGroup\(11\): [0-9]+ to [0-9]+ \[usable: [0-9]+\]' "no usable JoinGroup versions"
expect api-versions 'OffsetCommit\(8\): [0-9]+ to [0-9]+ \[usable: [0-9]+\]' "no usable OffsetCommit versions"
[[ "$(grep -c '(id: [0-9]* rack' "$WORK/api-versions.out")" -ge 3 ]] || { show api-versions >&2; die "fewer than 3 brokers listed"; }

log "kafka-topics: create $TOPIC (3 partitions, RF 3), list, describe"
must topics-create $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic "$TOPIC" --partitions 3 \
  --replication-factor 3 --config min.insync.replicas=2
expect topics-create "Created topic $TOPIC" "the create was not confirmed"
must topics-list $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --list
expect topics-list "^$TOPIC\$" "--list does not show $TOPIC"
must topics-describe $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --describe --topic "$TOPIC"
show topics-describe
[[ "$(grep -c "Topic: $TOPIC.*Partition: [0-9].*Leader: [0-9].*Isr: " "$WORK/topics-describe.out")" -eq 3 ]] \
  || die "--describe does not show 3 partitions with leaders"

log "kafka-topics: alter to 4 partitions; a decrease to 2 is refused"
must topics-alter $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --alter --topic "$TOPIC" --partitions 4
if tool topics-decrease $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --alter --topic "$TOPIC" --partitions 2; then
  show topics-decrease >&2
  die "decreasing the partition count was accepted"
fi
expect topics-decrease 'can only be added|InvalidPartitionsException' "the refused decrease does not say why"
must topics-describe2 $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --describe --topic "$TOPIC"
expect topics-describe2 'PartitionCount: 4' "the topic does not have 4 partitions after the refused decrease"

log "kafka-topics: create and delete a second topic"
must topics-create-doomed $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic "$TOPIC-doomed" --partitions 1
must topics-delete $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --delete --topic "$TOPIC-doomed"
deadline=$((SECONDS + 30))
while tool topics-list2 $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --list && grep -q "^$TOPIC-doomed\$" "$WORK/topics-list2.out"; do
  ((SECONDS < deadline)) || die "$TOPIC-doomed still listed 30 s after its delete"
  sleep 0.5
done

log "kafka-configs: set and describe retention.ms on $TOPIC"
must configs-alter $T.ConfigCommand --bootstrap-server "$BOOTSTRAP" --entity-type topics --entity-name "$TOPIC" \
  --alter --add-config retention.ms=86400000
must configs-describe $T.ConfigCommand --bootstrap-server "$BOOTSTRAP" --entity-type topics --entity-name "$TOPIC" --describe
expect configs-describe 'retention.ms=86400000' "--describe does not show retention.ms=86400000"

log "kafka-console-producer: 40 lines"
seq 0 39 | sed 's/^/line-/' >"$WORK/lines"
tool console-producer $T.ConsoleProducer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" \
  --producer-property acks=all <"$WORK/lines" || { show console-producer >&2; die "kafka-console-producer failed"; }

log "kafka-console-consumer --from-beginning (no group)"
must console-all $T.consumer.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" --from-beginning \
  --max-messages 40 --timeout-ms 30000
[[ "$(grep -c '^line-' "$WORK/console-all.out")" -eq 40 ]] || { show console-all >&2; die "did not read the 40 lines"; }

log "kafka-console-consumer --group $GROUP: reads the 40 lines, commits"
must console-group1 $T.consumer.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" --group "$GROUP" \
  --from-beginning --max-messages 40 --timeout-ms 30000
[[ "$(grep -c '^line-' "$WORK/console-group1.out")" -eq 40 ]] || { show console-group1 >&2; die "the group did not read the 40 lines"; }

log "kafka-console-producer: 10 more; the group resumes with exactly those"
seq 40 49 | sed 's/^/line-/' | tool console-producer2 $T.ConsoleProducer --bootstrap-server "$BOOTSTRAP" \
  --topic "$TOPIC" --producer-property acks=all || { show console-producer2 >&2; die "kafka-console-producer failed"; }
must console-group2 $T.consumer.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" --group "$GROUP" \
  --max-messages 10 --timeout-ms 30000
[[ "$(grep '^line-' "$WORK/console-group2.out" | sort -t- -k2 -n | tr '\n' ' ')" == "$(seq 40 49 | sed 's/^/line-/' | tr '\n' ' ')" ]] \
  || { show console-group2 >&2; die "the restarted group did not resume with exactly lines 40-49"; }

log "kafka-consumer-groups --list, --describe"
must groups-list $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$BOOTSTRAP" --list
expect groups-list "^$GROUP\$" "--list does not show $GROUP"
must groups-describe $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$BOOTSTRAP" --describe --group "$GROUP"
show groups-describe
[[ "$(grep -cE "^$GROUP +$TOPIC +[0-9]+ +[0-9]+ +[0-9]+ +0 " "$WORK/groups-describe.out")" -eq 4 ]] \
  || die "--describe does not show 4 partitions with committed offsets and lag 0"

log "kafka-consumer-groups --reset-offsets --to-earliest --execute; the group reads all 50 again"
must groups-reset $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$BOOTSTRAP" --reset-offsets \
  --to-earliest --execute --group "$GROUP" --topic "$TOPIC"
show groups-reset
must console-group3 $T.consumer.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" --group "$GROUP" \
  --max-messages 50 --timeout-ms 30000
[[ "$(grep -c '^line-' "$WORK/console-group3.out")" -eq 50 ]] || { show console-group3 >&2; die "after the reset the group did not read all 50 lines"; }

log "kafka-get-offsets"
must get-offsets $T.GetOffsetShell --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC"
show get-offsets
total=$(awk -F: -v t="$TOPIC" '$1 == t { s += $3 } END { print s + 0 }' "$WORK/get-offsets.out")
((total == 50)) || die "kafka-get-offsets sums to $total, expected 50"

log "kafka-leader-election --election-type preferred --all-topic-partitions"
# Every partition led by its preferred replica already prints nothing (Kafka leaves partitions that
# need no election out of an all-partitions answer); any other outcome is printed, a failure exits 1.
must leader-election $T.LeaderElectionCommand --bootstrap-server "$BOOTSTRAP" --election-type preferred \
  --all-topic-partitions
show leader-election
if grep -q 'Error completing leader election' "$WORK/leader-election.out"; then die "kafka-leader-election failed"; fi

log "kafka-consumer-groups --delete"
must groups-delete $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$BOOTSTRAP" --delete --group "$GROUP"
expect groups-delete 'successful' "--delete did not report success"
must groups-list2 $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$BOOTSTRAP" --list
if grep -q "^$GROUP\$" "$WORK/groups-list2.out"; then die "$GROUP still listed after --delete"; fi

log "kafka-producer-perf-test: 50,000 records of 100 bytes"
must perf-produce $T.ProducerPerformance --topic "$TOPIC-perf" --num-records 50000 --record-size 100 \
  --throughput -1 --producer-props bootstrap.servers="$BOOTSTRAP" acks=all
tail -n 1 "$WORK/perf-produce.out" | sed 's/^/    /'
expect perf-produce '^50000 records sent' "kafka-producer-perf-test did not send 50,000 records"

log "kafka-consumer-perf-test: the same 50,000 records, in a group"
must perf-consume $T.ConsumerPerformance --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC-perf" --messages 50000 \
  --timeout 60000
show perf-consume
awk -F, 'NR > 1 && $5 + 0 >= 50000 { ok = 1 } END { exit !ok }' "$WORK/perf-consume.out" \
  || die "kafka-consumer-perf-test did not consume 50,000 records"

log "PASSED: Kafka's tools work against $BOOTSTRAP"
