#!/usr/bin/env bash
# A local 3-node raftmq cluster as plain processes on 127.0.0.1 (no Docker), every node combined
# (broker + controller). Node n listens for Kafka clients on 9092+100*(n-1) (9092, 9192, 9292), for
# gRPC on 9093+100*(n-1) (9093, 9193, 9293), for Raft on 9095+100*(n-1) (9095, 9195, 9295) and for
# HTTP (GET /health, GET /metrics) on 8080+100*(n-1) (8080, 8180, 8280): the ports docker-compose.yml
# publishes, so only one of the two runs at a time.
#
#   deploy/cluster.sh start          build the jar if missing, start all nodes, wait until ready
#   deploy/cluster.sh start --secure the same, secured: Kafka listener and gRPC port SASL_SSL, ACLs
#                                    on, a first SCRAM user `admin`; --secure=mtls: the Kafka listener
#                                    SSL with client certificates required and the gRPC port SSL
#   deploy/cluster.sh stop           stop all nodes cleanly (SIGTERM: controlled shutdown)
#   deploy/cluster.sh status         which nodes run, and which one is the active controller
#   deploy/cluster.sh kill N         kill -9 node N (to watch failover)
#   deploy/cluster.sh restart N      start node N again (after kill or stop)
#   deploy/cluster.sh logs N         follow node N's log
#   deploy/cluster.sh clean          stop all nodes and delete all data (and the certificates)
#
# Data and logs live under $RAFTMQ_HOME (default: ./run/cluster in the repository). The Raft port
# always uses mutual TLS: start makes the certificates with deploy/certs.sh into $RAFTMQ_HOME/tls
# when they are missing (a CA, node-1..3.p12, truststore.p12, and client-admin.* for clients) and
# gives every node its keystore and the truststore (ssl.* keys in node-N.properties), and writes
# $RAFTMQ_HOME/tls/client-admin.properties, the settings of a client with the admin certificate.
# The gRPC port is PLAINTEXT by default; RAFTMQ_GRPC_LISTENER_SECURITY_PROTOCOL=SSL in start's
# environment makes it TLS on every node (the raftmq CLI then takes --command-config
# $RAFTMQ_HOME/tls/client-admin.properties).
#
# start --secure (README: "Secure local cluster") also sets, on every node: the Kafka listener
# SASL_SSL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 and ssl.client.auth=requested, the gRPC port
# SASL_SSL with the same mechanisms (--secure=mtls: the Kafka listener SSL with
# ssl.client.auth=required, the gRPC port SSL), authorizer.enabled=true and
# super.users=User:admin;User:CN=admin. Once the cluster is up it makes the SCRAM user admin with a
# generated password ($RAFTMQ_HOME/tls/admin-password) through the gRPC port (--secure: with node 1's
# certificate, which the SASL_SSL port serves without SASL, as it does every node's; --secure=mtls: as
# CN=admin), and writes the client files tls/kafka-admin-sasl.properties (or
# kafka-admin-mtls.properties) and tls/client-admin.properties (the raftmq CLI's and SDK's: SASL_SSL
# as admin with SCRAM-SHA-512 in --secure, the admin certificate otherwise). The mode is remembered in $RAFTMQ_HOME/security-mode: a later start
# or restart without --secure starts the cluster secured again (and says so); start with another
# mode than the remembered one is refused while the home holds data (clean first, or use another
# RAFTMQ_HOME).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${RAFTMQ_HOME:-$ROOT/run/cluster}"
TLS_DIR="$HOME_DIR/tls"
JAR="$ROOT/broker-node/target/raftmq-node.jar"
NODES=(1 2 3)
# C1 only (TieredStopAtLevel=1): on a small machine C2's compile threads took a third of each
# node's CPU during the first million records (6-7 of 17-19 CPU-s) and cut cold acks=all
# throughput by a third; warm, C1 code is as fast here (docs/BENCHMARKS.md, run 5).
# CompileThresholdScaling=0.1: C1 compiles a method after a tenth of the usual calls, so paths a
# node first runs later (a consumer's long poll, a follower woken by every single-record append)
# leave the interpreter within a few hundred requests instead of thousands (BENCHMARKS.md, run 9).
# A node that runs out of heap stops (-XX:+ExitOnOutOfMemoryError, added whatever
# RAFTMQ_JAVA_OPTS says) rather than keep its leaderships with threads that died mid-request.
# -Xms96m: the heap starts at 96 MiB and grows towards -Xmx only when live data needs it. Without it
# the JVM starts the heap at 1/64 of the machine's memory (377 MiB on 24 GiB), whose young generation
# (126 MiB) the workload touches in full, while a node keeps 15-25 MiB live; at 32 MiB the old
# generation filled and full collections followed (docs/BENCHMARKS.md, "Memory per node").
JAVA_OPTS="${RAFTMQ_JAVA_OPTS:--Xms96m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.1}"
# RAFTMQ_JAVA_EXTRA_OPTS: options added after those (the defaults or RAFTMQ_JAVA_OPTS), e.g.
# -XX:NativeMemoryTracking=summary for deploy/bench/memory.sh; not used to make the class-data archive.
EXTRA_JAVA_OPTS="${RAFTMQ_JAVA_EXTRA_OPTS:-}"

