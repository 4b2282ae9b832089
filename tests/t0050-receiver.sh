#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The test receiver (tests/helpers/receiver.c) that the delivery tests and
# benchmarks trust: its signature check, every path behaviour and its log.
# It needs no hookd: requests are made with curl, signed here with openssl
# (or node when openssl is missing).
. "$(dirname "$0")/lib.sh"

RECEIVER=${RECEIVER:-$TOP/build/tests/helpers/receiver}
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
command -v curl >/dev/null || skip_all "curl not installed"
command -v jq >/dev/null || skip_all "jq not installed"
if command -v openssl >/dev/null; then SIGNER=openssl
elif command -v node >/dev/null; then SIGNER=node
else skip_all "neither openssl nor node is installed to sign requests"
fi

SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
SECRET2=whsec_c2Vjb25kLXNlY3JldC1mb3ItdGhlLXRlc3Q=

# sign SECRET ID TS BODY: the base64 HMAC-SHA256 of "ID.TS.BODY" (API.md 6).
sign() {
    if [ "$SIGNER" = openssl ]; then
        key=$(printf '%s' "${1#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
        printf '%s.%s.%s' "$2" "$3" "$4" \
            | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64
    else
        node -e 'const c = require("crypto"); const [s, i, t, b] = process.argv.slice(1);
            process.stdout.write(c.createHmac("sha256", Buffer.from(s.replace(/^whsec_/, ""), "base64"))
                .update(`${i}.${t}.${b}`).digest("base64"))' "$1" "$2" "$3" "$4"
    fi
}

# recv_start LOG [ARGS...]: start a receiver; sets RURL and RPID.
recv_start() {
    _log=$1
    shift
    rm -f "$T/port"
    "$RECEIVER" --listen 127.0.0.1:0 --log "$_log" "$@" >"$T/port" 2>>"$T/receiver.err" &
    RPID=$!
    HOOKD_PIDS="$HOOKD_PIDS $RPID"
    i=0
    while [ ! -s "$T/port" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$RPID" 2>/dev/null; then
            cat "$T/receiver.err" >&2
            bail "receiver did not start"
        fi
        sleep 0.05
    done
    RURL="http://127.0.0.1:$(cat "$T/port")"
}

# post PATH ID TS SIG BODY [CURL ARGS...]: sets CODE, TIME, RC, OUT.
post() {
    _p=$1 _id=$2 _ts=$3 _sig=$4 _body=$5
    shift 5
    OUT=$(curl -s -o "$T/out" -D "$T/hdrs" -w '%{http_code} %{time_total}' \
        -H "webhook-id: $_id" -H "webhook-timestamp: $_ts" -H "webhook-signature: $_sig" \
        -H 'content-type: application/json' -H 'X-Custom-Thing: Abc' \
        --data-binary "$_body" "$@" "$RURL$_p")
    RC=$?
    CODE=${OUT% *}
    TIME=${OUT#* }
}

last() { tail -n 1 "$LOG" | jq -r "$1"; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; echo $?; }

plan 43

is "$(sign "$SECRET" msg_p5jXN8AQM9LWM0D4loKWxJek 1614265330 '{"test": 2432232314}')" \
    "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" "the test's signer reproduces the API.md vector"

LOG=$T/full.log
recv_start "$LOG" --secret "$SECRET" --secret "$SECRET2"
like "$RURL" '^http://127\.0\.0\.1:[0-9]+$' "receiver prints its port"

# A correctly signed request, with a rotated-out entry first.
now=$(date +%s)
sent=$(($(date +%s%N) / 1000000))
body="{\"type\":\"a.b\",\"sent_ms\":$sent}"
good=$(sign "$SECRET" msg_1 "$now" "$body")
post /ep1/ok msg_1 "$now" "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,$good" "$body"
is "$CODE" 200 "signed request answered 200"
is "$(cat "$T/out")" '{"ok":true}' "default body"
is "$(last .verified)" true "correct signature verified"
is "$(last '[.id, .ts, .path, .len] | join(" ")')" "msg_1 $now /ep1/ok ${#body}" "id, ts, path and len logged"
is "$(last .body)" "$body" "body logged"
is "$(last '.headers["x-custom-thing"]')" Abc "custom header logged lowercased"
is "$(last '.headers | has("webhook-id") or has("host") or has("user-agent")')" false \
    "standard headers kept out of .headers"
like "$(last .ua)" '^curl/' "user agent logged"
is "$(last .ct)" application/json "content type logged"
ok "$(last '.lat_ms >= 0 and .lat_ms < 60000' | grep -qx true; echo $?)" "lat_ms from sent_ms"

second=$(sign "$SECRET2" msg_2 "$now" '{}')
post /ep1 msg_2 "$now" "v1,$second" '{}'
is "$(last .verified)" true "a signature by the second --secret verifies"

post /ep1 msg_3 "$now" "v1,$good" "$body"
is "$(last .verified)" false "signature for another id fails"
post /ep1 msg_1 "$now" "v1,$good" "$body "
is "$(last .verified)" false "signature over another body fails"
post /ep1 msg_1 "$now" "v1a,$good" "$body"
is "$(last .verified)" false "only v1 entries count"
old=$((now - 400))
post /ep1 msg_1 "$old" "v1,$(sign "$SECRET" msg_1 "$old" "$body")" "$body"
is "$(last .verified)" false "timestamp 400 s old fails"
is "$CODE" 200 "a bad signature still gets the path's answer"

post /ep1/status/503 msg_4 "$now" x '{}'
is "$CODE" 503 "/status/503 answers 503"
is "$(last .status)" 503 "status logged"

post /ep1/retry-after/503/2 msg_5 "$now" x '{}'
is "$CODE" 503 "/retry-after/503/2 answers 503"
ok "$(tr -d '\r' <"$T/hdrs" | grep -qx 'Retry-After: 2'; echo $?)" "with Retry-After: 2"

post /ep1/delay/500 msg_6 "$now" x '{}'
is "$CODE" 200 "/delay/500 answers 200"
is "$(at_least "$TIME" 0.5)" 0 "after at least 0.5 s ($TIME s)"

flaky=""
for i in 1 2 3; do
    post /ep1/flaky/2 msg_7 "$now" x '{}'
    flaky="$flaky $CODE"
done
is "$flaky" " 500 500 200" "/flaky/2 fails twice for one webhook-id, then succeeds"
post /ep1/flaky/2 msg_8 "$now" x '{}'
is "$CODE" 500 "another webhook-id starts its own count"

post /ep1/gone msg_9 "$now" x '{}'
is "$CODE" 410 "/gone answers 410"
post /gone/ok msg_9 "$now" x '{}'
is "$CODE" 200 "the last answer keyword wins (/gone/ok)"
post /hang/status/502 msg_9 "$now" x '{}' --max-time 2
is "$CODE" 502 "an endpoint named hang can still answer (/hang/status/502)"
post /flaky/delay/200 msg_9 "$now" x '{}'
is "$CODE" 200 "a keyword without its argument is a plain segment (/flaky/delay/200)"

post /ep1/reset msg_10 "$now" x '{}'
is "$RC" 52 "/reset closes without a response (curl: empty reply)"
is "$(last .status)" null "reset logged with status null"

(post /ep1/hang msg_11 "$now" x '{}' --max-time 1; echo "$RC" >"$T/hang.rc") &
hang=$!
sleep 0.2
post /ep1/ok msg_12 "$now" x '{}'
is "$CODE" 200 "/ok answers while /hang is held"
is "$(at_least 0.5 "$TIME")" 0 "promptly ($TIME s)"
wait "$hang"
is "$(cat "$T/hang.rc")" 28 "/hang never answers (curl times out)"

post /ep1/big/100000 msg_13 "$now" x '{}'
is "$CODE $(wc -c <"$T/out" | tr -d ' ')" "200 100000" "/big/100000 returns 100000 bytes"

post /ep1/slowbody/600 msg_14 "$now" x '{}'
is "$CODE $(cat "$T/out")" '200 {"ok":true}' "/slowbody/600 answers 200 with a body"
is "$(at_least "$TIME" 0.55)" 0 "trickled over 0.6 s ($TIME s)"

big=$(head -c 6000 /dev/zero | tr '\0' 'a')
post /ep1 msg_15 "$now" x "$big"
is "$(last '[(.body | length), .len] | join(" ")')" "4096 6000" "logged body truncated at 4096 bytes"

is "$(jq -c . "$LOG" 2>/dev/null | wc -l | tr -d ' ')" "$(wc -l <"$LOG" | tr -d ' ')" \
    "every log line is valid JSON"
kill -TERM "$RPID"
wait "$RPID"
is "$?" 0 "receiver exits 0 on SIGTERM"

LOG=$T/quiet.log
recv_start "$LOG" --quiet-log
post /q/status/202 msg_16 "$now" x "{\"sent_ms\":$(($(date +%s%N) / 1000000))}"
is "$(last 'keys | join(",")')" id,lat_ms,path,status,t,verified "--quiet-log keeps six fields"
is "$(last '[.id, .path, .status, .verified] | join(" ")')" "msg_16 /q/status/202 202 " \
    "verified is null without --secret"
kill -TERM "$RPID"
wait "$RPID"

done_testing
