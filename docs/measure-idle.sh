#!/usr/bin/env bash
# Idle CPU and terminal bytes per second of a program in tmux (120x40, xterm-256color), as docs/performance.md
# reports them. Usage: docs/measure-idle.sh NAME SECONDS COMMAND...
# With KEYS set (tmux send-keys words, e.g. KEYS=p to pause trustgap), they are sent once it has started, and the
# window begins SETTLE seconds later (default 4: a message shown for 3 s has gone). It prints the CPU ticks and bytes of
# the window too: ticks are 1/CLK_TCK s, so "htop's + 1 tick" can be read off directly.
set -euo pipefail
name=$1; secs=$2; shift 2
sock="measure-$$"
out=$(mktemp)
tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 "env TERM=xterm-256color LANG=C.UTF-8 $*"
tmux -L "$sock" set-option -t 0 status off >/dev/null
sleep 5   # let it start and draw its first screens
if [ -n "${KEYS:-}" ]; then
  # shellcheck disable=SC2086 # one send-keys word per key
  tmux -L "$sock" send-keys -t 0 $KEYS
  sleep "${SETTLE:-4}"
fi
pane_pid=$(tmux -L "$sock" display-message -p '#{pane_pid}')
pid=$(pgrep -P "$pane_pid" | head -1 || true); pid=${pid:-$pane_pid}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tmux -L "$sock" pipe-pane -t 0 -o "cat >> $out"
t0=$(ticks "$pid"); sleep "$secs"; t1=$(ticks "$pid")
tmux -L "$sock" pipe-pane -t 0
bytes=$(stat -c %s "$out")
hz=$(getconf CLK_TCK)
cpu=$(awk -v a="$t0" -v b="$t1" -v s="$secs" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz / s * 100 }')
printf "%-32s cpu %6s%% (%3d ticks)  %8.0f bytes/s (%6d bytes)\n" "$name" "$cpu" "$((t1 - t0))" \
  "$(echo "$bytes / $secs" | bc -l)" "$bytes"
tmux -L "$sock" kill-server
rm -f "$out"
