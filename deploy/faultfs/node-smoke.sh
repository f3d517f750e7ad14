#!/usr/bin/env bash
# End-to-end check of faultfs with one real raftmq node: the node's data directory on faultfs,
# records produced with acks=all (flush.mode=group: acknowledged = fsynced), kill -9, drop-unsynced
# (power loss), restart, and every acknowledged record must be read back, in order. A second topic
# with flush.mode=os shows what a power loss takes when nothing is fsynced (printed, not checked).
# Also prints faultfs's write throughput (dd conv=fsync).
#
#   sudo deploy/faultfs/node-smoke.sh [strict|journal]
#
# strict (default): a directory entry survives only if its directory was fsynced (faultfs
# --dirsync-mode strict); journal: any fsync also commits every earlier create, rename and delete, as
# ext4's journal does in practice.
#
# Needs root (FUSE mount) and Java 17; installs Debian's python3-fusepy and fuse3 when missing;
# builds broker-node/target/raftmq-node.jar and cli/target/raftmq-cli.jar when missing.
# Environment: FAULTFS_PYTHON     the Python 3 that has fusepy (default /usr/bin/python3)
#              RAFTMQ_MVN_FLAGS   extra Maven flags for the build (e.g. -o)
#              RAFTMQ_KEEP=1      keep the work directory (logs, backing dir) even on success
set -euo pipefail
MODE="${1:-strict}"
[[ "$MODE" == strict || "$MODE" == journal ]] || { echo "usage: $0 [strict|journal]" >&2; exit 2; }

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PYTHON="${FAULTFS_PYTHON:-/usr/bin/python3}"
NODE_JAR="$ROOT/broker-node/target/raftmq-node.jar"
CLI_JAR="$ROOT/cli/target/raftmq-cli.jar"
RECORDS=300
WORK="$(mktemp -d /tmp/faultfs-smoke.XXXXXX)"
MNT="$WORK/mnt"
BACKING="$WORK/backing"
FS_PID=""
NODE_PID=""
OK=0

log() { echo "[node-smoke $(date +%T)] $*"; }
die() { log "FAILED: $*" >&2; exit 1; }

cleanup() {
  set +e
  [[ -n "$NODE_PID" ]] && kill -9 "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
  if [[ -n "$FS_PID" ]]; then
    mountpoint -q "$MNT" && { fusermount3 -u "$MNT" 2>/dev/null || umount "$MNT"; }
    wait "$FS_PID" 2>/dev/null
  fi
  if ((OK)) && [[ -z "${RAFTMQ_KEEP:-}" ]]; then
    rm -rf "$WORK"
  else
    log "work directory kept: $WORK (node.log, faultfs.log, backing/)"
  fi
}
trap cleanup EXIT

[[ $EUID -eq 0 ]] || die "needs root (FUSE mount, apt-get); run: sudo $0"
[[ -e /dev/fuse ]] || die "/dev/fuse is missing"
missing=()
"$PYTHON" -c 'import fusepy' 2>/dev/null || missing+=(python3-fusepy)
command -v fusermount3 >/dev/null || missing+=(fuse3)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  timeout 600 apt-get update -q >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi
if [[ ! -f "$NODE_JAR" || ! -f "$CLI_JAR" ]]; then
  log "building the node and cli jars"
  # shellcheck disable=SC2086
  (cd "$ROOT" && mvn -B -q ${RAFTMQ_MVN_FLAGS:-} -pl broker-node,cli -am package -DskipTests)
fi

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GRPC=$(free_port); KAFKA=$(free_port); RAFT=$(free_port)
BOOTSTRAP="127.0.0.1:$GRPC"
cli() { java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar "$CLI_JAR" "$@"; }
ctl() { echo "$1" > "$MNT/.faultfs"; }

# The data directory exists before the node starts, as an operator would create it (durably).
mkdir -p "$MNT" "$BACKING/data"
"$PYTHON" "$HERE/faultfs.py" --dirsync-mode "$MODE" "$BACKING" "$MNT" > "$WORK/faultfs.out" 2> "$WORK/faultfs.log" &
FS_PID=$!
for _ in $(seq 100); do grep -q "faultfs ready" "$WORK/faultfs.out" && break; sleep 0.1; done
grep -q "faultfs ready" "$WORK/faultfs.out" || die "faultfs did not start: $(cat "$WORK/faultfs.log")"
log "faultfs mounted on $MNT (backing $BACKING, dirsync-mode $MODE)"

dd if=/dev/zero of="$MNT/dd.test" bs=1M count=32 conv=fsync 2>&1 | tail -1 | sed 's/^/[node-smoke] faultfs write throughput (dd bs=1M count=32 conv=fsync): /'
rm -f "$MNT/dd.test"

