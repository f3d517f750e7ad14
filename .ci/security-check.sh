#!/usr/bin/env bash
# The secured local cluster (deploy/cluster.sh start --secure) with real Kafka clients, as a user
# follows the README's "Secure local cluster": starts it in a temporary RAFTMQ_HOME, checks, stops
# and deletes it whatever happens. Prints one PASS or FAIL line per check and exits 1 if any failed.
#
#   start --secure (Kafka listener and gRPC port SASL_SSL, authorizer on):
#     - kcat SASL_SSL produces and consumes as admin (PLAIN: this machine's librdkafka 2.0.2 repeats
#       the client nonce in SCRAM's last message, which Kafka 4's broker and raftmq refuse; with
#       librdkafka 2.6.1 or later SCRAM-SHA-512 is checked to work instead of to be refused)
#     - Kafka 4.4's console producer and consumer with SASL_SSL SCRAM-SHA-512 (kafka-admin-sasl.properties)
#     - refused: a plaintext client, a wrong password, an unknown user
#     - user alice (made with kafka-configs) without ACLs cannot write (TOPIC_AUTHORIZATION_FAILED) and
#       nothing is stored; after kafka-acls --add --allow-principal User:alice --operation Write she can
#     - the raftmq CLI over gRPC SASL_SSL as admin (client-admin.properties) lists the users; without
#       SASL settings it is refused
#     - stop, then start without --secure: the cluster comes back secured (the mode is remembered) and
#       admin still authenticates; start --secure=mtls on the same home is refused
#   start --secure=mtls (Kafka listener SSL, client certificates required), a second temporary home:
#     - Kafka 4.4's console producer and consumer with the admin keystore (kafka-admin-mtls.properties)
#     - kcat with the admin certificate produces and consumes
#     - refused: a client without a certificate, a plaintext client
#
# Needs kcat and Java 17; installs kcat when missing (as root). Kafka's tools are kafka-tools 4.4.0's
# classes in deploy/kafka-compare/target/libs (resolved with Maven when missing, as
# .ci/kafka-tools-check.sh does). The cluster uses the usual ports (9092.., 9093.., 9095.., 8080..),
# which must be free; RAFTMQ_PORT_OFFSET moves them all (deploy/cluster.sh).
# Run by .ci/kafka-clients-test.sh, or on its own: .ci/security-check.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LIBS="$ROOT/deploy/kafka-compare/target/libs"
WORK="$(mktemp -d)"
OFFSET="${RAFTMQ_PORT_OFFSET:-0}"
export RAFTMQ_PORT_OFFSET="$OFFSET"
BOOTSTRAP="127.0.0.1:$((OFFSET + 9092)),127.0.0.1:$((OFFSET + 9192)),127.0.0.1:$((OFFSET + 9292))"
GRPC_BOOTSTRAP="127.0.0.1:$((OFFSET + 9093)),127.0.0.1:$((OFFSET + 9193)),127.0.0.1:$((OFFSET + 9293))"
FAILS=0
PASSES=0

