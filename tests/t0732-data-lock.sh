#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0732: one server per data directory. A second `hookd serve` on a data
# directory a running server holds gives up within a few seconds with an
# error that names the holder's pid, and touches nothing there: the first
# server goes on answering and its listen file still names it. Read-only
# tools (check, backup) run beside it. Removing hookd.lock (which only
# names the holder) lets no second server in: the lock is on the data
# directory itself (issue 6). The lock dies with its process: a
# server started right after a kill -9 of the holder comes up on the same
# directory with everything the first one acknowledged.
. "$(dirname "$0")/lib.sh"
hookd_start
FIRST_PID=$HOOKD_PID
FIRST_URL=$URL
api POST /api/v1/app '{"name":"locked","uid":"locked"}'
is "$STATUS" 201 "the first server takes writes"

start=$(date +%s)
"$HOOKD" serve --listen 127.0.0.1:0 --data "$DATA" --log-level warn \
    >"$T/second.out" 2>"$T/second.err" &
SECOND=$!
i=0
while kill -0 "$SECOND" 2>/dev/null && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
if kill -0 "$SECOND" 2>/dev/null; then
    kill -9 "$SECOND"
    ok 1 "a second server on the same data directory gives up"
else
    wait "$SECOND"
    rc=$?
    ok "$(cond "$rc != 0")" "a second server on the same data directory gives up (status $rc)"
fi
ok "$(cond "$(date +%s) - $start <= 6")" "it gives up within seconds"
like "$(cat "$T/second.err")" "in use by another hookd \\(pid $FIRST_PID\\)" \
    "its error names the server holding the directory"
is "$(cat "$T/second.out")" "" "it prints no address of its own"
like "$(cat "$DATA/listen")" "${FIRST_URL#http://}" "the listen file still names the first server"

# second SERVER-NAME: start a server on $DATA; sets SECOND_RC (999: still running after 10 s)
second() {
    "$HOOKD" serve --listen 127.0.0.1:0 --data "$DATA" --log-level warn \
        >"$T/$1.out" 2>"$T/$1.err" &
    _pid=$!
    _i=0
    while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 200 ]; do _i=$((_i + 1)); sleep 0.05; done
    if kill -0 "$_pid" 2>/dev/null; then
        kill -9 "$_pid"
        wait "$_pid" 2>/dev/null
        SECOND_RC=999
    else
        wait "$_pid"
        SECOND_RC=$?
    fi
}
rm -f "$DATA/hookd.lock"
second third
ok "$(cond "$SECOND_RC != 0 && $SECOND_RC != 999")" \
    "after rm hookd.lock a second server still gives up (status $SECOND_RC)"
like "$(cat "$T/third.err")" "in use by another hookd \\(pid $FIRST_PID\\)" \
    "its error still names the holder's pid"
is "$(cat "$T/third.out")" "" "and it printed no address of its own"

api POST /api/v1/app/locked/msg '{"eventType":"t.one","payload":{"n":1}}'
is "$STATUS" 202 "the first server still takes messages"
MSG=$(jqr .id)
api GET /api/v1/app/locked/msg
is "$(jqr '.data | length')" 1 "and lists them"

"$HOOKD" check --data "$DATA" >"$T/check.out" 2>&1
is "$?" 0 "hookd check runs beside the server"
"$HOOKD" backup "$T/backup" --data "$DATA" >"$T/backup.out" 2>&1
is "$?" 0 "hookd backup runs beside the server"

kill -9 "$FIRST_PID"
wait "$FIRST_PID" 2>/dev/null
hookd_start
ok "$(cond "$HOOKD_PID != $FIRST_PID")" "a new server starts right after a kill -9 of the holder"
api GET "/api/v1/app/locked/msg/$MSG"
is "$STATUS" 200 "and finds the message the first one acknowledged"
is "$(tr -d '\n' < "$DATA/hookd.lock")" "$HOOKD_PID" "the lock file names the new holder"
done_testing
