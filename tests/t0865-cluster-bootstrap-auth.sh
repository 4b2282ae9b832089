#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# hookd cluster bootstrap needs the admin token, and a node makes one copy
# at a time (cbootnet.c), on three real nats-servers (tests/cluster.sh) and
# tests/helpers/natspoke as a stranger on them:
#   - without a token, with a wrong one (--admin-token, HOOKD_ADMIN_TOKEN,
#     one character short), and as a raw request without the header, the
#     node refuses before it copies anything: the command says "the cluster
#     refused the bootstrap: wrong or missing admin token" (exit 1), the
#     node's DATA/bootstrap holds nothing, the new DIR is not left behind,
#     and the node logs the refusals;
#   - a copy made for a raw request with the token: its id is 32 hex
#     digits; while it waits to be fetched a bootstrap is refused "busy ...
#     retry in N s" (the first copy stays); chunk requests with another id,
#     an old-style id, or none get an error and no bytes, while its own id
#     reads; "done" with another id keeps it, with its own drops it;
#   - the copy request's body names the partition group ({"group": g}):
#     with the token, a group the node holds no store of, a value that is
#     not an integer from 0, or a body that is not a JSON object gets an
#     error (no refusal header, no data) and no copy is made; a copy's
#     answer names its group;
#   - with the token the bootstrap works, leaves no copy behind on the
#     answering node, and a node started on it follows the log and
#     compares equal to the owner.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

cluster_up
TOKEN=hk_t0865adminTokenForEveryNode0   # every cluster node's
export HOOKD_ADMIN_TOKEN=$TOKEN
node_start a
wait_for 20 is_owner a
ok $? "node a owns the log"
on a
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
is "$STATUS" 201 "an application"
for i in 1 2 3; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"e\",\"payload\":{\"n\":$i}}"
done
is "$STATUS" 202 "messages"

# boot NAME [ARGS...]: hookd cluster bootstrap into $T/NAME; BOOT_RC, BOOT_OUT.
boot() {
    _d=$1
    shift
    "$HOOKD" cluster bootstrap --cluster "$NATS_URLS" --data "$T/$_d" "$@" >"$T/boot-$_d.out" 2>&1
    BOOT_RC=$?
    BOOT_OUT=$(cat "$T/boot-$_d.out")
}
# nothing_left NAME WHAT: no copy on node a, nothing in $T/NAME.
nothing_left() {
    is "$(ls -A "$T/a/bootstrap" 2>/dev/null)" "" "$2: no copy left on the answering node"
    is "$(ls -A "$T/$1" 2>/dev/null)" "" "$2: nothing in the new data directory"
}
REFUSED="the cluster refused the bootstrap: wrong or missing admin token"

# ---- no token, wrong tokens: refused before any copy ----
HOOKD_ADMIN_TOKEN= boot e
is "$BOOT_RC" 1 "bootstrap without a token: exit 1"
like "$BOOT_OUT" "$REFUSED \\(give the cluster's admin token: --admin-token, HOOKD_ADMIN_TOKEN" \
     "saying the cluster refused it, and where a token goes"
nothing_left e "no token"
boot e --admin-token hk_wrong
is "$BOOT_RC" 1 "bootstrap with a wrong --admin-token: exit 1"
like "$BOOT_OUT" "$REFUSED\$" "refused: wrong or missing admin token"
nothing_left e "a wrong --admin-token"
HOOKD_ADMIN_TOKEN=${TOKEN%?} boot e
is "$BOOT_RC" 1 "bootstrap with the token one character short (HOOKD_ADMIN_TOKEN): exit 1"
like "$BOOT_OUT" "$REFUSED" "refused too"
HOOKD_ADMIN_TOKEN=${TOKEN}x boot e
is "$BOOT_RC:$(cat "$T/boot-e.out" | grep -c "$REFUSED")" "1:1" "and with one character more"
nothing_left e "tokens that are nearly right"

