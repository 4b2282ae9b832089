#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0150: message attempts (API.md 4.4): listed by endpoint and by message
# with their filters, windows and pagination, fetched one by one; resend
# and endpoint recover (4.2) queue manual attempts that reach the receiver.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s --ingest-tokens tok

api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/app/shop/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/x/ok\"}"
EP_OK=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/x/status/500\"}"
EP_BAD=$(jqr .id)

# attempts ENDPOINT-OR-MSG-PATH COUNT: poll the list until it has COUNT rows.
attempts_at_least() {
    api GET "/api/v1/app/shop/attempt/$1?limit=250"
    [ "$(jqr '.data|length')" -ge "$2" ] 2>/dev/null
}
bad_lines() { received ".path==\"/x/status/500\""; }

api POST /api/v1/app/shop/msg '{"eventType":"order.paid","eventId":"evt-1","payload":{"n":1}}'
M1=$(jqr .id)
wait_received ".id==\"$M1\" and .path==\"/x/ok\"" 1
ok $? "the message reaches the /x/ok endpoint"
wait_received ".id==\"$M1\" and .path==\"/x/status/500\"" 2
ok $? "the /x/status/500 endpoint gets the first attempt and one retry"
wait_for 10 attempts_at_least "endpoint/$EP_OK" 1
ok $? "the successful attempt is listed by endpoint"

# --- one successful attempt
is "$(jqr '.data|length')" 1 "one attempt for the ok endpoint"
is "$(jqr '.data[0]|[.status,.statusText,.responseStatusCode,.triggerType]|@csv')" '0,"success",200,0' \
   "status 0, statusText success, code 200, triggerType 0"
A_OK=$(jqr '.data[0].id')
like "$A_OK" '^atmpt_[0-9A-Za-z]{27}$' "attempt id format"
is "$(jqr '.data[0]|[.msgId,.endpointId,.url]|@csv')" "\"$M1\",\"$EP_OK\",\"$RURL/x/ok\"" \
   "msgId, endpointId and url"
is "$(jqr '.data[0].response')" '{"ok":true}' "response is the receiver's body"
like "$(jqr '.data[0].timestamp')" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "timestamp is RFC 3339"
is "$(jqr '.data[0].responseDurationMs|type')" number "responseDurationMs is a number"
is "$(jqr '.done')" true "single page is done"
api GET "/api/v1/app/shop/attempt/endpoint/good?with_content=false"
is "$(jqr '.data[0].response')" '{}' "with_content=false gives response {}"
api GET "/api/v1/app/shop/attempt/endpoint/good?with_msg=true"
is "$(jqr '.data[0].msg|[.id,.eventId,.payload.n]|@csv')" "\"$M1\",\"evt-1\",1" "with_msg adds the message"
api GET "/api/v1/app/shop/attempt/endpoint/good"
is "$(jqr '.data[0].msg')" null "no msg without with_msg"

api GET "/api/v1/app/shop/msg/$M1/attempt/$A_OK"
is "$STATUS" 200 "get an attempt by id"
is "$(jqr '[.id,.status,.statusText]|@csv')" "\"$A_OK\",0,\"success\"" "the attempt fetched"
api GET "/api/v1/app/shop/msg/evt-1/attempt/$A_OK"
is "$(jqr .id)" "$A_OK" "get an attempt through the eventId"
api GET "/api/v1/app/shop/msg/$M1/attempt/atmpt_2YBXZIko2xmy0s5Rm9N5U7PhHgu"
is "$STATUS" 404 "unknown attempt is 404"
is "$(jqr .code)" not_found "404 code"
api GET "/api/v1/app/shop/msg/$M1/attempt/nonsense"
is "$STATUS" 404 "malformed attempt id is 404"

# --- two failed attempts, then final failure
wait_for 10 attempts_at_least "endpoint/$EP_BAD" 2
ok $? "two failed attempts are listed"
is "$(jqr '[.data[]|.status]|@csv')" "2,2" "both failed attempts have status 2"
is "$(jqr '[.data[]|.statusText]|unique|@csv')" '"fail"' "statusText fail"
is "$(jqr '[.data[]|.responseStatusCode]|@csv')" "500,500" "responseStatusCode 500"
is "$(jqr '[.data[]|.triggerType]|@csv')" "0,0" "first attempt and retry are scheduled (triggerType 0)"
is "$(jqr '[.data[].id]|join(",")')" "$(jqr '[.data[].id]|sort|reverse|join(",")')" "newest first"
sleep 2.5
is "$(bad_lines)" 2 "after the one retry the delivery is final-failed: no third attempt"

