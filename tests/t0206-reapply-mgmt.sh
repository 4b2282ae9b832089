#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016 # jq filters name $x in single quotes on purpose
# t0206: the management writes are deterministic log entries. A server run
# with --entry-journal takes every management write of the API (apps,
# endpoints and their secrets, headers, timeouts, pause and resume, event
# types, application tokens, operational webhooks, bulk replay, message
# and attempt expunge), repeats and refusals among them; `hookd reapply`
# then rebuilds a store from the journal alone that equals the served one
# record for record, and a server on that store shows the same records.
# A journal whose token entry was cut short (and its checksum made right
# again, so only the entry's own decoder can tell) is refused by name.
. "$(dirname "$0")/lib.sh"

# --- part A: management only, deliveries held (no outcomes) --------------
JA=$T/journal-a
hookd_start --entry-journal "$JA" --hold-deliveries
DATA_A=$DATA

# applications
api POST /api/v1/app '{"name":"Shop","uid":"shop","metadata":{"tier":"gold"}}'
is "$STATUS" 201 "app with uid: 201"
SHOP=$(jqr .id)
api POST /api/v1/app '{"name":"No uid"}'
is "$STATUS" 201 "app without uid: 201"
NOUID=$(jqr .id)
api POST '/api/v1/app?get_if_exists=true' '{"name":"Shop again","uid":"shop"}'
is "$STATUS:$(jqr .id)" "200:$SHOP" "get_if_exists finds the existing app"
api POST /api/v1/app '{"name":"Shop twin","uid":"shop"}'
is "$STATUS" 409 "a uid clash is 409 (not journaled)"
api POST /api/v1/app '{"name":"Keyed","uid":"keyed"}' -H 'idempotency-key: key-1'
is "$STATUS" 201 "idempotency-keyed create: 201"
KEYED=$(jqr .id)
api POST /api/v1/app '{"name":"Keyed","uid":"keyed"}' -H 'idempotency-key: key-1'
is "$STATUS:$(jqr .id)" "201:$KEYED" "the same key again answers the saved answer"
api POST /api/v1/app '{"name":"Other","uid":"other"}' -H 'idempotency-key: key-1'
is "$STATUS" 422 "the same key with another body: 422"
api PUT /api/v1/app/putapp '{"name":"Made by PUT"}'
is "$STATUS:$(jqr .uid)" "201:putapp" "PUT on a missing uid creates (id drawn in apply)"
PUTAPP=$(jqr .id)
api PUT /api/v1/app/putapp '{"name":"Changed by PUT","throttleRate":5}'
is "$STATUS:$(jqr .id):$(jqr .throttleRate)" "200:$PUTAPP:5" "PUT updates"
api PUT /api/v1/app/putkept '{"name":"Kept"}'
is "$STATUS" 201 "another PUT that creates (this one stays)"
api PATCH /api/v1/app/shop '{"metadata":{"tier":"silver"}}'
is "$STATUS:$(jqr .metadata.tier)" "200:silver" "PATCH"
api PATCH /api/v1/app/nosuch '{"name":"x"}'
is "$STATUS" 404 "PATCH of a missing app: 404"
api POST /api/v1/app '{"name":""}'
is "$STATUS" 422 "a bad body: 422"

# event types
api POST /api/v1/event-type '{"name":"order.paid","description":"paid"}'
is "$STATUS" 201 "event type created"
api POST /api/v1/event-type '{"name":"order.new","description":"new"}'
is "$STATUS" 201 "a second event type"
api POST /api/v1/event-type '{"name":"order.paid","description":"again"}'
is "$STATUS" 409 "an existing event type: 409"
api PUT /api/v1/event-type/user.made '{"description":"by PUT"}'
is "$STATUS" 201 "event type PUT creates"
api PATCH /api/v1/event-type/order.new '{"description":"newer"}'
is "$STATUS:$(jqr .description)" "200:newer" "event type PATCH"
api DELETE /api/v1/event-type/user.made
is "$STATUS" 204 "event type archived"
api POST /api/v1/event-type '{"name":"gone.soon","description":"x"}'
api DELETE '/api/v1/event-type/gone.soon?expunge=true'
is "$STATUS" 204 "event type expunged"

