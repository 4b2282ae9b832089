#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/deliver-concurrency.sh - 10,000 deliveries in flight at once,
# and what they cost in memory.
#
# Starts the test receiver and hookd with --endpoint-concurrency equal to
# the number of deliveries, creates one endpoint at RECEIVER/c/delay/2000
# (the receiver holds each request 2 s before answering 200), throttled to
# 1 delivery a second while build/bench/paced ingests the messages, then
# lifts the throttle with a PATCH so that all of them become due at once.
# hookd's RSS is sampled every 100 ms from start to finish. The receiver
# logs each request as it arrives, so the number of requests it holds at
# time x is the number of arrivals in (x - 2 s, x]: its peak is the peak
# concurrency hookd reached. Every message must arrive with status 200 and
# hookd's due index must drain (every outcome recorded), or the script
# fails.
#
# Baseline in the same run: hookd's RSS just before the release (the
# same process with the backlog stored but nothing in flight).
#
# Knobs (environment):
#   BENCH_INFLIGHT   deliveries, default 10000
#   BENCH_DELAY_MS   how long the receiver holds each, default 2000
#
# The last line is machine-readable:
#   RESULT inflight_peak=N peak_rss_mib=M idle_rss_mib=M all_arrived_s=S
#          all_done_s=S delivered=N
BENCH=deliver-concurrency
. "$(dirname "$0")/deliver.shlib"
N=${BENCH_INFLIGHT:-10000}
DELAY=${BENCH_DELAY_MS:-2000}
TARGET_RSS_MIB=512

# Each delivery is a socket in hookd (and one in the receiver).
ulimit -n "$(ulimit -Hn)" 2>/dev/null
nofile=$(ulimit -n)
[ "$nofile" = unlimited ] || [ "$nofile" -gt $((N + 256)) ] ||
    echo "WARN: open-file limit $nofile is below $N deliveries + 256"

receiver_up rcv
hookd_up --endpoint-concurrency "$N" --request-timeout $((DELAY / 1000 + 30))s
rss_sampler "$HOOKD_PID" "$W/rss"
api POST /api/v1/app '{"name":"bench","uid":"bench"}'
EP=$(endpoint bench "{\"url\":\"$rcv_URL/c/delay/$DELAY\",\"throttleRate\":1}")

echo "ingest: $N messages into a throttled endpoint"
"$PACED" --url "$URL" --token "$TOKEN" --app bench --rate 0 --count "$N" \
    --connections 256 --no-stamp >"$W/paced.out" 2>"$W/paced.err" ||
    die "ingest failed: $(cat "$W/paced.out")"
echo "  $(cat "$W/paced.out")"
idle_kib=$(ps -o rss= -p "$HOOKD_PID" | tr -d ' ')

echo "release: $N deliveries to /c/delay/$DELAY at once (endpoint concurrency $N)"
T0=$(now_ms)
api PATCH "/api/v1/app/bench/endpoint/$EP" '{"throttleRate":null}'
wait_lines "$rcv_LOG" "$N" 120 || echo "WARN: only $(lines "$rcv_LOG") of $N arrived after 120 s"
T1=$(now_ms)
wait_due_empty 120 || echo "WARN: hookd's due index still holds $(due_entries) entries"
T2=$(now_ms)
left=$(due_entries)
sleep 0.3
kill "$SAMPLER_PID" 2>/dev/null

# Arrivals after the release, sorted; the peak of arrivals within DELAY ms.
jq -r --argjson t0 "$T0" 'select(.t >= $t0) | .t' "$rcv_LOG" | sort -n >"$W/arrivals"
peak=$(awk -v d="$DELAY" '
    { t[NR] = $1; while (t[NR] - t[lo + 1] >= d) lo++; if (NR - lo > p) p = NR - lo }
    END { print p + 0 }' "$W/arrivals")
spread=$(awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.3f", (b - a) / 1000 }' "$W/arrivals")
released=$(lines "$W/arrivals")
ok200=$(jq -r 'select(.status == 200) | .id' "$rcv_LOG" | sort -u | wc -l | tr -d ' ')
peak_kib=$(sort -n "$W/rss" | tail -n 1)
peak_mib=$(awk -v k="${peak_kib:-0}" 'BEGIN { printf "%.1f", k / 1024 }')
idle_mib=$(awk -v k="${idle_kib:-0}" 'BEGIN { printf "%.1f", k / 1024 }')
arrived_s=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
done_s=$(awk -v a="$T0" -v b="$T2" 'BEGIN { printf "%.2f", (b - a) / 1000 }')

echo
printf 'in flight   peak %6s of %s released   (arrivals spread over %s s; receiver holds each %s ms)\n' \
    "$peak" "$released" "$spread" "$DELAY"
printf 'time        all arrived %s s, all recorded %s s after the release\n' "$arrived_s" "$done_s"
printf 'hookd RSS   peak %s MiB   before the release %s MiB   (%s samples)\n' \
    "$peak_mib" "$idle_mib" "$(lines "$W/rss")"
echo

status=0
le "$peak_mib" "$TARGET_RSS_MIB"; target $? "peak RSS $peak_mib MiB <= $TARGET_RSS_MIB MiB"
ge "$peak" "$released"
target $? "all $released released deliveries were in flight at once (peak $peak)"
if [ "$ok200" -lt "$N" ]; then
    echo "FAIL  $ok200 of $N messages answered 200 at the receiver"
    status=1
else
    echo "PASS  all $N messages delivered"
fi
if [ -n "$left" ] && [ "$left" != 0 ]; then
    echo "FAIL  the due index still holds $left entries"
    status=1
fi
echo "RESULT inflight_peak=$peak peak_rss_mib=$peak_mib idle_rss_mib=$idle_mib" \
    "all_arrived_s=$arrived_s all_done_s=$done_s delivered=$ok200"
exit $status
