#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0400: deliveries: signatures checked by an independent receiver, the
# standard headers, custom headers, event-type and channel filters,
# retries with their spacing, 410 disabling then release on re-enable,
# throttleRate, and a hanging endpoint that must not delay a healthy one.
. "$(dirname "$0")/lib.sh"
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
receiver_start --secret "$SECRET"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s,1s --request-timeout 3s

api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/event-type '{"name":"order.paid","description":"d"}'
ep() { # ep UID JSON-FIELDS
    api POST /api/v1/app/shop/endpoint "{\"uid\":\"$1\",\"secret\":\"$SECRET\",$2}"
    [ "$STATUS" = 201 ] || diag "endpoint $1: $STATUS $BODY"
}
ep paid "\"url\":\"$RURL/paid/ok\",\"filterTypes\":[\"order.paid\"]"
ep eu "\"url\":\"$RURL/eu/ok\",\"channels\":[\"eu\"]"
ep all "\"url\":\"$RURL/all/ok\",\"headers\":{\"X-Tenant\":\"acme\"}"

api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"n":1}}'
M1=$(jqr .id)
api POST /api/v1/app/shop/msg '{"eventType":"order.new","channels":["eu"],"payload":{"n":2}}'
M2=$(jqr .id)
wait_received 'true' 4
ok $? "four deliveries arrive"
is "$(received ".id==\"$M1\" and (.path|startswith(\"/paid/\"))")" 1 "type filter: order.paid reaches the filtered endpoint"
is "$(received ".id==\"$M1\" and (.path|startswith(\"/eu/\"))")" 0 "a message without channels skips the channel endpoint"
is "$(received ".id==\"$M2\" and (.path|startswith(\"/eu/\"))")" 1 "channel filter: eu reaches the eu endpoint"
is "$(received ".id==\"$M2\" and (.path|startswith(\"/paid/\"))")" 0 "order.new skips the order.paid endpoint"
is "$(received '.verified != true')" 0 "every delivery carries a valid signature"
is "$(received '(.ua|startswith("hookd/"))')" 4 "user-agent is hookd/VERSION"
is "$(received '.ct == "application/json"')" 4 "content-type is application/json"
is "$(received ".id==\"$M1\" and .headers[\"x-tenant\"]==\"acme\"")" 1 "custom endpoint headers are sent"
NOW=$(date +%s)
is "$(received "((.ts|tonumber) - $NOW) | fabs < 30")" 4 "webhook-timestamp is the attempt time"
is "$(jq -r "select(.id==\"$M1\" and (.path|startswith(\"/all/\"))) | .body" "$RLOG")" '{"n":1}' \
   "the body is the stored payload"

# retries: fail twice, then succeed; retries about 1 s apart (+-20 %)
ep flaky "\"url\":\"$RURL/flaky/flaky/2\",\"filterTypes\":[\"order.paid\"]"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"n":3}}'
M3=$(jqr .id)
wait_received ".id==\"$M3\" and (.path|startswith(\"/flaky/\"))" 3 10
ok $? "a flaky endpoint gets the first attempt and two retries"
TIMES=$(jq -r "select(.id==\"$M3\" and (.path|startswith(\"/flaky/\"))) | .t" "$RLOG" | tr '\n' ' ')
set -- $TIMES
GAP1=$(awk "BEGIN{print $2 - $1}")
GAP2=$(awk "BEGIN{print $3 - $2}")
ok "$(cond "$GAP1 >= 700 && $GAP1 <= 1500")" "first retry after about 1 s ($GAP1 ms)"
ok "$(cond "$GAP2 >= 700 && $GAP2 <= 1500")" "second retry after about 1 s ($GAP2 ms)"
is "$(received ".id==\"$M3\" and (.path|startswith(\"/flaky/\")) and .status==200")" 1 "the last try succeeded"
is "$(received ".id!=\"$M3\" and (.path|startswith(\"/flaky/\"))")" 0 "webhook-id is stable across retries"

# 410 Gone disables the endpoint; its retry is held until it is enabled again
ep gone "\"url\":\"$RURL/gone/gone\",\"filterTypes\":[\"order.paid\"]"
GONE_URL="$RURL/gone/gone"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"n":4}}'
M4=$(jqr .id)
wait_received ".id==\"$M4\" and (.path|startswith(\"/gone/\"))" 1
endpoint_disabled() { api GET /api/v1/app/shop/endpoint/gone; [ "$(jqr .disabled)" = true ]; }
wait_for 5 endpoint_disabled
ok $? "410 disables the endpoint"
sleep 2
is "$(received ".id==\"$M4\" and (.path|startswith(\"/gone/\"))")" 1 "a disabled endpoint's retry is held"
api PATCH /api/v1/app/shop/endpoint/gone "{\"url\":\"$RURL/gone/ok\",\"disabled\":false}"
wait_received ".id==\"$M4\" and .path==\"/gone/ok\"" 1 10
ok $? "re-enabling the endpoint releases the held delivery"

# throttleRate: 10 messages at 5/s take about 2 s
ep slow "\"url\":\"$RURL/slow/ok\",\"filterTypes\":[\"order.paid\"],\"throttleRate\":5"
for i in $(seq 1 10); do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"t\":$i}}"
done
wait_received '(.path|startswith("/slow/"))' 10 15
SPAN=$(jq -s '[.[]|select(.path|startswith("/slow/"))|.t] | (max - min)' "$RLOG")
ok "$(cond "$SPAN >= 1500")" "throttleRate 5/s spreads 10 deliveries over $SPAN ms"

# isolation: a hanging endpoint does not delay a healthy one
api POST /api/v1/app '{"name":"iso","uid":"iso"}'
api POST /api/v1/app/iso/endpoint "{\"url\":\"$RURL/hang/hang\"}"
api POST /api/v1/app/iso/endpoint "{\"url\":\"$RURL/fast/ok\"}"
for i in $(seq 1 40); do
    api POST /api/v1/app/iso/msg "{\"eventType\":\"e\",\"payload\":{\"i\":$i}}"
done
END=$(date +%s%3N)
wait_received '(.path|startswith("/fast/"))' 40 10
ok $? "the healthy endpoint got all 40 while the other hangs"
# behind the hanging endpoint they would wait for its 3 s request timeout
LAST=$(jq -s '[.[]|select(.path|startswith("/fast/"))|.t] | max | floor' "$RLOG")
ok "$([ $((LAST - END)) -lt 2000 ]; echo $?)" "the last one arrived $((LAST - END)) ms after the last send"
done_testing
