#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0420: receivers that fail in the ways networks do. Each fault is one
# endpoint; its attempt record must say what happened (status 0 and the
# cause, or the truncated answer) and hookd must stay healthy:
# connection refused (and retried), reset before any response, reset in
# the middle of one, a response trickled slower than --request-timeout, a
# 50 MB response (kept to --max-response bytes, RSS bounded), an answer
# that is not HTTP, and a host name that does not resolve. The TLS
# receiver with a self-signed certificate is in t0760.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
BADHTTP=$TOP/build/tests/helpers/badhttp
[ -x "$BADHTTP" ] || bail "no '$BADHTTP' (run make build/tests/helpers/badhttp)"

# badhttp_start MODE: sets BPORT; the helper is stopped with the test.
badhttp_start() {
    rm -f "$T/badhttp.port"
    "$BADHTTP" --mode "$1" > "$T/badhttp.port" 2>>"$T/badhttp.err" &
    HOOKD_PIDS="$HOOKD_PIDS $!"
    BPID=$!
    i=0
    while [ ! -s "$T/badhttp.port" ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && bail "badhttp did not start"
        sleep 0.05
    done
    BPORT=$(head -n 1 "$T/badhttp.port")
}

receiver_start
badhttp_start garbage
GARBAGE_PORT=$BPORT
badhttp_start partial
PARTIAL_PORT=$BPORT
# a port nothing listens on: one that was just closed
badhttp_start garbage
CLOSED_PORT=$BPORT
kill "$BPID"
wait "$BPID" 2>/dev/null

hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s --request-timeout 3s
api POST /api/v1/app '{"name":"f","uid":"f"}'
# endpoint UID URL: sets EP_<UID>
endpoint() {
    api POST /api/v1/app/f/endpoint "{\"uid\":\"$1\",\"url\":\"$2\"}"
    [ "$STATUS" = 201 ] || bail "cannot create endpoint $1: $STATUS $BODY"
    eval "EP_$1=\$(jqr .id)"
}
endpoint refused "http://127.0.0.1:$CLOSED_PORT/refused"
endpoint reset "$RURL/x/reset"
endpoint partial "http://127.0.0.1:$PARTIAL_PORT/partial"
endpoint slow "$RURL/x/slowbody/5000"
endpoint garbage "http://127.0.0.1:$GARBAGE_PORT/garbage"
endpoint dns "http://nohost.invalid/dns"
api POST /api/v1/app/f/msg '{"eventType":"e","payload":{"n":1}}'
is "$STATUS" 202 "one message to the six faulty endpoints"

# attempts EP: the endpoint's attempt list, newest first, into BODY.
attempts() { api GET "/api/v1/app/f/attempt/endpoint/$1"; }
# has_attempt EP JQ-CONDITION [COUNT]: at least COUNT (1) attempts match.
has_attempt() {
    attempts "$1"
    [ "$(jqr "[.data[]|select($2)]|length")" -ge "${3:-1}" ] 2>/dev/null
}
# fault NAME EP PATTERN: an attempt with no HTTP status and PATTERN (grep -Ei)
# in its response, within 15 s.
fault() {
    wait_for 15 has_attempt "$2" ".responseStatusCode==0 and (.response|test(\"$3\";\"i\"))"
    ok $? "$1: attempt with responseStatusCode 0 and '$3' in the response"
    diag "$1: $(jqr '[.data[]|.response][0]')"
}

fault "connection refused" "$EP_refused" "connect"
wait_for 15 has_attempt "$EP_refused" ".responseStatusCode==0" 2
ok $? "connection refused: retried on the schedule (2 attempts)"
is "$(jqr '[.data[]|.status]|unique|join(",")')" 2 "connection refused: every attempt is recorded as failed"

fault "reset before the response" "$EP_reset" "empty reply|reset|recv failure"
ok "$(cond "$(received '.path=="/x/reset"') >= 1")" "reset: the receiver did get the request"

fault "reset mid-response" "$EP_partial" "reset|recv failure|transfer closed|partial"
is "$(jqr '[.data[]|.response][0]|test("ok")')" false "reset mid-response: the half body is not recorded as the answer"

fault "slow response" "$EP_slow" "timed out"
D=$(jqr '[.data[]|select(.responseStatusCode==0)|.responseDurationMs][0]')
ok "$(cond "$D >= 2800 && $D <= 4500")" "slow response: cut off at --request-timeout 3s (${D} ms)"

fault "invalid HTTP" "$EP_garbage" "HTTP/0.9|weird|unsupported|version"
fault "DNS failure" "$EP_dns" "resolve"

# ---- a huge response: truncated, memory bounded ----
api POST /api/v1/app '{"name":"big","uid":"big"}'
api POST /api/v1/app/big/endpoint "{\"url\":\"$RURL/x/big/50000000\"}"
EP_big=$(jqr .id)
rss() { ps -o rss= -p "$HOOKD_PID" | tr -d ' '; }
BASE=$(rss)
for i in 1 2 3 4; do api POST /api/v1/app/big/msg "{\"eventType\":\"e\",\"payload\":{\"i\":$i}}"; done
MAX=$BASE
deadline=$(( $(date +%s) + 60 ))
while :; do
    r=$(rss)
    [ -n "$r" ] && [ "$r" -gt "$MAX" ] && MAX=$r
    api GET "/api/v1/app/big/attempt/endpoint/$EP_big"
    [ "$(jqr '[.data[]|select(.responseStatusCode==200)]|length')" -ge 4 ] && break
    [ "$(date +%s)" -ge "$deadline" ] && break
    sleep 0.05
done
is "$(jqr '[.data[]|select(.responseStatusCode==200)]|length')" 4 "huge response: four 50 MB answers recorded as 200"
is "$(jqr '[.data[]|.response|length]|unique|join(",")')" 20000 "huge response: each kept to --max-response (20000 bytes)"
GROWTH=$(( (MAX - BASE) / 1024 ))
ok "$(cond "$GROWTH < 40")" "huge response: RSS grew by ${GROWTH} MiB while 200 MB came in (base $((BASE / 1024)) MiB)"

# ---- and hookd is fine ----
if kill -0 "$HOOKD_PID" 2>/dev/null; then ok 0 "hookd is still running"; else ok 1 "hookd is still running"; fi
api GET /api/v1/health
is "$STATUS" 200 "hookd is healthy"
api POST /api/v1/app/f/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/x/ok\"}"
EP_good=$(jqr .id)
api POST /api/v1/app/f/msg '{"eventType":"e","payload":{"n":2}}'
M2=$(jqr .id)
wait_received ".id==\"$M2\" and .path==\"/x/ok\" and .status==200" 1
ok $? "deliveries to a good receiver still work"
hookd_stop TERM
is "$HOOKD_RC" 0 "hookd stops cleanly"

done_testing
