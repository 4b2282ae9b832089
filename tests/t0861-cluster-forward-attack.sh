#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The forwarding wire (cfwd.h) as a stranger on the NATS servers uses it:
# two --cluster-role auto nodes on three real nats-servers, and
# tests/helpers/natspoke publishing what no node sends to the owner's
# subject hookd.node.ID.http (headers missing, empty, repeated, huge; a
# method that is not one; paths with control bytes, %00, '..', too long;
# bad query escapes; a body over --max-body; a node-local path; a request
# to the standby, which must not forward it again; no reply subject; a
# reply subject that is not an inbox, among them the log's subject and
# JetStream's stream delete), and answering the standby's forwarded
# requests itself (no status, a bad one, a header with a control byte),
# and on correlation ids that do not exist or were answered already.
# Every time: a clear answer (or none when there is nobody to answer),
# the log untouched, both nodes alive and serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

cluster_up
TOKEN=hk_t0861adminTokenForBothNodes
export HOOKD_ADMIN_TOKEN=$TOKEN
NODE_ARGS="--max-body 64KiB"
pair_up
SUBJ=hookd.node.$OWNER.http

# fwd ARGS...: one request to the owner's subject with an inbox; ANS is the
# answer (natspoke's JSON), ST its Hookd-Status, CODE its body's code.
fwd() {
    ANS=$(poke pub "$SUBJ" -i "$@")
    ST=$(printf '%s' "$ANS" | jq -r '.headers["Hookd-Status"][0] // "none"')
    CODE=$(printf '%s' "$ANS" | jq -r '.data | fromjson? | .code // empty')
}
AUTHH="Authorization:Bearer $TOKEN"
on "$OWNER"
api POST /api/v1/app '{"name":"Shop","uid":"shop"}'
is "$STATUS" 201 "an application on the owner"
LOG0=$(log_last)

# ---- the wire works from the stranger's client: a well-formed request ----
fwd -H Hookd-Method:GET -H Hookd-Path:/api/v1/app/shop -H "$AUTHH"
is "$ST:$(printf '%s' "$ANS" | jq -r '.data | fromjson | .uid')" "200:shop" \
   "a well-formed forwarded read: the owner's 200"

# ---- missing and malformed headers: 400 bad_forward ----
fwd -H Hookd-Path:/api/v1/app -H "$AUTHH"
is "$ST:$CODE" "400:bad_forward" "no Hookd-Method: 400 bad_forward"
fwd -H Hookd-Method:GET -H "$AUTHH"
is "$ST:$CODE" "400:bad_forward" "no Hookd-Path: 400 bad_forward"
fwd -d '{"name":"x"}'
is "$ST:$CODE" "400:bad_forward" "no header at all: 400 bad_forward"
like "$(printf '%s' "$ANS" | jq -r '.data | fromjson | .detail')" "Hookd-Method" \
   "the detail names what is missing"
for m in "get" "G E T" "DROP;TABLE" "" "ABCDEFGHIJKLMNOPQRSTUVWXYZ"; do
    fwd -H "Hookd-Method:$m" -H Hookd-Path:/api/v1/app -H "$AUTHH"
    is "$ST:$CODE" "400:bad_forward" "Hookd-Method '$m': 400 bad_forward"
done
fwd -H Hookd-Method:GET -H Hookd-Method:DELETE -H Hookd-Path:/api/v1/app/shop -H "$AUTHH"
is "$ST" 200 "Hookd-Method twice: the first counts (a read)"
on "$OWNER"
api GET /api/v1/app/shop
is "$STATUS" 200 "and nothing was deleted"
fwd -H Hookd-Method:GET -H Hookd-Path:/api/v1/app -H "Authorization:Bearer hk_wrong" -H "$AUTHH"
is "$ST:$CODE" "401:authentication_failed" "Authorization twice: the first counts (401)"
fwd -H Hookd-Method:GET -H Hookd-Path:/api/v1/app -H "Authorization:"
# (libnats's parser drops a header block with an empty value: no method then)
like "$ST:$CODE" '^(401:authentication_failed|400:bad_forward)$' "an empty Authorization: 401 or 400 ($ST)"
BIG=$(head -c 100000 /dev/zero | tr '\0' 'k')
fwd -H Hookd-Method:GET -H Hookd-Path:/api/v1/app -H "Authorization:Bearer $BIG"
is "$ST:$CODE" "401:authentication_failed" "a 100 KB Authorization: 401"
CTL=$(printf 'Bearer %s\001x' "$TOKEN")
fwd -H Hookd-Method:GET -H Hookd-Path:/api/v1/app -H "Authorization:$CTL"
is "$ST:$CODE" "400:bad_forward" "an Authorization with a control byte: 400 bad_forward"

