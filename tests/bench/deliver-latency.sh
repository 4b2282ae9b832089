#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/deliver-latency.sh - how long a message takes from the
# producer to the receiver at a steady rate.
#
# Starts the test receiver and hookd, creates the app "bench" with one
# endpoint at RECEIVER/lat/ok, and lets build/bench/paced POST 1 KiB
# messages at a fixed rate (open loop, like wrk2). Each payload carries
# "sent_ms", the producer's send time; the receiver logs arrival minus
# sent_ms, so a figure covers ingest, the fsync, dispatch and delivery.
# Every acknowledged message must arrive (distinct webhook-ids), or the
# script fails.
#
# Baseline in the same run: the producer's own acknowledgement times
# (ack_*: hookd's answer to the POST, i.e. ingest and its fsync alone).
#
# Knobs (environment):
#   BENCH_LATENCY_SECONDS  how long to send, default 20
#   BENCH_LATENCY_RATE     messages a second, default 2000
#
# The last line is machine-readable:
#   RESULT p50_ms=L p99_ms=L max_ms=L delivered=N ack_p50_ms=L ack_p99_ms=L
BENCH=deliver-latency
. "$(dirname "$0")/deliver.shlib"
SECONDS_=${BENCH_LATENCY_SECONDS:-20}
RATE=${BENCH_LATENCY_RATE:-2000}
TARGET_P99=20
COUNT=$(awk -v r="$RATE" -v s="$SECONDS_" 'BEGIN { printf "%d", r * s }')

receiver_up rcv
hookd_up
api POST /api/v1/app '{"name":"bench","uid":"bench"}'
endpoint bench "{\"url\":\"$rcv_URL/lat/ok\"}" >/dev/null

echo "send: $RATE messages/s for ${SECONDS_}s ($COUNT messages of 1 KiB, stamped with sent_ms)"
"$PACED" --url "$URL" --token "$TOKEN" --app bench --rate "$RATE" --seconds "$SECONDS_" \
    --connections 256 >"$W/paced.out" 2>"$W/paced.err"
paced_rc=$?
paced=$(cat "$W/paced.out")
[ -n "$paced" ] || die "the producer printed nothing"
acked=$(field "$paced" ok)
wait_lines "$rcv_LOG" "$acked" 60 || echo "WARN: only $(lines "$rcv_LOG") of $acked arrived after 60 s"
set -- $(pcts "$rcv_LOG" .lat_ms)
p50=$1 p99=$2 max=$3
distinct=$(distinct_ids "$rcv_LOG")

echo
printf 'delivery   p50 %7s ms   p99 %7s ms   max %7s ms   (%s delivered)\n' "$p50" "$p99" "$max" "$distinct"
printf 'ingest     p50 %7s ms   p99 %7s ms   max %7s ms   (the POST answer alone)\n' \
    "$(field "$paced" ack_p50_ms)" "$(field "$paced" ack_p99_ms)" "$(field "$paced" ack_max_ms)"
printf 'producer   %s msg/s sent, worst lag behind schedule %s ms\n' \
    "$(field "$paced" rate)" "$(field "$paced" behind_ms)"
echo

status=0
le "$p99" "$TARGET_P99"; target $? "delivery p99 $p99 ms <= $TARGET_P99 ms"
le "$(field "$paced" behind_ms)" 10
target $? "the producer kept its schedule (worst lag $(field "$paced" behind_ms) ms <= 10 ms)"
if [ "$paced_rc" != 0 ]; then
    echo "FAIL  hookd did not acknowledge every message: $paced"
    status=1
fi
if [ "$distinct" -lt "$acked" ]; then
    echo "FAIL  $distinct distinct messages delivered of $acked acknowledged"
    status=1
else
    echo "PASS  every acknowledged message delivered ($distinct)"
fi
echo "RESULT p50_ms=$p50 p99_ms=$p99 max_ms=$max delivered=$distinct" \
    "ack_p50_ms=$(field "$paced" ack_p50_ms) ack_p99_ms=$(field "$paced" ack_p99_ms)"
[ -n "${BENCH_KEEP:-}" ] && cp "$rcv_LOG" "$BENCH_KEEP"
exit $status
