#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0530: application tokens (API.md 4.11). POST /api/v1/auth/app-portal-access
# makes a token for one application: it reaches that application's routes
# and nothing else (another application 404, admin and operations routes
# 403), a read-only one only reads, it expires, logout ends it, operators
# list and revoke tokens through /hookd/v1/tokens, and the log keeps only
# the token's hash. An expired token leaves the log with a retention pass.
. "$(dirname "$0")/lib.sh"

hookd_start --portal-url 'https://portal.example/#key={token}'
ADMIN=$TOKEN
api POST /api/v1/app '{"name":"Acme","uid":"acme"}'
is "$STATUS" 201 "setup: app acme"
ACME=$(jqr .id)
api POST /api/v1/app '{"name":"Globex","uid":"globex"}'
is "$STATUS" 201 "setup: app globex"
api POST /api/v1/app/acme/endpoint '{"uid":"hook","url":"https://hooks.acme.example/in"}'
is "$STATUS" 201 "setup: an endpoint of acme"
api POST /api/v1/app/acme/msg '{"eventType":"order.paid","payload":{"n":1}}'
is "$STATUS" 202 "setup: a message to acme"
MSG=$(jqr .id)

# as TOK: the api call with an application token
as() { _tok=$1; shift; AUTH="Bearer $_tok" api "$@"; }

# --- making one -----------------------------------------------------------
api POST /api/v1/auth/app-portal-access/acme '{}' -H 'idempotency-key: k1'
is "$STATUS" 200 "app-portal-access: 200"
FULL=$(jqr .token)
like "$FULL" '^appsk_[0-9A-Za-z]{27}$' "a token, opaque, with Svix's app token prefix"
is "$(jqr .url)" "https://portal.example/#key=$FULL" "url: the portal-url template with the token"
FULL_ID=$(jqr .id)
like "$FULL_ID" '^tok_' "and its id, for revoking it"
api POST /api/v1/auth/app-portal-access/acme '{}' -H 'idempotency-key: k1'
is "$STATUS" 200 "the same idempotency key again: 200"
like "$(jqr .token)" '^appsk_' "with a token"
[ "$(jqr .token)" != "$FULL" ]
ok $? "but a new one: the answer holding a token is not kept for replays"
api POST /api/v1/auth/app-portal-access/nosuchapp '{}'
is "$STATUS" 404 "app-portal-access for a missing application: 404"
api POST /api/v1/auth/app-portal-access/newco '{"application":{"name":"NewCo","uid":"newco"}}'
is "$STATUS" 200 "an embedded application is created"
api GET /api/v1/app/newco
is "$STATUS" 200 "and exists"
api POST /api/v1/auth/app-portal-access/acme '{"expiry":0}'
is "$STATUS" 422 "expiry 0: 422"
is "$(jqr '.detail[0].loc[1]')" expiry "naming the field"
api POST /api/v1/auth/app-portal-access/acme '{"capabilities":["ViewBase","Fly"]}'
is "$STATUS" 422 "an unknown capability: 422"
api POST /api/v1/auth/app-portal-access/acme '{"readOnly":true}'
RO=$(jqr .token)
is "$STATUS" 200 "a read-only token"