# Class-data sharing (AppCDS): the classes a node loads until it is ready (JDK and jar alike), parsed
# and verified once into an archive beside the jar that every node maps at start instead of loading
# them from the jar again (docs/BENCHMARKS.md, "Start time"). Made once per jar build: a start that
# finds no archive, or one older than the jar, has node 1 list the classes it loads
# (-XX:DumpLoadedClassList) and, once the cluster is ready, dumps the archive from that list
# (java -Xshare:dump, a few seconds). A JVM that cannot use the archive (another JDK, another jar)
# starts without it, silently (RAFTMQ_JAVA_OPTS with -Xlog:cds says why). RAFTMQ_CDS=off: no archive.
CDS_ARCHIVE="${JAR%.jar}.jsa"
CDS_MODE="${RAFTMQ_CDS:-on}"
[[ "$CDS_MODE" == on || "$CDS_MODE" == off ]] || { echo "RAFTMQ_CDS must be on or off, got '$CDS_MODE'" >&2; exit 2; }

# RAFTMQ_PORT_OFFSET moves every port by that much (e.g. 20000: Kafka on 29092, 29192, 29292), to run
# a second cluster beside one on the usual ports.
PORT_OFFSET="${RAFTMQ_PORT_OFFSET:-0}"
[[ "$PORT_OFFSET" =~ ^[0-9]{1,5}$ ]] || { echo "RAFTMQ_PORT_OFFSET must be a whole number, got '$PORT_OFFSET'" >&2; exit 2; }
kafka_port() { echo $((PORT_OFFSET + 9092 + 100 * ($1 - 1))); }
grpc_port() { echo $((PORT_OFFSET + 9093 + 100 * ($1 - 1))); }
raft_port() { echo $((PORT_OFFSET + 9095 + 100 * ($1 - 1))); }
http_port() { echo $((PORT_OFFSET + 8080 + 100 * ($1 - 1))); }
kafka_bootstrap() { local n out=""; for n in "${NODES[@]}"; do out+="${out:+,}127.0.0.1:$(kafka_port "$n")"; done; echo "$out"; }
grpc_bootstrap() { local n out=""; for n in "${NODES[@]}"; do out+="${out:+,}127.0.0.1:$(grpc_port "$n")"; done; echo "$out"; }

# The security mode: plaintext (the quickstart: Kafka listener and gRPC PLAINTEXT, no authorizer),
# sasl (Kafka listener SASL_SSL) or mtls (Kafka listener SSL, client certificates required); both
# secure modes have gRPC TLS and the authorizer on. Set by select_mode, remembered in MODE_FILE.
MODE_FILE="$HOME_DIR/security-mode"
MODE=""
SUPER_USERS="User:admin;User:CN=admin"

