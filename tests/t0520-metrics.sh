#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0520: GET /metrics (API.md 9, docs/operations.md 5): the Prometheus text
# format and its content type, the admin token, counters that move with
# real deliveries (ingest, attempts by outcome and class, latency, writer
# batches, HTTP requests by route and code), the delivery gauges and the
# per-endpoint series with their cap, no token or secret in the output,
# and `promtool check metrics` on it.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s --ingest-tokens ingtok-s3cr3t

# scrape: GET /metrics into $T/metrics; sets STATUS and CTYPE.
scrape() {
    _out=$(curl -s -o "$T/metrics" -w '%{http_code} %{content_type}' \
        -H "Authorization: Bearer $TOKEN" "$URL/metrics")
    STATUS=${_out%% *} CTYPE=${_out#* }
}
# m 'NAME{LABELS}': the value of that exact series in the last scrape ("" if absent).
m() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }
promcheck() {
    if command -v promtool >/dev/null 2>&1; then
        _err=$(promtool check metrics < "$T/metrics" 2>&1)
        is "$?:$_err" "0:" "$1"
    else
        ok 0 "# SKIP $1: no promtool (sh packaging/deps.sh --test unpacks it from Debian's prometheus)"
    fi
}

api POST /api/v1/app '{"name":"shop","uid":"shop"}'
ep() {
    api POST /api/v1/app/shop/endpoint "{\"uid\":\"$1\",\"url\":\"$RURL/$1/$2\"}"
    jqr .id
}
EP_OK=$(ep good ok)
EP_500=$(ep e500 status/500)
EP_404=$(ep e404 status/404)
EP_NET=$(ep net reset)
api GET "/api/v1/app/shop/endpoint/good/secret"
SECRET=$(jqr .key)
like "$SECRET" '^whsec_' "an endpoint secret to look for in the output"

# --- shape and auth, before any traffic -----------------------------------
AUTH=none api GET /metrics
is "$STATUS" 401 "/metrics without a token is refused"
scrape
is "$STATUS" 200 "/metrics answers 200 with the admin token"
is "$CTYPE" "text/plain; version=0.0.4; charset=utf-8" "content type of text format 0.0.4"
is "$(m hookd_messages_ingested_total)" 0 "nothing ingested yet"
is "$(m 'hookd_http_requests_total{route="metrics",code="4xx"}')" 1 \
   "the refused scrape is counted as metrics 4xx"
is "$(m 'hookd_http_requests_total{route="management",code="2xx"}')" 6 \
   "app and endpoint creates and the secret read: management 2xx"
promcheck "promtool accepts the output before any delivery"

# --- traffic ---------------------------------------------------------------
for i in 1 2 3 4; do
    AUTH="Bearer ingtok-s3cr3t" api POST /api/v1/app/shop/msg \
        "{\"eventType\":\"order.paid\",\"payload\":{\"n\":$i}}"
done
is "$STATUS" 202 "messages sent with the ingest token"
AUTH="Bearer wrong" api POST /api/v1/app/shop/msg '{"eventType":"x","payload":{}}'
is "$STATUS" 401 "a message with a bad token is refused"
api GET /no/such/route
api GET /api/v1/health
final_failed() { api GET /hookd/v1/stats; [ "$(jqr .deliveriesFailed)" = 12 ]; }
wait_for 15 final_failed
ok $? "three failing endpoints x four messages: twelve deliveries failed for good"
wait_received '(.path=="/good/ok")' 4
ok $? "four messages reach the good endpoint"

scrape
is "$(m hookd_messages_ingested_total)" 4 "ingested count equals messages sent"
is "$(m 'hookd_attempts_total{outcome="success",class="2xx"}')" 4 "4 successful attempts, 2xx"
is "$(m 'hookd_attempts_total{outcome="failure",class="5xx"}')" "$(received '(.path=="/e500/status/500")')" \
   "failed 5xx attempts: one per request the 500 endpoint answered"
is "$(m 'hookd_attempts_total{outcome="failure",class="4xx"}')" "$(received '(.path=="/e404/status/404")')" \
   "failed 4xx attempts: one per request the 404 endpoint answered"
is "$(m 'hookd_attempts_total{outcome="failure",class="5xx"}')" 8 "first try and one retry each: 8"
is "$(m 'hookd_attempts_total{outcome="failure",class="network"}')" 8 \
   "connections reset without an answer count as class network"
is "$(m 'hookd_attempts_total{outcome="failure",class="3xx"}')" 0 "no 3xx"
is "$(m hookd_delivery_latency_seconds_count)" 4 "latency histogram counts the 4 successes"
is "$(m 'hookd_delivery_latency_seconds_bucket{le="+Inf"}')" 4 "+Inf bucket equals the count"
like "$(m hookd_delivery_latency_seconds_sum)" '^[0-9]+(\.[0-9]+)?$' "latency sum in seconds"
is "$(m 'hookd_deliveries{state="failed"}')" 12 "deliveries failed gauge"
is "$(m 'hookd_deliveries{state="pending"}'),$(m 'hookd_deliveries{state="scheduled"}'),$(m 'hookd_deliveries{state="held"}'),$(m hookd_due_backlog),$(m hookd_inflight)" \
   "0,0,0,0,0" "nothing pending, scheduled, held, due or in flight"
