#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/cluster-spread.sh - partition groups spread over three nodes,
# beside one group's owner and a single node, in one run.
#
# A single node (no --cluster) takes wrk's 1 KiB messages (tests/bench/
# ingest.lua) for BENCH_DURATION to one app whose endpoint is paused. Then
# three nats-servers, `hookd cluster init --streams 3` and three hookd
# nodes: once each node owns one of the three partition groups, two runs
# of the same length and connections:
#
#   one group   wrk against one node, to one app of the group that node
#               owns: one owner writes everything, the others follow
#   spread      wrk against each node at once (the connections divided),
#               each to an app of the group that node owns (found with
#               `hookd cluster where`): three owners write, each follows
#               the two others' logs
#
# For each: acknowledged messages a second, the POST's p99, and the CPU of
# every hookd process and nats-server (/proc/PID/stat) per message. What
# fails it (exit 1): no message acknowledged, a node that does not own
# exactly one group, or, once the followers caught up, a node whose store
# does not hold a paused delivery for every acknowledged message of every
# group (every node holds every group). Rates are only printed: on a
# 2-core machine three owners share the cores one node had
# (docs/performance.md, "Cluster mode").
#
# Knobs: BENCH_DURATION (wrk -d, default 10s), BENCH_CONNECTIONS (wrk -c,
# default 64), BENCH_THREADS (wrk -t, default 2).
# The last line is machine-readable:
#   RESULT single_rps=N one_group_rps=N spread_rps=N spread_ratio=R
#          (spread / one group) single_us=U one_group_us=U spread_us=U
#          (CPU of every process per message) acked=N held_min=N
BENCH=cluster-spread
. "$(dirname "$0")/deliver.shlib"
LUA=$TOP/tests/bench/ingest.lua
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
command -v wrk >/dev/null || die "'wrk' not found (sh packaging/deps.sh --test installs it)"
. "$(dirname "$0")/cluster.shlib"

RESULT=""
result() { RESULT="$RESULT $1=$2"; }
# procs_ms PID...: their CPU ms, summed.
procs_ms() { _s=0; for _p; do _s=$((_s + $(cpu_ms "$_p"))); done; echo "$_s"; }

# paused_app URL UID: the app UID, made through URL, with one paused endpoint.
paused_app() {
    URL=$1
    api POST /api/v1/app "{\"name\":\"$2\",\"uid\":\"$2\"}"
    _ep=$(endpoint "$2" '{"url":"http://127.0.0.1:9/never"}')
    api POST "/hookd/v1/app/$2/endpoint/$_ep/pause" ''
}

# ingest NAME PIDS "URL APP"...: wrk against every URL at once, each to its
# APP; prints and records NAME_rps, NAME_us (CPU of PIDS per message).
ingest() {
    _name=$1 _pids=$2
    shift 2
    _c=$(( CONNECTIONS / $# )) _i=0 _w=""
    [ "$_c" -ge "$THREADS" ] || _c=$THREADS
    _cpu0=$(procs_ms $_pids)
    for _ua; do
        HOOKD_TOKEN=$TOKEN HOOKD_APP=${_ua#* } wrk -c "$_c" -t "$THREADS" -d "$DURATION" \
            --timeout 10s -s "$LUA" "${_ua% *}" >"$W/wrk-$_name.$_i" 2>&1 &
        _w="$_w $!" _i=$((_i + 1))
    done
    for _p in $_w; do wait "$_p" || die "wrk failed: $(cat "$W/wrk-$_name".*)"; done
    _cpu=$(( $(procs_ms $_pids) - _cpu0 ))
    set -- $(grep -h '^BENCH ' "$W/wrk-$_name".* | awk '{ for (i = 2; i <= NF; i++) {
        split($i, kv, "="); f[kv[1]] = kv[2] }
        ok += f["ok"]; non += f["non2xx"]; if (f["seconds"] > s) s = f["seconds"]
        if (f["p99_ms"] > p99) p99 = f["p99_ms"] }
        END { print ok + 0, non + 0, s + 0, p99 + 0 }')
    [ "$1" -gt 0 ] || die "$_name: no message acknowledged ($(cat "$W/wrk-$_name".*))"
    ACKED=$((ACKED + $1))
    result "${_name}_rps" "$(div "$1" "$3")"
    result "${_name}_us" "$(div $((_cpu * 1000)) "$1")"
    printf '  %-10s %7s msg/s (%s acknowledged in %s s, %s non-2xx; p99 %s ms); CPU %s us a message\n' \
        "$_name" "$(div "$1" "$3")" "$1" "$3" "$2" "$4" "$(div $((_cpu * 1000)) "$1")"
}

echo "single node (load $(loadavg))"
hookd_up
paused_app "$URL" single
ACKED=0
ingest single "$HOOKD_PID" "$URL single"
hookd_down

echo "cluster: 3 nats-servers, init --streams 3, 3 hookd nodes (load $(loadavg))"
nats_cluster_start 3
export HOOKD_ADMIN_TOKEN=hk_benchSpreadAdminTokenForAllNodes
TOKEN=$HOOKD_ADMIN_TOKEN
"$HOOKD" cluster init --cluster "$NATS_URLS" --streams 3 >"$W/init.out" 2>&1 \
    || die "cluster init: $(cat "$W/init.out")"
for _n in a b c; do node_start "$_n"; done
# one_each: every node owns exactly one group, as node a sees them
one_each() {
    [ "$(stats "$URL_a" '[.cluster.nodes[] | select(.reachable) | .owns | length] | sort | join(",")')" = 1,1,1 ]
}
wait_for 60 one_each || die "the three groups did not spread over the three nodes in 60 s"
PIDS="$PID_a $PID_b $PID_c $NATS_PID_1 $NATS_PID_2 $NATS_PID_3"
# an app of each node's group: the first sp-K that `cluster where` puts there
for _n in a b c; do
    _k=1
    until "$HOOKD" cluster where --cluster "$NATS_URLS" --app "sp-$_n$_k" | grep -q "owner $_n\$"; do
        _k=$((_k + 1))
        [ "$_k" -le 200 ] || die "no app of node $_n's group among 200 names"
    done
    eval "APP_$_n=sp-$_n$_k"
    eval "paused_app \"\$URL_$_n\" \"\$APP_$_n\""
done
ACKED=0
ingest one_group "$PIDS" "$URL_a $APP_a"
ingest spread "$PIDS" "$URL_a $APP_a" "$URL_b $APP_b" "$URL_c $APP_c"

# every node, caught up, holds a paused delivery for every acknowledged message
held_all() {
    HELD_MIN=""
    for _n in a b c; do
        eval "_h=\$(stats \"\$URL_$_n\" .deliveriesHeld)"
        [ "${_h:-0}" -ge "$ACKED" ] || return 1
        [ -n "$HELD_MIN" ] && [ "$HELD_MIN" -le "$_h" ] || HELD_MIN=$_h
    done
}
wait_for 120 held_all || die "a node holds fewer than the $ACKED acknowledged messages" \
    "($(for _n in a b c; do eval "stats \"\$URL_$_n\" .deliveriesHeld"; done | tr '\n' ' '))"
result acked "$ACKED"
result held_min "$HELD_MIN"
result spread_ratio "$(awk -v s="${RESULT##*spread_rps=}" -v o="${RESULT##*one_group_rps=}" \
    'BEGIN { split(s, a, " "); split(o, b, " "); printf "%.2f", (b[1] > 0 ? a[1] / b[1] : 0) }')"
echo "  every node holds all $ACKED acknowledged messages (load $(loadavg))"
echo "RESULT$RESULT"
