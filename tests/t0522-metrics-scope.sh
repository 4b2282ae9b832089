#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0522: token scopes. A metrics token reads GET /metrics and nothing
# else; metrics-listen serves /metrics on a second address without a
# token and nothing else there; an ingest token cannot create an
# application through message create's embedded application (404).
. "$(dirname "$0")/lib.sh"
hookd_start --ingest-tokens ing-1 --metrics-tokens met-1,met-2 --metrics-listen 127.0.0.1:0

AUTH="Bearer met-1" api GET /metrics
is "$STATUS" 200 "a metrics token reads /metrics"
like "$BODY" '^# HELP hookd_' "and gets the exposition"
AUTH="Bearer met-2" api GET /metrics
is "$STATUS" 200 "so does the second metrics token"
AUTH="Bearer met-1" api GET /api/v1/app
is "$STATUS" 403 "a metrics token cannot list applications"
AUTH="Bearer met-1" api GET /hookd/v1/stats
is "$STATUS" 403 "nor read the operations API"
AUTH="Bearer met-1" api POST /api/v1/app/a/msg '{"eventType":"e","payload":{}}'
is "$STATUS" 403 "nor send messages"
AUTH="Bearer ing-1" api GET /metrics
is "$STATUS" 403 "an ingest token cannot read /metrics"
api GET /metrics
is "$STATUS" 200 "the admin token still can"
AUTH=none api GET /metrics
is "$STATUS" 401 "no token: 401 on the main listener"

# --- the metrics listener -------------------------------------------------------
MURL="http://$(cat "$DATA/metrics-listen")"
like "$MURL" '^http://127\.0\.0\.1:[0-9]+$' "the metrics address is written to DATA/metrics-listen"
CODE=$(curl -s -o "$T/m" -w '%{http_code}' "$MURL/metrics")
is "$CODE" 200 "metrics-listen serves /metrics without a token"
grep -q '^hookd_http_requests_total' "$T/m"
ok $? "with the usual series"
CODE=$(curl -s -o "$T/m" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$MURL/api/v1/app")
is "$CODE" 404 "and nothing else, not even with the admin token"
is "$(jq -r .code "$T/m")" not_found "a JSON 404"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$MURL/metrics")
is "$CODE" 405 "POST /metrics there is 405"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$MURL/api/v1/health")
is "$CODE" 404 "health is not served there"

# --- ingest tokens and the embedded application --------------------------------------
AUTH="Bearer ing-1" api POST /api/v1/app/newapp/msg \
    '{"eventType":"e","payload":{"a":1},"application":{"name":"N","uid":"newapp"}}'
is "$STATUS" 404 "an ingest token cannot create an application through message create"
like "$(jqr .detail)" "ingest token cannot create applications" "and is told why"
api GET /api/v1/app/newapp
is "$STATUS" 404 "no application was created"
api POST /api/v1/app/newapp/msg \
    '{"eventType":"e","payload":{"a":1},"application":{"name":"N","uid":"newapp"}}'
is "$STATUS" 202 "the admin token can"
AUTH="Bearer ing-1" api POST /api/v1/app/newapp/msg \
    '{"eventType":"e","payload":{"a":2},"application":{"name":"N","uid":"newapp"}}'
is "$STATUS" 202 "an ingest token sends to the application once it exists"

hookd_stop
is "$HOOKD_RC" 0 "stops cleanly with both listeners"

"$HOOKD" serve --data "$T/d2" --listen 127.0.0.1:0 --metrics-listen nowhere >/dev/null 2>"$T/err2"
ok "$([ $? -ne 0 ]; echo $?)" "a bad metrics-listen address is refused at start"
like "$(cat "$T/err2")" "metrics-listen" "naming the option"

done_testing
