#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A clean handoff is invisible to clients of the surviving node (cfwd.h):
# two --cluster-role auto nodes on three real nats-servers, a client
# posting messages with idempotency keys through the standby only, 10 a
# second, each in its own connection. The owner stopped with SIGTERM:
# every request gets 202 (the standby parks what no node ran and tries
# again until a node owns), each message delivered exactly once. The
# stopped node restarted and the new owner stopped, the client now on
# the restarted node (a rolling restart): again no 503. The owner killed
# with -9: each request is answered within the forwarding deadline (7 s)
# and a second, what is not a 2xx is a 503 with Retry-After, and every
# message answered 202 is delivered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

cluster_up
receiver_start
TOKEN=hk_t0863adminTokenForBothNodes
export HOOKD_ADMIN_TOKEN=$TOKEN
NODE_LOG_LEVEL=info

pair_up
diag "owner $OWNER, standby $OTHER"

on "$OWNER"
api POST /api/v1/app '{"name":"Shop","uid":"shop"}'
is "$STATUS" 201 "an application"
api POST /api/v1/event-type '{"name":"order.paid","description":"paid"}'
is "$STATUS" 201 "an event type"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/t0863/ok\",\"uid\":\"ok\"}"
is "$STATUS" 201 "an endpoint on the loopback receiver"
# one slow delivery in flight holds the owner's stop (and its lease) 1.5 s
api POST /api/v1/event-type '{"name":"order.slow","description":"slow"}'
api POST /api/v1/app/shop/endpoint \
    "{\"url\":\"$RURL/t0863/slow/delay/1500\",\"uid\":\"slow\",\"filterTypes\":[\"order.slow\"]}"
is "$STATUS" 201 "a slow endpoint for one event type"

# burst NODE PHASE COUNT: COUNT messages through node NODE, 10 a second, each
# in a curl of its own (idempotency key PHASE-i), in the background (BURST);
# each answer's status and time in $T/PHASE/i.st, its headers and body beside.
burst() {
    eval "_u=\$URL_$1"
    mkdir -p "$T/$2"
    (
        _i=1
        while [ $_i -le "$3" ]; do
            curl -s -o "$T/$2/$_i.body" -D "$T/$2/$_i.hdr" -w '%{http_code} %{time_total}\n' \
                --max-time 20 -X POST -H "Authorization: Bearer $TOKEN" \
                -H 'Content-Type: application/json' -H "idempotency-key: $2-$_i" \
                --data "{\"eventType\":\"order.paid\",\"payload\":{\"k\":\"$2-$_i\"}}" \
                "$_u/api/v1/app/shop/msg" > "$T/$2/$_i.st" 2>/dev/null &
            sleep 0.1
            _i=$((_i + 1))
        done
        wait
    ) &
    BURST=$!
    HOOKD_PIDS="$HOOKD_PIDS $BURST"
}

# tally PHASE COUNT: N202, N503, NOTHER (any other status, or none), NORA
# (503s without Retry-After), MAXT (the longest answer, s); the ids answered
# 202 in $T/PHASE.ids.
tally() {
    N202=0 N503=0 NOTHER=0 NORA=0 MAXT=0
    : > "$T/$1.ids"
    _i=1
    while [ $_i -le "$2" ]; do
        read -r _st _tt < "$T/$1/$_i.st" || { _st=none _tt=0; }
        MAXT=$(awk -v a="$MAXT" -v b="$_tt" 'BEGIN { print (b > a ? b : a) }')
        case $_st in
        202) N202=$((N202 + 1)); jq -r .id "$T/$1/$_i.body" >> "$T/$1.ids" ;;
        503) N503=$((N503 + 1))
             grep -qi '^retry-after: [0-9]' "$T/$1/$_i.hdr" || NORA=$((NORA + 1)) ;;
        *) NOTHER=$((NOTHER + 1)); diag "$1-$_i answered $_st: $(cat "$T/$1/$_i.body" 2>/dev/null)" ;;
        esac
        _i=$((_i + 1))
    done
    diag "$1: $N202 answered 202, $N503 answered 503, the longest answer $MAXT s"
}

