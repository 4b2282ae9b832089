#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0525: the listener's gauges. hookd_http_connections counts the client
# connections open (idle ones too); hookd_http_requests_waiting counts the
# write requests handed to the log writer and not yet answered: held by a
# 1 s group-commit delay they show, answered they are gone. /hookd/v1/stats
# says the same under "http".
. "$(dirname "$0")/lib.sh"
SLOW=$TOP/build/tests/helpers/slowloris
[ -x "$SLOW" ] || bail "no helper '$SLOW' (make test builds it)"
hookd_start --commit-delay-us 1000000


api POST /api/v1/app '{"name":"g","uid":"g"}'
is "$(metric hookd_http_connections)" 1 "one connection: the scrape's own"
is "$(metric hookd_http_requests_waiting)" 0 "no request waits"

"$SLOW" --connect "${URL#http://}" --count 5 --mode idle --seconds 5 > "$T/slow.out" &
SLOW_PID=$!
five() { [ "$(metric hookd_http_connections)" = 6 ]; }
wait_for 3 five
ok $? "five idle connections more: 6"

# three writes held by the commit delay
for i in 1 2 3; do
    curl -s -o "$T/post.$i" -w '%{http_code}\n' -X POST -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data "{\"eventType\":\"e\",\"payload\":{\"i\":$i}}" \
        "$URL/api/v1/app/g/msg" > "$T/code.$i" &
    eval "P$i=\$!"
done
seen=0 n=0
while [ $n -lt 20 ]; do
    w=$(metric hookd_http_requests_waiting)
    [ "$w" -gt "$seen" ] && seen=$w
    [ "$seen" = 3 ] && break
    n=$((n + 1))
done
is "$seen" 3 "the three writes wait for the commit"
api GET /hookd/v1/stats
held=$(jqr .http.waiting)
wait "$P1" "$P2" "$P3"
is "$(cat "$T/code.1" "$T/code.2" "$T/code.3" | tr -d '\n')" 202202202 "then all three are answered"
is "$(metric hookd_http_requests_waiting)" 0 "and none waits any more"
api GET /hookd/v1/stats
is "$(jqr .http.waiting)" 0 "stats: none waits"
like "$held" '^[0-3]$' "stats said how many waited meanwhile ($held)"
is "$(jqr .http.connections)" 6 "stats: the connections, the idle five included"
kill "$SLOW_PID" 2>/dev/null
wait "$SLOW_PID" 2>/dev/null
gone() { [ "$(metric hookd_http_connections)" = 1 ]; }
wait_for 5 gone
ok $? "the five closed: 1 again"
hookd_stop
is "$HOOKD_RC" 0 "the server stops cleanly"
done_testing