# The mode this start runs in: the one asked for (start --secure[=...]), else the one remembered.
# A home whose data was made before modes were remembered ran plaintext. Another mode than the
# remembered one is refused while the home holds data (a failed first start holds none).
select_mode() {
  local asked="$1" remembered="" has_data=0
  compgen -G "$HOME_DIR/data-*" >/dev/null && has_data=1
  if [[ -f "$MODE_FILE" ]]; then
    remembered="$(cat "$MODE_FILE")"
  elif ((has_data)); then
    remembered=plaintext
  fi
  if ((!has_data)); then
    # A new cluster: its metadata has no user yet, whatever an earlier one had.
    rm -f "$TLS_DIR/admin-password.created"
  fi
  if [[ -n "$asked" && -n "$remembered" && "$asked" != "$remembered" ]] && ((has_data)); then
    echo "$HOME_DIR holds a cluster made with '$(mode_flag "$remembered")'; it is not switched to" \
      "'$(mode_flag "$asked")' silently: start it as it was made, or run 'deploy/cluster.sh clean'" \
      "first (deletes its data), or use another RAFTMQ_HOME" >&2
    exit 2
  fi
  MODE="${asked:-${remembered:-plaintext}}"
  if [[ -z "$asked" && "$MODE" != plaintext ]]; then
    echo "$HOME_DIR was made with '$(mode_flag "$MODE")': starting it secured again ($MODE_FILE)"
  fi
  mkdir -p "$HOME_DIR"
  echo "$MODE" > "$MODE_FILE"
}

mode_flag() {
  case "$1" in
    plaintext) echo "start" ;;
    sasl) echo "start --secure" ;;
    mtls) echo "start --secure=mtls" ;;
    *) echo "unknown mode '$1'" ;;
  esac
}

# start's options: nothing, --secure (= --secure=sasl) or --secure=mtls.
parse_secure() {
  case "${1:-}" in
    "") echo "" ;;
    --secure|--secure=sasl) echo sasl ;;
    --secure=mtls) echo mtls ;;
    *) echo "usage: $0 start [--secure | --secure=mtls]   (unknown option '$1')" >&2; exit 2 ;;
  esac
}
pid_file() { echo "$HOME_DIR/node-$1.pid"; }
log_file() { echo "$HOME_DIR/node-$1.log"; }

# Alive and not a zombie (a killed process can linger as one until it is reaped).
running() {
  local f state; f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  state="$(ps -o stat= -p "$(cat "$f")" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z* ]]
}

build_if_missing() {
  if [[ ! -f "$JAR" ]]; then
    echo "building $JAR (mvn -B -q -DskipTests package)..."
    (cd "$ROOT" && mvn -B -q -DskipTests package)
  fi
}

# The TLS material every node needs, made by deploy/certs.sh if any of it is missing (it keeps what
# exists, so a CA made earlier, or certificates put there by hand, stay).
ensure_certs() {
  local files=(store-password ca.crt truststore.p12) missing=0 f m
  for m in "${NODES[@]}"; do files+=("node-$m.p12"); done
  for f in "${files[@]}"; do
    [[ -f "$TLS_DIR/$f" ]] || missing=1
  done
  if ((missing)); then
    echo "making the cluster's TLS certificates in $TLS_DIR (deploy/certs.sh)..."
    "$ROOT/deploy/certs.sh" "$TLS_DIR" --nodes "$(IFS=,; echo "${NODES[*]}")" --clients admin
  fi
}

# The SDK and CLI settings of the admin for a gRPC port with TLS (raftmq ... --command-config FILE):
# in mode sasl, once the admin's password exists, SASL_SSL as the SCRAM user admin; otherwise the
# admin certificate. It holds passwords: readable by this user only.
write_client_config() {
  local password
  [[ -f "$TLS_DIR/client-admin.p12" ]] || return 0
  password="$(cat "$TLS_DIR/store-password")"
  (umask 077; : > "$TLS_DIR/client-admin.properties")
  if [[ "$MODE" == sasl && -s "$TLS_DIR/admin-password" ]]; then
    cat > "$TLS_DIR/client-admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$TLS_DIR/admin-password")";
ssl.truststore.location=$TLS_DIR/truststore.p12
ssl.truststore.password=$password
EOF
    return 0
  fi
  cat > "$TLS_DIR/client-admin.properties" <<EOF
security.protocol=SSL
ssl.truststore.location=$TLS_DIR/truststore.p12
ssl.truststore.password=$password
ssl.keystore.location=$TLS_DIR/client-admin.p12
ssl.keystore.password=$password
EOF
}

