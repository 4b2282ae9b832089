#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/cluster.sh - a 3-node cluster beside a single node, in one run.
#
# First a single node (no --cluster), then three nats-servers
# (tests/cluster.sh), `hookd cluster init --streams 1` and three hookd nodes
# with --cluster-role auto: one owns the cluster's one partition group, two
# follow it as standbys (cluster-spread.sh spreads groups over nodes); then the single node again. Each gets the
# same three runs (measure):
#
#   ingest    wrk POSTs 1 KiB messages (tests/bench/ingest.lua) for
#             BENCH_DURATION to an app whose one endpoint is paused, as
#             ingest.sh does: acknowledged messages a second
#   delivery  BENCH_MESSAGES messages into an endpoint throttled to 1 a
#             second, then the throttle is lifted: deliveries a second to a
#             loopback receiver until it has them all, as
#             deliver-throughput.sh does
#   latency   build/bench/paced at BENCH_LATENCY_RATE (2,000) messages a
#             second for BENCH_LATENCY_SECONDS to a live endpoint: message-
#             to-delivery p50, p99 and max at the receiver, as
#             deliver-latency.sh does
#
# and for each run the CPU each process used (/proc/PID/stat before and
# after: the owner, the standbys, the nats-servers, and the whole machine
# from /proc/stat) per message. For the cluster also the owner's publish
# round trip per batch (the delta of /hookd/v1/stats' cluster.publish
# over the run), the owner's writer batches (hookd_writer_batch_size), and
# the standbys' lag behind the owner (its cluster.seq minus theirs, in log
# messages): the largest seen once a second during each run, and at its end
# (with about as many entries as a message carried in that run) and how
# long they took to reach the owner's seq of that moment. It prints the
# setups side by side with the ratio cluster / single (the figures and the
# baseline from the same run: the machine's speed drifts, so the single
# node runs again after the cluster, and the ratios use the mean of its two
# runs, or the lower of its two latencies).
#
# The requests go to the owner now; measure (run_phases and the checks)
# takes the nodes to send to and adds a column to the report, so a run
# spread over every node (once any node forwards writes to the owner) is
# one more call: measure cs "3, spread" "$URL_a" "$URL_b" "$URL_c".
#
# What fails it (exit 1): an acknowledged message that is not stored and
# held for the paused endpoint, or not delivered to its own endpoint's
# receiver, a delivery twice (nothing fails here, so a duplicate is a bug:
# a standby delivering, say) or anywhere else (the paused endpoint's
# receiver must stay empty), a standby that made a delivery, an owner
# whose successful attempts differ from what the receivers got, no
# message acknowledged, no latency sample, and a standby that does not
# reach the owner's seq and the log's end with the same number of stored
# messages and held deliveries. Rates and latencies are only printed:
# this machine has 2 cores for 7 processes, so the figures are not targets
# (docs/performance.md, "Cluster mode", says what they mean for three
# machines).
#
# Knobs (environment):
#   BENCH_DURATION         wrk -d of the ingest run, default 10s
#   BENCH_CONNECTIONS      wrk -c, default 64
#   BENCH_THREADS          wrk -t, default 2
#   BENCH_MESSAGES         messages of the delivery run, default 30000
#   BENCH_LATENCY_SECONDS  how long the latency run sends, default 20
#   BENCH_LATENCY_RATE     messages a second, default 2000
#   BENCH_TIMEOUT          seconds to wait for a backlog to drain, default 300
#   BENCH_BASELINE_AFTER   1 (default): the single node again after the
#                          cluster, the ratios over the mean of both; 0: once
#
# The last line is machine-readable (s_ the single node, c_ the cluster):
#   RESULT {s,c}_ingest_rps=N {s,c}_deliveries_per_sec=N
#          {s,c}_p50_ms=L {s,c}_p99_ms=L {s,c}_max_ms=L {s,c}_lat_samples=N
#          ingest_ratio=R deliver_ratio=R p99_ratio=R (over the mean of
#          the single node's two runs, the lower of its two p99s; s2_ the
#          one after the cluster)
#          {s,c}_owner_us_per_msg=U c_nats_us_per_msg=U c_standby_us_per_msg=U
#          (ingest run; the standbys' figure is each one's)
#          c_publish_avg_us=U c_publish_max_us=U c_entries_per_batch=N
#          c_lag_max=N (during the ingest run) c_lag_msgs=N c_catchup_ms=N
#          (at its end)
#          acked=N delivered=N missing=N duplicates=N misplaced=N
#          standby_attempts=N caught_up=0|1 stores_equal=0|1
BENCH=cluster
. "$(dirname "$0")/deliver.shlib"
LUA=$TOP/tests/bench/ingest.lua
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
MESSAGES=${BENCH_MESSAGES:-30000}
LAT_SECONDS=${BENCH_LATENCY_SECONDS:-20}
RATE=${BENCH_LATENCY_RATE:-2000}
TIMEOUT=${BENCH_TIMEOUT:-300}
AFTER=${BENCH_BASELINE_AFTER:-1}
command -v wrk >/dev/null || die "'wrk' not found (sh packaging/deps.sh --test installs it)"

