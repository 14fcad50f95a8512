#!/usr/bin/env bash
# The whole test suite on the real parts: starts Kafka and PostgreSQL (fetching and
# installing what is missing), runs pytest, and stops everything it started, pass or fail.
#
#   deploy/run-tests.sh [PYTEST ARGS...]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

cleanup() {
  deploy/kafka/stop.sh >/dev/null 2>&1 || true
  deploy/postgres/stop.sh >/dev/null 2>&1 || true
  deploy/prometheus/stop.sh >/dev/null 2>&1 || true
}
trap cleanup EXIT

deploy/prometheus/install.sh
deploy/kafka/start.sh
deploy/postgres/start.sh
eval "$(deploy/env.sh)"

status=0
.venv/bin/pytest -q "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "run-tests: pytest collected no tests" >&2
fi
exit "$status"
