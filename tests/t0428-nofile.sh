#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0428: file descriptors. serve raises its soft open-file limit to the
# hard one. Under a limit it cannot raise, deliveries to a slow receiver
# take sockets only below a ceiling: the descriptors above it stay free
# for client connections, so health and ingest answer at once while every
# delivery socket is taken. A delivery that finds no socket is put off
# without an attempt (the receiver saw nothing) and sent later, so every
# message still arrives exactly once and no failure is recorded. /metrics
# and /hookd/v1/stats show descriptors against the limit and the count of
# deliveries put off.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
# send APP N TYPE: N messages of TYPE over one connection; prints how many got 202.
send() {
    awk -v n="$2" -v u="$URL/api/v1/app/$1/msg" 'BEGIN { for (i = 0; i < n; i++) print "-o /dev/null " u }' \
        > "$T/urls.$3"
    # shellcheck disable=SC2046
    curl -s -w '%{http_code}\n' -X POST -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary "{\"eventType\":\"$3\",\"payload\":{}}" \
        $(cat "$T/urls.$3") | grep -c '^202$'
}

# ---- a soft limit below the hard one is raised ----
HARD=$(ulimit -H -n)
[ "$HARD" = unlimited ] && skip_all "no hard open-file limit to raise to"
[ "$HARD" -gt 128 ] || skip_all "hard open-file limit $HARD is too low for this test"
ulimit -S -n 128
HOOKD_LOG_ARGS="--log-level info" hookd_start
api GET /hookd/v1/stats
is "$(jqr .process.maxFds)" "$HARD" "the soft limit 128 is raised to the hard limit"
like "$(cat "$T/hookd.err")" "open-file limit raised\" limit=$HARD from=128" "and the log says so"
is "$(metric process_max_fds)" "$HARD" "process_max_fds shows it"
OPEN=$(metric process_open_fds)
is "$(cond "${OPEN:-0} > 5 && ${OPEN:-0} < 200")" 0 "process_open_fds counts this process's ($OPEN)"
RSS=$(metric process_resident_memory_bytes)
is "$(cond "${RSS:-0} > 1000000")" 0 "process_resident_memory_bytes ($RSS)"
START=$(metric process_start_time_seconds)
NOW=$(date +%s)
is "$(cond "${START:-0} > $NOW - 60 && ${START:-0} <= $NOW + 1")" 0 \
   "process_start_time_seconds is this start ($START, now $NOW)"
hookd_stop
is "$HOOKD_RC" 0 "the server stops cleanly"

# ---- a hard limit of 96: deliveries get what is under the ceiling ----
ulimit -n 96
: > "$T/hookd.err"
HOOKD_LOG_ARGS="--log-level info" hookd_start --allow-network 127.0.0.0/8 \
    --endpoint-concurrency 200 --max-connections 32 --workers 1
like "$(cat "$T/hookd.err")" 'open-file limit is low" limit=96' "a limit it cannot raise is named"
api GET /hookd/v1/stats
is "$(jqr .process.maxFds)" 96 "stats shows the limit"
api POST /api/v1/app '{"name":"fd","uid":"fd"}'
api POST /api/v1/app/fd/endpoint "{\"url\":\"$RURL/fd/delay/1500\"}"
is "$STATUS" 201 "an endpoint that holds each request 1.5 s"

N=120
is "$(send fd "$N" e)" "$N" "$N messages accepted over one connection"

# while every delivery socket is taken, new client connections still work
sleep 0.5
held=$(metric hookd_inflight)
is "$(cond "${held:-0} > 5 && ${held:-0} < $N")" 0 "some deliveries are in flight, not all ($held)"
T0=$(date +%s%3N)
api GET /api/v1/health
is "$STATUS" 200 "health answers on a new connection meanwhile"
api POST /api/v1/app/fd/msg '{"eventType":"e","payload":{"late":true}}'
is "$STATUS" 202 "and ingest does"
T1=$(date +%s%3N)
is "$(cond "$T1 - $T0 < 1000")" 0 "both at once ($((T1 - T0)) ms), not after the deliveries"
OPEN=$(metric process_open_fds)
is "$(cond "${OPEN:-0} <= 96")" 0 "open descriptors stay within the limit ($OPEN)"

all_in() { [ "$(received '(.path|startswith("/fd/"))')" -ge $((N + 1)) ]; }
wait_for 90 all_in
ok $? "every message reaches the receiver"
is "$(jq -r 'select(.path|startswith("/fd/"))|.id' "$RLOG" | sort | uniq -d | wc -l | tr -d ' ')" 0 \
   "each exactly once"
pp=$(metric 'hookd_deliveries_postponed_total{reason="no_socket"}')
is "$(cond "${pp:-0} > 0")" 0 "deliveries were put off for want of a socket ($pp)"
recorded() { api GET /hookd/v1/stats; [ "$(jqr .attemptsSucceeded)" -ge $((N + 1)) ]; }
wait_for 10 recorded
ok $? "every delivery records its success"
is "$(jqr .attemptsFailed)" 0 "and no failed attempt: the receiver was never at fault"
is "$(jqr .deliveriesPostponed.noSocket)" "$pp" "stats counts the same as /metrics"
lines=$(grep -c 'deliveries postponed' "$T/hookd.err")
is "$(cond "$lines >= 1 && $lines <= 60")" 0 "the log says so, a line a second at most ($lines)"
like "$(grep -m1 'deliveries postponed' "$T/hookd.err")" 'error="[Tt]oo many open files"' \
   "naming the cause"

# ---- sockets short: a slow receiver cannot keep a fast one waiting ----
api POST /api/v1/app '{"name":"fair","uid":"fair"}'
for t in hog fast; do api POST /api/v1/event-type "{\"name\":\"$t\",\"description\":\"$t\"}"; done
api POST /api/v1/app/fair/endpoint "{\"url\":\"$RURL/hog/delay/1000\",\"filterTypes\":[\"hog\"]}"
api POST /api/v1/app/fair/endpoint "{\"url\":\"$RURL/fast/ok\",\"filterTypes\":[\"fast\"]}"
arrived() { received "(.path|startswith(\"/$1/\"))"; }
pp0=$(metric 'hookd_deliveries_postponed_total{reason="no_socket"}')
is "$(send fair 150 hog)" 150 "150 messages for a receiver that holds each 1 s"
short() { [ "$(metric 'hookd_deliveries_postponed_total{reason="no_socket"}')" -gt "$pp0" ]; }
wait_for 10 short
ok $? "its deliveries take every socket there is"
T0=$(date +%s%3N)
is "$(send fair 10 fast)" 10 "then 10 for a receiver that answers at once"
all_fast() { [ "$(arrived fast)" -ge 10 ]; }
wait_for 30 all_fast
T1=$(date +%s%3N)
ok $? "the fast receiver gets all 10"
is "$(cond "$T1 - $T0 < 5000")" 0 "within a few seconds, not behind the slow backlog ($((T1 - T0)) ms)"
slow_left=$((150 - $(arrived hog)))
is "$(cond "$slow_left > 0")" 0 "while the slow receiver still waits for some of its own ($slow_left)"
all_hog() { [ "$(arrived hog)" -ge 150 ]; }
wait_for 60 all_hog
ok $? "and then it gets all 150"
api GET /hookd/v1/stats
is "$(jqr .attemptsFailed)" 0 "still no failed attempt"
hookd_stop
is "$HOOKD_RC" 0 "the server stops cleanly"
done_testing
