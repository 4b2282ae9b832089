#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/cluster.sh as a smoke test: a single node, three nats-servers
# with three hookd nodes (one owner, two standbys), and the single node
# again, each at a tiny size (2 s of ingest, 500 messages delivered, 2 s at 500 msg/s). It
# must exit 0 and its figures must show what cannot be noise: every
# acknowledged message delivered once to its own endpoint's receiver and
# none to the paused one, nothing delivered by a standby, the standbys at
# the owner's seq with the same stored messages and held deliveries, an
# ingest rate, latency samples and publish round trips measured. No rate
# or latency is asserted (make bench prints them). With a small max-body,
# so that batches outgrow one log message (see below).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"
for b in "$RECEIVER" "$TOP/build/bench/paced"; do
    [ -x "$b" ] || bail "no binary '$b' (make test builds it)"
done
command -v wrk >/dev/null || bail "no wrk: run sh packaging/deps.sh --test"
plan 14

MESSAGES=500 RATE=500 SECS=2
# A small max-body makes the log's stream take messages of at most 68 KiB
# (max-body + 64 KiB), well below the servers' max_payload (4 MiB): the
# 500 delivery outcomes and the 256 requests in flight of the delivery run
# make writer batches larger than that, which the owner must split into
# several log messages (one refused batch is 503s, or outcomes not
# recorded and deliveries made twice).
export HOOKD_MAX_BODY=4KiB
bench_smoke cluster.sh BENCH_DURATION=${SECS}s BENCH_CONNECTIONS=16 BENCH_MESSAGES=$MESSAGES \
    BENCH_LATENCY_SECONDS=$SECS BENCH_LATENCY_RATE=$RATE

ok "$(positive "$(field c_ingest_rps)")" "the cluster's ingest rate measured ($(field c_ingest_rps) msg/s)"
ok "$(positive "$(field s_ingest_rps)")" "beside the single node's ($(field s_ingest_rps) msg/s)"
ok "$(positive "$(field c_deliveries_per_sec)")" "the cluster's delivery rate measured ($(field c_deliveries_per_sec)/s)"
is "$(field c_lat_samples) $(field s_lat_samples)" "$((RATE * SECS)) $((RATE * SECS))" \
   "a latency sample for every message sent, cluster and single"
like "$(field c_p99_ms)" '^[0-9.]+$' "the cluster's p99 printed ($(field c_p99_ms) ms)"
ok "$(positive "$(field c_publish_avg_us)")" "the owner's publish round trip measured ($(field c_publish_avg_us) us)"
is "$(field delivered)" $((3 * (MESSAGES + RATE * SECS))) "every message of the delivery and latency runs delivered"
is "$(field missing) $(field duplicates)" "0 0" "none missing, none twice"
is "$(field misplaced)" 0 "nothing delivered to the paused endpoint"
is "$(field standby_attempts)" 0 "the standbys delivered nothing"
is "$(field caught_up)" 1 "the standbys reached the owner's seq and the log's end"
is "$(field stores_equal)" 1 "with the owner's stored messages and held deliveries"
like "$(cat "$T/bench.out")" 'single node +single after +3 nodes +ratio' "the figures are printed side by side"
done_testing