api GET "/api/v1/app/shop/attempt/msg/$M1"
is "$(jqr '.data|length')" 3 "by message: three attempts (one ok, two failed)"
api GET "/api/v1/app/shop/attempt/msg/evt-1?status=0"
is "$(jqr '[.data[].id]|join(",")')" "$A_OK" "by eventId, status=0 keeps the success"
api GET "/api/v1/app/shop/attempt/msg/$M1?status=2"
is "$(jqr '.data|length')" 2 "status=2 keeps the failures"
api GET "/api/v1/app/shop/attempt/msg/$M1?status=1"
is "$(jqr '.data|length')" 0 "status=1 matches no stored attempt"
api GET "/api/v1/app/shop/attempt/msg/$M1?status_code_class=500"
is "$(jqr '[.data[].responseStatusCode]|unique|@csv')" "500" "status_code_class=500 keeps the 5xx"
is "$(jqr '.data|length')" 2 "two 5xx attempts"
api GET "/api/v1/app/shop/attempt/msg/$M1?status_code_class=200"
is "$(jqr '[.data[].id]|join(",")')" "$A_OK" "status_code_class=200 keeps the 2xx"
api GET "/api/v1/app/shop/attempt/msg/$M1?status_code_class=0"
is "$(jqr '.data|length')" 0 "status_code_class=0 (0-99) matches nothing here"
api GET "/api/v1/app/shop/attempt/msg/$M1?endpoint_id=good"
is "$(jqr '[.data[].endpointId]|unique|@csv')" "\"$EP_OK\"" "endpoint_id filter (by uid)"
api GET "/api/v1/app/shop/attempt/msg/$M1?endpoint_id=$EP_BAD"
is "$(jqr '.data|length')" 2 "endpoint_id filter (by id)"
api GET "/api/v1/app/shop/attempt/msg/$M1?status=9"
is "$STATUS" 422 "status out of range is 422"
is "$(jqr '.detail[0].loc|join(".")')" query.status "422 names query.status"
api GET "/api/v1/app/shop/attempt/msg/$M1?status_code_class=250"
is "$STATUS" 422 "status_code_class 250 is 422"
api GET "/api/v1/app/shop/attempt/msg/$M1?limit=251"
is "$STATUS" 422 "limit 251 is 422"

# --- resend: one manual attempt, not retried
api POST "/api/v1/app/shop/msg/$M1/endpoint/$EP_BAD/resend"
is "$STATUS" 202 "resend without a body answers 202"
is "$BODY" "{}" "resend answers {}"
wait_received ".id==\"$M1\" and .path==\"/x/status/500\"" 3
ok $? "the resend reaches the receiver"
wait_for 10 attempts_at_least "endpoint/$EP_BAD" 3
ok $? "the manual attempt is listed"
is "$(jqr '.data[0]|[.triggerType,.status]|@csv')" "1,2" "newest attempt is manual (triggerType 1) and failed"
api POST "/api/v1/app/shop/msg/evt-1/endpoint/bad/resend" "" -H 'Content-Length: 0'
is "$STATUS" 202 "resend by eventId and endpoint uid, content-length 0"
wait_received ".id==\"$M1\" and .path==\"/x/status/500\"" 4
ok $? "the second resend arrives"
sleep 1.5
is "$(bad_lines)" 4 "manual attempts are not retried"
api POST "/api/v1/app/shop/msg/msg_2YBXZIko2xmy0s5Rm9N5U7PhHgu/endpoint/$EP_BAD/resend"
is "$STATUS" 404 "resend of an unknown message is 404"
api POST "/api/v1/app/shop/msg/$M1/endpoint/nosuch/resend"
is "$STATUS" 404 "resend to an unknown endpoint is 404"
api POST /api/v1/app/shop/endpoint "{\"uid\":\"off\",\"url\":\"$RURL/x/off\",\"disabled\":true}"
api POST "/api/v1/app/shop/msg/$M1/endpoint/off/resend"
is "$STATUS" 400 "resend to a disabled endpoint is 400"
is "$(jqr .code)" endpoint_disabled "400 code endpoint_disabled"

# --- filters that need the message, windows, pagination
api POST /api/v1/app/shop/msg '{"eventType":"order.new","channels":["eu"],"payload":{"n":2}}'
M2=$(jqr .id)
wait_received ".id==\"$M2\" and .path==\"/x/status/500\"" 2
ok $? "the second message fails twice too"
wait_for 10 attempts_at_least "endpoint/$EP_BAD" 6
ok $? "six attempts on the failing endpoint"
ALL=$(jqr '[.data[].id]|join(",")')
api GET "/api/v1/app/shop/attempt/endpoint/bad?channel=eu"
is "$(jqr '[.data[].msgId]|unique|@csv')" "\"$M2\"" "channel filter"
api GET "/api/v1/app/shop/attempt/endpoint/bad?event_types=order.paid"
is "$(jqr '.data|length')" 4 "event_types filter"
api GET "/api/v1/app/shop/attempt/endpoint/bad?event_types=order.paid&event_types=order.new"
is "$(jqr '.data|length')" 6 "repeated event_types"
HOUR_AGO=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
api GET "/api/v1/app/shop/attempt/endpoint/bad?before=$HOUR_AGO"
is "$(jqr '.data|length')" 0 "before an hour ago: none"
api GET "/api/v1/app/shop/attempt/endpoint/bad?after=$HOUR_AGO"
is "$(jqr '.data|length')" 6 "after an hour ago: all"

