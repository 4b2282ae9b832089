#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Cluster-wide stats (src/cstats.c) on three real nats-server processes
# (tests/cluster.sh) and three hookd nodes of --cluster-role auto: GET
# /hookd/v1/stats on every node lists all three under cluster.nodes, each
# with its role, the partition group it owns or follows, its applied
# sequence equal to the log's last, lag 0, its listen address, and
# reachable; the totals add what adds up, and /metrics has the per-node
# gauges. A standby frozen with SIGSTOP shows as unreachable on the others
# within a few seconds, its lag growing as the owner takes writes; thawed,
# it answers again and its lag returns to 0. hookd cluster status lists
# the nodes that answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

cluster_up
TOKEN=hk_t0856adminTokenForAllNodes
export HOOKD_ADMIN_TOKEN=$TOKEN
NODE_LOG_LEVEL=info

node_start a
node_start b
node_start c
# owners: how many of a, b and c say owner
owners() { _o=0; for _x in a b c; do is_owner $_x && _o=$((_o + 1)); done; echo $_o; }
one_of_three() { [ "$(owners)" = 1 ] && [ -n "$(role_of a)" ] && [ -n "$(role_of b)" ] && [ -n "$(role_of c)" ]; }
wait_for 20 one_of_three
ok $? "exactly one of the three nodes owns the log"
for _x in a b c; do is_owner $_x && OWNER=$_x; done
STANDBYS=$(for _x in a b c; do [ $_x != "$OWNER" ] && echo $_x; done | tr '\n' ' ')
set -- $STANDBYS
S1=$1 S2=$2
diag "owner $OWNER, standbys $S1 and $S2"

# ---- a little traffic through the owner ----
on "$OWNER"
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
is "$STATUS" 201 "app created on the owner"
api POST /api/v1/event-type '{"name":"order.paid","description":"paid"}'
okc=0
for i in 1 2 3 4 5; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"i\":$i}}"
    [ "$STATUS" = 202 ] && okc=$((okc + 1))
done
is "$okc" 5 "5 messages accepted by the owner"

