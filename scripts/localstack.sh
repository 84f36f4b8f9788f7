#!/usr/bin/env bash
# make run: Temporal dev server + platform simulators + worker + a demo
# deployment, all on loopback. Ctrl-C stops everything started here.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL=${TEMPORAL:-temporal}
# Tests run this script on free ports with their own folders.
STATE=${RPAFLOW_LOCAL_STATE:-.local}
BIN=${RPAFLOW_LOCAL_BIN:-./bin}
TEMPORAL_ADDR=127.0.0.1:${RPAFLOW_LOCAL_TEMPORAL_PORT:-7233}
UI_PORT=${RPAFLOW_LOCAL_UI_PORT:-8233}
SIM_ADDR=127.0.0.1:${RPAFLOW_LOCAL_SIM_PORT:-8090}
HTTP_ADDR=127.0.0.1:${RPAFLOW_LOCAL_HTTP_PORT:-8081}
CODEC_ADDR=127.0.0.1:${RPAFLOW_LOCAL_CODEC_PORT:-8082}
CODEC=http://$CODEC_ADDR/codec
mkdir -p "$STATE"
pids=()
cleanup() {
  echo; echo "stopping…"
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for <what> <command...>
  local what=$1; shift
  for _ in $(seq 1 120); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "timed out waiting for $what; see $STATE/*.log" >&2; exit 1
}

# The recommended server configuration (task priority, eager activities; see
# docs/operations.md), from the file the compose stack mounts: each `key:`
# with a `- value:` line (none of them has constraints).
dynconfig=()
while IFS= read -r kv; do dynconfig+=(--dynamic-config-value "$kv"); done < <(
  awk '/^[A-Za-z][^ ]*:$/ { key = substr($0, 1, length($0) - 1) } /^  - value: / { v = $0; sub(/^  - value: /, "", v); print key "=" v }' \
    deploy/temporal/dynamicconfig/rpaflow.yaml)

echo "starting Temporal dev server (UI http://127.0.0.1:$UI_PORT, data in $STATE/temporal.db)"
"$TEMPORAL" server start-dev --ip 127.0.0.1 --port "${TEMPORAL_ADDR##*:}" --db-filename "$STATE/temporal.db" --ui-port "$UI_PORT" \
  --ui-codec-endpoint "$CODEC" --log-level warn "${dynconfig[@]}" >"$STATE/temporal.log" 2>&1 &
pids+=($!)
wait_for "Temporal" "$TEMPORAL" operator cluster health --address "$TEMPORAL_ADDR"

echo "starting platform simulators on $SIM_ADDR"
"$BIN/simulator" -addr "$SIM_ADDR" >"$STATE/simulator.log" 2>&1 &
pids+=($!)
wait_for "simulator" bash -c "exec 3<>/dev/tcp/${SIM_ADDR%:*}/${SIM_ADDR##*:}"

# A dev codec key, generated once and kept so the local history stays readable.
# Only the worker holds it: the starter below works through the codec endpoint.
[ -s "$STATE/codec.key" ] || head -c 32 /dev/urandom | base64 >"$STATE/codec.key"
echo "starting worker (health and metrics on http://$HTTP_ADDR, codec on $CODEC)"
(
  set -a
  while IFS= read -r line; do export "$line"; done < <("$BIN/simulator" -addr "$SIM_ADDR" -print-env)
  RPAFLOW_CODEC_KEY_FILE=$STATE/codec.key
  RPAFLOW_CODEC_KEY_ID=local-dev
  RPAFLOW_HTTP_ADDR=$HTTP_ADDR
  # Loopback: no authentication needed; the UI's pages may call it.
  RPAFLOW_CODEC_ADDR=$CODEC_ADDR
  RPAFLOW_CODEC_CORS_ORIGINS=http://127.0.0.1:$UI_PORT,http://localhost:$UI_PORT
  TEMPORAL_ADDRESS=$TEMPORAL_ADDR
  RPAFLOW_LOG_FORMAT=console
  set +a
  exec "$BIN/worker"
) >"$STATE/worker.log" 2>&1 &
pids+=($!)
wait_for "worker" bash -c "exec 3<>/dev/tcp/${CODEC_ADDR%:*}/${CODEC_ADDR##*:}"

# What a shell needs for the starter and the Temporal CLI: `. $STATE/env`.
cat >"$STATE/env" <<ENV
export TEMPORAL_ADDRESS=$TEMPORAL_ADDR
export RPAFLOW_CODEC_ENDPOINT=$CODEC
ENV
STARTER="TEMPORAL_ADDRESS=$TEMPORAL_ADDR RPAFLOW_CODEC_ENDPOINT=$CODEC $BIN/starter"
starter() { env -u RPAFLOW_CODEC_KEY -u RPAFLOW_CODEC_KEY_FILE TEMPORAL_ADDRESS="$TEMPORAL_ADDR" RPAFLOW_CODEC_ENDPOINT="$CODEC" "$BIN/starter" "$@"; }

echo; echo "demo: deploying the Zip Code API Task through the shared Control Room session"
starter deploy-api-task --id demo-api-task-$$ --wait \
  --input '{"profile":"cr","botRepositoryPath":"Automation Anywhere\\Bots\\Zip Code API Task","botInput":{"iStrZipCode":"95134"}}'
echo; echo "session status (no secrets):"
starter session status --profile cr

# Every line under "Try:" is one command (continued with \) that works when
# pasted from this folder; test/integration/localstack_test.go runs each.
cat <<MSG

Temporal UI:  http://127.0.0.1:$UI_PORT   (payloads decrypt through the worker's codec endpoint)
Codec:        $CODEC   (loopback only; platform tokens stay sealed)
Metrics:      http://$HTTP_ADDR/metrics
Logs:         $STATE/{temporal,simulator,worker}.log
Shell setup:  . $STATE/env   (TEMPORAL_ADDRESS and RPAFLOW_CODEC_ENDPOINT: the starter needs no key)
Try:
  $TEMPORAL workflow execute --address $TEMPORAL_ADDR --type DeployAPITask --task-queue rpaflow \\
    --input '{"profile":"cr","botRepositoryPath":"Automation Anywhere\\\\Bots\\\\Zip Code API Task","botInput":{"iStrZipCode":"10001"}}' \\
    --codec-endpoint $CODEC
  $TEMPORAL workflow query --address $TEMPORAL_ADDR --workflow-id aa-session:cr --type status --codec-endpoint $CODEC
  $TEMPORAL workflow show --address $TEMPORAL_ADDR --workflow-id aa-session:cr --detailed       # encrypted: no token in sight
  $TEMPORAL workflow show --address $TEMPORAL_ADDR --workflow-id aa-session:cr --detailed --codec-endpoint $CODEC
  $STARTER start-job --profile orch --input '{"folder":"Shared","process":"Invoices","inputArguments":{"count":3}}' --wait
  $STARTER session status --profile cr
Press Ctrl-C to stop.
MSG
wait "${pids[@]}"
