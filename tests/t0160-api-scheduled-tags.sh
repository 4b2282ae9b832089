#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0160: scheduled messages and tags (issue 7). deliverAt holds the
# message's deliveries until that time (the due index is the schedule),
# the message list and /hookd/v1/deliveries show them waiting, a time in
# the past or more than 24 hours ahead is refused; tags are stored,
# returned and filter the message list (tag=). The bracket forms of a
# list query (event_types[]=a, event_types[0]=a) filter as the comma form.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8

api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/app/shop/endpoint "{\"uid\":\"r\",\"url\":\"$RURL/r\"}"
is "$STATUS" 201 "an endpoint"
EP=$(jqr .id)

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
NOW=$(date +%s)
AT=$(iso $((NOW + 3)))
api POST /api/v1/app/shop/msg "{\"eventType\":\"later\",\"payload\":{\"n\":1},\"deliverAt\":\"$AT\",\"tags\":[\"t1\",\"blue\"]}"
is "$STATUS" 202 "a message with deliverAt 3 s ahead and tags is taken"
is "$(jqr '[.deliverAt, (.tags|join(","))]|@csv')" "\"$AT\",\"t1,blue\"" \
   "MessageOut carries deliverAt and tags"
MSG=$(jqr .id)
api POST /api/v1/app/shop/msg '{"eventType":"now","payload":{"n":2},"tags":["red"]}'
is "$STATUS" 202 "a message without deliverAt"
wait_received '(.path=="/r")' 1
sleep 0.5
is "$(received '(.path=="/r")')" 1 "only the unscheduled message went out at once"
api GET "/hookd/v1/deliveries?endpoint_id=$EP"
NEXT=$(jqr ".data[]|select(.msgId==\"$MSG\")|.nextAttemptAt")
is "$(jqr ".data[]|select(.msgId==\"$MSG\")|.status")" pending "the scheduled delivery is pending"
is "$NEXT" "$AT" "its nextAttemptAt is deliverAt"
api GET "/api/v1/app/shop/msg/$MSG"
is "$(jqr '[.deliverAt, (.tags|join(","))]|@csv')" "\"$AT\",\"t1,blue\"" "message get shows both"
wait_received '(.path=="/r")' 2 10
ok $? "the scheduled message is delivered once its time comes"
ok "$(cond "$(date +%s) >= $((NOW + 3))")" "and not before"

api GET "/api/v1/app/shop/msg?tag=blue"
is "$(jqr '[.data[].id]|join(",")')" "$MSG" "tag=blue lists the tagged message only"
api GET "/api/v1/app/shop/msg?tag=none"
is "$(jqr '.data|length')" 0 "an unused tag lists nothing"

api POST /api/v1/app/shop/msg "{\"eventType\":\"x\",\"payload\":{},\"deliverAt\":\"$(iso $((NOW - 3600)))\"}"
is "$STATUS:$(jqr '.detail[0].loc|join(".")')" "422:body.deliverAt" "deliverAt an hour ago is refused"
api POST /api/v1/app/shop/msg "{\"eventType\":\"x\",\"payload\":{},\"deliverAt\":\"$(iso $((NOW + 90000)))\"}"
is "$STATUS:$(jqr '.detail[0].loc|join(".")')" "422:body.deliverAt" "more than 24 h ahead is refused"
api POST /api/v1/app/shop/msg '{"eventType":"x","payload":{},"deliverAt":"tomorrow"}'
is "$STATUS" 422 "a deliverAt that is no time is refused"
api POST /api/v1/app/shop/msg '{"eventType":"x","payload":{},"tags":["a b"]}'
is "$STATUS:$(jqr '.detail[0].loc|join(".")')" "422:body.tags" "a tag with a space is refused"
api POST /api/v1/app/shop/msg '{"eventType":"x","payload":{},"tags":["a","b","c","d","e","f"]}'
is "$STATUS" 422 "six tags are refused"

# the bracket forms of a list query
for q in 'event_types[]=now' 'event_types%5B%5D=now' 'event_types[0]=now' 'event_types=now'; do
    api GET "/api/v1/app/shop/msg?$q"
    is "$(jqr '[.data[].eventType]|unique|join(",")')" "now" "?$q filters the message list"
done
api GET "/api/v1/app/shop/attempt/endpoint/$EP?event_types%5B%5D=later"
is "$(jqr '.data|length'):$(jqr '.data[0].msgId')" "1:$MSG" "and the attempt list"
done_testing
