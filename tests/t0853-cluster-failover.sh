#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Automatic failover of the one partition group (--cluster-role auto) on
# three real nats-server processes (tests/cluster.sh): two hookd nodes
# start, exactly one takes the lease group.0 and owns the log (writes,
# deliveries), the other follows it. The owner is killed with -9 under
# steady ingest (a client that retries 503s with the same idempotency key
# on whichever node answers): the other node owns within 15 s, delivers
# again, every 202'd message reaches the receiver at least once, and only
# what was in flight then is delivered twice. The killed node, restarted,
# follows and catches up. A SIGTERM'd owner releases the lease, so the
# other takes over within about 2 s. A write sent to a standby is forwarded
# to the owner (cfwd.h). Both stores compare equal at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

cluster_up
receiver_start
TOKEN=hk_t0853adminTokenForBothNodes
export HOOKD_ADMIN_TOKEN=$TOKEN

NODE_LOG_LEVEL=info   # a failure prints the nodes' logs, role changes included
now() { date +%s.%N; }

node_start a auto
node_start b
wait_for 20 one_owner
ok $? "exactly one of the two nodes owns the log, the other is a standby ($(role_of a)/$(role_of b))"
if is_owner a; then OWNER=a OTHER=b; else OWNER=b OTHER=a; fi
on "$OTHER"
api GET /hookd/v1/stats
is "$(jqr '"\(.deliveryHold) \(.cluster.lease.holder)"')" "true $OWNER" \
   "the standby holds its deliveries and names the lease's holder"
api POST /api/v1/app '{"name":"other"}'
is "$STATUS" 201 "a write to the standby is forwarded to the owner (cfwd.h)"

# ---- a workload through the owner ----
on "$OWNER"
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
is "$STATUS" 201 "app created on the owner"
api POST /api/v1/event-type '{"name":"order.paid","description":"paid"}'
is "$STATUS" 201 "event type created"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/good/ok\",\"uid\":\"good\"}"
is "$STATUS" 201 "endpoint created"
okc=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"w\":$i}}" \
        -H "idempotency-key: w$i"
    [ "$STATUS" = 202 ] && okc=$((okc + 1))
done
is "$okc" 10 "10 messages accepted by the owner"
wait_received '.path == "/good/ok"' 10 20
is "$(received '.path == "/good/ok"')" 10 "the owner delivered them"

# ingest FILE COUNT PREFIX: POST messages one by one to whichever node takes
# them, retrying 503s and refused connections with the same idempotency key
# (bounded: 100 tries a message); "ID EPOCHSECS" per 202 in FILE.
ingest() {
    : > "$1"
    _j=1
    while [ $_j -le "$2" ]; do
        _tries=0
        while [ $_tries -lt 100 ]; do
            for _n in a b; do
                eval "_u=\$URL_$_n"
                _st=$(curl -s -o "$1.body" -w '%{http_code}' --max-time 5 -X POST \
                    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
                    -H "idempotency-key: $3$_j" \
                    --data-binary "{\"eventType\":\"order.paid\",\"payload\":{\"k\":\"$3$_j\"}}" \
                    "$_u/api/v1/app/shop/msg")
                [ "$_st" = 202 ] && break 2
            done
            _tries=$((_tries + 1))
            sleep 0.2
        done
        [ "$_st" = 202 ] && echo "$(jq -r .id "$1.body") $(now)" >> "$1"
        _j=$((_j + 1))
    done
}

