#!/usr/bin/env bash
# Prints the environment the tests need to reach the services started by
# deploy/kafka/start.sh and deploy/postgres/start.sh (ports follow
# SLAWATCH_KAFKA_PORT / SLAWATCH_PG_PORT):
#
#   eval "$(deploy/env.sh)"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
printf 'export SLAWATCH_KAFKA_BOOTSTRAP=%q\n' "127.0.0.1:${SLAWATCH_KAFKA_PORT:-9092}"
printf 'export SLAWATCH_TEST_DATABASE_URL=%q\n' "$("$here/postgres/url.sh")"
