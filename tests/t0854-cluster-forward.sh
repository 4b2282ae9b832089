#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Any node answers any request (cfwd.h): two --cluster-role auto nodes on
# three real nats-server processes (tests/cluster.sh). A Svix client's
# flow sent to the standby (an application, an event type, an endpoint,
# messages with idempotency keys, each read back at once) gets the
# owner's answers, the owner delivers, an idempotent retry through the
# other node gives the same answer; a bad token through the standby is a
# 401 that names no owner; the node's own paths (health, stats) stay
# local; a request larger than NATS max_payload is a clear 413, an answer
# larger than it a clear 503. The
# owner killed with -9: the survivor answers 503 with Retry-After, never
# after the forwarding deadline, until it owns, then serves again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

# log entries up to 3 MiB + 64 KiB, within the servers' max_payload (4 MiB)
cluster_up --max-body 3MiB
receiver_start
TOKEN=hk_t0854adminTokenForBothNodes
export HOOKD_ADMIN_TOKEN=$TOKEN
NODE_LOG_LEVEL=info
# max-body above the servers' max_payload (4 MiB), to meet NATS's limit first
NODE_ARGS="--max-body 8MiB"

pair_up
diag "owner $OWNER, standby $OTHER"
SVIX_HDRS="-H svix-req-id:4242 -H User-Agent:svix-libs/1.99.1/javascript"

# ---- the standby keeps its own health and stats ----
on "$OTHER"
api GET /api/v1/health
is "$STATUS" 200 "health is answered by the standby itself"
api GET /hookd/v1/stats
is "$(jqr '"\(.cluster.role) \(.cluster.nodeId)"')" "standby $OTHER" \
   "/hookd/v1/stats stays local: the standby's own role and node id"

# ---- a bad token through the standby: 401, and nothing about the owner ----
AUTH="Bearer hk_wrong" api POST /api/v1/app '{"name":"nope"}'
is "$STATUS:$(jqr .code)" "401:authentication_failed" "a bad token through the standby: 401"
is "$(jqr 'keys | join(",")')" "code,detail" "the 401 names no owner"
AUTH=none api POST /api/v1/app '{"name":"nope"}'
is "$STATUS:$(jqr 'has("owner")')" "401:false" "no token through the standby: 401, no owner"
AUTH=none api GET /api/v1/app
is "$STATUS:$(jqr 'has("owner")')" "401:false" "a read without a token: 401, no owner"

# ---- a Svix client's flow, all through the standby ----
api POST /api/v1/app '{"name":"Shop","uid":"shop"}' -H "idempotency-key: app-1" $SVIX_HDRS
is "$STATUS" 201 "application created through the standby"
APP=$(jqr .id)
APPBODY=$BODY
api GET /api/v1/app/shop
is "$STATUS:$(jqr .id)" "200:$APP" "read back at once through the standby (the owner's store)"
api POST /api/v1/app '{"name":"Shop","uid":"shop"}' -H "idempotency-key: app-1" $SVIX_HDRS
is "$STATUS:$BODY" "201:$APPBODY" "the same create with the same key: the same answer, byte for byte"
api POST /api/v1/event-type '{"name":"order.paid","description":"paid"}' $SVIX_HDRS
is "$STATUS" 201 "event type created through the standby"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/fwd/ok\",\"uid\":\"good\"}" \
    -H "idempotency-key: ep-1" $SVIX_HDRS
is "$STATUS" 201 "endpoint created through the standby"
api GET /api/v1/app/shop/endpoint/good
is "$STATUS:$(jqr .url)" "200:$RURL/fwd/ok" "and read back at once"
api GET /api/v1/app/shop/endpoint/good/secret
like "$(jqr .key)" '^whsec_' "the endpoint's secret, through the standby"

okc=0 readc=0
for i in 1 2 3 4 5; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"n\":$i}}" \
        -H "idempotency-key: m$i" $SVIX_HDRS
    [ "$STATUS" = 202 ] && okc=$((okc + 1))
    id=$(jqr .id)
    eval "MSG_$i=$id"
    api GET "/api/v1/app/shop/msg/$id"
    [ "$STATUS:$(jqr .payload.n)" = "200:$i" ] && readc=$((readc + 1))
done
is "$okc" 5 "5 messages accepted through the standby (202)"
is "$readc" 5 "each read back at once through the standby"
api GET "/api/v1/app/shop/msg?limit=2&event_types=order.paid"
is "$STATUS:$(jqr '.data | length'):$(jqr .done)" "200:2:false" \
   "a list with a query string is forwarded with it"
wait_received '.path == "/fwd/ok"' 5 20
is "$(received '.path == "/fwd/ok"')" 5 "the owner delivered the 5 messages"

# ---- an idempotent retry through the other node, and through the standby again ----
on "$OWNER"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"n":3}}' -H "idempotency-key: m3"
is "$STATUS:$(jqr .id)" "202:$MSG_3" "the retry of message 3 on the owner: the same message"
on "$OTHER"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"n":3}}' -H "idempotency-key: m3"
is "$STATUS:$(jqr .id)" "202:$MSG_3" "and again through the standby: the same message"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"n":99}}' -H "idempotency-key: m3"
is "$STATUS:$(jqr .code)" "422:idempotency_key_reused" "the key reused for another body: the owner's 422"
sleep 1
is "$(received '.path == "/fwd/ok"')" 5 "retries delivered nothing twice"

