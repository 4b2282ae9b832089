#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0427: memory follows the work in flight, not the backlog (DESIGN.md,
# promise 5). An endpoint that hangs every request is paused while a
# backlog of BACKLOG messages of 1 KiB piles up for it, then resumed: the
# dispatcher must read that backlog from the log in slices of about twice
# the endpoint's concurrency cap. Holding it in memory would take more
# than the payloads alone (about 60 MiB here); hookd's RSS may grow only
# by a small fraction of that, and it must keep at most the cap in flight
# while every delivery stays accounted for.
. "$(dirname "$0")/lib.sh"
N=${BACKLOG:-60000}
CAP=16
receiver_start --quiet-log
hookd_start --allow-network 127.0.0.0/8 --endpoint-concurrency $CAP

api POST /api/v1/app '{"name":"backlog","uid":"backlog"}'
api POST /api/v1/app/backlog/endpoint "{\"url\":\"$RURL/x/hang\"}"
is "$STATUS" 201 "hanging endpoint created"
EP=$(jqr .id)
api POST "/hookd/v1/app/backlog/endpoint/$EP/pause"
is "$STATUS" 200 "endpoint paused"

"$TOP/build/bench/paced" --url "$URL" --token "$TOKEN" --app backlog --rate 0 --count "$N" \
    --size 1024 --connections 64 --no-stamp --deadline 120 >"$T/paced.out" 2>&1
ok $? "$N messages acknowledged ($(cat "$T/paced.out"))"
api GET /hookd/v1/stats
is "$(jqr .deliveriesHeld)" "$N" "the whole backlog is held for the paused endpoint"

# anonymous memory only: the log's pages that readers touch are file cache
rss_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$HOOKD_PID/status"; }
BASE=$(rss_kib)
api POST "/hookd/v1/app/backlog/endpoint/$EP/resume"
is "$STATUS" 200 "endpoint resumed"

# Watch for 3 s: the dispatcher walks the backlog and fills the cap.
MAX=$BASE MAXIN=0
end=$(( $(date +%s) + 3 ))
while [ "$(date +%s)" -lt "$end" ]; do
    r=$(rss_kib)
    [ "$r" -gt "$MAX" ] && MAX=$r
    api GET /hookd/v1/stats
    in=$(jqr .inflight)
    [ "${in:-0}" -gt "$MAXIN" ] && MAXIN=$in
    sleep 0.2
done
api GET /hookd/v1/stats
PENDING=$(jqr .deliveriesPending) HELD=$(jqr .deliveriesHeld)
GROWTH=$(( (MAX - BASE) / 1024 ))
ok "$(cond "$GROWTH < 16")" \
    "RSS grew by $GROWTH MiB with $N deliveries due (base $((BASE / 1024)) MiB, payloads $((N / 1024)) MiB)"
is "$MAXIN" "$CAP" "the endpoint's cap is filled and not exceeded ($MAXIN in flight)"
is "$PENDING" "$N" "every delivery is still pending: none lost, none dropped from the count"
is "$HELD" 0 "none held after the resume"
hookd_stop
is "$HOOKD_RC" 0 "hookd stops cleanly with requests hanging"
done_testing
