#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0731: the log. JSON lines that parse; one request line per request and
# one line per failed delivery, with ids; never a token, an endpoint
# secret or a sensitive header value. SIGHUP reopens a rotated log file
# and applies the reloadable options of the config file (level, request
# lines, ingest tokens, retry schedule, timeouts); a config that does not
# load is logged and changes nothing.
. "$(dirname "$0")/lib.sh"
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
INGEST=ik_first_ingest_token_4242
INGEST2=ik_second_ingest_token_8686
HDRVAL=hdr-secret-7Qw9zLk2
LOG=$T/hookd.log
CONF=$T/hookd.conf
receiver_start
conf() { # conf LEVEL INGEST-TOKEN SCHEDULE REQUEST-TIMEOUT [EXTRA LINE]
    cat > "$CONF" <<EOF
log-level = $1
log-format = json
log-file = $LOG
log-requests = true
ingest-tokens = $2
retry-schedule = $3
request-timeout = $4
allow-network = 127.0.0.0/8
${5-}
EOF
}
conf info "$INGEST" 1s 15s
HOOKD_LOG_ARGS= hookd_start --config "$CONF"
hup() { kill -HUP "$HOOKD_PID"; sleep 0.3; }
# lines LOG JQ-FILTER: how many lines of LOG match
lines() { jq -c "select($2)" "$1" 2>/dev/null | wc -l | tr -d ' '; }

for et in bad good slow; do
    api POST /api/v1/event-type "{\"name\":\"$et\",\"description\":\"d\"}"
done
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
APP=$(jqr .id)
api POST /api/v1/app/shop/endpoint \
    "{\"uid\":\"bad\",\"url\":\"$RURL/bad/status/500\",\"secret\":\"$SECRET\",\"headers\":{\"X-Api-Key\":\"$HDRVAL\"},\"filterTypes\":[\"bad\"]}"
EP=$(jqr .id)
is "$STATUS" 201 "endpoint with a secret and a sensitive header"
api POST /api/v1/app/shop/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/good/ok\",\"filterTypes\":[\"good\"]}"
GOOD=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"slow\",\"url\":\"$RURL/slow/delay/3000\",\"filterTypes\":[\"slow\"]}"
SLOW=$(jqr .id)

AUTH="Bearer $INGEST" api POST /api/v1/app/shop/msg '{"eventType":"bad","payload":{"a":1}}' \
    -H 'idempotency-key: key-1' -H 'svix-req-id: 4242'
is "$STATUS" 202 "message sent with the ingest token"
M=$(jqr .id)
wait_for 10 grep -q '"delivery failed"' "$LOG"
ok $? "a failed delivery is logged"

# ---- format and content ----
is "$(jq -c . "$LOG" 2>/dev/null | wc -l | tr -d ' ')" "$(wc -l < "$LOG" | tr -d ' ')" \
   "every line is one JSON object"
is "$(lines "$LOG" '.msg == "listening" and .version != null and .addr != null and .data != null')" 1 \
   "the start line has version, address and data directory"
is "$(lines "$LOG" '.msg == "request" and .method == "POST" and .path == "/api/v1/app/shop/msg" and .status == "202" and .route == "ingest" and .request_id == "4242" and (.duration_us|tonumber) > 0 and (.remote|startswith("127.0.0.1:"))')" 1 \
   "a request line has method, path, status, route, duration, the client's request id and address"
is "$(lines "$LOG" '.msg == "request" and .method == "POST" and .path == "/api/v1/app" and .status == "201" and (.request_id|length) > 0')" 1 \
   "a request without svix-req-id gets a generated id"
is "$(lines "$LOG" ".msg == \"delivery failed\" and .message == \"$M\" and .endpoint == \"$EP\" and .app == \"$APP\" and .status == \"500\" and .attempt == \"1\" and .trigger == \"scheduled\" and (.next_attempt|test(\"^20\"))")" 1 \
   "the failure line has message, endpoint and app ids, status, attempt, trigger and the next attempt"
wait_for 10 sh -c "[ \$(grep -c '\"delivery failed\"' '$LOG') -ge 2 ]"
like "$(lines "$LOG" ".msg == \"delivery failed\" and .attempt == \"2\"")" '^[1-9]' "the retry is logged as attempt 2"

# ---- SIGHUP: log rotation, level, request lines ----
mv "$LOG" "$LOG.1"
hup
api GET /api/v1/app
is "$(lines "$LOG" '.msg == "configuration reloaded"')" 1 "after SIGHUP the log goes to a new file"
is "$(lines "$LOG" '.msg == "request" and .path == "/api/v1/app" and .method == "GET"')" 1 \
   "request lines follow it there"
# the console's polling (its reads, known by its User-Agent) is logged at
# debug; its writes and everyone else's reads stay at info
CONSOLE_UA="User-Agent: hookd-console/0.1.0"
api GET /hookd/v1/stats '' -H "$CONSOLE_UA"
api POST /hookd/v1/app/shop/endpoint/good/pause '' -H "$CONSOLE_UA"
api POST /hookd/v1/app/shop/endpoint/good/resume '' -H "$CONSOLE_UA"
api GET /hookd/v1/stats
is "$(lines "$LOG" '.msg == "request" and .path == "/hookd/v1/stats"')" 1 \
   "at info, the console's reads are not logged (only the other client's)"
