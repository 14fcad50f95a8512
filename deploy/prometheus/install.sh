#!/usr/bin/env bash
# Makes sure the `prometheus` and `promtool` binaries are available, from the
# Debian package `prometheus` (installed only when missing; the Debian service
# is not started: deploy/prometheus/start.sh runs our own instance). Then checks
# that promtool works on a trivial rules file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  prom_log "prometheus/promtool not found, installing the Debian package 'prometheus'"
  "$PROM_SCRIPT_DIR/../apt-install.sh" prometheus
fi
command -v prometheus >/dev/null 2>&1 || prom_die "prometheus still not on PATH after installing"
command -v promtool >/dev/null 2>&1 || prom_die "promtool still not on PATH after installing"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/rules.yml" <<'RULES'
groups:
  - name: slawatch-install-check
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
RULES
if ! out="$(promtool check rules "$tmp/rules.yml" 2>&1)"; then
  printf '%s\n' "$out" >&2
  prom_die "promtool check rules failed on a trivial rules file"
fi
echo "prometheus: ok: $(prometheus --version 2>&1 | head -n 1)"
