#!/bin/bash
# The container health check: GET /health on this node's HTTP listener (RAFTMQ_HTTP_LISTENER,
# default 0.0.0.0:8080) with bash's /dev/tcp, so the image needs no curl. Exit 0 when the node
# answers 200; otherwise 1, printing the node's reason (docker inspect shows it).
set -uo pipefail
listener="${RAFTMQ_HTTP_LISTENER:-0.0.0.0:8080}"
if [[ "${listener,,}" == none ]]; then
  echo "RAFTMQ_HTTP_LISTENER is none: the node serves no health endpoint"
  exit 1
fi
host="${listener%:*}"
port="${listener##*:}"
host="${host#[}"; host="${host%]}"
if [[ "$host" == "0.0.0.0" || "$host" == "::" ]]; then
  host=127.0.0.1
fi
if ! exec 3<>"/dev/tcp/$host/$port"; then
  echo "nothing listens on $host:$port"
  exit 1
fi
printf 'GET /health HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
status=""
body=""
if IFS= read -r -t 3 status <&3; then
  # Skip the headers; the body is one line of JSON.
  while IFS= read -r -t 3 line <&3 && [[ "${line%$'\r'}" != "" ]]; do :; done
  IFS= read -r -t 3 body <&3 || true
fi
exec 3<&-
echo "${body:-no answer from $host:$port}"
[[ "$status" == HTTP/1.?" 200 "* ]]
