#!/bin/sh
# temporalio/server (unlike the old auto-setup image) creates no namespace;
# the worker needs one before it can poll. Run by docker-compose.yml and by
# the cluster harness (test/cluster).
set -eu

ns=${TEMPORAL_NAMESPACE:-default}
addr=${TEMPORAL_ADDRESS:-temporal:7233}
cli=${TEMPORAL_CLI:-temporal}

i=0
until "$cli" operator cluster health --address "$addr" >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt 30 ] || { echo "Temporal at $addr is not healthy" >&2; exit 1; }
  sleep 2
done
"$cli" operator namespace describe -n "$ns" --address "$addr" >/dev/null 2>&1 ||
  "$cli" operator namespace create -n "$ns" --address "$addr"
echo "namespace $ns is ready"
