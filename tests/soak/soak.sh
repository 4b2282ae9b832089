#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/soak/soak.sh - `make soak`: hookd under mixed load for a long time,
# watched for leaks. Not part of make test or CI (it takes 30 minutes).
#
# Load, all on 127.0.0.1: messages at SOAK_RATE a second (paced, open
# loop) to four endpoints of the test receiver: one that answers at once,
# one that fails each message's first attempt (retried), one that takes
# 300 ms, and one whose url switches every sample period between an
# outage (503) and a healthy path; when it comes back, its failed
# deliveries are replayed in bulk and one is resent by hand. Retention
# runs with short periods (SOAK_RETENTION) so the store reaches the size
# retention keeps it at within minutes.
#
# Every SOAK_SAMPLE_S seconds it samples hookd's anonymous and file-backed
# RSS (/proc/PID/status; the file part is the LMDB map), its open file
# descriptors (/proc/PID/fd), the store (hookd_store_bytes minus
# hookd_store_free_bytes from /metrics: bytes in use), and the ingest
# and delivery counters, and prints a row. The verdict compares the end
# with the first sample after the warm-up (retention period plus a pass
# and a sample period, and at least 40 % of the run):
#   - anonymous RSS grew by at most 10 % + 8 MiB;
#   - open file descriptors by at most 16;
#   - the store grew by at most half a payload per message ingested:
#     retention keeps a message's record without its payload and its
#     delivery rows, a few hundred bytes; payloads or attempts piling up
#     would cost more than SOAK_SIZE / 2 each.
# Exit 0 when all three hold.
#
#   SOAK_MINUTES (30) SOAK_RATE (100) SOAK_SAMPLE_S (60) SOAK_SIZE (2048)
#   SOAK_RETENTION (2m) SOAK_KEEP (unset: remove the work directory)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
MINUTES=${SOAK_MINUTES:-30}
RATE=${SOAK_RATE:-100}
SAMPLE=${SOAK_SAMPLE_S:-60}
SIZE=${SOAK_SIZE:-2048}
RETENTION=${SOAK_RETENTION:-2m}
HOOKD=${HOOKD:-$TOP/hookd}
RECEIVER=$TOP/build/tests/helpers/receiver
PACED=$TOP/build/bench/paced
for b in "$HOOKD" "$RECEIVER" "$PACED"; do
    [ -x "$b" ] || { echo "soak: no '$b' (run make soak)" >&2; exit 2; }
done
case $MINUTES$RATE$SAMPLE$SIZE in *[!0-9]*) echo "soak: numbers only" >&2; exit 2 ;; esac
[ "$MINUTES" -ge 1 ] && [ "$MINUTES" -le 1440 ] && [ "$RATE" -ge 1 ] && [ "$RATE" -le 5000 ] &&
    [ "$SAMPLE" -ge 5 ] || { echo "soak: minutes 1-1440, rate 1-5000, sample >= 5 s" >&2; exit 2; }
ret_s() {   # seconds of a duration like 90s, 2m, 1h
    case $1 in *s) echo "${1%s}" ;; *m) echo $(( ${1%m} * 60 )) ;; *h) echo $(( ${1%h} * 3600 )) ;; *) echo "$1" ;; esac
}
RET_S=$(ret_s "$RETENTION")

W=$(mktemp -d "${TMPDIR:-/tmp}/hookd-soak.XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 1
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    [ -n "${SOAK_KEEP:-}" ] && echo "soak: work directory kept: $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$RECEIVER" --listen 127.0.0.1:0 --threads 2 > "$W/receiver.port" 2> "$W/receiver.err" &
PIDS="$PIDS $!"
i=0
while [ ! -s "$W/receiver.port" ]; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "soak: receiver did not start" >&2; exit 1; }
    sleep 0.05
done
RURL="http://127.0.0.1:$(head -n 1 "$W/receiver.port")"

"$HOOKD" serve --listen 127.0.0.1:0 --data "$W/data" --allow-network 127.0.0.1/32 \
    --retry-schedule 2s,5s,10s --payload-retention "$RETENTION" --attempt-retention "$RETENTION" \
    --retention-interval 15s --idempotency-ttl 1m --log-level warn \
    > "$W/hookd.out" 2> "$W/hookd.err" &
HPID=$!
PIDS="$PIDS $HPID"
i=0
while [ ! -s "$W/data/listen" ]; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 $HPID 2>/dev/null; then
        cat "$W/hookd.err" >&2; echo "soak: hookd did not start" >&2; exit 1
    fi
    sleep 0.05
done
URL="http://$(cat "$W/data/listen")"
TOKEN=$(cat "$W/data/admin.token")