# operational webhooks: endpoint events become messages of the reserved app
OW=/api/v1/operational-webhook/endpoint
api POST $OW '{"url":"https://ops.example/hook","uid":"ops"}'
is "$STATUS" 201 "operational endpoint created"

# endpoints
api POST /api/v1/app/shop/endpoint '{"uid":"e1","url":"https://hooks.example/1","filterTypes":["order.paid"]}'
is "$STATUS" 201 "endpoint with filter created"
E1=$(jqr .id)
api POST /api/v1/app/shop/endpoint '{"uid":"e2","url":"https://hooks.example/2","headers":{"X-A":"1"}}'
is "$STATUS" 201 "endpoint with headers created"
api POST /api/v1/app/shop/endpoint '{"url":"https://hooks.example/3","filterTypes":["user.made"]}'
is "$STATUS" 422 "an archived event type in the filter: 422"
api PUT /api/v1/app/shop/endpoint/e3 '{"url":"https://hooks.example/3"}'
is "$STATUS:$(jqr .uid)" "201:e3" "endpoint PUT creates (id drawn, secret from the handler)"
E3=$(jqr .id)
api GET /api/v1/app/shop/endpoint/e3/secret
E3SEC=$(jqr .key)
like "$E3SEC" '^whsec_' "it has a secret"
api PUT /api/v1/app/shop/endpoint/e3 '{"url":"https://hooks.example/3b","description":"d"}'
is "$STATUS:$(jqr .id)" "200:$E3" "endpoint PUT updates"
api PATCH /api/v1/app/shop/endpoint/e1 '{"disabled":true}'
is "$STATUS:$(jqr .disabled)" "200:true" "disabled by PATCH"
api PATCH /api/v1/app/shop/endpoint/e1 '{"disabled":false,"description":"back"}'
is "$STATUS:$(jqr .disabled)" "200:false" "enabled by PATCH"
api POST /api/v1/app/shop/endpoint/e1/secret/rotate '{}'
is "$STATUS" 204 "secret rotated to a new random key"
api POST /api/v1/app/shop/endpoint/e2/secret/rotate '{"key":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","gracePeriodSeconds":60}'
is "$STATUS" 204 "secret rotated to a given key"
api PUT /api/v1/app/shop/endpoint/e2/headers '{"headers":{"X-B":"2","X-C":"3"}}'
is "$STATUS" 204 "headers put"
api PATCH /api/v1/app/shop/endpoint/e2/headers '{"headers":{"X-D":"4"},"deleteHeaders":["X-B"]}'
is "$STATUS" 204 "headers patched"
api PUT /hookd/v1/app/shop/endpoint/e2/timeouts '{"connectTimeoutMs":500,"timeoutMs":2000}'
is "$STATUS" 200 "timeouts put"
api POST /hookd/v1/app/shop/endpoint/e2/pause '' -H 'idempotency-key: pause-1'
is "$STATUS:$(jqr .paused)" "200:true" "paused (an idempotency-key, whose answer is not kept)"
api POST /hookd/v1/app/shop/endpoint/e2/resume
is "$STATUS:$(jqr .paused)" "200:false" "resumed"
api POST /hookd/v1/app/shop/endpoint/e1/pause
is "$STATUS" 200 "e1 paused and left so"
api POST /api/v1/app/shop/endpoint '{"uid":"e4","url":"https://hooks.example/4"}'
E4=$(jqr .id)
api DELETE /api/v1/app/shop/endpoint/e4
is "$STATUS" 204 "endpoint deleted"
api DELETE /api/v1/app/shop/endpoint/e4
is "$STATUS" 404 "deleting it again: 404"
api POST /api/v1/app/shop/endpoint '{"url":"ftp://hooks.example/x"}'
is "$STATUS" 422 "a bad url: 422"
api POST /api/v1/app/putapp/endpoint '{"uid":"p1","url":"https://hooks.example/p"}'
is "$STATUS" 201 "an endpoint of the app about to go"
api DELETE /api/v1/app/putapp
is "$STATUS" 204 "app deleted with its endpoint"

