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

env BENCH_DURATION=2s BENCH_CONNECTIONS=12 HOOKD="$HOOKD" \
    sh "$TOP/tests/bench/cluster-spread.sh" >"$T/bench.out" 2>&1
RC=$?
is "$RC" 0 "tests/bench/cluster-spread.sh exits 0"
[ "$RC" = 0 ] || sed 's/^/# /' "$T/bench.out" >&2
RESULT=$(grep '^RESULT ' "$T/bench.out")
field() { printf '%s\n' "$RESULT" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
positive() { awk -v v="${1:-0}" 'BEGIN { exit !(v > 0) }'; echo $?; }
ok "$(positive "$(field spread_rps)")" "the spread run's ingest rate measured ($(field spread_rps) msg/s)"
ok "$(positive "$(field one_group_rps)")" "beside one group's ($(field one_group_rps) msg/s)"
ok "$(positive "$(field single_rps)")" "and a single node's ($(field single_rps) msg/s)"
ok "$(positive "$(field acked)")" "messages acknowledged to the cluster ($(field acked))"
ok "$(awk -v h="$(field held_min)" -v a="$(field acked)" 'BEGIN { exit !(h + 0 >= a + 0 && a > 0) }'; echo $?)" \
    "every node holds every acknowledged message of every group ($(field held_min) >= $(field acked))"