# ---- the owner killed with -9 under steady ingest ----
N=150
ingest "$T/ids" $N k &
LOOP=$!
wait_for 30 sh -c "[ \$(wc -l < '$T/ids') -ge 40 ]"
KILLED_AT=$(now)
node_stop "$OWNER" KILL
diag "killed the owner ($OWNER) with -9 after $(wc -l < "$T/ids") messages"
wait_for 30 is_owner "$OTHER"
TOOK=$(awk -v a="$KILLED_AT" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
diag "takeover after kill -9: $TOOK s (lease TTL 10 s)"
is "$(cond "$TOOK <= 15")" 0 "the standby ($OTHER) owns the log within 15 s of the owner's death"
wait $LOOP
is "$(wc -l < "$T/ids" | tr -d ' ')" $N "all $N messages were accepted in the end (503s retried)"
GAP=$(awk -v k="$KILLED_AT" 'prev && $2 > k && $2 - prev > max { max = $2 - prev }
                             { prev = $2 } END { printf "%.2f", max }' "$T/ids")
diag "the longest pause in ingest after the kill: $GAP s"
# every 202'd id reaches the receiver at least once
all_delivered() {
    jq -r 'select(.path == "/good/ok") | .id' "$RLOG" | sort -u > "$T/got"
    cut -d' ' -f1 "$T/ids" | sort -u > "$T/want"
    [ -z "$(comm -23 "$T/want" "$T/got")" ]
}
wait_for 30 all_delivered
ok $? "every 202'd message was delivered at least once"
comm -23 "$T/want" "$T/got" | head -5 | sed 's/^/# never delivered: /' >&2
AFTER=$(awk -v k="$KILLED_AT" '$2 > k + 0.5 { print $1 }' "$T/ids" | wc -l | tr -d ' ')
is "$(cond "$AFTER > 0")" 0 "the new owner accepted messages after the kill ($AFTER)"
DUPS=$(jq -r 'select(.path == "/good/ok") | .id' "$RLOG" | sort | uniq -d | wc -l | tr -d ' ')
diag "messages delivered twice: $DUPS (at-least-once: those in flight at the kill)"
is "$(cond "$DUPS <= 5")" 0 "duplicates no more than what was in flight ($DUPS)"

# ---- the killed node restarted: a standby that catches up ----
node_start "$OWNER"
sleep 1
is "$(role_of "$OWNER")" standby "the restarted node is a standby"
wait_for 30 at_log_end "$OWNER"
ok $? "it caught up with the log ($(log_last))"

# ---- SIGTERM of the owner: the lease is released, the other owns at once ----
TERM_AT=$(now)
node_stop "$OTHER"
is "$NODE_RC" 0 "the owner stops cleanly on SIGTERM"
wait_for 10 is_owner "$OWNER"
TOOK2=$(awk -v a="$TERM_AT" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
diag "takeover after SIGTERM: $TOOK2 s"
is "$(cond "$TOOK2 <= 3")" 0 "the standby owns within about 2 s of the owner's clean stop"
on "$OWNER"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"after":"term"}}'
is "$STATUS" 202 "the new owner takes writes"
LASTID=$(jqr .id)
wait_received ".id == \"$LASTID\"" 1 15
is "$(received ".id == \"$LASTID\"")" 1 "and delivers them"
node_start "$OTHER"
sleep 1
is "$(role_of "$OTHER")" standby "the stopped node, restarted, is a standby"
wait_for 30 at_log_end "$OTHER"
ok $? "it caught up with the log"

# ---- the owner frozen (SIGSTOP) past the TTL: the other owns; thawed, it fences itself ----
eval "_pid=\$PID_$OWNER"
STOP_AT=$(now)
kill -STOP "$_pid"
wait_for 20 is_owner "$OTHER"
ok $? "with the owner ($OWNER) frozen, $OTHER owns the log"
diag "takeover from a frozen owner: $(awk -v a="$STOP_AT" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }') s"
on "$OTHER"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"while":"frozen"}}'
is "$STATUS" 202 "and takes writes"
FROZENID=$(jqr .id)
kill -CONT "$_pid"
fenced() {
    on "$OWNER"
    api GET /hookd/v1/stats
    [ "$(jqr '"\(.cluster.role) \(.deliveryHold)"')" = "standby true" ]
}
wait_for 5 fenced
ok $? "the thawed ex-owner fenced itself: a standby, its deliveries held"
# its writes are the new owner's: forwarded (503 while it learns who owns)
thawed_write() {
    api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"thawed":1}}' \
        -H "idempotency-key: thawed"
    [ "$STATUS" = 202 ]
}
wait_for 15 thawed_write
ok $? "and its writes go to the new owner ($STATUS)"
THAWEDID=$(jqr .id)
wait_for 15 at_log_end "$OWNER"
ok $? "it follows the log again"
on "$OWNER"
api GET "/api/v1/app/shop/msg/$FROZENID"
is "$STATUS" 200 "and holds the message written while it was frozen"
wait_received ".id == \"$FROZENID\"" 1 15
is "$(received ".id == \"$FROZENID\"")" 1 "which the new owner delivered, once"
wait_received ".id == \"$THAWEDID\"" 1 15
is "$(received ".id == \"$THAWEDID\"")" 1 "as it delivered the one written through the ex-owner"
_t=$OWNER OWNER=$OTHER OTHER=$_t   # the new owner

# ---- both stopped cleanly: equal stores ----
# the standby first, once at the log's end: a standby that took over from
# a stopped owner would publish its epoch marker, which the first lacks
sleep 1
wait_for 15 at_log_end "$OTHER"
node_stop "$OTHER"
is "$NODE_RC" 0 "the standby stops cleanly"
node_stop "$OWNER"
is "$NODE_RC" 0 "the owner stops cleanly"
stores_equal a b "hookd check --compare: the two stores are equal"
[ "$_fail" = 0 ] || for n in a b; do grep -v 'msg=request' "$T/$n.err" | head -n 20 | sed "s/^/# $n: /" >&2; done

done_testing
