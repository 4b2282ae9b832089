#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0506: deleting an endpoint or an application with a backlog ends its
# waiting deliveries (issue 6): they turn failed with lastError
# "endpoint deleted" instead of staying pending for good, so the list,
# the gauges and a replay agree; also when a stop came before the ending
# and the server starts again.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8

api POST /api/v1/app '{"name":"a","uid":"a"}'
api POST /api/v1/app/a/endpoint "{\"uid\":\"e1\",\"url\":\"$RURL/e1\"}"
EP1=$(jqr .id)
api POST /api/v1/app/a/endpoint "{\"uid\":\"e2\",\"url\":\"$RURL/e2\"}"
EP2=$(jqr .id)
api POST /api/v1/app '{"name":"b","uid":"b"}'
api POST /api/v1/app/b/endpoint "{\"uid\":\"e3\",\"url\":\"$RURL/e3\"}"
EP3=$(jqr .id)
for ep in a/endpoint/e1 b/endpoint/e3; do api POST "/hookd/v1/app/$ep/pause"; done
is "$STATUS" 200 "e1 and e3 paused"
N=300
seq $N | xargs -P 4 -I@@ curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary '{"eventType":"t","payload":{"n":@@}}' \
    "$URL/api/v1/app/a/msg"
seq 40 | xargs -P 4 -I@@ curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary '{"eventType":"t","payload":{"n":@@}}' \
    "$URL/api/v1/app/b/msg"
wait_received '(.path=="/e2")' $N 20
ok $? "the enabled endpoint gets all $N"
api GET /hookd/v1/stats
is "$(jqr '[.deliveriesHeld, .deliveriesFailed]|@csv')" "$((N + 40)),0" "e1 and e3 hold their backlogs"

count() {   # count STATUS EP: deliveries of EP in STATUS (all pages)
    _it="" _c=0
    while :; do
        api GET "/hookd/v1/deliveries?status=$1&endpoint_id=$2&limit=250${_it:+&iterator=$_it}"
        _c=$((_c + $(jqr '.data|length')))
        [ "$(jqr .done)" = true ] && break
        _it=$(jqr .iterator)
    done
    echo $_c
}
api DELETE /api/v1/app/a/endpoint/e1
is "$STATUS" 204 "endpoint e1 deleted with its backlog"
ended() { [ "$(count fail "$EP1")" = "$N" ]; }
wait_for 20 ended
ok $? "its $N deliveries end as failed"
is "$(count held "$EP1"):$(count pending "$EP1")" "0:0" "none is left pending or held"
api GET "/hookd/v1/deliveries?endpoint_id=$EP1&limit=1"
is "$(jqr '.data[0]|[.status, .lastError, .lastStatusCode]|@csv')" '"fail","endpoint deleted",' \
   "a row says why it ended"
api GET /hookd/v1/stats
is "$(jqr '[.deliveriesHeld, .deliveriesPending, .deliveriesFailed]|@csv')" "40,0,$N" \
   "the gauges agree: e3's 40 still held, e1's $N failed"
api POST /hookd/v1/deliveries/replay "{\"filter\":{\"endpoint_id\":\"$EP1\"},\"dryRun\":true}"
is "$(jqr '[.wouldQueue, .skipped]|@csv')" "0,$N" "a replay would skip them all (the endpoint is gone)"

# the app goes while the server holds every delivery (so nothing ends
# yet), then it is killed: the next start finds e3's entries and ends them
hookd_stop TERM
hookd_start --allow-network 127.0.0.0/8 --hold-deliveries
api DELETE /api/v1/app/b
is "$STATUS" 204 "app b deleted with its endpoint's backlog"
sleep 0.5
is "$(count fail "$EP3")" 0 "held: e3's entries have not ended yet"
hookd_stop KILL
hookd_start --allow-network 127.0.0.0/8
ended3() { [ "$(count fail "$EP3")" = 40 ]; }
wait_for 20 ended3
ok $? "after a restart e3's 40 are failed too"
is "$(count held "$EP3"):$(count pending "$EP3")" "0:0" "none left waiting"
api GET /hookd/v1/stats
is "$(jqr '[.deliveriesHeld, .deliveriesPending, .deliveriesScheduled]|@csv')" "0,0,0" \
   "nothing held, pending or scheduled"
is "$(received '(.path=="/e1" or .path=="/e3")')" 0 "nothing was sent to the deleted endpoints"

done_testing