# The settings of a client holding the first node's certificate (a node: the SASL_SSL gRPC port
# serves it without SASL), used once to make the first SCRAM user; readable by this user only.
write_node_client_config() {
  local password file="$TLS_DIR/node-client.properties"
  password="$(cat "$TLS_DIR/store-password")"
  (umask 077; : > "$file")
  cat > "$file" <<EOF
security.protocol=SSL
ssl.truststore.location=$TLS_DIR/truststore.p12
ssl.truststore.password=$password
ssl.keystore.location=$TLS_DIR/node-${NODES[0]}.p12
ssl.keystore.password=$password
EOF
  echo "$file"
}

write_config() {
  local n=$1 voters="" bootstrap="" password
  for m in "${NODES[@]}"; do
    voters+="${voters:+,}$m@127.0.0.1:$(raft_port "$m")"
    bootstrap+="${bootstrap:+,}127.0.0.1:$(grpc_port "$m")"
  done
  password="$(cat "$TLS_DIR/store-password")"
  mkdir -p "$HOME_DIR"
  # It holds the store password: readable by this user only.
  (umask 077; : > "$HOME_DIR/node-$n.properties")
  cat > "$HOME_DIR/node-$n.properties" <<EOF
node.id=$n
process.roles=broker,controller
data.dir=$HOME_DIR/data-$n
grpc.listener=127.0.0.1:$(grpc_port "$n")
kafka.listener=127.0.0.1:$(kafka_port "$n")
http.listener=127.0.0.1:$(http_port "$n")
controller.quorum.voters=$voters
controller.quorum.bootstrap.servers=$bootstrap
ssl.keystore.location=$TLS_DIR/node-$n.p12
ssl.keystore.password=$password
ssl.keystore.type=PKCS12
ssl.truststore.location=$TLS_DIR/truststore.p12
ssl.truststore.password=$password
ssl.truststore.type=PKCS12
EOF
  if [[ "$MODE" != plaintext ]]; then
    local protocol=SASL_SSL client_auth=requested grpc_protocol=SASL_SSL
    if [[ "$MODE" == mtls ]]; then protocol=SSL; client_auth=required; grpc_protocol=SSL; fi
    cat >> "$HOME_DIR/node-$n.properties" <<EOF
kafka.listener.security.protocol=$protocol
ssl.client.auth=$client_auth
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
grpc.listener.security.protocol=$grpc_protocol
authorizer.enabled=true
super.users=$SUPER_USERS
EOF
  fi
}

