#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0507: hookd serve --hold-deliveries (issue 6: a restore drill must not
# send real webhooks a second time). Held, the server accepts messages
# and sends nothing, health, stats, metrics and the console say so, and a
# deleted endpoint's backlog waits too; POST /hookd/v1/deliveries/release
# lets everything go, and a start finds the backlog a deleted endpoint
# left behind and ends it ("endpoint deleted").
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --hold-deliveries

api GET /api/v1/health
is "$STATUS:$(jqr .deliveries.status)" "200:held" "health answers 200 and says deliveries are held"
api GET /hookd/v1/stats
is "$(jqr .deliveryHold)" true "stats say deliveryHold"
is "$(metric hookd_delivery_hold)" 1 "and so does /metrics"

api POST /api/v1/app '{"name":"a","uid":"a"}'
api POST /api/v1/app/a/endpoint "{\"uid\":\"e1\",\"url\":\"$RURL/e1\"}"
EP1=$(jqr .id)
api POST /api/v1/app/a/endpoint "{\"uid\":\"e2\",\"url\":\"$RURL/e2\"}"
EP2=$(jqr .id)
for i in 1 2 3 4 5; do api POST /api/v1/app/a/msg "{\"eventType\":\"t\",\"payload\":{\"n\":$i}}"; done
is "$STATUS" 202 "messages are accepted while held"
api DELETE /api/v1/app/a/endpoint/e2
is "$STATUS" 204 "e2 deleted while held"
sleep 1.5
is "$(received 'true')" 0 "nothing was sent"
api GET "/hookd/v1/deliveries?endpoint_id=$EP1"
is "$(jqr '[.data[].status]|unique|join(",")'):$(jqr '.data|length')" "pending:5" "e1's five wait"
api GET "/hookd/v1/deliveries?endpoint_id=$EP2"
is "$(jqr '[.data[].status]|unique|join(",")')" "pending" "e2's backlog waits too: the log is as it was"

if command -v tmux >/dev/null 2>&1; then
    TMUX_SOCK="hookd-t0507-$$"
    tm() { LC_ALL=C.UTF-8 tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
    trap 'tm kill-server 2>/dev/null; _cleanup' EXIT
    tm new-session -d -s t -x 100 -y 30 "env -i PATH=\"$PATH\" HOME=\"$T\" TERM=xterm-256color LANG=C.UTF-8 $HOOKD console --data $DATA"
    held_shown() { tm capture-pane -p -t t | grep -q 'DELIVERIES HELD'; }
    wait_for 10 held_shown
    ok $? "the console says DELIVERIES HELD"
    tm send-keys -t t q
else
    ok 0 "# SKIP tmux is not installed"
fi

# a stop and a start with the flag again: still held, then released
hookd_stop TERM
hookd_start --allow-network 127.0.0.0/8 --hold-deliveries
sleep 1
is "$(received 'true')" 0 "a restart with --hold-deliveries still sends nothing"
api POST /hookd/v1/deliveries/release
is "$STATUS:$(jqr '[.deliveryHold, .released]|@csv')" "200:false,true" "release answers 200"
wait_received '(.path=="/e1")' 5
ok $? "e1 gets its five once released"
ended() {
    api GET "/hookd/v1/deliveries?endpoint_id=$EP2&status=fail"
    [ "$(jqr '[.data[]|select(.lastError=="endpoint deleted")]|length')" = 5 ]
}
wait_for 10 ended
ok $? "the deleted e2's five end as failed, 'endpoint deleted'"
is "$(received '(.path=="/e2")')" 0 "and none reached e2"
api GET /api/v1/health
is "$(jqr .deliveries.status)" ok "health: deliveries ok"
api GET /hookd/v1/stats
is "$(jqr '[.deliveryHold, .deliveriesPending]|@csv')" "false,0" "stats: no hold, nothing pending"
is "$(metric hookd_delivery_hold)" 0 "metrics: 0"
api POST /hookd/v1/deliveries/release
is "$(jqr .released)" false "a second release has nothing to release"

done_testing