# --- what a token reaches -------------------------------------------------
as "$FULL" GET /api/v1/app/acme
is "$STATUS" 200 "its application, by uid"
as "$FULL" GET "/api/v1/app/$ACME/endpoint"
is "$STATUS:$(jqr '.data | length')" "200:1" "its endpoints, by id"
as "$FULL" GET "/api/v1/app/acme/msg/$MSG"
is "$STATUS" 200 "its messages"
as "$FULL" GET "/api/v1/app/acme/attempt/msg/$MSG"
is "$STATUS" 200 "its attempts"
as "$FULL" GET /api/v1/app/acme/endpoint/hook/secret
is "$STATUS" 200 "its endpoint's secret (a full token)"
as "$FULL" POST /api/v1/app/acme/endpoint '{"url":"https://hooks.acme.example/two"}'
is "$STATUS" 201 "a full token creates an endpoint"
as "$FULL" GET /api/v1/event-type
is "$STATUS" 200 "event types can be read"
as "$FULL" GET /api/v1/app/globex
is "$STATUS" 404 "another application: 404"
as "$FULL" GET /api/v1/app/globex/endpoint
is "$STATUS" 404 "another application's endpoints: 404"
as "$FULL" GET /api/v1/app/nosuch/endpoint
is "$STATUS" 404 "a missing application: the same 404"
as "$FULL" GET /api/v1/app
is "$STATUS" 403 "the list of applications: 403"
is "$(jqr .code)" insufficient_access "code insufficient_access"
as "$FULL" POST /api/v1/app/acme/msg '{"eventType":"x","payload":{}}'
is "$STATUS" 403 "sending messages: 403"
as "$FULL" DELETE /api/v1/app/acme
is "$STATUS" 403 "deleting its application: 403"
as "$FULL" POST /api/v1/event-type '{"name":"x.y","description":"d"}'
is "$STATUS" 403 "event type writes: 403"
as "$FULL" GET /hookd/v1/stats
is "$STATUS" 403 "operations API: 403"
as "$FULL" GET /hookd/v1/tokens
is "$STATUS" 403 "the token list: 403"
as "$FULL" POST /api/v1/auth/app-portal-access/acme '{}'
is "$STATUS" 403 "making tokens: 403"
as "$FULL" GET /metrics
is "$STATUS" 403 "metrics: 403"
AUTH="Bearer appsk_000000000000000000000000000" api GET /api/v1/app/acme
is "$STATUS" 401 "a token never made: 401"

as "$RO" GET /api/v1/app/acme/endpoint
is "$STATUS" 200 "read-only: reads"
as "$RO" PATCH /api/v1/app/acme/endpoint/hook '{"description":"x"}'
is "$STATUS" 403 "read-only: no endpoint change"
is "$(jqr .detail)" "this application token is read-only" "and says why"
as "$RO" GET /api/v1/app/acme/endpoint/hook/secret
is "$STATUS" 403 "read-only: not the signing secret"
as "$RO" POST "/api/v1/app/acme/msg/$MSG/endpoint/hook/resend"
is "$STATUS" 403 "read-only: no resend"

api POST /api/v1/auth/app-portal-access/acme '{"capabilities":["ViewBase","CreateAttempts"]}'
CA=$(jqr .token)
SINCE=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
as "$CA" POST /api/v1/app/acme/endpoint/hook/recover "{\"since\":\"$SINCE\"}"
like "$STATUS" '^20[02]$' "CreateAttempts: recover"
as "$CA" DELETE /api/v1/app/acme/endpoint/hook
is "$STATUS" 403 "but no ManageEndpoint: no delete"

# --- hashed at rest -------------------------------------------------------
if grep -q "$FULL" "$DATA/data.mdb"; then ok 1 "the token's text is not in data.mdb"
else ok 0 "the token's text is not in data.mdb"; fi
if grep -q "$RO" "$DATA/data.mdb"; then ok 1 "nor the read-only one's"
else ok 0 "nor the read-only one's"; fi

# --- the operators' list and revoke ---------------------------------------
api GET /hookd/v1/tokens
is "$STATUS" 200 "GET /hookd/v1/tokens: 200"
is "$(jqr '.data | length')" 5 "every token"
is "$(jqr '.data[0].appId')" "$(AUTH= api GET /api/v1/app/acme; jqr .id)" "newest first"
case $BODY in *"$FULL"*|*'"hash"'*) ok 1 "no token text or hash in the list" ;;
              *) ok 0 "no token text or hash in the list" ;; esac