. "$(dirname "$0")/cluster.shlib"

# ---- figures: "KEY VALUE" lines in $W/results ----
put() { echo "$1 $2" >>"$W/results"; }
get() { awk -v k="$1" '$1 == k { v = substr($0, length(k) + 2) } END { print (v == "" ? "-" : v) }' "$W/results"; }
: >"$W/results"

# ---- the processes of a setup: PROCS is "LABEL:PID ...", labels owner,
# standby and nats; OWNER_URL takes the admin calls; STANDBY_URLS follow ----
# cpu_snap FILE: "LABEL MS" for each process, the machine's busy ms (every
# process's, other work's too) and the wall clock's ms.
cpu_snap() {
    echo "wall $(now_ms)" >"$1"
    for _lp in $PROCS; do echo "${_lp%%:*} $(cpu_ms "${_lp#*:}")"; done >>"$1"
    awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {
        printf "machine %d\n", ($2 + $3 + $4 + $7 + $8 + $9) * 1000 / hz }' /proc/stat >>"$1"
    # and the owner's hookd_writer_batch_size count and sum, "COUNT SUM" in FILE.wb
    curl -s --max-time 5 -H "Authorization: Bearer $TOKEN" "$OWNER_URL/metrics" | awk '
        $1 == "hookd_writer_batch_size_count" { c = $2 } $1 == "hookd_writer_batch_size_sum" { s = $2 }
        END { printf "%d %d\n", c, s }' >"$1.wb"
}
# cpu_used A B LABEL: ms the LABEL processes used from snapshot A to B.
cpu_used() {
    awk -v l="$3" 'FNR == NR { if ($1 == l) a += $2; next } $1 == l { b += $2 }
        END { print b - a }' "$1" "$2"
}
# cpu_figures P RUN A B N: per LABEL the cores used from snapshot A to B and
# the CPU us per unit (N units); puts P_RUN_LABEL_us and P_RUN_LABEL_cores.
cpu_figures() {
    _line="" _wall=$(cpu_used "$3" "$4" wall)
    for _l in owner standby nats machine; do
        _k=$(echo "$PROCS" | tr ' ' '\n' | grep -c "^$_l:")
        [ "$_l" = machine ] && _k=1
        [ "$_k" = 0 ] && continue
        _ms=$(cpu_used "$3" "$4" "$_l")
        # the standbys each (both do the same work), the nats-servers in all
        _each=$_ms
        [ "$_l" = standby ] && _each=$(div "$_ms" "$_k")
        put "$1_$2_${_l}_us" "$(div "$((_each * 1000))" "$5")"
        put "$1_$2_${_l}_cores" "$(div "$_ms" "$_wall" %.2f)"
        _line="$_line  $_l $(get "$1_$2_${_l}_cores") cores ($(get "$1_$2_${_l}_us") us)"
        [ "$_l" = nats ] || continue
        # each nats-server's share (the stream's leader works more than its followers)
        _each=$(awk -v n="$5" 'FNR == NR { if ($1 == "nats") a[++i] = $2; next }
            $1 == "nats" { j++; printf "%s%.0f", (j > 1 ? "+" : ""), (n > 0 ? ($2 - a[j]) * 1000 / n : 0) }' "$3" "$4")
        put "$1_$2_nats_each_us" "$_each"
        _line="$_line (each $_each us)"
    done
    # the rest: the load generator, the receivers, and other work on the machine
    _rest=$(( $(cpu_used "$3" "$4" machine) - $(cpu_used "$3" "$4" owner) - \
        $(cpu_used "$3" "$4" standby) - $(cpu_used "$3" "$4" nats) ))
    put "$1_$2_rest_cores" "$(div "$_rest" "$_wall" %.2f)"
    echo "  CPU (per unit):$_line, the rest $(get "$1_$2_rest_cores") cores"
    # the owner's writer batches (requests applied per transaction) meanwhile
    set -- "$1" "$2" $(cat "$3.wb") $(cat "$4.wb")
    put "$1_$2_writer_batch" "$(div "$(($6 - $4))" "$(($5 - $3))" %.1f)"
    echo "  the owner's writer: $(($5 - $3)) batches of $(get "$1_$2_writer_batch") requests on average"
}

# pub_snap: the owner's publish figures "batches messages entries total_us max_us".
pub_snap() {
    stats "$OWNER_URL" '.cluster.publish // empty |
        "\(.batches) \(.messages) \(.entries) \(.avgUs * .batches) \(.maxUs) \(.failures) \(.caughtUp)"'
}
# pub_figures P RUN BEFORE: the owner's publishes during the run.
pub_figures() {
    [ -n "$3" ] || return 0
    set -- "$1" "$2" $3 $(pub_snap)
    _b=$((${10} - $3)) _m=$((${11} - $4)) _e=$((${12} - $5)) _us=$((${13} - $6))
    _f=$((${15} - $8)) _cu=$((${16} - $9)) _max=${14}
    put "$1_$2_batches" "$_b"
    put "$1_$2_publish_avg_us" "$(div "$_us" "$_b")"
    put "$1_$2_publish_max_us" "$_max"
    put "$1_$2_publish_failures" "$_f"
    put "$1_$2_entries_per_batch" "$(div "$_e" "$_b" %.1f)"
    put "$1_$2_entries_per_msg" "$(div "$_e" "$_m" %.1f)"
    echo "  publish: $_b batches ($_m log messages, $_e entries, $(get "$1_$2_entries_per_batch") a batch)," \
        "$(get "$1_$2_publish_avg_us") us a batch on average, $_max us the longest so far;" \
        "$_f failed, $_cu caught up from the log"
}

# seq_at URL: the node's cluster.seq (-1 when it does not answer).
seq_at() { _v=$(stats "$1" '.cluster.seq // empty'); echo "${_v:--1}"; }
# lag_sampler: while a run lasts, each standby's lag behind the owner once
# a second into $W/lag: the standbys are asked first, then the owner, so a
# figure may count what the owner published in between (a few ms) as lag:
# an upper bound. Once a second, since each look forks curl and jq.
LAG_PID=""
lag_sampler() {
    [ -n "$STANDBY_URLS" ] || return 0
    : >"$W/lag"
    (
        while :; do
            # one curl, the standbys then the owner: "OWNER - STANDBY" a line
            _sq=""
            for _su in $STANDBY_URLS $OWNER_URL; do _sq="$_sq $_su/hookd/v1/stats"; done
            # shellcheck disable=SC2086
            curl -s --max-time 5 -H "Authorization: Bearer $TOKEN" $_sq | jq -r .cluster.seq |
                awk '{ v[NR] = $1 } END { for (i = 1; i < NR; i++) print v[NR] - v[i] }'
            sleep 1
        done >>"$W/lag"
    ) &
    LAG_PID=$!
    BENCH_PIDS="$BENCH_PIDS $LAG_PID"
}
# lag_figures P RUN: the largest lag the sampler saw during the run, each
# standby's lag right after it, and the ms until all of them have the
# owner's seq of that moment.
lag_figures() {
    [ -n "$STANDBY_URLS" ] || return 0
    kill "$LAG_PID" 2>/dev/null
    wait "$LAG_PID" 2>/dev/null
    put "$1_$2_lag_max" "$(sort -n "$W/lag" | tail -n 1)"
    _t0=$(now_ms) _o=$(seq_at "$OWNER_URL") _max=0 _lags=""
    for _u in $STANDBY_URLS; do
        _l=$((_o - $(seq_at "$_u")))
        _lags="$_lags $_l"
        [ "$_l" -gt "$_max" ] && _max=$_l
    done
    # (each look costs a stats request a node, a few ms: 0 means there at the first look)
    _all_at() { for _u in $STANDBY_URLS; do [ "$(seq_at "$_u")" -ge "$1" ] || return 1; done; }
    if [ "$_max" -le 0 ]; then
        put "$1_$2_catchup_ms" 0
    elif wait_for 60 _all_at "$_o"; then
        put "$1_$2_catchup_ms" $(( $(now_ms) - _t0 ))
    else
        put "$1_$2_catchup_ms" never
    fi
    put "$1_$2_lag_msgs" "$_max"
    _em=$(get "$1_$2_entries_per_msg")
    put "$1_$2_lag_entries" "$(awk -v l="$_max" -v e="$_em" 'BEGIN { printf "%.0f", l * e }')"
    echo "  standbys: at most $(get "$1_$2_lag_max") log messages behind the owner during the run" \
        "(an upper bound, sampled each second); behind its seq $_o by$_lags (about $(get "$1_$2_lag_entries") entries)" \
        "at the end; all there after $(get "$1_$2_catchup_ms") ms"
}

# app P NAME: an app NAME with one endpoint on a fresh receiver NAME,
# path /NAME, with the extra endpoint JSON $3; sets EP.
app() {
    receiver_up "$2"
    eval "_rurl=\$$2_URL"
    api POST /api/v1/app "{\"name\":\"$2\",\"uid\":\"$2\"}"
    EP=$(endpoint "$2" "{\"url\":\"$_rurl/$2\"${3:+,$3}}")
}

# paced_split OUT URLS ARGS...: paced against each of URLS (space-separated)
# at once, --rate and --count divided among them; sums their PACED lines
# into OUT ("ok requests ack_p50 ack_p99 ack_max", the latencies the worst).
paced_split() {
    _out=$1 _urls=$2
    shift 2
    _n=$(echo $_urls | wc -w) _i=0 _pids=""
    _args="" _prev=""
    for _a; do
        case $_prev in
        --rate | --count) _a=$(div "$_a" "$_n") ;;
        --connections) _a=$(( (_a + _n - 1) / _n )) ;;
        esac
        _args="$_args $_a" _prev=$_a
    done
    for _u in $_urls; do
        # shellcheck disable=SC2086
        "$PACED" --url "$_u" --token "$TOKEN" $_args >"$_out.$_i" 2>"$W/paced.err" &
        _pids="$_pids $!" _i=$((_i + 1))
    done
    for _pp in $_pids; do wait "$_pp"; done
    cat "$_out".* | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        ok += f["ok"]; req += f["requests"]
        if (f["ack_p50_ms"] > p50) p50 = f["ack_p50_ms"]
        if (f["ack_p99_ms"] > p99) p99 = f["ack_p99_ms"]
        if (f["ack_max_ms"] > mx) mx = f["ack_max_ms"] }
        END { print ok + 0, req + 0, p50 + 0, p99 + 0, mx + 0 }' >"$_out"
}

