#!/usr/bin/env bash
# Prints the URL of the cluster started by deploy/postgres/start.sh.
#
#   deploy/postgres/url.sh          # postgresql+asyncpg://slawatch:slawatch@127.0.0.1:55432/slawatch (SQLAlchemy)
#   deploy/postgres/url.sh --libpq  # postgresql://slawatch:slawatch@127.0.0.1:55432/slawatch (asyncpg, psql)
# The port follows SLAWATCH_PG_PORT.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

case "${1:-}" in
  "") pg_url ;;
  --libpq) pg_url | sed 's|^postgresql+asyncpg://|postgresql://|' ;;
  -h | --help) sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) pg_die "unknown argument '$1' (try --help)" ;;
esac
