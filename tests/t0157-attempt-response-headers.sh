#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0157: an attempt records the receiver's response headers (hookd's
# addition to MessageAttemptOut, API.md 4.4 "responseHeaders"): names in
# lower case, in the order received; credentials redacted (set-cookie,
# authorization); at most 32 headers and 4 KiB of names and values; none
# with with_content=false; and an error without a response has none.
. "$(dirname "$0")/lib.sh"

receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
api POST /api/v1/app '{"name":"h","uid":"h"}'
api POST /api/v1/app/h/endpoint "{\"uid\":\"few\",\"url\":\"$RURL/few/headers/2/status/503\"}"
is "$STATUS" 201 "an endpoint whose receiver answers with a few headers"
api POST /api/v1/app/h/endpoint "{\"uid\":\"many\",\"url\":\"$RURL/many/headers/200\"}"
api POST /api/v1/app/h/endpoint "{\"uid\":\"dead\",\"url\":\"http://127.0.0.1:1/\"}"
api POST /api/v1/app/h/msg '{"eventType":"a.b","payload":{"x":1}}'
MSG=$(jqr .id)
attempts_of() {
    api GET "/api/v1/app/h/attempt/endpoint/$1"
    [ "$(jqr '.data|length')" -ge 1 ]
}
wait_for 10 attempts_of few
ok $? "the first attempt is recorded"
H=$(printf "%s" "$BODY" | jq -c '.data[0].responseHeaders')
is "$(jqr '.data[0].responseStatusCode')" 503 "it failed with 503"
is "$(printf '%s' "$H" | jq -r 'map(.[0]) | map(select(startswith("x-test-"))) | join(" ")')" \
    "x-test-1 x-test-2" "the receiver's own headers, names in lower case, in order"
is "$(printf '%s' "$H" | jq -r 'map(select(.[0]=="x-test-2"))[0][1]')" "value-2" "with their values"
is "$(printf '%s' "$H" | jq -r 'map(select(.[0]=="content-type"))[0][1]')" "application/json" \
    "standard headers too"
is "$(printf '%s' "$H" | jq -r 'map(select(.[0]=="set-cookie"))[0][1]')" "(redacted)" \
    "set-cookie's value is redacted"
is "$(printf '%s' "$H" | jq -r 'map(select(.[0]=="authorization"))[0][1]')" "(redacted)" \
    "and so is authorization's"
is "$(printf '%s' "$BODY" | grep -c s3cr3t)" 0 "the secret appears nowhere in the answer"
is "$(grep -rac s3cr3t "$DATA" | awk -F: '{ n += $NF } END { print n + 0 }')" 0 \
    "nor in the data directory"

wait_for 10 attempts_of many
N=$(jqr '.data[0].responseHeaders|length')
is "$N" 32 "a receiver's 200 headers are cut to 32"
is "$(jqr '[.data[0].responseHeaders[][0]|select(.=="x-test-1" or .=="x-test-200")]|join(" ")')" \
    "x-test-1" "the first ones kept, the last ones not"
ok "$(cond "$(jqr '[.data[0].responseHeaders[][]|length]|add') <= 4096")" \
    "in at most 4 KiB of names and values"
api GET "/api/v1/app/h/attempt/endpoint/many?with_content=false"
is "$(printf "%s" "$BODY" | jq -c ".data[0].responseHeaders")" "[]" "with_content=false leaves them out"
api GET "/api/v1/app/h/msg/$MSG/attempt/$(api GET /api/v1/app/h/attempt/endpoint/many; jqr '.data[0].id')"
is "$(jqr '.responseHeaders|length')" 32 "the single attempt lookup has them too"

wait_for 10 attempts_of dead
is "$(printf "%s" "$BODY" | jq -c ".data[0].responseHeaders")" "[]" "a connection error has no response headers"
done_testing
