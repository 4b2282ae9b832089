#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/deliver-throughput.sh - how many deliveries a second hookd
# makes to one fast endpoint with a deep backlog.
#
# Starts the test receiver and hookd, creates the app "bench" with one
# endpoint at RECEIVER/x/ok throttled to 1 delivery a second, and lets
# build/bench/paced POST BENCH_MESSAGES 1 KiB messages as fast as hookd
# acknowledges them: the backlog piles up in the due index. Then a PATCH
# lifts the throttle (the dispatcher reloads an endpoint's settings when
# they change) and the clock runs from the PATCH until the receiver has
# logged the last of them. Every acknowledged message must arrive (distinct
# webhook-ids) and hookd's due index must drain, or the script fails.
#
# Baseline in the same run: build/bench/curlblast, a bare libcurl-multi
# client with as many threads as hookd has workers and as many transfers in
# flight as hookd's per-endpoint cap, posts the same number of 1 KiB bodies
# to the same receiver path, once before hookd (to a fresh receiver of the
# same build and options, so its log holds only hookd's deliveries) and
# once after; the ratio uses the mean of the two, so a machine whose speed
# drifts during the run moves both sides. Both also report CPU time per request (hookd's
# from /proc while the backlog drains, curlblast's from getrusage): on a
# small machine where the CPU is the limit, that says where the time goes
# better than the rates, which move with whatever else runs.
#
# Knobs (environment):
#   BENCH_MESSAGES     messages, default 100000
#   BENCH_WORKERS      hookd --workers and curlblast threads, default nproc
#   BENCH_CONCURRENCY  hookd --endpoint-concurrency and curlblast's total
#                      transfers in flight, default 64 (hookd's default)
#   BENCH_TIMEOUT      seconds to wait for the backlog to drain, default 300
#
# The last line is machine-readable:
#   RESULT deliveries_per_sec=N seconds=S delivered=N duplicates=N
#          blast_rps=N (the mean) blast_before_rps=N blast_after_rps=N ratio=R
#          cpu_us_per_delivery=U blast_cpu_us_per_req=U (the mean)
BENCH=deliver-throughput
. "$(dirname "$0")/deliver.shlib"
MESSAGES=${BENCH_MESSAGES:-100000}
WORKERS=${BENCH_WORKERS:-$(nproc)}
CONC=${BENCH_CONCURRENCY:-64}
TIMEOUT=${BENCH_TIMEOUT:-300}
TARGET_RATE=15000
TARGET_RATIO=0.5
[ -x "$CURLBLAST" ] || die "no binary '$CURLBLAST' (make build/bench/curlblast)"

# blast URL OUT: the baseline run, its BLAST line in OUT.
blast() {
    "$CURLBLAST" --url "$1" --requests "$MESSAGES" --threads "$WORKERS" \
        --concurrency "$CONC" >"$2" 2>"$W/blast.err" || die "curlblast failed: $(cat "$2")"
}

echo "baseline: curlblast, $WORKERS threads, $CONC in flight, a receiver like hookd's"
receiver_up rcv0
blast "$rcv0_URL/x/ok" "$W/blast0.out"
kill -TERM "$rcv0_PID"
wait "$rcv0_PID" 2>/dev/null

receiver_up rcv
hookd_up --workers "$WORKERS" --endpoint-concurrency "$CONC"
api POST /api/v1/app '{"name":"bench","uid":"bench"}'
EP=$(endpoint bench "{\"url\":\"$rcv_URL/x/ok\",\"throttleRate\":1}")

echo "ingest: $MESSAGES messages of 1 KiB into a throttled endpoint"
"$PACED" --url "$URL" --token "$TOKEN" --app bench --rate 0 --count "$MESSAGES" \
    --connections 256 --no-stamp --deadline "$TIMEOUT" >"$W/paced.out" 2>"$W/paced.err" ||
    die "ingest failed: $(cat "$W/paced.out")"
echo "  $(cat "$W/paced.out")"
before=$(lines "$rcv_LOG")

