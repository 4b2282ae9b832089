#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0455: what hookd decides from a request's headers, before its body.
#  1. 300 connections without a token, each sending the headers of a 1 MiB
#     message and 256 KiB of it: each gets its 401 at once and is closed,
#     the server's memory stays put and health answers meanwhile.
#  2. A 413, 401, 404 or 405 with a body announced comes before any of it
#     is sent, without "100 Continue", and the connection is closed; a
#     body-less 404 keeps its connection. GET and HEAD take no body (health
#     needs no token, so its body is the one anybody could send).
#  3. Bodies have a deadline of their own (--body-timeout).
#  4. Framing a front proxy could read differently (RFC 9112 6.3): 400 and
#     closed, and nothing after it runs as a second request.
#  5. Escapes that decode to '/' or a control byte in a path segment: 400.
#  6. SIGUSR1 and SIGUSR2 are logged and ignored.
#  7. Slow bodies that take every connection hold them only until the body
#     deadline.
. "$(dirname "$0")/lib.sh"
RAW=$TOP/build/tests/helpers/rawhttp
SLOW=$TOP/build/tests/helpers/slowloris
[ -x "$RAW" ] && [ -x "$SLOW" ] || bail "no helpers '$RAW', '$SLOW' (run make test)"
receiver_start
hookd_start --body-timeout 3s --allow-network 127.0.0.0/8
HP=${URL#http://}
api POST /api/v1/app '{"name":"l","uid":"l"}'
api POST /api/v1/app '{"name":"a","uid":"a"}'
api POST /api/v1/app/a/endpoint "{\"uid\":\"b\",\"url\":\"$RURL/b\"}"
is "$STATUS" 201 "setup: app a with endpoint b"

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$HOOKD_PID/status"; }
# raw NAME: send $T/NAME.req as it is; the answer in $T/NAME.out, the summary in $T/NAME.sum
raw() { "$RAW" --connect "$HP" --wait-ms "${2:-2000}" < "$T/$1.req" > "$T/$1.out" 2> "$T/$1.sum"; }
closed() { sed -n 's/.*closed=\([01]\).*/\1/p' "$T/$1.sum"; }
took() { sed -n 's/.*ms=\([0-9]*\).*/\1/p' "$T/$1.sum"; }
status_of() { head -n 1 "$T/$1.out" | tr -d '\r' | cut -d' ' -f2; }
code_of() { sed -n 's/.*"code":"\([a-z_]*\)".*/\1/p' "$T/$1.out"; }
statuses() { tr -d '\r' < "$T/$1.out" | grep -a '^HTTP/1.1 ' | cut -d' ' -f2 | sort -u | tr '\n' ' '; }
val() { sed -n "s/.*$2=\([-0-9]*\).*/\1/p" "$1"; }

# ---- 1. unauthenticated bodies cost nothing ----
BEFORE=$(rss_kb)
"$SLOW" --connect "$HP" --count 300 --mode body --burst 262144 --seconds 4 > "$T/noauth.out" &
A=$!
sleep 1.5
DURING=$(rss_kb)
h=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$URL/api/v1/health")
wait $A
AFTER=$(rss_kb)
diag "no token: $(cat "$T/noauth.out"); RSS ${BEFORE} kB before, ${DURING} during, ${AFTER} after"
is "$h" 200 "health answers during 300 unauthenticated 1 MiB uploads"
# refused: seen closed within 500 ms of its connect; on a loaded machine the
# client may notice some later, so the bound for the rest is looser
ok "$(cond "$(val "$T/noauth.out" open) == 0 && ($(val "$T/noauth.out" cut) == 0 || $(val "$T/noauth.out" cut_max_ms) < 2000)")" \
    "each of the 300 was closed at once ($(val "$T/noauth.out" refused) within 500 ms)"
ok "$(cond "$DURING - $BEFORE < 20000 && $AFTER - $BEFORE < 20000")" \
    "  and the server's memory grew by less than 20 MB (+$((DURING - BEFORE)) kB)"

# Closing on a client still sending resets the connection, which may cost
# a blasting client its answer (slowloris counts those it saw); a client
# that reads while it sends, as curl does, gets it.
head -c 500000 /dev/zero | tr '\0' a > "$T/500k"
r=$(curl -s -o "$T/401.out" -w '%{http_code}' --data-binary @"$T/500k" "$URL/api/v1/app/l/msg")
is "$r $(sed -n 's/.*"code":"\([a-z_]*\)".*/\1/p' "$T/401.out")" "401 authentication_failed" \
    "curl sending 500 KB without a token reads its JSON 401"

# ---- 2. refusals from the headers ----
CRLF=$(printf '\r')
hdrs() {   # hdrs NAME LINE...: a request of these lines, ended by an empty line
    n=$1; shift
    : > "$T/$n.req"
    for l in "$@"; do printf '%s\r\n' "$l" >> "$T/$n.req"; done
    printf '\r\n' >> "$T/$n.req"
}
hdrs big "POST /api/v1/app/l/msg HTTP/1.1" "Host: x" "Authorization: Bearer $TOKEN" \
    "Content-Type: application/json" "Expect: 100-continue" "Content-Length: 2000000"
raw big
is "$(status_of big)" 413 "a 2 MB Content-Length is 413, though no byte of the body was sent"
is "$(code_of big)" payload_too_large "  with the JSON error"
is "$(grep -c '100 Continue' "$T/big.out")" 0 "  and no '100 Continue' before it"
is "$(closed big)" 1 "  and the connection closed"
ok "$(cond "$(took big) < 1000")" "  at once ($(took big) ms)"
like "$(tr -d '\r' < "$T/big.out")" 'Connection: close' "  saying so (Connection: close)"
refuse() {   # refuse STATUS METHOD PATH [AUTH LINE]
    hdrs ref "$2 $3 HTTP/1.1" "Host: x" "Content-Type: application/json" "Content-Length: 5000" \
        "${4:-X-None: 1}"
    raw ref
    is "$(status_of ref) $(closed ref)" "$1 1" "$2 $3 with a body announced: $1 before the body, closed"
}
refuse 401 POST /api/v1/app/l/msg
refuse 404 POST /api/v1/nothing "Authorization: Bearer $TOKEN"
refuse 405 PUT /api/v1/app "Authorization: Bearer $TOKEN"
hdrs hb "GET /api/v1/health HTTP/1.1" "Host: x" "Content-Length: 100000"
raw hb
is "$(status_of hb) $(closed hb)" "413 1" "a body on GET /api/v1/health (no token needed) is refused, closed"
hdrs ka "GET /api/v1/nothing HTTP/1.1" "Host: x" "Authorization: Bearer $TOKEN"
raw ka 500
is "$(status_of ka) $(closed ka)" "404 0" "a 404 without a body keeps its connection"
BIG=$(head -c 500 /dev/zero | tr '\0' 'x')
api POST /api/v1/app/l/msg "{\"eventType\":\"e\",\"payload\":{\"x\":\"$BIG\"}}" -H 'Transfer-Encoding: chunked'
is "$STATUS" 202 "a chunked body (no Content-Length) is still read and served"

# ---- 3. the body deadline ----
"$SLOW" --connect "$HP" --count 4 --mode body --token "$TOKEN" --burst 100 --seconds 8 \
    > "$T/slowbody.out" &
A=$!
sleep 1
h=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$URL/api/v1/health")
wait $A
diag "slow bodies: $(cat "$T/slowbody.out")"
is "$h" 200 "health answers while 4 bodies trickle"
is "$(val "$T/slowbody.out" cut)" 4 "bodies trickled past --body-timeout are cut"
ok "$(cond "$(val "$T/slowbody.out" cut_min_ms) >= 2500 && $(val "$T/slowbody.out" cut_max_ms) <= 5000")" \
    "  at the 3 s body deadline, though a byte arrived every second"

# ---- 4. framing ----
# frame NAME EXPECT_CODE LINE...: request lines, then the body text in $BODYTXT
frame() {
    n=$1 want=$2; shift 2
    hdrs "$n" "$@"
    printf '%s' "$BODYTXT" >> "$T/$n.req"
    raw "$n" 1500
    got="$(statuses "$n")closed=$(closed "$n")"
    if [ "$want" = mhd ]; then
        is "$got" "400 closed=1" "framing '$n': 400 and closed (libmicrohttpd's own answer)"
    else
        is "$got $(code_of "$n")" "400 closed=1 bad_framing" "framing '$n': 400 bad_framing and closed"
    fi
}
POST="POST /api/v1/app HTTP/1.1"
AU="Authorization: Bearer $TOKEN"
CT="Content-Type: application/json"
SMUGGLED="GET /api/v1/app/a HTTP/1.1${CRLF}
Host: x${CRLF}
${AU}${CRLF}
${CRLF}
"
BODYTXT="{\"name\":\"s1\"}$SMUGGLED"
frame two-cl ours "$POST" "Host: x" "$AU" "$CT" "Content-Length: 13" "Content-Length: $((13 + ${#SMUGGLED}))"
BODYTXT='{"name":"s2"}'
frame same-cl-twice ours "$POST" "Host: x" "$AU" "$CT" "Content-Length: 13" "Content-Length: 13"
frame cl-list-same mhd "$POST" "Host: x" "$AU" "$CT" "Content-Length: 13, 13"
frame cl-list-differ mhd "$POST" "Host: x" "$AU" "$CT" "Content-Length: 13, 40"
frame cl-plus mhd "$POST" "Host: x" "$AU" "$CT" "Content-Length: +13"
frame cl-minus mhd "$POST" "Host: x" "$AU" "$CT" "Content-Length: -1"
frame cl-hex mhd "$POST" "Host: x" "$AU" "$CT" "Content-Length: 0x10"
frame cl-space-inside mhd "$POST" "Host: x" "$AU" "$CT" "Content-Length: 1 3"
frame cl-space-colon ours "$POST" "Host: x" "$AU" "$CT" "Content-Length : 13"
BODYTXT="d${CRLF}
{\"name\":\"s3\"}${CRLF}
0${CRLF}
${CRLF}
"
frame cl-and-te ours "$POST" "Host: x" "$AU" "$CT" "Content-Length: 13" "Transfer-Encoding: chunked"
frame te-and-cl ours "$POST" "Host: x" "$AU" "$CT" "Transfer-Encoding: chunked" "Content-Length: 3"
frame te-list ours "$POST" "Host: x" "$AU" "$CT" "Transfer-Encoding: chunked, identity"
frame te-xchunked ours "$POST" "Host: x" "$AU" "$CT" "Transfer-Encoding: xchunked"
frame te-twice ours "$POST" "Host: x" "$AU" "$CT" "Transfer-Encoding: chunked" "Transfer-Encoding: chunked"
frame te-http10 ours "POST /api/v1/app HTTP/1.0" "Host: x" "$AU" "$CT" "Transfer-Encoding: chunked"
api GET /api/v1/app
is "$(jqr '[.data[].name] | map(select(startswith("s"))) | length')" 0 \
    "none of the framing cases created an app"
hdrs te-ok "$POST" "Host: x" "$AU" "$CT" "Transfer-Encoding: chunked"
printf '%s' "$BODYTXT" >> "$T/te-ok.req"
raw te-ok 500
is "$(status_of te-ok)" 201 "a plain chunked request is still served"

# ---- 5. escapes in path segments ----
api GET "/api/v1/app/a%2Fendpoint%2Fb"
is "$STATUS" 400 "%2F in an id is 400 (it routed to another resource)"
is "$(jqr .code)" invalid_path "  code invalid_path"
like "$(jqr .detail)" "segment 'a%2Fendpoint%2Fb'" "  naming the segment"
api GET "/api/v1/app/a%00zzz"
is "$STATUS $(jqr .code)" "400 invalid_path" "%00 in an id is 400 (it cut the id short)"
api GET "/api/v1/app/a%2f"
is "$STATUS" 400 "lowercase %2f too"
api GET "/api/v1/app/a%0Ab"
is "$STATUS" 400 "an escaped newline too"
api POST "/api/v1/app/a%2Fb/msg" '{"eventType":"e","payload":{}}'
is "$STATUS" 400 "and on a write, before the body"
api GET "/api/v1/app/%61"
is "$STATUS $(jqr .uid)" "200 a" "other escapes still decode ('%61' is 'a')"

# ---- 6. signals ----
kill -USR1 "$HOOKD_PID"
kill -USR2 "$HOOKD_PID"
sleep 0.5
kill -0 "$HOOKD_PID" 2>/dev/null
ok $? "SIGUSR1 and SIGUSR2 leave the server running"
AUTH=none api GET /api/v1/health
is "$STATUS" 200 "  and serving"
like "$(grep -c 'signal ignored' "$T/hookd.err")" '^[2-9]' "  and each is logged as ignored"
hookd_stop TERM
is "$HOOKD_RC" 0 "SIGTERM still stops it cleanly"

# ---- 7. slow bodies that fill the server free it at the body deadline ----
rm -rf "$T/data"
hookd_start --max-connections 8 --max-connections-per-ip 0 --body-timeout 2s
HP=${URL#http://}
api POST /api/v1/app '{"name":"l","uid":"l"}'
"$SLOW" --connect "$HP" --count 8 --mode body --token "$TOKEN" --seconds 5 > "$T/fill.out" &
A=$!
sleep 1
h1=$(curl -s -o /dev/null -m 0.5 -w '%{http_code}' "$URL/api/v1/health")
wait $A
h2=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$URL/api/v1/health")
diag "fill: $(cat "$T/fill.out")"
is "$h1" 000 "8 trickled bodies fill an 8-connection server"
is "$(val "$T/fill.out" cut) $h2" "8 200" \
    "until the 2 s body deadline cuts them (not the 10 s header or 30 s idle ones)"
done_testing
