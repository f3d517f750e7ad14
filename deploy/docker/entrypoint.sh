#!/bin/bash
# Starts the node in the foreground as PID 1, so that `docker stop` (SIGTERM) reaches the JVM and
# the node shuts down cleanly (controlled shutdown). Settings come from RAFTMQ_* variables; an
# argument is passed on (a properties file, or --help).
set -euo pipefail
# ExitOnOutOfMemoryError whatever JAVA_OPTS says: a node that ran out of heap must stop (and be
# restarted), not keep its leaderships with threads that died mid-request.
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java -XX:+ExitOnOutOfMemoryError ${JAVA_OPTS:-} -jar /opt/raftmq/raftmq-node.jar "$@"
