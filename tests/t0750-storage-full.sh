#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0750: a full store (issue 6). With a 2 MiB map, ingest fills the store
# until it answers 507 {"code":"insufficient_storage"} and logs it; the
# server stays up, every acknowledged message is still there, deliveries of
# stored messages go on (their outcomes fit in the reserve that ingest may
# not take, store.h), management writes stop short of that reserve too
# (507), health answers 503 while the store is full, and ingest resumes
# (a) after a restart with a larger --map-size and (b) without a restart,
# once retention frees space. (c) A disk that takes no more writes (a
# file-size limit on the server, so every commit that grows the log
# fails): health answers 503 saying writes fail, deliveries whose outcome
# cannot be written back off rather than loop, counted and logged at most
# once a second, and health recovers once the disk takes writes again.
. "$(dirname "$0")/lib.sh"
PRODUCER=${PRODUCER:-$TOP/build/tests/helpers/producer}
[ -x "$PRODUCER" ] || bail "no producer '$PRODUCER' (make build/tests/helpers/producer)"
receiver_start --quiet-log

health() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/health")" = 200 ]; }
stat_of() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/hookd/v1/stats" | jq -r "$1"; }
# fill PREFIX SIZE: 4 producers until 507s come back; answers in $T/fill.PREFIX,
# and in FULL_AT (Unix ms) when the first 507 was seen, within about 50 ms:
# the producers go on for a while after it, and under load long enough for
# the deliveries of everything stored to be over before they stop
fill() {
    PIDS=""
    for p in 1 2 3 4; do
        "$PRODUCER" --url "$URL" --token "$TOKEN" --app full --count 400 --connections 2 \
            --seconds 20 --size "$2" --prefix "$1-$p" > "$T/fill.$1.$p" &
        PIDS="$PIDS $!"
    done
    FULL_AT=""
    while [ -z "$FULL_AT" ]; do
        if grep -qs '^507 ' "$T"/fill."$1".*; then
            FULL_AT=$(date +%s%3N)
        else
            alive=0
            for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
            [ "$alive" = 1 ] || FULL_AT=$(date +%s%3N)
            sleep 0.05
        fi
    done
    for p in $PIDS; do wait "$p"; done
    cat "$T"/fill."$1".* > "$T/fill.$1"
    awk '$1 == 202 { print $2 }' "$T/fill.$1" > "$T/acked.$1"
}
post() {
    STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary "$1" "$URL/api/v1/app/full/msg")
    BODY=$(cat "$T/body")
}

# ---- 1. fill a 2 MiB store ----
MAP="--map-size 2MiB --allow-network 127.0.0.0/8 --retry-schedule 1s --endpoint-concurrency 4"
# shellcheck disable=SC2086
hookd_start $MAP
api POST /api/v1/app '{"name":"full","uid":"full"}'
api POST /api/v1/app/full/endpoint "{\"url\":\"$RURL/slow/delay/100\"}"
api POST /api/v1/app/full/endpoint "{\"url\":\"$RURL/dead/status/503\"}"
is "$STATUS" 201 "an app with a slow and a failing endpoint"
fill a 12000
N=$(wc -l < "$T/acked.a" | tr -d ' ')
ok "$(cond "$N > 20")" "messages were acknowledged before the store filled ($N)"
is "$(awk '$1 != 202 && $1 != 507' "$T/fill.a" | wc -l | tr -d ' ')" 0 \
    "every answer is 202 or 507: no 500, no dropped connection"
