#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0430: SSRF bypass attempts are refused, and each refusal says why.
# Numeric spellings of an address (decimal, octal, hex, short) are refused
# when an endpoint is written (422 naming the host) and again by the worker
# for a record that predates that check, even where the range is allowed;
# IPv4-mapped IPv6, names that resolve to loopback and the metadata address
# are refused at connect time; a redirect is a failed attempt and its
# Location is never fetched. The receiver listens on loopback, which the
# policy refuses: whatever reaches it is a bypass.
. "$(dirname "$0")/lib.sh"
LMDB_KV=$TOP/build/tests/helpers/lmdb-kv
[ -x "$LMDB_KV" ] || bail "no helper '$LMDB_KV' (run make test)"
receiver_start
PORT=${RURL##*:}

# ---- 1. numeric spellings refused when the endpoint is written ----
hookd_start --retry-schedule 1s
api POST /api/v1/app '{"name":"s","uid":"s"}'
APP=$(jqr .id)
for host in 2130706433 0177.0.0.1 0x7f.0.0.1 127.1 0x7f000001 127.0.0.1. 2852039166; do
    api POST /api/v1/app/s/endpoint "{\"url\":\"http://$host:$PORT/trick\"}"
    is "$STATUS" 422 "endpoint at http://$host:PORT/ refused"
    is "$(jqr '.detail[0].loc|join(".")')" body.url "  the error names the url field"
    like "$(jqr '.detail[0].msg')" "url host '$host' is a non-canonical spelling of the ipv4 address (127\.0\.0\.1|169\.254\.169\.254); write it as" \
        "  and the host, and the address it hides"
done
api POST /api/v1/app/s/endpoint "{\"url\":\"http://alice:hunter2@127.1:$PORT/trick\"}"
is "$STATUS" 422 "with userinfo too"
case $BODY in *hunter2*|*alice*) ok 1 "  the error leaves the userinfo out" ;; *) ok 0 "  the error leaves the userinfo out" ;; esac
api POST /api/v1/app/s/endpoint "{\"uid\":\"later\",\"url\":\"https://example.com/hook\"}"
is "$STATUS" 201 "a public name is accepted"
api PATCH /api/v1/app/s/endpoint/later "{\"url\":\"http://0x7f.1:$PORT/trick\"}"
is "$STATUS" 422 "PATCH to a numeric spelling refused"
api PUT /api/v1/app/s/endpoint/later "{\"url\":\"http://017700000001:$PORT/trick\"}"
is "$STATUS" 422 "PUT to a numeric spelling refused"
api GET /api/v1/app/s/endpoint/later
is "$(jqr .url)" https://example.com/hook "the endpoint kept its url"

# ---- 2. refused at connect time, with the reason in the attempt ----
api POST /api/v1/app/s/endpoint "{\"uid\":\"mapped\",\"url\":\"http://[::ffff:127.0.0.1]:$PORT/mapped\"}"
is "$STATUS" 201 "an ipv4-mapped ipv6 literal is a valid url"
api POST /api/v1/app/s/endpoint "{\"uid\":\"mappedmeta\",\"url\":\"http://[::ffff:a9fe:a9fe]/latest\"}"
api POST /api/v1/app/s/endpoint "{\"uid\":\"local\",\"url\":\"http://localhost:$PORT/localhost\"}"
api POST /api/v1/app/s/endpoint "{\"uid\":\"meta\",\"url\":\"http://169.254.169.254/latest/meta-data\"}"
HAVE_IP6LOCAL=
if getent hosts ip6-localhost >/dev/null 2>&1; then
    HAVE_IP6LOCAL=1
    api POST /api/v1/app/s/endpoint "{\"uid\":\"local6\",\"url\":\"http://ip6-localhost:$PORT/ip6\"}"