# ---- the operations API and a write of /hookd/v1 go to the owner too ----
api GET /hookd/v1/endpoints
is "$STATUS" 200 "the operations' endpoints table through the standby"
api POST /hookd/v1/app/shop/endpoint/good/pause ''
is "$STATUS" 200 "pause through the standby"
api POST /hookd/v1/app/shop/endpoint/good/resume ''
is "$STATUS" 200 "resume through the standby"

# ---- an application token made through the standby works through it at once ----
api POST /api/v1/auth/app-portal-access/shop '{}'
is "$STATUS" 200 "an application token made through the standby"
APPTOK=$(jqr .token)
AUTH="Bearer $APPTOK" api GET /api/v1/app/shop/endpoint
is "$STATUS:$(jqr '.data | length')" "200:1" "used through the standby at once: the owner checks it"
AUTH="Bearer $APPTOK" api POST /api/v1/event-type '{"name":"x.y"}'
is "$STATUS" 403 "and the owner refuses what it may not do"

# ---- the feed's long poll waits on the owner, not on an HTTP thread here ----
api GET "/hookd/v1/feed?after=0&limit=100"
FSEQ=$(jqr .seq)
is "$STATUS:$(jqr '[.items[] | select(.ok)] | length')" "200:5" "the owner's feed through the standby"
t0=$(date +%s.%N)
api GET "/hookd/v1/feed?after=$FSEQ&wait=1"
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
is "$STATUS:$(jqr '.items | length')" "200:0" "a long poll with nothing new: an empty answer"
is "$(cond "$took >= 0.9 && $took < 3")" 0 "after its wait ($took s)"

# ---- counts ----
api GET /hookd/v1/stats
SENT=$(jqr .cluster.forward.sent)
is "$(cond "$SENT >= 20")" 0 "the standby counts what it forwarded (sent $SENT)"
on "$OWNER"
api GET /hookd/v1/stats
SERVED=$(jqr .cluster.forward.served)
is "$SERVED" "$SENT" "the owner served as many ($SERVED)"

# ---- larger than NATS max_payload ----
on "$OTHER"
head -c 5000000 /dev/zero | tr '\0' 'x' | sed 's/^/{"eventType":"order.paid","payload":{"big":"/; s/$/"}}/' > "$T/big.json"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary @"$T/big.json" "$URL/api/v1/app/shop/msg")
BODY=$(cat "$T/body")
is "$STATUS:$(jqr .code)" "413:payload_too_large" "a request above NATS max_payload: 413"
like "$(jqr .detail)" "max_payload is 4194304 bytes" "which names the NATS limit"
api GET /api/v1/health
is "$STATUS" 200 "the standby is fine after it"
# an answer above max_payload: three messages of 1.5 MB listed with their payloads
head -c 1500000 /dev/zero | tr '\0' 'y' | sed 's/^/{"eventType":"order.paid","payload":{"big":"/; s/$/"}}/' > "$T/mid.json"
on "$OWNER"
bigc=0
for i in 1 2 3; do
    STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary @"$T/mid.json" "$URL/api/v1/app/shop/msg")
    [ "$STATUS" = 202 ] && bigc=$((bigc + 1))
done
is "$bigc" 3 "three 1.5 MB messages taken by the owner"
on "$OTHER"
api GET "/api/v1/app/shop/msg?limit=3"
is "$STATUS:$(jqr .code)" "503:response_too_large" "their list through the standby: 503 response_too_large"
api GET "/api/v1/app/shop/msg?limit=3&with_content=false"
is "$STATUS:$(jqr '.data | length')" "200:3" "without the payloads it fits"

# ---- the owner killed with -9: 503 with Retry-After in between, never a hang ----
node_stop "$OWNER" KILL
on "$OTHER"
KILLED=$(date +%s)
n503=0 nra=0 slow=0 other=0
while ! is_owner "$OTHER" && [ $(($(date +%s) - KILLED)) -lt 30 ]; do
    t0=$(date +%s.%N)
    st=$(curl -s -D "$T/hdr" -o "$T/body" -w '%{http_code}' --max-time 20 \
        -H "Authorization: Bearer $TOKEN" "$URL/api/v1/app/shop")
    took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    [ "$(cond "$took > 8.5")" = 0 ] && slow=$((slow + 1))
    case $st in
    503) n503=$((n503 + 1)); grep -qi '^retry-after: [0-9]' "$T/hdr" && nra=$((nra + 1)) ;;
    200) ;;
    *) other=$((other + 1)); diag "answered $st: $(cat "$T/body")" ;;
    esac
    sleep 0.3
done
is_owner "$OTHER"
ok $? "the survivor owns the log after the kill ($(( $(date +%s) - KILLED )) s)"
is "$(cond "$n503 > 0")" 0 "it answered 503 until then ($n503 times)"
is "$nra" "$n503" "every 503 carried Retry-After"
is "$slow" 0 "none took longer than the forwarding deadline"
is "$other" 0 "and nothing but 200 or 503"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"after":"kill"}}' \
    -H "idempotency-key: after-kill"
is "$STATUS" 202 "the new owner takes writes"
LAST=$(jqr .id)
api GET "/api/v1/app/shop/msg/$MSG_5"
is "$STATUS" 200 "and holds what was written through the forwarder before"
wait_received ".id == \"$LAST\"" 1 15
is "$(received ".id == \"$LAST\"")" 1 "and delivers"

[ "$_fail" = 0 ] || for n in a b; do grep -v 'msg=request' "$T/$n.err" | tail -n 20 | sed "s/^/# $n: /" >&2; done
done_testing
