#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016 # jq filters name $b in single quotes on purpose
# t0540: operational webhooks (API.md 4.10). The operator's endpoints are
# managed through /api/v1/operational-webhook/endpoint as the Svix client
# manages them; every Svix event arrives there signed with the endpoint's
# own secret, in Svix's payload shape: endpoint.created, .updated,
# .disabled (by the operator and by a 410), .enabled, .deleted, and
# message.attempt.failing (4th failure), .exhausted and .recovered. The
# events are messages of the reserved application, so their deliveries
# are in its attempt lists and can be resent; the operator's own
# endpoints make no events (no loop); an event acknowledged before a
# kill -9 is sent after the restart.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
SEC=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
SEC2=whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD
receiver_start --secret "$SEC" --secret "$SEC2"
ARGS="--allow-network 127.0.0.0/8 --retry-schedule 100ms,100ms,100ms,100ms,100ms"
# shellcheck disable=SC2086
hookd_start $ARGS
OW=/api/v1/operational-webhook/endpoint

# 1. the routes
api GET $OW
is "$STATUS:$(jqr '.data|length'):$(jqr .done)" "200:0:true" "the list is empty before any endpoint"
api GET $OW/ops
is "$STATUS:$(jqr .code)" "404:not_found" "a named endpoint is not found before any exists"
api POST $OW "{\"url\":\"$RURL/ops\",\"filterTypes\":[\"endpoint.created\",\"no.such\"]}"
is "$STATUS" 422 "a filter naming something that is not an operational event is refused"
like "$(jqr '.detail[0].msg')" "no.such" "and the error names it"
api POST $OW "{\"url\":\"$RURL/ops\",\"uid\":\"ops\",\"secret\":\"$SEC\",\"description\":\"pager\",\"metadata\":{\"team\":\"sre\"},\"rateLimit\":50}"
is "$STATUS" 201 "create answers 201"
OPEP=$(jqr .id)
is "$(jqr '[.url,.uid,.description,.metadata.team,.rateLimit,.disabled]|@csv')" \
   "\"$RURL/ops\",\"ops\",\"pager\",\"sre\",50,false" "with url, uid, description, metadata, rateLimit, disabled"
like "$(jqr .createdAt)$(jqr .updatedAt)" '^20.*Z20.*Z$' "and its times"
is "$(jqr '[has("version"), has("channels")]|any')" false \
   "and not EndpointOut's fields that OperationalWebhookEndpointOut lacks"
is "$(jqr '[has("filterTypes"), has("eventTypes")]|all')" true \
   "the filter under 1.x's name and 2.x's (eventTypes)"
api GET $OW
is "$(jqr '[.data[].id]|join(",")')" "$OPEP" "the list holds it"
api GET $OW/ops
is "$STATUS:$(jqr .id):$(jqr 'has("channels")')" "200:$OPEP:false" "get by uid"
api GET "$OW/$OPEP/secret"
is "$STATUS:$(jqr .key)" "200:$SEC" "get secret"
api PUT $OW/ops "{\"url\":\"$RURL/ops\",\"description\":\"pager 2\",\"filterTypes\":null}"
is "$STATUS:$(jqr .description):$(jqr .uid)" "200:pager 2:ops" "update (PUT) answers 200 and keeps the uid"
api PUT $OW/ops/headers '{"headers":{"X-Team":"sre"}}'
is "$STATUS" 204 "update headers answers 204"
api GET $OW/ops/headers
is "$STATUS:$(jqr '.headers["X-Team"]')" "200:sre" "get headers"
api GET /api/v1/app
is "$(jqr '[.data[]|select(.uid=="_operational")]|length')" 0 "the reserved application is not in the application list"
api POST /api/v1/app '{"name":"x","uid":"_operational"}'
is "$STATUS" 422 "nor can a customer's application take its uid"

# 2. endpoint events, signed, in Svix's shape
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
APP=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"e1\",\"url\":\"$RURL/cust/ok\"}"
EP1=$(jqr .id)
ev() { jq -c "select(.path==\"/ops\")|(.body|fromjson) as \$b|select($1)|{verified,b:\$b}" "$RLOG" 2>/dev/null; }
nev() { ev "$1" | wc -l | tr -d ' '; }
wait_ev() {
    _d=$(( $(date +%s) + ${3:-10} ))
    while [ "$(nev "$1")" -lt "$2" ]; do [ "$(date +%s)" -ge "$_d" ] && return 1; sleep 0.1; done
}
wait_ev '$b.type=="endpoint.created"' 1
ok $? "endpoint.created arrives"
is "$(ev '$b.type=="endpoint.created"' | jq -c .b)" \
   "{\"type\":\"endpoint.created\",\"data\":{\"appId\":\"$APP\",\"appUid\":\"shop\",\"endpointId\":\"$EP1\",\"endpointUid\":\"e1\"}}" \
   "with Svix's payload: type and data (appId, appUid, endpointId, endpointUid)"
