#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0425: an endpoint's concurrency slot is held for the HTTP exchange only.
# The cap still bounds requests in flight (a slow receiver at concurrency 1
# sees them one at a time), but a slot comes back when the transfer ends,
# not when its attempt is committed: with a 400 ms group-commit delay,
# eight deliveries to a fast receiver arrive back to back instead of one
# per commit (which would spread them over 2.8 s or more).
. "$(dirname "$0")/lib.sh"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --endpoint-concurrency 1 --commit-delay-us 400000

api POST /api/v1/app '{"name":"slots","uid":"slots"}'
api POST /api/v1/event-type '{"name":"fast","description":"to the fast endpoint"}'
api POST /api/v1/event-type '{"name":"slow","description":"to the slow endpoint"}'
api POST /api/v1/app/slots/endpoint "{\"url\":\"$RURL/fast/ok\",\"filterTypes\":[\"fast\"]}"
is "$STATUS" 201 "fast endpoint created"
api POST /api/v1/app/slots/endpoint "{\"url\":\"$RURL/slow/delay/300\",\"filterTypes\":[\"slow\"]}"
is "$STATUS" 201 "slow endpoint created"

# post N messages of TYPE at once, so they share one commit
burst() {
    i=0 pids=""
    while [ $i -lt "$1" ]; do
        curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" \
            -H 'Content-Type: application/json' \
            --data "{\"eventType\":\"$2\",\"payload\":{\"i\":$i}}" "$URL/api/v1/app/slots/msg" &
        pids="$pids $!"
        i=$((i + 1))
    done
    wait $pids   # not a bare wait: hookd and the receiver are children too
}

# spread FILTER: last arrival minus first, ms
spread() { jq -s "[.[]|select($1)|.t] | (max - min) | floor" "$RLOG"; }

burst 8 fast
wait_received '(.path|startswith("/fast/"))' 8 20
ok $? "eight deliveries reach the fast endpoint"
FAST=$(spread '(.path|startswith("/fast/"))')
ok "$(cond "$FAST < 1200")" "they arrive back to back, not one per commit ($FAST ms for 8)"

burst 4 slow
wait_received '(.path|startswith("/slow/"))' 4 20
ok $? "four deliveries reach the slow endpoint"
# arrivals are logged when a request's body is in, before the 300 ms delay
GAPS=$(jq -s '[.[]|select(.path|startswith("/slow/"))|.t] | sort | [range(1; length) as $i | .[$i] - .[$i - 1]] | min | floor' "$RLOG")
ok "$(cond "$GAPS >= 280")" "concurrency 1: each request starts after the previous answer (min gap $GAPS ms)"
done_testing
