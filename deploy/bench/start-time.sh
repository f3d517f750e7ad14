#!/usr/bin/env bash
# Start time of the local 3-node cluster (deploy/cluster.sh) from the built jar: starts it RUNS
# times, each in a new temporary RAFTMQ_HOME (fresh data, TLS material made once before the first
# run and copied in, so certificate making is not counted), and prints per run the time from launch
# (just before `cluster.sh start`) to ready (the last node's "[broker N] FENCED -> RUNNING" log
# line), the phases read from the nodes' own log timestamps, and the medians. When the jar has no
# class-data archive yet (cluster.sh makes one on the first start after a build), an uncounted
# start makes it first; RAFTMQ_CDS=off measures starts without it. It stops every node
# it started (cluster.sh stop) after each run, and on exit.
#
#   deploy/bench/start-time.sh [RUNS]          default 5
#   deploy/bench/start-time.sh --floor [RUNS]  the floor: `java -version` and an empty main on the
#                                              node jar's class path, 3 JVMs in parallel
#
# RAFTMQ_PORT_OFFSET (default 12000) moves every port, so it never uses the default ones;
# RAFTMQ_JAVA_OPTS is passed on to cluster.sh. Needs the jar (mvn -B -DskipTests package).
#
# Phases (each the slowest of the 3 nodes, from launch): main = the node's first log line;
# raft = "metadata Raft node started"; leader = the first "metadata quorum leader -1 -> N" with
# N >= 0 that a node logged; ready = the last "FENCED -> RUNNING". CPU = user + system time of the
# three JVMs when cluster.sh start returned: on a shared machine the steadier figure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JAR="$ROOT/broker-node/target/raftmq-node.jar"
export RAFTMQ_PORT_OFFSET="${RAFTMQ_PORT_OFFSET:-12000}"
[[ -f "$JAR" ]] || { echo "no $JAR: build it first (mvn -B -DskipTests package)" >&2; exit 2; }

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) { print "-"; exit } if (NR % 2) print a[(NR + 1) / 2]; else printf "%d\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Milliseconds since the epoch of a node log line's leading "yyyy-MM-dd HH:mm:ss.SSS".
line_ms() { local ts; ts="$(cut -c1-23 <<< "$1")"; echo $(($(date -d "$ts" +%s%N) / 1000000)); }

floor() {
  local runs=$1 i t0
  CLS="$(mktemp -d)"
  trap 'rm -rf "$CLS"' EXIT
  local cls="$CLS"
  printf 'public class Empty { public static void main(String[] a) { } }\n' > "$cls/Empty.java"
  javac -d "$cls" "$cls/Empty.java"
  local version=() empty=()
  for ((i = 1; i <= runs; i++)); do
    t0=$(now_ms)
    for _ in 1 2 3; do java -version 2>/dev/null & done; wait
    version+=($(($(now_ms) - t0)))
    t0=$(now_ms)
    # shellcheck disable=SC2086
    for _ in 1 2 3; do java ${RAFTMQ_JAVA_OPTS:-} -cp "$JAR:$cls" Empty & done; wait
    empty+=($(($(now_ms) - t0)))
    echo "run $i: java -version x3 ${version[-1]} ms, empty main on the node jar's class path x3 ${empty[-1]} ms"
  done
  echo "median of $runs: java -version x3 $(printf '%s\n' "${version[@]}" | median) ms," \
    "empty main x3 $(printf '%s\n' "${empty[@]}" | median) ms"
}

if [[ "${1:-}" == --floor ]]; then
  floor "${2:-5}"
  exit 0
fi

