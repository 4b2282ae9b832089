#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0210: partition groups (hookd serve --groups 4, group.h): every app
# lives in the store of its group (part.h: an app's id and uid name the
# same group), group 0 in the data directory and group g in
# DATA/group.g; requests for an app reach its group by id and by uid;
# endpoints, messages and signed deliveries work in every group; the app
# list merges every group in order, page by page in both directions; a
# uid of another group is refused 422; an application token works for an
# app of a group other than 0; a restart keeps everything, a restart with
# another --groups is refused; hookd check passes on every group's store.
. "$(dirname "$0")/lib.sh"
PARTOF=$TOP/build/tests/helpers/partof
[ -x "$PARTOF" ] || bail "no helper '$PARTOF' (run make build/tests/helpers/partof)"
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
receiver_start --secret "$SECRET"
hookd_start --groups 4 --allow-network 127.0.0.0/8

# the store directory of group g
gdir() { if [ "$1" = 0 ]; then echo "$DATA"; else echo "$DATA/group.$1"; fi; }
# in_store G ID: is app ID a record of group G's store?
in_store() { mdb_dump -p -s apps "$(gdir "$1")" 2>/dev/null | grep -q "^ $2\$"; }
# where ID: the groups whose store holds app ID, space-separated
where() {
    _w=""
    for _g in 0 1 2 3; do in_store "$_g" "$1" && _w="$_w $_g"; done
    echo "${_w# }"
}

for g in 1 2 3; do
    [ -d "$DATA/group.$g" ]
    ok $? "group $g has its own store directory DATA/group.$g"
done
is "$(stat -c %a "$DATA/group.2")" 700 "a group's directory is made 0700"

# --- apps with a uid: the uid's group; without: any group, id's group ---
api POST /api/v1/event-type '{"name":"order.paid","description":"d"}'
is "$STATUS" 201 "setup: an event type (group 0's, used by every group)"
N=0
IDS=""
for u in alpha bravo charlie delta echo foxtrot golf hotel; do
    api POST /api/v1/app "{\"name\":\"$u\",\"uid\":\"$u\"}"
    [ "$STATUS" = 201 ] || diag "create $u: $STATUS $BODY"
    id=$(jqr .id)
    eval "ID_$u=$id"
    IDS="$IDS $id"
    want=$("$PARTOF" "$u" 64 4)
    [ "$("$PARTOF" "$id" 64 4)" = "$want" ] && [ "$(where "$id")" = "$want" ] || {
        N=$((N + 1)); diag "$u ($id): uid group $want, id group $("$PARTOF" "$id" 64 4), in store(s) '$(where "$id")'"; }
done
is "$N" 0 "apps with a uid: the id drawn is of the uid's group, and the app is in that group's store only"
N=0
for i in 1 2 3 4 5 6 7 8; do
    api POST /api/v1/app "{\"name\":\"anon$i\"}"
    id=$(jqr .id)
    IDS="$IDS $id"
    [ "$STATUS" = 201 ] && [ "$(where "$id")" = "$("$PARTOF" "$id" 64 4)" ] || {
        N=$((N + 1)); diag "anon$i ($id): $STATUS, in store(s) '$(where "$id")'"; }
done
is "$N" 0 "apps without a uid: each in the store of its id's group"
api POST /api/v1/app '{"name":"once"}' -H 'idempotency-key: mk-once'
ONCE=$(jqr .id)
N=0
for i in 1 2 3 4 5 6; do
    api POST /api/v1/app '{"name":"once"}' -H 'idempotency-key: mk-once'
    [ "$STATUS/$(jqr .id)" = "201/$ONCE" ] || N=$((N + 1))
done
is "$N" 0 "an app without uid made with an idempotency key: retries answer the same app"
IDS="$IDS $ONCE"
SPREAD=$(for id in $IDS; do "$PARTOF" "$id" 64 4; done | sort -u | wc -l)
is "$SPREAD" 4 "the 17 apps spread over all four groups"