# delivered PHASE MIN: how many of PHASE's ids reached the receiver at least
# MIN times and (MIN 1 exactly) no more.
delivered() {
    jq -r 'select(.path == "/t0863/ok") | .id' "$RLOG" | sort | uniq -c > "$T/counts"
    awk -v once="$2" 'NR == FNR { c[$2] = $1; next }
        (once == "exactly" && c[$1] == 1) || (once == "atleast" && c[$1] >= 1) { n++ }
        END { print n + 0 }' "$T/counts" "$T/$1.ids"
}
# all_delivered PHASE: every id of PHASE reached the receiver.
all_delivered() { [ "$(delivered "$1" atleast)" = "$(wc -l < "$T/$1.ids" | tr -d ' ')" ]; }

# retried NODE: the node's cluster.forward.retried.
retried() { on "$1"; api GET /hookd/v1/stats; jqr .cluster.forward.retried; }

# caught_up NODE: a standby that applied the log to its end.
caught_up() { [ "$(role_of "$1")" = standby ] && at_log_end "$1"; }

# ---- 1. the owner stopped (SIGTERM): the standby's clients see nothing ----
R0=$(retried "$OTHER")
burst "$OTHER" p1 60
sleep 1
on "$OWNER"
api POST /api/v1/app/shop/msg '{"eventType":"order.slow","payload":{}}'
wait_received '.path == "/t0863/slow/delay/1500"' 1 5
t0=$(date +%s.%N)
node_stop "$OWNER"
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
is "$NODE_RC" 0 "the owner stopped cleanly"
is "$(cond "$took >= 1")" 0 "after its delivery in flight ($took s): the handoff took that long"
wait "$BURST"
tally p1 60
is "$N202" 60 "all 60 messages through the standby answered 202 across the handoff"
is "$N503" 0 "no 503 ($N503)"
is "$(cond "$MAXT < 7")" 0 "each answered before the deadline (the longest $MAXT s)"
is_owner "$OTHER"
ok $? "the standby owns the log now"
R1=$(retried "$OTHER")
is "$(cond "$R1 > $R0")" 0 "it retried what no node ran meanwhile (retried $R0 -> $R1)"
wait_for 20 all_delivered p1
is "$(delivered p1 exactly)" 60 "each of the 60 delivered exactly once"

# ---- 2. a rolling restart: the stopped node back, the new owner stopped ----
node_start "$OWNER"
wait_for 30 caught_up "$OWNER"
ok $? "the restarted node follows the log to its end"
burst "$OWNER" p2 60
sleep 1.5
node_stop "$OTHER"
is "$NODE_RC" 0 "the second owner stopped cleanly"
wait "$BURST"
tally p2 60
is "$N202" 60 "all 60 messages through the restarted node answered 202 across the second handoff"
is "$N503" 0 "no 503 ($N503)"
is "$(cond "$MAXT < 7")" 0 "each answered before the deadline (the longest $MAXT s)"
is_owner "$OWNER"
ok $? "the restarted node owns the log now"
wait_for 20 all_delivered p2
is "$(delivered p2 exactly)" 60 "each of the 60 delivered exactly once"

# ---- 3. the owner killed (-9): a bounded wait, 503 with Retry-After, no loss ----
node_start "$OTHER"
wait_for 30 caught_up "$OTHER"
ok $? "the second node back, following the log to its end"
burst "$OTHER" p3 120
sleep 1.5
node_stop "$OWNER" KILL
wait "$BURST"
tally p3 120
is "$NOTHER" 0 "every request through the standby answered 202 or 503"
is "$NORA" 0 "every 503 with Retry-After"
is "$(cond "$MAXT < 8")" 0 "each answered within the deadline and a second (the longest $MAXT s)"
# the lease's TTL (10 s) outlasts the deadline: the first requests after the kill time out
is "$(cond "$N503 > 0 && $N202 > 0")" 0 "some answered 503 before the takeover, others 202 ($N503/$N202)"
wait_for 30 all_delivered p3
ok $? "every message answered 202 delivered ($(delivered p3 atleast) of $N202)"

[ "$_fail" = 0 ] || for n in a b; do grep -v 'msg=request' "$T/$n.err" | tail -n 20 | sed "s/^/# $n: /" >&2; done
done_testing