fi
api POST /api/v1/app/s/msg '{"eventType":"e","payload":{"n":1}}'
# reason UID PATTERN: an attempt of endpoint UID failed without a response,
# and its response text matches PATTERN
reason() {
    api GET "/api/v1/app/s/attempt/endpoint/$1"
    [ "$(jqr "[.data[]|select(.responseStatusCode==0 and (.response|test(\"$2\")))]|length")" -ge 1 ]
}
wait_for 10 reason mapped 'network policy: address ::ffff:127.0.0.1 \\(ipv4-mapped 127.0.0.1\\) is in a loopback range'
ok $? "ipv4-mapped loopback refused, as the ipv4 address it carries"
wait_for 10 reason mappedmeta 'network policy: .*ipv4-mapped 169.254.169.254.* cloud metadata'
ok $? "ipv4-mapped metadata address refused"
wait_for 10 reason local "network policy: address (127.0.0.1|::1) is in a loopback range"
ok $? "a name resolving to loopback (localhost) refused, naming the address"
wait_for 10 reason meta 'network policy: address 169.254.169.254 is in the cloud metadata range'
ok $? "the cloud metadata address refused"
if [ -n "$HAVE_IP6LOCAL" ]; then
    wait_for 10 reason local6 'network policy: address ::1 is in a loopback range'
    ok $? "ip6-localhost (::1) refused"
else
    ok 0 "# SKIP ip6-localhost does not resolve here"
fi
api GET /api/v1/app/s/attempt/endpoint/mapped
is "$(jqr '.data[0].status')" 2 "a refused attempt is a failed attempt"
is "$(received true)" 0 "nothing reached the receiver"
hookd_stop TERM

# ---- 3. a record written before the check: refused by the worker ----
# Even with loopback allowed, where curl would read 2130706433 as
# 127.0.0.1 and connect, the disguised spelling itself is refused.
rm -rf "$T/data"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
api POST /api/v1/app '{"name":"p","uid":"p"}'
APP=$(jqr .id)
api POST /api/v1/app/p/endpoint "{\"uid\":\"old\",\"url\":\"$RURL/planted-ok\"}"
EP=$(jqr .id)
hookd_stop TERM
"$LMDB_KV" get "$T/data" endpoints "$APP$EP" > "$T/ep.json" || bail "cannot read the endpoint record"
jq -c ".url = \"http://2130706433:$PORT/planted\"" "$T/ep.json" | "$LMDB_KV" put "$T/data" endpoints "$APP$EP" \
    || bail "cannot plant the endpoint record"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
api GET /api/v1/app/p/endpoint/old
is "$(jqr .url)" "http://2130706433:$PORT/planted" "the planted url is in the store"
api POST /api/v1/app/p/msg '{"eventType":"e","payload":{"n":2}}'
preason() {
    api GET "/api/v1/app/p/attempt/endpoint/old"
    [ "$(jqr '[.data[]|select(.responseStatusCode==0 and (.response|test("network policy: url host .2130706433. is a non-canonical spelling of the ipv4 address 127.0.0.1")))]|length')" -ge 1 ]
}
wait_for 10 preason
ok $? "the worker refuses the numeric spelling and says so, though 127.0.0.0/8 is allowed"
is "$(received '(.path|startswith("/planted"))')" 0 "the receiver saw nothing of it"
hookd_stop TERM

# ---- 4. a redirect is a failure and is not followed ----
rm -rf "$T/data"
hookd_start --allow-network 127.0.0.1/32 --retry-schedule 1s,1s
api POST /api/v1/app '{"name":"r","uid":"r"}'
api POST /api/v1/app/r/endpoint "{\"uid\":\"r302\",\"url\":\"$RURL/hop/redirect/302\"}"
api POST /api/v1/app/r/endpoint "{\"uid\":\"r307\",\"url\":\"$RURL/hop7/redirect/307\"}"
api POST /api/v1/app/r/msg '{"eventType":"e","payload":{"n":3}}'
MR=$(jqr .id)
wait_received '(.path|startswith("/hop/"))' 3 15
ok $? "the 302 counts as a failure: first attempt and both retries were made"
wait_received '(.path|startswith("/hop7/"))' 3 15
ok $? "so does the 307"
api GET /api/v1/app/r/attempt/endpoint/r302
is "$(jqr '[.data[]|select(.responseStatusCode==302 and .status==2)]|length')" 3 "each attempt recorded as failed with status 302"
api GET "/hookd/v1/deliveries?app_id=r"
is "$(jqr '[.data[]|select(.msgId=="'"$MR"'" and .status=="fail")]|length')" 2 "both deliveries final-failed"
sleep 1
is "$(received '(.path|startswith("/redirect-landed"))')" 0 "the Location was never fetched"
hookd_stop TERM

done_testing