N=0
for u in alpha bravo charlie delta echo foxtrot golf hotel; do
    eval "id=\$ID_$u"
    api GET "/api/v1/app/$u"
    a=$STATUS/$(jqr .id)
    api GET "/api/v1/app/$id"
    b=$STATUS/$(jqr .uid)
    [ "$a" = "200/$id" ] && [ "$b" = "200/$u" ] || { N=$((N + 1)); diag "$u: by uid $a, by id $b"; }
done
is "$N" 0 "every app is found by its uid and by its id"
api POST /api/v1/app '{"name":"again","uid":"charlie"}'
is "$STATUS" 409 "a uid is still unique (in its group's store)"

# --- endpoints, messages, signed deliveries in every group ---
N=0
for u in alpha bravo charlie delta echo foxtrot golf hotel; do
    api POST "/api/v1/app/$u/endpoint" "{\"uid\":\"hook\",\"url\":\"$RURL/$u/ok\",\"secret\":\"$SECRET\",\"filterTypes\":[\"order.paid\"]}"
    [ "$STATUS" = 201 ] || { N=$((N + 1)); diag "endpoint of $u: $STATUS $BODY"; }
done
is "$N" 0 "an endpoint filtering on an event type is made in every group"
N=0
for u in alpha bravo charlie delta echo foxtrot golf hotel; do
    eval "id=\$ID_$u"
    api POST "/api/v1/app/$id/msg" "{\"eventType\":\"order.paid\",\"payload\":{\"app\":\"$u\"}}"
    [ "$STATUS" = 202 ] || { N=$((N + 1)); diag "message to $u: $STATUS $BODY"; }
    eval "MSG_$u=$(jqr .id)"
done
is "$N" 0 "a message is accepted for an app of every group (named by id)"
wait_received 'true' 8
ok $? "eight deliveries arrive"
is "$(received '.verified == true')" 8 "every delivery carries a valid signature"
N=0
for u in alpha bravo charlie delta echo foxtrot golf hotel; do
    eval "m=\$MSG_$u"
    [ "$(received ".id==\"$m\" and (.path|startswith(\"/$u/\"))")" = 1 ] || { N=$((N + 1)); diag "no delivery of $m to /$u/"; }
done
is "$N" 0 "each app's message reached its own endpoint exactly once"
wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $TOKEN' '$URL/api/v1/app/hotel/msg/$MSG_hotel/attempt' | jq -e '.data|length == 1' >/dev/null"
ok $? "the attempt is recorded in the app's group (by uid)"
api GET "/api/v1/app/golf/endpoint/hook"
is "$STATUS/$(jqr .url)" "200/$RURL/golf/ok" "an endpoint is read back by app uid and endpoint uid"

# --- the app list: every group merged in id order, paged both ways ---
api GET '/api/v1/app?limit=250'
ALL=$(jqr '[.data[].id]|join(" ")')
WANT=$(printf '%s\n' $IDS | sort | tr '\n' ' ' | sed 's/ $//')
is "$ALL" "$WANT" "GET /api/v1/app lists the apps of every group, in ascending id order"
is "$(jqr .done)" true "and is done"
api GET '/api/v1/app?limit=250&order=descending'
is "$(jqr '[.data[].id]|join(" ")')" "$(printf '%s\n' $IDS | sort -r | tr '\n' ' ' | sed 's/ $//')" \
   "descending order: the same apps, newest id first"
PAGES=0
GOT=""
IT=""
while :; do
    api GET "/api/v1/app?limit=3${IT:+&iterator=$IT}"
    [ "$STATUS" = 200 ] || { diag "page: $STATUS $BODY"; break; }
    GOT="$GOT $(jqr '[.data[].id]|join(" ")')"
    PAGES=$((PAGES + 1))
    [ "$(jqr .done)" = true ] && break
    IT=$(jqr .iterator)
    [ $PAGES -gt 10 ] && break
