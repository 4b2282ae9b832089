#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/crash/cluster-campaign.sh - the cluster crash campaign
# (operations.md 8, "What it survives"), not part of make test:
#
#   CLUSTER_CYCLES=20 sh tests/crash/cluster-campaign.sh    (make cluster-crash)
#
# Three local nats-servers (tests/cluster.sh), `hookd cluster init`, two
# hookd nodes with --cluster-role auto (the lease picks the owner) and a
# loopback receiver behind one endpoint. A producer posts messages one by
# one, each with its own idempotency key, to whichever node answers 202
# (a 503 or a refused connection: the other node, then again after 0.2 s,
# at most TRIES rounds a message), writing down every id answered 202 with
# its time. Meanwhile CLUSTER_CYCLES kill cycles alternate:
#
#   odd:  kill -9 the hookd owner, wait (up to 30 s) until the other node
#         owns (the takeover time), restart the killed node as a standby;
#   even: kill -9 one NATS server (the leader of the log's stream, or 1,
#         2, 3 in turn when none is known), restart it after
#         NATS_DOWN_S, wait until it knows a meta leader again;
#
# with PAUSE_S seconds between cycles. At the end the producer stops, every
# acknowledged id must reach the receiver (up to DRAIN_S), every one must
# be stored on the final owner (GET by id), both nodes stop cleanly and
# `hookd check --compare` finds their stores equal. Figures: acknowledged,
# lost, undelivered, duplicates (each counted once: in flight at a hookd
# kill when first delivered 2 s before to 0.5 s after one, else near a NATS
# kill when 2 s before to 15 s after one, else neither), the takeover time of each
# hookd kill and the ingest pause (the longest gap between two 202s whose
# later one comes within 30 s after the kill) of each NATS kill. Output is
# TAP, figures on stderr; exit 1 on any loss, undelivered message or store
# difference. Every wait is bounded; all traffic is on loopback.
TOP0=$(cd "$(dirname "$0")/../.." && pwd)
HOOKD=${HOOKD:-$TOP0/hookd}
RECEIVER=${RECEIVER:-$TOP0/build/tests/helpers/receiver}
PRODUCER=${PRODUCER:-$TOP0/build/tests/helpers/producer}
. "$TOP0/tests/lib.sh"
PATH=$TOP0/build/tools/bin:$PATH   # nats-server unpacked by deps.sh --test
. "$TOP0/tests/cluster.sh"

CYCLES=${CLUSTER_CYCLES:-20}
PAUSE_S=${CLUSTER_PAUSE_S:-3}
NATS_DOWN_S=${CLUSTER_NATS_DOWN_S:-5}
DRAIN_S=${CLUSTER_DRAIN_S:-60}
MAX_MSGS=${CLUSTER_MAX_MSGS:-200000}   # the producer's bound besides the stop
TRIES=150                              # rounds a message before it is given up
# a try's limit: short, so that a node waiting on a NATS election or a takeover
# (a forwarded request waits up to 7 s) does not hide that the other answers
TRY_S=${CLUSTER_TRY_S:-2}
INFLIGHT_MS=2000
SETTLE_MS=500
[ -x "$PRODUCER" ] || bail "no producer '$PRODUCER' (make build/tests/helpers/producer)"

now_ms() { date +%s%3N; }
TOKEN=hk_clusterCampaignAdminToken
export HOOKD_ADMIN_TOKEN=$TOKEN

cluster_up
RLOG=$T/received.jsonl
receiver_start --quiet-log

# node_start, node_stop, on, role_of, one_owner, seq_of, log_last, at_log_end: tests/cluster.sh
owner_name() { if is_owner a; then echo a; elif is_owner b; then echo b; fi; }
log_leader() { log_stream .cluster.leader; }

node_start a
node_start b
wait_for 30 one_owner || bail "no single owner of the two nodes in 30 s ($(role_of a)/$(role_of b))"
on "$(owner_name)"
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/event-type '{"name":"order.paid","description":"paid"}'
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/ok/ok\",\"uid\":\"ok\"}"
is "$STATUS" 201 "app, event type and endpoint set up on the owner"

# produce: until $T/stop exists (or MAX_MSGS), post message k$j with the
# idempotency key k$j to either node; "ID MS KEY" per 202 in $T/acked,
# "KEY CODE BODY" per message given up in $T/gaveup, every other answer's
# code in $T/answers (000: no HTTP answer).
produce() {
    : > "$T/acked"
    : > "$T/gaveup"
    _j=1 _order="a b"
    while [ ! -e "$T/stop" ] && [ $_j -le "$MAX_MSGS" ]; do
        _tries=0 _st=""
        while [ $_tries -lt $TRIES ]; do
            for _n in $_order; do
                # each round: a restarted node listens on a new port
                _u=http://$(cat "$T/$_n/listen" 2>/dev/null)
                _st=$(curl -s -o "$T/prod.body" -w '%{http_code}' --max-time "$TRY_S" -X POST \
                    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
                    -H "idempotency-key: k$_j" \
                    --data-binary "{\"eventType\":\"order.paid\",\"payload\":{\"k\":\"k$_j\"}}" \
                    "$_u/api/v1/app/shop/msg")
                [ "$_st" = 202 ] && break 2
                echo "$_st" >> "$T/answers"
            done
            _tries=$((_tries + 1))
            sleep 0.2
        done
        if [ "$_st" = 202 ]; then
            [ "$_n" = a ] && _order="a b" || _order="b a"   # the last to take one first
            echo "$(jq -r .id "$T/prod.body") $(now_ms) k$_j" >> "$T/acked"
        else
            echo "k$_j $_st $(head -c 200 "$T/prod.body")" >> "$T/gaveup"
        fi
        _j=$((_j + 1))
    done
}

