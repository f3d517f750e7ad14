#!/usr/bin/env bash
# Kafka's own perf tools against Apache Kafka 4.4.0 or against raftmq's Kafka listeners, on the same
# machine, for docs/BENCHMARKS.md: 3 nodes on 127.0.0.1 (Kafka: KRaft combined mode,
# process.roles=broker,controller; raftmq: deploy/cluster.sh, built from this repository), Kafka's
# ProducerPerformance (= kafka-producer-perf-test) and EndToEndLatency (= kafka-e2e-latency), and
# AssignedConsumerPerformance (src/: Kafka's consumer with ConsumerPerformance's settings, assign()
# instead of a group, so that the fetch rate is measured without a group's join) on the workload of
# `raftmq perf`.
# The same client, tools and properties against both brokers: run them one after the other.
#
# Usage:   [TARGET=kafka|raftmq] deploy/kafka-compare/run.sh [PRODUCER_PROP=VALUE ...]
#   e.g.   deploy/kafka-compare/run.sh batch.size=131072
#          TARGET=raftmq deploy/kafka-compare/run.sh batch.size=131072
#          STEPS=failover TRIALS=5 KAFKA_FAILOVER_TIMEOUTS=1 deploy/kafka-compare/run.sh
# STEPS=failover runs, instead of the perf tools, KafkaFailoverTrial (broker-node's test classes,
# built with Maven): an idempotent kafka-clients producer at acks=all, kill -9 of the partition
# leader, every acknowledged record read back; TRIALS times, the killed node restarted between
# trials; VICTIM=leader (default: a partition leader that is not the active controller) or
# VICTIM=leader-and-controller. KAFKA_FAILOVER_TIMEOUTS=1 gives Kafka raftmq's failover timeouts (heartbeat 100 ms,
# session 600 ms, election timeout 300 ms, fetch timeout 600 ms) instead of its defaults.
#
# STEPS=groups TRIALS=5 deploy/kafka-compare/run.sh   (and TARGET=raftmq STEPS=groups TRIALS=5 ...)
# runs, instead of the perf tools, consumer-group rebalances with kafka-clients 4.4 (the same code
# against both brokers): GroupRebalanceBenchmark (src/) on topic group-bench (6 partitions, RF 3), a
# fresh group per trial, each member polling in its own thread, times from its
# ConsumerRebalanceListener callbacks: join (2 members balanced, a 3rd subscribes: until all 3 hold 2
# partitions each), leave (that member's close(): until the 2 survivors hold 3 each), crash (a member
# in a child JVM gets SIGKILL, a record is produced to one of its partitions: until a survivor reads
# it); for group.protocol=classic (client's default assignors) and group.protocol=consumer (KIP-848),
# median/min/max over TRIALS (default 5). First with Kafka's default timeouts (classic: the
# consumer's session.timeout.ms 45000, heartbeat.interval.ms 3000; consumer: the broker's
# group.consumer.session.timeout.ms 45000, group.consumer.heartbeat.interval.ms 5000), then the
# nodes are restarted with group.consumer.session.timeout.ms=GROUP_SHORT_SESSION_MS (default 6000,
# Kafka's and raftmq's group.min.session.timeout.ms) and group.consumer.heartbeat.interval.ms=
# GROUP_SHORT_HEARTBEAT_MS (default 2000), and the classic consumers ask for the same two values.
# Broker settings: Kafka's in server.properties (with group.consumer.min.session.timeout.ms and
# group.consumer.min.heartbeat.interval.ms lowered to match), raftmq's as RAFTMQ_* environment
# variables of deploy/cluster.sh's nodes. Both brokers get group.initial.rebalance.delay.ms=
# GROUP_INITIAL_REBALANCE_DELAY_MS (default 0, as Kafka's config/server.properties template; the
# broker defaults are Kafka 3000, raftmq 300): it delays only a classic group's first rebalance,
# i.e. ConsumerPerformance's. Before the rebalances, ConsumerPerformance (kafka-consumer-perf-test)
# with --group reads NUM_RECORDS x RECORD_SIZE records that ProducerPerformance (acks=all) wrote to
# topic group-perf (3 partitions, RF 3), once per group.protocol: MB.sec and rebalance.time.ms.
# SECURITY=SSL deploy/kafka-compare/run.sh batch.size=131072   (and TARGET=raftmq SECURITY=SSL ...)
# runs the perf steps with TLS on every connection, certificates from deploy/certs.sh in the data
# dir. Kafka: the client/inter-broker listener SSL (ssl.client.auth=requested) and the controller
# listener SSL with client certificates required; raftmq: the Kafka listener SSL, the gRPC port SSL
# (node-to-node replication and metadata, node certificates); its Raft port is mutual TLS in every
# mode. The tools trust the CA (security.protocol=SSL, ssl.truststore.*), no client certificate.
# Default SECURITY=PLAINTEXT: Kafka all plaintext; raftmq plaintext but for the Raft port.
# Env:     TARGET (default kafka), NUM_RECORDS (default 1000000), RECORD_SIZE (default 100),
#          E2E_RECORDS (default 10000), START_TIMEOUT (s, default 120), KEEP_DATA=1 (do not delete
#          the data dir)
# The first run resolves Kafka's jars with Maven (pom.xml here, from Maven's own configuration) into
# target/libs. Stop any other cluster first: two on two cores measure nothing. With TARGET=raftmq
# the nodes are deploy/cluster.sh's (Kafka listeners 127.0.0.1:9092/9192/9292), started fresh in a
# data dir under target/ and cleaned up afterwards; the steps below marked (Kafka) are skipped.
#
# Steps: fresh data dir -> kafka-storage format (Kafka; static quorum, controller.quorum.voters) ->
# start nodes 1-3 -> wait until DescribeCluster lists brokers 1,2,3 (registered + unfenced) ->
# create topic perf-bench with kafka-topics (3 partitions, RF 3, min.insync.replicas=2) -> producer
# perf test with acks=all, then acks=1 (same topic) -> consumer reading both runs' records ->
# EndToEndLatency (E2E_RECORDS, default 10,000, acks=all, topic e2e-bench: 1 partition, RF 3) -> print
# each final summary line -> stop all nodes (trap: also on failure / Ctrl-C) and delete the data
# dir. Logs are kept under target/logs/run-*/.
#
# Ports (clear of raftmq's local cluster, 9092-9094, 9192-9194, 9292-9294, 8080/8180/8280):
#   node N: client (PLAINTEXT) 1909(1+N) -> 19092/19093/19094, controller 1919(1+N) -> 19192/19193/19194
#
# JVM flags for the nodes = what bin/kafka-server-start.sh + bin/kafka-run-class.sh use by default:
#   KAFKA_HEAP_OPTS            -Xmx1G -Xms1G                              (kafka-server-start.sh)
#   KAFKA_JVM_PERFORMANCE_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
#                              -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
#                              -Djava.awt.headless=true                   (kafka-run-class.sh)
#   KAFKA_GC_LOG_OPTS          -Xlog:gc*:file=<logdir>/kafkaServer-gc.log:time,tags:filecount=10,filesize=100M
#   KAFKA_JMX_OPTS             -Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false
#                              -Dcom.sun.management.jmxremote.ssl=false   (kafka-run-class.sh; no JMX port)
#   only the log4j2 config differs (WARN to a file, see config/log4j2-broker.properties).
# Perf tool JVMs: -Xmx512M (kafka-producer-perf-test.sh) + the same performance opts.
# Other tools (format, topics): -Xmx256M (kafka-run-class.sh default) + the same performance opts.
set -euo pipefail