echo "deliver: lift the throttle, $WORKERS workers, endpoint concurrency $CONC"
C0=$(cpu_ms "$HOOKD_PID") R0=$(cpu_ms "$rcv_PID")
T0=$(now_ms)
api PATCH "/api/v1/app/bench/endpoint/$EP" '{"throttleRate":null}'
wait_lines "$rcv_LOG" "$MESSAGES" "$TIMEOUT" ||
    die "only $(lines "$rcv_LOG") of $MESSAGES messages delivered after ${TIMEOUT}s"
wait_due_empty 30 || echo "WARN: hookd's due index still holds $(due_entries) entries"
left=$(due_entries)
C1=$(cpu_ms "$HOOKD_PID") R1=$(cpu_ms "$rcv_PID")
stats=$(jq -r --argjson t0 "$T0" 'select(.t >= $t0) | .t' "$rcv_LOG" |
    awk -v t0="$T0" '{ n++; if ($1 > m) m = $1 } END { printf "%d %.3f\n", n, (m - t0) / 1000 }')
after=${stats% *} secs=${stats#* }
rate=$(awk -v n="$after" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
total=$(lines "$rcv_LOG")
distinct=$(distinct_ids "$rcv_LOG")
dups=$((total - distinct))
hookd_down
[ "$HOOKD_RC" = 0 ] || echo "WARN: hookd exited with status $HOOKD_RC on SIGTERM"

echo "baseline: curlblast again, same receiver path as hookd's"
blast "$rcv_URL/x/ok" "$W/blast1.out"
blast0=$(cat "$W/blast0.out") blast1=$(cat "$W/blast1.out")
mean() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (a + b) / 2 }'; }
brps=$(mean "$(field "$blast0" rps)" "$(field "$blast1" rps)")
bcpu=$(mean "$(field "$blast0" cpu_us_per_req)" "$(field "$blast1" cpu_us_per_req)")
ratio=$(awk -v a="$rate" -v b="$brps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
# CPU per delivery: where a 2-core machine's time went while the backlog drained.
us_per=$(awk -v c=$((C1 - C0)) -v n="$after" 'BEGIN { printf "%.0f", (n > 0 ? c * 1000 / n : 0) }')
cpu=$(awk -v c=$((C1 - C0)) -v r=$((R1 - R0)) -v s="$secs" -v u="$us_per" 'BEGIN {
    printf "hookd %.2f cores (%s us CPU per delivery), receiver %.2f cores",
        (s > 0 ? c / 1000 / s : 0), u, (s > 0 ? r / 1000 / s : 0) }')

echo
printf 'hookd       %8s deliveries/s   (%s after the PATCH in %s s; %s before it; %s duplicates)\n' \
    "$rate" "$after" "$secs" "$before" "$dups"
printf 'curlblast   %8s requests/s     (before hookd: %s)\n' "$(field "$blast0" rps)" "$blast0"
printf 'curlblast   %8s requests/s     (after hookd: %s)\n' "$(field "$blast1" rps)" "$blast1"
printf 'ratio       %8s   (hookd / the mean of the two, %s)\n' "$ratio" "$brps"
printf 'CPU         %s\n' "$cpu"
echo

status=0
ge "$rate" "$TARGET_RATE"; target $? "hookd deliveries/s $rate >= $TARGET_RATE"
ge "$ratio" "$TARGET_RATIO"; target $? "ratio hookd/curlblast $ratio >= $TARGET_RATIO"
if [ "$distinct" -lt "$MESSAGES" ]; then
    echo "FAIL  $distinct distinct messages delivered of $MESSAGES acknowledged"
    status=1
else
    echo "PASS  every acknowledged message delivered ($distinct distinct)"
fi
if [ -n "$left" ] && [ "$left" != 0 ]; then
    echo "FAIL  the due index still holds $left entries after every delivery arrived"
    status=1
fi
echo "RESULT deliveries_per_sec=$rate seconds=$secs delivered=$distinct duplicates=$dups" \
    "blast_rps=$brps blast_before_rps=$(field "$blast0" rps)" \
    "blast_after_rps=$(field "$blast1" rps) ratio=$ratio cpu_us_per_delivery=$us_per" \
    "blast_cpu_us_per_req=$bcpu"
exit $status
