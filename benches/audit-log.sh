#!/usr/bin/env bash
# Times `seclab scan audit` on a generated 1,000,000-event kube-apiserver
# audit log (kind-shaped: checkers/benches/support/audit_gen.rs, written by
# the `audit_log_gen` example) with hyperfine (Debian package `hyperfine`;
# installed here when missing), and measures peak RSS with /usr/bin/time -v
# (package `time`). jq, when present, is timed on the same selection as a
# reference. Not part of CI: numbers go into README.md.
#
#   benches/audit-log.sh [EVENTS]     (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release -q
cargo build --release -q -p seclab-checkers --example audit_log_gen
bin="$PWD/target/release/seclab"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log="$tmp/audit.log"
"$PWD/target/release/examples/audit_log_gen" "$events" 1 >"$log"
gzip -k -6 "$log"
echo "log: $events events, $(du -m "$log" | cut -f1) MiB ($(du -m "$log.gz" | cut -f1) MiB gzipped)"

intruder="--user system:serviceaccount:shop:web --resource secrets --stage ResponseComplete"
args=(--warmup 1 --min-runs 5 -N)
cmds=(
  --command-name "all events, text" "$bin scan audit $log"
  --command-name "all events, JSON" "$bin scan audit -o json $log"
  --command-name "the intruder's secrets reads (user, resource, stage)" "$bin scan audit $intruder $log"
  --command-name "a 5-minute window (--since/--until)" "$bin scan audit --since 2026-12-03T09:05:00Z --until 2026-12-03T09:10:00Z $log"
  --command-name "the intruder's secrets reads, gzip input" "$bin scan audit $intruder $log.gz"
)
if command -v jq >/dev/null; then
  cmds+=(--command-name "jq reference: the intruder's secrets reads" \
    "jq -c 'select(.user.username == \"system:serviceaccount:shop:web\" and .objectRef.resource == \"secrets\" and (.objectRef.subresource // \"\") == \"\" and .stage == \"ResponseComplete\")' $log")
fi
hyperfine "${args[@]}" --export-markdown "$tmp/hyperfine.md" "${cmds[@]}"
cat "$tmp/hyperfine.md"

rss() { # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$tmp/time.txt" || { cat "$tmp/time.txt"; exit 1; }
  printf '%-58s peak RSS %6.1f MiB\n' "$label" \
    "$(awk -F': ' '/Maximum resident set size/ {print $2 / 1024}' "$tmp/time.txt")"
}
# shellcheck disable=SC2086
rss "all events, text" "$bin" scan audit "$log"
# shellcheck disable=SC2086
rss "all events, JSON" "$bin" scan audit -o json "$log"
# shellcheck disable=SC2086
rss "the intruder's secrets reads" "$bin" scan audit $intruder "$log"
# shellcheck disable=SC2086
rss "the intruder's secrets reads, gzip input" "$bin" scan audit $intruder "$log.gz"
# shellcheck disable=SC2086
"$bin" scan audit $intruder "$log" | tail -1
