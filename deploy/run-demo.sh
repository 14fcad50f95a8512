#!/usr/bin/env bash
# `make run`: slawatch standalone (ingest, evaluator and notifier in one process, on an
# embedded SQLite store and an in-process bus) with the live demo definitions and a demo
# feed: clocks start, warn, breach and escalate within a minute. Ctrl+C stops it.
#
#   deploy/run-demo.sh [--exit-after SECONDS]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
mkdir -p var
rm -f var/standalone-demo.db
export SLAWATCH_DATABASE_URL="sqlite+aiosqlite:///$repo/var/standalone-demo.db"
export SLAWATCH_LATENESS="${SLAWATCH_LATENESS:-1s}"
export SLAWATCH_PORT="${SLAWATCH_PORT:-8080}"
export SLAWATCH_LOG_FORMAT="${SLAWATCH_LOG_FORMAT:-console}"
export SLAWATCH_LOG_LEVEL="${SLAWATCH_LOG_LEVEL:-warning}"
.venv/bin/slawatch check examples/live-demo.yaml
echo
exec .venv/bin/slawatch standalone --definitions examples/live-demo.yaml --demo "$@"