seen="" it="" pages=0
while :; do
    api GET "/api/v1/app/shop/attempt/endpoint/bad?limit=1${it:+&iterator=$it}"
    pages=$((pages + 1))
    seen="$seen${seen:+,}$(jqr '.data[0].id')"
    [ "$(jqr .done)" = true ] && break
    [ $pages -gt 10 ] && break
    it=$(jqr .iterator)
done
is "$seen" "$ALL" "limit=1 pages through every attempt, newest first"
is "$pages" 6 "six pages of one"
api GET "/api/v1/app/shop/attempt/endpoint/bad?limit=2"
api GET "/api/v1/app/shop/attempt/endpoint/bad?limit=2&iterator=$(jqr .iterator)"
PREV=$(jqr .prevIterator)
api GET "/api/v1/app/shop/attempt/endpoint/bad?limit=2&iterator=$PREV"
is "$(jqr '[.data[].id]|join(",")')" "$(echo "$ALL" | cut -d, -f1-2)" "prevIterator returns to the first page"

# --- recover: every failed message of the window once more
RSTART=$(bad_lines)
SINCE=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S.000Z)
api POST "/api/v1/app/shop/endpoint/bad/recover" "{\"since\":\"$SINCE\"}"
is "$STATUS" 202 "recover answers 202"
like "$(jqr .id)" '^qtask_[0-9A-Za-z]{27}$' "RecoverOut id is qtask_"
is "$(jqr '[.status,.task]|@csv')" '"running","endpoint.recover"' "RecoverOut status and task"
like "$(jqr .updatedAt)" '^[0-9]{4}-.*Z$' "RecoverOut updatedAt"
RTASK=$(jqr .id)
rfinished() { api GET "/api/v1/background-task/$RTASK"; [ "$(jqr .status)" = finished ]; }
wait_for 10 rfinished
ok $? "recover is a background task that GET /api/v1/background-task/{id} knows, and it finishes"
is "$(jqr '[.task, .data.endpointId, .data.queued]|@csv')" "\"endpoint.recover\",\"$EP_BAD\",2" \
   "BackgroundTaskOut: endpoint.recover queued the two failed messages"
api GET "/api/v1/background-task?task=endpoint.recover"
is "$(jqr '[.data[].id]|join(",")')" "$RTASK" "and the task list shows it"
wait_received ".path==\"/x/status/500\"" $((RSTART + 2))
ok $? "recover sends both failed messages again"
sleep 1.5
is "$(bad_lines)" $((RSTART + 2)) "one manual attempt per message, not retried"
is "$(received ".path==\"/x/status/500\" and .id==\"$M2\"")" 3 "the second message was recovered"
OK_LINES=$(received '.path=="/x/ok"')
api POST "/api/v1/app/shop/endpoint/good/recover" "{\"since\":\"$SINCE\"}"
is "$STATUS" 202 "recover of a healthy endpoint answers 202"
sleep 1
is "$(received '.path=="/x/ok"')" "$OK_LINES" "messages that succeeded are not recovered"
api POST "/api/v1/app/shop/endpoint/bad/recover" "{\"since\":\"$(date -u -d '-15 days' +%Y-%m-%dT%H:%M:%SZ)\"}"
is "$STATUS" 422 "a window over 14 days is 422"
is "$(jqr '.detail[0].loc|join(".")')" body.since "422 names body.since"
api POST "/api/v1/app/shop/endpoint/bad/recover" '{}'
is "$STATUS" 422 "recover without since is 422"
api POST "/api/v1/app/shop/endpoint/bad/recover" '{"since":"yesterday"}'
is "$STATUS" 422 "recover with a bad date is 422"
api POST "/api/v1/app/shop/endpoint/nosuch/recover" "{\"since\":\"$SINCE\"}"
is "$STATUS" 404 "recover of an unknown endpoint is 404"

# --- 404s and scopes
api GET /api/v1/app/shop/attempt/endpoint/nosuch
is "$STATUS" 404 "list by an unknown endpoint is 404"
api GET /api/v1/app/nosuch/attempt/endpoint/good
is "$STATUS" 404 "list in an unknown app is 404"
api GET /api/v1/app/shop/attempt/msg/nosuch
is "$STATUS" 404 "list by an unknown message is 404"
api GET "/api/v1/app/shop/msg/$M2/attempt/$A_OK"
is "$STATUS" 404 "an attempt of another message is 404"
AUTH="Bearer tok" api GET "/api/v1/app/shop/attempt/endpoint/good"
is "$STATUS" 403 "an ingest token cannot list attempts"
AUTH="Bearer tok" api GET "/api/v1/app/shop/msg/$M1/attempt/$A_OK"
is "$STATUS" 403 "an ingest token cannot get an attempt"
AUTH="Bearer tok" api POST "/api/v1/app/shop/msg/$M1/endpoint/bad/resend"
is "$STATUS" 403 "an ingest token cannot resend"
AUTH="Bearer tok" api POST "/api/v1/app/shop/endpoint/bad/recover" "{\"since\":\"$SINCE\"}"
is "$STATUS" 403 "an ingest token cannot recover"

done_testing
