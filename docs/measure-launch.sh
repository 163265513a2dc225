#!/usr/bin/env bash
# Time from launch to the first frame, to the first frame with data and to all of the data, and peak RSS once the data is shown, of the
# real binary in tmux (120x40, xterm-256color), as docs/performance.md reports them.
# Usage: docs/measure-launch.sh SIZE [BINARY]   (BINARY defaults to .build/release/trustgap)
set -euo pipefail
size=$1; bin=${2:-.build/release/trustgap}; bin=$(realpath "$bin")
sock="launch-$$"; state=$(mktemp -d)
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$state"' EXIT
# The pane starts a moment before trustgap does, so tmux's own start isn't counted.
tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 \
  "sleep 0.3; env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$state $bin --demo-size $size --refresh 1h"
sleep 0.3
start=$(date +%s.%N); first=""
while :; do
  screen=$(tmux -L "$sock" capture-pane -p)
  now=$(date +%s.%N)
  if [ -z "$first" ] && grep -q trustgap <<<"$screen"; then first=$(echo "$now - $start" | bc); fi
  if grep -q "THE GAP" <<<"$screen" && ! grep -q "Collecting" <<<"$screen"; then data=$(echo "$now - $start" | bc); break; fi
  if (( $(echo "$now - $start > 120" | bc) )); then echo "no data after 120 s" >&2; exit 1; fi
  sleep 0.01
done
# A large demo comes in parts ("assessing N of M…" in the header): wait for the whole.
while grep -q "assessing" <<<"$screen"; do
  screen=$(tmux -L "$sock" capture-pane -p); now=$(date +%s.%N)
  if (( $(echo "$now - $start > 180" | bc) )); then echo "still assessing after 180 s" >&2; exit 1; fi
  sleep 0.01
done
whole=$(echo "$now - $start" | bc)
sleep 3  # let the full preparation land
pid=$(pgrep -x trustgap -P "$(tmux -L "$sock" display-message -p '#{pane_pid}')" || pgrep -nx trustgap)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
printf "%8d entities: first frame %.3f s, first data frame %.3f s, all of it %.3f s, peak RSS %d MB\n" \
  "$size" "$first" "$data" "$whole" "$((hwm / 1024))"