BASE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$BASE/target"
LIBS="$WORK/libs"
CP="$LIBS/*"
NUM_RECORDS="${NUM_RECORDS:-1000000}"
RECORD_SIZE="${RECORD_SIZE:-100}"
START_TIMEOUT="${START_TIMEOUT:-120}"
TOPIC=perf-bench
NODES=(1 2 3)
TARGET="${TARGET:-kafka}"
SECURITY="${SECURITY:-PLAINTEXT}"
ROOT="$(cd "$BASE/../.." && pwd)"
case "$TARGET" in
  kafka)
    client_port() { echo $((19091 + $1)); }
    controller_port() { echo $((19191 + $1)); }
    BOOTSTRAP="127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094" ;;
  raftmq)
    client_port() { echo $((9092 + 100 * ($1 - 1))); }
    controller_port() { echo $((9095 + 100 * ($1 - 1))); }
    BOOTSTRAP="127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292" ;;
  *) echo "TARGET must be kafka or raftmq, not '$TARGET'" >&2; exit 2 ;;
esac
case "$SECURITY" in
  PLAINTEXT|SSL) ;;
  *) echo "SECURITY must be PLAINTEXT or SSL, not '$SECURITY'" >&2; exit 2 ;;
esac
if [ "$SECURITY" = SSL ] && [ "${STEPS:-perf}" != perf ]; then
  echo "SECURITY=SSL is for the perf steps (STEPS unset), not STEPS=$STEPS" >&2; exit 2
fi
VOTERS="1@127.0.0.1:19192,2@127.0.0.1:19193,3@127.0.0.1:19194"

