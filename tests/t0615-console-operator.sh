#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0615: the console as a new operator meets it (issue 8), at 120x35 and
# 80x24, driven in tmux: leaving a drill-down with Esc and getting one's
# filter back; filter errors shown beside the open prompt and gone once
# fixed; free text that matches what a row shows (app, URL); state words
# that say what is true (errors vs retry, paused, not sent, TRIES with the
# replays, the latency of scheduled attempts); URLs cut in the middle and
# the keys that matter kept at 80 columns; the attempt's response headers
# (credentials redacted) in the detail.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tmux.sh"
# filter TEXT: open the prompt, replace its text, apply
filter() { keys /; keys C-u; type_text "$1"; keys Enter; }

receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
api POST /api/v1/app '{"name":"Acme","uid":"acme"}'
api POST /api/v1/app '{"name":"Globex","uid":"globex"}'
api POST /api/v1/app/acme/endpoint "{\"uid\":\"billing\",\"url\":\"$RURL/x/headers/2/status/500\"}"
api POST /api/v1/app/acme/endpoint "{\"uid\":\"flaky\",\"url\":\"$RURL/f/flaky/1\"}"
api POST /api/v1/app/globex/endpoint "{\"uid\":\"wh\",\"url\":\"$RURL/y/status/503\"}"
is "$STATUS" 201 "three endpoints: one failing, one that fails once per message, one failing"
for i in 1 2; do
    api POST /api/v1/app/acme/msg "{\"eventType\":\"invoice.paid\",\"payload\":{\"n\":$i}}"
    api POST /api/v1/app/globex/msg "{\"eventType\":\"user.created\",\"payload\":{\"n\":$i}}"
done
four_failed() {
    api GET "/hookd/v1/deliveries?status=fail"
    [ "$(jqr '.data|length')" = 4 ]
}
wait_for 20 four_failed
ok $? "four deliveries failed for good"
wait_received '.path=="/f/flaky/1" and .status==200' 2
ok $? "the flaky endpoint got both on the retry"

SAN_ENV=""
[ -n "${ASAN_OPTIONS:-}" ] && SAN_ENV="$SAN_ENV ASAN_OPTIONS='$ASAN_OPTIONS'"
[ -n "${UBSAN_OPTIONS:-}" ] && SAN_ENV="$SAN_ENV UBSAN_OPTIONS='$UBSAN_OPTIONS'"
tm new-session -d -s t -x 120 -y 35 \
    "env -i PATH=\"$PATH\" HOME=\"$T\" $SAN_ENV TERM=xterm-256color LANG=C.UTF-8 $HOOKD console --data $DATA; sleep 30"
wait_screen 10 'hookd [0-9.]+ .*updated'
ok $? "120x35: the console starts"

# --- words that mislead ---
wait_screen 5 '1 healthy|0 healthy .*1 with errors'
ok $? "the overview counts the flaky endpoint as 'with errors', not as retrying"
like "$(cap)" 'Delivery latency \(message to 2xx, scheduled attempts' \
    "the latency panel says which attempts it times"
like "$(cap)" 'Latest failed attempts +press 4 for the live feed' "'press 4' reads as a key, not a count"
keys 2
wait_screen 5 'Endpoints \(3\)'
wait_screen 5 '^ errors +acme .*f/flaky/1'
ok $? "the endpoint that failed and recovered shows 'errors': no retry is scheduled"
is "$(count_lines '^ retry ')" 0 "none says 'retry' while nothing waits for one"
keys '?'
wait_screen 5 'errors +attempts failed in the last 5 min; no retry is scheduled'
ok $? "the help explains each state word"
like "$(cap)" 'retry +deliveries wait for a scheduled retry' "retry too"
keys x
filter '/x/'
wait_screen 5 'Endpoints \(1\) .*filter: /x/'
ok $? "free text on the endpoints: part of a URL"
keys p
wait_screen 10 'paused http://127\.0\.0\.1:[0-9]+/x/headers/2/status/500: its deliveries are held'
ok $? "p pauses, and says 'paused' once the server did it"
wait_screen 5 '^ paused +acme'
ok $? "the row says paused"
keys p
wait_screen 10 'resumed http://127\.0\.0\.1:[0-9]+/x/'
ok $? "p again: 'resumed'"

# --- drill-down and back ---
keys 3
wait_screen 5 'Failed deliveries \(4\)'
filter 'app=acme'
wait_screen 5 'Failed deliveries \(2\) +filter: app=acme'
ok $? "the operator's own filter on the failed list"
keys 2
wait_screen 5 'Endpoints \(1\)'
keys Enter
wait_screen 5 'Deliveries to 127\.0\.0\.1:[0-9]+/x/headers/2/status/500 \(2\) +Esc: back'
ok $? "Enter on an endpoint shows its deliveries, titled as such"
like "$(cap | tail -n 1)" 'Esc Back' "the footer shows the way out"
keys '?'
wait_screen 5 'Esc +back to the endpoints, your filter restored'
ok $? "and so does the help"
keys x
keys Enter
wait_screen 5 'Response of attempt #2'
keys Escape
wait_screen 5 'Deliveries to 127'
ok $? "Esc from a delivery's detail comes back to the drill-down"
keys Escape
wait_screen 5 'Endpoints \(1\)'
ok $? "Esc goes back to the endpoints"
keys 3
wait_screen 5 'Failed deliveries \(2\) +filter: app=acme'
ok $? "and the failed list has the operator's filter again"
keys 2
keys Enter
wait_screen 5 'Deliveries to 127'
keys 3
wait_screen 5 'Failed deliveries \(2\) +filter: app=acme'
ok $? "3 in a drill-down goes to the failed list, filter restored"