# Secure modes, once the cluster is up: the SCRAM user admin with a generated password (kept in
# tls/admin-password, mode 600), made once over the gRPC port (tls/admin-password.created marks it
# done): in mode sasl, whose gRPC port wants SASL from clients, with the first node's certificate (a
# node is a super user there; nobody has a SCRAM user yet); in mode mtls with the admin certificate
# (CN=admin, a super user). Then the clients' settings files.
secure_setup() {
  [[ "$MODE" != plaintext ]] || return 0
  local password_file="$TLS_DIR/admin-password" as="$TLS_DIR/client-admin.properties" who="CN=admin"
  if [[ ! -s "$password_file" ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr '+/' '-_' > "$password_file")
  fi
  if [[ ! -f "$password_file.created" ]]; then
    if [[ "$MODE" == sasl ]]; then as="$(write_node_client_config)"; who="node ${NODES[0]}'s certificate"; fi
    echo "making the SCRAM user admin (password in $password_file) with raftmq users add, over gRPC as $who"
    "$ROOT/bin/raftmq" users add --user admin --bootstrap-server "$(grpc_bootstrap)" \
      --command-config "$as" < "$password_file" \
      || { rm -f "$TLS_DIR/node-client.properties"; echo "could not make the SCRAM user admin (see above)" >&2; return 1; }
    rm -f "$TLS_DIR/node-client.properties"
    : > "$password_file.created"
  fi
  write_client_config
  write_kafka_client_config
  print_secure_usage
}

# The Kafka clients' settings (kafka-clients' names) of the admin: SASL_SSL with SCRAM-SHA-512 in
# mode sasl, SSL with the admin certificate in mode mtls. They hold passwords: readable by this user only.
write_kafka_client_config() {
  local store_password admin_password file
  store_password="$(cat "$TLS_DIR/store-password")"
  admin_password="$(cat "$TLS_DIR/admin-password")"
  if [[ "$MODE" == sasl ]]; then
    file="$TLS_DIR/kafka-admin-sasl.properties"
    (umask 077; : > "$file")
    cat > "$file" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
ssl.truststore.location=$TLS_DIR/truststore.p12
ssl.truststore.password=$store_password
ssl.truststore.type=PKCS12
EOF
  else
    file="$TLS_DIR/kafka-admin-mtls.properties"
    (umask 077; : > "$file")
    cat > "$file" <<EOF
security.protocol=SSL
ssl.truststore.location=$TLS_DIR/truststore.p12
ssl.truststore.password=$store_password
ssl.truststore.type=PKCS12
ssl.keystore.location=$TLS_DIR/client-admin.p12
ssl.keystore.password=$store_password
ssl.keystore.type=PKCS12
EOF
  fi
}

print_secure_usage() {
  local kb; kb="$(kafka_bootstrap)"
  echo
  echo "secured ('$(mode_flag "$MODE")'): authorizer on, super users $SUPER_USERS; gRPC $([[ "$MODE" == sasl ]] && echo SASL_SSL || echo SSL)"
  if [[ "$MODE" == sasl ]]; then
    cat <<EOF
Kafka listener SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; client certificates requested).
  user admin, password in $TLS_DIR/admin-password
  Kafka tools and kafka-clients (--command-config FILE):
    kafka-topics.sh --bootstrap-server $kb --command-config $TLS_DIR/kafka-admin-sasl.properties --list
  kcat (SCRAM needs librdkafka 2.6.1 or later; with an older one use -X sasl.mechanisms=PLAIN):
    kcat -b $kb -X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512 \\
      -X sasl.username=admin -X sasl.password="\$(cat $TLS_DIR/admin-password)" -X ssl.ca.location=$TLS_DIR/ca.crt -L
EOF
  else
    cat <<EOF
Kafka listener SSL, client certificates required (the admin certificate is principal User:CN=admin).
  Kafka tools and kafka-clients (--command-config FILE):
    kafka-topics.sh --bootstrap-server $kb --command-config $TLS_DIR/kafka-admin-mtls.properties --list
  kcat:
    kcat -b $kb -X security.protocol=SSL -X ssl.ca.location=$TLS_DIR/ca.crt \\
      -X ssl.certificate.location=$TLS_DIR/client-admin.crt -X ssl.key.location=$TLS_DIR/client-admin.key -L
EOF
  fi
  if [[ "$MODE" == sasl ]]; then
    cat <<EOF
gRPC port SASL_SSL (the same mechanisms and users; nodes are known by their certificates).
  raftmq CLI and SDK (--command-config FILE: SASL_SSL as admin, SCRAM-SHA-512):
    bin/raftmq topics --list --bootstrap-server $(grpc_bootstrap) --command-config $TLS_DIR/client-admin.properties
EOF
  else
    cat <<EOF
  raftmq CLI (gRPC TLS as CN=admin):
    bin/raftmq topics --list --bootstrap-server $(grpc_bootstrap) --command-config $TLS_DIR/client-admin.properties
EOF
  fi
}

start_node() {
  local n=$1
  if running "$n"; then
    echo "node $n already runs (pid $(cat "$(pid_file "$n")"))"
    return
  fi
  ensure_certs
  write_client_config
  write_config "$n"
  # Readiness is judged on what this start writes, not on earlier runs' lines in the same log.
  stat -c %s "$(log_file "$n")" 2>/dev/null > "$HOME_DIR/node-$n.logstart" || echo 0 > "$HOME_DIR/node-$n.logstart"
  local cds_opts=""
  if [[ "$CDS_MODE" == on ]]; then
    if cds_archive_current; then
      cds_opts="-XX:SharedArchiveFile=$CDS_ARCHIVE"
    elif [[ "$n" == "${NODES[0]}" ]]; then
      rm -f "$HOME_DIR/cds-classlist"
      cds_opts="-XX:DumpLoadedClassList=$HOME_DIR/cds-classlist"
    fi
  fi
  ensure_native_libraries
  # shellcheck disable=SC2086
  LD_LIBRARY_PATH="$NATIVE_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    nohup java -XX:+ExitOnOutOfMemoryError $JAVA_OPTS $EXTRA_JAVA_OPTS $cds_opts -jar "$JAR" "$HOME_DIR/node-$n.properties" >> "$(log_file "$n")" 2>&1 &
  echo $! > "$(pid_file "$n")"
  echo "node $n started (pid $!, Kafka 127.0.0.1:$(kafka_port "$n"), gRPC 127.0.0.1:$(grpc_port "$n"), Raft 127.0.0.1:$(raft_port "$n"), HTTP 127.0.0.1:$(http_port "$n"))"
}

