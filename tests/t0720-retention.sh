#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0720: retention (issue 5). With periods of seconds, the background pass
# removes old payloads (GET shows {"expired":true}, resend answers 400
# missing_payload, a retry still due ends as failed without an attempt),
# old attempts and expired idempotency records, while newer ones stay and
# ingest keeps answering 202 during the pass; `hookd check` stays clean.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --payload-retention 6s --attempt-retention 6s \
    --retention-interval 1s --idempotency-ttl 1s --retry-schedule 10s --log-level info

api POST /api/v1/app '{"name":"shop","uid":"shop"}'
for et in ok bad; do api POST /api/v1/event-type "{\"name\":\"$et\",\"description\":\"$et\"}"; done
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/x/ok\",\"filterTypes\":[\"ok\"]}"
EP_OK=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/x/status/500\",\"filterTypes\":[\"bad\"]}"
EP_BAD=$(jqr .id)

# burst N TYPE: N messages over one connection; prints "CODE SECONDS" per request.
burst() {
    awk -v n="$1" -v u="$URL/api/v1/app/shop/msg" 'BEGIN { for (i = 0; i < n; i++) print "-o /dev/null " u }' \
        > "$T/urls.$2"
    # shellcheck disable=SC2046
    curl -s -w '%{http_code} %{time_total}\n' -X POST -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' \
        --data-binary "{\"eventType\":\"$2\",\"payload\":{\"n\":1}}" $(cat "$T/urls.$2")
}
jc() { printf '%s' "$BODY" | jq -c "$1" 2>/dev/null; }
att_ids() { api GET "/api/v1/app/shop/attempt/$1?limit=250"; jqr '[.data[].id]|join(",")'; }

# ---- old records: payloads, an attempt each, an idempotency key ----
api POST /api/v1/app/shop/msg '{"eventType":"ok","payload":{"old":true}}' -H 'Idempotency-Key: k1'
M_OLD=$(jqr .id)
# at once: the key lives 1 s, and the checks below may take longer (ASan)
api POST /api/v1/app/shop/msg '{"eventType":"ok","payload":{"old":true}}' -H 'Idempotency-Key: k1'
is "$(jqr .id)" "$M_OLD" "within the TTL the idempotency key replays the first answer"
api GET "/api/v1/app/shop/msg/$M_OLD"
is "$(jc .payload)" '{"old":true}' "before the period the payload is there"
ms_of() { date -d "$1" +%s%3N; }
T_OLD=$(ms_of "$(jqr .timestamp)")
# oldest_ms: /hookd/v1/stats's oldestPayloadAt in ms (0 when null)
oldest_ms() { api GET /hookd/v1/stats; _o=$(jqr .oldestPayloadAt); [ "$_o" = null ] && echo 0 || ms_of "$_o"; }
seen_oldest() { [ "$(oldest_ms)" != 0 ]; }
wait_for 5 seen_oldest
ok $? "after a pass, stats names an oldest payload"
O=$(oldest_ms)
is "$(cond "$O >= $T_OLD - 4 && $O <= $T_OLD")" 0 \
   "it is the old message's time, to the 4 ms of an id ($O, message $T_OLD)"
api POST /api/v1/app/shop/msg '{"eventType":"bad","payload":{"retry":true}}'
M_BAD=$(jqr .id)
wait_received ".id==\"$M_OLD\"" 1
ok $? "the old message is delivered"
wait_received ".id==\"$M_BAD\"" 1
ok $? "the failing endpoint gets its first attempt (a retry is due in 10 s)"
is "$(burst 2500 bulk | grep -c '^202 ')" 2500 "2500 more old messages accepted"

