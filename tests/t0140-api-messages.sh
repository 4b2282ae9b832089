#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0140: messages: create with fan-out rows per API.md 4.3, eventId,
# embedded application, with_content, rawPayload, get by id and eventId,
# list with filters, windows and pagination.
. "$(dirname "$0")/lib.sh"
hookd_start

api POST /api/v1/app '{"name":"Shop","uid":"shop"}'
APP=$(jqr .id)
api POST /api/v1/event-type '{"name":"order.paid","description":"d"}'
api POST /api/v1/event-type '{"name":"order.new","description":"d"}'
api POST /api/v1/app/shop/endpoint '{"url":"http://127.0.0.1:9/all","uid":"all"}'
EP_ALL=$(jqr .id)
api POST /api/v1/app/shop/endpoint '{"url":"http://127.0.0.1:9/paid","uid":"paid","filterTypes":["order.paid"]}'
EP_PAID=$(jqr .id)
api POST /api/v1/app/shop/endpoint '{"url":"http://127.0.0.1:9/eu","uid":"eu","channels":["eu"]}'
EP_EU=$(jqr .id)
api POST /api/v1/app/shop/endpoint '{"url":"http://127.0.0.1:9/off","uid":"off","disabled":true}'
EP_OFF=$(jqr .id)

api POST /api/v1/app/shop/msg '{"eventType":"order.paid","eventId":"evt-1","payload":{"total":42}}'
is "$STATUS" 202 "create answers 202"
M1=$(jqr .id)
like "$M1" '^msg_[0-9A-Za-z]{27}$' "message id format"
is "$(jqr .payload.total)" 42 "payload returned by default"
is "$(jqr .eventId)" evt-1 "eventId echoed"
is "$(jqr .channels)" null "channels null when absent"
api POST /api/v1/app/shop/msg '{"eventType":"order.new","channels":["eu"],"payload":{"n":2}}'
M2=$(jqr .id)
api POST '/api/v1/app/shop/msg?with_content=false' '{"eventType":"order.new","payload":{"n":3}}'
M3=$(jqr .id)
is "$(jqr .payload)" "{}" "with_content=false returns an empty payload"

api POST /api/v1/app/shop/msg '{"eventType":"order.paid","eventId":"evt-1","payload":{}}'
is "$STATUS" 409 "a duplicate eventId is 409"
is "$(jqr .code)" conflict "409 code"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":[1]}'
is "$STATUS" 422 "a non-object payload is 422"
is "$(jqr '.detail[0].loc|join(".")')" body.payload "422 names body.payload"
api POST /api/v1/app/shop/msg '{"eventType":"bad type!","payload":{}}'
is "$STATUS" 422 "a bad eventType is 422"
api POST /api/v1/app/shop/msg '{"eventType":"e","payload":{},"channels":["a","b","c","d","e","f"]}'
is "$STATUS" 422 "more than 5 channels is 422"
api POST /api/v1/app/shop/msg '{"eventType":"e","payload":{},"tags":["t"],"deliverAt":"2030-01-01T00:00:00Z"}'
is "$STATUS:$(jqr '.detail[0].loc|join(".")')" "422:body.deliverAt" \
   "deliverAt more than 24 hours ahead is refused (t0160 covers scheduled messages)"
api POST /api/v1/app/shop/msg '{"eventType":"e","payload":{},"tags":["t"]}'
is "$STATUS:$(jqr '.tags[0]')" "202:t" "tags are taken and returned"
M4=$(jqr .id)
api POST /api/v1/app/shop/msg '{"eventType":"e","payload":{},"transformationsParams":{"rawPayload":"a,b,c"}}'
is "$STATUS" 202 "rawPayload accepted"

