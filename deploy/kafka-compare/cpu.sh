# CPU accounting for the benchmark scripts (sourced by run.sh and raftmq-perf.sh).
#   nodes_cpu PID_DIR         CPU seconds (user + system) the nodes whose pid files (node-N.pid)
#                             are in PID_DIR have used so far, from /proc
#   cpu_line LOGFILE BEFORE   "CPU: client X s, nodes Y s": the tool whose `/usr/bin/time -f '%U %S'`
#                             output is in LOGFILE.cpu, and the nodes since BEFORE (a nodes_cpu value);
#                             reads the pid dir from CPU_PID_DIR
nodes_cpu() {
  local total=0 f ticks
  for f in "$1"/node-*.pid; do
    ticks="$(awk '{ print $14 + $15 }' "/proc/$(cat "$f")/stat" 2>/dev/null || echo 0)"
    total=$((total + ticks))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
cpu_line() {
  echo "CPU: client $(awk '{ printf "%.2f", $1 + $2 }' "$1.cpu" 2>/dev/null) s, nodes $(awk -v a="$2" \
    -v b="$(nodes_cpu "$CPU_PID_DIR")" 'BEGIN { printf "%.2f", b - a }') s"
}