# The Raft port is mutual TLS only: the node's stores, made outside the faultfs mount.
"$ROOT/deploy/certs.sh" "$WORK/tls" --nodes 1 >/dev/null || die "deploy/certs.sh failed"
STORE_PASSWORD="$(cat "$WORK/tls/store-password")"
cat > "$WORK/node.properties" <<EOF
node.id=1
process.roles=broker,controller
data.dir=$MNT/data
grpc.listener=127.0.0.1:$GRPC
kafka.listener=127.0.0.1:$KAFKA
http.listener=none
controller.quorum.voters=1@127.0.0.1:$RAFT
controller.quorum.bootstrap.servers=$BOOTSTRAP
ssl.keystore.location=$WORK/tls/node-1.p12
ssl.keystore.password=$STORE_PASSWORD
ssl.truststore.location=$WORK/tls/truststore.p12
ssl.truststore.password=$STORE_PASSWORD
EOF

start_node() {
  local start; start=$(stat -c %s "$WORK/node.log" 2>/dev/null || echo 0)
  java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar "$NODE_JAR" "$WORK/node.properties" \
    >> "$WORK/node.log" 2>&1 &
  NODE_PID=$!
  for _ in $(seq 600); do
    kill -0 "$NODE_PID" 2>/dev/null || { tail -30 "$WORK/node.log" >&2; die "the node exited while starting"; }
    tail -c +"$((start + 1))" "$WORK/node.log" | grep -q "\[broker 1\] FENCED -> RUNNING" && return 0
    sleep 0.1
  done
  die "the node was not ready within 60 s (see $WORK/node.log)"
}

start_node
log "node started (pid $NODE_PID, gRPC $BOOTSTRAP)"
cli topics --bootstrap-server "$BOOTSTRAP" --create --topic durable --partitions 1 --replication-factor 1 >/dev/null
cli topics --bootstrap-server "$BOOTSTRAP" --create --topic unsynced --partitions 1 --replication-factor 1 \
  --config flush.mode=os >/dev/null
seq -f "record-%g" 1 "$RECORDS" > "$WORK/expected"
cli console-producer --bootstrap-server "$BOOTSTRAP" --topic durable --acks all < "$WORK/expected" \
  || die "producing to durable failed"
cli console-producer --bootstrap-server "$BOOTSTRAP" --topic unsynced --acks all < "$WORK/expected" \
  || die "producing to unsynced failed"
log "$RECORDS records acknowledged on each topic; faultfs: $(cat "$MNT/.faultfs")"

kill -9 "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true; NODE_PID=""
[[ -n "${FAULTFS_SMOKE_NO_DROP:-}" ]] || ctl drop-unsynced
log "node killed (kill -9), then drop-unsynced: $(cat "$MNT/.faultfs")"

start_node
log "node restarted on the surviving data"
# One record more on each topic after the restart: a sole-replica leader's high watermark moves only
# on an append (raftmq's becomeLeader does not advance it to the log end as Kafka's makeLeader does),
# so without it a consumer would see nothing of what survived.
echo after-restart > "$WORK/extra"
for topic in durable unsynced; do
  cli console-producer --bootstrap-server "$BOOTSTRAP" --topic "$topic" --acks all < "$WORK/extra" \
    || die "producing to $topic after the restart failed"
done
cat "$WORK/expected" "$WORK/extra" > "$WORK/expected-after"
cli console-consumer --bootstrap-server "$BOOTSTRAP" --topic durable --from-beginning \
  --max-messages "$((RECORDS + 1))" --timeout-ms 15000 > "$WORK/durable.read" 2>> "$WORK/cli.log" || true
cli console-consumer --bootstrap-server "$BOOTSTRAP" --topic unsynced --from-beginning \
  --max-messages "$((RECORDS + 1))" --timeout-ms 5000 > "$WORK/unsynced.read" 2>> "$WORK/cli.log" || true
log "flush.mode=os topic: $(grep -c '^record-' "$WORK/unsynced.read") of $RECORDS acknowledged records survived the power loss (not checked)"
if ! diff -q "$WORK/expected-after" "$WORK/durable.read" >/dev/null; then
  die "flush.mode=group topic: read back $(grep -c '^record-' "$WORK/durable.read") of $RECORDS acknowledged records; diff: $(diff "$WORK/expected-after" "$WORK/durable.read" | head -5)"
fi
log "OK: all $RECORDS acknowledged records of the flush.mode=group topic read back in order after the power loss"
OK=1
