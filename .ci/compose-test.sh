#!/usr/bin/env bash
# The docker-compose test on a real Docker engine: build the node image, bring docker-compose.yml up,
# run the Kafka clients' check (.ci/kafka-clients-check.sh: the kafka-python seed demo and kcat)
# against the published Kafka ports, and through the published gRPC ports create an RF 3 topic, produce with acks=all without pause, kill the
# partition leader's container, check that production resumes and that every acknowledged record is
# read back, start the container again. Then the secured variant (docker-compose.secure.yml over a
# fresh set of volumes): once `up -d` returns (every node healthy and the SCRAM user admin made),
# kcat produces and consumes over SASL_SSL as admin, a plaintext client and a wrong password are
# refused, and the raftmq CLI lists the users over the gRPC port's SASL_SSL as admin (SCRAM-SHA-512).
# Tear everything down.
#
# Runs on a machine that can reach no image registry: it installs Debian's docker.io and
# docker-compose if missing, starts its own dockerd (and stops it afterwards) unless one already
# answers, and builds a Java 17 base image with debootstrap from the machine's Debian mirror (kept in
# the engine's data root, so later runs reuse it). Needs root. Run by .ci/run after the Maven tests,
# or on its own:
#
#   sudo .ci/compose-test.sh
#
# Environment: RAFTMQ_BASE_IMAGE   a Java 17 base image the engine already has (skips debootstrap)
#              RAFTMQ_MVN_FLAGS    extra Maven flags (e.g. -o)
#              RAFTMQ_KEEP_CLUSTER=1  leave the cluster running at the end (for a look around)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STATE_DIR=/var/lib/raftmq-compose-test     # our dockerd's data root (images, volumes), base rootfs
RUN_DIR=/run/raftmq-compose-test           # our dockerd's socket, pid file, exec root
BASE_GIVEN="${RAFTMQ_BASE_IMAGE:+1}"
BASE_IMAGE="${RAFTMQ_BASE_IMAGE:-raftmq-ci-base:bookworm-jre17}"
IMAGE_TAG=compose-test
TOPIC=compose-test
MVN_FLAGS="${RAFTMQ_MVN_FLAGS:-}"
STATE_LOG_DIR="$ROOT/run/compose-test"      # logs of the steps that print a lot

export COMPOSE_PROJECT_NAME=raftmq-compose-test
export COMPOSE_FILE="$ROOT/docker-compose.yml"
export RAFTMQ_IMAGE_TAG="$IMAGE_TAG"
export RAFTMQ_BASE_IMAGE="$BASE_IMAGE"

STARTED_DOCKERD_PID=""
CLUSTER_UP=0
FAILED=1
declare -a TIMINGS=()
PHASE_START=$SECONDS
PHASE=""

log() { echo "[compose-test $(date +%T)] $*"; }
die() { log "FAILED: $*" >&2; exit 1; }

phase() {
  if [[ -n "$PHASE" ]]; then
    TIMINGS+=("$(printf '%-34s %4d s' "$PHASE" $((SECONDS - PHASE_START)))")
  fi
  PHASE="$1"
  PHASE_START=$SECONDS
  [[ -n "$PHASE" ]] && log "== $PHASE"
  return 0
}