done
is "$(echo $GOT)" "$WANT" "paging forward by 3 gives every app exactly once, in order"
is "$PAGES" 6 "in six pages, the last one done"
is "$(jqr '.data|length')" 2 "the last page holds the remaining two"
LAST=$(jqr '.data[-1].id')
BACK=""
IT="-$(echo "$WANT" | awk '{print $NF}')"
for i in 1 2 3 4 5 6; do
    api GET "/api/v1/app?limit=3&iterator=$IT"
    [ "$(jqr '.data|length')" = 0 ] && break
    BACK="$(jqr '[.data[].id]|join(" ")') $BACK"
    IT=$(jqr .prevIterator)
done
is "$(echo $BACK)" "$(echo "$WANT" | awk '{$NF=""; print}' | sed 's/ *$//')" \
   "paging backwards with prevIterator gives every earlier app exactly once, in order"

# --- uid changes: within the group accepted, into another group refused ---
ALPHA_G=$("$PARTOF" alpha 64 4)
SAME="" OTHER=""
for i in $(seq 1 200); do
    g=$("$PARTOF" "alpha$i" 64 4)
    [ -z "$SAME" ] && [ "$g" = "$ALPHA_G" ] && SAME=alpha$i
    [ -z "$OTHER" ] && [ "$g" != "$ALPHA_G" ] && OTHER=alpha$i
done
api PATCH /api/v1/app/alpha "{\"uid\":\"$OTHER\"}"
is "$STATUS" 422 "a PATCH giving a uid of another group is refused 422"
is "$(jqr .code)" uid_other_group "with code uid_other_group"
like "$(jqr .detail)" "partition group" "and a detail saying why"
api PUT /api/v1/app/alpha "{\"name\":\"alpha\",\"uid\":\"$OTHER\"}"
is "$STATUS" 422 "a PUT giving a uid of another group is refused 422 too"
api GET /api/v1/app/alpha
is "$STATUS/$(jqr .uid)" 200/alpha "the app keeps its uid"
api PATCH /api/v1/app/alpha "{\"uid\":\"$SAME\"}"
is "$STATUS/$(jqr .uid)" "200/$SAME" "a uid of the app's own group is accepted"
api GET "/api/v1/app/$SAME"
is "$STATUS/$(jqr .id)" "200/$ID_alpha" "and the app is found by its new uid"
api PATCH "/api/v1/app/$SAME" '{"uid":"alpha"}'
is "$STATUS" 200 "and changed back"

# --- an application token for an app outside group 0 ---
TU=""
for u in alpha bravo charlie delta echo foxtrot golf hotel; do
    [ "$("$PARTOF" "$u" 64 4)" != 0 ] && { TU=$u; break; }
done
api POST "/api/v1/auth/app-portal-access/$TU" '{}'
is "$STATUS" 200 "an app token is made for $TU (group $("$PARTOF" "$TU" 64 4))"
APPTOK=$(jqr .token)
AUTH="Bearer $APPTOK" api GET "/api/v1/app/$TU/endpoint"
is "$STATUS/$(jqr '.data|length')" 200/1 "the token reads its app's endpoints"
eval "tid=\$ID_$TU"
AUTH="Bearer $APPTOK" api GET "/api/v1/app/$tid/msg"
is "$STATUS/$(jqr '.data|length')" 200/1 "and its messages, the app named by id"
AUTH="Bearer $APPTOK" api GET /api/v1/event-type
is "$STATUS" 200 "and the event types (group 0's)"
OT=""
for u in alpha bravo charlie delta echo foxtrot golf hotel; do
    [ "$u" != "$TU" ] && { OT=$u; break; }
done
AUTH="Bearer $APPTOK" api GET "/api/v1/app/$OT/endpoint"
is "$STATUS" 404 "but not another app's ($OT)"
api GET /hookd/v1/tokens
is "$(jqr '[.data[]|select(.appUid=="'"$TU"'")]|length')" 1 "the operators' token list shows it"