PERF_OPTS="-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true"
JMX_OPTS="-Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
NODE_HEAP="-Xmx1G -Xms1G"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# ---- arguments: extra producer props, key=value -------------------------------------------------
EXTRA_PROPS=()
for a in "$@"; do
  [[ "$a" == *=* ]] || die "argument '$a' is not PROP=VALUE"
  case "${a%%=*}" in
    acks|bootstrap.servers) die "'${a%%=*}' is set by the script (acks=all then acks=1); do not pass it" ;;
  esac
  EXTRA_PROPS+=("$a")
done

# ---- preconditions -------------------------------------------------------------------------------
if [ ! -e "$LIBS/kafka_2.13-4.4.0.jar" ] || [ ! -e "$LIBS/kafka-tools-4.4.0.jar" ]; then
  log "resolving Kafka 4.4.0's jars into $LIBS (once)"
  mvn -B -q -f "$BASE/pom.xml" dependency:copy-dependencies -DoutputDirectory="$LIBS" -DincludeScope=runtime \
    || die "could not resolve Kafka's jars with Maven"
fi
command -v java >/dev/null || die "java not found"

mkdir -p "$WORK"
exec 9>"$WORK/.run.lock"
flock -n 9 || die "another run.sh is active (lock $WORK/.run.lock)"

for n in "${NODES[@]}"; do
  for port in "$(client_port "$n")" "$(controller_port "$n")"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port is already in use"
    fi
  done
done