is "$(ev '$b.type=="endpoint.created"' | jq -r .verified)" true "signed with the endpoint's own secret"
is "$(nev '$b.data.appUid=="_operational" or $b.data.endpointId=="'"$OPEP"'"')" 0 \
   "the operator's own endpoint made no event (no loop)"

api POST "$OW/ops/secret/rotate" "{\"key\":\"$SEC2\"}"
is "$STATUS" 204 "rotate secret answers 204"
api PATCH /api/v1/app/shop/endpoint/e1 '{"description":"d"}'
wait_ev '$b.type=="endpoint.updated"' 1
ok $? "endpoint.updated arrives"
is "$(ev '$b.type=="endpoint.updated"' | jq -r '[.verified, .b.data.endpointUid]|@csv')" 'true,"e1"' \
   "signed with the rotated secret, naming the endpoint"
api PATCH /api/v1/app/shop/endpoint/e1 '{"disabled":true}'
wait_ev '$b.type=="endpoint.disabled"' 1
ok $? "an operator's disable sends endpoint.disabled"
is "$(ev '$b.type=="endpoint.disabled"' | jq -c '.b.data|[.trigger,.failSince,.endpointId]')" \
   "[\"manual\",null,\"$EP1\"]" "with trigger manual"
api PATCH /api/v1/app/shop/endpoint/e1 '{"disabled":false}'
wait_ev '$b.type=="endpoint.enabled"' 1
ok $? "enabling it sends endpoint.enabled"
api DELETE /api/v1/app/shop/endpoint/e1
wait_ev '$b.type=="endpoint.deleted"' 1
is "$(ev '$b.type=="endpoint.deleted"' | jq -c '.b.data|[.endpointId,.endpointUid]')" \
   "[\"$EP1\",\"e1\"]" "endpoint.deleted names the deleted endpoint and its uid"

# 3. a 410 disables an endpoint: endpoint.disabled, trigger automatic
api POST /api/v1/app/shop/endpoint "{\"uid\":\"g\",\"url\":\"$RURL/cust/gone\",\"filterTypes\":null}"
EPG=$(jqr .id)
api POST /api/v1/app/shop/msg '{"eventType":"a","payload":{"n":1}}'
wait_ev '$b.type=="endpoint.disabled" and $b.data.endpointId=="'"$EPG"'"' 1
ok $? "a 410 sends endpoint.disabled"
is "$(ev '$b.type=="endpoint.disabled" and $b.data.endpointId=="'"$EPG"'"' | jq -r '.b.data.trigger')" \
   automatic "with trigger automatic"
like "$(ev '$b.type=="endpoint.disabled" and $b.data.endpointId=="'"$EPG"'"' | jq -r '.b.data.failSince')" \
   '^20[0-9-]+T[0-9:.]+Z$' "and failSince"
api DELETE /api/v1/app/shop/endpoint/g

# 4. failing after the 4th failure, then exhausted; failing, then recovered
api POST /api/v1/app/shop/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/cust/status/500\"}"
EPB=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"flaky\",\"url\":\"$RURL/cust/flaky/5\"}"
EPF=$(jqr .id)
api POST /api/v1/app/shop/msg '{"eventType":"a","eventId":"order-7","payload":{"n":2}}'
MSG=$(jqr .id)
wait_ev '$b.type=="message.attempt.exhausted"' 1 15
ok $? "retries exhausted send message.attempt.exhausted"
wait_ev '$b.type=="message.attempt.recovered"' 1 15
ok $? "a success after failing sends message.attempt.recovered"
EX=$(ev '$b.type=="message.attempt.exhausted"' | jq -c .b)
is "$(printf '%s' "$EX" | jq -c '.data|[.appId,.appUid,.msgId,.msgEventId,.endpointId,.lastAttempt.responseStatusCode]')" \
   "[\"$APP\",\"shop\",\"$MSG\",\"order-7\",\"$EPB\",500]" \
   "exhausted: appId, appUid, msgId, msgEventId, endpointId, lastAttempt"
is "$(printf '%s' "$EX" | jq -c '.data|keys_unsorted')" \
   '["appId","appUid","msgId","msgEventId","endpointId","lastAttempt"]' "in Svix's order"
LAST=$(printf '%s' "$EX" | jq -r .data.lastAttempt.id)
api GET "/api/v1/app/shop/msg/$MSG/attempt/$LAST"
is "$STATUS:$(jqr .endpointId)" "200:$EPB" "lastAttempt.id is the last attempt's id"
like "$(printf '%s' "$EX" | jq -r .data.lastAttempt.timestamp)" '^20[0-9-]+T[0-9:.]+Z$' "with its timestamp"
is "$(nev '$b.type=="message.attempt.failing" and $b.data.endpointId=="'"$EPB"'"')" 1 \
   "message.attempt.failing once for the failing endpoint"
