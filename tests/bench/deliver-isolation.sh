#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/deliver-isolation.sh - a hanging endpoint must not slow down
# a healthy one (promise 3 of DESIGN.md).
#
# Starts the test receiver and hookd with --request-timeout 5s, creates the
# app "bench" with two endpoints on the receiver: "healthy" at
# RECEIVER/healthy/ok and "sick" at RECEIVER/sick/hang, which never
# answers, so each of its deliveries holds a connection until hookd's
# deadline and is then retried. build/bench/paced POSTs 1 KiB messages
# stamped with sent_ms at a fixed rate; every message fans out to both
# endpoints. The receiver logs arrival minus sent_ms for each request, and
# the figure is the healthy endpoint's latency. Every acknowledged message
# must reach the healthy endpoint (distinct webhook-ids), or the script
# fails.
#
# Baseline in the same run: the same load for the same time with the sick
# endpoint disabled (fan-out skips it), just before.
#
# Knobs (environment):
#   BENCH_ISOLATION_SECONDS  how long each phase sends, default 10
#   BENCH_ISOLATION_RATE     messages a second, default 1000
#
# The last line is machine-readable:
#   RESULT p50_ms=L p99_ms=L max_ms=L delivered=N sick_requests=N
#          base_p50_ms=L base_p99_ms=L
BENCH=deliver-isolation
. "$(dirname "$0")/deliver.shlib"
SECONDS_=${BENCH_ISOLATION_SECONDS:-10}
RATE=${BENCH_ISOLATION_RATE:-1000}
TARGET_P99=50

receiver_up rcv
hookd_up --request-timeout 5s
api POST /api/v1/app '{"name":"bench","uid":"bench"}'
endpoint bench "{\"url\":\"$rcv_URL/healthy/ok\"}" >/dev/null
SICK=$(endpoint bench "{\"url\":\"$rcv_URL/sick/hang\",\"disabled\":true}")

# phase NAME: send for SECONDS_ at RATE; wait for the healthy deliveries.
phase() {
    "$PACED" --url "$URL" --token "$TOKEN" --app bench --rate "$RATE" --seconds "$SECONDS_" \
        --connections 256 >"$W/paced-$1.out" 2>"$W/paced-$1.err" ||
        die "$1: hookd did not acknowledge every message: $(cat "$W/paced-$1.out")"
    expect=$(( $(field "$(cat "$W/paced-$1.out")" ok) + ${2:-0} ))
    _end=$(( $(date +%s) + 60 ))
    while [ "$(grep -c '"/healthy/' "$rcv_LOG")" -lt "$expect" ]; do
        [ "$(date +%s)" -ge "$_end" ] && break
        sleep 0.1
    done
}

echo "baseline: $RATE messages/s for ${SECONDS_}s, healthy endpoint alone"
phase base
base_n=$(grep -c '"/healthy/' "$rcv_LOG")
T1=$(now_ms)
jq -c 'select(.path | startswith("/healthy/"))' "$rcv_LOG" >"$W/base.log"
set -- $(pcts "$W/base.log" .lat_ms)
b50=$1 b99=$2 bmax=$3

echo "isolation: the same, every message also to /sick/hang (request timeout 5 s)"
api PATCH "/api/v1/app/bench/endpoint/$SICK" '{"disabled":false}'
phase sick "$base_n"
jq -c --argjson t1 "$T1" 'select(.t >= $t1)' "$rcv_LOG" >"$W/phase2.log"
jq -c 'select(.path | startswith("/healthy/"))' "$W/phase2.log" >"$W/healthy.log"
set -- $(pcts "$W/healthy.log" .lat_ms)
p50=$1 p99=$2 max=$3
sick_n=$(grep -c '"/sick/' "$W/phase2.log")
acked=$(field "$(cat "$W/paced-sick.out")" ok)
distinct=$(distinct_ids "$W/healthy.log")

echo
printf 'healthy, sick endpoint hanging   p50 %7s ms   p99 %7s ms   max %7s ms   (%s delivered)\n' \
    "$p50" "$p99" "$max" "$distinct"
printf 'healthy, alone (baseline)        p50 %7s ms   p99 %7s ms   max %7s ms   (%s delivered)\n' \
    "$b50" "$b99" "$bmax" "$base_n"
printf 'sick endpoint                    %s requests arrived and hung\n' "$sick_n"
echo

status=0
le "$p99" "$TARGET_P99"; target $? "healthy p99 $p99 ms <= $TARGET_P99 ms while another endpoint hangs"
[ "$sick_n" -gt 0 ]; target $? "the sick endpoint was being tried ($sick_n requests)"
if [ "$distinct" -lt "$acked" ]; then
    echo "FAIL  the healthy endpoint got $distinct distinct messages of $acked acknowledged"
    status=1
else
    echo "PASS  every acknowledged message reached the healthy endpoint ($distinct)"
fi
echo "RESULT p50_ms=$p50 p99_ms=$p99 max_ms=$max delivered=$distinct sick_requests=$sick_n" \
    "base_p50_ms=$b50 base_p99_ms=$b99"
exit $status