# RocksDB's JNI library (JRaft's log store) the way RocksDB looks for it before it falls back to
# copying it out of the jar into /tmp at every start (13 MB inflated and written per node, left
# behind by a node that is killed): once per jar build into a directory beside the jar, which
# LD_LIBRARY_PATH (hence java.library.path) of the nodes then names. The name is RocksDB's for this
# machine (librocksdbjni-linux64.so on x86_64 glibc); without unzip, or on a machine the jar has no
# library for, nothing is extracted and RocksDB copies its library as before.
NATIVE_DIR="${JAR%.jar}-native"
rocksdb_library() {
  local arch libc=""
  case "$(uname -m)" in
    x86_64) arch=linux64 ;;
    aarch64) arch=linux-aarch64 ;;
    *) return 1 ;;   # the node jar carries RocksDB for these two (and macOS) only
  esac
  if ldd --version 2>&1 | grep -qi musl; then libc=-musl; fi
  echo "librocksdbjni-$arch$libc.so"
}
ensure_native_libraries() {
  local library
  library="$(rocksdb_library)" || return 0
  [[ -f "$NATIVE_DIR/$library" && ! "$JAR" -nt "$NATIVE_DIR/$library" ]] && return 0
  command -v unzip >/dev/null || return 0
  mkdir -p "$NATIVE_DIR"
  if unzip -o -q -j "$JAR" "$library" -d "$NATIVE_DIR.partial.$$" 2>/dev/null; then
    mv -f "$NATIVE_DIR.partial.$$/$library" "$NATIVE_DIR/$library"
    touch "$NATIVE_DIR/$library"
  fi
  rm -rf "$NATIVE_DIR.partial.$$"
}

cds_archive_current() { [[ -f "$CDS_ARCHIVE" && ! "$JAR" -nt "$CDS_ARCHIVE" ]]; }

# After a start that listed node 1's classes: the archive, from that list, written whole then renamed.
make_cds_archive() {
  local list="$HOME_DIR/cds-classlist" partial="$CDS_ARCHIVE.partial.$$"
  [[ "$CDS_MODE" == on && -s "$list" ]] && ! cds_archive_current || return 0
  echo "making the class-data archive $CDS_ARCHIVE (once per jar build)..."
  # shellcheck disable=SC2086
  if java -Xshare:dump -XX:SharedClassListFile="$list" -XX:SharedArchiveFile="$partial" $JAVA_OPTS \
      -cp "$JAR" > "$HOME_DIR/cds-dump.log" 2>&1; then
    mv -f "$partial" "$CDS_ARCHIVE"
  else
    rm -f "$partial"
    echo "could not make the class-data archive (see $HOME_DIR/cds-dump.log); nodes start without it" >&2
  fi
  rm -f "$list"
}

# What node N has logged since its current start.
since_start() {
  local offset; offset="$(cat "$HOME_DIR/node-$1.logstart" 2>/dev/null || echo 0)"
  tail -c +"$((offset + 1))" "$(log_file "$1")" 2>/dev/null || true
}

