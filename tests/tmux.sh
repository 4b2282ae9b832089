# SPDX-License-Identifier: Apache-2.0
# tests/tmux.sh - drive the console in a tmux pane, for the tests that
# look at its screens (after lib.sh):
#
#   . "$(dirname "$0")/tmux.sh"     # skips the whole test without tmux
#   tm new-session -d -s t -x 120 -y 35 "$HOOKD console --data $DATA"
#   wait_screen 10 'Overview' || bail "no console"
#   keys 2; cap
#
# Each test gets its own tmux server (socket hookd-NAME-PID), killed at
# exit with the rest of the test's processes.

command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed"
TMUX_SOCK="hookd-$(basename "$0" .sh)-$$"
tm() { LC_ALL=C.UTF-8 tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; _cleanup' EXIT

# cap: the pane as text.
cap() { tm capture-pane -p -t t; }
# wait_screen SECONDS ERE: until the pane shows a line matching ERE; on
# timeout the pane goes to the diagnostics and it returns 1.
wait_screen() {
    _d=$(( $(date +%s) + $1 ))
    until cap | grep -Eq -- "$2"; do
        [ "$(date +%s)" -ge "$_d" ] && { diag "screen did not show '$2':"; cap | sed 's/^/#   /' >&2; return 1; }
        sleep 0.1
    done
    return 0
}
# keys KEY...: tmux key names (Enter, Escape, C-u, ...); type_text TEXT: literally.
keys() { tm send-keys -t t "$@"; sleep 0.2; }
type_text() { tm send-keys -t t -l "$1"; sleep 0.2; }
# count_lines ERE: how many lines of the pane match.
count_lines() { cap | grep -Ec -- "$1"; }