api POST /api/v1/app/nosuch/msg '{"eventType":"e","payload":{}}'
is "$STATUS" 404 "unknown app without an embedded application is 404"
api POST /api/v1/app/newshop/msg '{"eventType":"e","payload":{},"application":{"name":"New","uid":"other"}}'
is "$STATUS" 422 "embedded application with another uid is 422"
is "$(jqr '.detail[0].type')" application_uid_mismatch "mismatch type"
api POST /api/v1/app/newshop/msg '{"eventType":"e","payload":{},"application":{"name":"New"}}'
is "$(jqr '.detail[0].type')" application_uid_missing "missing uid type"
api POST /api/v1/app/newshop/msg '{"eventType":"e","payload":{},"application":{"name":"New","uid":"newshop"}}'
is "$STATUS" 202 "embedded application creates the app"
api GET /api/v1/app/newshop
is "$(jqr .name)" New "the embedded application exists"

api GET "/api/v1/app/shop/msg/$M1"
is "$STATUS" 200 "get by id"
is "$(jqr .payload.total)" 42 "stored payload"
api GET /api/v1/app/shop/msg/evt-1
is "$(jqr .id)" "$M1" "get by eventId"
api GET "/api/v1/app/shop/msg/$M1?with_content=false"
is "$(jqr .payload)" "{}" "get with_content=false"
api GET /api/v1/app/shop/msg/msg_nothere
is "$STATUS" 404 "missing message is 404"

api GET /api/v1/app/shop/msg
is "$(jqr '[.data[].id]|join(",")')" "$(jqr '[.data[].id]|sort|reverse|join(",")')" "list is newest first"
is "$(jqr '.data|length')" 5 "list has every message"
api GET '/api/v1/app/shop/msg?event_types=order.paid%2Corder.new'
is "$(jqr '.data|length')" 3 "event_types comma filter"
api GET '/api/v1/app/shop/msg?event_types=order.paid&event_types=e'
is "$(jqr '.data|length')" 3 "event_types repeated filter"
api GET '/api/v1/app/shop/msg?channel=eu'
is "$(jqr '[.data[].id]|join(",")')" "$M2" "channel filter"
api GET '/api/v1/app/shop/msg?limit=2'
is "$(jqr .done)" false "page 1 of 3 not done"
IT=$(jqr .iterator)
api GET "/api/v1/app/shop/msg?limit=2&iterator=$IT"
is "$(jqr '.data[0].id')" "$M3" "page 2 continues after the iterator"
api GET '/api/v1/app/shop/msg?before=2000-01-01T00:00:00Z'
is "$(jqr '.data|length')" 0 "before filters by the id's time"
api GET '/api/v1/app/shop/msg?after=2000-01-01T00:00:00.000Z'
is "$(jqr '.data|length')" 5 "after includes newer messages"
api GET '/api/v1/app/shop/msg?after=yesterday'
is "$STATUS" 422 "a bad date is 422"

# fan-out rows: read the log itself once the server is stopped
hookd_stop TERM
mdb_dump -s deliveries -p "$DATA" > "$T/dump" 2>&1
rows() { grep -c "^ $1$2" "$T/dump"; }
is "$(rows "$M1" "$EP_ALL")" 1 "msg 1 fans out to the catch-all endpoint"
is "$(rows "$M1" "$EP_PAID")" 1 "msg 1 matches the event type filter"
is "$(rows "$M1" "$EP_EU")" 0 "msg 1 has no channel, so not the channel endpoint"
is "$(rows "$M1" "$EP_OFF")" 0 "disabled endpoints get nothing"
is "$(rows "$M2" "$EP_EU")" 1 "msg 2 matches the channel endpoint"
is "$(rows "$M2" "$EP_PAID")" 0 "msg 2 does not match the type filter"
is "$(rows "$M4" "$EP_ALL")" 1 "msg 4 fans out to the catch-all"
is "$(mdb_stat -s due "$DATA" | awk '/Entries/{print $2}')" \
   "$(mdb_stat -s deliveries "$DATA" | awk '/Entries/{print $2}')" "one due entry per delivery"
done_testing