log() { echo "[security-check $(date +%T)] $*"; }
die() { log "FAILED: $*" >&2; exit 1; }
pass() { PASSES=$((PASSES + 1)); echo "PASS: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }

missing=()
command -v kcat >/dev/null || missing+=(kcat)
if ((${#missing[@]})); then
  [[ $EUID -eq 0 ]] || die "${missing[*]} missing and not root: apt-get install -y ${missing[*]}"
  log "installing ${missing[*]}"
  timeout 600 apt-get update -q >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi
if [ ! -e "$LIBS/kafka-tools-4.4.0.jar" ]; then
  log "resolving Kafka 4.4.0's tools into $LIBS (once)"
  mvn -B -q -f "$ROOT/deploy/kafka-compare/pom.xml" dependency:copy-dependencies -DoutputDirectory="$LIBS" \
    -DincludeScope=runtime || die "could not resolve Kafka's jars with Maven"
fi

for port in 9092 9192 9292 9093 9193 9293 9095 9195 9295 8080 8180 8280; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$((OFFSET + port))") 2>/dev/null; then
    die "port $((OFFSET + port)) is in use (a local cluster or docker-compose running?): stop it first"
  fi
done

export RAFTMQ_HOME=""
HOMES=()
cleanup() {
  local status=$? home
  for home in "${HOMES[@]}"; do
    if ((status != 0 || FAILS > 0)); then
      for n in 1 2 3; do
        log "the last 30 lines of node $n's log in $home:"
        tail -n 30 "$home/node-$n.log" 2>/dev/null | sed 's/^/    /'
      done
    fi
    RAFTMQ_HOME="$home" deploy/cluster.sh clean >/dev/null 2>&1 || true
    rm -rf "$home"
  done
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

# new_home: a fresh temporary RAFTMQ_HOME, deleted (its cluster stopped first) on exit.
new_home() {
  RAFTMQ_HOME="$(mktemp -d)"
  HOMES+=("$RAFTMQ_HOME")
  TLS="$RAFTMQ_HOME/tls"
}

# tool NAME CLASS ARGS...: one of Kafka's tools as its kafka-*.sh script runs it; its output and its
# log (WARN and above) in $WORK/NAME.out.
tool() {
  local name="$1" class="$2" status=0
  shift 2
  timeout 120 java -Xmx256M -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$ROOT/deploy/kafka-compare/config/log4j2-tools.properties" \
    -Dkafka.logs.dir="$WORK/logs-$name" -cp "$LIBS/*" "$class" "$@" >"$WORK/$name.out" 2>&1 || status=$?
  cat "$WORK/logs-$name/tools.log" >>"$WORK/$name.out" 2>/dev/null || true
  return "$status"
}
show() { sed 's/^/    /' "$WORK/$1.out" | tail -n "${2:-15}"; }
T=org.apache.kafka.tools

# kcat_sasl USER PASSWORD MECHANISM ARGS...: kcat over SASL_SSL.
kcat_sasl() {
  local user="$1" password="$2" mechanism="$3"
  shift 3
  timeout 60 kcat -b "$BOOTSTRAP" -X security.protocol=SASL_SSL -X sasl.mechanisms="$mechanism" \
    -X sasl.username="$user" -X sasl.password="$password" -X ssl.ca.location="$TLS/ca.crt" "$@"
}

# A line of the form "key=value" for each record a kcat consumer printed, sorted.
sorted() { sort "$1" | tr '\n' ' '; }

# ================================ start --secure: SASL_SSL ========================================
new_home
log "deploy/cluster.sh start --secure (RAFTMQ_HOME=$RAFTMQ_HOME)"
deploy/cluster.sh start --secure >"$WORK/start-secure.out" 2>&1 || { show start-secure 40; die "start --secure failed"; }
show start-secure 30
ADMIN_PASSWORD="$(cat "$TLS/admin-password")"
for f in admin-password kafka-admin-sasl.properties client-admin.properties; do
  if [[ -f "$TLS/$f" && "$(stat -c %a "$TLS/$f")" == 600 ]]; then
    pass "start --secure wrote $f (mode 600)"
  else
    fail "start --secure did not write $TLS/$f with mode 600"
  fi
done

TOPIC="secure-$$"
log "kafka-topics (SASL_SSL SCRAM-SHA-512 as admin): create $TOPIC"
if tool topics-create $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --command-config "$TLS/kafka-admin-sasl.properties" \
    --create --topic "$TOPIC" --partitions 3 --replication-factor 3 && grep -q "Created topic $TOPIC" "$WORK/topics-create.out"; then
  pass "kafka-topics with SASL_SSL SCRAM-SHA-512 (kafka-admin-sasl.properties) created $TOPIC"
else
  show topics-create
  fail "kafka-topics with SASL_SSL SCRAM-SHA-512 could not create $TOPIC"
fi

log "kcat SASL_SSL PLAIN as admin: produce 3 keyed records, consume them"
if printf 'k1:v1\nk2:v2\nk3:v3\n' | kcat_sasl admin "$ADMIN_PASSWORD" PLAIN -t "$TOPIC" -P -K: -X request.required.acks=-1 \
      >"$WORK/kcat-produce.out" 2>&1 \
    && kcat_sasl admin "$ADMIN_PASSWORD" PLAIN -t "$TOPIC" -C -o beginning -e -q -f '%k=%s\n' >"$WORK/kcat-consume.out" 2>&1 \
    && [[ "$(sorted "$WORK/kcat-consume.out")" == "k1=v1 k2=v2 k3=v3 " ]]; then
  pass "kcat SASL_SSL (PLAIN, user admin) produced and consumed k1=v1 k2=v2 k3=v3"
else
  show kcat-produce; show kcat-consume
  fail "kcat SASL_SSL (PLAIN, user admin) did not produce and read back k1=v1 k2=v2 k3=v3"
fi

# librdkafka before 2.6.1 repeats the client nonce in SCRAM's client-final message: refused, always.
librdkafka="$(kcat -V 2>&1 | sed -nE 's/.*librdkafka ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p')"
if [[ -n "$librdkafka" && "$(printf '%s\n2.6.1\n' "$librdkafka" | sort -V | head -1)" != 2.6.1 ]]; then
  log "kcat SASL_SSL SCRAM-SHA-512 (librdkafka $librdkafka, before 2.6.1): refused"
  if kcat_sasl admin "$ADMIN_PASSWORD" SCRAM-SHA-512 -L -m 10 >"$WORK/kcat-scram.out" 2>&1; then
    fail "kcat with librdkafka $librdkafka authenticated with SCRAM, which it does not do as RFC 5802 says"
  elif grep -q 'invalid credentials with SASL mechanism SCRAM-SHA-512' "$WORK/kcat-scram.out"; then
    pass "kcat (librdkafka $librdkafka) SCRAM-SHA-512 refused as invalid credentials, as Kafka 4 refuses it"
  else
    show kcat-scram; fail "kcat SCRAM-SHA-512 failed otherwise than with invalid credentials"
  fi
else
  log "kcat SASL_SSL SCRAM-SHA-512 (librdkafka $librdkafka): produce and consume"
  if printf 's1:w1\n' | kcat_sasl admin "$ADMIN_PASSWORD" SCRAM-SHA-512 -t "$TOPIC-scram" -P -K: >"$WORK/kcat-scram.out" 2>&1 \
      && kcat_sasl admin "$ADMIN_PASSWORD" SCRAM-SHA-512 -t "$TOPIC-scram" -C -o beginning -e -q -f '%k=%s\n' \
        >"$WORK/kcat-scram-consume.out" 2>&1 && [[ "$(sorted "$WORK/kcat-scram-consume.out")" == "s1=w1 " ]]; then
    pass "kcat SASL_SSL SCRAM-SHA-512 produced and consumed"
  else
    show kcat-scram; fail "kcat SASL_SSL SCRAM-SHA-512 did not produce and consume"
  fi
fi

log "kafka-console-producer / -consumer with SASL_SSL SCRAM-SHA-512 as admin"
seq 0 9 | sed 's/^/line-/' >"$WORK/lines"
if tool sasl-producer $T.ConsoleProducer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC-console" \
      --command-config "$TLS/kafka-admin-sasl.properties" --producer-property acks=all <"$WORK/lines" \
    && tool sasl-consumer $T.consumer.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC-console" \
      --command-config "$TLS/kafka-admin-sasl.properties" --from-beginning --max-messages 10 --timeout-ms 30000 \
    && [[ "$(grep -c '^line-' "$WORK/sasl-consumer.out")" -eq 10 ]]; then
  pass "kafka-console-producer and kafka-console-consumer with SASL_SSL SCRAM-SHA-512 wrote and read 10 lines"
else
  show sasl-producer; show sasl-consumer
  fail "kafka-console-producer/-consumer with SASL_SSL SCRAM-SHA-512 did not write and read 10 lines"
fi

log "refused: a plaintext client, a wrong password, an unknown user"
if timeout 30 kcat -b "$BOOTSTRAP" -L -m 5 >"$WORK/kcat-plain.out" 2>&1; then
  show kcat-plain; fail "a plaintext kcat got metadata from the SASL_SSL listener"
else
  pass "a plaintext kcat is refused by the SASL_SSL listener ($(grep -o 'Disconnected while requesting ApiVersion' "$WORK/kcat-plain.out" | head -1))"
fi
if kcat_sasl admin "wrong-$ADMIN_PASSWORD" PLAIN -L -m 5 >"$WORK/kcat-wrong.out" 2>&1; then
  show kcat-wrong; fail "kcat with a wrong password got metadata"
elif grep -q 'SASL authentication error' "$WORK/kcat-wrong.out"; then
  pass "kcat with a wrong password for admin is refused (SASL authentication error)"
else
  show kcat-wrong; fail "kcat with a wrong password failed, but not with a SASL authentication error"
fi
if kcat_sasl nobody "$ADMIN_PASSWORD" PLAIN -L -m 5 >"$WORK/kcat-unknown.out" 2>&1; then
  show kcat-unknown; fail "kcat as an unknown user got metadata"
elif grep -q 'SASL authentication error' "$WORK/kcat-unknown.out"; then
  pass "kcat as an unknown user is refused (SASL authentication error)"
else
  show kcat-unknown; fail "kcat as an unknown user failed, but not with a SASL authentication error"
fi
sed "s/username=\"admin\" password=\"[^\"]*\"/username=\"admin\" password=\"wrong\"/" "$TLS/kafka-admin-sasl.properties" \
  >"$WORK/wrong-sasl.properties"
if tool wrong-topics $T.TopicCommand --bootstrap-server "$BOOTSTRAP" --command-config "$WORK/wrong-sasl.properties" --list; then
  show wrong-topics; fail "kafka-topics with a wrong SCRAM-SHA-512 password listed topics"
elif grep -q 'SaslAuthenticationException' "$WORK/wrong-topics.out"; then
  pass "kafka-topics with a wrong SCRAM-SHA-512 password is refused (SaslAuthenticationException)"
else
  show wrong-topics; fail "kafka-topics with a wrong SCRAM-SHA-512 password failed otherwise than with SaslAuthenticationException"
fi

log "user alice (kafka-configs as admin), no ACLs: her producer is refused; then kafka-acls allows her Write"
ALICE_PASSWORD="alice-$$-secret"
cat >"$WORK/alice.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="$ALICE_PASSWORD";
ssl.truststore.location=$TLS/truststore.p12
ssl.truststore.password=$(cat "$TLS/store-password")
EOF
if tool alice-add $T.ConfigCommand --bootstrap-server "$BOOTSTRAP" --command-config "$TLS/kafka-admin-sasl.properties" \
    --alter --add-config "SCRAM-SHA-512=[password=$ALICE_PASSWORD]" --entity-type users --entity-name alice; then
  pass "kafka-configs as admin made the SCRAM-SHA-512 user alice"
else
  show alice-add; fail "kafka-configs as admin could not make user alice"
fi
# Idempotence off: the write is refused on the topic itself (an idempotent producer without any
# Write first fails InitProducerId on the cluster, racing the topic's metadata).
alice_produce() {
  tool "$1" $T.ConsoleProducer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" --command-config "$WORK/alice.properties" \
    --producer-property acks=all --producer-property enable.idempotence=false --producer-property max.block.ms=20000 \
    <<<"$2"
}
# The records of $TOPIC, read by admin.
topic_records() {
  kcat_sasl admin "$ADMIN_PASSWORD" PLAIN -t "$TOPIC" -C -o beginning -e -q -f '%s\n' 2>/dev/null | sort | tr '\n' ' '
}
alice_produce alice-refused "from-alice-refused" || true
if grep -Eq 'TopicAuthorizationException|TOPIC_AUTHORIZATION_FAILED|Not authorized to access topics' "$WORK/alice-refused.out"; then
  pass "alice without ACLs is refused writing to $TOPIC ($(grep -Eo 'TopicAuthorizationException|TOPIC_AUTHORIZATION_FAILED' "$WORK/alice-refused.out" | head -1))"
else
  show alice-refused; fail "alice without ACLs was not refused with TOPIC_AUTHORIZATION_FAILED"
fi
if [[ "$(topic_records)" == "v1 v2 v3 " ]]; then
  pass "the refused write stored nothing ($TOPIC still holds v1 v2 v3)"
else
  fail "$TOPIC holds '$(topic_records)' after alice's refused write, expected v1 v2 v3"
fi
if tool acl-add $T.AclCommand --bootstrap-server "$BOOTSTRAP" --command-config "$TLS/kafka-admin-sasl.properties" \
    --add --allow-principal User:alice --operation Write --topic "$TOPIC"; then
  pass "kafka-acls as admin: --add --allow-principal User:alice --operation Write --topic $TOPIC"
else
  show acl-add; fail "kafka-acls as admin could not add alice's Write ACL"
fi
# The ACL reaches every broker through the metadata log: a producer that meets a broker yet to
# apply it is refused and stores nothing, so it tries again for up to 20 s.
deadline=$((SECONDS + 20))
while alice_produce alice-allowed "from-alice"; grep -Eq 'AUTHORIZATION_FAILED|AuthorizationException' "$WORK/alice-allowed.out" \
    && ((SECONDS < deadline)); do
  sleep 1
done
if grep -Eq 'Exception|AUTHORIZATION_FAILED' "$WORK/alice-allowed.out"; then
  show alice-allowed; fail "alice with her Write ACL still could not write to $TOPIC"
elif [[ "$(topic_records)" == "from-alice v1 v2 v3 " ]]; then
  pass "alice with her Write ACL wrote to $TOPIC (admin reads her record back)"
else
  show alice-allowed; fail "after alice's allowed write $TOPIC holds '$(topic_records)', expected from-alice v1 v2 v3"
fi

log "raftmq users list over gRPC SASL_SSL as admin (client-admin.properties)"
if timeout 60 bin/raftmq users list --bootstrap-server "$GRPC_BOOTSTRAP" --command-config "$TLS/client-admin.properties" \
      >"$WORK/users-list.out" 2>&1 \
    && grep -Eq '^admin +SCRAM-SHA-512' "$WORK/users-list.out" && grep -Eq '^alice +SCRAM-SHA-512' "$WORK/users-list.out"; then
  pass "raftmq users list over gRPC SASL_SSL shows admin and alice"
else
  show users-list; fail "raftmq users list over gRPC SASL_SSL does not show admin and alice"
fi
if timeout 60 bin/raftmq users list --bootstrap-server "$GRPC_BOOTSTRAP" >"$WORK/users-plain.out" 2>&1; then
  show users-plain; fail "the raftmq CLI without TLS settings was answered by the TLS gRPC port"
else
  pass "the raftmq CLI without TLS settings gets no answer from the TLS gRPC port"
fi

log "stop; start without --secure: the remembered mode; start --secure=mtls on this home: refused"
deploy/cluster.sh stop >/dev/null
if deploy/cluster.sh start --secure=mtls >"$WORK/start-other.out" 2>&1; then
  fail "start --secure=mtls on a home made with --secure was accepted"
  deploy/cluster.sh stop >/dev/null
elif grep -q 'not switched' "$WORK/start-other.out"; then
  pass "start --secure=mtls on a home made with --secure is refused ($(head -c 120 "$WORK/start-other.out")...)"
else
  show start-other; fail "start --secure=mtls on a home made with --secure failed without saying why"
fi
if deploy/cluster.sh start >"$WORK/start-again.out" 2>&1 && grep -q 'starting it secured again' "$WORK/start-again.out"; then
  pass "start without --secure on the same home starts it secured again, and says so"
else
  show start-again 40; die "start without --secure on the secured home failed"
fi
if timeout 30 kcat -b "$BOOTSTRAP" -L -m 5 >"$WORK/kcat-plain2.out" 2>&1; then
  fail "after the restart a plaintext kcat got metadata"
else
  pass "after the restart the listener still refuses a plaintext kcat"
fi
if [[ "$(topic_records)" == "from-alice v1 v2 v3 " ]]; then
  pass "after the restart admin (PLAIN, same password) reads $TOPIC: from-alice v1 v2 v3"
else
  fail "after the restart admin reads '$(topic_records)' from $TOPIC, expected from-alice v1 v2 v3"
fi
deploy/cluster.sh clean >/dev/null

# ================================ start --secure=mtls: SSL ========================================
new_home
log "deploy/cluster.sh start --secure=mtls (RAFTMQ_HOME=$RAFTMQ_HOME)"
deploy/cluster.sh start --secure=mtls >"$WORK/start-mtls.out" 2>&1 || { show start-mtls 40; die "start --secure=mtls failed"; }
show start-mtls 12
if [[ -f "$TLS/kafka-admin-mtls.properties" && "$(stat -c %a "$TLS/kafka-admin-mtls.properties")" == 600 ]]; then
  pass "start --secure=mtls wrote kafka-admin-mtls.properties (mode 600)"
else
  fail "start --secure=mtls did not write $TLS/kafka-admin-mtls.properties with mode 600"
fi

log "kafka-console-producer / -consumer with mTLS (the admin keystore)"
if tool mtls-producer $T.ConsoleProducer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC-mtls" \
      --command-config "$TLS/kafka-admin-mtls.properties" --producer-property acks=all <"$WORK/lines" \
    && tool mtls-consumer $T.consumer.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC-mtls" \
      --command-config "$TLS/kafka-admin-mtls.properties" --from-beginning --max-messages 10 --timeout-ms 30000 \
    && [[ "$(grep -c '^line-' "$WORK/mtls-consumer.out")" -eq 10 ]]; then
  pass "kafka-console-producer and kafka-console-consumer with mTLS (CN=admin) wrote and read 10 lines"
else
  show mtls-producer; show mtls-consumer
  fail "kafka-console-producer/-consumer with mTLS did not write and read 10 lines"
fi

kcat_mtls() {
  timeout 60 kcat -b "$BOOTSTRAP" -X security.protocol=SSL -X ssl.ca.location="$TLS/ca.crt" \
    -X ssl.certificate.location="$TLS/client-admin.crt" -X ssl.key.location="$TLS/client-admin.key" "$@"
}
log "kcat with the admin certificate: produce, consume"
if printf 'm1:n1\nm2:n2\n' | kcat_mtls -t "$TOPIC-kcat" -P -K: -X request.required.acks=-1 >"$WORK/kcat-mtls.out" 2>&1 \
    && kcat_mtls -t "$TOPIC-kcat" -C -o beginning -e -q -f '%k=%s\n' >"$WORK/kcat-mtls-consume.out" 2>&1 \
    && [[ "$(sorted "$WORK/kcat-mtls-consume.out")" == "m1=n1 m2=n2 " ]]; then
  pass "kcat with mTLS (CN=admin) produced and consumed m1=n1 m2=n2"
else
  show kcat-mtls; show kcat-mtls-consume
  fail "kcat with mTLS did not produce and read back m1=n1 m2=n2"
fi

log "refused: TLS without a client certificate, plaintext"
if timeout 30 kcat -b "$BOOTSTRAP" -X security.protocol=SSL -X ssl.ca.location="$TLS/ca.crt" -L -m 5 \
    >"$WORK/kcat-nocert.out" 2>&1; then
  show kcat-nocert; fail "kcat without a client certificate got metadata (ssl.client.auth=required)"
else
  pass "kcat without a client certificate is refused (ssl.client.auth=required)"
fi
if timeout 30 kcat -b "$BOOTSTRAP" -L -m 5 >"$WORK/kcat-plain3.out" 2>&1; then
  show kcat-plain3; fail "a plaintext kcat got metadata from the SSL listener"
else
  pass "a plaintext kcat is refused by the SSL listener"
fi

echo
if ((FAILS > 0)); then
  log "FAILED: $FAILS of $((PASSES + FAILS)) checks"
  exit 1
fi
log "PASSED: all $PASSES checks of the secured local cluster"