# ---- the three runs ----

# ingest_run P URL...: wrk against each URL at once (the connections
# divided), to the app P_in whose one endpoint is paused.
ingest_run() {
    _p=$1
    shift
    echo "ingest ($_p): wrk -c $CONNECTIONS -t $THREADS -d $DURATION, 1 KiB messages to $*" \
        "(endpoint paused; load $(loadavg))"
    app "$_p" "${_p}_in"
    api POST "/hookd/v1/app/${_p}_in/endpoint/$EP/pause" ''
    _c=$(( CONNECTIONS / $# )) _i=0 _pids=""
    [ "$_c" -ge "$THREADS" ] || _c=$THREADS
    _pub=$(pub_snap)
    cpu_snap "$W/cpu0"
    lag_sampler
    for _u; do
        HOOKD_TOKEN=$TOKEN HOOKD_APP=${_p}_in wrk -c "$_c" -t "$THREADS" -d "$DURATION" \
            --timeout 10s -s "$LUA" "$_u" >"$W/wrk-$_p.$_i" 2>&1 &
        _pids="$_pids $!" _i=$((_i + 1))
    done
    for _w in $_pids; do wait "$_w" || die "wrk failed: $(cat "$W/wrk-$_p".*)"; done
    cpu_snap "$W/cpu1"
    grep -h '^BENCH ' "$W/wrk-$_p".* >"$W/wrk-$_p" || die "wrk printed no BENCH line: $(cat "$W/wrk-$_p".*)"
    set -- $(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        ok += f["ok"]; non += f["non2xx"]; se += f["sockerr"]
        if (f["seconds"] > s) s = f["seconds"]
        if (f["p50_ms"] > p50) p50 = f["p50_ms"]
        if (f["p99_ms"] > p99) p99 = f["p99_ms"] }
        END { print ok + 0, non + 0, se + 0, s + 0, p50 + 0, p99 + 0 }' "$W/wrk-$_p")
    put "${_p}_acked_in" "$1"
    put "${_p}_ingest_rps" "$(div "$1" "$4")"
    put "${_p}_ingest_p50_ms" "$5"
    put "${_p}_ingest_p99_ms" "$6"
    put "${_p}_ingest_errors" "$(($2 + $3))"
    echo "  $(get "${_p}_ingest_rps") msg/s ($1 acknowledged in $4 s, $2 non-2xx, $3 socket errors;" \
        "p50 $5 ms, p99 $6 ms)"
    cpu_figures "$_p" in "$W/cpu0" "$W/cpu1" "$1"
    pub_figures "$_p" in "$_pub"
    lag_figures "$_p" in
    put "${_p}_held" "$(stats "$OWNER_URL" .deliveriesHeld)"
}

# deliver_run P URL...: BENCH_MESSAGES into P_thr's throttled endpoint,
# sent through the URLs; then the throttle is lifted on the owner.
deliver_run() {
    _p=$1
    shift
    echo "delivery ($_p): $MESSAGES messages into an endpoint throttled to 1/s through $* (load $(loadavg))"
    app "$_p" "${_p}_thr" '"throttleRate":1'
    paced_split "$W/paced-$_p-thr" "$*" --app "${_p}_thr" --rate 0 --count "$MESSAGES" \
        --connections 256 --no-stamp --deadline "$TIMEOUT"
    read -r _acked _req _x <"$W/paced-$_p-thr"
    put "${_p}_acked_thr" "$_acked"
    [ "$_acked" -gt 0 ] || die "no message of the delivery run acknowledged: $(cat "$W/paced-$_p-thr".*)"
    eval "_log=\$${_p}_thr_LOG"
    _before=$(lines "$_log")
    _pub=$(pub_snap)
    cpu_snap "$W/cpu0"
    lag_sampler
    _t0=$(now_ms)
    api PATCH "/api/v1/app/${_p}_thr/endpoint/$EP" '{"throttleRate":null}'
    wait_lines "$_log" "$_acked" "$TIMEOUT" ||
        echo "WARN: only $(lines "$_log") of $_acked delivered after ${TIMEOUT}s"
    cpu_snap "$W/cpu1"
    set -- $(jq -r --argjson t0 "$_t0" 'select(.t >= $t0) | .t' "$_log" |
        awk -v t0="$_t0" '{ n++; if ($1 > m) m = $1 } END { printf "%d %.3f\n", n, (m - t0) / 1000 }')
    put "${_p}_deliveries_per_sec" "$(div "$1" "$2")"
    echo "  $(get "${_p}_deliveries_per_sec") deliveries/s ($1 after the PATCH in $2 s, $_before before;" \
        "$_acked of $_req acknowledged)"
    cpu_figures "$_p" thr "$W/cpu0" "$W/cpu1" "$1"
    pub_figures "$_p" thr "$_pub"
    lag_figures "$_p" thr
}

# latency_run P URL...: paced at RATE for LAT_SECONDS to P_lat's live endpoint.
latency_run() {
    _p=$1
    shift
    echo "latency ($_p): $RATE messages/s for ${LAT_SECONDS}s through $* (load $(loadavg))"
    app "$_p" "${_p}_lat"
    eval "_log=\$${_p}_lat_LOG"
    _pub=$(pub_snap)
    cpu_snap "$W/cpu0"
    lag_sampler
    paced_split "$W/paced-$_p-lat" "$*" --app "${_p}_lat" --rate "$RATE" --seconds "$LAT_SECONDS" \
        --connections 256
    read -r _acked _req _a50 _a99 _amax <"$W/paced-$_p-lat"
    put "${_p}_acked_lat" "$_acked"
    wait_lines "$_log" "$_acked" 60 || echo "WARN: only $(lines "$_log") of $_acked arrived after 60 s"
    cpu_snap "$W/cpu1"
    set -- $(pcts "$_log" .lat_ms)
    put "${_p}_p50_ms" "$1"
    put "${_p}_p99_ms" "$2"
    put "${_p}_max_ms" "$3"
    put "${_p}_lat_samples" "$4"
    put "${_p}_ack_p99_ms" "$_a99"
    echo "  delivery p50 $1 ms, p99 $2 ms, max $3 ms ($4 samples); the POST's answer p50 $_a50 ms," \
        "p99 $_a99 ms, max $_amax ms ($_acked of $_req acknowledged)"
    cpu_figures "$_p" lat "$W/cpu0" "$W/cpu1" "$_acked"
    pub_figures "$_p" lat "$_pub"
    lag_figures "$_p" lat
}

# run_phases P URL...: the three runs, sending to the URLs (all admin
# calls go to OWNER_URL).
run_phases() {
    URL=$OWNER_URL
    ingest_run "$@"
    deliver_run "$@"
    latency_run "$@"
}

# measure P TITLE URL...: the three runs sending to the URLs and their
# checks, reported in a column TITLE (the first measured is the baseline).
RUNS=""
measure() {
    _mp=$1 _mt=$2
    shift 2
    put "${_mp}_title" "$_mt"
    RUNS="$RUNS $_mp"
    run_phases "$_mp" "$@"
    deliveries_check "$_mp"
    if [ "$(get "${_mp}_held")" -lt "$(get "${_mp}_acked_in")" ]; then
        fail "$_mt: $(get "${_mp}_acked_in") acknowledged, $(get "${_mp}_held") held for the paused endpoint"
    fi
}

# ---- checks: every acknowledged message where it belongs ----
FAILED=0
fail() { echo "FAIL  $*"; FAILED=1; }
# deliveries_check P: each run's receiver has each acknowledged message
# once, the paused endpoint's none, and the owner made exactly those
# deliveries. Puts P_delivered, P_missing, P_duplicates, P_misplaced.
deliveries_check() {
    _miss=0 _dups=0 _got=0
    for _r in thr lat; do
        eval "_log=\$$1_${_r}_LOG"
        _n=$(lines "$_log") _d=$(distinct_ids "$_log") _a=$(get "$1_acked_$_r")
        [ "$_d" -lt "$_a" ] && _miss=$((_miss + _a - _d))
        _dups=$((_dups + _n - _d)) _got=$((_got + _n))
        put "$1_${_r}_duplicates" $((_n - _d))
    done
    eval "_log=\$$1_in_LOG"
    put "$1_misplaced" "$(lines "$_log")"
    put "$1_delivered" "$_got"
    put "$1_missing" "$_miss"
    put "$1_duplicates" "$_dups"
    put "$1_owner_attempts" "$(stats "$OWNER_URL" .attemptsSucceeded)"
    put "$1_owner_failed" "$(stats "$OWNER_URL" .attemptsFailed)"
}

# ---- the single node ----
echo "single node: hookd serve, no --cluster"
hookd_up --retry-schedule 1s,1s
OWNER_URL=$URL STANDBY_URLS="" PROCS="owner:$HOOKD_PID"
measure s "single node" "$OWNER_URL"
hookd_down
echo

# ---- the cluster ----
echo "cluster: 3 nats-servers, 3 hookd nodes with --cluster-role auto (load $(loadavg))"
nats_cluster_start 3
export HOOKD_ADMIN_TOKEN=hk_benchClusterAdminTokenForAllNodes   # one token for every node
TOKEN=$HOOKD_ADMIN_TOKEN
# one partition group: one owner writes and delivers, two standbys follow
"$HOOKD" cluster init --cluster "$NATS_URLS" --streams 1 >"$W/init.out" 2>&1 \
    || die "cluster init: $(cat "$W/init.out")"
for _n in a b c; do node_start "$_n"; done
_settled() {
    _o="" _s=""
    for _n in a b c; do
        case $(role_of "$_n") in
        owner) _o="$_o $_n" ;;
        standby) _s="$_s $_n" ;;
        esac
    done
    [ $(echo $_o | wc -w) = 1 ] && [ $(echo $_s | wc -w) = 2 ]
}
wait_for 30 _settled || die "no owner and two standbys after 30 s: a $(role_of a), b $(role_of b), c $(role_of c)"
OWNER=$(echo $_o) STANDBYS=$(echo $_s)
eval "OWNER_URL=\$URL_$OWNER"
STANDBY_URLS="" PROCS=""
for _n in $STANDBYS; do
    eval "STANDBY_URLS=\"\$STANDBY_URLS \$URL_$_n\" PROCS=\"\$PROCS standby:\$PID_$_n\""
