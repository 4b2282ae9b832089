#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0730: a graceful stop under load. SIGTERM arrives while a producer
# sends messages and slow deliveries are in flight: from the signal on,
# writes and the health check answer 503 shutting_down with Retry-After
# (or the connection is refused once the listener closes), never 500; the
# slow deliveries finish and are recorded; hookd exits 0. After a restart
# every message that got 202 is there, and nothing that was delivered
# before the stop is delivered again.
. "$(dirname "$0")/lib.sh"
receiver_start
ARGS="--allow-network 127.0.0.0/8 --shutdown-timeout 10s --retry-schedule 1s,1s"
hookd_start $ARGS

api POST /api/v1/app '{"name":"fast","uid":"fast"}'
api POST /api/v1/app/fast/endpoint "{\"uid\":\"f\",\"url\":\"$RURL/fast/ok\"}"
is "$STATUS" 201 "fast endpoint created"
api POST /api/v1/app '{"name":"slow","uid":"slow"}'
api POST /api/v1/app/slow/endpoint "{\"uid\":\"s\",\"url\":\"$RURL/x/delay/1500\"}"
is "$STATUS" 201 "slow endpoint created"

# The producer: one message after another until 10 are refused (or 2000
# sent, or 60 s passed); one line each: status, Retry-After, id or body code.
P=$T/produced
producer() {
    i=0 refused=0 end=$(( $(date +%s) + 60 ))
    while [ $i -lt 2000 ] && [ $refused -lt 10 ] && [ "$(date +%s)" -lt "$end" ]; do
        i=$((i + 1))
        rm -f "$T/p.hdr" "$T/p.body"
        code=$(curl -s -o "$T/p.body" -D "$T/p.hdr" -w '%{http_code}' \
               -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
               --data-binary "{\"eventType\":\"load\",\"payload\":{\"i\":$i}}" \
               "$URL/api/v1/app/fast/msg")
        ra=$(tr -d '\r' < "$T/p.hdr" 2>/dev/null | sed -n 's/^[Rr]etry-[Aa]fter: *//p')
        what=$(sed -n 's/.*"\(id\|code\)":"\([^"]*\)".*/\2/p' "$T/p.body" 2>/dev/null)
        echo "$code ${ra:--} ${what:--}" >> "$P"
        [ "$code" = 202 ] || refused=$((refused + 1))
    done
}
: > "$P"
producer &
PRODUCER=$!
wait_for 20 sh -c "[ \$(awk '\$1 == 202' '$P' | wc -l) -ge 50 ]"
ok $? "the producer's first 50 messages are accepted"

# Slow deliveries in flight at the signal (each takes 1.5 s).
SLOW=""
for n in 1 2 3; do
    api POST /api/v1/app/slow/msg "{\"eventType\":\"slow\",\"payload\":{\"n\":$n}}"
    SLOW="$SLOW $(jqr .id)"
done
wait_received '(.path|startswith("/x/delay/"))' 3 10
ok $? "three slow deliveries are in flight"

kill -TERM "$HOOKD_PID"
sleep 0.2
# The listener stays open while deliveries drain, answering 503.
H=$(curl -s -o "$T/h.body" -D "$T/h.hdr" -w '%{http_code}' "$URL/api/v1/health")
is "$H" 503 "health answers 503 while stopping"
is "$(tr -d '\r' < "$T/h.hdr" | grep -i '^retry-after:')" "Retry-After: 5" \
   "health 503 carries Retry-After: 5"
api POST /api/v1/app/fast/msg '{"eventType":"late","payload":{}}'
is "$STATUS" 503 "a message sent after the signal gets 503"
is "$(jqr .code)" shutting_down "its code is shutting_down"
api GET /api/v1/app/fast
is "$STATUS" 200 "reads are still served while stopping"

wait "$HOOKD_PID"
is "$?" 0 "hookd exits 0"
wait "$PRODUCER"
RECEIVED_AT_STOP=$(wc -l < "$RLOG" | tr -d ' ')

# What the producer saw: 202s, then only 503 (with Retry-After) or refused.
codes=$(awk '{ print $1 }' "$P" | uniq | tr '\n' ' ')
like "$codes" '^202 ((503|000) )+$' "the producer saw 202, then only 503 or refused ($codes)"
is "$(awk '$1 != 202 && $1 != 503 && $1 != "000"' "$P" | wc -l | tr -d ' ')" 0 "no other status (no 500)"
is "$(awk '$1 == 503 && ($2 != 5 || $3 != "shutting_down")' "$P" | wc -l | tr -d ' ')" 0 \
   "every 503 is shutting_down with Retry-After: 5"
N=$(awk '$1 == 202' "$P" | wc -l | tr -d ' ')
diag "$N messages accepted before the signal"
is "$(grep -c 'deliveries abandoned' "$T/hookd.err")" 0 "no delivery was abandoned"

# ---- after a restart ----
hookd_start $ARGS
awk '$1 == 202 { print $3 }' "$P" > "$T/acked"
missing=0
while read -r id; do
    api GET "/api/v1/app/fast/msg/$id"
    [ "$STATUS" = 200 ] || { missing=$((missing + 1)); diag "lost: $id ($STATUS)"; }
done < "$T/acked"
is "$missing" 0 "every acknowledged message ($N) is in the log after the restart"

wait_for 30 sh -c "[ \$(jq -r 'select(.path|startswith(\"/fast/\")) | .id' '$RLOG' | sort -u | wc -l) -ge $N ]"
ok $? "every acknowledged message is delivered"
sleep 2   # time for anything that would be sent again to arrive
is "$(jq -r 'select(.path|startswith("/fast/")) | .id' "$RLOG" | sort | uniq -d | wc -l | tr -d ' ')" 0 \
   "no message is delivered twice"
head -n "$RECEIVED_AT_STOP" "$RLOG" | jq -r .id | sort -u > "$T/before"
tail -n "+$((RECEIVED_AT_STOP + 1))" "$RLOG" | jq -r .id | sort -u > "$T/after"
is "$(comm -12 "$T/before" "$T/after" | wc -l | tr -d ' ')" 0 \
   "nothing delivered before the stop is delivered after the restart"
for id in $SLOW; do
    is "$(received ".id == \"$id\"")" 1 "slow $id was sent once"
    api GET "/api/v1/app/slow/attempt/msg/$id"
    is "$(jqr '[.data[] | .responseStatusCode] | join(",")')" 200 \
       "slow $id: its in-flight attempt was recorded (200)"
done
api GET /api/v1/health
like "$STATUS" '^2' "the restarted server is healthy"
hookd_stop
is "$HOOKD_RC" 0 "the second stop exits 0 too"
done_testing
