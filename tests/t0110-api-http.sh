#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0110: the HTTP layer: auth and scopes, JSON errors for unknown routes
# and methods, path normalisation, limits, health, idempotency, --help.
. "$(dirname "$0")/lib.sh"
hookd_start --ingest-tokens ingest-tok-1 --max-body 4096 --max-json-depth 8 --max-headers 20

AUTH=none api GET /api/v1/health
is "$STATUS" 200 "health needs no token"
AUTH=none api GET /api/v1/health/ping
is "$STATUS" 204 "health/ping answers 204"
AUTH=none api GET /api/v1/app
is "$STATUS" 401 "no token is 401"
is "$(jqr .code)" authentication_failed "401 body is JSON with code"
AUTH="Bearer wrong" api GET /api/v1/app
is "$STATUS" 401 "a wrong token is 401"
AUTH="Bearer ${TOKEN}x" api GET /api/v1/app
is "$STATUS" 401 "a token with a suffix is 401"

api POST /api/v1/app '{"name":"a","uid":"a"}'
AUTH="Bearer ingest-tok-1" api POST /api/v1/app/a/msg '{"eventType":"e","payload":{}}'
is "$STATUS" 202 "an ingest token may create messages"
AUTH="Bearer ingest-tok-1" api GET /api/v1/app/a/msg
is "$STATUS" 403 "an ingest token may not list messages"
AUTH="Bearer ingest-tok-1" api POST /api/v1/app '{"name":"b"}'
is "$STATUS" 403 "an ingest token may not create apps"
is "$(jqr .code)" insufficient_access "403 body has a code"

api GET /api/v1/nope
is "$STATUS" 404 "unknown route is 404"
is "$(jqr .code)" not_found "unknown route has a JSON body"
api DELETE /api/v1/app
is "$STATUS" 405 "wrong method is 405"
is "$(jqr .code)" method_not_allowed "405 has a JSON body"
api GET //api/v1/app/a/
is "$STATUS" 200 "double and trailing slashes are normalised"

BIG=$(head -c 5000 /dev/zero | tr '\0' 'x')
api POST /api/v1/app/a/msg "{\"eventType\":\"e\",\"payload\":{\"x\":\"$BIG\"}}"
is "$STATUS" 413 "a body over --max-body is 413"
is "$(jqr .code)" payload_too_large "413 has a JSON body"
api POST /api/v1/app/a/msg '{"eventType":"e","payload":{"a":[[[[[[[[[1]]]]]]]]]}}'
is "$STATUS" 422 "JSON deeper than --max-json-depth is 422"
api POST /api/v1/app/a/msg '{"eventType":"e","payload":{"a":1}'
is "$STATUS" 422 "truncated JSON is 422"
is "$(jqr '.detail[0].type')" value_error.jsondecode "decode error type"
api POST /api/v1/app/a/msg '{"eventType":"e","payload":{},"payload":{}}'
is "$STATUS" 422 "duplicate keys are 422"
LONG=$(head -c 9000 /dev/zero | tr '\0' 'a')
api GET "/api/v1/app/$LONG"
is "$STATUS" 414 "a URL over --max-url is 414"
# query arguments: libmicrohttpd stores each in the connection's pool, and
# used to leave a few hundred short ones without any answer until the
# header deadline, so each case has 5 s to get its JSON answer
args() { awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "%sevent_types=e%d", (i > 1 ? "&" : ""), i }'; }
api GET "/api/v1/app/a/msg?$(args 100)" "" -m 5
is "$STATUS" 200 "100 query arguments are served"
api GET "/api/v1/app/a/msg?$(args 101)" "" -m 5
is "$STATUS" 414 "101 query arguments are 414"
is "$(jqr .detail)" "request has more than 100 query arguments" "... saying why"
api GET "/api/v1/app/a/msg?$(awk 'BEGIN { for (i = 0; i < 1500; i++) printf "a&" }')" "" -m 5
is "$STATUS" 414 "1,500 short query arguments get a 414 at once"
is "$(jqr .code)" uri_too_long "... with a JSON body"
api GET "/api/v1/app/a/msg?iterator=$LONG" "" -m 5
is "$STATUS" 414 "a query string that takes the URI over --max-url is 414"
like "$(jqr .detail)" "longer than 8192 bytes" "... saying why"
api GET /api/v1/app/a/msg "" -m 5
is "$STATUS" 200 "the server answers normally afterwards"
set --
for i in $(seq 1 25); do set -- "$@" -H "X-H$i: v"; done
api GET /api/v1/app "" "$@"
is "$STATUS" 431 "more headers than --max-headers is 431"

# idempotency: the same key gives the same answer, byte for byte
api POST /api/v1/app/a/msg '{"eventType":"e","payload":{"n":1}}' -H 'idempotency-key: k-1'
FIRST=$BODY
api POST /api/v1/app/a/msg '{"eventType":"e","payload":{"n":1}}' -H 'idempotency-key: k-1'
is "$STATUS" 202 "replayed status"
is "$BODY" "$FIRST" "replayed body is identical"
api POST /api/v1/app/a/msg '{"eventType":"e","payload":{"n":1}}' -H 'idempotency-key: k-2'
ok "$([ "$(jqr .id)" != "$(printf '%s' "$FIRST" | jq -r .id)" ]; echo $?)" "another key creates another message"
AUTH="Bearer ingest-tok-1" api POST /api/v1/app/a/msg '{"eventType":"e","payload":{"n":1}}' \
    -H 'idempotency-key: k-1'
ok "$([ "$(jqr .id)" != "$(printf '%s' "$FIRST" | jq -r .id)" ]; echo $?)" "the key is scoped to the token"
api POST /api/v1/app '{"name":"x","uid":"bad uid"}' -H 'idempotency-key: k-3'
is "$STATUS" 422 "a 4xx is not saved"
api POST /api/v1/app '{"name":"x","uid":"good"}' -H 'idempotency-key: k-3'
is "$STATUS" 201 "the same key after a 4xx runs the request"
api GET /api/v1/app/a/msg
is "$(jqr '.data|length')" 4 "exactly four messages were stored (one per distinct key)"

"$HOOKD" serve --help >"$T/help" 2>&1
is "$?" 0 "serve --help exits 0"
for o in listen data workers allow-network retry-schedule log-level map-size max-body; do
    grep -q -- "--$o" "$T/help"
    ok $? "--help lists --$o"
done
"$HOOKD" serve --workers lots >/dev/null 2>"$T/err"
is "$?" 2 "a bad option value exits 2"
like "$(cat "$T/err")" "workers" "the error names the option"

hookd_stop TERM
is "$HOOKD_RC" 0 "SIGTERM stops the server with status 0"
done_testing