is "$(nev '$b.type=="message.attempt.failing" and $b.data.endpointId=="'"$EPF"'"')" 1 \
   "and once for the one that recovered"
api GET "/api/v1/app/shop/attempt/endpoint/$EPB"
N=$(jqr '.data|length')
FAILID=$(ev '$b.type=="message.attempt.failing" and $b.data.endpointId=="'"$EPB"'"' | jq -r .b.data.lastAttempt.id)
is "$(jqr "[.data[].id]|reverse|index(\"$FAILID\")")" 3 "failing reports the 4th attempt (of $N)"
is "$(ev '$b.type=="message.attempt.recovered"' | jq -c '.b.data|[.endpointId,.lastAttempt.responseStatusCode]')" \
   "[\"$EPF\",200]" "recovered names the endpoint and the successful attempt"
is "$(ev 'true' | jq -r .verified | sort -u)" true "every event is signed"

# 5. the operational deliveries are ordinary ones: listed and resendable
NE=$(nev 'true')
attempts_match() {   # an outcome is committed a moment after its receiver answered
    api GET "/api/v1/app/_operational/attempt/endpoint/$OPEP?limit=250"
    [ "$STATUS" = 200 ] && [ "$(jqr '.data|length')" = "$NE" ]
}
wait_for 5 attempts_match
ok $? "the operator's endpoint lists one attempt per event received ($NE)"
OMSG=$(jqr '.data[0].msgId')
api POST "/api/v1/app/_operational/msg/$OMSG/endpoint/$OPEP/resend"
is "$STATUS" 202 "an event can be resent"
wait_for 10 sh -c "[ \$(jq -c 'select(.path==\"/ops\" and .id==\"$OMSG\")' '$RLOG' | wc -l) -ge 2 ]"
ok $? "and arrives again with the same webhook-id"

# 6. an event acknowledged before kill -9 is sent after the restart
hookd_stop TERM
# shellcheck disable=SC2086
hookd_start $ARGS --hold-deliveries true
api POST /api/v1/app/shop/endpoint "{\"uid\":\"late\",\"url\":\"$RURL/cust/ok\"}"
is "$STATUS" 201 "an endpoint created while deliveries are held"
EPL=$(jqr .id)
hookd_stop KILL
# shellcheck disable=SC2086
hookd_start $ARGS --disable-after 1s
wait_ev '$b.type=="endpoint.created" and $b.data.endpointId=="'"$EPL"'"' 1
ok $? "its endpoint.created arrives after kill -9 and a restart"

# 7. failing for disable-after: endpoint.disabled, failSince the first failure
api POST /api/v1/app '{"name":"slow","uid":"slow"}'
api POST /api/v1/app/slow/endpoint "{\"uid\":\"down\",\"url\":\"$RURL/slow/status/503\"}"
EPD=$(jqr .id)
api POST /api/v1/app/slow/msg '{"eventType":"a","payload":{"n":1}}'
wait_received ".path==\"/slow/status/503\"" 1
ok $? "the first attempt failed"
FIRST=$(jq -s '[.[]|select(.path=="/slow/status/503")|.t]|min|floor' "$RLOG")
sleep 1.2
api POST /api/v1/app/slow/msg '{"eventType":"a","payload":{"n":2}}'
wait_ev '$b.type=="endpoint.disabled" and $b.data.endpointId=="'"$EPD"'"' 1
ok $? "an endpoint failing for disable-after sends endpoint.disabled"
D=$(ev '$b.type=="endpoint.disabled" and $b.data.endpointId=="'"$EPD"'"' | jq -c .b.data)
is "$(printf '%s' "$D" | jq -r .trigger)" automatic "with trigger automatic"
FS=$(printf '%s' "$D" | jq -r '.failSince|sub("\\.[0-9]+Z$";"Z")|fromdate')
ok "$(cond "$FS * 1000 <= $FIRST + 1000 && $FS * 1000 >= $FIRST - 1000")" \
   "failSince is the first failure ($FS vs $FIRST ms)"

# 8. the type filter of an operator's endpoint applies
api PUT $OW/ops "{\"url\":\"$RURL/ops\",\"filterTypes\":[\"endpoint.deleted\"]}"
is "$STATUS:$(jqr '.filterTypes|join(",")')" "200:endpoint.deleted" "filterTypes set"
api POST /api/v1/app/shop/endpoint "{\"uid\":\"filtered\",\"url\":\"$RURL/cust/ok\"}"
api DELETE /api/v1/app/shop/endpoint/filtered
wait_ev '$b.type=="endpoint.deleted" and $b.data.endpointUid=="filtered"' 1
ok $? "a type the filter takes arrives"
is "$(nev '$b.type=="endpoint.created" and $b.data.endpointUid=="filtered"')" 0 "one it does not take is not sent"
api DELETE $OW/ops
is "$STATUS" 204 "delete answers 204"
api GET $OW/ops
is "$STATUS" 404 "and the endpoint is gone"
done_testing