done
eval "PROCS=\"owner:\$PID_$OWNER\$PROCS nats:\$NATS_PID_1 nats:\$NATS_PID_2 nats:\$NATS_PID_3\""
echo "  owner $OWNER ($OWNER_URL), standbys $STANDBYS; the log's stream led by $(log_stream .cluster.leader)" \
    "(nats-servers n1, n2, n3 in that order below)"
measure c "3 nodes" "$OWNER_URL"
# (once any node forwards writes to the owner: measure cs "3, spread" "$URL_a" "$URL_b" "$URL_c")

# the end: every standby at the owner's seq and the log's end, holding what it holds
_quiet() {
    _l=$(log_last) _o=$(seq_at "$OWNER_URL")
    [ -n "$_l" ] && [ "$_o" = "$_l" ] || return 1
    for _u in $STANDBY_URLS; do [ "$(seq_at "$_u")" = "$_l" ] || return 1; done
}
if wait_for 60 _quiet; then put caught_up 1; else put caught_up 0; fi
_want=$(stats "$OWNER_URL" '"\(.messagesStored) \(.deliveriesHeld)"')
_eq=1 _sa=0
for _u in $STANDBY_URLS; do
    _got=$(stats "$_u" '"\(.messagesStored) \(.deliveriesHeld)"')
    [ "$_got" = "$_want" ] || { _eq=0; echo "  a standby holds $_got (messages, held deliveries), the owner $_want"; }
    _sa=$((_sa + $(stats "$_u" .attemptsSucceeded)))