if [ ! -e "$WORK/classes/WaitForBrokers.class" ] || [ ! -e "$WORK/classes/AssignedConsumerPerformance.class" ] \
    || [ ! -e "$WORK/classes/GroupRebalanceBenchmark.class" ] \
    || [ -n "$(find "$BASE/src" -newer "$WORK/classes/AssignedConsumerPerformance.class" -print -quit)" ]; then
  mkdir -p "$WORK/classes"
  javac -cp "$CP" -d "$WORK/classes" "$BASE"/src/*.java
fi

# ---- consumer-group settings (STEPS=groups only; the other steps run with the brokers' defaults) ---
GROUP_SHORT_SESSION_MS="${GROUP_SHORT_SESSION_MS:-6000}"
GROUP_SHORT_HEARTBEAT_MS="${GROUP_SHORT_HEARTBEAT_MS:-2000}"
GROUP_INITIAL_REBALANCE_DELAY_MS="${GROUP_INITIAL_REBALANCE_DELAY_MS:-0}"
GROUP_PROPS=""     # Kafka: lines of server.properties
RAFTMQ_GROUP_ENV=() # raftmq: environment of deploy/cluster.sh's nodes
group_config() { # group_config SESSION_MS HEARTBEAT_MS: the brokers' consumer-protocol timeouts
  GROUP_PROPS="group.initial.rebalance.delay.ms=$GROUP_INITIAL_REBALANCE_DELAY_MS
group.consumer.session.timeout.ms=$1
group.consumer.min.session.timeout.ms=$1
group.consumer.heartbeat.interval.ms=$2
group.consumer.min.heartbeat.interval.ms=$2"
  RAFTMQ_GROUP_ENV=("RAFTMQ_GROUP_INITIAL_REBALANCE_DELAY_MS=$GROUP_INITIAL_REBALANCE_DELAY_MS"
    "RAFTMQ_GROUP_CONSUMER_SESSION_TIMEOUT_MS=$1" "RAFTMQ_GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS=$2")
}
[ "${STEPS:-perf}" = groups ] && group_config 45000 5000

RUN_ID="$(date +%Y%m%d-%H%M%S)-$$"
DATA="$WORK/data-$RUN_ID"
LOGS="$WORK/logs/run-$RUN_ID"
mkdir -p "$DATA" "$LOGS"

# ---- TLS (SECURITY=SSL): certificates in $DATA/tls, the tools' settings in $CLIENT_CONFIG ---------
# raftmq's deploy/cluster.sh makes its certificates in $RAFTMQ_HOME/tls (= $DATA/tls) at start;
# for Kafka this script makes them the same way before the configs are written.
TLS_DIR="$DATA/tls"
CLIENT_CONFIG="$DATA/client.properties"
: >"$CLIENT_CONFIG"
CLIENT_PROPS=() # the same settings as key=value arguments
write_client_config() {
  [ "$SECURITY" = SSL ] || return 0
  [ -s "$TLS_DIR/store-password" ] || die "no TLS material in $TLS_DIR"
  cat >"$CLIENT_CONFIG" <<EOF
security.protocol=SSL
ssl.truststore.location=$TLS_DIR/truststore.p12
ssl.truststore.password=$(cat "$TLS_DIR/store-password")
ssl.truststore.type=PKCS12
EOF
  mapfile -t CLIENT_PROPS <"$CLIENT_CONFIG"
}

# ---- cleanup: always stop what we started and delete the data dir --------------------------------
# Kafka nodes are started by $LOGS/nodeN/start.sh, which writes $DATA/node-N.pid (a trial restarts
# a killed node the same way), so the current pid of each node is in that file.
declare -A NODE_PID=()
node_pids() { for n in "${NODES[@]}"; do [ -f "$DATA/node-$n.pid" ] && NODE_PID[$n]="$(cat "$DATA/node-$n.pid")"; done; }
TOOL_PID=""
fmt_pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in "$TOOL_PID" ${fmt_pids[@]+"${fmt_pids[@]}"}; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
  done
  if [ "$TARGET" = raftmq ] && [ -d "$DATA" ]; then
    log "stopping the raftmq cluster"
    RAFTMQ_HOME="$DATA" "$ROOT/deploy/cluster.sh" stop >/dev/null 2>&1 || true
    cp "$DATA"/node-*.log "$LOGS/" 2>/dev/null || true
  fi
  local pids=()
  [ "$TARGET" = kafka ] && node_pids
  for n in "${!NODE_PID[@]}"; do
    local p="${NODE_PID[$n]}"
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null || true; pids+=("$p"); fi
  done
  if [ ${#pids[@]} -gt 0 ]; then
    local t0=$SECONDS
    log "stopping nodes (pids ${pids[*]}, SIGTERM, SIGKILL after 20 s)"
    for p in "${pids[@]}"; do
      while kill -0 "$p" 2>/dev/null && [ $((SECONDS - t0)) -lt 20 ]; do sleep 0.2; done
      if kill -0 "$p" 2>/dev/null; then log "node pid $p still up after 20 s: SIGKILL"; kill -9 "$p" 2>/dev/null || true; fi
    done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    log "nodes stopped after $((SECONDS - t0)) s"
  fi
  if [ "${KEEP_DATA:-0}" = 1 ]; then log "data kept in $DATA"; else rm -rf "$DATA"; fi
  [ $rc -ne 0 ] && log "FAILED (rc=$rc); logs in $LOGS" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Kafka tool JVMs are tracked in TOOL_PID (not run in a subshell) so the trap can kill them.
start_tool() { # start_tool HEAP LOGFILE class args...   (background; pid in TOOL_PID; CPU in LOGFILE.cpu)
  local heap="$1" out="$2"; shift 2
  # shellcheck disable=SC2086
  /usr/bin/time -f '%U %S' -o "$out.cpu" java $heap $PERF_OPTS -Dkafka.logs.dir="$LOGS" -Dlog4j2.configurationFile="$BASE/config/log4j2-tools.properties" \
    -cp "$WORK/classes:$CP" "$@" >"$out" 2>&1 </dev/null &
  TOOL_PID=$!
}
run_tool() { # run_tool HEAP LOGFILE class args...   (foreground)
  start_tool "$@"
  local rc=0
  wait "$TOOL_PID" || rc=$?
  TOOL_PID=""
  return $rc
}
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
# shellcheck source=deploy/kafka-compare/cpu.sh
source "$BASE/cpu.sh"
CPU_PID_DIR="$DATA"

if [ "$TARGET" = raftmq ]; then
  # ---- raftmq: deploy/cluster.sh in a fresh data dir ----------------------------------------------
  log "raftmq (deploy/cluster.sh), data $DATA, logs $LOGS"
  t_start=$(date +%s.%N)
  RAFTMQ_TLS_ENV=()
  [ "$SECURITY" = SSL ] && RAFTMQ_TLS_ENV=(RAFTMQ_KAFKA_LISTENER_SECURITY_PROTOCOL=SSL
    RAFTMQ_SSL_CLIENT_AUTH=none RAFTMQ_GRPC_LISTENER_SECURITY_PROTOCOL=SSL)
  env RAFTMQ_HOME="$DATA" ${RAFTMQ_GROUP_ENV[@]+"${RAFTMQ_GROUP_ENV[@]}"} ${RAFTMQ_TLS_ENV[@]+"${RAFTMQ_TLS_ENV[@]}"} \
    "$ROOT/deploy/cluster.sh" start >"$LOGS/cluster-start.out" 2>&1 \
    || { cat "$LOGS/cluster-start.out" >&2; die "the raftmq cluster did not start"; }
  write_client_config
  run_tool -Xmx256M "$LOGS/wait.out" WaitForBrokers "$BOOTSTRAP" 3 "$START_TIMEOUT" ${CLIENT_PROPS[@]+"${CLIENT_PROPS[@]}"} \
    || { cat "$LOGS/wait.out" >&2; die "the Kafka listeners did not list 3 brokers within ${START_TIMEOUT} s"; }
  log "$(cat "$LOGS/wait.out"); start (launch -> 3 brokers registered): $(elapsed "$t_start") s"
else
# ---- configs -------------------------------------------------------------------------------------
# Cluster id: 16 random bytes, base64url without padding (what kafka-storage random-uuid prints);
# like Uuid.randomUuid(), avoid a leading '-'.
CLUSTER_ID=""
while [ -z "$CLUSTER_ID" ] || [[ "$CLUSTER_ID" == -* ]]; do
  CLUSTER_ID="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
done

if [ "${KAFKA_FAILOVER_TIMEOUTS:-0}" = 1 ]; then
  FAILOVER_PROPS="broker.heartbeat.interval.ms=100
broker.session.timeout.ms=600
controller.quorum.election.timeout.ms=300
controller.quorum.fetch.timeout.ms=600"
else
  FAILOVER_PROPS=""
fi
if [ "$SECURITY" = SSL ]; then
  "$ROOT/deploy/certs.sh" "$TLS_DIR" --nodes "$(IFS=,; echo "${NODES[*]}")" >"$LOGS/certs.out" 2>&1 \
    || { cat "$LOGS/certs.out" >&2; die "deploy/certs.sh failed"; }
  write_client_config
  CLIENT_LISTENER=SSL
else
  CLIENT_LISTENER=PLAINTEXT
fi
kafka_tls_props() { # kafka_tls_props N: node N's TLS settings (SECURITY=SSL), else nothing
  [ "$SECURITY" = SSL ] || return 0
  local password; password="$(cat "$TLS_DIR/store-password")"
  cat <<EOF
ssl.keystore.location=$TLS_DIR/node-$1.p12
ssl.keystore.password=$password
ssl.key.password=$password
ssl.keystore.type=PKCS12
ssl.truststore.location=$TLS_DIR/truststore.p12
ssl.truststore.password=$password
ssl.truststore.type=PKCS12
ssl.client.auth=requested
listener.name.controller.ssl.client.auth=required
EOF
}
for n in "${NODES[@]}"; do
  mkdir -p "$LOGS/node$n"
  cat >"$LOGS/node$n/server.properties" <<EOF
# Kafka 4.4.0 KRaft combined node $n (generated by run.sh); other settings as in Kafka's config/server.properties
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$VOTERS
listeners=$CLIENT_LISTENER://127.0.0.1:$(client_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=$CLIENT_LISTENER://127.0.0.1:$(client_port "$n")
inter.broker.listener.name=$CLIENT_LISTENER
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:$CLIENT_LISTENER,$CLIENT_LISTENER:$CLIENT_LISTENER
$(kafka_tls_props "$n")
log.dirs=$DATA/node$n
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=3
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
$FAILOVER_PROPS
$GROUP_PROPS
EOF
  # shellcheck disable=SC2086
  cat >"$LOGS/node$n/start.sh" <<EOF
#!/usr/bin/env bash
# Starts Kafka node $n in the background, as run.sh did first; writes its pid to $DATA/node-$n.pid.
java $NODE_HEAP $PERF_OPTS -Xlog:gc*:file="$LOGS/node$n/kafkaServer-gc.log":time,tags:filecount=10,filesize=100M \\
  $JMX_OPTS -Dkafka.logs.dir="$LOGS/node$n" -Dlog4j2.configurationFile="$BASE/config/log4j2-broker.properties" \\
  -cp "$CP" kafka.Kafka "$LOGS/node$n/server.properties" >>"$LOGS/node$n/kafkaServer.out" 2>&1 </dev/null &
echo \$! >"$DATA/node-$n.pid"
EOF
done

# ---- format (3 tool JVMs in parallel) ------------------------------------------------------------
log "Kafka 4.4.0, cluster id $CLUSTER_ID, data $DATA, logs $LOGS"
t_fmt=$(date +%s.%N)
for n in "${NODES[@]}"; do
  # shellcheck disable=SC2086
  java -Xmx256M $PERF_OPTS -Dkafka.logs.dir="$LOGS" -Dlog4j2.configurationFile="$BASE/config/log4j2-tools.properties" \
    -cp "$CP" kafka.tools.StorageTool format --config "$LOGS/node$n/server.properties" --cluster-id "$CLUSTER_ID" \
    >"$LOGS/node$n/format.out" 2>&1 </dev/null &
  fmt_pids+=($!)
done
for i in "${!fmt_pids[@]}"; do
  wait "${fmt_pids[$i]}" || { fmt_pids=(); cat "$LOGS/node${NODES[$i]}/format.out" >&2; die "format of node ${NODES[$i]} failed"; }
done
fmt_pids=()
log "storage formatted in $(elapsed "$t_fmt") s"

# ---- start the nodes -----------------------------------------------------------------------------
t_start=$(date +%s.%N)
for n in "${NODES[@]}"; do
  bash "$LOGS/node$n/start.sh"
done
node_pids
log "started node pids: 1=${NODE_PID[1]} 2=${NODE_PID[2]} 3=${NODE_PID[3]}"

# Wait until DescribeCluster lists 3 brokers (registered and unfenced); fail fast if a node dies.
start_tool -Xmx256M "$LOGS/wait.out" WaitForBrokers "$BOOTSTRAP" 3 "$START_TIMEOUT" ${CLIENT_PROPS[@]+"${CLIENT_PROPS[@]}"}
while kill -0 "$TOOL_PID" 2>/dev/null; do
  for n in "${NODES[@]}"; do
    if ! kill -0 "${NODE_PID[$n]}" 2>/dev/null; then
      tail -n 30 "$LOGS/node$n/kafkaServer.out" "$LOGS/node$n/server.log" >&2 2>/dev/null || true
      die "node $n exited during startup"
    fi
  done
  sleep 0.2
done
rc=0; wait "$TOOL_PID" || rc=$?; TOOL_PID=""
[ $rc -eq 0 ] || { cat "$LOGS/wait.out" >&2; die "brokers did not all register within ${START_TIMEOUT} s"; }
log "$(cat "$LOGS/wait.out"); start (launch -> 3 brokers registered): $(elapsed "$t_start") s"
fi

# ---- failover trials instead of the perf tools --------------------------------------------------------
if [ "${STEPS:-perf}" = failover ]; then
  log "failover trials: building broker-node's test classes and their classpath (Maven)"
  (cd "$ROOT" && mvn -B -q -pl broker-node -am -DskipTests package dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/failover.classpath) >"$LOGS/maven.out" 2>&1 \
    || { tail -n 30 "$LOGS/maven.out" >&2; die "building the failover trial failed"; }
  TRIAL_CP="$ROOT/broker-node/target/test-classes:$ROOT/broker-node/target/classes:$(cat "$ROOT/broker-node/target/failover.classpath")"
  if [ "$TARGET" = raftmq ]; then
    KILL="RAFTMQ_HOME='$DATA' '$ROOT/deploy/cluster.sh' kill {id} >/dev/null"
    RESTART="RAFTMQ_HOME='$DATA' '$ROOT/deploy/cluster.sh' restart {id} >/dev/null"
  else
    KILL="kill -9 \$(cat '$DATA/node-{id}.pid')"
    RESTART="bash '$LOGS/node{id}/start.sh'"
  fi
  out="$LOGS/failover.out"
  log "failover: ${TRIALS:-5} trials, kill -9 of the partition leader (${VICTIM:-leader}) under an idempotent acks=all producer"
  # shellcheck disable=SC2086
  java -Xmx512m $PERF_OPTS -cp "$TRIAL_CP" io.raftmq.node.KafkaFailoverTrial --bootstrap "$BOOTSTRAP" \
    --trials "${TRIALS:-5}" --victim "${VICTIM:-leader}" --kill-command "$KILL" --restart-command "$RESTART" \
    >"$out" 2>&1 || FAILED_TRIAL=1
  echo
  echo "=== $([ "$TARGET" = raftmq ] && echo "raftmq (Kafka listener)" || echo "Kafka 4.4.0$([ "${KAFKA_FAILOVER_TIMEOUTS:-0}" = 1 ] && echo ", raftmq's failover timeouts")"), failover through kafka-clients"
  grep -E '^(trial|  )' "$out" || tail -n 20 "$out"
  echo
  [ -z "${FAILED_TRIAL:-}" ] || die "a trial lost, duplicated or misplaced an acknowledged record (see $out)"
  exit 0
fi

# ---- consumer-group rebalances instead of the perf tools ----------------------------------------------
# Restarts all nodes with the group settings group_config last set (data kept).
restart_nodes() {
  local t0=$SECONDS
  if [ "$TARGET" = raftmq ]; then
    RAFTMQ_HOME="$DATA" "$ROOT/deploy/cluster.sh" stop >>"$LOGS/cluster-restart.out" 2>&1
    env RAFTMQ_HOME="$DATA" "${RAFTMQ_GROUP_ENV[@]}" "$ROOT/deploy/cluster.sh" start >>"$LOGS/cluster-restart.out" 2>&1 \
      || { tail -n 30 "$LOGS/cluster-restart.out" >&2; die "the raftmq cluster did not restart"; }
  else
    node_pids
    local n p
    for n in "${NODES[@]}"; do kill -TERM "${NODE_PID[$n]}" 2>/dev/null || true; done
    for n in "${NODES[@]}"; do
      p="${NODE_PID[$n]}"
      while kill -0 "$p" 2>/dev/null && [ $((SECONDS - t0)) -lt 30 ]; do sleep 0.2; done
      if kill -0 "$p" 2>/dev/null; then log "node $n (pid $p) still up after 30 s: SIGKILL"; kill -9 "$p" 2>/dev/null || true; fi
      while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
    done
    for n in "${NODES[@]}"; do
      sed -i '/^group\./d' "$LOGS/node$n/server.properties"
      printf '%s\n' "$GROUP_PROPS" >>"$LOGS/node$n/server.properties"
      bash "$LOGS/node$n/start.sh"
    done
    node_pids
  fi
  run_tool -Xmx256M "$LOGS/wait-restart.out" WaitForBrokers "$BOOTSTRAP" 3 "$START_TIMEOUT" \
    || { cat "$LOGS/wait-restart.out" >&2; die "the brokers did not all register again within ${START_TIMEOUT} s"; }
  log "nodes restarted in $((SECONDS - t0)) s: $(cat "$LOGS/wait-restart.out")"
}

if [ "${STEPS:-perf}" = groups ]; then
  TRIALS="${TRIALS:-5}"
  GROUP_ROWS=()
  PERF_ROWS=()
  GROUP_FAILED=""
  # 5. ConsumerPerformance with a group, once per group.protocol, over ProducerPerformance's records.
  run_tool -Xmx256M "$LOGS/group-perf-topic.out" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
    --create --topic group-perf --partitions 3 --replication-factor 3 --config min.insync.replicas=2 \
    || { cat "$LOGS/group-perf-topic.out" >&2; die "topic creation failed"; }
  out="$LOGS/group-perf-producer.out"
  log "producer perf: acks=all, $NUM_RECORDS x $RECORD_SIZE B to group-perf"
  run_tool -Xmx512M "$out" org.apache.kafka.tools.ProducerPerformance --topic group-perf \
    --num-records "$NUM_RECORDS" --record-size "$RECORD_SIZE" --throughput -1 \
    --producer-props "bootstrap.servers=$BOOTSTRAP" acks=all \
    || { tail -n 30 "$out" >&2; die "producer perf test failed"; }
  for proto in classic consumer; do
    out="$LOGS/group-perf-consumer-$proto.out"
    log "consumer perf with --group, group.protocol=$proto: $NUM_RECORDS records"
    if run_tool -Xmx512M "$out" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$BOOTSTRAP" \
        --topic group-perf --num-records "$NUM_RECORDS" --group "perf-$proto-$RUN_ID" --timeout 60000 \
        --command-property "group.protocol=$proto"; then
      # start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
      # rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
      PERF_ROWS+=("$(awk -F', *' -v p="$proto" 'NF >= 10 && $4 ~ /^[0-9.]+$/ { line = sprintf("  %-8s %10d records  MB.sec %9s  rebalance.time.ms %6s  fetch.MB.sec %9s", p, $5, $4, $7, $9) } END { print line }' "$out")")
    else
      tail -n 20 "$out" >&2; GROUP_FAILED=1; PERF_ROWS+=("  $proto: FAILED (see $out)")
    fi
  done
  # 1-4. Rebalances: Kafka's default timeouts, then the short ones after a restart.
  group_bench() { # group_bench PHASE PROTOCOL SESSION_MS HEARTBEAT_MS
    local out="$LOGS/groups-$1-$2.out"
    log "rebalances, group.protocol=$2, $1 timeouts (session $3 ms, heartbeat $4 ms; 0 = client default), $TRIALS trials"
    run_tool -Xmx512M "$out" GroupRebalanceBenchmark "$BOOTSTRAP" "$2" "$3" "$4" "$TRIALS" || GROUP_FAILED=1
    grep -E '^\[' "$out" | sed 's/^/    /' || true
    local rows; rows="$(grep -E '^(classic|consumer) ' "$out" || true)"
    [ -n "$rows" ] || { tail -n 20 "$out" >&2; GROUP_FAILED=1; return 0; }
    GROUP_ROWS+=("$rows")
  }
  group_bench default classic 0 0
  group_bench default consumer 45000 5000
  log "restarting the nodes with group.consumer.session.timeout.ms=$GROUP_SHORT_SESSION_MS, group.consumer.heartbeat.interval.ms=$GROUP_SHORT_HEARTBEAT_MS"
  group_config "$GROUP_SHORT_SESSION_MS" "$GROUP_SHORT_HEARTBEAT_MS"
  restart_nodes
  group_bench short classic "$GROUP_SHORT_SESSION_MS" "$GROUP_SHORT_HEARTBEAT_MS"
  group_bench short consumer "$GROUP_SHORT_SESSION_MS" "$GROUP_SHORT_HEARTBEAT_MS"

  echo
  echo "=== $([ "$TARGET" = raftmq ] && echo "raftmq (Kafka listener)" || echo "Kafka 4.4.0"), 3 nodes combined, consumer groups through kafka-clients 4.4; brokers: group.initial.rebalance.delay.ms=$GROUP_INITIAL_REBALANCE_DELAY_MS"
  echo "Rebalances: topic group-bench (6 partitions, RF 3), a fresh group per trial, $TRIALS trials; session/heartbeat:"
  echo "classic = the consumer's session.timeout.ms/heartbeat.interval.ms, consumer = the broker's group.consumer.*"
  java -cp "$WORK/classes:$CP" GroupRebalanceBenchmark --header
  for r in "${GROUP_ROWS[@]}"; do echo "$r"; done
  echo "ConsumerPerformance --group (kafka-consumer-perf-test), group-perf: 3 partitions, RF 3, $NUM_RECORDS x $RECORD_SIZE B (acks=all):"
  for r in "${PERF_ROWS[@]}"; do echo "$r"; done
  echo
  [ -z "$GROUP_FAILED" ] || die "a group trial or tool failed (logs in $LOGS)"
  exit 0
fi

# ---- topic ---------------------------------------------------------------------------------------
run_tool -Xmx256M "$LOGS/topic-create.out" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
  --command-config "$CLIENT_CONFIG" --create --topic "$TOPIC" --partitions 3 --replication-factor 3 --config min.insync.replicas=2 \
  || { cat "$LOGS/topic-create.out" >&2; die "topic creation failed"; }
log "$(head -n1 "$LOGS/topic-create.out")"

# ---- producer perf test: acks=all, then acks=1 ---------------------------------------------------
SUMMARY=()
for acks in all 1; do
  out="$LOGS/producer-acks-$acks.out"
  log "producer perf: acks=$acks, $NUM_RECORDS x $RECORD_SIZE B, throughput unthrottled, extra props: ${EXTRA_PROPS[*]:-none}"
  before="$(nodes_cpu "$CPU_PID_DIR")"
  run_tool -Xmx512M "$out" org.apache.kafka.tools.ProducerPerformance --topic "$TOPIC" \
    --num-records "$NUM_RECORDS" --record-size "$RECORD_SIZE" --throughput -1 \
    --producer.config "$CLIENT_CONFIG" \
    --producer-props "bootstrap.servers=$BOOTSTRAP" "acks=$acks" ${EXTRA_PROPS[@]+"${EXTRA_PROPS[@]}"} \
    || { tail -n 30 "$out" >&2; die "producer perf test (acks=$acks) failed"; }
  line="$(grep -E 'records sent, .* 50th' "$out" | tail -n1 || true)"
  [ -n "$line" ] || { tail -n 30 "$out" >&2; die "no summary line in $out"; }
  SUMMARY+=("acks=$acks: $line $(cpu_line "$out" "$before")")
done

out="$LOGS/consumer.out"
log "consumer perf: $((2 * NUM_RECORDS)) records (what the two producer runs wrote), assign()"
before="$(nodes_cpu "$CPU_PID_DIR")"
run_tool -Xmx512M "$out" AssignedConsumerPerformance "$BOOTSTRAP" "$TOPIC" "$((2 * NUM_RECORDS))" 60000 \
  ${CLIENT_PROPS[@]+"${CLIENT_PROPS[@]}"} \
  || { tail -n 30 "$out" >&2; }
SUMMARY+=("consume: $(tail -n1 "$out") $(cpu_line "$out" "$before")")

# ---- end-to-end latency: one record at a time, acks=all, on a 1-partition RF 3 topic ------------------
run_tool -Xmx256M "$LOGS/e2e-topic-create.out" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
  --command-config "$CLIENT_CONFIG" --create --topic e2e-bench --partitions 1 --replication-factor 3 --config min.insync.replicas=2 \
  || { cat "$LOGS/e2e-topic-create.out" >&2; die "topic creation failed"; }
out="$LOGS/e2e.out"
log "end-to-end latency: ${E2E_RECORDS:-10000} records, acks=all"
run_tool -Xmx512M "$out" org.apache.kafka.tools.EndToEndLatency --bootstrap-server "$BOOTSTRAP" --topic e2e-bench \
  --num-records "${E2E_RECORDS:-10000}" --producer-acks all --record-size "$RECORD_SIZE" \
  --command-config "$CLIENT_CONFIG" || { tail -n 30 "$out" >&2; }
SUMMARY+=("e2e: $(grep -E 'Avg latency|Percentiles' "$out" | tr '\n' ' ')")

echo
echo "=== $([ "$TARGET" = raftmq ] && echo "raftmq (Kafka listener)" || echo "Kafka 4.4.0"), SECURITY=$SECURITY, 3 nodes combined, topic $TOPIC (3 partitions, RF 3, min.insync.replicas=2), extra props: ${EXTRA_PROPS[*]:-none}"
for s in "${SUMMARY[@]}"; do echo "$s"; done
echo
