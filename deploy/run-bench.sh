#!/usr/bin/env bash
# `make bench`: every benchmark, the pipeline one on the real Kafka and PostgreSQL (started
# here and stopped again). Figures are printed; docs/benchmarks.md records them.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
py=.venv/bin/python
echo "== replay (tickets)"; $py bench/replay_bench.py
echo "== backtest (two replays compared)"; $py bench/backtest_bench.py
echo "== replay (uptime)"; $py bench/uptime_replay_bench.py
echo "== availability fold"; $py bench/availability_bench.py
echo "== calendars"; $py bench/calendar_bench.py
echo "== event parsing"; $py bench/events_bench.py
echo "== evaluator engine path (no Kafka, no database)"; $py bench/worker_bench.py
echo "== evaluator engine path, instructions per event (cachegrind)"; $py bench/engine_instructions.py
cleanup() {
  deploy/kafka/stop.sh >/dev/null 2>&1 || true
  deploy/postgres/stop.sh >/dev/null 2>&1 || true
}
trap cleanup EXIT
deploy/kafka/start.sh
deploy/postgres/start.sh
eval "$(deploy/env.sh)"
echo "== pipeline (Kafka + PostgreSQL)"; $py bench/pipeline_bench.py
