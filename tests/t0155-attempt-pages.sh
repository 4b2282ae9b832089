#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0155: attempt records fill the pages they are written to. Attempts that
# finish out of order (64 in flight) still get ids in increasing order
# (outcome.c), so the attempts and att_by_ep tables append, which fills
# a page before opening the next, instead of inserting, which splits a
# full page in half and leaves both halves to fill at random. Measured on
# the store after a clean stop: entries per leaf page, against what full
# pages hold.
. "$(dirname "$0")/lib.sh"
N=1200
receiver_start --quiet-log
hookd_start --allow-network 127.0.0.0/8 --endpoint-concurrency 64

api POST /api/v1/app '{"name":"pages","uid":"pages"}'
api POST /api/v1/app/pages/endpoint "{\"url\":\"$RURL/x/ok\"}"
is "$STATUS" 201 "endpoint created"
"$TOP/build/bench/paced" --url "$URL" --token "$TOKEN" --app pages --rate 0 --count $N \
    --size 256 --connections 32 --no-stamp --deadline 60 >"$T/paced.out" 2>&1
ok $? "$N messages acknowledged ($(cat "$T/paced.out"))"

delivered() {
    api GET /hookd/v1/stats
    [ "$(jqr '.attemptsSucceeded // 0')" -ge $N ] 2>/dev/null
}
wait_for 60 delivered
ok $? "every message delivered"
hookd_stop
is "$HOOKD_RC" 0 "hookd stops cleanly"

# per_page DB: entries per leaf page of DB, one decimal
per_page() {
    mdb_stat -s "$1" "$T/data" | awk '/Leaf pages:/ { l = $3 } /Entries:/ { e = $2 }
        END { printf "%.1f", (l > 0 ? e / l : 0) }'
}
# what a full page holds: 4096 bytes over an entry's share (8-byte node header, 2-byte index)
full() {
    mdb_dump -s "$1" "$T/data" | awk 'NR > 1 && /^ / { b += (length($0) - 1) / 2; n++ }
        END { printf "%.1f", (n > 0 ? (4096 - 16) / (b / (n / 2) + 10) : 0) }'
}
ATT=$(per_page attempts) ATT_FULL=$(full attempts)
EP=$(per_page att_by_ep) EP_FULL=$(full att_by_ep)
diag "attempts: $ATT entries per leaf page of $ATT_FULL; att_by_ep: $EP of $EP_FULL"
ok "$(cond "$ATT >= 0.8 * $ATT_FULL")" "attempt records fill their pages ($ATT per page, $ATT_FULL when full)"
ok "$(cond "$EP >= 0.8 * $EP_FULL")" "att_by_ep fills its pages ($EP per page, $EP_FULL when full)"
done_testing
