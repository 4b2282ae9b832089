#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The replicated log of one partition group, with static roles, on three
# real nats-server processes (tests/cluster.sh): an owner publishes every
# write before applying it and delivers; a standby applies the owner's log
# and refuses writes. After a workload of apps, endpoints and messages that
# succeed, fail and are retried, the standby's store equals the owner's
# record for record (hookd check --compare). Then one NATS server (the
# log's leader) is killed with -9 during ingest: ingest goes on within
# about 10 s and every 202'd message is in both stores. Then the owner is
# killed with -9 during ingest: the standby holds every message the owner
# answered 202 for; restarted as the owner, it takes writes after the log's
# last entry, and the old owner, restarted as a standby, catches up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

cluster_up
receiver_start
TOKEN=hk_t0851adminTokenForBothNodes
export HOOKD_ADMIN_TOKEN=$TOKEN

# caught_up: the standby applied everything the owner did.
caught_up() { [ "$(seq_of standby)" = "$(seq_of owner)" ]; }

node_start owner owner
node_start standby standby
on owner
api GET /hookd/v1/stats
is "$(jqr '"\(.cluster.role) \(.cluster.nodeId)"')" "owner owner" "stats: the owner says its role and node id"
on standby
api GET /hookd/v1/stats
is "$(jqr '"\(.cluster.role) \(.cluster.nodeId) \(.deliveryHold)"')" "standby standby true" \
   "stats: the standby says its role, and its deliveries are held"

# ---- a workload through the owner ----
on owner
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
is "$STATUS" 201 "app created on the owner"
api POST /api/v1/event-type '{"name":"order.paid","description":"paid"}'
is "$STATUS" 201 "event type created"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/good/ok\",\"uid\":\"good\"}"
is "$STATUS" 201 "endpoint that answers 200"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/flaky/flaky/1\",\"uid\":\"flaky\"}"
is "$STATUS" 201 "endpoint that fails once per message, then answers 200"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/bad/status/500\",\"uid\":\"bad\"}"
is "$STATUS" 201 "endpoint that always fails"
N=20
okc=0
i=1
while [ $i -le $N ]; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"n\":$i}}" \
        -H "idempotency-key: w$i"
    if [ "$STATUS" = 202 ]; then okc=$((okc + 1)); else diag "message $i: $STATUS $BODY"; fi
    i=$((i + 1))
done
is "$okc" "$N" "$N messages accepted by the owner (202)"
api PATCH /api/v1/app/shop '{"metadata":{"tier":"gold"}}'
is "$STATUS" 200 "app patched"
# 3 attempts to bad (1s,1s), 2 to flaky, 1 to good per message
wait_received '.path | startswith("/bad/")' $((3 * N)) 30
is "$(received '.path | startswith("/bad/")')" $((3 * N)) "the failing endpoint got 3 attempts per message"
is "$(received '.path | startswith("/flaky/")')" $((2 * N)) "the flaky endpoint got 2 attempts per message"
is "$(received '.path | startswith("/good/")')" "$N" "the good endpoint got each message once"
wait_for 20 sh -c "curl -s -H 'Authorization: Bearer $TOKEN' $URL_owner/api/v1/app/shop/msg?limit=1 >/dev/null" || true
# settled: the last outcome committed (lazy by up to 15 ms), then replicated
sleep 1
wait_for 20 caught_up
ok $? "the standby's cluster.seq caught up with the owner's ($(seq_of owner))"
like "$(seq_of owner)" '^[1-9][0-9]*$' "the owner's cluster.seq counts its log entries"

on standby
api POST /api/v1/app '{"name":"nope"}'
is "$STATUS" 503 "a write to the standby answers 503"
is "$(jqr '"\(.code) \(.owner)"')" "not_owner owner" "not_owner, naming the owner"
AUTH=none api POST /api/v1/app '{"name":"nope"}'
is "$STATUS:$(jqr 'has("owner")')" "401:false" "without a token: 401, and the owner is not named"
api GET /api/v1/app/shop
is "$STATUS:$(jqr .metadata.tier)" "200:gold" "the standby serves reads from its store"
api GET "/api/v1/app/shop/msg?limit=100"
is "$(jqr '.data | length')" "$N" "the standby lists every message"
is "$(received '.id != null')" $((6 * N)) "nothing was delivered by the standby"

node_stop owner
is "$NODE_RC" 0 "the owner stops cleanly (exit 0)"
wait_for 10 at_log_end standby   # what the owner wrote as it stopped
node_stop standby
is "$NODE_RC" 0 "the standby stops cleanly (exit 0)"
stores_equal owner standby "hookd check --compare: the standby's store equals the owner's"