ANS=$(poke pub hookd.bootstrap -i -w 5000)
is "$(printf '%s' "$ANS" | jq -r '"\(.headers["Hookd-Refused"][0]) \(.headers["Hookd-Error"][0]) \(.data)"')" \
   "token wrong or missing admin token " "a raw request without the header: refused, no data"
ANS=$(poke pub hookd.bootstrap -i -w 5000 -H "Authorization:Basic $TOKEN")
is "$(printf '%s' "$ANS" | jq -r '.headers["Hookd-Refused"][0]')" token \
   "with the token but not as a Bearer: refused"
nothing_left e "raw requests"
like "$(cat "$T/a.err")" "bootstrap requests refused: wrong or missing admin token" \
     "the node logs the refusals"

# ---- the partition group asked for: one the node holds, or a clear error ----
# group_req BODY: a copy request with the token; GR_ERR its error, GR_REST refused header and data.
group_req() {
    ANS=$(poke pub hookd.bootstrap -i -w 5000 -H "Authorization:Bearer $TOKEN" -d "$1")
    GR_ERR=$(printf '%s' "$ANS" | jq -r '.headers["Hookd-Error"][0] // ""')
    GR_REST=$(printf '%s' "$ANS" | jq -r '"\(.headers["Hookd-Refused"][0] // "") \(.data)"')
}
group_req '{"group":7}'
is "$GR_ERR" "node a holds no store of partition group 7 (the cluster's groups are 0 to its streams - 1)" \
   "a group the node holds no store of (the cluster has one): an error naming it"
is "$GR_REST" " " "not a refusal, and no data"
nothing_left e "a group that does not exist"
group_req '{"group":1}'
like "$GR_ERR" "^node a holds no store of partition group 1 " "group 1 of a cluster with one group: the same"
for BAD in '"1"' 1.5 -1 null true '{}'; do
    group_req "{\"group\":$BAD}"
    is "$GR_ERR" "\"group\" must be a partition group's number (an integer from 0)" \
       "group $BAD: an error saying what a group is"
done
is "$GR_REST" " " "not a refusal, and no data"
group_req 'group=0'
is "$GR_ERR" "the bootstrap request is not a JSON object" "a body that is not JSON: an error"
group_req '[0]'
is "$GR_ERR" "the bootstrap request is not a JSON object" "a JSON array: the same"
nothing_left e "group values that are not a group's number"
group_req '{"group":0}'
is "$(printf '%s' "$ANS" | jq -r '.data | fromjson? | "\(.group) \(.node)"')" "0 a" \
   "{\"group\":0}: a copy of group 0, its answer naming the group"
COPY=$(printf '%s' "$ANS" | jq -r '.data | fromjson? | .id // empty')
is "$(ls "$T/a/bootstrap")" data.mdb "in a's DATA/bootstrap"
poke pub hookd.bootstrap.a -i -w 5000 -d "{\"id\":\"$COPY\",\"done\":true}" > /dev/null
is "$(ls -A "$T/a/bootstrap" 2>/dev/null)" "" "dropped when its client is done"

# ---- one copy at a time; a copy is read only with its own id ----
ANS=$(poke pub hookd.bootstrap -i -w 30000 -H "Authorization:Bearer $TOKEN")
COPY=$(printf '%s' "$ANS" | jq -r '.data | fromjson? | .id // empty')
SIZE=$(printf '%s' "$ANS" | jq -r '.data | fromjson? | .size // empty')
like "$COPY" '^[0-9a-f]{32}$' "a raw request with the token: a copy, its id 128 random bits in hex"
is "$(printf '%s' "$ANS" | jq -r '.data | fromjson? | .node')" a "made by node a"
is "$(printf '%s' "$ANS" | jq -r '.data | fromjson? | .group')" 0 \
   "of group 0: a request without a body asks for it, as before groups"
is "$(ls "$T/a/bootstrap")" data.mdb "the copy waits in a's DATA/bootstrap"

boot e
is "$BOOT_RC" 1 "a bootstrap while that copy waits to be fetched: exit 1"
like "$BOOT_OUT" "the cluster refused the bootstrap: busy: node a is sending a copy for another bootstrap \\(one at a time\\); retry in [0-9]+ s" \
     "refused: busy, retry in N s"
