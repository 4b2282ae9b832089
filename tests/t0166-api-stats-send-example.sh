#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0166: endpoint stats (Svix EndpointStats, counted by the writer per
# endpoint and UTC day as deliveries change state: epstats.h) and
# send-example (the event type's schema example, or svix.ping's
# {"success":true}, sent to that one endpoint).
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s

api POST /api/v1/event-type '{"name":"user.signup","description":"d","schemas":{"1":{"type":"object","examples":[{"user":"ann"},{"user":"bob"}]}}}'
api POST /api/v1/event-type '{"name":"bare","description":"no schema"}'
api POST /api/v1/event-type '{"name":"order","description":"o"}'
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/app/shop/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/ok\",\"filterTypes\":[\"order\"]}"
EP_OK=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/status/500\"}"
is "$STATUS" 201 "two endpoints"

# --- send-example
api POST /api/v1/app/shop/endpoint/good/send-example '{"eventType":"svix.ping"}'
is "$STATUS" 202 "send-example answers 202"
is "$(jqr '[.eventType, (.payload|tojson), (.id|test("^msg_"))]|map(tostring)|join(" ")')" \
   'svix.ping {"success":true} true' "svix.ping with {\"success\":true} (MessageOut)"
PING=$(jqr .id)
wait_received ".path==\"/ok\" and .id==\"$PING\"" 1
ok $? "sent to that endpoint, though its filter takes only 'order'"
is "$(received ".path==\"/status/500\" and .id==\"$PING\"")" 0 "and to no other"
api POST /api/v1/app/shop/endpoint/good/send-example '{"eventType":"user.signup","exampleIndex":1}'
is "$STATUS:$(jqr '.payload.user')" "202:bob" "exampleIndex picks the schema's second example"
EX=$(jqr .id)
wait_received ".path==\"/ok\" and .id==\"$EX\"" 1
ok $? "delivered"
like "$(grep "$EX" "$RLOG" | jq -r .body)" '"user":"bob"' "with the example as the body"
api POST /api/v1/app/shop/endpoint/good/send-example '{"eventType":"user.signup"}'
is "$STATUS:$(jqr '.payload.user')" 202:ann "the first example by default"
api POST /api/v1/app/shop/endpoint/good/send-example '{"eventType":"bare"}'
is "$STATUS:$(jqr .code)" "400:invalid_scheme" "an event type without an example: 400 invalid_scheme"
api POST /api/v1/app/shop/endpoint/good/send-example '{"eventType":"nosuch"}'
is "$STATUS" 404 "an unknown event type: 404"
api POST /api/v1/app/shop/endpoint/nosuch/send-example '{"eventType":"svix.ping"}'
is "$STATUS" 404 "an unknown endpoint: 404"
api POST /api/v1/app/shop/endpoint/good/send-example '{}'
is "$STATUS:$(jqr '.detail[0].loc|join(".")')" "422:body.eventType" "eventType is required"

# --- stats
api POST /api/v1/app/shop/msg '{"eventType":"order","payload":{"n":1}}'
wait_received '.path=="/status/500"' 2
wait_received '.path=="/ok"' 4
sleep 1.5
stats() { api GET "/api/v1/app/shop/endpoint/$1/stats${2-}"; jqr '[.success,.pending,.sending,.fail,.canceled]|@csv'; }
is "$(stats good)" "4,4,0,0,0" "good: four queued (three examples, one order), four successes"
is "$(stats bad)" "0,1,1,1,0" "bad: one queued, one failure with a retry (sending), one final failure"
Y=$(date -u -d '-1 day' +%Y-%m-%dT00:00:00Z)
is "$(stats good "?since=$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)&until=$Y")" "0,0,0,0,0" \
   "a window that ended yesterday counts nothing"
api GET "/api/v1/app/shop/endpoint/good/stats?until=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
is "$STATUS:$(jqr .code)" "400:invalid_range" "until in the future: 400 invalid_range (as Svix)"
api GET "/api/v1/app/shop/endpoint/good/stats?since=$(date -u -d '-30 days' +%Y-%m-%dT%H:%M:%SZ)"
is "$STATUS:$(jqr .code)" "400:invalid_range" "more than 28 days: 400 invalid_range"
api GET "/api/v1/app/shop/endpoint/nosuch/stats"
is "$STATUS" 404 "an unknown endpoint: 404"
api GET "/api/v1/app/shop/endpoint/good/stats?since=soon"
is "$STATUS" 422 "a bad time: 422"
api DELETE /api/v1/app/shop/endpoint/bad
api POST /api/v1/app/shop/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/ok\"}"
api GET /api/v1/app/shop/endpoint/bad/stats
is "$(jqr '[.success,.pending,.sending,.fail]|@csv')" "0,0,0,0" "a deleted endpoint's counters go with it"
done_testing
