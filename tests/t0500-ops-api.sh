#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0500: the operations API (API.md 9): stats counters and gauges, the
# endpoints table, the deliveries list and its filters, replay by list and
# by filter, the live feed's long poll (which must not hold an HTTP thread),
# pause and resume, and the errors and scopes of /hookd/v1.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
# Two HTTP threads, so three long polls would starve every other request
# if a poll held its thread.
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s --ingest-tokens tok \
    --http-threads 2 --endpoint-concurrency 1

api POST /api/v1/app '{"name":"shop","uid":"shop"}'
APP=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/good/ok\"}"
EP_OK=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/bad/status/500\"}"
EP_BAD=$(jqr .id)

stat() { api GET /hookd/v1/stats; jqr "$1"; }
# timed GET PATH: sets STATUS, BODY and SECS (wall time of the request).
timed() {
    _out=$(curl -s -o "$T/tbody" -w '%{http_code} %{time_total}' \
        -H "Authorization: Bearer $TOKEN" "$URL$1")
    STATUS=${_out% *} SECS=${_out#* } BODY=$(cat "$T/tbody")
}
send() { api POST /api/v1/app/shop/msg "{\"eventType\":\"${2:-order.paid}\",\"payload\":{\"n\":$1}}"; }

# --- stats: shape, then counters that move --------------------------------
api GET /hookd/v1/stats
is "$STATUS" 200 "stats answers 200"
is "$(jqr '[has("version","uptimeS","messagesIngested","attemptsSucceeded","attemptsFailed",
    "deliveriesFailedFinal","deliveriesPending","deliveriesScheduled","deliveriesHeld",
    "deliveriesFailed","inflight","rates","latencyMs","dbBytes","mapBytes","readers",
    "messagesStored","payloadRetentionS")]|all')" \
   true "stats has every field of API.md 9"
is "$(jqr '([.rates[]|has("1s","10s","60s")]|all) and (.rates|keys==["failure","ingest","success"])')" \
   true "rates for ingest, success and failure over 1 s, 10 s and 60 s"
is "$(jqr '.latencyMs.p50')" null "no latency before any success"
is "$(jqr '.messagesIngested')" 0 "nothing ingested yet"
is "$(jqr '[.messagesStored, .payloadRetentionS]|@csv')" "0,7776000" \
   "no message in the log; payloads are kept 90 days by default"
like "$(jqr '.dbBytes')" '^[1-9][0-9]*$' "dbBytes is a positive number"
is "$(jqr '(.mapBytes >= .dbBytes) and (.readers >= 0)')" true "mapBytes and readers"

for i in 1 2 3 4 5; do send "$i"; done
wait_received '(.path=="/good/ok")' 5
ok $? "five messages reach the good endpoint"
wait_received '(.path=="/bad/status/500")' 10
ok $? "the bad endpoint gets a first attempt and one retry each"
final_failed() { [ "$(stat .deliveriesFailedFinal)" = 5 ]; }
wait_for 10 final_failed
ok $? "five deliveries final-failed"
api GET /hookd/v1/stats
is "$(jqr '.messagesIngested >= 5')" true "messagesIngested counts the five"
is "$(jqr '.messagesStored')" 5 "messagesStored counts the five in the log"
is "$(jqr '[.attemptsSucceeded, .attemptsFailed, .deliveriesFailed]|@csv')" "5,10,5" \
   "5 successes, 10 failed attempts, 5 deliveries in state fail"
is "$(jqr '[.deliveriesPending, .deliveriesScheduled, .deliveriesHeld, .inflight]|@csv')" \
   "0,0,0,0" "nothing pending, scheduled, held or in flight"
is "$(jqr '.latencyMs|(.count==5 and .p50>=0 and .p90>=.p50 and .p99>=.p90 and .max>=.p99)')" \
   true "latency percentiles after the successes, ordered"
is "$(jqr '.rates.ingest["60s"] > 0 and .rates.failure["60s"] > 0')" true "60 s rates move"

# --- stats history: the last complete seconds, oldest first ---------------
sleep 1   # the seconds of the sends above are complete now
api GET /hookd/v1/stats/history
is "$STATUS" 200 "stats history answers 200"
UP=$(stat .uptimeS)   # in a subshell: BODY is still the history
is "$(jqr '[.seconds as $n|(.ingest,.success,.failure)|length == $n]|all')" true \
   "one count a second for each kind"