RUNS="${1:-5}"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive whole number, got '$RUNS'" >&2; exit 2; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/raftmq-start-time.XXXXXX")"
HOME_NOW=""
cleanup() {
  if [[ -n "$HOME_NOW" ]]; then RAFTMQ_HOME="$HOME_NOW" "$ROOT/deploy/cluster.sh" stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
"$ROOT/deploy/certs.sh" "$WORK/tls" --nodes 1,2,3 --clients admin >/dev/null

# The first start after a jar build makes cluster.sh's class-data archive: not a start to count.
ARCHIVE="${JAR%.jar}.jsa"
if [[ "${RAFTMQ_CDS:-on}" == on ]] && { [[ ! -f "$ARCHIVE" ]] || [[ "$JAR" -nt "$ARCHIVE" ]]; }; then
  echo "run 0: not counted, it makes the class-data archive $ARCHIVE"
  HOME_NOW="$WORK/run-0"
  mkdir -p "$HOME_NOW"
  cp -a "$WORK/tls" "$HOME_NOW/tls"
  RAFTMQ_HOME="$HOME_NOW" "$ROOT/deploy/cluster.sh" start >/dev/null
  RAFTMQ_HOME="$HOME_NOW" "$ROOT/deploy/cluster.sh" stop >/dev/null
  HOME_NOW=""
fi

mains=() rafts=() cpus=() leaders=() readys=() returns=()
for ((i = 1; i <= RUNS; i++)); do
  HOME_NOW="$WORK/run-$i"
  mkdir -p "$HOME_NOW"
  cp -a "$WORK/tls" "$HOME_NOW/tls"
  t0=$(now_ms)
  if ! RAFTMQ_HOME="$HOME_NOW" "$ROOT/deploy/cluster.sh" start > "$HOME_NOW/start.out" 2>&1; then
    # Ports past 32768 are in Linux's ephemeral range: another process's connection may hold one.
    echo "run $i: not counted, the cluster did not start: $(grep -m1 -E 'failed to start|not ready' "$HOME_NOW/start.out" || tail -1 "$HOME_NOW/start.out")"
    RAFTMQ_HOME="$HOME_NOW" "$ROOT/deploy/cluster.sh" stop >/dev/null
    HOME_NOW=""
    continue
  fi
  returned=$(($(now_ms) - t0))
  # CPU the three JVMs have used so far (user + system, clock ticks -> ms): what a start costs
  # whatever else the machine runs; on C cores it takes at least cpu / C of wall time.
  cpu=0
  for n in 1 2 3; do
    ticks=$(awk '{ print $14 + $15 }' "/proc/$(cat "$HOME_NOW/node-$n.pid")/stat")
    cpu=$((cpu + ticks * 1000 / $(getconf CLK_TCK)))
  done
  main=0 raft=0 ready=0 leader=""
  for n in 1 2 3; do
    log="$HOME_NOW/node-$n.log"
    m=$(($(line_ms "$(grep -m1 '^[0-9]' "$log")") - t0))
    r=$(($(line_ms "$(grep -m1 'metadata Raft node started' "$log")") - t0))
    u=$(($(line_ms "$(grep -m1 "\[broker $n\] FENCED -> RUNNING" "$log")") - t0))
    l_line="$(grep -m1 -E 'metadata quorum leader -1 -> [0-9]' "$log" || true)"
    ((m > main)) && main=$m
    ((r > raft)) && raft=$r
    ((u > ready)) && ready=$u
    if [[ -n "$l_line" ]]; then
      l=$(($(line_ms "$l_line") - t0))
      if [[ -z "$leader" ]] || ((l < leader)); then leader=$l; fi
    fi
  done
  epoch="$(sed -nE 's/^cluster ready: .*\(epoch ([0-9]+)\)$/\1/p' "$HOME_NOW/start.out")"
  RAFTMQ_HOME="$HOME_NOW" "$ROOT/deploy/cluster.sh" stop >/dev/null
  HOME_NOW=""
  cpus+=("$cpu") mains+=("$main") rafts+=("$raft") leaders+=("${leader:-0}") readys+=("$ready") returns+=("$returned")
  echo "run $i: launch -> ready $ready ms (main $main, raft $raft, leader ${leader:--}; cluster.sh start returned after $returned ms, CPU of the 3 JVMs by then $cpu ms; controller epoch ${epoch:-?})"
done
echo "median of ${#readys[@]} runs: launch -> ready $(printf '%s\n' "${readys[@]}" | median) ms" \
  "(main $(printf '%s\n' "${mains[@]}" | median), raft $(printf '%s\n' "${rafts[@]}" | median)," \
  "leader $(printf '%s\n' "${leaders[@]}" | median); cluster.sh start returned after" \
  "$(printf '%s\n' "${returns[@]}" | median) ms, CPU $(printf '%s\n' "${cpus[@]}" | median) ms)"
