#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/cluster-spread.sh as a smoke test: a single node, then three
# nats-servers with three hookd nodes owning one partition group each, at
# a tiny size (2 s of ingest a run). It must exit 0, every node owning one
# group, and every node, caught up, must hold a paused delivery for every
# message acknowledged to any group. No rate is asserted (make bench prints
# them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"
command -v wrk >/dev/null || bail "no wrk: run sh packaging/deps.sh --test"
plan 6

bench_smoke cluster-spread.sh BENCH_DURATION=2s BENCH_CONNECTIONS=12
ok "$(positive "$(field spread_rps)")" "the spread run's ingest rate measured ($(field spread_rps) msg/s)"
ok "$(positive "$(field one_group_rps)")" "beside one group's ($(field one_group_rps) msg/s)"
ok "$(positive "$(field single_rps)")" "and a single node's ($(field single_rps) msg/s)"
ok "$(positive "$(field acked)")" "messages acknowledged to the cluster ($(field acked))"
ok "$(awk -v h="$(field held_min)" -v a="$(field acked)" 'BEGIN { exit !(h + 0 >= a + 0 && a > 0) }'; echo $?)" \
    "every node holds every acknowledged message of every group ($(field held_min) >= $(field acked))"
