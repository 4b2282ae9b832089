#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0415: per-endpoint delivery deadlines (GET and PUT
# /hookd/v1/app/{app}/endpoint/{ep}/timeouts): null means the server's
# defaults; values are checked (range, type, connect not above total);
# they are not part of the Svix EndpointOut; they survive a restart; and
# deliveries honour them: an endpoint given a 400 ms total gives up on a
# receiver that takes 1.5 s, while one on the default 15 s gets its answer.
. "$(dirname "$0")/lib.sh"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 60s
api POST /api/v1/app '{"name":"t","uid":"t"}'
api POST /api/v1/app/t/endpoint "{\"url\":\"$RURL/short/delay/1500\",\"uid\":\"short\"}"
api POST /api/v1/app/t/endpoint "{\"url\":\"$RURL/dflt/delay/1500\",\"uid\":\"dflt\"}"

TO=/hookd/v1/app/t/endpoint/short/timeouts
api GET "$TO"
is "$STATUS" 200 "GET timeouts"
is "$BODY" '{"connectTimeoutMs":null,"timeoutMs":null}' "null at first: the server's defaults"

api PUT "$TO" '{"timeoutMs":50}'
is "$STATUS" 422 "a timeout under 100 ms is 422"
is "$(jqr '.detail[0].loc|join(".")')" body.timeoutMs "the error names the field"
api PUT "$TO" '{"connectTimeoutMs":"500"}'
is "$STATUS" 422 "a string is 422"
is "$(jqr '.detail[0].type')" type_error.integer "typed as not an integer"
api PUT "$TO" '{"timeoutMs":600001}'
is "$STATUS" 422 "over 10 minutes is 422"
api PUT "$TO" '{"connectTimeoutMs":2000,"timeoutMs":1000}'
is "$STATUS" 422 "connect above total is 422"
is "$(jqr '.detail[0].loc|join(".")')" body.connectTimeoutMs "and names connectTimeoutMs"
api PUT "$TO" '[1]'
is "$STATUS" 422 "a body that is not an object is 422"
api PUT /hookd/v1/app/t/endpoint/nope/timeouts '{}'
is "$STATUS" 404 "unknown endpoint is 404"
api GET /hookd/v1/app/nope/endpoint/short/timeouts
is "$STATUS" 404 "unknown application is 404"
AUTH=none api GET "$TO"
is "$STATUS" 401 "the token is required"
api GET "$TO"
is "$BODY" '{"connectTimeoutMs":null,"timeoutMs":null}' "nothing changed by the refused writes"

api PUT "$TO" '{"connectTimeoutMs":300,"timeoutMs":400}'
is "$STATUS" 200 "PUT timeouts"
is "$BODY" '{"connectTimeoutMs":300,"timeoutMs":400}' "answered with the new values"
api GET /api/v1/app/t/endpoint/short
is "$(jqr 'has("timeoutMs") or has("connectTimeoutMs")')" false "not in the Svix EndpointOut"

# honoured: the short endpoint's attempt ends near 400 ms with no
# response, the default one waits the 1.5 s for its 200
api POST /api/v1/app/t/msg '{"eventType":"e","payload":{"t":1}}'
MID=$(jqr .id)
attempted() {
    api GET "/api/v1/app/t/attempt/endpoint/$1"
    [ "$(jqr '.data|length')" -ge 1 ]
}
wait_for 10 attempted short
ok $? "the short endpoint has an attempt"
is "$(jqr '.data[0].responseStatusCode')" 0 "it timed out: no status code"
D=$(jqr '.data[0].responseDurationMs')
ok "$(cond "$D >= 300 && $D < 1200")" "after about 400 ms ($D ms)"
like "$(jqr '.data[0].response')" "[Tt]imeout|timed out" "the attempt says it timed out"
wait_for 10 attempted dflt
ok $? "the default endpoint has an attempt"
is "$(jqr '.data[0].responseStatusCode')" 200 "it waited for the slow 200"

# null restores the defaults; values survive a restart
api PUT "$TO" '{"timeoutMs":null}'
is "$BODY" '{"connectTimeoutMs":null,"timeoutMs":null}' "null (or absent) means the default"
api PUT "$TO" '{"timeoutMs":30000}'
hookd_stop TERM
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 60s
api GET "$TO"
is "$BODY" '{"connectTimeoutMs":null,"timeoutMs":30000}' "kept across a restart"
hookd_stop TERM
done_testing