is "$(jqr ".seconds >= $UP and .seconds <= $UP + 1 and .seconds < 300")" true \
   "as many seconds as the server has been up, not five minutes of zeros ($(jqr .seconds) s, up $UP s)"
is "$(jqr '[(.ingest|add), (.success|add), (.failure|add)]|@csv')" \
   "$(stat '[.messagesIngested, .attemptsSucceeded, .attemptsFailed]|@csv')" \
   "the history adds up to the counters (everything happened within the five minutes)"
like "$(jqr .until)" '^[0-9-]{10}T[0-9:]{8}\.000Z$' "until is the start of the current second"
# the history never reaches back before the start: wait until there are three seconds to give
wait_for 5 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $URL/hookd/v1/stats | jq .uptimeS)\" -ge 4 ]"
api GET '/hookd/v1/stats/history?seconds=3'
is "$(jqr '[(.ingest|length), .seconds]|@csv')" "3,3" "seconds=3 gives three"
api GET '/hookd/v1/stats/history?seconds=301'
is "$STATUS:$(jqr '.detail[0].loc|join(".")')" "422:query.seconds" "seconds over 300 is 422"
AUTH="Bearer tok" api GET /hookd/v1/stats/history
is "$STATUS" 403 "an ingest token may not read the history"

# --- the endpoints table --------------------------------------------------
api GET /hookd/v1/endpoints
is "$STATUS" 200 "endpoints answers 200"
is "$(jqr '.data|length')" 2 "one row per endpoint"
is "$(jqr '.data[0]|keys|join(",")')" \
   "appId,appUid,backlog,consecutiveFailures,disabled,disabledAt,disabledReason,endpointId,failures5m,inflight,lastAttemptAt,lastError,lastStatusCode,missed,missedCapped,paused,retrying,successes5m,url" \
   "a row has exactly the fields of API.md 9"
row() { jqr ".data[]|select(.endpointId==\"$1\")|$2"; }
is "$(row "$EP_BAD" '[.appId,.appUid,.url]|@csv')" "\"$APP\",\"shop\",\"$RURL/bad/status/500\"" \
   "appId, appUid and url"
is "$(row "$EP_BAD" '[.consecutiveFailures,.lastStatusCode,.failures5m,.successes5m,.backlog]|@csv')" \
   "10,500,10,0,0" "bad endpoint: 10 consecutive failures, last 500, no backlog"
like "$(row "$EP_BAD" .lastError)" '^HTTP 500' "lastError names the status"
like "$(row "$EP_BAD" .lastAttemptAt)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$' "lastAttemptAt is RFC 3339"
is "$(row "$EP_OK" '[.consecutiveFailures,.lastStatusCode,.successes5m,.lastError,.disabled,.paused]|@csv')" \
   "0,200,5,,false,false" "good endpoint: 5 successes, no error, enabled, not paused"
api GET '/hookd/v1/endpoints?limit=1'
is "$(jqr '[(.data|length), .done]|@csv')" "1,false" "endpoints page with limit=1"
api GET "/hookd/v1/endpoints?limit=1&iterator=$(jqr .iterator)"
is "$(jqr '[(.data|length), .done]|@csv')" "1,true" "the iterator gives the second page"

