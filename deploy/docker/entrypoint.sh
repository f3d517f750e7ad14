#!/bin/bash
# Starts the node in the foreground as PID 1, so that `docker stop` (SIGTERM) reaches the JVM and
# the node shuts down cleanly (controlled shutdown). Settings come from RAFTMQ_* variables; an
# argument is passed on (a properties file, or --help).
set -euo pipefail
# A store password may come from a file instead (RAFTMQ_SSL_KEYSTORE_PASSWORD_FILE=/path), so that it
# stays out of the container's configuration: docker-compose.yml points these at the store-password
# file deploy/certs.sh wrote into the TLS volume.
for var in RAFTMQ_SSL_KEYSTORE_PASSWORD RAFTMQ_SSL_KEY_PASSWORD RAFTMQ_SSL_TRUSTSTORE_PASSWORD; do
  file_var="${var}_FILE"
  [[ -n "${!file_var:-}" ]] || continue
  if [[ -n "${!var:-}" ]]; then
    echo "raftmq: set $var or $file_var, not both" >&2
    exit 2
  fi
  if [[ ! -r "${!file_var}" ]]; then
    echo "raftmq: $file_var=${!file_var}: no such readable file" >&2
    exit 2
  fi
  export "$var=$(< "${!file_var}")"
  unset "$file_var"
done
# RocksDB (JRaft's log store) copies its 13 MB JNI library into /tmp at every start and removes the
# copy only at a normal exit. The container runs one node, so a copy found at start is a killed
# run's (docker kill, the failover demo): remove it rather than let each kill leave one more.
rm -f /tmp/librocksdbjni*.so
# ExitOnOutOfMemoryError whatever JAVA_OPTS says: a node that ran out of heap must stop (and be
# restarted), not keep its leaderships with threads that died mid-request.
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java -XX:+ExitOnOutOfMemoryError ${JAVA_OPTS:-} -jar /opt/raftmq/raftmq-node.jar "$@"