diag "cluster crash campaign: $CYCLES cycles, ${PAUSE_S}s pause, NATS down ${NATS_DOWN_S}s"
: > "$T/hkills"         # ms of every hookd kill
: > "$T/nkills"         # ms of every NATS kill
: > "$T/takeover"       # cycle ms, per hookd kill
: > "$T/natskills"      # cycle ms, per NATS kill
: > "$T/moved"          # cycle, per NATS kill after which the other node owned
produce &
PROD=$!
HOOKD_PIDS="$HOOKD_PIDS $PROD"
wait_for 30 sh -c "[ \$(wc -l < '$T/acked') -ge 20 ]" || bail "no ingest in 30 s"
for cyc in $(seq 1 "$CYCLES"); do
    if [ $((cyc % 2)) = 1 ]; then
        wait_for 30 one_owner
        ok $? "cycle $cyc: one owner, one standby before the kill ($(role_of a)/$(role_of b))"
        OWNER=$(owner_name)
        [ -n "$OWNER" ] || { diag "cycle $cyc: no owner to kill"; continue; }
        if [ "$OWNER" = a ]; then OTHER=b; else OTHER=a; fi
        K=$(now_ms)
        echo "$K" >> "$T/hkills"
        node_stop "$OWNER" KILL
        wait_for 30 is_owner "$OTHER"
        rc=$?
        took=$(( $(now_ms) - K ))
        ok $rc "cycle $cyc: kill -9 of owner $OWNER, $OTHER owns after $took ms"
        [ $rc = 0 ] && echo "$cyc $took" >> "$T/takeover"
        node_start "$OWNER"
    else
        leader=$(log_leader)
        before=$(owner_name)
        case $leader in n[123]) i=${leader#n} ;; *) i=$(( (cyc / 2 - 1) % 3 + 1 )) ;; esac
        K=$(now_ms)
        echo "$K" >> "$T/nkills"
        echo "$cyc $K" >> "$T/natskills"
        nats_kill "$i" KILL
        sleep "$NATS_DOWN_S"
        nats_restart "$i"
        nats_wait_ready 30
        ok $? "cycle $cyc: kill -9 of NATS n$i (the log's leader: ${leader:-unknown}), back with a meta leader"
        wait_for 30 one_owner
        after=$(owner_name)
        diag "cycle $cyc: owner before the NATS kill ${before:-none}, after ${after:-none}"
        [ -n "$before" ] && [ "$before" != "$after" ] && echo "$cyc" >> "$T/moved"
    fi
    sleep "$PAUSE_S"
done

# ---- the end: stop producing, drain, check, stop, compare ----
touch "$T/stop"
_i=0
while kill -0 "$PROD" 2>/dev/null && [ $_i -lt 600 ]; do _i=$((_i + 1)); sleep 0.1; done
kill "$PROD" 2>/dev/null
wait "$PROD" 2>/dev/null
ACKED=$(wc -l < "$T/acked" | tr -d ' ')
head -n 3 "$T/gaveup" | sed 's/^/#   given up: /' >&2
GAVEUP=$(wc -l < "$T/gaveup" | tr -d ' ')
cut -d' ' -f1 "$T/acked" | sort -u > "$T/want"
all_delivered() {
    jq -r 'select(.path == "/ok/ok" and .status == 200) | .id' "$RLOG" | sort -u > "$T/got"
    [ -z "$(comm -23 "$T/want" "$T/got" | head -n 1)" ]
}
t_drain=$(now_ms)
wait_for "$DRAIN_S" all_delivered
ok $? "every acknowledged message delivered within ${DRAIN_S}s ($(( $(now_ms) - t_drain )) ms)"
UNDELIVERED=$(comm -23 "$T/want" "$T/got" | wc -l | tr -d ' ')
comm -23 "$T/want" "$T/got" | head -n 5 | sed 's/^/#   undelivered: /' >&2

wait_for 30 one_owner
ok $? "at the end: one owner, one standby ($(role_of a)/$(role_of b))"
OWNER=$(owner_name)
[ -n "$OWNER" ] || OWNER=a
if [ "$OWNER" = a ]; then OTHER=b; else OTHER=a; fi
on "$OWNER"
"$PRODUCER" --url "$URL" --token "$TOKEN" --app shop --get "$T/want" --connections 4 > "$T/get.out"
LOST=$(grep -vc '^200 ' "$T/get.out")
grep -v '^200 ' "$T/get.out" | head -n 5 | sed 's/^/#   not stored: /' >&2
is "$LOST" 0 "every acknowledged message is stored on the final owner ($OWNER)"

wait_for 30 at_log_end "$OTHER"
ok $? "the standby ($OTHER) is at the log's end"
# the standby first: taking over from a stopped owner, it would publish its
# epoch marker, which the owner's store would lack
node_stop "$OTHER"
is "$NODE_RC" 0 "the standby ($OTHER) stops cleanly"
node_stop "$OWNER"
is "$NODE_RC" 0 "the owner ($OWNER) stops cleanly"
"$HOOKD" check --compare "$T/a" "$T/b" > "$T/compare.out" 2>&1
CMP=$?
[ $CMP = 0 ] || head -n 30 "$T/compare.out" | sed 's/^/#   /' >&2
is "$CMP" 0 "hookd check --compare: the two stores are equal"

# ---- the figures ----
jq -r 'select(.path == "/ok/ok" and .status == 200) | .id + " " + (.t | tostring)' "$RLOG" \
    | sort -k1,1 -k2n | awk '{ if (!n[$1]++) first[$1] = $2 }
        END { for (k in n) if (n[k] > 1) print k, first[k] }' > "$T/dups"
DUPS=$(wc -l < "$T/dups" | tr -d ' ')
# each duplicate once: in flight at a hookd kill (first sent 2 s before to
# 0.5 s after it), else near a NATS kill (2 s before to 15 s after: the owner
# may fence itself up to a TTL later, and what it had in flight is sent
# again by the next owner), else neither
awk -v w="$INFLIGHT_MS" -v s="$SETTLE_MS" 'FILENAME ~ /hkills$/ { hk[++nh] = $1; next }
        FILENAME ~ /nkills$/ { nk[++nn] = $1; next }
        { c = "other"
          for (i = 1; i <= nh; i++) if ($2 >= hk[i] - w && $2 <= hk[i] + s) c = "hookd"
          if (c == "other") for (i = 1; i <= nn; i++) if ($2 >= nk[i] - w && $2 <= nk[i] + 15000) c = "nats"
          print c }' "$T/hkills" "$T/nkills" "$T/dups" > "$T/dups.class"
INFLIGHT=$(grep -c '^hookd$' "$T/dups.class")
NEARNATS=$(grep -c '^nats$' "$T/dups.class")
OTHERDUP=$(grep -c '^other$' "$T/dups.class")
# the ingest pause of each NATS kill: the longest gap between two 202s
# whose later one comes within 30 s after it
sort -k2n "$T/acked" | awk 'NR == FNR { k[NR] = $2; c[NR] = $1; nk = NR; next }
        { for (i = 1; i <= nk; i++) if (prev && $2 > k[i] && $2 <= k[i] + 30000 && $2 - prev > g[i])
              g[i] = $2 - prev
          prev = $2 }
        END { for (i = 1; i <= nk; i++) print c[i], g[i] + 0 }' "$T/natskills" - > "$T/pause"
mmm() { awk '{ s += $2; if (NR == 1 || $2 < lo) lo = $2; if ($2 > hi) hi = $2 }
             END { if (NR) printf "min %d avg %d max %d ms (%d)", lo, s / NR, hi, NR; else print "none" }' "$1"; }
diag "==== cluster crash campaign: $CYCLES cycles ===="
diag "acknowledged:          $ACKED (given up after $TRIES rounds: $GAVEUP)"
diag "other answers:         $(sort "$T/answers" 2>/dev/null | uniq -c | awk '{ printf "%s x%s ", $2, $1 }')"
diag "lost:                  $LOST"
diag "undelivered:           $UNDELIVERED"
diag "duplicates:            $DUPS ($INFLIGHT in flight at a hookd kill, $NEARNATS near a NATS kill," \
     "$OTHERDUP neither)"
diag "takeover (hookd kill): $(mmm "$T/takeover")"
diag "  per cycle:           $(awk '{ printf "%s:%d ", $1, $2 }' "$T/takeover")"
diag "ingest pause (NATS):   $(mmm "$T/pause")"
diag "  per cycle:           $(awk '{ printf "%s:%d ", $1, $2 }' "$T/pause")"
diag "owner changed:         after $(wc -l < "$T/moved" | tr -d ' ') of $(wc -l < "$T/natskills" | tr -d ' ') NATS kills"
diag "compare:               $(tail -n 1 "$T/compare.out")"
is "$UNDELIVERED" 0 "undelivered: 0 of $ACKED acknowledged"
[ -n "${CLUSTER_KEEP:-}" ] && cp -r "$T" "$CLUSTER_KEEP"
done_testing