# ---- paths and queries ----
fwd -H Hookd-Method:GET -H "Hookd-Path:$(printf '/api/v1/app/a\001b')" -H "$AUTHH"
is "$ST:$CODE" "400:invalid_path" "a path with a control byte: 400 invalid_path"
fwd -H Hookd-Method:GET -H "Hookd-Path:/api/v1/app/%00" -H "$AUTHH"
is "$ST:$CODE" "404:not_found" "'%00' in a (decoded) path is plain text: 404"
fwd -H Hookd-Method:GET -H "Hookd-Path:/api/v1/app/../../../etc/passwd" -H "$AUTHH"
is "$ST" 404 "a path with '..': 404"
fwd -H Hookd-Method:GET -H "Hookd-Path:api/v1/app" -H "$AUTHH"
is "$ST:$CODE" "400:invalid_path" "a path without its leading '/': 400 invalid_path"
LONG=$(head -c 30000 /dev/zero | tr '\0' 'p')
fwd -H Hookd-Method:GET -H "Hookd-Path:/api/v1/app/$LONG" -H "$AUTHH"
is "$ST:$CODE" "414:uri_too_long" "a 30 KB path: 414 uri_too_long"
fwd -H Hookd-Method:GET -H "Hookd-Path:/api/v1/app" -H "Hookd-Query:limit=%zz&iterator=%&%%%=1" \
    -H "$AUTHH"
like "$ST" '^4[0-9][0-9]$' "a query with bad escapes: a 4xx ($ST)"
Q=$(awk 'BEGIN { for (i = 0; i < 150; i++) printf "a%d=1&", i }')
fwd -H Hookd-Method:GET -H "Hookd-Path:/api/v1/app" -H "Hookd-Query:$Q" -H "$AUTHH"
is "$ST:$CODE" "414:uri_too_long" "150 query arguments: 414 uri_too_long"

# ---- bodies ----
fwd -H Hookd-Method:POST -H Hookd-Path:/api/v1/app -H "$AUTHH" -H Content-Type:application/json \
    -n 100000
is "$ST:$CODE" "413:payload_too_large" "a body over --max-body (64 KiB): 413"
fwd -H Hookd-Method:POST -H Hookd-Path:/api/v1/app -H "$AUTHH" -H Content-Type:application/json \
    -d '{"name":'
like "$ST:$CODE" '^4[0-9][0-9]:' "a body that is not JSON: the owner's 4xx ($ST $CODE)"

# ---- a node-local path, and no second forwarding ----
fwd -H Hookd-Method:GET -H Hookd-Path:/hookd/v1/stats -H "$AUTHH"
is "$ST:$(printf '%s' "$ANS" | jq -r '.data | fromjson | .cluster.nodeId')" "200:$OWNER" \
   "a node-local path sent to the owner: the owner's own stats"
on "$OTHER"
api GET /hookd/v1/stats
SENT0=$(jqr .cluster.forward.sent)
ANS=$(poke pub "hookd.node.$OTHER.http" -i -H Hookd-Method:POST -H Hookd-Path:/api/v1/app \
      -H "$AUTHH" -H Content-Type:application/json -d '{"name":"loop"}')
ST=$(printf '%s' "$ANS" | jq -r '.headers["Hookd-Status"][0] // "none"')
is "$ST:$(printf '%s' "$ANS" | jq -r '.headers["Hookd-Not-Owner"][0] // ""')" "503:1" \
   "a request sent to the standby: 503 not-owner, for its sender to answer"
api GET /hookd/v1/stats
is "$(jqr .cluster.forward.sent)" "$SENT0" "the standby did not forward it again"
api GET "/api/v1/app?limit=100"
is "$(jqr '[.data[] | select(.name == "loop")] | length')" 0 "and nothing was created"

# ---- no reply subject, or one that is not an inbox: nothing is sent ----
on "$OWNER"
api GET /hookd/v1/stats
REF0=$(jqr .cluster.forward.refused)
poke pub "$SUBJ" -H Hookd-Method:GET -H Hookd-Path:/api/v1/app -H "$AUTHH"
ANS=$(poke pub "$SUBJ" -r hookd.evil.x -H Hookd-Method:GET -H Hookd-Path:/api/v1/app -H "$AUTHH" -w 1500)
is "$ANS" '{"timeout":true}' "a reply subject that is no inbox gets nothing"
ANS=$(poke pub "$SUBJ" -r '_INBOX.evil.*' -l '_INBOX.evil.*' -H Hookd-Method:GET -H Hookd-Path:/api/v1/app \
      -H "$AUTHH" -w 1500)