is "$(lines "$LOG" '.msg == "request" and .level == "info" and (.path|endswith("/pause") or endswith("/resume"))')" 2 \
   "the console's writes are logged at info"
ROTATED=$(wc -l < "$LOG.1")
conf warn "$INGEST" 1s 15s
hup
BELOW=$(lines "$LOG" '.level == "info" or .level == "debug"')
api GET /api/v1/app
AUTH="Bearer $INGEST" api POST /api/v1/app/shop/msg '{"eventType":"good","payload":{}}'
wait_received '(.path|startswith("/good/"))' 1
sleep 0.3
is "$(lines "$LOG" '.level == "info" or .level == "debug"')" "$BELOW" \
   "at warn, nothing below warn is logged after the reload"
conf debug "$INGEST" 1s 15s
hup
AUTH="Bearer $INGEST" api POST /api/v1/app/shop/msg '{"eventType":"good","payload":{}}'
G=$(jqr .id)
wait_for 10 grep -q "\"delivered\".*$G" "$LOG"
ok $? "at debug, a successful delivery is logged"
is "$(lines "$LOG" ".msg == \"delivered\" and .message == \"$G\" and .endpoint == \"$GOOD\" and .status == \"200\"")" 1 \
   "the success line has the ids and status"
api GET /hookd/v1/endpoints '' -H "$CONSOLE_UA"
is "$(lines "$LOG" '.msg == "request" and .level == "debug" and .path == "/hookd/v1/endpoints"')" 1 \
   "at debug, the console's reads are logged, at debug"
conf debug "$INGEST" 1s 15s 'log-requests = false'
hup
N0=$(lines "$LOG" '.msg == "request"')
api GET /api/v1/app
is "$(lines "$LOG" '.msg == "request"')" "$N0" "log-requests = false stops the request lines"
is "$(wc -l < "$LOG.1")" "$ROTATED" "nothing more goes to the rotated file"

# ---- SIGHUP: ingest tokens, retry schedule, timeouts ----
conf info "$INGEST2" 1h 500ms
hup
AUTH="Bearer $INGEST" api POST /api/v1/app/shop/msg '{"eventType":"good","payload":{}}'
is "$STATUS" 401 "the old ingest token is refused after the reload"
AUTH="Bearer $INGEST2" api POST /api/v1/app/shop/msg '{"eventType":"bad","payload":{}}'
is "$STATUS" 202 "the new ingest token is accepted"
M2=$(jqr .id)
wait_for 10 grep -q "\"delivery failed\".*$M2" "$LOG"
# next_attempt - ts: about an hour with the new schedule
DELAY=$(jq -r "select(.msg == \"delivery failed\" and .message == \"$M2\") |
        ((.next_attempt|sub(\"\\\\.[0-9]+Z$\";\"Z\")|fromdateiso8601) - (.ts|sub(\"\\\\.[0-9]+Z$\";\"Z\")|fromdateiso8601))" "$LOG")
ok "$(cond "${DELAY:-0} > 2400 && ${DELAY:-0} < 4800")" "the reloaded retry schedule applies (next attempt in ${DELAY:-?} s)"
AUTH="Bearer $INGEST2" api POST /api/v1/app/shop/msg '{"eventType":"slow","payload":{}}'
M3=$(jqr .id)
wait_for 10 grep -q "\"delivery failed\".*$M3" "$LOG"
like "$(jq -r "select(.msg == \"delivery failed\" and .message == \"$M3\") | .error" "$LOG")" \
     'timed out|[Tt]imeout' "the reloaded request timeout applies (500ms against a 3 s receiver)"

# ---- a broken config on SIGHUP ----
conf info "$INGEST" 1s 15s 'log-level = loud'
hup
is "$(lines "$LOG" '.msg | startswith("configuration not reloaded")')" 1 "a broken config is logged"
like "$(jq -r 'select(.msg | startswith("configuration not reloaded")) | .error' "$LOG")" "log-level" \
     "the error names the option"
AUTH="Bearer $INGEST2" api POST /api/v1/app/shop/msg '{"eventType":"good","payload":{}}'
is "$STATUS" 202 "the running values stay (the new ingest token still works)"
api GET /api/v1/health
like "$STATUS" '^2' "the server is still healthy"

# ---- no secrets, anywhere ----
hookd_stop
is "$HOOKD_RC" 0 "clean stop"
cat "$LOG.1" "$LOG" "$T/hookd.err" > "$T/all.log"
for s in "$TOKEN" "$INGEST" "$INGEST2" "$SECRET" "$HDRVAL" whsec_; do
    is "$(grep -c -F -- "$s" "$T/all.log")" 0 "no log line contains ${s%"${s#??????}"}..."
done
is "$(grep -ci 'authorization\|bearer' "$T/all.log")" 0 "no log line mentions an Authorization header"
done_testing