api GET "/hookd/v1/tokens?app_id=acme"
is "$(jqr '.data | length')" 4 "app_id= filters by application (uid)"
is "$(jqr "[.data[] | select(.id == \"$FULL_ID\")][0] | [.appId, .readOnly, .prefix] | join(\" \")")" \
   "$ACME false $(printf '%.10s' "$FULL")" "a row: appId, readOnly, the token's first 10 chars"
is "$(jqr '[.data[] | select(.readOnly)] | length')" 1 "the read-only one says so"
api DELETE "/hookd/v1/tokens/$FULL_ID"
is "$STATUS" 204 "revoke by id: 204"
as "$FULL" GET /api/v1/app/acme
is "$STATUS" 401 "a revoked token: 401"
api DELETE "/hookd/v1/tokens/$FULL_ID"
is "$STATUS" 404 "revoking it again: 404"

# --- logout ---------------------------------------------------------------
api POST /api/v1/auth/logout
is "$STATUS:$(jqr .code)" 403:insufficient_access "logout with the admin token: 403 (it ends application tokens only)"
as "$RO" POST /api/v1/auth/logout
is "$STATUS" 204 "logout with an application token: 204"
as "$RO" GET /api/v1/app/acme
is "$STATUS" 401 "then it is refused"

# --- expiry ---------------------------------------------------------------
api POST /api/v1/auth/app-portal-access/acme '{"expiry":1}'
SHORT=$(jqr .token)
SHORT_ID=$(jqr .id)
as "$SHORT" GET /api/v1/app/acme
is "$STATUS" 200 "a one-second token works at first"
sleep 1.2
as "$SHORT" GET /api/v1/app/acme
is "$STATUS" 401 "then it has expired: 401"
is "$(jqr .detail)" "this application token has expired" "and says so"
api GET /hookd/v1/tokens
is "$(jqr "[.data[] | select(.id == \"$SHORT_ID\")][0].expired")" true "the list shows it expired"
api GET /api/v1/app/acme
is "$STATUS" 200 "the admin token is untouched"

# --- a retention pass removes it; portal-url unset ------------------------
hookd_stop
hookd_start --retention-interval 1s
gone() { api GET /hookd/v1/tokens; [ "$(jqr "[.data[] | select(.id == \"$SHORT_ID\")] | length")" = 0 ]; }
wait_for 10 gone
ok $? "a retention pass removes the expired token from the log"
is "$(jqr '.data | length')" 3 "and only that one"
api POST /api/v1/auth/app-portal-access/acme '{}'
is "$STATUS:$(jqr .url)" "200:" "without portal-url the url is empty"
"$HOOKD" serve --check-config --portal-url 'https://portal.example/' >/dev/null 2>"$T/cc.err"
is "$?" 2 "a portal-url without {token} is refused"
like "$(cat "$T/cc.err")" "portal-url.*\\{token\\}" "naming the option"

# --- expire-all -----------------------------------------------------------
api POST /api/v1/auth/app-portal-access/acme '{"sessionId":"s1"}'
S1=$(jqr .token)
api POST /api/v1/auth/app-portal-access/acme '{"sessionId":"s2"}'
S2=$(jqr .token)
api POST /api/v1/auth/app-portal-access/newco '{}'
NEWCO=$(jqr .token)
api POST /api/v1/auth/app/acme/expire-all '{"sessionIds":["s1"]}'
is "$STATUS" 204 "expire-all of session s1: 204"
as "$S1" GET /api/v1/app/acme
is "$STATUS" 401 "s1's token is refused"
as "$S2" GET /api/v1/app/acme
is "$STATUS" 200 "s2's still works"
api POST /api/v1/auth/app/acme/expire-all '{"expiry":3600}'
is "$STATUS" 204 "expire-all in an hour: 204"
as "$S2" GET /api/v1/app/acme
is "$STATUS" 200 "the tokens work until then"
api GET /hookd/v1/tokens?app_id=acme
soon=$(date -u -d '+61 min' +%Y-%m-%dT%H:%M)
is "$(jqr "[.data[] | select(.expiresAt > \"$soon\")] | length")" 0 "and every acme token now expires within the hour"
api POST /api/v1/auth/app/acme/expire-all
is "$STATUS" 204 "expire-all now: 204"
as "$S2" GET /api/v1/app/acme
is "$STATUS" 401 "acme's tokens are refused"
api GET /hookd/v1/tokens?app_id=acme
is "$(jqr '.data | length')" 0 "and gone from the list"
as "$NEWCO" GET /api/v1/app/newco
is "$STATUS" 200 "another application's token is untouched"
api POST /api/v1/auth/app/nosuch/expire-all
is "$STATUS" 404 "expire-all of a missing application: 404"
as "$NEWCO" POST /api/v1/auth/app/newco/expire-all
is "$STATUS" 403 "an application token cannot call expire-all"

done_testing