done
put stores_equal "$_eq"
put standby_attempts "$_sa"
echo "  at the end: owner's seq $(seq_at "$OWNER_URL"), log's last $(log_last), standbys" \
    "$(for _u in $STANDBY_URLS; do printf '%s ' "$(seq_at "$_u")"; done)(load $(loadavg))"

# ---- the single node again, after the cluster ----
# The machine's speed drifts (and other work comes and goes): the ratios
# use the mean of the single node before and after the cluster.
if [ "$AFTER" = 1 ]; then
    for _n in a b c; do eval "kill -TERM \$PID_$_n"; done
    for _n in a b c; do node_stop "$_n"; done
    for _k in 1 2 3; do nats_kill "$_k" TERM; done
    echo
    echo "single node again, after the cluster"
    rm -rf "$W/data"
    unset HOOKD_ADMIN_TOKEN
    hookd_up --retry-schedule 1s,1s
    OWNER_URL=$URL STANDBY_URLS="" PROCS="owner:$HOOKD_PID"
    measure s2 "single after" "$OWNER_URL"
    hookd_down
fi

# ---- report ----
echo
# base KEY: the baseline, the single node's figure: the mean of before and
# after, but for a latency (KEY ends in _ms) the lower of the two: one
# burst of other work on the machine moves a p99 tenfold, a rate by far less.
base() {
    awk -v a="$(get "s_$1")" -v b="$(get "s2_$1")" -v k="$1" 'BEGIN {
        if (b == "-" || b == "") print a; else if (a == "-") print b
        else if (k ~ /_ms$/) print (a + 0 < b + 0 ? a : b); else print (a + b) / 2 }'
}
# ratio P KEY: P's figure over the baseline's.
ratio() { awk -v c="$(get "$1_$2")" -v s="$(base "$2")" 'BEGIN { printf "%.2f", (s > 0 && c != "-" ? c / s : 0) }'; }
# row TEXT KEY: each measured setup's figure, and each one's ratio to the baseline.
row() {
    printf '%-40s' "$1"
    for _p in $COLS; do printf ' %12s' "$(get "${_p}_$2")"; done
    for _p in $COLS; do is_base "$_p" || printf ' %7s' "$(ratio "$_p" "$2")"; done
    echo
}
is_base() { [ "$1" = s ] || [ "$1" = s2 ]; }
# the columns: the baseline's runs first
COLS=$(for _p in $RUNS; do is_base "$_p" && echo "$_p"; done; for _p in $RUNS; do is_base "$_p" || echo "$_p"; done)
printf '%-40s' ""
for _p in $COLS; do printf ' %12s' "$(get "${_p}_title")"; done
for _p in $COLS; do is_base "$_p" || printf ' %7s' "ratio"; done
echo
row "ingest, msg/s (endpoint paused)" ingest_rps
row "  the POST's answer p99, ms" ingest_p99_ms
row "  owner CPU per message, us" in_owner_us
row "  owner's writer batch, requests" in_writer_batch
row "  cores busy, all processes (of $(nproc))" in_machine_cores
row "delivery, deliveries/s" deliveries_per_sec
row "  owner CPU per delivery, us" thr_owner_us
row "  cores busy, all processes" thr_machine_cores
row "latency at $RATE msg/s, p50 ms" p50_ms
row "  p99 ms" p99_ms
row "  max ms" max_ms
row "  the POST's answer p99, ms" ack_p99_ms
row "  owner CPU per message, us" lat_owner_us
row "  owner's writer batch, requests" lat_writer_batch
# crow TEXT KEY: a cluster's figure in each of its runs
crow() { printf '%-24s %8s %10s %10s\n' "$1" "$(get "${_p}_in_$2")" "$(get "${_p}_thr_$2")" "$(get "${_p}_lat_$2")"; }
for _p in $RUNS; do
    is_base "$_p" && continue
    echo
    printf '%-24s %8s %10s %10s\n' "$(get "${_p}_title")" ingest delivery latency
    crow "publish avg, us/batch" publish_avg_us
    crow "entries a batch" entries_per_batch
    crow "publishes failed" publish_failures
    crow "nats-servers us/unit" nats_us
    crow "  each, us/unit" nats_each_us
    crow "nats-servers' cores" nats_cores
    crow "each standby us/unit" standby_us
    crow "standbys' cores" standby_cores
    crow "the rest's cores" rest_cores
    crow "lag during, max msgs" lag_max
    crow "lag at the end, msgs" lag_msgs
    crow "  about, entries" lag_entries
    crow "catch-up, ms" catchup_ms
    echo "(a unit: a message acknowledged, a delivery made, a message sent; the longest publish:" \
        "$(get "${_p}_lat_publish_max_us") us)"
