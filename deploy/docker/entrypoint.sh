#!/bin/bash
# Starts the node in the foreground as PID 1, so that `docker stop` (SIGTERM) reaches the JVM and
# the node shuts down cleanly (controlled shutdown). Settings come from RAFTMQ_* variables; an
# argument is passed on (a properties file, or --help).
set -euo pipefail
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java ${JAVA_OPTS:-} -jar /opt/raftmq/raftmq-node.jar "$@"