# application tokens
api POST /api/v1/auth/app-portal-access/shop '{"sessionId":"s1"}' -H 'idempotency-key: tok-1'
is "$STATUS" 200 "token minted"
TOK1=$(jqr .token)
TOK1_ID=$(jqr .id)
api POST /api/v1/auth/app-portal-access/newco '{"application":{"name":"NewCo","uid":"newco"},"readOnly":true}'
is "$STATUS" 200 "token minted with an embedded application"
api POST /api/v1/auth/app-portal-access/shop '{"sessionId":"s2","capabilities":["ViewBase","ManageEndpoint"]}'
TOK3=$(jqr .token)
api POST /api/v1/auth/app-portal-access/shop '{"sessionId":"s3"}'
TOK4_ID=$(jqr .id)
api POST /api/v1/auth/app-portal-access/shop '{"expiry":0}'
is "$STATUS" 422 "a bad expiry: 422"
AUTH="Bearer $TOK3" api POST /api/v1/auth/logout
is "$STATUS" 204 "logout ends a token"
api DELETE "/hookd/v1/tokens/$TOK4_ID"
is "$STATUS" 204 "a token revoked by id"
api DELETE /hookd/v1/tokens/tok_nosuch
is "$STATUS" 404 "revoking a missing token: 404"
api POST /api/v1/auth/app/shop/expire-all '{"expiry":3600,"sessionIds":["s1"]}'
is "$STATUS" 204 "expire-all with an expiry"
api POST /api/v1/auth/app/newco/expire-all '{}'
is "$STATUS" 204 "expire-all now"
AUTH="Bearer $TOK1" api GET /api/v1/app/shop
is "$STATUS" 200 "the token that expires later still works"

# bulk replay and expunge, on the operational events' deliveries (held)
api GET '/hookd/v1/deliveries?app_id=_operational&limit=100'
NOP=$(jqr '.data|length')
is "$(cond "$NOP >= 8")" 0 "the endpoint writes made operational events ($NOP deliveries)"
PAIRS=$(jqr '[.data[0:3][]|{msgId,endpointId}]')
api POST /hookd/v1/deliveries/replay '{"filter":{"app_id":"_operational","status":"pending"},"dryRun":true}'
is "$STATUS:$(jqr .dryRun)" "200:true" "a dry run answers without a write"
api POST /hookd/v1/deliveries/replay "{\"deliveries\":$PAIRS}" -H 'idempotency-key: rp-1'
is "$STATUS:$(jqr .queued)" "202:3" "a replay by list queues three attempts"
api POST /hookd/v1/deliveries/replay '{"filter":{"app_id":"_operational","status":"pending"}}'
is "$STATUS:$(jqr .queued)" "202:$NOP" "a replay by filter queues every pending one"
api POST /hookd/v1/deliveries/replay '{"filter":{"appId":"x"}}'
is "$STATUS" 422 "a replay with an unknown filter key: 422"
OPMSG=$(printf '%s' "$PAIRS" | jq -r '.[0].msgId')
api DELETE "/api/v1/app/_operational/msg/$OPMSG/content"
is "$STATUS" 204 "a message's content expunged"
api DELETE /api/v1/app/_operational/msg/msg_nosuch/content
is "$STATUS" 404 "expunging a missing message: 404"

