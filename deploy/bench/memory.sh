#!/usr/bin/env bash
# Memory per node of the local 3-node cluster (deploy/cluster.sh) under the standard `raftmq perf`
# workload (docs/BENCHMARKS.md, "Client throughput and latency"): starts the cluster in a new
# temporary RAFTMQ_HOME with Native Memory Tracking on (-XX:NativeMemoryTracking=summary through
# RAFTMQ_JAVA_EXTRA_OPTS), then prints each node's RSS idle and after each workload phase
# (produce acks=all, produce acks=1, consume, end-to-end), and at the end, per node: the JVM's own
# split (NMT committed by category: heap, class metadata, code, thread stacks, GC, "Other" = direct
# buffers such as Netty's, ...), the resident memory by mapping (heap, class-data archive, code
# cache, files, other anonymous memory: the last holds what NMT does not see, RocksDB's, BoringSSL's
# and glibc's malloc), GC counts and times, and its threads by name. It stops the cluster
# (cluster.sh stop) and deletes its data on exit.
#
#   deploy/bench/memory.sh
#
# RAFTMQ_PORT_OFFSET (default 20000: its ports stay below Linux's ephemeral range) moves every port;
# RAFTMQ_JAVA_OPTS is passed on to cluster.sh (the node JVM's options; unset: cluster.sh's defaults).
# NUM_RECORDS (default 1000000) and E2E_RECORDS (default 10000) size the workload. Needs the node
# and CLI jars (mvn -B -DskipTests package). NMT itself costs each node about 1 MB (its line in the
# split).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JAR="$ROOT/broker-node/target/raftmq-node.jar"
export RAFTMQ_PORT_OFFSET="${RAFTMQ_PORT_OFFSET:-20000}"
NUM_RECORDS="${NUM_RECORDS:-1000000}"
E2E_RECORDS="${E2E_RECORDS:-10000}"
[[ -f "$JAR" ]] || { echo "no $JAR: build it first (mvn -B -DskipTests package)" >&2; exit 2; }
command -v jcmd >/dev/null || { echo "jcmd not found: it comes with a JDK (not a JRE)" >&2; exit 2; }

export RAFTMQ_HOME; RAFTMQ_HOME="$(mktemp -d "${TMPDIR:-/tmp}/raftmq-memory.XXXXXX")"
export RAFTMQ_JAVA_EXTRA_OPTS="${RAFTMQ_JAVA_EXTRA_OPTS:+$RAFTMQ_JAVA_EXTRA_OPTS }-XX:NativeMemoryTracking=summary"
cleanup() {
  "$ROOT/deploy/cluster.sh" stop >/dev/null 2>&1 || true
  rm -rf "$RAFTMQ_HOME"
}
trap cleanup EXIT

BOOTSTRAP=""
for n in 1 2 3; do BOOTSTRAP+="${BOOTSTRAP:+,}127.0.0.1:$((RAFTMQ_PORT_OFFSET + 9093 + 100 * (n - 1)))"; done
pid() { cat "$RAFTMQ_HOME/node-$1.pid"; }
mb() { echo $(($1 / 1024)); }   # KiB -> MiB
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
rollup_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup"; }

# One line per node: RSS (anonymous + file-backed) and NMT's committed total, in MiB.
print_rss() {
  local phase="$1" n p line=""
  for n in 1 2 3; do
    p="$(pid "$n")"
    local nmt
    nmt="$(jcmd "$p" VM.native_memory summary | sed -nE 's/^Total: reserved=[0-9]+KB, committed=([0-9]+)KB.*/\1/p')"
    line+="$(printf '  node %s %4s MB (anon %s, file %s; NMT %s)' "$n" "$(mb "$(status_kb "$p" VmRSS)")" \
      "$(mb "$(status_kb "$p" RssAnon)")" "$(mb "$(status_kb "$p" RssFile)")" "$(mb "${nmt:-0}")")"
  done
  printf '%-22s RSS%s\n' "$phase" "$line"
}

# Resident memory of one JVM by mapping (MiB), from /proc/PID/smaps: the Java heap (the address
# range GC.heap_info prints), the class-data archive (*.jsa; the JDK relocates it at start, so most
# of it is anonymous), the code cache (the anonymous executable mappings), file-backed mappings
# (libraries, the jar) and the other anonymous memory (metaspace, thread stacks, direct buffers,
# malloc of the JVM and of native libraries: RocksDB, BoringSSL, glibc's arenas).
print_resident() {
  local p="$1" lo hi
  # Every address GC.heap_info prints lies in the heap: its lowest and highest bound it.
  read -r lo hi < <(jcmd "$p" GC.heap_info | grep -oE '0x[0-9a-f]+' | sed 's/^0x//' \
    | awk '{ a = substr("0000000000000000", 1, 16 - length($1)) $1; if (lo == "" || a < lo) lo = a; if (a > hi) hi = a }
           END { print lo, hi }')
  awk -v lo="$lo" -v hi="$hi" '
    function pad(h) { return substr("0000000000000000", 1, 16 - length(h)) h }
    /^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); start = pad(r[1]); perms = $2; name = $6; next }
    /^Rss:/ {
      if (start >= lo && start < hi) k = "heap"
      else if (name ~ /\.jsa$/) k = "archive"
      else if (name == "" && perms ~ /x/) k = "code"
      else if (name ~ /^\//) k = "files"
      else k = "other"
      kb[k] += $2
    }
    END { printf "    resident: Java heap %d, class-data archive %d, code cache %d, files (libraries, jar) %d, other anonymous %d MB\n",
          kb["heap"] / 1024, kb["archive"] / 1024, kb["code"] / 1024, kb["files"] / 1024, kb["other"] / 1024 }
  ' "/proc/$p/smaps"
}