cleanup() {
  local status=$?
  set +e
  if ((CLUSTER_UP)); then
    if ((FAILED)); then
      log "the last 150 log lines of each node:"
      docker-compose logs --no-color --tail=150 certs node1 node2 node3 2>&1 | sed 's/^/    /'
    fi
    if [[ "${RAFTMQ_KEEP_CLUSTER:-0}" == 1 ]]; then
      log "RAFTMQ_KEEP_CLUSTER=1: the cluster keeps running; to stop it: DOCKER_HOST=${DOCKER_HOST:-} \\"
      log "  docker-compose -p $COMPOSE_PROJECT_NAME down -v${STARTED_DOCKERD_PID:+; kill $STARTED_DOCKERD_PID}"
      STARTED_DOCKERD_PID=""
    else
      phase "docker-compose down -v"
      timeout 120 docker-compose down -v -t 20 >/dev/null 2>&1 || log "docker-compose down failed"
      docker image rm "raftmq-node:$IMAGE_TAG" >/dev/null 2>&1
    fi
  fi
  if [[ -n "$STARTED_DOCKERD_PID" ]]; then
    log "stopping the dockerd this test started (pid $STARTED_DOCKERD_PID)"
    kill -TERM "$STARTED_DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$STARTED_DOCKERD_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$STARTED_DOCKERD_PID" 2>/dev/null && kill -KILL "$STARTED_DOCKERD_PID" 2>/dev/null
  fi
  phase ""
  if ((${#TIMINGS[@]})); then
    log "timings:"
    printf '    %s\n' "${TIMINGS[@]}"
  fi
  if ((status == 0 && !FAILED)); then
    log "PASSED"
  else
    log "FAILED (exit status $status)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $EUID -eq 0 ]] || die "needs root (apt-get, dockerd); run: sudo $0"
mkdir -p "$STATE_LOG_DIR"

# --- tools ---------------------------------------------------------------------------------------
phase "install docker.io, docker-compose, kcat, python3-kafka"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v kcat >/dev/null || missing+=(kcat)
/usr/bin/python3 -c 'import kafka' 2>/dev/null || missing+=(python3-kafka)
if [[ -z "$BASE_GIVEN" ]] && ! command -v debootstrap >/dev/null; then missing+=(debootstrap); fi
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  timeout 600 apt-get update -q >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
else
  log "already installed: $(docker-compose version --short 2>/dev/null || echo docker-compose), $(dockerd --version)"
fi
command -v java >/dev/null || die "java (17) is needed for the client side of the test"

# --- engine --------------------------------------------------------------------------------------
phase "start dockerd"
if timeout 10 docker info >/dev/null 2>&1; then
  log "using the Docker engine that already runs (${DOCKER_HOST:-default socket})"
else
  mkdir -p "$STATE_DIR/docker" "$RUN_DIR/exec"
  export DOCKER_HOST="unix://$RUN_DIR/docker.sock"
  # No iptables rules, no docker0 bridge, no ip_forward change: the host is left as it was.
  # Compose's own network and the userland proxy for published ports still work.
  dockerd --data-root "$STATE_DIR/docker" --exec-root "$RUN_DIR/exec" --pidfile "$RUN_DIR/dockerd.pid" \
    -H "$DOCKER_HOST" --iptables=false --ip-forward=false --bridge=none \
    >"$RUN_DIR/dockerd.log" 2>&1 &
  STARTED_DOCKERD_PID=$!
  for _ in $(seq 1 120); do
    timeout 5 docker info >/dev/null 2>&1 && break
    kill -0 "$STARTED_DOCKERD_PID" 2>/dev/null || { tail -20 "$RUN_DIR/dockerd.log" >&2; die "dockerd exited"; }
    sleep 0.5
  done
  timeout 5 docker info >/dev/null 2>&1 || { tail -20 "$RUN_DIR/dockerd.log" >&2; die "dockerd not ready in 60 s"; }
  log "dockerd started (pid $STARTED_DOCKERD_PID, $DOCKER_HOST, log $RUN_DIR/dockerd.log)"
fi

# --- base image (no registry) --------------------------------------------------------------------
# The Debian mirror this machine's apt uses, for the suite it runs (deb822 sources first).
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
         { uris = ""; main = 0
           for (i = 1; i <= NF; i++) {
             if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uris = a[2] }
             if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) main = 1
           }
           if (main && uris != "") { print uris; exit } }' "$f"
  done | head -1
  if [[ -f /etc/apt/sources.list ]]; then
    awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list
  fi
}

phase "base image"
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "$BASE_IMAGE is in the engine already"
elif [[ -n "$BASE_GIVEN" ]]; then
  die "RAFTMQ_BASE_IMAGE=$BASE_IMAGE is not in the engine (nothing can be pulled here)"
else
  mirror="$(debian_mirror | head -1)"
  [[ -n "$mirror" ]] || die "no Debian bookworm mirror found in /etc/apt/sources.list(.d)"
  rootfs="$STATE_DIR/base-rootfs"
  rm -rf "$rootfs"
  log "debootstrap bookworm (minbase, openjdk-17-jre-headless) from the machine's mirror into $rootfs"
  timeout 1200 debootstrap --variant=minbase --include=openjdk-17-jre-headless,passwd bookworm "$rootfs" \
    "$mirror" >"$STATE_DIR/debootstrap.log" 2>&1 || { tail -20 "$STATE_DIR/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import -c 'ENV LANG=C.UTF-8' - "$BASE_IMAGE" >/dev/null \
    || die "docker import of the base rootfs failed"
  rm -rf "$rootfs"
  log "imported $BASE_IMAGE"
fi

# --- the jar, the check's classpath, the node image ----------------------------------------------
phase "maven: jar and test classpath"
# The CLI jar too: the secured compose file's admin-user service runs it from cli/target.
# After `mvn -B verify` (as in .ci/run) the jar and the test classes are there and current: Maven
# then only writes the classpath (compilation skipped). Otherwise, or when a source is newer, build.
built=broker-node/target/test-classes/io/raftmq/node/ComposeCheck.class
# The check runs from broker-node's test classes (TestBrokerClient, ContinuousProducer,
# PartitionFailover); Maven writes their classpath.
goals=(-DskipTests package)
if [[ -f broker-node/target/raftmq-node.jar && -f "$built" && -f cli/target/raftmq-cli.jar ]] \
    && [[ -z "$(find . -path '*/src/*' -newer broker-node/target/raftmq-node.jar -print -quit)" ]] \
    && [[ -z "$(find . -path '*/src/*' -newer cli/target/raftmq-cli.jar -print -quit)" ]] \
    && [[ -z "$(find . -path '*/src/*' -newer "$built" -print -quit)" ]]; then
  goals=(-Dmaven.main.skip=true -Dmaven.test.skip=true test-compile)
  log "the node jar and the test classes are up to date"
else
  log "building the node jar and the test classes"
fi
# shellcheck disable=SC2086 # MVN_FLAGS is a list of flags
mvn -B -q $MVN_FLAGS -pl broker-node,cli -am "${goals[@]}" dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/compose-check.classpath >"$STATE_LOG_DIR/maven.log" 2>&1 \
  || { tail -40 "$STATE_LOG_DIR/maven.log" >&2; die "building the jar or the check's classpath failed"; }
CHECK_CP="broker-node/target/test-classes:broker-node/target/classes:$(cat broker-node/target/compose-check.classpath)"

phase "docker build"
timeout 600 docker build -f deploy/Dockerfile --build-arg BASE="$BASE_IMAGE" -t "raftmq-node:$IMAGE_TAG" . \
  >"$STATE_LOG_DIR/docker-build.log" 2>&1 || { tail -30 "$STATE_LOG_DIR/docker-build.log" >&2; die "docker build failed"; }
log "built raftmq-node:$IMAGE_TAG on $BASE_IMAGE"

# --- cluster -------------------------------------------------------------------------------------
# HTTP GET on 127.0.0.1 with bash only; prints "STATUS BODY".
http_get() {
  local port=$1 path=$2 status="" line body=""
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
  IFS= read -r -t 5 status <&3 || true
  while IFS= read -r -t 5 line <&3 && [[ "${line%$'\r'}" != "" ]]; do :; done
  body="$(timeout 5 cat <&3 || true)"
  exec 3<&-
  echo "$(awk '{print $2}' <<< "$status") $body"
}

healthy() {
  [[ "$(docker inspect --format '{{.State.Health.Status}}' "$(docker-compose ps -q "$1")" 2>/dev/null)" == healthy ]]
}

phase "docker-compose up (until healthy)"
docker-compose config -q || die "docker-compose.yml is not valid"
timeout 60 docker-compose down -v -t 5 >/dev/null 2>&1 || true   # leftovers of an interrupted run
# The compose file's ports (9092.., 9093.., 8080..) unless something listens there already (a local
# cluster): then the same layout 10000 or 20000 higher. A node advertises the port it publishes.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
GRPC_PORTS=()
for shift_by in 0 10000 20000; do
  candidate=(); all_free=1
  for port in 9093 9193 9293 8080 8180 8280 9092 9192 9292; do
    candidate+=($((port + shift_by)))
    port_free $((port + shift_by)) || all_free=0
  done
  if ((all_free)); then
    for n in 1 2 3; do
      export "RAFTMQ_COMPOSE_GRPC_PORT_$n=${candidate[$((n - 1))]}"
      export "RAFTMQ_COMPOSE_HTTP_PORT_$n=${candidate[$((n + 2))]}"
      export "RAFTMQ_COMPOSE_KAFKA_PORT_$n=${candidate[$((n + 5))]}"
    done
    GRPC_PORTS=("${candidate[@]:0:3}")
    HTTP_PORTS=("${candidate[@]:3:3}")
    KAFKA_PORTS=("${candidate[@]:6:3}")
    break
  fi
  log "some of ${candidate[*]} are in use; trying other ports"
done
((${#GRPC_PORTS[@]})) || die "no free block of ports for the cluster on 127.0.0.1"
BOOTSTRAP="127.0.0.1:${GRPC_PORTS[0]},127.0.0.1:${GRPC_PORTS[1]},127.0.0.1:${GRPC_PORTS[2]}"
KAFKA_BOOTSTRAP="127.0.0.1:${KAFKA_PORTS[0]},127.0.0.1:${KAFKA_PORTS[1]},127.0.0.1:${KAFKA_PORTS[2]}"
log "cluster ports: Kafka ${KAFKA_PORTS[*]}, gRPC ${GRPC_PORTS[*]}, HTTP ${HTTP_PORTS[*]}"
CLUSTER_UP=1
up_start=$SECONDS
timeout 300 docker-compose up -d || die "docker-compose up failed (a node did not become healthy?)"
for n in 1 2 3; do healthy "node$n" || die "node$n is not healthy after docker-compose up"; done
log "all three nodes healthy $((SECONDS - up_start)) s after docker-compose up"
for port in "${HTTP_PORTS[@]}"; do
  answer="$(http_get "$port" /health)" || die "nothing answers on 127.0.0.1:$port"
  [[ "$answer" == "200 "* ]] || die "GET 127.0.0.1:$port/health: $answer"
  log "127.0.0.1:$port/health -> $answer"
done
metrics="$(http_get "${HTTP_PORTS[0]}" /metrics)"
grep -q '^raftmq_broker_fenced 0$' <<< "${metrics#* }" || die "node 1's /metrics: $metrics"

phase "Kafka clients: the seed demo and kcat"
.ci/kafka-clients-check.sh "$KAFKA_BOOTSTRAP" "$(IFS=,; echo "${HTTP_PORTS[*]}")" \
  || die "the Kafka clients' check failed against the compose cluster"

phase "produce, kill the leader, read back"
timeout 600 java -Xmx256m -Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener \
  -cp "$CHECK_CP" io.raftmq.node.ComposeCheck \
  --bootstrap "$BOOTSTRAP" --topic "$TOPIC" --compose docker-compose \
  || die "the produce / kill / read-back check failed"

phase "all healthy again"
deadline=$((SECONDS + 120))
until healthy node1 && healthy node2 && healthy node3; do
  ((SECONDS < deadline)) || die "not every node is healthy 120 s after the restart: $(docker-compose ps)"
  sleep 1
done
log "all three nodes healthy"

# --- the secured variant -------------------------------------------------------------------------
phase "secured: docker-compose up with docker-compose.secure.yml"
timeout 120 docker-compose down -v -t 20 >/dev/null 2>&1 || die "docker-compose down (before the secured run) failed"
export COMPOSE_FILE="$ROOT/docker-compose.yml:$ROOT/docker-compose.secure.yml"
docker-compose config -q || die "docker-compose.yml + docker-compose.secure.yml is not valid"
up_start=$SECONDS
timeout 300 docker-compose up -d || die "docker-compose up (secured) failed (a node not healthy, or admin-user failed?)"
for n in 1 2 3; do healthy "node$n" || die "node$n is not healthy after docker-compose up (secured)"; done
log "secured: all three nodes healthy and the admin user made $((SECONDS - up_start)) s after docker-compose up"
TLS_COPY="$STATE_LOG_DIR/tls"
rm -rf "$TLS_COPY"
mkdir -p -m 700 "$TLS_COPY"
docker-compose run -T --rm --no-deps --entrypoint tar certs -C /var/lib/raftmq-tls -cf - . | tar -xf - -C "$TLS_COPY" \
  || die "could not copy the tls volume out"
admin_password="$(cat "$TLS_COPY/admin-password")"
store_password="$(cat "$TLS_COPY/store-password")"

phase "secured: kcat SASL_SSL, refusals, CLI over gRPC SASL_SSL"
kcat_sasl() { # kcat_sasl USER PASSWORD kcat-args...: kcat over SASL_SSL PLAIN (see .ci/security-check.sh on SCRAM)
  local user=$1 password=$2; shift 2
  timeout 30 kcat -b "$KAFKA_BOOTSTRAP" -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN \
    -X sasl.username="$user" -X sasl.password="$password" -X ssl.ca.location="$TLS_COPY/ca.crt" "$@"
}
secured_topic=compose-secure
records="$(seq 1 20 | sed 's/^/secured-/')"
printf '%s\n' "$records" | kcat_sasl admin "$admin_password" -P -t "$secured_topic" -X topic.request.required.acks=-1 \
  || die "kcat could not produce over SASL_SSL as admin"
read_back="$(kcat_sasl admin "$admin_password" -C -t "$secured_topic" -o beginning -e -q -c 20)" \
  || die "kcat could not consume over SASL_SSL as admin"
[[ "$read_back" == "$records" ]] || die "kcat read back '$read_back', not the 20 records it wrote"
log "kcat SASL_SSL (PLAIN) as admin: 20 records written with acks=all and read back"
if kcat_sasl admin "not-the-password" -L -t "$secured_topic" >"$STATE_LOG_DIR/wrong-password.out" 2>&1; then
  die "a wrong password was let in: $(cat "$STATE_LOG_DIR/wrong-password.out")"
fi
if timeout 20 kcat -b "$KAFKA_BOOTSTRAP" -X security.protocol=PLAINTEXT -L -m 5 >"$STATE_LOG_DIR/plaintext.out" 2>&1; then
  die "a plaintext client was let in: $(cat "$STATE_LOG_DIR/plaintext.out")"
fi
log "refused: a wrong password, a plaintext client"
printf '%s\n' security.protocol=SASL_SSL sasl.mechanism=SCRAM-SHA-512 \
  "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$admin_password\";" \
  "ssl.truststore.location=$TLS_COPY/truststore.p12" "ssl.truststore.password=$store_password" \
  >"$TLS_COPY/client-admin.properties"
users="$(timeout 60 java -Xmx128m -jar cli/target/raftmq-cli.jar users list --bootstrap-server "$BOOTSTRAP" \
  --command-config "$TLS_COPY/client-admin.properties" 2>&1)" || die "raftmq users list over gRPC SASL_SSL failed: $users"
grep -q admin <<< "$users" || die "raftmq users list does not show admin: $users"
log "the raftmq CLI over gRPC SASL_SSL (SCRAM-SHA-512 as admin) lists the users: $(tr '\n' ' ' <<< "$users")"
rm -rf "$TLS_COPY"
FAILED=0
