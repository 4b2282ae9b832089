#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Partition groups spread over nodes (cnode.c, part.h): a cluster of four
# groups on three real nats-servers and three --cluster-role auto nodes.
# Group g goes to the (g mod n)-th live node by id, so a, b and c own
# group.0 and group.3, group.1, group.2. Apps made and messages posted
# through any node land in their group and are delivered, signed, by the
# group's owner; every node lists every app. The owner of group.2 killed
# with -9: the two others own all four groups (group.2 after its lease
# expired, group.3 handed from a to b) and deliver what is posted then;
# restarted, it gets group.2 back. Every message answered 202 arrives, and
# each group's store is the same on the nodes that hold it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

cluster_up --streams 4
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
receiver_start --secret "$SECRET"
TOKEN=hk_t0864adminTokenForEveryNode
export HOOKD_ADMIN_TOKEN=$TOKEN
NODE_LOG_LEVEL=info

node_start a
node_start b
node_start c

# owners NODE: "group.0=X group.1=Y ..." as node NODE sees the reachable nodes.
owners() {
    on "$1"
    api GET /hookd/v1/stats
    jqr '[.cluster.nodes[] | select(.reachable) | .nodeId as $n | .owns[] | "\(.)=\($n)"]
         | sort | join(" ")'
}
spread_is() { [ "$(owners "$1")" = "$2" ]; }

ALL3="group.0=a group.1=b group.2=c group.3=a"
wait_for 40 spread_is a "$ALL3"
ok $? "the four groups spread over the three nodes by id ($(owners a))"
wait_for 10 spread_is c "$ALL3"
ok $? "and node c sees the same owners ($(owners c))"
on b
api GET /hookd/v1/stats
is "$(jqr '[.cluster.groups[].key] | join(" ")')" "group.0 group.1 group.2 group.3" \
    "every node holds every group (stats cluster.groups)"

# event types are group 0's; an endpoint of any group filters by them
on c
api POST /api/v1/event-type '{"name":"order.paid","description":"paid"}'
is "$STATUS" 201 "an event type (group 0's) through c"
N=9
i=1
while [ $i -le $N ]; do
    case $((i % 3)) in 0) on a ;; 1) on b ;; 2) on c ;; esac
    api POST /api/v1/app "{\"name\":\"Shop $i\",\"uid\":\"shop-$i\"}"
    [ "$STATUS" = 201 ] || diag "app shop-$i: $STATUS $BODY"
    api POST "/api/v1/app/shop-$i/endpoint" \
        "{\"url\":\"$RURL/t0864/shop-$i\",\"uid\":\"ep\",\"secret\":\"$SECRET\",\"filterTypes\":[\"order.paid\"]}"
    [ "$STATUS" = 201 ] || diag "endpoint of shop-$i: $STATUS $BODY"
    i=$((i + 1))
done
# an unknown type refused before the write, whichever group the app is in
bad=0
i=1
while [ $i -le $N ]; do
    api POST "/api/v1/app/shop-$i/endpoint" "{\"url\":\"$RURL/x\",\"filterTypes\":[\"no.such\"]}"
    [ "$STATUS:$(jqr '.detail[0].msg // empty')" = "422:event type 'no.such' does not exist" ] \
        || { bad=$((bad + 1)); diag "shop-$i: $STATUS $BODY"; }
    i=$((i + 1))
done
is "$bad" 0 "an endpoint filtering by an unknown event type: 422 in every group"
for n in a b c; do
    on $n
    api GET '/api/v1/app?limit=250'
    is "$(jqr '[.data[].uid] | sort | length')" "$N" "node $n lists all $N apps of the four groups"
done

# an app without uid or idempotency key: in a group of the node asked, which runs it
for n in b c; do
    on $n
    api POST /api/v1/app "{\"name\":\"Loose $n\"}"
    id=$(jqr .id)
    where=$("$HOOKD" cluster where --cluster "$NATS_URLS" --app "$id")
    like "$where" "owner $n\$" "an app made through $n without uid lands in a group $n owns ($where)"
