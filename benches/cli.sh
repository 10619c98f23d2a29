#!/usr/bin/env bash
# Times the lab engine end to end with hyperfine (Debian package
# `hyperfine`; installed here when missing): `seclab test --offline` over
# every built-in lab, and one `seclab check` of an offline task.
# Not part of CI: numbers go into README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release -q
bin="$PWD/target/release/seclab"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SECLAB_STATE_DIR="$tmp/state" SECLAB_STUDENT=bench SECLAB_SEED=bench
repo="$PWD"
(cd "$tmp" && "$bin" start principles >/dev/null && cp "$repo/labs/principles/solution/answers.yaml" seclab/principles/ \
  && "$bin" start pss-scissors >/dev/null && cp "$repo"/labs/pss-scissors/solution/* seclab/pss-scissors/)
cd "$tmp"
hyperfine --warmup 3 --min-runs 30 -N \
  --command-name "seclab test --offline (all built-in labs)" "$bin test --offline" \
  --command-name "seclab check principles (one offline lab, 5 tasks)" "$bin check principles" \
  --command-name "seclab check pss-scissors (manifests: PSS, runs, namespace labels)" "$bin check pss-scissors"
