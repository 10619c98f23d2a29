#!/usr/bin/env bash
# Measures the TUI in a real terminal (tmux, 80x24): process start to first
# frame, idle CPU, and file save to verdict on screen in watch mode for an
# offline lab. Prints figures; asserts nothing (no timed assertions in
# tests). Usage: benches/tui-speed.sh [path/to/seclab]   (default: the
# release build; run `cargo build --release` first).
set -euo pipefail
bin=$(realpath "${1:-target/release/seclab}")
root=$(cd "$(dirname "$0")/.." && pwd)
lab=principles
runs=5
tmp=$(mktemp -d)
sock="seclab-speed-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT

now() { date +%s%N; }
screen() { tmux -L "$sock" capture-pane -p -t s; }
# Waits until the screen (first line only with -1) shows $1; prints the ms since $2.
wait_for() {
  local text=$1 t0=$2 first=${3:-}
  while true; do
    if [[ -n $first ]]; then screen | head -1 | grep -qF -- "$text" && break
    else screen | grep -qF -- "$text" && break; fi
    if (( $(now) - t0 > 10000000000 )); then echo "timeout waiting for '$text'" >&2; screen >&2; exit 1; fi
  done
  echo $(( ($(now) - t0) / 1000000 ))
}
launch() {
  rm -rf "$tmp/state" "$tmp/ws"
  tmux -L "$sock" respawn-pane -k -t s "cd '$tmp' && exec env SECLAB_STATE_DIR='$tmp/state' SECLAB_WORKSPACE='$tmp/ws' SECLAB_STUDENT=alice SECLAB_SEED=s '$bin'"
}

tmux -L "$sock" new-session -d -s s -x 80 -y 24 "sleep 600"
sleep 0.2

echo "seclab TUI speed ($(uname -m), $(nproc) cores), binary $bin"
starts=()
for _ in $(seq $runs); do
  t0=$(now); launch
  starts+=("$(wait_for "lab(s)" "$t0")")
done
echo "start to first frame (ms, $runs runs, incl. tmux spawn and screen polling): ${starts[*]}"

pid=$(tmux -L "$sock" display -p -t s '#{pane_pid}')
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
a=$(ticks); sleep 10; b=$(ticks)
hz=$(getconf CLK_TCK)
echo "idle CPU over 10 s on the lab list: $((b - a)) tick(s) of 1/${hz} s = $(awk "BEGIN{printf \"%.2f\", ($b-$a)/$hz/10*100}")%"

tmux -L "$sock" send-keys -t s Enter; wait_for "Instructions" "$(now)" >/dev/null
tmux -L "$sock" send-keys -t s s; wait_for "started $lab" "$(now)" >/dev/null
tmux -L "$sock" send-keys -t s w; wait_for "✗ failed" "$(now)" 1 >/dev/null
saves=()
for _ in $(seq $runs); do
  sleep 0.5
  t0=$(now); cp "$root/labs/$lab/solution/answers.yaml" "$tmp/ws/answers.yaml"
  saves+=("$(wait_for "✓ passed" "$t0" 1)")
  sleep 0.5
  echo "layers: {which-layer: a}" > "$tmp/ws/answers.yaml"
  wait_for "✗ failed" "$(now)" 1 >/dev/null
done
echo "save to verdict on screen (ms, $runs runs, watch mode, 200 ms debounce included): ${saves[*]}"
a=$(ticks); sleep 10; b=$(ticks)
echo "idle CPU over 10 s with watch on: $((b - a)) tick(s) = $(awk "BEGIN{printf \"%.2f\", ($b-$a)/$hz/10*100}")%"
tmux -L "$sock" send-keys -t s q