api GET /api/v1/app
APPS_A=$(jqr '[.data[].id]|sort|join(",")')
api GET /api/v1/app/shop/endpoint
EPS_A=$(jqr '[.data[]|[.id,.disabled,.description]|join("/")]|sort|join(",")')
api GET /api/v1/app/shop/endpoint/e1/secret
E1SEC=$(jqr .key)
api GET /api/v1/app/shop/endpoint/e2/headers
HDR_A=$(jqr '.headers|tojson')
api GET '/hookd/v1/tokens?limit=50'
TOKS_A=$(jqr '[.data[]|.id+":"+.expiresAt]|sort|join(",")')
api GET '/api/v1/event-type?include_archived=true'
ETS_A=$(jqr '[.data[]|.name+":"+(.archived|tostring)]|join(",")')
hookd_stop
is "$HOOKD_RC" 0 "part A: the server stops cleanly"

reapply_same "$DATA_A" "$JA" mgmt
OUT=$(cat "$T/reapply-mgmt.out")
for k in app.create app.update app.delete endpoint.create endpoint.update endpoint.delete \
         endpoint.edit event_type.create event_type.update event_type.delete endpoint.pause \
         token.mint token.revoke token.expire_all deliveries.replay message.expunge; do
    like "$OUT" "  $k +[1-9]" "the journal has $k entries and they applied"
done
like "$OUT" "reapply: [0-9]+ entries applied" "reapply reports its count"

# the rebuilt store served: the same records through the API
HOOKD_DATA_DIR=$T/reapply-mgmt hookd_start --hold-deliveries
api GET /api/v1/app
is "$(jqr '[.data[].id]|sort|join(",")')" "$APPS_A" "the rebuilt store has the same applications"
like "$APPS_A" "$SHOP" "among them shop"
[ "${APPS_A#*"$PUTAPP"}" = "$APPS_A" ]
ok $? "and not the deleted one"
api GET /api/v1/app/shop/endpoint
is "$(jqr '[.data[]|[.id,.disabled,.description]|join("/")]|sort|join(",")')" "$EPS_A" \
   "the same endpoints"
is "$(jqr '.data|length')" 3 "three of them (e1, e2, e3)"
api GET /api/v1/app/shop/endpoint/e3/secret
is "$(jqr .key)" "$E3SEC" "the PUT-made endpoint's secret"
api GET /api/v1/app/shop/endpoint/e1/secret
is "$(jqr .key)" "$E1SEC" "the rotated secret"
api GET /api/v1/app/shop/endpoint/e2/headers
is "$(jqr '.headers|tojson')" "$HDR_A" "the headers"
api GET '/hookd/v1/tokens?limit=50'
is "$(jqr '[.data[]|.id+":"+.expiresAt]|sort|join(",")')" "$TOKS_A" "the same tokens, same expiries"
like "$TOKS_A" "$TOK1_ID" "the expire-all'd token among them"
api GET '/api/v1/event-type?include_archived=true'
is "$(jqr '[.data[]|.name+":"+(.archived|tostring)]|join(",")')" "$ETS_A" "the same event types"
AUTH="Bearer $TOK1" api GET /api/v1/app/shop
is "$STATUS" 200 "a token minted on the first server works on the rebuilt one"
hookd_stop

