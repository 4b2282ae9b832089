#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0145: a message's payload is kept as the bytes the producer sent: the
# 202 answer, GET, the list, the attempt list's msg, the delivery body and
# the signature over it, and a resend all carry the same text, number
# spellings (19.99, 1E+2, -0.0, 1e400, 30-digit integers) and whitespace
# included; on the fast path and on jansson's path. Bad numbers are 422.
. "$(dirname "$0")/lib.sh"
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
receiver_start --secret "$SECRET"
hookd_start --allow-network 127.0.0.0/8

api POST /api/v1/app '{"name":"pay","uid":"pay"}'
is "$STATUS" 201 "app created"
api POST /api/v1/app/pay/endpoint "{\"uid\":\"rx\",\"url\":\"$RURL/rx\",\"secret\":\"$SECRET\"}"
is "$STATUS" 201 "endpoint created"
EP=$(jqr .id)
M=/api/v1/app/pay/msg

# has TEXT NEEDLE: 0 when TEXT holds NEEDLE byte for byte
has() { case $1 in *"$2"*) echo 0 ;; *) echo 1 ;; esac; }

# The last four take jansson's path: non-ASCII, a \u escape, an unusual key order.
set -- \
    '{"amount":19.99}' \
    '{"hundred":1E+2,"neg_zero":-0.0}' \
    '{"big":123456789012345678901234567890,"neg":-98765432109876543210987654321}' \
    '{"huge":1e400,"tiny":1e-400}' \
    '{ "spaced" : [ 1 ,  2.50 ],
  "nl" : { } }' \
    '{"café":19.99,"n":1e400}' \
    '{"u":"\u00e9","amount":0.10}' \
    '{"k":[{"a":1.0},{"a":-0}],"big":123456789012345678901234567890}'
i=0
for P in "$@"; do
    i=$((i + 1))
    api POST $M "{\"eventType\":\"pay.ok\",\"eventId\":\"e$i\",\"payload\":$P}"
    is "$STATUS" 202 "payload $i accepted"
    ok "$(has "$BODY" "\"payload\":$P,\"timestamp\"")" "payload $i: the 202 answer carries it as sent"
    api GET "$M/e$i"
    ok "$(has "$BODY" "\"payload\":$P,\"timestamp\"")" "payload $i: GET returns it as sent"
    wait_received ".id==\"$(jqr .id)\"" 1
    ok $? "payload $i delivered"
    GOT=$(jq -r "select(.id==\"$(jqr .id)\") | .body" "$RLOG" | head -c 100000)
    is "$GOT" "$P" "payload $i: the receiver gets the producer's bytes"
    is "$(jq -r "select(.id==\"$(jqr .id)\") | .verified" "$RLOG")" true \
        "payload $i: the signature covers those bytes"
done

api GET "$M?limit=50"
ok "$(has "$BODY" "\"payload\":$1,\"timestamp\"")" "the message list carries payload 1 as sent"
ok "$(has "$BODY" "\"payload\":$5,\"timestamp\"")" "and payload 5 with its whitespace"
is "$(printf '%s' "$BODY" | jq '.data|length')" 8 "the list is valid JSON with every message"
api GET "/api/v1/app/pay/attempt/endpoint/$EP?with_msg=true&limit=50"
ok "$(has "$BODY" "\"payload\":$4,\"timestamp\"")" "the attempt list's msg carries payload 4 as sent"
api GET "$M?limit=50&with_content=false"
is "$(printf '%s' "$BODY" | jq -c '[.data[].payload]|unique')" '[{}]' "with_content=false: {}"

# an independent check of one signature: HMAC-SHA256 over id.timestamp.body
if command -v openssl >/dev/null 2>&1; then
    L=$(jq -c 'select(.body=="{\"amount\":19.99}")' "$RLOG" | head -n 1)
    KEY=$(printf '%s' "${SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
    WANT=$(printf '%s.%s.%s' "$(printf '%s' "$L" | jq -r .id)" "$(printf '%s' "$L" | jq -r .ts)" \
        '{"amount":19.99}' | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY" -binary | base64)
    is "$(printf '%s' "$L" | jq -r .sig)" "v1,$WANT" "openssl agrees: the signature is over {\"amount\":19.99}"
else
    ok 0 "# SKIP no openssl"
fi

# a resend sends the same bytes again
api GET "$M/e4"
MID=$(jqr .id)
api POST "$M/$MID/endpoint/$EP/resend"
is "$STATUS" 202 "resend accepted"
wait_received ".id==\"$MID\"" 2
ok $? "the resend arrives"
is "$(jq -r "select(.id==\"$MID\") | .body" "$RLOG" | sort -u)" "$4" "the resend carries the same bytes"
is "$(jq -r "select(.id==\"$MID\") | .verified" "$RLOG" | sort -u)" true "and a valid signature"

# a raw payload with a payload jansson cannot hold: raw is sent, the record still reads
api POST $M '{"eventType":"pay.ok","eventId":"raw1","payload":{"x":1e400},"transformationsParams":{"rawPayload":"a \"raw\" body"}}'
is "$STATUS" 202 "rawPayload with 1e400 accepted"
RID=$(jqr .id)
wait_received ".id==\"$RID\"" 1
is "$(jq -r "select(.id==\"$RID\") | .body" "$RLOG")" 'a "raw" body' "rawPayload is what is sent"
api GET "$M/raw1"
ok "$(has "$BODY" '"payload":{"x":1e400},"timestamp"')" "and GET shows the payload as sent"

# numbers JSON does not allow are still refused, on both paths
for bad in '{"x":01}' '{"x":1.}' '{"x":.5}' '{"x":+1}' '{"x":1e}' '{"x":NaN}' '{"x":-}' \
           '{"é":01}' '{"é":1.}'; do
    api POST $M "{\"eventType\":\"pay.ok\",\"payload\":$bad}"
    is "$STATUS" 422 "payload $bad refused"
    is "$(jqr '.detail[0].type')" value_error.jsondecode "as invalid JSON"
done
api POST $M '{"eventType":"pay.ok","payload":{"a":1,"a":2}}'
is "$STATUS" 422 "duplicate keys in the payload are refused"
api POST $M '{"eventType":"pay.ok","payload":[1e400]}'
is "$STATUS" 422 "a payload that is not an object is refused"

done_testing