# view NODE JQ: JQ of GET /hookd/v1/stats on NODE.
view() { on "$1"; api GET /hookd/v1/stats; jqr "$2"; }
# settled NODE: NODE's view lists a, b and c reachable, each at the log's end, lag 0.
settled() {
    _l=$(log_last)
    [ -n "$_l" ] || return 1
    [ "$(view "$1" "[.cluster.nodes[] | select(.reachable and .seq == $_l and .lag.entries == 0
                                               and .logSeq == $_l) | .nodeId] | sort | join(\",\")")" = "a,b,c" ]
}
wait_for 20 settled a && wait_for 10 settled b && wait_for 10 settled c
ok $? "every node's view lists a, b and c, reachable, each applied to the log's end ($(log_last)), lag 0"

LAST=$(log_last)
diag "a gather took $(view a .cluster.gather.ms) ms on a, answered by $(view a .cluster.gather.answers) nodes"
for _x in a b c; do
    on $_x
    api GET /hookd/v1/stats
    is "$(jqr '[.cluster.nodes[] | "\(.nodeId):\(.role):\(.owns | join("+")):\(.follows | join("+"))"] | sort | join(" ")')" \
       "$(for _m in a b c; do if [ $_m = "$OWNER" ]; then echo "$_m:owner:group.0:"; else echo "$_m:standby::group.0"; fi; done | tr '\n' ' ' | sed 's/ $//')" \
       "$_x: each node's role and the group it owns or follows"
    is "$(jqr '"\(.cluster.nodes[0].nodeId) \(.cluster.nodes[0].self) \([.cluster.nodes[] | select(.self)] | length)"')" \
       "$_x true 1" "$_x: the node itself comes first, the only one marked self"
    eval "_u=\$URL_$_x"
    is "$(jqr ".cluster.nodes[] | select(.nodeId == \"$_x\") | \"http://\(.listen) \(.version)\"")" \
       "$_u $(jqr .version)" "$_x: its listen address and version"
    is "$(jqr '[.cluster.nodes[] | .answered and (.lastSeen | type == "string")] | all')" true \
       "$_x: every node answered the last gather and has a lastSeen"
    is "$(jqr '"\(.cluster.totals.nodes) \(.cluster.totals.reachable) \(.cluster.totals.owners) \(.cluster.totals.lagEntriesMax)"')" \
       "3 3 1 0" "$_x: totals: 3 nodes, 3 reachable, 1 owner, no lag"
    is "$(jqr '.cluster.totals.messagesIngested')" 5 "$_x: the totals add the nodes' ingest (5, all on the owner)"
    is "$(jqr '"\(.cluster.logSeq) \(.cluster.lag.entries)"')" "$LAST 0" "$_x: the log's last sequence as it read it, its own lag 0"
done

# ---- /metrics: per-node gauges ----
on "$S1"
is "$(metric "hookd_cluster_lag_entries{node=\"$OWNER\"}") $(metric "hookd_cluster_lag_entries{node=\"$S2\"}")" \
   "0 0" "metrics: hookd_cluster_lag_entries per node"
is "$(metric "hookd_cluster_node_owner{node=\"$OWNER\"}") $(metric "hookd_cluster_node_owner{node=\"$S2\"}")" \
   "1 0" "metrics: hookd_cluster_node_owner marks the owner"
is "$(metric 'hookd_cluster_role') $(metric 'hookd_cluster_nodes{state="reachable"}')" "0 3" \
   "metrics: this node's role (0 standby) and 3 nodes reachable"
is "$(metric "hookd_cluster_applied_seq{node=\"$S2\"}")" "$LAST" "metrics: each node's applied sequence"
if command -v promtool >/dev/null 2>&1; then
    api GET /metrics
    _err=$(printf '%s\n' "$BODY" | promtool check metrics 2>&1)
    is "$?:$_err" "0:" "promtool accepts a cluster node's metrics"
else
    ok 0 "# SKIP no promtool (sh packaging/deps.sh --test unpacks it)"
fi

# ---- a standby frozen: unreachable, lagging; thawed: back ----
eval "_pid=\$PID_$S1"
STOP_AT=$(date +%s.%N)
kill -STOP "$_pid"
unreachable_on() { [ "$(view "$1" ".cluster.nodes[] | select(.nodeId == \"$S1\") | \"\(.reachable) \(.answered)\"")" = "false false" ]; }
wait_for 8 unreachable_on "$OWNER"
ok $? "with $S1 frozen, the owner's view shows it unreachable"
diag "unreachable after $(awk -v a="$STOP_AT" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
wait_for 3 unreachable_on "$S2"
ok $? "and so does the other standby's"
is "$(view "$OWNER" '"\(.cluster.totals.nodes) \(.cluster.totals.reachable)"')" "3 2" \
   "the frozen node is still listed (3 nodes, 2 reachable)"
on "$OWNER"
for i in 1 2 3 4 5 6 7 8; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"frozen\":$i}}"
done
LAST2=$(log_last)
lagging() {
    [ "$(view "$OWNER" ".cluster.nodes[] | select(.nodeId == \"$S1\") | .lag.entries")" = "$((LAST2 - LAST))" ]
}
wait_for 5 lagging
ok $? "the frozen node's lag grows with the log ($((LAST2 - LAST)) entries)"
sleep 1
is "$(view "$OWNER" ".cluster.nodes[] | select(.nodeId == \"$S1\") | .lag.seconds > 0")" true \
   "and its lag in seconds is above 0"
is "$(view "$OWNER" ".cluster.nodes[] | select(.nodeId == \"$S2\") | \"\(.reachable) \(.lag.entries)\"")" "true 0" \
   "the other standby keeps up (lag 0)"
is "$(view "$OWNER" '.cluster.totals.lagEntriesMax')" 0 "the totals' lag counts only the nodes that answer"
is "$(metric "hookd_cluster_node_up{node=\"$S1\"}") $(metric "hookd_cluster_lag_entries{node=\"$S1\"}")" \
   "0 $((LAST2 - LAST))" "metrics: the frozen node down, its lag"

kill -CONT "$_pid"
CONT_AT=$(date +%s.%N)
back() { [ "$(view "$OWNER" ".cluster.nodes[] | select(.nodeId == \"$S1\") | \"\(.reachable) \(.lag.entries) \(.seq)\"")" = "true 0 $LAST2" ]; }
wait_for 10 back
ok $? "thawed, $S1 answers again and its lag returns to 0"
diag "back with lag 0 after $(awk -v a="$CONT_AT" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
diag "a node's summary: $(view "$OWNER" ".cluster.nodes[] | select(.nodeId == \"$S1\") | del(.self, .reachable, .answered, .lastSeen, .silentMs, .lag)" | jq -c . | wc -c) bytes"
# its own view is its last gather's: one may have ended just before it caught up
own_view() {
    [ "$(view "$S1" '"\(.cluster.nodes[0].nodeId) \(.cluster.nodes[0].role) \(.cluster.lag.entries)"')" = "$S1 standby 0" ]
}
wait_for 3 own_view
ok $? "and its own view agrees (within a gather)"

# ---- hookd cluster status: the nodes that answer ----
OUT=$("$HOOKD" cluster status --cluster "$NATS_URLS" 2>&1)
like "$OUT" "nodes: 3 answered" "cluster status: three nodes answered"
like "$OUT" "$OWNER +owner +group\.0" "cluster status: the owner with its group"
like "$OUT" "$S1 +standby" "cluster status: a standby"

RCS=""
for _x in a b c; do node_stop $_x; RCS="$RCS$NODE_RC"; done
is "$RCS" 000 "the three nodes stop cleanly"
done_testing
