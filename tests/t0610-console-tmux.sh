#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0610: the console end to end, driven in tmux like an operator would.
# Deliveries fail for good (one retry at 1 s), the console goes to the
# failed list with keys, filters it, marks rows, and replays them after
# the endpoint is fixed; the screen and the API must both show them
# delivered. Then the detail, the feed, the help, a resize, a server
# restart (disconnected, then reconnected), other terminal types, the
# start-up errors, and quitting back to a sane shell.
#
# HOOKD_SCREENS_OUT=FILE keeps the 100x30 captures (docs/console-screens.txt).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tmux.sh"
SCREENS=$T/screens.txt
save() { { printf '\n== %s ==\n\n' "$1"; cap; } >> "$SCREENS"; }

receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s --retention-interval 1s
api POST /api/v1/app '{"name":"Acme","uid":"acme"}'
api POST /api/v1/app '{"name":"Globex","uid":"globex"}'
api POST /api/v1/app/acme/endpoint "{\"uid\":\"billing\",\"url\":\"$RURL/x/status/500\"}"
BILLING=$(jqr .id)
api POST /api/v1/app/globex/endpoint "{\"uid\":\"wh\",\"url\":\"$RURL/y/status/503\"}"
api POST /api/v1/app/acme/endpoint "{\"uid\":\"audit\",\"url\":\"$RURL/audit/ok\"}"
for i in 1 2 3; do
    api POST /api/v1/app/acme/msg "{\"eventType\":\"invoice.paid\",\"payload\":{\"invoice\":\"in_$i\",\"note\":\"\\u001b[31mred\\u0007\"}}"
done
for i in 1 2; do
    api POST /api/v1/app/globex/msg "{\"eventType\":\"user.created\",\"payload\":{\"user\":$i}}"
done
failed_count() {
    api GET "/hookd/v1/deliveries?status=fail${1-}"
    jqr '.data|length'
}
all_failed() { [ "$(failed_count)" = 5 ]; }
wait_for 20 all_failed
ok $? "five deliveries failed for good (one retry)"

# 1. start beside the server, in a shell we can inspect afterwards (a clean
# environment, but the sanitizer settings of a CI run pass through)
SAN_ENV=""
[ -n "${ASAN_OPTIONS:-}" ] && SAN_ENV="$SAN_ENV ASAN_OPTIONS='$ASAN_OPTIONS'"
[ -n "${UBSAN_OPTIONS:-}" ] && SAN_ENV="$SAN_ENV UBSAN_OPTIONS='$UBSAN_OPTIONS'"
tm new-session -d -s t -x 100 -y 30 \
    "env -i PATH=\"$PATH\" HOME=\"$T\" $SAN_ENV TERM=xterm-256color LANG=C.UTF-8 PS1='t0610\$ ' sh"
sleep 0.3
keys "stty -g > $T/stty.before" Enter
keys "$HOOKD console --data $DATA" Enter
wait_screen 10 'hookd [0-9.]+ .*updated'
ok $? "the console starts and shows the overview"
wait_screen 5 'failed \(final\) +5'
ok $? "the overview counts five failed deliveries"
wait_screen 5 '1 healthy +0 with errors +0 retrying +2 failing'
ok $? "one healthy endpoint and two failing"
like "$(cap)" 'Throughput.*last 5 min' "throughput section with sparklines"
# the five messages and ten attempts came before the console started: only
# the server's history (/hookd/v1/stats/history) can put them on the lines
# (above the floor glyph: the console's own first samples are all zero)
risen() { cap | LC_ALL=C.UTF-8 grep -Eq "^ +$1 .*[▂▃▄▅▆▇█]"; }
wait_for 5 risen ingest
ok $? "the ingest line shows the traffic from before the console started"
wait_for 5 risen failed
ok $? "and so does the failed line"
like "$(cap)" "log [0-9.]+ [KMG]iB of 4.0 GiB map \([0-9]+%\)   messages 5   oldest payload [0-9.]+ s \(kept 90 d\) *$" \
    "the store line: the five messages in the log, the oldest payload's age, how long payloads are kept"
like "$(cap)" "attempts failed [0-9]+   readers [0-9]+" "the log's readers follow the totals"
like "$(cap)" 'p50 [0-9.]+ ms .* p99 [0-9.]+ ms' "latency percentiles"
like "$(cap | tail -n 1)" '1 Overview +2 Endpoints +3 Failed +4 Feed +\? Help +q Quit' "footer keys"
# some traffic of varying rate for the sparklines: bursts, one a second
api POST /api/v1/app '{"name":"Umbrella","uid":"umbrella"}'
api POST /api/v1/app/umbrella/endpoint "{\"url\":\"$RURL/u/ok\"}"
for n in 3 8 14 5 10 18 7; do
    seq "$n" | xargs -P 8 -I@@ curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary '{"eventType":"user.created","payload":{}}' \
        "$URL/api/v1/app/umbrella/msg"
    sleep 1