is "$ANS" '{"timeout":true}' "nor does a wildcard inbox"
# before the check, the owner answered on these with its own permissions
poke pub "$SUBJ" -r hookd.log.0 -H Hookd-Method:GET -H Hookd-Path:/api/v1/app -H "$AUTHH" >/dev/null
poke pub "$SUBJ" -r '$JS.API.STREAM.DELETE.hookd_log_0' -H Hookd-Method:GET \
    -H Hookd-Path:/api/health >/dev/null
poke pub "$SUBJ" -r '$JS.API.STREAM.PURGE.hookd_log_0' -H Hookd-Method:GET \
    -H Hookd-Path:/api/health >/dev/null
sleep 1
is "$(log_last)" "$LOG0" "the log's stream is there, unchanged: no answer went to its subject or JetStream's API"
api GET /hookd/v1/stats
is "$(jqr .cluster.forward.refused)" "$((REF0 + 6))" "the owner counts the 6 it refused"

# ---- the standby's forwarded requests answered by a stranger first ----
on "$OTHER"
api GET "/hookd/v1/feed?after=0&limit=1000"
FSEQ=$(jqr .seq)
# spy_answer ARGS...: a stranger answers the next request the standby forwards
# (a long poll, which the owner holds 2 s) with ARGS; the answer to it in $T/spy.
spy_answer() {
    poke spy "$SUBJ" -w 8000 "$@" > "$T/spy" &
    SPY=$!
    sleep 0.7
    api GET "/hookd/v1/feed?after=$FSEQ&wait=2"
    wait "$SPY"
}
spy_answer -H Hookd-Status:abc -d '{"items":[]}'
is "$STATUS:$(jqr .code)" "503:owner_unreachable" "an answer whose status is not a number: 503"
like "$(jqr .detail)" "valid status" "which says why"
spy_answer -d 'no headers at all'
is "$STATUS:$(jqr .code)" "503:owner_unreachable" "an answer without a status: 503"
spy_answer -H Hookd-Status:101 -d ''
is "$STATUS:$(jqr .code)" "503:owner_unreachable" "an answer with a 1xx status: 503"
spy_answer -H Hookd-Status:99999 -d ''
is "$STATUS:$(jqr .code)" "503:owner_unreachable" "an answer with status 99999: 503"
spy_answer -H Hookd-Status:200 -H "Retry-After:$(printf '1\0012')" \
    -H "Content-Type:$(printf 'text/html\001')" -d '{"seq":1,"items":[]}'
is "$STATUS:$(jqr .seq)" "200:1" "a stranger's well-formed answer wins the race (nothing tells them apart)"
STATUS=$(curl -s -D "$T/hdr" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "$URL/api/v1/app/shop")
is "$STATUS" 200 "the standby serves on once the owner's late answers came"
REPLY=$(jq -r '.reply' "$T/spy")
like "$REPLY" '^_INBOX\.' "the forwarded request's reply subject is an inbox ($REPLY)"

# ---- answers on correlation ids that do not exist or were answered ----
api GET /hookd/v1/stats
FAILED0=$(jqr .cluster.forward.failed)
INBOX=${REPLY%.*}
for id in "${REPLY##*.}" 0 999999999 abc "" "1.2"; do
    poke pub "$INBOX.$id" -H Hookd-Status:200 -d '{"stray":true}'
done
poke pub "$INBOX" -H Hookd-Status:200 -d '{"stray":true}'
sleep 0.5
api GET /hookd/v1/stats
is "$(jqr .cluster.forward.failed)" "$FAILED0" "stray answers change nothing"
api POST /api/v1/app/shop/msg '{"eventType":"x.y","payload":{"after":"attack"}}' \
    -H "idempotency-key: after-attack"
is "$STATUS" 202 "a write through the standby after all of it"
ID=$(jqr .id)
on "$OWNER"
api GET "/api/v1/app/shop/msg/$ID"
is "$STATUS" 200 "the owner has it"

# ---- both nodes alive ----
kill -0 "$PID_a" && kill -0 "$PID_b"
ok $? "both nodes are alive"
[ "$(log_last)" -gt "$LOG0" ]
ok $? "and the log moved on from where it was ($(log_last) > $LOG0)"
[ "$_fail" = 0 ] || for n in a b; do tail -n 20 "$T/$n.err" | sed "s/^/# $n: /" >&2; done
done_testing
