#!/usr/bin/env bash
# make run: Temporal dev server + platform simulators + worker + a demo
# deployment, all on loopback. Ctrl-C stops everything started here.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL=${TEMPORAL:-temporal}
STATE=.local
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

echo "starting Temporal dev server (UI http://127.0.0.1:8233, data in $STATE/temporal.db)"
"$TEMPORAL" server start-dev --ip 127.0.0.1 --db-filename "$STATE/temporal.db" --ui-port 8233 \
  --ui-codec-endpoint http://127.0.0.1:8081/codec --log-level warn >"$STATE/temporal.log" 2>&1 &
pids+=($!)
wait_for "Temporal" "$TEMPORAL" operator cluster health --address 127.0.0.1:7233

echo "starting platform simulators on 127.0.0.1:8090"
./bin/simulator -addr 127.0.0.1:8090 >"$STATE/simulator.log" 2>&1 &
pids+=($!)
wait_for "simulator" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8090'

# A dev codec key, generated once and kept so the local history stays readable.
[ -s "$STATE/codec.key" ] || head -c 32 /dev/urandom | base64 >"$STATE/codec.key"
set -a
while IFS= read -r line; do export "$line"; done < <(./bin/simulator -print-env)
RPAFLOW_CODEC_KEY_FILE=$STATE/codec.key
RPAFLOW_CODEC_KEY_ID=local-dev
TEMPORAL_ADDRESS=127.0.0.1:7233
RPAFLOW_LOG_FORMAT=console
set +a

echo "starting worker (health, metrics and codec on http://127.0.0.1:8081)"
./bin/worker >"$STATE/worker.log" 2>&1 &
pids+=($!)
wait_for "worker" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081'

echo; echo "demo: deploying the Zip Code API Task through the shared Control Room session"
./bin/starter deploy-api-task --id demo-api-task-$$ --wait \
  --input '{"profile":"cr","botRepositoryPath":"Automation Anywhere\\Bots\\Zip Code API Task","botInput":{"iStrZipCode":"95134"}}'
echo; echo "session status (no secrets):"
./bin/starter session status --profile cr

cat <<MSG

Temporal UI:  http://127.0.0.1:8233   (payloads decrypt through the worker's codec endpoint)
Logs:         $STATE/{temporal,simulator,worker}.log
Try:
  $TEMPORAL workflow execute --type DeployAPITask --task-queue rpaflow \\
    --input '{"profile":"cr","botRepositoryPath":"Automation Anywhere\\\\Bots\\\\Zip Code API Task","botInput":{"iStrZipCode":"10001"}}' \\
    --codec-endpoint http://127.0.0.1:8081/codec
  $TEMPORAL workflow query --workflow-id aa-session:cr --type status
  $TEMPORAL workflow show --workflow-id aa-session:cr                 # encrypted: no token in sight
  $TEMPORAL workflow show --workflow-id aa-session:cr --codec-endpoint http://127.0.0.1:8081/codec
  ./bin/starter start-job --profile orch --input '{"folder":"Shared","process":"Invoices","inputArguments":{"count":3}}' --wait
Press Ctrl-C to stop.
MSG
wait "${pids[@]}"