# ---- the pass runs: ingest goes on meanwhile ----
expired() { api GET "/api/v1/app/shop/msg/$M_OLD"; [ "$(jc .payload)" = '{"expired":true}' ]; }
( while [ ! -f "$T/stop" ]; do burst 50 during; done > "$T/during" ) &
BURST=$!
wait_for 25 expired
ok $? "after the period the old payload reads {\"expired\":true}"
sleep 1
touch "$T/stop"
wait $BURST
sent=$(wc -l < "$T/during" | tr -d ' ')
is "$(grep -c '^202 ' "$T/during")" "$sent" "every message sent while the pass runs gets 202 ($sent)"
slowest=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$T/during")
diag "slowest ingest during the pass: ${slowest}s"
is "$(cond "$slowest < 2")" 0 "no ingest request waits long behind the pass"
removed() { sed -n 's/.*retention pass.*payloads=\([0-9]*\).*/\1/p' "$T/hookd.err" | awk '{ s += $1 } END { print s + 0 }'; }
all_removed() { [ "$(removed)" -ge 2502 ]; }
wait_for 10 all_removed
total=$(removed)
is "$(cond "$total >= 2502")" 0 "the pass reports the old payloads it removed ($total)"
moved_on() { [ "$(oldest_ms)" -gt $((T_OLD + 1000)) ]; }
wait_for 5 moved_on
ok $? "with the old payloads gone, the oldest payload is a newer message"
NOW=$(date +%s%3N)
O=$(oldest_ms)
is "$(cond "$O >= $NOW - 12000")" 0 "no older than the 6 s period and a pass or two ($((NOW - O)) ms)"

# ---- a new message keeps everything ----
api POST /api/v1/app/shop/msg '{"eventType":"ok","payload":{"new":true}}' -H 'Idempotency-Key: k1'
M_NEW=$(jqr .id)
is "$STATUS" 202 "the idempotency key is free again after its TTL"
like "$M_NEW" '^msg_' "it names a new message"
[ "$M_NEW" != "$M_OLD" ]
ok $? "a new id, not the old answer"
wait_received ".id==\"$M_NEW\"" 1
ok $? "the new message is delivered"
api GET "/api/v1/app/shop/msg/$M_NEW"
is "$(jc .payload)" '{"new":true}' "the new message keeps its payload"
api GET "/api/v1/app/shop/msg/$M_OLD"
is "$(jqr '[.id,.eventType]|@csv')" "\"$M_OLD\",\"ok\"" "the expired message keeps id and eventType"
api GET "/api/v1/app/shop/msg/$M_OLD?with_content=false"
is "$(jc .payload)" '{}' "with_content=false still shows {}"
api GET "/api/v1/app/shop/msg?limit=250&event_types=ok"
is "$(jc '[.data[]|select(.id=="'"$M_NEW"'")|.payload][0]')" '{"new":true}' "the list shows the new payload"
is "$(jc '[.data[]|select(.id=="'"$M_OLD"'")|.payload][0]')" '{"expired":true}' "and the expired one"

# ---- attempts ----
has_new_attempt() { [ -n "$(att_ids "msg/$M_NEW")" ]; }
wait_for 5 has_new_attempt
NEW_ATT=$(att_ids "msg/$M_NEW")
like "$NEW_ATT" '^atmpt_[0-9A-Za-z]{27}$' "the new message's attempt is listed"
old_gone() { [ "$(att_ids "msg/$M_OLD")" = "" ]; }
wait_for 20 old_gone
ok $? "the old attempt is gone from the list by message"
is "$(att_ids "endpoint/$EP_OK")" "$NEW_ATT" "the endpoint lists only the new attempt"
api GET "/api/v1/app/shop/msg/$M_NEW/attempt/$NEW_ATT"
is "$STATUS" 200 "the new attempt can be fetched"

# ---- resend ----
api POST "/api/v1/app/shop/msg/$M_OLD/endpoint/$EP_OK/resend"
is "$STATUS" 400 "resend of an expired message: 400"
is "$(jqr .code)" missing_payload "code missing_payload"
api POST "/api/v1/app/shop/msg/$M_NEW/endpoint/$EP_OK/resend"
is "$STATUS" 202 "resend of the new message: 202"

# ---- the retry due after the payload expired ----
failed() {
    api GET "/hookd/v1/deliveries?endpoint_id=$EP_BAD"
    [ "$(jqr '[.data[]|select(.msgId=="'"$M_BAD"'")|.status][0]')" = fail ]
}
wait_for 25 failed
ok $? "the retry of an expired message ends the delivery as failed"
is "$(received ".id==\"$M_BAD\"")" 1 "and sends nothing"

hookd_stop
is "$HOOKD_RC" 0 "the server stops cleanly"
"$HOOKD" check --data "$DATA" > "$T/check.out" 2>&1
rc=$?
is "$rc" 0 "hookd check finds no violation"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/check.out" >&2
like "$(cat "$T/check.out")" 'result: ok' "hookd check says ok"
done_testing
