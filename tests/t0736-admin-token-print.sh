#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0736: the admin token reaches a terminal, never a log. On first start a
# server whose stdout is not a terminal (a file here; the journal under
# systemd) says where the new token is and not what it is; at a terminal
# (script(1) gives it one) it prints the token, as the README shows. A
# restart prints the path only, and a configured token is never printed.
. "$(dirname "$0")/lib.sh"
plan 9

# Not a terminal: stdout is $T/hookd.out.
hookd_start
out=$(cat "$T/hookd.out")
case $out in
*"$TOKEN"*) ok 1 "a new token is not printed when stdout is not a terminal"; diag "stdout: $out" ;;
*) ok 0 "a new token is not printed when stdout is not a terminal" ;;
esac
like "$out" "^admin token written to $DATA/admin.token\$" "the line says where it was written"
like "$TOKEN" '^hk_[0-9A-Za-z]{20,}$' "and the file holds the token"
hookd_stop

hookd_start
out=$(cat "$T/hookd.out")
case $out in
*"$TOKEN"*) ok 1 "a restart does not print the token either"; diag "stdout: $out" ;;
*) ok 0 "a restart does not print the token either" ;;
esac
like "$out" "admin token: see $DATA/admin.token" "a restart names the file"
hookd_stop

# A configured token is never printed, and no file is named for it.
SECRET=hk_configuredtoken0123456789abcdef
HOOKD_DATA_DIR=$T/conf
mkdir -p "$HOOKD_DATA_DIR"
HOOKD_ADMIN_TOKEN=$SECRET "$HOOKD" serve --listen 127.0.0.1:0 --data "$HOOKD_DATA_DIR" \
    --log-level warn >"$T/conf.out" 2>>"$T/hookd.err" &
HOOKD_PID=$!
HOOKD_PIDS="$HOOKD_PIDS $HOOKD_PID"
wait_for 10 test -s "$HOOKD_DATA_DIR/listen" || bail "hookd with a configured token did not start"
hookd_stop
out=$(cat "$T/conf.out")
case $out in
*"$SECRET"*) ok 1 "a configured token is not printed"; diag "stdout: $out" ;;
*) ok 0 "a configured token is not printed" ;;
esac
like "$out" "^admin token: from the configuration" "the line says where it comes from"

# A terminal: script(1) runs the server on a pseudo-terminal and keeps
# what it printed in a typescript, complete once the server has stopped.
TTYDATA=$T/tty
script -qec "sh -c 'echo \$\$ >\"$T/tty.pid\"; exec \"$HOOKD\" serve --listen 127.0.0.1:0 \
--data \"$TTYDATA\" --log-level warn'" "$T/typescript" </dev/null >/dev/null 2>>"$T/hookd.err" &
SCRIPT_PID=$!
HOOKD_PIDS="$HOOKD_PIDS $SCRIPT_PID"
wait_for 10 test -s "$TTYDATA/listen" || bail "hookd under script(1) did not start"
HOOKD_PID=$(cat "$T/tty.pid")
HOOKD_PIDS="$HOOKD_PIDS $HOOKD_PID"
hookd_stop
wait_for 10 sh -c "! kill -0 $SCRIPT_PID 2>/dev/null"
TTYTOKEN=$(cat "$TTYDATA/admin.token")
like "$TTYTOKEN" '^hk_' "the server at a terminal wrote a token"
like "$(cat "$T/typescript")" "admin token \\(also in $TTYDATA/admin.token\\): $TTYTOKEN" \
    "at a terminal, a new token is printed with its file"
done_testing
