#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The delivery benchmarks as smoke tests: each runs at a tiny size and must
# exit 0 (every acknowledged message delivered) and print its figures.
# Performance targets are not asserted here (they only warn in
# `make bench`).
. "$(dirname "$0")/lib.sh"
for b in "$HOOKD" "$RECEIVER" "$TOP/build/bench/paced" "$TOP/build/bench/curlblast"; do
    [ -x "$b" ] || bail "no binary '$b' (make test builds it)"
done
command -v jq >/dev/null || skip_all "jq not installed (sh packaging/deps.sh --test)"
plan 13

bench_smoke deliver-throughput.sh BENCH_MESSAGES=2000
ok "$(positive "$(field deliveries_per_sec)")" "throughput: deliveries/s measured ($(field deliveries_per_sec))"
ok "$(positive "$(field blast_rps)")" "throughput: curlblast baseline measured ($(field blast_rps) req/s)"
is "$(field delivered)" 2000 "throughput: every message delivered"

bench_smoke deliver-latency.sh BENCH_LATENCY_SECONDS=2 BENCH_LATENCY_RATE=500
like "$RESULT" 'p50_ms=[0-9.]+ p99_ms=[0-9.]+ max_ms=[0-9.]+' "latency: p50, p99 and max printed"
is "$(field delivered)" 1000 "latency: every message delivered"

bench_smoke deliver-concurrency.sh BENCH_INFLIGHT=500 BENCH_DELAY_MS=1000
ok "$(positive "$(field peak_rss_mib)")" "concurrency: peak RSS sampled ($(field peak_rss_mib) MiB)"
is "$(field delivered)" 500 "concurrency: every message delivered"

bench_smoke deliver-isolation.sh BENCH_ISOLATION_SECONDS=2 BENCH_ISOLATION_RATE=250
like "$RESULT" 'p99_ms=[0-9.]+ .*base_p99_ms=[0-9.]+' "isolation: healthy and baseline p99 printed"
ok "$(positive "$(field sick_requests)")" "isolation: the hanging endpoint was tried"
done_testing