# --- node-wide views ---
api GET /api/v1/health
is "$STATUS" 200 "health probes every group: 200"
api GET /hookd/v1/stats
is "$(jqr .messagesStored)" 8 "stats count the messages of every group"
api GET /hookd/v1/endpoints
is "$(jqr '[.data[].appUid]|sort|join(" ")')" "alpha bravo charlie delta echo foxtrot golf hotel" \
   "/hookd/v1/endpoints lists the endpoints of every group"
api GET '/hookd/v1/endpoints?limit=3'
E1=$(jqr '[.data[].endpointId]|join(" ")')
api GET "/hookd/v1/endpoints?limit=250"
is "$E1" "$(jqr '[.data[:3][].endpointId]|join(" ")')" "in one order, page by page"
api GET "/hookd/v1/deliveries?app_id=$TU"
is "$STATUS/$(jqr '.data|length')/$(jqr '.data[0].status')" 200/1/success \
   "/hookd/v1/deliveries?app_id= reads the app's group"
api POST /hookd/v1/deliveries/replay "{\"filter\":{\"app_id\":\"$TU\",\"status\":\"success\"}}"
is "$STATUS/$(jqr .queued)" 202/1 "a replay filtered by app_id queues in the app's group"
wait_received "(.path|startswith(\"/$TU/\"))" 2
ok $? "and the replayed delivery arrives"
api POST "/api/v1/app/$TU/endpoint/hook/recover" "{\"since\":\"$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)\"}"
TASK=$(jqr .id)
is "$STATUS" 202 "recover starts a background task in the app's group"
api GET "/api/v1/background-task/$TASK"
is "$STATUS/$(jqr .id)" "200/$TASK" "the task is found through GET /api/v1/background-task/{id}"
api GET /api/v1/background-task
is "$(jqr "[.data[]|select(.id==\"$TASK\")]|length")" 1 "and in the list"

# --- restart keeps everything; another --groups is refused ---
hookd_stop
is "$HOOKD_RC" 0 "the server stops cleanly"
for g in 0 1 2 3; do
    "$HOOKD" check --data "$(gdir "$g")" >"$T/check-$g.out" 2>&1
    rc=$?
    [ "$rc" = 0 ] || cat "$T/check-$g.out" >&2
    is "$rc" 0 "hookd check passes on group $g's store"
done
"$HOOKD" serve --listen 127.0.0.1:0 --data "$DATA" --groups 2 >"$T/wrong.out" 2>"$T/wrong.err"
is "$?" 1 "a start with --groups 2 on a store of 4 groups is refused"
like "$(cat "$T/wrong.err")" "holds 4 partition groups and cannot be served with --groups 2" \
     "with one clear sentence"
"$HOOKD" serve --listen 127.0.0.1:0 --data "$DATA" >"$T/wrong1.out" 2>"$T/wrong1.err"
is "$?" 1 "and so is a start without --groups"
hookd_start --groups 4 --allow-network 127.0.0.0/8
api GET '/api/v1/app?limit=250'
is "$(jqr '[.data[].id]|join(" ")')" "$WANT" "after the restart every app of every group is listed"
N=0
for u in alpha bravo charlie delta echo foxtrot golf hotel; do
    eval "m=\$MSG_$u"
    api GET "/api/v1/app/$u/msg/$m"
    [ "$STATUS" = 200 ] || { N=$((N + 1)); diag "$u/$m: $STATUS"; }
done
is "$N" 0 "and every message is read back from its group"
AUTH="Bearer $APPTOK" api GET "/api/v1/app/$TU/endpoint"
is "$STATUS" 200 "the app token still works"
api POST "/api/v1/app/$ID_delta/msg" '{"eventType":"order.paid","payload":{"after":"restart"}}'
is "$STATUS" 202 "a new message after the restart"
wait_received '.body == "{\"after\":\"restart\"}"' 1
ok $? "is delivered"

# --- a fresh single-group store records nothing and keeps working ---
HOOKD_DATA_DIR=$T/one hookd_start
api POST /api/v1/app '{"name":"x","uid":"x"}'
is "$STATUS" 201 "one group (the default): an app is made"
[ ! -e "$T/one/group.1" ]
ok $? "and no group directory exists"
done_testing