# Per node: NMT's committed memory by category (MiB, the ones over 1 MiB), threads by name prefix,
# and RSS minus NMT's total.
print_split() {
  local n p
  for n in 1 2 3; do
    p="$(pid "$n")"
    local out total rss
    out="$(jcmd "$p" VM.native_memory summary)"
    total="$(sed -nE 's/^Total: reserved=[0-9]+KB, committed=([0-9]+)KB.*/\1/p' <<< "$out")"
    rss="$(status_kb "$p" VmRSS)"
    echo "node $n: RSS $(mb "$rss") MB (Pss $(mb "$(rollup_kb "$p" Pss)"), anon $(mb "$(status_kb "$p" RssAnon)"), file $(mb "$(status_kb "$p" RssFile)")); NMT committed $(mb "$total") MB; RSS - NMT $(mb $((rss - total))) MB"
    # "-   Java Heap (reserved=524288KB, committed=63872KB)" -> "Java Heap 62"
    sed -nE 's/^-[[:space:]]+(.+) \(reserved=[0-9]+KB, committed=([0-9]+)KB.*/\1|\2/p' <<< "$out" \
      | awk -F'|' '$2 >= 1024 { printf "    %-28s %5d MB\n", $1, $2 / 1024 }'
    print_resident "$p"
    # jstat -gc's last columns: YGC YGCT FGC FGCT (CGC CGCT) GCT.
    jstat -gc "$p" | awk 'NR == 2 { printf "    GC since start: %d young (%.2f s), %d full (%.2f s)\n", $(NF-6), $(NF-5), $(NF-4), $(NF-3) }'
    sed -nE 's/^[[:space:]]+\(thread #([0-9]+)\)/    threads: \1/p' <<< "$out"
    jcmd "$p" Thread.print | grep '^"' | sed -E 's/^"([^"]*)".*/\1/; s/[-#0-9 ]*$//; s/-[0-9]+-thread$//' \
      | sort | uniq -c | sort -rn | awk '{ c = $1; $1 = ""; printf "%s%s x%d", (NR > 1 ? ", " : "      "), substr($0, 2), c } END { print "" }'
  done
}

raftmq() { "$ROOT/bin/raftmq" "$@"; }
step() { # step PHASE OUTFILE LINES COMMAND...: runs a workload phase, prints its last LINES (the result) and the RSS
  local phase="$1" out="$RAFTMQ_HOME/$2" SUMMARY_LINES="$3"; shift 3
  "$@" > "$out" 2>&1 || { echo "$phase failed:" >&2; tail -20 "$out" >&2; exit 1; }
  echo "$phase: $(grep -v '^\[' "$out" | tail -"$SUMMARY_LINES" | paste -sd' ')"
  print_rss "after $phase"
}

# The first start after a jar build makes cluster.sh's class-data archive (node 1 then runs without
# it, nodes 2 and 3 too): not a start to measure, as nodes normally map the archive.
ARCHIVE="${JAR%.jar}.jsa"
if [[ "${RAFTMQ_CDS:-on}" == on ]] && { [[ ! -f "$ARCHIVE" ]] || [[ "$JAR" -nt "$ARCHIVE" ]]; }; then
  echo "making the class-data archive first (a start and stop, not measured)"
  "$ROOT/deploy/cluster.sh" start > "$RAFTMQ_HOME/start-0.out" 2>&1 || { cat "$RAFTMQ_HOME/start-0.out" >&2; exit 1; }
  "$ROOT/deploy/cluster.sh" clean > /dev/null
  mkdir -p "$RAFTMQ_HOME"
fi

echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg);" \
  "node JVM options: ${RAFTMQ_JAVA_OPTS:-cluster.sh defaults} $RAFTMQ_JAVA_EXTRA_OPTS"
"$ROOT/deploy/cluster.sh" start > "$RAFTMQ_HOME/start.out" 2>&1 || { cat "$RAFTMQ_HOME/start.out" >&2; exit 1; }
raftmq topics --bootstrap-server "$BOOTSTRAP" --create --topic perf-bench --partitions 3 --replication-factor 3 \
  --config min.insync.replicas=2 > /dev/null
raftmq topics --bootstrap-server "$BOOTSTRAP" --create --topic e2e-bench --partitions 1 --replication-factor 3 \
  --config min.insync.replicas=2 > /dev/null
print_rss "idle (topics made)"
for acks in all 1; do
  step "produce acks=$acks" "produce-$acks.out" 1 raftmq perf produce --bootstrap-server "$BOOTSTRAP" --topic perf-bench \
    --num-records "$NUM_RECORDS" --record-size 100 --throughput -1 --acks "$acks"
done
step consume consume.out 1 raftmq perf consume --bootstrap-server "$BOOTSTRAP" --topic perf-bench \
  --num-records $((2 * NUM_RECORDS))
step e2e e2e.out 2 raftmq perf e2e --bootstrap-server "$BOOTSTRAP" --topic e2e-bench --num-records "$E2E_RECORDS"
echo
print_split
