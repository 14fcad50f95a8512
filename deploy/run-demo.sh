#!/usr/bin/env bash
# `make run`: slawatch on the example definitions and the demo feed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
.venv/bin/slawatch check examples/definitions.yaml
echo
echo "Replaying examples/demo-events.jsonl (a Monday at a gold-support desk):"
echo
.venv/bin/slawatch replay --definitions examples/definitions.yaml \
  --events examples/demo-events.jsonl --until 2026-03-02T18:00:00Z --format table