is "$(m 'hookd_http_requests_total{route="ingest",code="2xx"}')" 4 "ingest 2xx: the four messages"
is "$(m hookd_messages_stored)" 4 "messages stored: the four in the log"
is "$(m 'hookd_http_requests_total{route="ingest",code="4xx"}')" 1 "ingest 4xx: the bad token"
is "$(m 'hookd_http_requests_total{route="unknown",code="4xx"}')" 1 "unknown 4xx: the 404"
is "$(m 'hookd_http_requests_total{route="health",code="2xx"}')" 1 "health 2xx"
is "$(m 'hookd_http_requests_total{route="metrics",code="2xx"}')" 1 "metrics 2xx: the first scrape"
like "$(m 'hookd_http_requests_total{route="operations",code="2xx"}')" '^[1-9][0-9]*$' \
   "operations 2xx: the stats polls"
BATCHES=$(m hookd_writer_batch_size_count)
like "$BATCHES" '^[1-9][0-9]*$' "writer batches counted"
is "$(cond "$(m hookd_writer_batch_size_sum) >= $BATCHES")" 0 "at least one request per batch"
is "$(m hookd_writer_commit_seconds_count)" "$BATCHES" "one commit time per batch"
is "$(m 'hookd_writer_commit_seconds_bucket{le="+Inf"}')" "$BATCHES" "commit +Inf bucket is the count"
SYNCS=$(m hookd_writer_sync_seconds_count)
is "$(cond "${SYNCS:-0} >= 1 && ${SYNCS:-0} <= $BATCHES")" 0 "the syncer's own flushes timed ($SYNCS)"
is "$(m 'hookd_writer_sync_seconds_bucket{le="+Inf"}')" "$SYNCS" "sync +Inf bucket is the count"
LAZY=$(m hookd_writer_lazy_waits_total)
is "$(cond "${LAZY:-0} >= 1 && ${LAZY:-0} <= $BATCHES")" 0 \
   "batches of outcomes waited for company ($LAZY of $BATCHES batches)"
like "$(m hookd_store_bytes)" '^[1-9][0-9]*$' "store bytes"
is "$(cond "$(m hookd_store_map_bytes) >= $(m hookd_store_bytes)")" 0 "map bytes >= store bytes"
like "$(m hookd_store_readers)" '^[0-9]+$' "store readers"
like "$(m hookd_uptime_seconds)" '^[0-9]+(\.[0-9]+)?$' "uptime in seconds"
is "$(m "hookd_build_info{version=\"$(cat "$TOP/VERSION")\"}")" 1 "build info carries the version"
is "$(m "hookd_endpoint_consecutive_failures{endpoint_id=\"$EP_500\"}")" 8 \
   "per-endpoint consecutive failures: every attempt of the 500 endpoint"
is "$(m "hookd_endpoint_consecutive_failures{endpoint_id=\"$EP_OK\"}")" 0 "good endpoint: 0 failures"
is "$(m "hookd_endpoint_backlog{endpoint_id=\"$EP_NET\"}")" 0 "per-endpoint backlog"
is "$(grep -c '^hookd_endpoint_backlog{' "$T/metrics")" 4 "one backlog series per endpoint"
if grep -qF -e "$TOKEN" -e "$SECRET" -e ingtok-s3cr3t -e "$RURL" "$T/metrics"; then
    ok 1 "no token, secret or URL in the output"
else
    ok 0 "no token, secret or URL in the output"
fi
is "$(grep -c 'msg_' "$T/metrics")" 0 "no message ids in the output"
promcheck "promtool accepts the output after deliveries"

# --- a paused endpoint's backlog is held ----------------------------------
api POST /hookd/v1/app/shop/endpoint/good/pause
AUTH="Bearer ingtok-s3cr3t" api POST /api/v1/app/shop/msg '{"eventType":"order.paid","payload":{}}'
held() { scrape; [ "$(m 'hookd_deliveries{state="held"}')" = 1 ]; }
wait_for 10 held
ok $? "a message to a paused endpoint is held"
is "$(m "hookd_endpoint_backlog{endpoint_id=\"$EP_OK\"}")" 1 "the paused endpoint's backlog is 1"
is "$(cond "$(m hookd_due_backlog) >= 1")" 0 "the due backlog counts the held delivery"
hookd_stop

# --- over the cap, no endpoint series --------------------------------------
HOOKD_DATA_DIR=$T/data2 hookd_start --metrics-endpoint-cap 1
api POST /api/v1/app '{"name":"a","uid":"a"}'
api POST /api/v1/app/a/endpoint '{"url":"https://example.com/1"}'
api POST /api/v1/app/a/endpoint '{"url":"https://example.com/2"}'
scrape
is "$STATUS" 200 "scrape of the capped server"
is "$(grep -c '^hookd_endpoint_\|^# [A-Z]* hookd_endpoint_' "$T/metrics")" 0 \
   "2 endpoints over a cap of 1: no endpoint series at all"
is "$(grep '^# endpoint series omitted' "$T/metrics")" "# endpoint series omitted: 2 endpoints > cap 1" \
   "a comment says why"
promcheck "promtool accepts the capped output"

done_testing
