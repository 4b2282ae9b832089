#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0705: the README's tour works as written: `make run ARGS=...` passes its
# flags to hookd serve, `make receiver` starts the receiver it names, and a
# message sent with the tour's curl commands reaches that receiver, signed;
# `hookd ctl endpoints` then shows the endpoint healthy. Ports and the data
# directory are the test's own (ARGS and RECEIVER_PORT=0), the rest as the
# README has it.
. "$(dirname "$0")/lib.sh"
# make runs the server and the receiver as its own children: stop them
# with it (they are not in HOOKD_PIDS, which lib.sh stops at exit)
MAKES=""
stop_makes() {
    for m in $MAKES; do pkill -TERM -P "$m" 2>/dev/null; kill -TERM "$m" 2>/dev/null; done
}
trap 'stop_makes; _cleanup' EXIT

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" run ARGS="--allow-network 127.0.0.0/8 --listen 127.0.0.1:0 --data $T/data" \
    >"$T/run.out" 2>"$T/run.err" &
MAKES="$MAKES $!"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" receiver RECEIVER_PORT=0 >"$T/recv.out" 2>"$T/recv.err" &
MAKES="$MAKES $!"

wait_for 60 test -s "$T/data/listen"
ok $? "make run started hookd with the data directory given in ARGS"
wait_for 60 test -s "$T/recv.out"
ok $? "make receiver started the receiver"
like "$(cat "$T/run.out")" "listening on http://127.0.0.1:[0-9]+ \\(data in $T/data\\)" \
     "make run passed --listen and --data through ARGS"
like "$(cat "$T/recv.err")" "prints each webhook" "make receiver says what it does"

URL=http://$(cat "$T/data/listen")
RPORT=$(head -n 1 "$T/recv.out")
TOKEN=$(cat "$T/data/admin.token")
H="Authorization: Bearer $TOKEN"
curl -s -H "$H" -d '{"name":"Acme","uid":"acme"}' "$URL/api/v1/app" > "$T/app.json"
is "$(jq -r .uid "$T/app.json")" acme "the tour's application"
curl -s -H "$H" -d "{\"url\":\"http://127.0.0.1:$RPORT/webhooks\"}" \
    "$URL/api/v1/app/acme/endpoint" > "$T/ep.json"
like "$(jq -r .id "$T/ep.json")" '^ep_' "the tour's endpoint, on the receiver"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$H" \
    -d '{"eventType":"invoice.paid","payload":{"id":"inv_1","amount":42}}' "$URL/api/v1/app/acme/msg")
is "$code" 202 "the tour's message is accepted"

got() { grep -q '"path":"/webhooks"' "$T/recv.out"; }
wait_for 10 got
ok $? "the receiver printed the delivery"
line=$(grep '"path":"/webhooks"' "$T/recv.out" | head -n 1)
is "$(printf '%s' "$line" | jq -r '.body|fromjson|.amount')" 42 "with the message's payload"
like "$(printf '%s' "$line" | jq -r .sig)" '^v1,' "and its signature"

"$HOOKD" ctl --data "$T/data" endpoints > "$T/ctl.out"
like "$(sed -n 2p "$T/ctl.out")" "^acme +ep_[0-9A-Za-z]+ +ok +0 " "hookd ctl endpoints: the endpoint is ok"
done_testing
