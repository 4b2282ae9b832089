#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/crash/campaign.sh - the crash campaign (DESIGN.md, promises 1 and 2).
#
#   CRASH_CYCLES=20 sh tests/crash/campaign.sh     (make crash; t0740 runs 3)
#
# One data directory, CRASH_CYCLES cycles of: start hookd, check the log
# it recovered, put mixed ingest load on it (PRODUCERS producers, each a
# few keep-alive connections, three event types, payloads of 0 to 2 KiB)
# while it delivers to four endpoints - one always answering 200, one
# failing the first attempt of every message (/flaky/1), one slow (200 ms,
# type a only) and one always 503 (type b only) - and kill -9 it at a
# random moment 0.5 to 3 s in. Every 202 the producers got is written down
# (message id, eventId, type) as it arrives.
#
# After each restart: time from exec to health 200 and to the first
# delivery, `hookd check` read-only beside the running server, and every
# message acknowledged in the cycle before is there (GET by id). At the
# end, one more restart, up to DRAIN_S seconds for the backlog to drain
# (nothing pending or scheduled, nothing in flight), then: every
# acknowledged message is in the log; every one reached each matching
# endpoint with a 200 at least once (the 503 endpoint: was attempted and
# ended failed, since nothing is left scheduled); hookd stops cleanly and
# `hookd check` is clean. Duplicates ((endpoint, id) answered 200 more than
# once) are counted: at-least-once allows them for attempts in flight at a
# kill, so each one's first send must fall shortly before a kill (2 s
# before to 0.5 s after: the receiver logs what was sent before the kill a
# moment later). Output is TAP; the figures go to stderr. CRASH_SEED
# repeats a run's kill delays; CRASH_KEEP=DIR keeps its files in DIR.
TOP0=$(cd "$(dirname "$0")/../.." && pwd)
HOOKD=${HOOKD:-$TOP0/hookd}
RECEIVER=${RECEIVER:-$TOP0/build/tests/helpers/receiver}
PRODUCER=${PRODUCER:-$TOP0/build/tests/helpers/producer}
. "$TOP0/tests/lib.sh"

CYCLES=${CRASH_CYCLES:-20}
PRODUCERS=${CRASH_PRODUCERS:-4}
DRAIN_S=${CRASH_DRAIN_S:-30}
INFLIGHT_MS=2000    # a first send this long before a kill counts as in flight at it,
SETTLE_MS=500       # and so does one the receiver logs this long after (sent before)
SEED=${CRASH_SEED:-$(date +%N | sed 's/^0*//')}
[ -x "$PRODUCER" ] || bail "no producer '$PRODUCER' (make build/tests/helpers/producer)"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER'"

now_ms() { date +%s%3N; }
# rnd I: the kill delay of cycle I, 0.5 to 3 s, from SEED (reproducible)
rnd() { awk -v s="$SEED" -v i="$1" 'BEGIN { srand(s + i); printf "%.2f", 0.5 + 2.5 * rand() }'; }
health() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/health")" = 200 ]; }
stat_of() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/hookd/v1/stats" | jq -r "$1"; }

RLOG=$T/received.jsonl
receiver_start --quiet-log
START="--allow-network 127.0.0.0/8 --retry-schedule 1s,2s"

# start_timed CYCLE: hookd_start polling every 10 ms, so that the time
# from exec to health 200 lands in $T/rec_health to about 10 ms
start_timed() {
    DATA=$T/data
    rm -f "$DATA/listen"
    T0=$(now_ms)
    # shellcheck disable=SC2086
    "$HOOKD" serve --listen 127.0.0.1:0 --data "$DATA" --log-level warn $START \
        > "$T/hookd.out" 2>> "$T/hookd.err" &
    HOOKD_PID=$!
    HOOKD_PIDS="$HOOKD_PIDS $HOOKD_PID"
    n=0
    until [ -s "$DATA/listen" ] && URL="http://$(cat "$DATA/listen")" && health; do
        n=$((n + 1))
        [ $n -gt 1000 ] && { cat "$T/hookd.err" >&2; bail "cycle $1: no health 200 in 10 s"; }
        sleep 0.01
    done
    echo "$1 $(( $(now_ms) - T0 ))" >> "$T/rec_health"
    TOKEN=$(cat "$DATA/admin.token")
}
# first_delivery CYCLE: ms from the cycle's start to its first delivery
first_delivery() {
    d=$(awk -F'[:,]' -v t="$T0" '$2 >= t { print $2; exit }' "$RLOG")
    [ -n "$d" ] && awk -v d="$d" -v t="$T0" -v c="$1" 'BEGIN { printf "%s %d\n", c, d - t }' \
        >> "$T/rec_deliver"
}
# present FILE NAME: every message id in FILE (first word) answers 200
present() {
    : > "$T/get.out"
    [ -s "$1" ] && "$PRODUCER" --url "$URL" --token "$TOKEN" --app crash --get "$1" \
        --connections 8 > "$T/get.out"
    bad=$(grep -vc '^200 ' "$T/get.out")
    is "$bad" 0 "$2: all $(wc -l < "$1" | tr -d ' ') acknowledged messages are in the log"
    echo "$bad" >> "$T/lost"
}

