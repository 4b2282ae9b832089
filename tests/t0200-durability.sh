#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0200: an acknowledged message survives kill -9. Concurrent producers
# send messages; the server is killed right after the 202s; after a
# restart every acknowledged message is there and the store opens cleanly.
. "$(dirname "$0")/lib.sh"
N=${DURABILITY_MESSAGES:-400}
hookd_start
api POST /api/v1/app '{"name":"d","uid":"d"}'
api POST /api/v1/app/d/endpoint '{"url":"http://127.0.0.1:9/"}'

mkdir "$T/acks"
send() {
    i=$1
    code=$(curl -s -o "$T/acks/$i.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' \
        --data-binary "{\"eventType\":\"e\",\"eventId\":\"ev-$i\",\"payload\":{\"i\":$i}}" \
        "$URL/api/v1/app/d/msg")
    [ "$code" = 202 ] || rm -f "$T/acks/$i.json"
}
# 16 producers in parallel; the kill lands while later ones are in flight
i=0
while [ $i -lt "$N" ]; do
    for k in $(seq 1 16); do send $((i + k)) & done
    wait
    i=$((i + 16))
done &
LOAD=$!
sleep 1
kill -9 "$HOOKD_PID"
wait "$LOAD" 2>/dev/null
ACKED=$(ls "$T/acks" | wc -l)
ok "$([ "$ACKED" -gt 0 ]; echo $?)" "some messages were acknowledged before the kill ($ACKED)"

mdb_stat -e "$DATA" >/dev/null 2>&1
is "$?" 0 "the store opens cleanly after kill -9"
hookd_start
lost=0
for f in "$T"/acks/*.json; do
    id=$(jq -r .id "$f")
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        "$URL/api/v1/app/d/msg/$id")
    [ "$code" = 200 ] || { lost=$((lost + 1)); diag "lost $id"; }
done
is "$lost" 0 "every acknowledged message is present after restart"
api GET /api/v1/app/d/msg/ev-1
is "$STATUS" 200 "eventId index survived too"
api POST /api/v1/app/d/msg '{"eventType":"e","payload":{}}'
is "$STATUS" 202 "the restarted server takes new messages"
hookd_stop TERM
is "$HOOKD_RC" 0 "clean stop after recovery"
done_testing
