#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0165: the Svix routes issue 7 adds (API.md 4.8): the attempted
# messages of an endpoint and the attempted destinations of a message,
# the deprecated attempt lists, expunging a payload (which ends the
# deliveries still waiting, a scheduled one included, and refuses a
# resend) and an attempt's response body.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s,60s

api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/app/shop/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/ok\"}"
EP_OK=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/status/500\",\"channels\":[\"c1\"]}"
EP_BAD=$(jqr .id)
is "$STATUS" 201 "two endpoints"

api POST /api/v1/app/shop/msg '{"eventType":"a","payload":{"n":1},"channels":["c1"],"tags":["x"]}'
M1=$(jqr .id)
api POST /api/v1/app/shop/msg '{"eventType":"b","payload":{"n":2}}'
M2=$(jqr .id)
wait_received '.path=="/ok"' 2
ok $? "both messages reach the good endpoint"
wait_received ".path==\"/status/500\" and .id==\"$M1\"" 2
ok $? "the first reaches the failing endpoint twice (first attempt and one retry)"

# --- GET /msg/{msg}/endpoint: MessageEndpointOut
api GET "/api/v1/app/shop/msg/$M1/endpoint"
is "$STATUS" 200 "attempted destinations answer 200"
is "$(jqr '[.data[].id]|sort|join(",")')" "$(printf '%s\n' "$EP_OK" "$EP_BAD" | sort | paste -sd,)" \
   "both endpoints listed"
is "$(jqr ".data[]|select(.id==\"$EP_OK\")|[.status,.statusText,.url,.nextAttempt]|@csv")" \
   "0,\"success\",\"$RURL/ok\"," "the good one succeeded (endpoint fields, no next attempt)"
is "$(jqr ".data[]|select(.id==\"$EP_BAD\")|[.status,.statusText]|@csv")" '3,"sending"' \
   "the failing one is sending (a retry is due)"
like "$(jqr ".data[]|select(.id==\"$EP_BAD\")|.nextAttempt")" '^20[0-9-]+T' "with its next attempt"
is "$(jqr '.done')" true "one page"
api GET "/api/v1/app/shop/msg/$M2/endpoint?limit=1"
is "$(jqr '[(.data|length), .done]|@csv')" '1,true' "the second message went to one endpoint"
api GET "/api/v1/app/shop/msg/msg_nosuch/endpoint"
is "$STATUS" 404 "an unknown message is 404"

# --- GET /endpoint/{ep}/msg: EndpointMessageOut
api GET "/api/v1/app/shop/endpoint/good/msg"
is "$STATUS:$(jqr '[.data[].id]|join(",")')" "200:$M2,$M1" "the good endpoint's messages, newest first"
is "$(jqr '.data[0]|[.eventType,.payload.n,.status,.statusText]|@csv')" '"b",2,0,"success"' \
   "MessageOut fields with status and statusText"
api GET "/api/v1/app/shop/endpoint/bad/msg"
is "$(jqr '[.data[].id]|join(",")')" "$M1" "the failing endpoint took only the c1 message"
api GET "/api/v1/app/shop/endpoint/good/msg?status=0&event_types%5B%5D=a"
is "$(jqr '[.data[].id]|join(",")')" "$M1" "status and event_types[] filter"
api GET "/api/v1/app/shop/endpoint/good/msg?channel=c1&with_content=false"
is "$(jqr '[.data[].id]|join(",")'):$(jqr '.data[0].payload|length')" "$M1:0" "channel and with_content"
api GET "/api/v1/app/shop/endpoint/good/msg?tag=x"
is "$(jqr '[.data[].id]|join(",")')" "$M1" "tag filter"
api GET "/api/v1/app/shop/endpoint/good/msg?limit=1"
IT=$(jqr .iterator)
is "$(jqr '[.data[].id]|join(",")'):$(jqr .done)" "$M2:false" "page 1 of 2"
api GET "/api/v1/app/shop/endpoint/good/msg?limit=1&iterator=$IT"
is "$(jqr '[.data[].id]|join(",")')" "$M1" "page 2"
api GET "/api/v1/app/shop/endpoint/good/msg?status=7"
is "$STATUS" 422 "a bad status is 422"