done
sleep 1
glyphs() { cap | grep "^  $1 " | LC_ALL=C.UTF-8 grep -o '[▁▂▃▄▅▆▇█]' | sort -u | wc -l | tr -d ' '; }
ok "$(cond "$(glyphs ingest) >= 2")" "the ingest sparkline shows the bursts ($(glyphs ingest) levels)"
ok "$(cond "$(glyphs delivered) >= 2")" "and so does the delivered one"
save "1 Overview (100x30)"

# 2. endpoints
keys 2
wait_screen 5 'Endpoints \(4\)'
ok $? "key 2 shows the endpoints"
is "$(count_lines '^ FAIL ')" 2 "the two failing ones marked FAIL, first"
is "$(count_lines '^ ok ')" 2 "the healthy ones ok"
like "$(cap)" ' 127\.0\.0[.0-9:]*\.\.[0-9]*/x/status/500 ' "with their URLs, cut in the middle"
save "2 Endpoints"
ep_paused() {
    api GET /hookd/v1/endpoints
    jqr ".data[]|select(.endpointId==\"$BILLING\")|.paused"
}
keys p
wait_screen 5 '^ paused +acme'
ok $? "p pauses the endpoint under the cursor"
is "$(ep_paused)" true "the API agrees"
keys p
wait_screen 5 '^ FAIL +acme'
ok $? "p again resumes it"
is "$(ep_paused)" false "the API agrees again"

# 3. the failed list, filtered, marked, replayed
keys 3
wait_screen 5 'Failed deliveries \(5\)'
ok $? "key 3 shows five failed deliveries"
save "3 Failed deliveries"
keys /
type_text 'app=acme'
keys Enter
wait_screen 5 'Failed deliveries \(3\) +filter: app=acme'
ok $? "the filter leaves acme's three"
is "$(count_lines ' globex ')" 0 "no globex row is shown"
keys Space
keys Space
wait_screen 5 'marked 2'
ok $? "space marks two rows"
is "$(count_lines '^ \* ')" 2 "two rows carry the mark"
MARKED=$(api GET "/hookd/v1/deliveries?status=fail&app_id=acme"; jqr '.data[0:2][].msgId' | sort | tr '\n' ' ')
api PATCH /api/v1/app/acme/endpoint/billing "{\"url\":\"$RURL/x/ok\"}"
is "$STATUS" 200 "the endpoint now points at a path that succeeds"
keys r
wait_screen 5 'Replay 2 marked deliveries to 127.0.0.1:[0-9]+/x/'
ok $? "r asks first, saying how many and where"
wait_screen 5 'the server would send 2: 2 failed'
ok $? "and what the server's dry run counts, by status"
like "$(cap)" 'y Yes +n No' "with the answers"
save "3 Failed deliveries: filtered, two marked, confirming the replay"
keys y
wait_screen 10 'replay queued for 2 deliveries'
ok $? "the replay is queued"
got_ok() { [ "$(count_lines 'ok 200')" -ge "$1" ]; }
wait_for 10 got_ok 2
ok $? "both rows turn to 'ok 200' as the replays land"
api GET "/hookd/v1/deliveries?status=success&endpoint_id=$BILLING"
is "$(jqr '[.data[].msgId]|sort|join(" ")') " "$MARKED" "the API lists the two marked deliveries as succeeded"
is "$(received '.path=="/x/ok"')" 2 "the receiver got exactly two"
keys R
wait_screen 5 'Replay 1 filtered delivery to'
ok $? "R asks to replay the one still failing"
keys y
wait_for 10 got_ok 3
ok $? "all three rows show 'ok 200'"
keys r
wait_screen 5 'the server would send 1: 1 already succeeded'
ok $? "r on a row that succeeded: the confirmation says it would be sent again"
keys n
wait_screen 5 'nothing was replayed or changed'
ok $? "n sends nothing"
save "3 Failed deliveries after the replays"
is "$(failed_count '&app_id=acme')" 0 "the API has no failed acme delivery left"
is "$(failed_count)" 2 "globex's two are untouched"
is "$(received '.path=="/x/ok"')" 3 "the receiver got three"