done
where=$("$HOOKD" cluster where --cluster "$NATS_URLS" --app shop-1)
g=$(printf '%s' "$where" | sed -n 's/.* group \([0-9]\) .*/\1/p')
like "$where" "owner $(printf '%s' "$ALL3" | tr ' ' '\n' | sed -n "s/^group\.$g=//p")\$" \
    "cluster where names the owner of shop-1's group ($where)"
OUT=$("$HOOKD" cluster status --cluster "$NATS_URLS" 2>&1)
like "$OUT" "a +owner +group\.0,group\.3 " "cluster status lists every group a node owns"

# post PHASE NODE...: one message to every app, through the NODEs in turn; the ids
# answered 202 in $T/PHASE.ids, the count of other answers in BAD.
post() {
    _ph=$1
    shift
    : > "$T/$_ph.ids"
    BAD=0
    _i=1
    while [ $_i -le $N ]; do
        eval "on \${$(( (_i - 1) % $# + 1 ))}"
        api POST "/api/v1/app/shop-$_i/msg" \
            "{\"eventType\":\"order.paid\",\"payload\":{\"phase\":\"$_ph\",\"i\":$_i}}" \
            -H "idempotency-key: $_ph-$_i"
        if [ "$STATUS" = 202 ]; then jqr .id >> "$T/$_ph.ids"; else
            BAD=$((BAD + 1)); diag "$_ph shop-$_i: $STATUS $BODY"; fi
        _i=$((_i + 1))
    done
}
# arrived PHASE: every id of PHASE arrived, signed with the endpoint's secret.
arrived() {
    while read -r _id; do
        [ "$(received ".id == \"$_id\" and .verified == true")" -ge 1 ] || return 1
    done < "$T/$1.ids"
}

post one a b c
is "$BAD" 0 "a message to each app through any node: all 202"
wait_for 20 arrived one
ok $? "each arrived at its endpoint, signed ($(wc -l < "$T/one.ids") ids)"
# each owner delivered its own groups' messages (its own counter, read until all three show one)
delivered_some() { on "$1"; api GET /hookd/v1/stats; [ "$(jqr '.attemptsSucceeded // 0')" -gt 0 ]; }
senders=0
for n in a b c; do wait_for 10 delivered_some $n && senders=$((senders + 1)); done
is "$senders" 3 "all three nodes delivered some of them (each owns a group)"

node_stop c KILL
ALL2="group.0=a group.1=b group.2=a group.3=b"
wait_for 40 spread_is a "$ALL2"
ok $? "after kill -9 of c: a and b own the four groups ($(owners a))"
post two a b
is "$BAD" 0 "a message to each app through a and b: all 202"
wait_for 20 arrived two
ok $? "each arrived"

node_start c
wait_for 40 spread_is b "$ALL3"
ok $? "c restarted gets group.2 back ($(owners b))"
post three a b c
is "$BAD" 0 "a message to each app through all three again: all 202"
wait_for 20 arrived three
ok $? "each arrived"

# idle, a node spends next to no CPU (a forwarding timer once spun on a cond of the wrong clock)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sleep 2
c0=$(ticks "$PID_a")
sleep 5
used=$(( $(ticks "$PID_a") - c0 ))
ok "$(cond "$used < 100")" "an idle node of four groups used $used of $(( 5 * $(getconf CLK_TCK) )) ticks in 5 s"

# stopped cleanly, every group's store is the same on every node
for n in a b c; do node_stop $n; done
stores_equal a b "group 0: the stores of a and b are equal"
stores_equal a/group.1 b/group.1 "group 1: equal on a and b"
stores_equal b/group.2 c/group.2 "group 2: equal on b and c"
stores_equal a/group.3 c/group.3 "group 3: equal on a and c"
done_testing