# --- the deprecated attempt lists
api GET "/api/v1/app/shop/msg/$M1/attempt"
is "$STATUS:$(jqr '.data|length')" "200:3" "GET /msg/{msg}/attempt lists the message's attempts"
is "$(jqr '.data[0]|has("responseStatusCode") and has("statusText")')" true "as MessageAttemptOut"
api GET "/api/v1/app/shop/msg/$M1/attempt?endpoint_id=good"
is "$(jqr '[.data[].endpointId]|unique|join(",")')" "$EP_OK" "with its endpoint_id filter"
api GET "/api/v1/app/shop/msg/$M1/endpoint/bad/attempt"
is "$STATUS:$(jqr '[.data[].endpointId]|unique|join(",")'):$(jqr '.data|length')" "200:$EP_BAD:2" \
   "GET /msg/{msg}/endpoint/{ep}/attempt lists the attempts to that endpoint"
api GET "/api/v1/app/shop/msg/$M1/endpoint/nosuch/attempt"
is "$STATUS" 404 "an unknown endpoint is 404"

# --- expunge an attempt's response body
api GET "/api/v1/app/shop/attempt/endpoint/good"
ATT=$(jqr ".data[]|select(.msgId==\"$M1\")|.id")
api DELETE "/api/v1/app/shop/msg/$M1/attempt/$ATT/content"
is "$STATUS" 204 "expunging an attempt's content answers 204"
api GET "/api/v1/app/shop/msg/$M1/attempt/$ATT"
is "$(jqr '[.id,.response,.responseStatusCode]|@csv')" "\"$ATT\",\"EXPUNGED\",200" \
   "the attempt stays, its response reads EXPUNGED (as Svix)"
api DELETE "/api/v1/app/shop/msg/$M2/attempt/$ATT/content"
is "$STATUS" 404 "another message's attempt is 404"

# --- expunge a payload: the waiting retry ends, resend is refused
api DELETE "/api/v1/app/shop/msg/$M1/content"
is "$STATUS" 204 "expunging a message's content answers 204"
api GET "/api/v1/app/shop/msg/$M1"
is "$STATUS:$(jqr '.payload|tojson'):$(jqr .eventType)" '200:{"expired":true}:a' \
   "the record stays, its payload is gone"
api GET "/hookd/v1/deliveries?endpoint_id=$EP_BAD"
is "$(jqr ".data[]|select(.msgId==\"$M1\")|[.status,.lastError,.nextAttemptAt]|@csv")" \
   '"fail","payload expunged before it was sent",' "the waiting retry ended: failed, lastError says why"
api POST "/api/v1/app/shop/msg/$M1/endpoint/good/resend"
is "$STATUS:$(jqr .code)" "400:missing_payload" "a resend is refused"
like "$(jqr .detail)" "expunged" "saying the payload was expunged"
api GET "/hookd/v1/endpoints"
is "$(jqr ".data[]|select(.endpointId==\"$EP_BAD\")|.backlog")" 0 \
   "the endpoint's backlog lost the ended retry"

# a scheduled message expunged before its time is never sent
AT=$(date -u -d "@$(( $(date +%s) + 2 ))" +%Y-%m-%dT%H:%M:%S.000Z)
api POST /api/v1/app/shop/msg "{\"eventType\":\"later\",\"payload\":{\"n\":3},\"deliverAt\":\"$AT\"}"
M3=$(jqr .id)
api DELETE "/api/v1/app/shop/msg/$M3/content"
is "$STATUS" 204 "a scheduled message expunged before its time"
api GET "/hookd/v1/deliveries?endpoint_id=$EP_OK"
is "$(jqr ".data[]|select(.msgId==\"$M3\")|[.status,.lastError]|@csv")" \
   '"fail","payload expunged before it was sent"' "its delivery is cancelled, saying why"
sleep 3
is "$(received ".id==\"$M3\"")" 0 "and nothing is sent at its time"
api DELETE "/api/v1/app/shop/msg/msg_nosuch/content"
is "$STATUS" 404 "expunging an unknown message is 404"
done_testing