done
echo "load average $(loadavg) after the run"
echo

for _p in $RUNS; do
    _w=$(get "${_p}_title")
    [ "$(get "${_p}_acked_in")" -gt 0 ] || fail "$_w: no message acknowledged in the ingest run"
    [ "$(get "${_p}_missing")" = 0 ] || fail "$_w: $(get "${_p}_missing") acknowledged messages not delivered"
    [ "$(get "${_p}_duplicates")" = 0 ] || fail "$_w: $(get "${_p}_duplicates") deliveries twice" \
        "($(get "${_p}_thr_duplicates") in the delivery run, $(get "${_p}_lat_duplicates") in the latency run;" \
        "$(get "${_p}_owner_failed") attempts failed; publishes failed: $(get "${_p}_in_publish_failures")," \
        "$(get "${_p}_thr_publish_failures"), $(get "${_p}_lat_publish_failures"))"
    [ "$(get "${_p}_misplaced")" = 0 ] || fail "$_w: $(get "${_p}_misplaced") deliveries for the paused endpoint"
    [ "$(get "${_p}_owner_attempts")" = "$(get "${_p}_delivered")" ] ||
        fail "$_w: the owner made $(get "${_p}_owner_attempts") deliveries, the receivers got $(get "${_p}_delivered")"
    [ "$(get "${_p}_lat_samples")" -gt 0 ] || fail "$_w: no latency sample"