# ---- one NATS server killed with -9 during ingest ----
node_start owner owner
node_start standby standby
# ingest_loop FILE COUNT PREFIX: POST messages one by one (retrying 503 with
# the same idempotency key); "ID EPOCHSECS" per 202 in FILE.
ingest_loop() {
    _j=1
    : > "$1"
    while [ $_j -le "$2" ]; do
        _tries=0
        while [ $_tries -lt 60 ]; do
            _st=$(curl -s -o "$1.body" -w '%{http_code}' --max-time 10 -X POST \
                -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
                -H "idempotency-key: $3$_j" \
                --data-binary "{\"eventType\":\"order.paid\",\"payload\":{\"k\":\"$3$_j\"}}" \
                "$URL_owner/api/v1/app/shop/msg")
            if [ "$_st" = 202 ]; then
                echo "$(jq -r .id "$1.body") $(date +%s.%N)" >> "$1"
                break
            fi
            [ "$_st" = 000 ] && return 0   # the owner is gone
            _tries=$((_tries + 1))
            sleep 0.5
        done
        _j=$((_j + 1))
    done
}
LEADER=$("$HOOKD" cluster status --cluster "$NATS_URLS" 2>/dev/null | sed -n 's/^  hookd_log_0 .*leader n\([123]\).*/\1/p')
[ -n "$LEADER" ] || LEADER=1
ingest_loop "$T/ids2" 150 nk &
LOOP=$!
wait_for 20 sh -c "[ \$(wc -l < '$T/ids2') -ge 40 ]"
KILLED_AT=$(date +%s.%N)
nats_kill "$LEADER"
diag "killed nats-server n$LEADER (the log's leader) after $(wc -l < "$T/ids2") messages"
wait $LOOP
is "$(wc -l < "$T/ids2" | tr -d ' ')" 150 "all 150 messages were accepted in the end (503s retried)"
# the longest wait between two 202s, from the last one before the kill on
GAP=$(awk -v k="$KILLED_AT" 'prev && $2 > k && $2 - prev > max { max = $2 - prev }
                             { prev = $2 } END { printf "%.2f", max }' "$T/ids2")
diag "the longest pause in ingest after the kill: $GAP s"
is "$(cond "$GAP <= 12")" 0 "ingest went on within about 10 s of the leader's death"
missing=0
for id in $(cut -d' ' -f1 "$T/ids2"); do
    on owner
    api GET "/api/v1/app/shop/msg/$id"
    [ "$STATUS" = 200 ] || { missing=$((missing + 1)); diag "owner lacks $id ($STATUS)"; }
done
is "$missing" 0 "every 202'd message is in the owner's store"
wait_for 45 caught_up
ok $? "the standby caught up with the owner"
missing=0
for id in $(cut -d' ' -f1 "$T/ids2"); do
    on standby
    api GET "/api/v1/app/shop/msg/$id"
    [ "$STATUS" = 200 ] || { missing=$((missing + 1)); diag "standby lacks $id ($STATUS)"; }
done
is "$missing" 0 "every 202'd message is in the standby's store"
nats_restart "$LEADER"

# ---- the owner killed with -9 during ingest ----
ingest_loop "$T/ids3" 400 ok &
LOOP=$!
wait_for 20 sh -c "[ \$(wc -l < '$T/ids3') -ge 40 ]"
node_stop owner KILL
wait $LOOP
N3=$(wc -l < "$T/ids3" | tr -d ' ')
diag "the owner answered 202 for $N3 messages before it died"
wait_for 30 at_log_end standby
ok $? "the standby applied the log to its end ($(log_last))"
missing=0
on standby
for id in $(cut -d' ' -f1 "$T/ids3"); do
    api GET "/api/v1/app/shop/msg/$id"
    [ "$STATUS" = 200 ] || { missing=$((missing + 1)); diag "standby lacks $id ($STATUS)"; }
done
is "$missing" 0 "the standby holds all $N3 messages the dead owner acknowledged"

# ---- promotion by hand: the standby restarted as the owner, the old owner as a standby ----
node_stop standby
AT=$(log_last)
node_start standby owner
node_start owner standby
on standby
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"after":"promotion"}}'
is "$STATUS" 202 "the promoted node takes writes"
NEWID=$(jqr .id)
like "$(seq_of standby)" "^[0-9]+$" "the promoted node's log sequence is readable"
is "$(cond "$(seq_of standby) > $AT")" 0 "its write went to the log after the old owner's last entry"
on owner
api POST /api/v1/app '{"name":"nope"}'
is "$STATUS:$(jqr .owner)" "503:standby" "the old owner, now a standby, refuses writes and names the new owner"
wait_for 45 caught_up
ok $? "the old owner's store caught up with the promoted node's log"
api GET "/api/v1/app/shop/msg/$NEWID"
is "$STATUS" 200 "and holds the message written after the promotion"
node_stop standby
wait_for 10 at_log_end owner
node_stop owner
stores_equal standby owner "hookd check --compare: after the promotion both stores are equal again"
# a failure is read with the nodes' own accounts of it
[ "$_fail" = 0 ] || for n in owner standby; do grep -v 'msg=request' "$T/$n.err" | grep -v "outcome not recorded" | head -n 12 | sed "s/^/# $n: /" >&2; done

done_testing
