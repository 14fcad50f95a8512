#!/usr/bin/env bash
# `make run`: slawatch standalone (ingest, evaluator and notifier in one process, on an
# embedded SQLite store and an in-process bus) with the live demo definitions and a demo
# feed: clocks start, warn, breach and escalate within a minute. Ctrl+C stops it.
#
#   deploy/run-demo.sh [--exit-after SECONDS]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export SLAWATCH_PORT="${SLAWATCH_PORT:-8080}"
host="${SLAWATCH_HOST:-127.0.0.1}"
# The port is checked before the demo's store is touched: a second `make run` must not
# delete the store of one already running.
if ! busy="$(.venv/bin/python -c 'import sys; from slawatch.serving import port_problem
problem = port_problem(sys.argv[1], int(sys.argv[2])); print(problem or ""); sys.exit(bool(problem))' \
    "$host" "$SLAWATCH_PORT")"; then
  echo "make run: $busy (is another make run going?); stop it, or pick another port:" \
    "SLAWATCH_PORT=8090 make run" >&2
  exit 2
fi
# Each port has a store of its own, started afresh: the demo feed's times are the wall clock's.
db="$repo/var/standalone-demo-$SLAWATCH_PORT.db"
mkdir -p var
rm -f "$db" "$db-journal" "$db-wal" "$db-shm"
export SLAWATCH_DATABASE_URL="sqlite+aiosqlite:///$db"
export SLAWATCH_LATENESS="${SLAWATCH_LATENESS:-1s}"
export SLAWATCH_LOG_FORMAT="${SLAWATCH_LOG_FORMAT:-console}"
export SLAWATCH_LOG_LEVEL="${SLAWATCH_LOG_LEVEL:-warning}"
.venv/bin/slawatch check examples/live-demo.yaml
echo
exec .venv/bin/slawatch standalone --definitions examples/live-demo.yaml --demo "$@"