done
[ "$(get standby_attempts)" = 0 ] || fail "the standbys made $(get standby_attempts) deliveries"
[ "$(get caught_up)" = 1 ] || fail "the standbys did not reach the owner's seq and the log's end in 60 s"
[ "$(get stores_equal)" = 1 ] || fail "a standby's stored messages or held deliveries differ from the owner's"
if [ "$FAILED" = 1 ]; then   # what the nodes said, for the failure's report
    for _n in a b c; do
        [ -s "$W/$_n.err" ] && grep -v 'msg=request' "$W/$_n.err" | tail -n 15 | sed "s/^/  $_n: /"
    done
fi
[ "$FAILED" = 0 ] && echo "PASS  every acknowledged message stored, held or delivered once where it belongs;" \
    "the standbys delivered nothing and caught up"
acked=0 delivered=0 missing=0 dups=0 misplaced=0
for _p in $RUNS; do
    acked=$((acked + $(get "${_p}_acked_in") + $(get "${_p}_acked_thr") + $(get "${_p}_acked_lat")))
    delivered=$((delivered + $(get "${_p}_delivered"))) missing=$((missing + $(get "${_p}_missing")))
    dups=$((dups + $(get "${_p}_duplicates"))) misplaced=$((misplaced + $(get "${_p}_misplaced")))