ok "$(cond "$(grep -c '^507 ' "$T/fill.a") > 0")" "then ingest answers 507"
post '{"eventType":"e","payload":{"more":true}}'
is "$STATUS" 507 "a new message now gets 507"
is "$(jqr .code)" insufficient_storage "with the JSON error code insufficient_storage"
like "$(jqr .detail)" 'full' "and a detail that says the store is full"
grep -q 'store full.*path=/api/v1/app/full/msg' "$T/hookd.err"
ok $? "the server logged it"
ok "$(kill -0 "$HOOKD_PID" 2>/dev/null; echo $?)" "the server is alive"
PAD=$(printf '%08000d' 0)
api POST /api/v1/event-type "{\"name\":\"big.one\",\"description\":\"$PAD\"}"
is "$STATUS" 507 "an 8 KB event type is refused too: management writes stay out of the reserve"
is "$(jqr .code)" insufficient_storage "with the JSON error code insufficient_storage"
api POST /api/v1/app '{"name":"another"}'
is "$STATUS" 507 "and so is a new app"
api GET /api/v1/health
is "$STATUS" 503 "health answers 503 while new messages are refused"
is "$(jqr .database.status)" error "its database status is error"
like "$(jqr .detail)" "store is full" "and it says the store is full"

# ---- 2. nothing acknowledged is lost, deliveries go on ----
"$PRODUCER" --url "$URL" --token "$TOKEN" --app full --get "$T/acked.a" > "$T/get.a"
is "$(grep -c '^200 ' "$T/get.a")" "$N" "every acknowledged message is in the store"
slow_done() {
    jq -r 'select(.status == 200 and (.path | startswith("/slow/"))) | .id' "$RLOG" | sort -u \
        > "$T/got.slow"
    [ -z "$(sort "$T/acked.a" | comm -23 - "$T/got.slow" | head -n 1)" ]
}
wait_for 30 slow_done
ok $? "every acknowledged message reached the slow endpoint"
AFTER=$(awk -F'[:,]' -v t="$FULL_AT" '$2 >= t && /"\/slow\// && /"status":200/' "$RLOG" | wc -l)
ok "$(cond "$AFTER > 0")" "deliveries went on after the store filled ($AFTER since)"
settled() { [ "$(stat_of '(.deliveriesPending + .deliveriesScheduled + .inflight)')" = 0 ]; }
wait_for 20 settled
ok $? "every outcome was recorded: nothing left pending or scheduled"
ok "$(cond "$(stat_of .deliveriesFailed) >= $N")" "the 503 endpoint's deliveries ended failed"
is "$(grep -e 'not recorded' -e 'store full' -e 'commit failed' "$T/hookd.err" | grep -vc 'path=')" 0 \
    "no outcome failed to record (the reserve held)"
"$HOOKD" check --data "$DATA" > "$T/check.out" 2>&1
is "$?" 0 "hookd check is clean beside the full server"
post '{"eventType":"e","payload":{"still":"full"}}'
is "$STATUS" 507 "ingest is still refused"

# ---- 3. (a) a restart with a larger map: ingest resumes ----
hookd_stop TERM
is "$HOOKD_RC" 0 "the full server stops cleanly"
# shellcheck disable=SC2086
hookd_start $MAP --map-size 16MiB
post '{"eventType":"e","payload":{"after":"restart"}}'
is "$STATUS" 202 "after a restart with --map-size 16MiB a new message gets 202"
health
ok $? "and health is 200 again"
"$PRODUCER" --url "$URL" --token "$TOKEN" --app full --get "$T/acked.a" > "$T/get.a2"
is "$(grep -c '^200 ' "$T/get.a2")" "$N" "every message acknowledged before is still there"
hookd_stop TERM

# ---- 4. (b) retention frees space: ingest resumes without a restart ----
rm -rf "$T/data"
# shellcheck disable=SC2086
hookd_start $MAP --payload-retention 1s --attempt-retention 1s --retention-interval 1s \
    --log-level info