diag "crash campaign: $CYCLES cycles, $PRODUCERS producers, seed $SEED"
: > "$T/acked"
: > "$T/lost"
: > "$T/kills"
for cyc in $(seq 1 "$CYCLES"); do
    start_timed "$cyc"
    if [ "$cyc" = 1 ]; then
        api POST /api/v1/app '{"name":"crash","uid":"crash"}'
        for et in a b c; do api POST /api/v1/event-type "{\"name\":\"$et\",\"description\":\"$et\"}"; done
        api POST /api/v1/app/crash/endpoint "{\"url\":\"$RURL/ok/ok\"}"
        api POST /api/v1/app/crash/endpoint "{\"url\":\"$RURL/flaky/flaky/1\"}"
        api POST /api/v1/app/crash/endpoint "{\"url\":\"$RURL/slow/delay/200\",\"filterTypes\":[\"a\"]}"
        api POST /api/v1/app/crash/endpoint "{\"url\":\"$RURL/dead/status/503\",\"filterTypes\":[\"b\"]}"
        is "$STATUS" 201 "four endpoints set up"
    else
        "$HOOKD" check --data "$DATA" > "$T/check.out" 2>&1
        rc=$?
        [ $rc = 0 ] || sed 's/^/#   /' "$T/check.out" >&2
        is "$rc" 0 "cycle $cyc: hookd check is clean beside the restarted server"
        present "$T/acked.prev" "cycle $cyc"
    fi
    delay=$(rnd "$cyc")
    PIDS=""
    for p in $(seq 1 "$PRODUCERS"); do
        "$PRODUCER" --url "$URL" --token "$TOKEN" --app crash --count 20000 --connections 4 \
            --seconds 10 --prefix "c$cyc-p$p" --types a,b,c --size 2048 > "$T/prod.$cyc.$p" &
        PIDS="$PIDS $!"
    done
    sleep "$delay"
    now_ms >> "$T/kills"
    kill -9 "$HOOKD_PID"
    wait "$HOOKD_PID" 2>/dev/null
    for p in $PIDS; do wait "$p"; done
    first_delivery "$cyc"
    cat "$T"/prod."$cyc".* | awk '$1 == 202 { print $2, $3, $4 }' > "$T/acked.prev"
    cat "$T/acked.prev" >> "$T/acked"
    other=$(cat "$T"/prod."$cyc".* | awk '$1 != 202 && $1 != "000"' | wc -l | tr -d ' ')
    n=$(wc -l < "$T/acked.prev" | tr -d ' ')
    diag "cycle $cyc: kill -9 after ${delay}s, $n acknowledged, $other other answers," \
         "health after $(tail -n 1 "$T/rec_health" | cut -d' ' -f2) ms"
    is "$other" 0 "cycle $cyc: every answer was 202 (or none: the kill)"
done

# ---- the end: restart, drain, verify everything ----
start_timed end
"$HOOKD" check --data "$DATA" > "$T/check.out" 2>&1
is "$?" 0 "final restart: hookd check is clean beside the server"
present "$T/acked.prev" "last cycle"

# expected "endpoint id" pairs: ok and flaky get every type, slow only a
awk '{ print "ok", $1; print "flaky", $1; if ($3 == "a") print "slow", $1 }' "$T/acked" \
    | sort -u > "$T/expected"