# --- the deliveries list --------------------------------------------------
api GET '/hookd/v1/deliveries?status=fail'
is "$STATUS" 200 "deliveries answers 200"
is "$(jqr '.data|length')" 5 "five failed deliveries"
is "$(jqr "[.data[]|select(.endpointId==\"$EP_BAD\" and .status==\"fail\" and .attempts==2
    and .lastStatusCode==500 and .nextAttemptAt==null and .eventType==\"order.paid\")]|length")" 5 \
   "each: bad endpoint, fail, 2 attempts, last 500, no next attempt, event type"
like "$(jqr '.data[0].lastError')" '^HTTP 500' "lastError of a failed delivery"
is "$(jqr '.data[0]|keys|join(",")')" \
   "appId,attempts,endpointId,eventType,lastError,lastStatusCode,msgId,nextAttemptAt,status,updatedAt" \
   "a delivery row has exactly the fields of API.md 9"
is "$(jqr '[.data[].msgId]|join(",")')" "$(jqr '[.data[].msgId]|sort|reverse|join(",")')" "newest first"
FAILED=$(jqr '[.data[].msgId]|join(" ")')
api GET '/hookd/v1/deliveries?status=success'
is "$(jqr "[.data[]|select(.endpointId==\"$EP_OK\" and .lastError==null)]|length")" 5 \
   "five successful deliveries"
api GET '/hookd/v1/deliveries?app_id=shop&endpoint_id=good'
is "$(jqr '.data|length')" 5 "app_id and endpoint_id accept uids"
api GET "/hookd/v1/deliveries?endpoint_id=$EP_BAD&limit=2"
is "$(jqr '[(.data|length), .done]|@csv')" "2,false" "limit=2: a page of two"
api GET "/hookd/v1/deliveries?endpoint_id=$EP_BAD&limit=2&iterator=$(jqr .iterator)"
is "$(jqr '.data|length')" 2 "the iterator continues"
api GET '/hookd/v1/deliveries?before=2001-01-01T00:00:00Z'
is "$(jqr '.data|length')" 0 "before filters by message time"
api GET '/hookd/v1/deliveries?status=bogus'
is "$STATUS" 422 "an unknown status is 422"
api GET '/hookd/v1/deliveries?app_id=nope'
is "$STATUS:$(jqr .code)" 404:not_found "an unknown app is 404"

# --- replay by list, then by filter ----------------------------------------
set -- $FAILED
api POST /hookd/v1/deliveries/replay \
    "{\"deliveries\":[{\"msgId\":\"$1\",\"endpointId\":\"$EP_BAD\"},{\"msgId\":\"$2\",\"endpointId\":\"$EP_BAD\"}]}"
is "$STATUS" 202 "replay by list answers 202"
is "$(jqr .queued)" 2 "two attempts queued"
wait_received "(.path==\"/bad/status/500\" and (.id==\"$1\" or .id==\"$2\"))" 6
ok $? "the receiver gets the two manual attempts"
api GET "/hookd/v1/deliveries?endpoint_id=$EP_BAD&status=fail"
is "$(jqr "[.data[]|select(.msgId==\"$1\")|.attempts][0]")" 3 "the replayed row counts its third attempt"
api POST /hookd/v1/deliveries/replay '{"deliveries":[{"msgId":"msg_x","endpointId":"ep_x"}]}'
is "$(jqr .queued):$(jqr '.detail|test("skipped")')" "0:true" "an unknown delivery is skipped and said so"
api POST /hookd/v1/deliveries/replay '{"nothing":1}'
is "$STATUS" 422 "replay needs deliveries or filter"

api PATCH /api/v1/app/shop/endpoint/bad "{\"url\":\"$RURL/fixed/ok\"}"
api POST /hookd/v1/deliveries/replay '{"filter":{"status":"fail","app_id":"shop","endpoint_id":"bad"}}'
is "$STATUS:$(jqr .queued)" "202:5" "replay by filter queues the five failed deliveries"
wait_received '(.path=="/fixed/ok")' 5
ok $? "the receiver gets them at the fixed url"
no_failed() { [ "$(stat .deliveriesFailed)" = 0 ]; }
wait_for 10 no_failed
ok $? "the failed gauge drops to 0"
api GET '/hookd/v1/deliveries?status=fail'
is "$(jqr '.data|length')" 0 "no failed deliveries left"
api GET "/hookd/v1/deliveries?status=success&endpoint_id=$EP_BAD"
is "$(jqr '.data|length')" 5 "the replayed rows are now successes"

# --- the live feed ----------------------------------------------------------
timed '/hookd/v1/feed?after=0&wait=10&limit=3'
is "$STATUS" 200 "feed answers 200"
is "$(jqr '[(.items|length), .seq, .items[0].seq]|@csv')" "3,3,1" "oldest first, at most limit, seq of the last"
is "$(jqr '.items[0]|keys|join(",")')" \
   "appId,durationMs,endpointId,error,eventType,msgId,ok,seq,statusCode,timestamp,triggerType" \
   "a feed item has exactly the fields of API.md 9"
is "$(cond "$SECS < 1")" 0 "items that exist come back at once"
api GET '/hookd/v1/feed?after=0&limit=1000'
LAST=$(jqr .seq)
is "$(jqr '[.items[]|select(.ok==false)][0]|[.statusCode,.triggerType,(.error|test("^HTTP 500"))]|@csv')" \
   "500,0,true" "a failed attempt: code, trigger and error"
is "$(jqr '[.items[]|select(.triggerType==1)]|length >= 7')" true "manual attempts are in the feed"
timed "/hookd/v1/feed?after=$LAST&wait=2"
is "$(jqr '[(.items|length), .seq]|@csv')" "0,$LAST" "nothing new: empty items, seq unchanged"
is "$(cond "$SECS >= 1.8 && $SECS < 4")" 0 "and it waited about wait seconds ($SECS s)"

# Three long polls on a server with two HTTP threads...
for i in 1 2 3; do
    curl -s -o "$T/poll$i" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
        "$URL/hookd/v1/feed?after=$LAST&wait=20" > "$T/poll$i.time" &
    eval "POLL$i=\$!"
done
sleep 0.5
timed /hookd/v1/stats
is "$STATUS" 200 "while three clients long-poll, stats still answers"
is "$(cond "$SECS < 0.5")" 0 "promptly ($SECS s)"
timed /api/v1/health
is "$(cond "$SECS < 0.5")" 0 "and so does health ($SECS s)"
send 99
wait "$POLL1" "$POLL2" "$POLL3"
for i in 1 2 3; do
    is "$(cond "$(cat "$T/poll$i.time") < 5")" 0 "poll $i returns early when an outcome arrives"
    is "$(jq -r '.items[0].seq' "$T/poll$i")" "$((LAST + 1))" "poll $i gets the new item"
done

# --- pause holds, resume releases in due order ----------------------------
api POST /hookd/v1/app/shop/endpoint/good/pause
is "$STATUS" 200 "pause answers 200"
is "$(jqr '[.endpointId,.paused,.disabled]|@csv')" "\"$EP_OK\",true,false" "with the endpoint's row, paused"
is "$(jqr 'keys|length')" 19 "the row of /hookd/v1/endpoints"
BEFORE=$(received '(.path=="/good/ok")')
for i in 11 12 13; do send "$i"; eval "M$i=\$(jqr .id)"; done
sleep 1.5
is "$(received '(.path=="/good/ok")')" "$BEFORE" "nothing is delivered while paused"
api GET /hookd/v1/stats
is "$(jqr '[.deliveriesHeld,.deliveriesPending]|@csv')" "3,0" "the held gauge counts the three"
api GET /hookd/v1/endpoints
is "$(row "$EP_OK" '[.backlog,.paused]|@csv')" "3,true" "the row shows the backlog"
api GET "/hookd/v1/deliveries?status=held"
is "$(jqr '[.data[].msgId]|sort|join(",")')" "$M11,$M12,$M13" "the three are listed as held"
api POST /hookd/v1/app/shop/endpoint/good/resume
is "$STATUS:$(jqr .paused)" 200:false "resume answers 200, not paused"
wait_received "(.path==\"/good/ok\" and (.id==\"$M11\" or .id==\"$M12\" or .id==\"$M13\"))" 3
ok $? "resume releases the held deliveries"
is "$(jq -r "select(.path==\"/good/ok\" and (.id==\"$M11\" or .id==\"$M12\" or .id==\"$M13\"))|.id" \
      "$RLOG" | tr '\n' ' ')" "$M11 $M12 $M13 " "in the order they were due"
empty_backlog() { [ "$(stat .deliveriesHeld)" = 0 ] && [ "$(stat .deliveriesPending)" = 0 ]; }
wait_for 5 empty_backlog
ok $? "held and pending gauges drop back to 0"
api PATCH /api/v1/app/shop/endpoint/good '{"disabled":true}'
api GET /hookd/v1/endpoints
is "$(row "$EP_OK" '[.disabled,.paused]|@csv')" "true,false" "a disabled endpoint's row says so"

# --- errors and scopes ------------------------------------------------------
api POST /hookd/v1/app/shop/endpoint/nope/pause
is "$STATUS:$(jqr .code)" 404:not_found "pausing an unknown endpoint is 404"
api POST /hookd/v1/app/nope/endpoint/good/resume
is "$STATUS:$(jqr .detail)" "404:application not found" "resuming under an unknown app is 404"
api GET /hookd/v1/nothing
is "$STATUS:$(jqr .code)" 404:not_found "an unknown /hookd/v1 route is a JSON 404"
api POST /hookd/v1/stats
is "$STATUS" 405 "a wrong method is 405"
AUTH="Bearer tok" api GET /hookd/v1/stats
is "$STATUS:$(jqr .code)" 403:insufficient_access "an ingest token may not read stats"
AUTH="Bearer tok" api POST /hookd/v1/app/shop/endpoint/good/pause
is "$STATUS" 403 "nor pause"
AUTH=none api GET /hookd/v1/feed
is "$STATUS:$(jqr .code)" 401:authentication_failed "no token is 401"
api GET '/hookd/v1/feed?wait=abc'
is "$STATUS" 422 "a bad wait is 422"

done_testing
