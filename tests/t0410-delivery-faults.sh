#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0410: the SSRF policy (loopback refused unless allowed, also through a
# DNS name), a retry scheduled before a restart fires after it, and
# kill -9 under load loses nothing: every acknowledged message reaches
# every matching endpoint at least once; deleting an application stops
# the retries of its endpoints; a proxy set in the environment is ignored.
. "$(dirname "$0")/lib.sh"
receiver_start

# 1. SSRF: no --allow-network, so loopback is refused, by address and by name
hookd_start --retry-schedule 1s
api POST /api/v1/app '{"name":"s","uid":"s"}'
PORT=${RURL##*:}
api POST /api/v1/app/s/endpoint "{\"uid\":\"ip\",\"url\":\"http://127.0.0.1:$PORT/ssrf-ip/ok\"}"
api POST /api/v1/app/s/endpoint "{\"uid\":\"name\",\"url\":\"http://localhost:$PORT/ssrf-name/ok\"}"
api POST /api/v1/app/s/endpoint "{\"uid\":\"meta\",\"url\":\"http://169.254.169.254/latest/meta-data\"}"
api POST /api/v1/app/s/msg '{"eventType":"e","payload":{}}'
refused() {
    api GET "/api/v1/app/s/attempt/endpoint/$1"
    [ "$(jqr '[.data[]|select(.responseStatusCode==0 and (.response|test("network policy")))]|length')" -ge 1 ]
}
wait_for 10 refused ip
ok $? "a loopback address is refused by the network policy"
wait_for 10 refused name
ok $? "a name that resolves to loopback is refused too"
wait_for 10 refused meta
ok $? "the cloud metadata address is refused"
is "$(received '(.path|startswith("/ssrf"))')" 0 "nothing reached the receiver"
hookd_stop TERM

# 2. a retry scheduled before a restart fires at its time after it
rm -rf "$T/data"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 3s
api POST /api/v1/app '{"name":"r","uid":"r"}'
api POST /api/v1/app/r/endpoint "{\"url\":\"$RURL/restart/flaky/1\"}"
api POST /api/v1/app/r/msg '{"eventType":"e","payload":{}}'
MR=$(jqr .id)
wait_received ".id==\"$MR\"" 1
ok $? "the first attempt failed"
hookd_stop TERM
is "$HOOKD_RC" 0 "server stopped"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 3s
wait_received ".id==\"$MR\" and .status==200" 1 10
ok $? "the retry scheduled before the restart was delivered after it"
T1=$(jq -s "[.[]|select(.id==\"$MR\")|.t]|.[0]" "$RLOG")
T2=$(jq -s "[.[]|select(.id==\"$MR\")|.t]|.[1]" "$RLOG")
ok "$(cond "$T2 - $T1 >= 2300")" "and not before its time ($(awk "BEGIN{print $T2 - $T1}") ms)"
hookd_stop TERM

# 3. kill -9 under load, restart: every 202 reaches both endpoints
rm -rf "$T/data"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
api POST /api/v1/app '{"name":"k","uid":"k"}'
api POST /api/v1/app/k/endpoint "{\"url\":\"$RURL/k1/ok\"}"
api POST /api/v1/app/k/endpoint "{\"url\":\"$RURL/k2/delay/50\"}"
mkdir "$T/acks"
producer() {
    for i in $(seq 1 400); do
        curl -s -o "$T/acks/$1-$i" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
            --data-binary "{\"eventType\":\"e\",\"payload\":{\"p\":$1,\"i\":$i}}" \
            "$URL/api/v1/app/k/msg" > "$T/acks/$1-$i.code" 2>/dev/null || break
    done
}
PIDS=""
for p in 1 2 3 4; do producer $p & PIDS="$PIDS $!"; done
sleep 1.5
kill -9 "$HOOKD_PID"
for p in $PIDS; do wait "$p" 2>/dev/null; done
ACKED=$(grep -l '^202$' "$T"/acks/*.code 2>/dev/null | sed 's/\.code$//' | xargs -r cat | jq -r .id | sort -u)
N=$(printf '%s\n' "$ACKED" | grep -c msg_)
ok "$(cond "$N > 0")" "messages were acknowledged before the kill ($N)"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
all_delivered() {
    for path in k1 k2; do
        jq -r "select(.path|startswith(\"/$path/\"))|.id" "$RLOG" | sort -u > "$T/got-$path"
        [ -z "$(printf '%s\n' "$ACKED" | comm -23 - "$T/got-$path")" ] || return 1
    done
}
wait_for 30 all_delivered
ok $? "every acknowledged message reached both endpoints after the restart"
for path in k1 k2; do
    missing=$(printf '%s\n' "$ACKED" | comm -23 - "$T/got-$path" | wc -l)
    is "$missing" 0 "no message missing at /$path/"
done
DUPS=$(jq -r '.path[0:4] + " " + .id' "$RLOG" | grep '^/k' | sort | uniq -d | wc -l)
diag "duplicates (in flight at the kill): $DUPS"

# one_message APP PATH: application APP with one endpoint at $RURL/PATH,
# and one message to it, whose id is then in MID
one_message() {
    api POST /api/v1/app "{\"name\":\"$1\",\"uid\":\"$1\"}"
    api POST "/api/v1/app/$1/endpoint" "{\"url\":\"$RURL/$2\"}"
    api POST "/api/v1/app/$1/msg" '{"eventType":"e","payload":{"n":1}}'
    MID=$(jqr .id)
}

# 4. deleting an application stops its retries: the dispatcher, which
# keeps each endpoint's settings, learns that the endpoint is gone
one_message gone gone/status/500
MG=$MID
wait_received ".id==\"$MG\"" 1 10
ok $? "the first attempt reached the failing endpoint"
api DELETE /api/v1/app/gone
is "$STATUS" 204 "the application is deleted"
sleep 2.5   # two retry periods of 1 s
is "$(received ".id==\"$MG\"")" 1 "no retry was sent after the delete"
hookd_stop TERM

# 5. a proxy in the environment is not used: through it, the address the
# SSRF policy checked would not be the one connected to (here the proxy
# is a closed port, so a delivery through it would fail)
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
hookd_start --allow-network 127.0.0.0/8
unset http_proxy https_proxy ALL_PROXY
one_message px px/ok
wait_received ".id==\"$MID\" and .status==200" 1 10
ok $? "delivered straight to the receiver, not through the environment's proxy"
done_testing