# Ready = every node started by this script has had its broker unfenced since its start.
wait_ready() {
  local deadline=$((SECONDS + ${RAFTMQ_START_TIMEOUT:-60}))
  while ((SECONDS < deadline)); do
    local ready=1
    for n in "${NODES[@]}"; do
      [[ -f "$(pid_file "$n")" ]] || continue
      if ! running "$n"; then
        echo "node $n exited while starting; the end of its log ($(log_file "$n")):" >&2
        since_start "$n" | tail -20 >&2
        rm -f "$(pid_file "$n")"
        return 1
      fi
      if ! since_start "$n" | grep -q "\[broker $n\] FENCED -> RUNNING"; then
        ready=0
      fi
    done
    if ((ready)); then
      echo "cluster ready: $(controller_line)"
      echo "bootstrap servers: $(grpc_bootstrap) (raftmq CLI and SDK)"
      echo "Kafka bootstrap servers: $(kafka_bootstrap) (Kafka clients and tools)"
      echo "data and logs: $HOME_DIR; TLS certificates and stores: $TLS_DIR"
      return 0
    fi
    sleep 0.1
  done
  echo "cluster not ready after ${RAFTMQ_START_TIMEOUT:-60} s; see the logs in $HOME_DIR" >&2
  return 1
}

# The active controller as the running nodes last saw it ("metadata quorum leader X -> Y (epoch A -> B)").
controller_line() {
  local line="" n
  line="$(for n in "${NODES[@]}"; do running "$n" && since_start "$n" | grep "metadata quorum leader"; done \
    | sort | tail -1 || true)"
  local leader epoch
  leader="$(sed -E 's/.*metadata quorum leader -?[0-9]+ -> (-?[0-9]+).*/\1/' <<< "$line")"
  epoch="$(sed -E 's/.*\(epoch -?[0-9]+ -> ([0-9]+)\).*/\1/' <<< "$line")"
  if [[ -z "$line" || "$leader" == "-1" ]]; then
    echo "no active controller right now (an election may be under way)"
  else
    echo "node $leader is the active controller (epoch $epoch)"
  fi
}

node_arg() {
  local n="${1:-}"
  if [[ ! "$n" =~ ^[1-3]$ ]]; then
    echo "usage: $0 $2 N   (N = 1, 2 or 3)" >&2
    exit 2
  fi
  echo "$n"
}

cmd="${1:-}"
case "$cmd" in
  start)
    [[ $# -le 2 ]] || { echo "usage: $0 start [--secure | --secure=mtls]" >&2; exit 2; }
    asked="$(parse_secure "${2:-}")"
    select_mode "$asked"
    build_if_missing
    for n in "${NODES[@]}"; do start_node "$n"; done
    wait_ready
    make_cds_archive
    secure_setup
    ;;
  stop)
    for n in "${NODES[@]}"; do
      if running "$n"; then kill -TERM "$(cat "$(pid_file "$n")")"; fi
    done
    for n in "${NODES[@]}"; do
      while running "$n"; do sleep 0.2; done
      rm -f "$(pid_file "$n")"
    done
    echo "cluster stopped"
    ;;
  status)
    for n in "${NODES[@]}"; do
      if running "$n"; then
        echo "node $n: running (pid $(cat "$(pid_file "$n")"), Kafka 127.0.0.1:$(kafka_port "$n"), gRPC 127.0.0.1:$(grpc_port "$n"))"
      else
        echo "node $n: stopped"
      fi
    done
    echo "$(controller_line), as the running nodes last logged it"
    if [[ -f "$MODE_FILE" ]]; then echo "security: $(cat "$MODE_FILE") (made with 'deploy/cluster.sh $(mode_flag "$(cat "$MODE_FILE")")', $MODE_FILE)"; fi
    ;;
  kill)
    n="$(node_arg "${2:-}" kill)"
    if running "$n"; then
      kill -9 "$(cat "$(pid_file "$n")")"
      echo "node $n killed (kill -9) at $(date +%H:%M:%S.%3N)"
      while running "$n"; do sleep 0.05; done
    else
      echo "node $n is not running"
    fi
    ;;
  restart)
    n="$(node_arg "${2:-}" restart)"
    select_mode ""
    build_if_missing
    start_node "$n"
    wait_ready
    make_cds_archive
    ;;
  logs)
    n="$(node_arg "${2:-}" logs)"
    tail -F "$(log_file "$n")"
    ;;
  clean)
    "$0" stop
    rm -rf "$HOME_DIR"
    echo "deleted $HOME_DIR"
    ;;
  *)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 2
    ;;
esac
