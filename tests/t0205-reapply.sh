#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0205: deterministic log entries (issue 9, step 1). A real workload runs
# with --entry-journal: ingest (fan-out, idempotency keys, an eventId
# clash), deliveries that succeed, fail and retry, exhaust their retries
# and get a 410, resends and a bulk replay, configuration changes (apps,
# endpoints, event types, secrets, pause), operational webhooks, app
# tokens, and a retention pass. Then `hookd reapply` rebuilds the store
# from the journal into an empty directory, and `hookd check --compare`
# must find the two equal, record for record. A byte changed in the
# journal is refused, and a store changed after the fact is told apart.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
plan 20
receiver_start
J=$T/entries.journal
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s,1s --entry-journal "$J" \
    --payload-retention 4s --attempt-retention 0 --retention-interval 1s --idempotency-ttl 1h

# ---- configuration ----
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/app '{"name":"other","uid":"other","metadata":{"k":"v"}}'
api PATCH /api/v1/app/other '{"name":"other-renamed"}'
for et in order.paid order.failed gone.now; do
    api POST /api/v1/event-type "{\"name\":\"$et\",\"description\":\"$et\"}"
done
api PUT /api/v1/event-type/order.failed '{"description":"when an order fails"}'
api POST /api/v1/app/_operational/endpoint "{\"url\":\"$RURL/ops/ok\"}"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/a/ok\",\"uid\":\"ep-ok\"}"
EP_OK=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/b/flaky/2\",\"filterTypes\":[\"order.paid\"]}"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/c/status/500\",\"filterTypes\":[\"order.failed\"]}"
EP_BAD=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/d/status/410\",\"filterTypes\":[\"gone.now\"]}"
api POST /api/v1/app/other/endpoint "{\"url\":\"$RURL/e/ok\",\"channels\":[\"eu\"]}"
api POST /api/v1/app/shop/endpoint/ep-ok/secret/rotate '{}'
api PATCH /api/v1/app/shop/endpoint/ep-ok '{"description":"the good one"}'
api PUT /api/v1/app/shop/endpoint/ep-ok/headers '{"headers":{"X-Shop":"1"}}'
api POST /api/v1/auth/app-portal-access/shop '{}'

# ---- ingest ----
i=0
while [ $i -lt 20 ]; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"n\":$i,\"price\":19.99}}"
    i=$((i + 1))
done
api POST /api/v1/app/shop/msg '{"eventType":"order.failed","payload":{"why":"card"},"eventId":"evt-1"}'
M_FAIL=$(jqr .id)
api POST /api/v1/app/shop/msg '{"eventType":"order.failed","payload":{"why":"again"},"eventId":"evt-1"}'
is "$STATUS" 409 "an eventId used twice gets 409 (and writes nothing)"
api POST /api/v1/app/shop/msg '{"eventType":"gone.now","payload":{}}'
api POST /api/v1/app/other/msg '{"eventType":"x","payload":{"eu":true},"channels":["eu"]}' \
    -H 'Idempotency-Key: key-1'
M_IDEM=$(jqr .id)
api POST /api/v1/app/other/msg '{"eventType":"x","payload":{"eu":true},"channels":["eu"]}' \
    -H 'Idempotency-Key: key-1'
is "$(jqr .id)" "$M_IDEM" "an idempotency key answers the same message again"
api POST /api/v1/app/msg-embedded/msg \
    '{"eventType":"x","payload":{"a":[1,2,{"b":null}]},"application":{"name":"Embedded","uid":"msg-embedded"}}'
is "$STATUS" 202 "a message with an embedded application is accepted"

