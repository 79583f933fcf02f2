#!/usr/bin/env bash
# `npm run demo`: the whole of Sluice on this machine. Brings up the local stack, starts a
# master and two workers, creates a topic, keeps producing log events into it, registers it
# through the REST API and shows progress until everything produced is in S3.
# Ctrl-C stops everything it started (the stack stays up: `npm run stack:down`).
#
# Settings: SLUICE_DEMO_SECONDS (how long to produce, default 30), SLUICE_DEMO_RATE
# (events per second, default 3000), SLUICE_DEMO_PORT (master HTTP port, default 8080),
# SLUICE_DEMO_EXIT_WHEN_DONE=1 (exit once all is in S3 instead of waiting for Ctrl-C).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/ensure-node.sh

[ -d node_modules/@platformatic/kafka ] || npm ci --no-audit --no-fund
if [ ! -f packages/master/dist/bundle/main.js ] || [ ! -f packages/worker/dist/bundle/main.js ]; then npm run build; fi
npm run --silent stack:up

set -a
. .sluice/stack.env
set +a

DEMO_DIR="$ROOT/.sluice/demo"
mkdir -p "$DEMO_DIR"
PORT="${SLUICE_DEMO_PORT:-8080}"
export SLUICE_API_TOKEN="${SLUICE_API_TOKEN:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}"
export SLUICE_ZOOKEEPER="${SLUICE_ZOOKEEPER}/sluice-demo"
export SLUICE_QUEUE_PREFIX=sluice-demo
export SLUICE_PLAN_INTERVAL_MS=500
export SLUICE_HTTP_HOST=127.0.0.1

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping the master and workers (the stack stays up; npm run stack:down stops it)"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

SLUICE_HTTP_PORT="$PORT" SLUICE_MASTER_ID=demo-master node packages/master/bin/sluice-master.js >"$DEMO_DIR/master.log" 2>&1 &
pids+=($!)
for i in 1 2; do
  SLUICE_HTTP_PORT=$((PORT + i)) SLUICE_WORKER_ID="demo-worker-$i" SLUICE_WORKER_CONCURRENCY=2 \
    packages/worker/bin/sluice-worker.js >"$DEMO_DIR/worker-$i.log" 2>&1 &
  pids+=($!)
done
echo "demo: master on http://127.0.0.1:$PORT (log $DEMO_DIR/master.log), workers on ports $((PORT + 1)) and $((PORT + 2))"
echo "demo: API token for this run: $SLUICE_API_TOKEN"

SLUICE_DEMO_API="http://127.0.0.1:$PORT" node scripts/demo.ts
if [ "${SLUICE_DEMO_EXIT_WHEN_DONE:-0}" != 1 ]; then
  echo "demo: running until Ctrl-C"
  while true; do sleep 3600; done
fi
