#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0508: a disabled endpoint is not subscribed (the Svix rule), and what
# it missed is visible and recoverable (issue 6): the record and
# /hookd/v1/endpoints say when and why it was disabled (operator,
# http_410, failures) and how many messages it missed; replay-missing
# (the Svix route) sends exactly those, filters applied, as a background
# task polled through /api/v1/background-task, in bounded batches, and
# never twice.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s,1s --disable-after 1s

api POST /api/v1/event-type '{"name":"a","description":"a"}'
api POST /api/v1/event-type '{"name":"b","description":"b"}'
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/app/shop/endpoint "{\"uid\":\"all\",\"url\":\"$RURL/all\"}"
EP_ALL=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"onlya\",\"url\":\"$RURL/onlya\",\"filterTypes\":[\"a\"]}"
EP_A=$(jqr .id)
is "$STATUS" 201 "two endpoints, one taking type a only"
SINCE=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
sleep 0.05

row() { api GET /hookd/v1/endpoints; jqr ".data[]|select(.endpointId==\"$1\")|$2"; }
api PATCH /api/v1/app/shop/endpoint/all '{"disabled":true}'
is "$STATUS:$(jqr .disabledReason)" "200:operator" "an operator's disable says so in the endpoint"
like "$(jqr .disabledAt)" '^20[0-9-]+T' "with the time"
api PATCH /api/v1/app/shop/endpoint/onlya '{"disabled":true}'
is "$(row "$EP_ALL" '[.disabled, .disabledReason, .missed]|@csv')" 'true,"operator",0' \
   "/hookd/v1/endpoints: disabled by the operator, nothing missed yet"

send() { api POST /api/v1/app/shop/msg "{\"eventType\":\"$1\",\"payload\":{\"n\":$2}}"; }
for i in 1 2 3; do send a "$i"; done
for i in 4 5; do send b "$i"; done
sleep 0.5
is "$(received 'true')" 0 "disabled endpoints are not subscribed: nothing sent"
api GET "/hookd/v1/deliveries?endpoint_id=$EP_ALL"
is "$(jqr '.data|length')" 0 "and no delivery is made for them"
is "$(row "$EP_ALL" '.missed')" 5 "the 'all' endpoint missed five"
is "$(row "$EP_A" '.missed')" 3 "the 'a' endpoint missed the three of type a"

api PATCH /api/v1/app/shop/endpoint/all '{"disabled":false}'
is "$STATUS:$(jqr .disabledAt):$(jqr .disabledReason)" "200:null:null" "enabled again: no disabledAt"
api POST /api/v1/app/shop/endpoint/all/replay-missing "{\"since\":\"$SINCE\"}"
is "$STATUS" 202 "replay-missing answers 202"
is "$(jqr '[.status, .task, (.id|test("^qtask_"))]|@csv')" '"running","endpoint.replay",true' \
   "with the background task (Svix ReplayOut)"
TASK=$(jqr .id)
finished() { api GET "/api/v1/background-task/$1"; [ "$(jqr .status)" = finished ]; }
wait_for 10 finished "$TASK"
ok $? "the task finishes"
is "$(jqr '[.task, .data.queued, .data.alreadyDelivered, .data.notSubscribed]|@csv')" \
   '"endpoint.replay",5,0,0' "BackgroundTaskOut: five queued"
wait_received '(.path=="/all")' 5
ok $? "the receiver gets the five it missed"
api POST /api/v1/app/shop/endpoint/all/replay-missing "{\"since\":\"$SINCE\"}"
T2=$(jqr .id)
wait_for 10 finished "$T2"
is "$(jqr '[.data.queued, .data.alreadyDelivered]|@csv')" "0,5" "run again, it finds nothing missing"
sleep 0.3
is "$(received '(.path=="/all")')" 5 "and nothing is sent twice"

# filters: the 'a' endpoint gets its three, not the two of type b
api PATCH /api/v1/app/shop/endpoint/onlya '{"disabled":false}'
api POST /api/v1/app/shop/endpoint/onlya/replay-missing "{\"since\":\"$SINCE\"}"
T3=$(jqr .id)
wait_for 10 finished "$T3"
is "$(jqr '[.data.queued, .data.notSubscribed]|@csv')" "3,2" "the filters apply: three queued, two not subscribed"
wait_received '(.path=="/onlya")' 3
ok $? "the 'a' endpoint gets three"

# messages from before an endpoint was made are not its to miss
api POST /api/v1/app/shop/endpoint "{\"uid\":\"late\",\"url\":\"$RURL/late\"}"
api POST /api/v1/app/shop/endpoint/late/replay-missing '{"since":"2020-01-01T00:00:00Z"}'
T4=$(jqr .id)
wait_for 10 finished "$T4"
is "$(jqr '.data.queued')" 0 "a new endpoint is not sent the messages from before it existed"