# ---- deliveries settle: successes, retries, exhaustion, a 410 ----
# settled N: the failing message has N attempts, and nothing is waiting or in flight.
settled() {
    api GET "/api/v1/app/shop/msg/$M_FAIL/attempt?limit=50"
    [ "$(jqr '.data|length')" -ge "$1" ] || return 1
    api GET /hookd/v1/stats
    [ "$(jqr '.deliveriesPending')" = 0 ] && [ "$(jqr '.deliveriesScheduled')" = 0 ] \
        && [ "$(jqr '.inflight')" = 0 ]
}
wait_for 40 settled 3
ok $? "every delivery settled (the failing one tried three times)"
api GET "/api/v1/app/shop/endpoint/$EP_BAD"
api POST "/api/v1/app/shop/msg/$M_FAIL/endpoint/$EP_BAD/resend"
is "$STATUS" 202 "a resend is accepted"
api POST /hookd/v1/deliveries/replay '{"filter":{"app_id":"shop"}}'
is "$STATUS" 202 "a bulk replay of the failed deliveries is accepted"
wait_for 30 settled 5
ok $? "the resend and the replay were attempted"
api POST "/hookd/v1/app/shop/endpoint/$EP_BAD/pause" '{}'
api DELETE /api/v1/app/other
api DELETE /api/v1/event-type/gone.now

# ---- retention: payloads older than 4 s go ----
expired() { api GET "/api/v1/app/shop/msg/$M_FAIL"; [ "$(printf '%s' "$BODY" | jq -c .payload)" = '{"expired":true}' ]; }
wait_for 20 expired
ok $? "retention dropped the old payloads"
api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{"late":true}}'
wait_for 20 settled 5
hookd_stop
is "$HOOKD_RC" 0 "the server stops cleanly"

# ---- the journal rebuilds the same store ----
"$HOOKD" reapply "$J" --data "$T/re" >"$T/re.out" 2>&1
is "$?" 0 "hookd reapply applies every entry"
for k in app.create endpoint.create message.create delivery.outcome retention.batch; do
    grep -q "^  $k  *[1-9]" "$T/re.out" || { diag "no $k entries"; cat "$T/re.out" >&2; }
done
is "$(grep -cE '^  (app.create|endpoint.create|message.create|delivery.outcome|retention.batch) +[1-9]' "$T/re.out")" 5 \
   "the journal holds apps, endpoints, messages, outcomes and retention batches"
"$HOOKD" check --compare "$DATA" "$T/re" >"$T/cmp.out" 2>&1
rc=$?
[ $rc = 0 ] || head -40 "$T/cmp.out" >&2
is "$rc" 0 "the re-applied store equals the served one, record for record"
like "$(grep -E '^messages ' "$T/cmp.out")" '^messages +[1-9]' "the compare saw the messages"
like "$(grep -E '^attempts ' "$T/cmp.out")" '^attempts +[1-9]' "... and the attempts"
"$HOOKD" check --data "$T/re" >/dev/null 2>&1
is "$?" 0 "the re-applied store passes hookd check"

# ---- a second re-apply gives the same again; a changed store is told apart ----
"$HOOKD" reapply "$J" --data "$T/re2" >/dev/null 2>&1
"$HOOKD" check --compare "$T/re" "$T/re2" >/dev/null 2>&1
is "$?" 0 "re-applying twice gives the same store"
"$HOOKD" reapply "$J" --data "$T/re" >"$T/again.out" 2>&1
is "$?" 2 "reapply refuses a directory that already holds a store"
SERVED=$DATA
HOOKD_DATA_DIR=$T/re2 hookd_start
api POST /api/v1/app '{"name":"extra"}'
hookd_stop
"$HOOKD" check --compare "$SERVED" "$T/re2" >/dev/null 2>&1
is "$?" 1 "a store written to after the re-apply differs"

# ---- a damaged journal stops with the entry named ----
SIZE=$(stat -c %s "$J")
cp "$J" "$T/bad.journal"
printf 'X' | dd of="$T/bad.journal" bs=1 seek=$((SIZE / 2)) conv=notrunc 2>/dev/null
"$HOOKD" reapply "$T/bad.journal" --data "$T/re3" >"$T/bad.out" 2>&1
is "$?" 1 "a flipped byte in the journal stops reapply with status 1"
like "$(cat "$T/bad.out")" "at byte [0-9]+" "... naming where"
done_testing