done
echo "RESULT s_ingest_rps=$(get s_ingest_rps) c_ingest_rps=$(get c_ingest_rps)" \
    "s_deliveries_per_sec=$(get s_deliveries_per_sec) c_deliveries_per_sec=$(get c_deliveries_per_sec)" \
    "s_p50_ms=$(get s_p50_ms) s_p99_ms=$(get s_p99_ms) s_max_ms=$(get s_max_ms) s_lat_samples=$(get s_lat_samples)" \
    "c_p50_ms=$(get c_p50_ms) c_p99_ms=$(get c_p99_ms) c_max_ms=$(get c_max_ms) c_lat_samples=$(get c_lat_samples)" \
    "s2_ingest_rps=$(get s2_ingest_rps) s2_deliveries_per_sec=$(get s2_deliveries_per_sec)" \
    "s2_p99_ms=$(get s2_p99_ms) ingest_ratio=$(ratio c ingest_rps) deliver_ratio=$(ratio c deliveries_per_sec) p99_ratio=$(ratio c p99_ms)" \
    "s_owner_us_per_msg=$(get s_in_owner_us) c_owner_us_per_msg=$(get c_in_owner_us)" \
    "c_nats_us_per_msg=$(get c_in_nats_us) c_standby_us_per_msg=$(get c_in_standby_us)" \
    "c_publish_avg_us=$(get c_in_publish_avg_us) c_publish_max_us=$(get c_lat_publish_max_us)" \
    "c_entries_per_batch=$(get c_in_entries_per_batch)" \
    "c_lag_max=$(get c_in_lag_max) c_lag_msgs=$(get c_in_lag_msgs) c_catchup_ms=$(get c_in_catchup_ms)" \
    "acked=$acked delivered=$delivered missing=$missing duplicates=$dups misplaced=$misplaced" \
    "standby_attempts=$(get standby_attempts) caught_up=$(get caught_up) stores_equal=$(get stores_equal)"
exit $FAILED