api POST /api/v1/app '{"name":"full","uid":"full"}'
api POST /api/v1/app/full/endpoint "{\"url\":\"$RURL/ret/ok\"}"
fill b 65536
ok "$(cond "$(grep -c '^507 ' "$T/fill.b") > 0")" "with 64 KiB payloads the store fills ($(wc -l < "$T/acked.b" | tr -d ' ') taken)"
is "$(awk '$1 != 202 && $1 != 507' "$T/fill.b" | wc -l | tr -d ' ')" 0 "every answer is 202 or 507"
resumed() { post '{"eventType":"e","payload":{"after":"retention"}}'; [ "$STATUS" = 202 ]; }
wait_for 15 resumed
ok $? "once retention drops the old payloads, ingest answers 202 again"
health
ok $? "and health is 200"
logged_pass() { grep -q 'retention pass' "$T/hookd.err"; }
wait_for 10 logged_pass
ok $? "retention logged its pass"
"$PRODUCER" --url "$URL" --token "$TOKEN" --app full --get "$T/acked.b" > "$T/get.b"
is "$(grep -c '^200 ' "$T/get.b")" "$(wc -l < "$T/acked.b" | tr -d ' ')" \
    "every acknowledged message is still there (its payload expired)"
hookd_stop TERM
is "$HOOKD_RC" 0 "the server stops cleanly"
"$HOOKD" check --data "$DATA" > "$T/check.out" 2>&1
is "$?" 0 "hookd check is clean"

# ---- 5. (c) a disk that takes no more writes ----
rm -rf "$T/data"
: > "$T/hookd.err"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s --map-size 64MiB
api POST /api/v1/app '{"name":"disk","uid":"disk"}'
api POST /api/v1/app/disk/endpoint "{\"url\":\"$RURL/disk/status/503\"}"
is "$STATUS" 201 "a fresh server with a failing endpoint"
# a soft limit only (raising a hard one back needs privileges)
prlimit --pid "$HOOKD_PID" --fsize="$(($(stat -c %s "$DATA/data.mdb") + 262144)):unlimited"
ok $? "the log file may grow by 256 KiB at most (prlimit --fsize)"
BIG=$(printf '%016000d' 0)
codes=""
i=0
while [ $i -lt 200 ]; do
    i=$((i + 1))
    post_disk() {
        STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
            -H 'Content-Type: application/json' --data-binary "$1" "$URL/api/v1/app/disk/msg")
    }
    post_disk "{\"eventType\":\"e\",\"payload\":{\"i\":$i,\"pad\":\"$BIG\"}}"
    [ "$STATUS" = 202 ] || break
done
is "$STATUS" 500 "once the disk is full a message gets 500 (after $((i - 1)) that fit)"
ok "$(cond "$i > 1")" "some fit before"
ok "$(kill -0 "$HOOKD_PID" 2>/dev/null; echo $?)" "the server is alive (no SIGXFSZ)"
api GET /api/v1/health
is "$STATUS" 503 "health answers 503 while writes fail"
like "$(jqr .detail)" "writes to the store fail" "saying that writes fail"
# every delivery now fails to record its outcome: no resend loop
sleep 6
hits=$(received '.path == "/disk/status/503"')
n=$((i - 1))
ok "$(cond "$hits <= 5 * $n + 5")" "in 6 s $n messages reached the receiver $hits times, not in a loop"
# a loaded machine may take longer to reach the first outcome it cannot write
postponed_seen() { postponed=$(metric 'hookd_deliveries_postponed_total{reason="store_error"}'); [ "${postponed:-0}" -gt 0 ]; }
wait_for 15 postponed_seen
ok "$(cond "${postponed:-0} > 0")" "the postponed outcomes are counted (store_error: ${postponed:-0})"
lines=$(grep -c 'outcome not recorded' "$T/hookd.err")
ok "$(cond "$lines >= 1 && $lines <= 12")" "and logged at most once a second ($lines lines)"
prlimit --pid "$HOOKD_PID" --fsize=unlimited:unlimited
healthy_again() { health; }
wait_for 10 healthy_again
ok $? "health is 200 again once the disk takes writes"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary '{"eventType":"e","payload":{}}' \
    "$URL/api/v1/app/disk/msg")
is "$STATUS" 202 "and messages are taken again"
done_testing