# --- filter feedback ---
keys /
keys C-u
type_text 'color=red'
keys Enter
wait_screen 5 "not applied: unknown filter 'color'"
ok $? "a bad filter's error shows at the open prompt"
like "$(cap)" 'Filter: color=red_' "and the prompt stays open to fix it"
keys C-u
type_text 'app=acme'
is "$(count_lines 'not applied')" 0 "the error goes as soon as the text is fixed"
keys Enter
sleep 0.5
is "$(count_lines "unknown filter")" 0 "no stale error after a good filter"
filter 'globex'
wait_screen 5 'Failed deliveries \(2\) +filter: globex'
ok $? "free text matches the app name a row shows"
filter '/y/status'
wait_screen 5 'Failed deliveries \(2\) +filter: /y/status'
ok $? "and the endpoint URL"

# --- a replay the server skips ---
filter 'app=globex'
wait_screen 5 'Failed deliveries \(2\) +filter: app=globex'
api PATCH /api/v1/app/globex/endpoint/wh '{"disabled":true}'
is "$STATUS" 200 "globex's endpoint is disabled behind the console's back"
keys a
keys r
wait_screen 5 'Replay 2 marked deliveries'
wait_screen 5 'the server would send nothing; 2 cannot be sent'
ok $? "the replay confirmation shows the server's dry run"
keys y
wait_screen 10 ' 2 not sent *$'
ok $? "rows the server skipped say 'not sent'"
sleep 2
is "$(count_lines 'replaying')" 0 "none stays 'replaying'"
like "$(cap)" '2 not sent: endpoint disabled' "the bottom line says why"
api GET "/hookd/v1/deliveries?status=fail&app_id=$(api GET /api/v1/app/globex; jqr .id)"
GMSG=$(jqr '.data[0].msgId')
GEP=$(jqr '.data[0].endpointId')
api POST /hookd/v1/deliveries/replay "{\"deliveries\":[{\"msgId\":\"$GMSG\",\"endpointId\":\"$GEP\"}]}"
is "$(printf '%s' "$BODY" | jq -c '[.queued, .skippedDeliveries[0].msgId == "'"$GMSG"'", .skippedDeliveries[0].reason]')" \
    '[0,true,"endpoint_disabled"]' "the replay API names what it skipped and why (API.md 9)"

# --- tries count the replays, the detail shows response headers ---
filter 'app=acme'
wait_screen 5 'Failed deliveries \(2\) +filter: app=acme'
api PATCH /api/v1/app/acme/endpoint/billing "{\"url\":\"$RURL/x/headers/2/ok\"}"
keys r
wait_screen 5 'the server would send 1: 1 failed'
ok $? "r on a row: the dry run counts it"
keys y
wait_screen 10 ' 3 ok 200'
ok $? "the replayed row turns 'ok 200' and its TRIES count the manual attempt (3)"
keys Enter
wait_screen 5 'Response headers of attempt #3'
ok $? "the detail shows the attempt's response headers"
like "$(cap)" 'x-test-1: value-1' "the receiver's own headers"
like "$(cap)" 'set-cookie: \(redacted\)' "credentials redacted"
is "$(count_lines s3cr3t)" 0 "the secret is not on screen"
keys Escape
wait_screen 5 'Failed deliveries'

# --- 80x24 ---
tm resize-window -t t -x 80 -y 24
sleep 1
wait_screen 5 'Failed deliveries \(2, 1 replayed ok\)|Failed deliveries \(2\)'
is "$(cap | awk 'length > 80' | wc -l | tr -d ' ')" 0 "80x24: no line is wider than 80 columns"
like "$(cap | tail -n 1)" 'r Replay.*Enter Detail' "the footer keeps Replay and Detail"
like "$(cap)" '\.\.[a-z0-9/]*headers/2/ok ' "the failed list cuts URLs in the middle: their ends show"
is "$(count_lines '127\.0\.0\.1\.\. ')" 0 "no endpoint reads as just '127.0.0.1..'"
keys '?'
wait_screen 5 'not sent: the server skipped it'
ok $? "the help fits its words at 80x24"
is "$(count_lines 'back to the endpoints')" 0 "outside a drill-down the help does not offer Esc"
like "$(cap)" 'press any key to close' "and its last line"
keys x
keys 2
filter ''
wait_screen 5 'Endpoints \(3\)'
like "$(cap | sed -n 2p)" 'ENDPOINT .*ERROR' "the endpoints keep their error column"
like "$(cap)" 'flaky/1 ' "rows stay distinguishable: flaky/1"
like "$(cap)" 'status/503 ' "status/503"
like "$(cap)" '2/ok ' "2/ok"
like "$(cap | tail -n 1)" 'Enter Deliveries' "the footer keeps Enter"
like "$(cap | tail -n 1)" 'p Pause' "and p"
keys Enter
wait_screen 5 'Deliveries to '
like "$(cap | tail -n 1)" 'Esc Back' "a drill-down's footer keeps Esc at 80 columns"
keys Escape
wait_screen 5 'Endpoints \(3\)'
ok $? "and Esc leaves it"
keys q
sleep 1
is "$(count_lines 'Sanitizer|runtime error')" 0 "the console quits without a sanitizer report"
hookd_stop
is "$HOOKD_RC" 0 "the server stops cleanly"
is "$(grep -Ec 'Sanitizer|runtime error' "$T/hookd.err")" 0 "without a sanitizer report"
done_testing