awk '$3 == "b" { print "dead", $1 }' "$T/acked" | sort -u > "$T/expected_dead"
got() {
    jq -r "select($1) | (.path | split(\"/\")[1]) + \" \" + .id" "$RLOG" | sort -u
}
drained() {
    [ "$(stat_of '(.deliveriesPending + .deliveriesScheduled + .inflight)')" = 0 ] || return 1
    got '.status == 200' > "$T/received"
    [ -z "$(comm -23 "$T/expected" "$T/received" | head -n 1)" ]
}
t_drain=$(now_ms)
wait_for "$DRAIN_S" drained
ok $? "the backlog drained within ${DRAIN_S}s ($(( $(now_ms) - t_drain )) ms)"
first_delivery end
got '.status == 200' > "$T/received"
UNDELIVERED=$(comm -23 "$T/expected" "$T/received" | wc -l | tr -d ' ')
is "$UNDELIVERED" 0 "every acknowledged message reached every matching endpoint with a 200"
comm -23 "$T/expected" "$T/received" | head -n 5 | sed 's/^/#   missing: /' >&2
got '.path | startswith("/dead/")' > "$T/received_dead"
is "$(comm -23 "$T/expected_dead" "$T/received_dead" | wc -l | tr -d ' ')" 0 \
    "the always-503 endpoint was attempted for every type-b message"
is "$(stat_of '(.deliveriesPending + .deliveriesScheduled)')" 0 \
    "no delivery left pending or scheduled (the 503 ones ended failed)"
NDEAD=$(wc -l < "$T/expected_dead" | tr -d ' ')
ok "$(cond "$(stat_of .deliveriesFailed) >= $NDEAD")" "at least $NDEAD deliveries ended failed"
awk '{ print $1 }' "$T/acked" > "$T/acked.ids"
present "$T/acked.ids" "all cycles"
hookd_stop TERM
is "$HOOKD_RC" 0 "hookd stops cleanly"
"$HOOKD" check --data "$DATA" > "$T/check.out" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/#   /' "$T/check.out" >&2
is "$rc" 0 "hookd check is clean after the clean stop"

# ---- the figures ----
ACKED=$(wc -l < "$T/acked" | tr -d ' ')
LOST=$(awk '{ s += $1 } END { print s + 0 }' "$T/lost")
# each duplicate with its first 200: explained when that came shortly before a kill
jq -r 'select(.status == 200) | (.path | split("/")[1]) + " " + .id + " " + (.t | tostring)' \
    "$RLOG" | sort -k1,2 -k3n | awk '{ k = $1 " " $2; if (!n[k]++) first[k] = $3 }
        END { for (k in n) if (n[k] > 1) print k, first[k] }' > "$T/dups"
DUPS=$(wc -l < "$T/dups" | tr -d ' ')
UNEXPLAINED=$(awk -v w="$INFLIGHT_MS" -v s="$SETTLE_MS" 'NR == FNR { kill[NR] = $1; nk = NR; next }
        { for (i = 1; i <= nk; i++) if ($3 <= kill[i] + s && $3 >= kill[i] - w) next; print }' \
    "$T/kills" "$T/dups" | tee "$T/dups.unexplained" | wc -l | tr -d ' ')
ATTEMPTS=$(wc -l < "$RLOG" | tr -d ' ')
mmm() { awk '{ s += $2; if (NR == 1 || $2 < lo) lo = $2; if ($2 > hi) hi = $2 }
             END { if (NR) printf "min %d avg %d max %d ms (%d)", lo, s / NR, hi, NR; else print "none" }' "$1"; }
diag "==== crash campaign: $CYCLES cycles (seed $SEED) ===="
diag "acknowledged:          $ACKED"
diag "lost:                  $LOST"
diag "undelivered:           $UNDELIVERED"
diag "duplicated deliveries: $DUPS (of $ATTEMPTS requests the receiver saw);" \
     "$UNEXPLAINED not in flight at a kill"
diag "restart to health 200: $(mmm "$T/rec_health")"
diag "restart to 1st delivery: $(mmm "$T/rec_deliver")"
is "$LOST" 0 "lost: 0 of $ACKED acknowledged"
is "$UNEXPLAINED" 0 "every duplicate was first sent at most ${INFLIGHT_MS} ms before a kill"
head -n 5 "$T/dups.unexplained" | sed 's/^/#   duplicate: /' >&2
[ -n "${CRASH_KEEP:-}" ] && cp -r "$T" "$CRASH_KEEP"
done_testing