api() {   # api METHOD PATH [BODY]: prints the body
    if [ $# -ge 3 ]; then
        curl -s -m 10 -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
            --data-binary "$3" "$URL$2"
    else
        curl -s -m 10 -X "$1" -H "Authorization: Bearer $TOKEN" "$URL$2"
    fi
}
api POST /api/v1/app '{"name":"soak","uid":"soak"}' > /dev/null
for ep in "fast:$RURL/fast/ok" "flaky:$RURL/flaky/flaky/1" "slow:$RURL/slow/delay/300" \
          "outage:$RURL/outage/status/503"; do
    api POST /api/v1/app/soak/endpoint "{\"uid\":\"${ep%%:*}\",\"url\":\"${ep#*:}\"}" > /dev/null
done
OUTAGE_ID=$(api GET /api/v1/app/soak/endpoint/outage | jq -r .id)

SECONDS_TOTAL=$((MINUTES * 60))
"$PACED" --url "$URL" --token "$TOKEN" --app soak --rate "$RATE" --seconds "$SECONDS_TOTAL" \
    --size "$SIZE" --connections 8 --event-type soak.event --no-stamp > "$W/paced.out" 2> "$W/paced.err" &
PACED_PID=$!
PIDS="$PIDS $PACED_PID"

metric() { sed -n "s/^$1 \([0-9.e+]*\)$/\1/p" "$W/metrics" | head -n 1 | awk '{ printf "%.0f", $1 }'; }
sample() {   # one row: t rss_anon_kb rss_file_kb fds store_kb ingested attempts_ok attempts_failed pending
    api GET /metrics > "$W/metrics"
    api GET /hookd/v1/stats > "$W/stats"
    anon=$(awk '/^RssAnon:/ { print $2 }' /proc/$HPID/status)
    file=$(awk '/^RssFile:/ { print $2 }' /proc/$HPID/status)
    fds=$(ls /proc/$HPID/fd | wc -l)
    used=$(metric hookd_store_bytes)
    free=$(metric hookd_store_free_bytes)
    printf '%s %s %s %s %s %s %s %s %s\n' "$1" "$anon" "$file" "$fds" $(( (used - free) / 1024 )) \
        "$(jq -r .messagesIngested "$W/stats")" "$(jq -r .attemptsSucceeded "$W/stats")" \
        "$(jq -r .attemptsFailed "$W/stats")" "$(jq -r .deliveriesPending "$W/stats")"
}

echo "soak: $MINUTES min, $RATE msg/s of $SIZE bytes, 4 endpoints, retention $RETENTION, a sample every ${SAMPLE}s"
echo "soak: hookd pid $HPID, data $W/data"
printf '%6s %10s %10s %5s %10s %9s %9s %9s %8s  %s\n' t_s rss_anon_k rss_file_k fds store_k \
    ingested ok failed pending note
START=$(date +%s)
n=0 up=0
: > "$W/samples"
while :; do
    now=$(date +%s)
    t=$((now - START))
    note=
    if [ $n -gt 0 ]; then
        # the outage endpoint flips each period; when it comes back, replay what failed
        if [ $up = 0 ]; then
            api PATCH /api/v1/app/soak/endpoint/outage "{\"url\":\"$RURL/outage/ok\"}" > /dev/null
            q=$(api POST /hookd/v1/deliveries/replay \
                "{\"filter\":{\"status\":\"fail\",\"endpoint_id\":\"$OUTAGE_ID\"}}" | jq -r .queued)
            m=$(api GET "/hookd/v1/deliveries?status=fail&endpoint_id=$OUTAGE_ID&limit=1" | jq -r '.data[0].msgId // empty')
            [ -n "$m" ] && api POST "/api/v1/app/soak/msg/$m/endpoint/$OUTAGE_ID/resend" > /dev/null
            note="outage over, replayed $q"
            up=1
        else
            api PATCH /api/v1/app/soak/endpoint/outage "{\"url\":\"$RURL/outage/status/503\"}" > /dev/null
            note="outage begins"
            up=0
        fi
    fi
    kill -0 $HPID 2>/dev/null || { echo "soak: hookd died" >&2; cat "$W/hookd.err" >&2; exit 1; }
    row=$(sample "$t")
    echo "$row" >> "$W/samples"
    printf '%6s %10s %10s %5s %10s %9s %9s %9s %8s  %s\n' $row "$note"
    n=$((n + 1))
    [ $t -ge $SECONDS_TOTAL ] && break
    next=$((START + n * SAMPLE))
    [ $next -gt $((START + SECONDS_TOTAL)) ] && next=$((START + SECONDS_TOTAL))
    sleep $((next - $(date +%s) > 0 ? next - $(date +%s) : 0))
done

wait $PACED_PID
echo "soak: producer: $(cat "$W/paced.out")"
kill -TERM $HPID
wait $HPID
rc=$?
echo "soak: hookd stopped with status $rc; $(grep -c 'level=error' "$W/hookd.err") error lines in its log"

WARM=$(( RET_S + 15 + SAMPLE ))
[ $WARM -lt $((SECONDS_TOTAL * 2 / 5)) ] && WARM=$((SECONDS_TOTAL * 2 / 5))
awk -v warm="$WARM" -v size="$SIZE" -v rc="$rc" '
    { t[NR] = $1; anon[NR] = $2; fds[NR] = $4; store[NR] = $5; ing[NR] = $6 }
    END {
        w = 0
        for (i = 1; i <= NR; i++) if (t[i] >= warm) { w = i; break }
        if (w == 0 || w == NR) { print "soak: VERDICT: run too short to judge (warm-up " warm " s)"; exit 2 }
        da = anon[NR] - anon[w]; df = fds[NR] - fds[w]; ds = store[NR] - store[w]; dm = ing[NR] - ing[w]
        per = dm > 0 ? ds * 1024 / dm : 0
        mins = (t[NR] - t[w]) / 60
        okr = da <= anon[w] * 0.10 + 8192
        okf = df <= 16
        oks = per <= size / 2
        printf "soak: from t=%ds to t=%ds (%.1f min, %d messages):\n", t[w], t[NR], mins, dm
        printf "soak:   anonymous RSS %+d KiB (%.1f%%, %+.0f KiB/min)  %s\n", da, 100 * da / anon[w], da / mins, okr ? "ok" : "GROWING"
        printf "soak:   open fds %+d  %s\n", df, okf ? "ok" : "GROWING"
        printf "soak:   store in use %+d KiB, %.0f bytes per message kept (payload %d)  %s\n", ds, per, size, oks ? "ok" : "GROWING"
        pass = okr && okf && oks && rc == 0
        print "soak: VERDICT: " (pass ? "PASS" : "FAIL")
        exit pass ? 0 : 1
    }' "$W/samples"
