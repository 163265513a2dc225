#!/usr/bin/env bash
# Idle CPU and terminal bytes per second of a program in tmux (120x40, xterm-256color), as docs/performance.md
# reports them. Usage: docs/measure-idle.sh NAME SECONDS COMMAND...
set -euo pipefail
name=$1; secs=$2; shift 2
sock="measure-$$"
out=$(mktemp)
tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 "env TERM=xterm-256color LANG=C.UTF-8 $*"
tmux -L "$sock" set-option -t 0 status off >/dev/null
sleep 5   # let it start and draw its first screens
pane_pid=$(tmux -L "$sock" display-message -p '#{pane_pid}')
pid=$(pgrep -P "$pane_pid" | head -1 || true); pid=${pid:-$pane_pid}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tmux -L "$sock" pipe-pane -t 0 -o "cat >> $out"
t0=$(ticks "$pid"); sleep "$secs"; t1=$(ticks "$pid")
tmux -L "$sock" pipe-pane -t 0
bytes=$(stat -c %s "$out")
hz=$(getconf CLK_TCK)
cpu=$(awk -v a="$t0" -v b="$t1" -v s="$secs" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz / s * 100 }')
printf "%-32s cpu %6s%%  %8.0f bytes/s\n" "$name" "$cpu" "$(echo "$bytes / $secs" | bc -l)"
tmux -L "$sock" kill-server
rm -f "$out"