# the list, and errors
api GET '/api/v1/background-task?limit=2'
is "$STATUS:$(jqr '.data|length'):$(jqr .done)" "200:2:false" "the list pages (limit 2)"
is "$(jqr '.data[0].id')" "$T4" "newest first"
api GET "/api/v1/background-task?limit=10&iterator=$(jqr .iterator)"
is "$(jqr '.data|length'):$(jqr .done)" "2:true" "the iterator continues"
api GET '/api/v1/background-task?status=running'
is "$(jqr '.data|length')" 0 "status filters"
api GET '/api/v1/background-task/qtask_2bcdefghijklmnopqrstuvwxyzA'
is "$STATUS" 404 "an unknown task is 404"
api POST /api/v1/app/shop/endpoint/all/replay-missing '{"since":"yesterday"}'
is "$STATUS:$(jqr '.detail[0].loc|join(".")')" "422:body.since" "since must be a date-time"
api POST /api/v1/app/shop/endpoint/nope/replay-missing "{\"since\":\"$SINCE\"}"
is "$STATUS" 404 "an unknown endpoint is 404"

# a 410 disables: the reason says so; 1200 missed go in bounded batches
api POST /api/v1/app '{"name":"big","uid":"big"}'
api POST /api/v1/app/big/endpoint "{\"uid\":\"g\",\"url\":\"$RURL/gone/status/410\"}"
EP_G=$(jqr .id)
GSINCE=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
api POST /api/v1/app/big/msg '{"eventType":"a","payload":{}}'
disabled410() { [ "$(row "$EP_G" .disabledReason)" = http_410 ]; }
wait_for 10 disabled410
ok $? "a 410 disables the endpoint, disabledReason http_410"
api GET /api/v1/app/big/endpoint/g
is "$(jqr '[.disabled, .disabledReason]|@csv')" 'true,"http_410"' "the endpoint record says so too"
N=1200
seq $N | xargs -P 8 -I@@ curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary '{"eventType":"b","payload":{"n":@@}}' \
    "$URL/api/v1/app/big/msg"
is "$(row "$EP_G" .missed)" $N "it missed the $N sent since"
# failing for --disable-after disables too, and says so
api POST /api/v1/app '{"name":"f","uid":"f"}'
api POST /api/v1/app/f/endpoint "{\"uid\":\"flaky\",\"url\":\"$RURL/flaky/status/500\"}"
EP_F=$(jqr .id)
api POST /api/v1/app/f/msg '{"eventType":"a","payload":{"last":1}}'
disabled_failing() { [ "$(row "$EP_F" .disabledReason)" = failures ]; }
wait_for 15 disabled_failing
ok $? "failing for --disable-after disables the endpoint, disabledReason failures"

# the console shows why and how many, and M replays them (they wait while it is disabled)
TSK=""
if command -v tmux >/dev/null 2>&1; then
    . "$(dirname "$0")/tmux.sh"
    tm new-session -d -s t -x 120 -y 30 \
        "env -i PATH=\"$PATH\" HOME=\"$T\" TERM=xterm-256color LANG=C.UTF-8 $HOOKD console --data $DATA"
    wait_screen 10 'updated'
    keys 2
    keys /
    tm send-keys -t t -l 'app=big'
    keys Enter
    wait_screen 10 "^ *off +big "
    wait_screen 10 "disabled: by a 410 Gone [0-9.]+ [a-z]+ ago; $N missed \\(not held; M replays\\)"
    ok $? "the console's endpoints list: off by a 410, $N missed"
    keys M
    wait_screen 5 "Send 127.0.0.1:[0-9]+/gone/status/410 the $N messages it missed while disabled"
    ok $? "M asks first, saying how many"
    keys y
    wait_screen 10 'replay of the missed messages started \(task qtask_'
    ok $? "y starts the replay"
    TSK=$(cap | grep -o 'qtask_[0-9A-Za-z]*' | head -n 1)
    keys q
else
    api POST /api/v1/app/big/endpoint/g/replay-missing "{\"since\":\"$GSINCE\"}"
    TSK=$(jqr .id)
    ok 0 "# SKIP tmux is not installed"
    ok 0 "# SKIP tmux is not installed"
    ok 0 "# SKIP tmux is not installed"
fi
wait_for 30 finished "$TSK"
ok $? "the big replay finishes"
is "$(jqr .data.queued)" "$N" "all $N queued (over several batches)"
sleep 0.5
is "$(received '(.path=="/gone/status/410")')" 1 "they wait while the endpoint is disabled"
api PATCH /api/v1/app/big/endpoint/g "{\"disabled\":false,\"url\":\"$RURL/big/ok\"}"
wait_received '(.path=="/big/ok")' $N 30
ok $? "enabled, the receiver gets all $N"
api POST /api/v1/app/big/endpoint/g/replay-missing "{\"since\":\"$GSINCE\"}"
T6=$(jqr .id)
wait_for 30 finished "$T6"
is "$(jqr '[.data.queued, .data.alreadyDelivered]|@csv')" "0,$((N + 1))" "a second replay finds nothing missing"

done_testing
