#!/usr/bin/env bash
# Restarts the cluster, e.g. for tests that lose the database mid-stream.
#
#   deploy/postgres/restart.sh                  # fast shutdown, then start
#   deploy/postgres/restart.sh --immediate      # crash-like stop (WAL recovery on start)
#   deploy/postgres/restart.sh --down SECONDS   # stay down that long before starting
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

stop_args=()
down=0
while (($#)); do
  case "$1" in
    --immediate) stop_args+=(--immediate) ;;
    --down)
      [[ "${2:-}" =~ ^[0-9]+([.][0-9]+)?$ ]] || {
        echo "postgres: ERROR: --down needs a number of seconds" >&2
        exit 1
      }
      down="$2"
      shift
      ;;
    -h | --help)
      sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "postgres: ERROR: unknown argument '$1' (try --help)" >&2
      exit 1
      ;;
  esac
  shift
done

"$here/stop.sh" "${stop_args[@]}"
sleep "$down"
"$here/start.sh"