is "$(ls -A "$T/e" 2>/dev/null)" "" "nothing in the new data directory"
ANS=$(poke pub hookd.bootstrap -i -w 5000 -H "Authorization:Bearer $TOKEN")
is "$(printf '%s' "$ANS" | jq -r '"\(.headers["Hookd-Refused"][0]) \(.headers["Hookd-Retry-After"][0] | test("^[0-9]+$"))"')" \
   "busy true" "a raw request: Hookd-Refused busy, Hookd-Retry-After seconds"

# chunk ID OFFSET: a chunk request to node a; CH_ERR its error ("" none), CH_LEN its bytes.
chunk() {
    ANS=$(poke pub hookd.bootstrap.a -i -w 5000 -d "$1")
    CH_ERR=$(printf '%s' "$ANS" | jq -r '.headers["Hookd-Error"][0] // ""')
    CH_LEN=$(printf '%s' "$ANS" | jq -r '.data | length')
}
OTHER=$(printf '%s' "$COPY" | tr '0-9a-f' '1-9a-f0')
chunk "{\"id\":\"$OTHER\",\"offset\":0}"
like "$CH_ERR:$CH_LEN" "^no such copy.*:0\$" "a chunk request with another id: an error, no bytes"
chunk "{\"id\":\"$(date +%s)000-1\",\"offset\":0}"
like "$CH_ERR:$CH_LEN" "^no such copy.*:0\$" "with an id of the old form (time and a count): the same"
chunk '{"offset":0}'
like "$CH_ERR:$CH_LEN" "^no such copy.*:0\$" "without an id: the same"
chunk "{\"id\":\"${COPY%?}\",\"offset\":0}"
like "$CH_ERR:$CH_LEN" "^no such copy.*:0\$" "with its id one digit short: the same"
chunk "{\"id\":\"$COPY\",\"offset\":$((SIZE - 1))}"
is "$CH_ERR:$CH_LEN" ":1" "with its own id: the copy's last byte"
chunk "{\"id\":\"$OTHER\",\"done\":true}"
like "$CH_ERR" "^no such copy" "done with another id: refused"
is "$(ls "$T/a/bootstrap")" data.mdb "and the copy stays"
chunk "{\"id\":\"$COPY\",\"done\":true}"
is "$CH_ERR" "" "done with its own id"
is "$(ls -A "$T/a/bootstrap" 2>/dev/null)" "" "drops the copy"
chunk "{\"id\":\"$COPY\",\"offset\":0}"
like "$CH_ERR:$CH_LEN" "^no such copy.*:0\$" "and its id reads nothing after"

# ---- with the token: the bootstrap works and the node follows ----
boot e
[ "$BOOT_RC" = 0 ] || diag "$BOOT_OUT"
is "$BOOT_RC" 0 "bootstrap with the admin token (HOOKD_ADMIN_TOKEN): exit 0"
like "$BOOT_OUT" "bootstrapped '.*/e' from node a: [0-9]+ bytes, SHA-256 checked, at log entry [0-9]+" \
     "it says from which node, how much, and where in the log"
is "$(ls "$T/e" | grep -v -e '^data\.mdb$' -e '^lock\.mdb$')" "" \
   "the new data directory holds the store alone (no partial file)"
is "$(ls -A "$T/a/bootstrap" 2>/dev/null)" "" "the answering node dropped its copy once it was fetched"
node_start e
posted_reaches e bootstrap "the bootstrapped node"
boot f --admin-token "$TOKEN"
is "$BOOT_RC" 0 "at once another bootstrap (--admin-token): the node is free again"

node_stop e
node_stop a
is "$NODE_RC" 0 "the owner stops cleanly"
stores_equal a e "hookd check --compare: the bootstrapped store equals the owner's"
stores_equal a f "and so does the second"
[ "$_fail" = 0 ] || for n in a e; do grep -v 'msg=request' "$T/$n.err" | head -n 20 | sed "s/^/# $n: /" >&2; done

done_testing