# --- damaged entries: a token.mint, a deliveries.replay cut short ----------
# cut_entry KIND IN OUT: copy journal IN to OUT with the first entry of
# KIND (entry_kinds.h) short of its last byte, its record's length and
# CRC-32 made right again, so only the entry's own decoder can tell.
# Records: length (u32 BE), CRC-32 (u32 BE), entry ("HE", version, kind
# u16 BE at bytes 3-4, ...).
cut_entry() {
    perl -e '
        use strict;
        my ($kind, $in, $out) = @ARGV;
        open(my $f, "<:raw", $in) or die; local $/; my $j = <$f>; close $f;
        my ($o, $r, $done) = (0, "", 0);
        my @crc;
        for my $i (0 .. 255) {
            my $c = $i; $c = $c & 1 ? 0xedb88320 ^ ($c >> 1) : $c >> 1 for 1 .. 8; $crc[$i] = $c;
        }
        sub crc { my $c = 0xffffffff; $c = $crc[($c ^ $_) & 0xff] ^ ($c >> 8) for unpack("C*", $_[0]); $c ^ 0xffffffff }
        while ($o < length $j) {
            my $n = unpack("N", substr($j, $o, 4)); my $e = substr($j, $o + 8, $n);
            if (!$done && unpack("n", substr($e, 3, 2)) == $kind) { $e = substr($e, 0, $n - 1); $done = 1 }
            $r .= pack("NN", length $e, crc($e)) . $e; $o += 8 + $n;
        }
        die "no entry of kind $kind\n" unless $done;
        open(my $g, ">:raw", $out) or die; print $g $r; close $g;
    ' "$@"
}
for cut in 17:token.mint 15:deliveries.replay; do
    kind=${cut%%:*} name=${cut#*:}
    cut_entry "$kind" "$JA" "$T/journal-cut-$kind"
    is "$?" 0 "a journal with one $name entry cut short (checksums right)"
    "$HOOKD" reapply "$T/journal-cut-$kind" --data "$T/reapply-cut-$kind" >"$T/cut-$kind.out" 2>&1
    is "$?" 1 "reapply of it exits 1"
    like "$(cat "$T/cut-$kind.out")" "entry [0-9]+ \\($name, at byte [0-9]+" "naming the entry and its kind"
done

# --- part B: a message delivered, its attempt and content expunged ----------
# message.create and delivery.outcome entries are ingest's and delivery's;
# until this build re-applies them, this part's comparison is a TODO.
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
JB=$T/journal-b
HOOKD_DATA_DIR=$T/data-b hookd_start --entry-journal "$JB" --allow-network 127.0.0.0/8
DATA_B=$DATA
api POST /api/v1/app '{"name":"B","uid":"b"}'
api POST /api/v1/app/b/endpoint "{\"uid\":\"rx\",\"url\":\"$RURL/in\"}"
is "$STATUS" 201 "part B: an endpoint to the loopback receiver"
api POST /api/v1/app/b/msg '{"eventType":"order.paid","payload":{"n":1}}'
is "$STATUS" 202 "a message"
MSG=$(jqr .id)
wait_received '.path=="/in"' 1
ok $? "delivered"
ATT=""
wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $TOKEN' '$URL/api/v1/app/b/attempt/msg/$MSG' | jq -e '.data[0].id' >/dev/null"
api GET "/api/v1/app/b/attempt/msg/$MSG"
ATT=$(jqr '.data[0].id')
like "$ATT" '^atmpt_' "its attempt is listed"
api POST /hookd/v1/app/b/endpoint/rx/pause '' -H 'idempotency-key: pause-b'
is "$STATUS:$(jqr .successes5m)" "200:1" "a pause whose answer shows this process's figures (not kept)"
api DELETE "/api/v1/app/b/msg/$MSG/attempt/$ATT/content"
is "$STATUS" 204 "attempt content expunged"
api DELETE "/api/v1/app/b/msg/$MSG/attempt/atmpt_nosuch/content"
is "$STATUS" 404 "a missing attempt: 404"
api DELETE "/api/v1/app/b/msg/$MSG/content"
is "$STATUS" 204 "message content expunged"
hookd_stop
is "$HOOKD_RC" 0 "part B: the server stops cleanly"
"$HOOKD" reapply "$JB" --data "$T/reapply-b" >"$T/reapply-b.out" 2>&1
RB=$?
if [ $RB = 1 ] && grep -Eq '\((message\.create|delivery\.outcome), at byte' "$T/reapply-b.out"; then
    _n=$((_n + 1)); echo "not ok $_n - part B re-applies # TODO $(grep -Eo '\((message\.create|delivery\.outcome)' "$T/reapply-b.out" | head -1 | tr -d '(') is not re-applied by this build yet"
    _n=$((_n + 1)); echo "not ok $_n - part B compares # TODO as above"
    _n=$((_n + 1)); echo "not ok $_n - part B expunges hold # TODO as above"
else
    reapply_same "$DATA_B" "$JB" msgs
    like "$(cat "$T/reapply-msgs.out")" "  attempt\.expunge +1" "the attempt expunge was re-applied"
fi

done_testing
