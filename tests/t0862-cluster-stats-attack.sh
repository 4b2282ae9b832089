#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The cluster-wide stats (cstats.h) as a stranger on the NATS servers
# feeds them: two --cluster-role auto nodes on three real nats-servers,
# and tests/helpers/natspoke answering every hookd.stats request with
# what no node sends (not JSON, arrays, wrong types, a role that is not a
# string, numbers beyond any counter, node ids with control characters,
# 10 KB long or not strings, a 20 KB answer) and with 200 made-up nodes.
# The view stays bounded (CSTATS_MAX_NODES) and sane (types, numbers,
# ids), /metrics stays valid, the real nodes stay in it, and a node that
# starts after the flood is seen in place of the silent made-up ones.
# Stats requests with a reply subject that is no inbox get no answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

cluster_up
TOKEN=hk_t0862adminTokenForAllNodes
export HOOKD_ADMIN_TOKEN=$TOKEN
node_start a
node_start b
wait_for 20 one_owner
ok $? "exactly one of the two nodes owns the log ($(role_of a)/$(role_of b))"
# seen NAME: node a's view has NAME reachable
seen() {
    on a
    api GET /hookd/v1/stats
    [ "$(jqr "[.cluster.nodes[] | select(.nodeId == \"$1\" and .reachable)] | length")" = 1 ]
}
wait_for 10 seen b
ok $? "a sees b"

# ---- a stats request with a reply subject that is no inbox gets nothing ----
ANS=$(poke pub hookd.stats -i -d '{"from":"x"}' -w 2000)
like "$(printf '%s' "$ANS" | jq -r '.data | fromjson | .nodeId')" '^[ab]$' \
   "a stats request on an inbox: a node's summary"
ANS=$(poke pub hookd.stats -r hookd.evil.stats -d '{"from":"x"}' -w 1500)
is "$ANS" '{"timeout":true}' "on a subject that is no inbox: no answer"
poke pub hookd.stats -i -n 3000000 -w 500 >/dev/null
ANS=$(poke pub hookd.stats -i -d 'not json' -w 2000)
like "$(printf '%s' "$ANS" | jq -r '.data | fromjson | .nodeId')" '^[ab]$' \
   "after a 3 MB request and one that is not JSON, the nodes still answer"

# ---- the flood ----
LONGID=$(head -c 10240 /dev/zero | tr '\0' 'L')
BIGPAD=$(head -c 20000 /dev/zero | tr '\0' 'p')
{
    echo 'not json at all'
    echo '[1,2,3]'
    echo '{}'
    echo '{"nodeId":5,"role":"owner"}'
    printf '{"nodeId":"ctl\\u0001id","role":"owner"}\n'
    printf '{"nodeId":"nul\\u0000id","role":"owner"}\n'
    echo '{"nodeId":"quo\"te","role":"owner"}'
    echo "{\"nodeId\":\"$LONGID\",\"role\":\"owner\"}"
    echo "{\"nodeId\":\"padded\",\"pad\":\"$BIGPAD\"}"
    echo '{"nodeId":"typed","role":5,"seq":"x","logSeq":-3,"messagesIngested":1e308,"attemptsSucceeded":9223372036854775807,"inflight":-5,"deliveriesDue":"many","rates":"fast","owns":"group.0","follows":[1,{"a":1}],"listen":{"a":1},"version":["x"],"deliveryHold":"yes","extra":{"deep":[[[[1]]]]}}'
    echo '{"nodeId":"roleobj","role":{"owner":true},"seq":3}'
    printf '%s\n' '{"nodeId":"esc","role":"standby","listen":"\u001b[31mred","version":"1\n2"}'
} > "$T/answers"
poke answer-stats -g 200 -w 4000 < "$T/answers" > "$T/flood"
diag "flood: $(cat "$T/flood")"
[ "$(jq -r .answers "$T/flood")" -gt 1000 ]
ok $? "the stranger answered the nodes' gathers ($(jq -r .answers "$T/flood") answers)"
kill -0 "$PID_a" && kill -0 "$PID_b"
ok $? "both nodes are alive"
sleep 1.5   # a gather under way when the flood ended is over

on a
api GET /hookd/v1/stats
is "$STATUS" 200 "stats answer"
N=$(jqr '.cluster.nodes | length')
is "$(cond "$N <= 64")" 0 "the view is bounded: $N nodes (64 at most)"
is "$(jqr '[.cluster.nodes[] | select(.nodeId == "b" and .reachable)] | length')" 1 \
   "b, a real node, is still in it"
is "$(jqr '[.cluster.nodes[].nodeId | select(test("^[A-Za-z0-9_-]{1,64}$") | not)] | length')" 0 \
   "every node id in it is one a node could have"
is "$(jqr '[.cluster.nodes[].nodeId | select(. == "padded" or . == "quo\"te")] | length')" 0 \
   "a 20 KB answer and an id with a quote are not in it"
is "$(jqr '[.cluster.nodes[] | select(.nodeId == "typed") | .role, .seq, .messagesIngested, .attemptsSucceeded, .inflight, .logSeq, .deliveriesDue, .listen, .version, .deliveryHold, .rates.ingest, (.owns | length), (.follows | length), has("extra")] | map(tostring) | join(" ")')" \
   "standby 0 0 0 0 null null null null false 0 0 0 false" \
   "a summary of wrong types: each field its type, out-of-range numbers 0, the rest dropped"
is "$(jqr '[.cluster.nodes[] | select(.nodeId == "roleobj") | .role, .seq] | map(tostring) | join(" ")')" \
   "standby 3" "a role that is not a string: standby"
is "$(jqr '[.cluster.nodes[] | select(.nodeId == "esc") | .listen, .version] | map(tostring) | join(" ")')" \
   "null null" "strings with control characters: null"
is "$(jqr '.cluster.totals.owners <= 64 and .cluster.totals.messagesIngested >= 0 and .cluster.totals.messagesIngested < 1e17')" \
   "true" "totals are numbers within range ($(jqr .cluster.totals.messagesIngested))"
api GET /metrics
is "$STATUS" 200 "/metrics answers"
printf '%s\n' "$BODY" > "$T/metrics"
if command -v promtool >/dev/null 2>&1; then
    promtool check metrics < "$T/metrics" > "$T/promtool" 2>&1
    rc=$?
    # promtool also lints (counter names, units): only a parse error fails here
    grep -qi 'error while linting\|parse' "$T/promtool" && rc=1 || rc=0
    is "$rc" 0 "promtool parses it"
else
    ok 0 "# SKIP no promtool"
fi
is "$(grep -c '^hookd_cluster_node_up{' "$T/metrics")" "$N" "one hookd_cluster_node_up per node of the view"
on b
api GET /hookd/v1/stats
is "$(cond "$(jqr '.cluster.nodes | length') <= 64")" 0 "b's view is bounded too"

# ---- a node started after the flood takes a silent one's place ----
sleep 4   # the made-up nodes are silent (CSTATS_SILENT_MS)
node_start c
wait_for 15 seen c
ok $? "c, started after the flood, is in a's view"
on c
api GET /api/v1/health
is "$STATUS" 200 "c serves"
on a
api GET /hookd/v1/stats
is "$(jqr '[.cluster.nodes[] | select(.reachable)] | length')" 3 "three reachable nodes: a, b, c"
kill -0 "$PID_a" && kill -0 "$PID_b" && kill -0 "$PID_c"
ok $? "all nodes alive"
[ "$_fail" = 0 ] || for n in a b c; do tail -n 20 "$T/$n.err" | sed "s/^/# $n: /" >&2; done
done_testing