# 4. detail, feed, help
keys Enter
wait_screen 5 'Response of attempt #3'
ok $? "Enter opens the delivery's detail"
like "$(cap)" 'manual +200 ' "its attempts, the manual replay first"
like "$(cap)" 'scheduled +500 ' "and the failures"
like "$(cap)" '\\u001[bB]\[31mred\\u0007' "control characters in the payload are shown escaped"
like "$(cap)" 'webhook-id: msg_' "the headers sent"
save "Detail (Enter on a delivery)"
keys j
wait_screen 5 'Response of attempt #2 '
ok $? "j selects the next attempt and shows its response"
keys Down
wait_screen 5 'Response of attempt #1 '
ok $? "and so does the down arrow"
keys Home
keys End
wait_screen 5 'webhook-signature'
ok $? "Home and End scroll the detail"
keys Escape
wait_screen 5 'Failed deliveries'
ok $? "Esc goes back to the list"
keys 4
wait_screen 5 'Live feed'
wait_screen 5 'ok +200 .*manual'
ok $? "the feed shows the replays"
keys /
type_text 'app=acme'
keys Enter
wait_screen 5 'filter: app=acme'
ok $? "the feed takes a filter"
like "$(cap)" 'FAIL +500 .* acme ' "acme's failures show"
is "$(count_lines ' umbrella ')" 0 "other apps' attempts do not"
save "4 Live feed, filtered"
keys Space
wait_screen 5 'Live feed \(PAUSED'
ok $? "space pauses the feed"
keys Space
keys '?'
wait_screen 5 'Keys and words on this screen'
ok $? "? shows the help"
save "Help on the live feed"
keys x
wait_screen 5 'Live feed'
ok $? "any key closes it"

# 5. resize
tm resize-window -t t -x 80 -y 24
sleep 1
wait_screen 5 'q Quit'
ok $? "the screen redraws after a resize to 80x24"
is "$(cap | wc -l | tr -d ' ')" 24 "24 lines"
is "$(cap | awk 'length > 80' | wc -l | tr -d ' ')" 0 "none wider than 80 columns"
like "$(cap | tail -n 1)" 'q Quit' "the footer is on the last line"
keys 1
wait_screen 5 'Throughput'
like "$(cap | tail -n 1)" 'q Quit' "the overview fits 80x24 too"
like "$(cap)" "log [0-9.]+ [KMG]iB/4.0 GiB \([0-9]+%\)   messages [0-9]+   oldest [0-9.]+ s \(kept 90 d\) *$" \
    "the store line takes its short form, whole"
save "1 Overview at 80x24, after a resize"
tm resize-window -t t -x 120 -y 40
sleep 1
like "$(cap | sed -n 40p)" 'q Quit' "and grows to 120x40"
tm resize-window -t t -x 100 -y 30
sleep 0.5

# 6. the server goes away and comes back (on another port)
hookd_stop TERM
wait_screen 10 'disconnected'
ok $? "a stopped server shows as disconnected"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
wait_screen 15 'updated [0-9.]+ s ago'
ok $? "and the console reconnects when it is back"

# 7. quit: the shell and the terminal are as they were
keys q
wait_screen 5 '^t0610\$ *$'
ok $? "q quits to the shell prompt"
is "$(tm display -p -t t '#{alternate_on}')" 0 "the alternate screen is off"
is "$(tm display -p -t t '#{cursor_flag}')" 1 "the cursor is visible"
is "$(tm display -p -t t '#{keypad_cursor_flag}')" 0 "the cursor keys are back in normal mode"
keys "stty -g > $T/stty.after" Enter
sleep 0.3
is "$(cat "$T/stty.after")" "$(cat "$T/stty.before")" "the tty modes are restored"

# 8. other terminals
for term in vt100 linux screen; do
    keys clear Enter
    keys "TERM=$term $HOOKD console --data $DATA" Enter
    wait_screen 10 'Delivery latency'
    ok $? "TERM=$term: the overview draws"
    keys q
    wait_screen 5 '^t0610\$ *$'
    ok $? "TERM=$term: quits to the prompt"
done

# 9. start-up errors: a clear message and a non-zero exit
keys clear Enter
keys "$HOOKD console --data $DATA --token wrong; echo rc=\$?" Enter
wait_screen 10 'rc=[0-9]+'
like "$(cap)" 'refused the admin token' "a bad token is named"
like "$(cap)" 'rc=1' "and exits 1"
keys clear Enter
keys "$HOOKD console --url http://127.0.0.1:1; echo rc=\$?" Enter
wait_screen 10 'rc=[0-9]+'
like "$(cap)" "cannot reach the server at 'http://127.0.0.1:1'" "an unreachable server is named"
like "$(cap)" 'rc=1' "and exits 1"

if [ -n "${HOOKD_SCREENS_OUT:-}" ]; then
    { echo "hookd console: captures of each screen at 100x30 (tests/t0610-console-tmux.sh)"; cat "$SCREENS"; } \
        > "$HOOKD_SCREENS_OUT"
fi
done_testing
