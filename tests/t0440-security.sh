#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0440: tokens and secrets.
#  1. Every route of src/api.c's table (read from the source, so a new
#     route is covered the day it is added): without a token or with a
#     wrong one 401, with an ingest token 403, except health (open) and
#     message create (the one route an ingest token may use).
#  2. Secrets and tokens never reach the log (JSON, debug level), an error
#     body or /metrics, through a session that creates endpoints with
#     secrets and sensitive headers, delivers, rotates and fails, against
#     a receiver that echoes every request back in its error answers.
#  3. The data directory is 0700 and admin.token 0600; a pre-existing
#     0755 directory is kept and warned about, a 0644 token file is fixed.
. "$(dirname "$0")/lib.sh"
ING=ingest-tok-3f9a1c77e0d24b5b
receiver_start

# ---- 1. the route table ----
sed -n 's/^ *{ "\([A-Z]*\)", "\([^"]*\)", \([a-z_0-9]*\), \(SCOPE_[A-Z]*\) },.*/\1 \2 \4/p' \
    "$TOP/src/api.c" > "$T/routes"
NROUTES=$(wc -l < "$T/routes" | tr -d ' ')
is "$NROUTES" "$(grep -c '^ *{ "[A-Z]*", "/' "$TOP/src/api.c")" "every line of the route table was read"
ok "$(cond "$NROUTES >= 40")" "the table has $NROUTES routes"
like "$(cut -d' ' -f2 "$T/routes" | tr '\n' ' ')" '/metrics .*|/hookd/v1/feed' "operations routes included"

hookd_start --ingest-tokens "$ING" --allow-network 127.0.0.0/8
api POST /api/v1/app '{"name":"s","uid":"s"}'
api POST /api/v1/event-type '{"name":"e","description":"e"}'

# call METHOD PATH AUTH BODY: sets STATUS, BODY
call() {
    if [ "$1" = HEAD ]; then
        if [ "$3" = none ]; then
            STATUS=$(curl -s -o /dev/null -w '%{http_code}' --head "$URL$2")
        else
            STATUS=$(curl -s -o /dev/null -w '%{http_code}' --head -H "Authorization: $3" "$URL$2")
        fi
        BODY='{"code":"(head)"}'
        return
    fi
    AUTH=$3 api "$1" "$2" "$4"
}
# the path of PATTERN: the first "*" is app s, the others a made-up id
path_of() { printf '%s' "$1" | sed -e 's/\*/s/' -e 's/\*/x/g'; }

fails=0
while read -r method pattern scope; do
    p=$(path_of "$pattern")
    body=
    case $method in POST|PUT|PATCH) body='{}' ;; esac
    for auth in none "Bearer wrong-$TOKEN"; do
        call "$method" "$p" "$auth" "$body"
        if [ "$scope" = SCOPE_NONE ]; then
            case $STATUS in 2??) ;; *) fails=$((fails + 1)); diag "$method $p without a token: $STATUS" ;; esac
        elif [ "$STATUS" != 401 ]; then
            fails=$((fails + 1)); diag "$method $p ($auth): $STATUS, want 401"
        elif [ "$method" != HEAD ] && [ "$(jqr .code)" != authentication_failed ]; then
            fails=$((fails + 1)); diag "$method $p: 401 without the JSON error: $BODY"
        fi
    done
done < "$T/routes"
is "$fails" 0 "no token or a wrong one: 401 JSON on every route but health"

fails=0 ingest_ok=0
while read -r method pattern scope; do
    p=$(path_of "$pattern")
    body=
    case $method in POST|PUT|PATCH) body='{}' ;; esac
    call "$method" "$p" "Bearer $ING" "$body"
    case $scope in
    SCOPE_NONE)
        case $STATUS in 2??) ;; *) fails=$((fails + 1)); diag "$method $p (ingest): $STATUS" ;; esac ;;
    SCOPE_INGEST)
        # an empty body is a validation error, not a refusal
        [ "$STATUS" = 422 ] || { fails=$((fails + 1)); diag "$method $p (ingest, {}): $STATUS"; }
        call "$method" "$p" "Bearer $ING" '{"eventType":"e","payload":{"k":1}}'
        [ "$STATUS" = 202 ] && ingest_ok=$((ingest_ok + 1)) ;;
    *)
        if [ "$STATUS" != 403 ]; then
            fails=$((fails + 1)); diag "$method $p (ingest): $STATUS, want 403"
        elif [ "$method" != HEAD ] && [ "$(jqr .code)" != insufficient_access ]; then
            fails=$((fails + 1)); diag "$method $p: 403 without the JSON error: $BODY"
        fi ;;
    esac
done < "$T/routes"
is "$fails" 0 "ingest token: 403 JSON on every management and operations route"
is "$ingest_ok" "$(grep -c ' SCOPE_INGEST$' "$T/routes")" "ingest token: message create answers 202"

# The admin token passes the check everywhere (made-up ids: 404 at worst)
# but on the routes of application tokens alone (logout ends the token it
# is called with: 403).
fails=0
while read -r method pattern scope; do
    p=$(printf '%s' "$pattern" | sed 's/\*/zz/g')
    body=
    case $method in POST|PUT|PATCH) body='{}' ;; esac
    call "$method" "$p" "Bearer $TOKEN" "$body"
    if [ "$scope" = SCOPE_APP ]; then
        [ "$STATUS" = 403 ] || { fails=$((fails + 1)); diag "$method $p (admin): $STATUS, want 403"; }
        continue
    fi
    case $STATUS in 401|403|000) fails=$((fails + 1)); diag "$method $p (admin): $STATUS" ;; esac
done < "$T/routes"
is "$fails" 0 "admin token: no route refuses it but logout"
hookd_stop TERM

# ---- 2. secrets stay out of logs, error bodies and /metrics ----
rm -rf "$T/data"
HOOKD_LOG_ARGS="--log-level debug --log-format json --log-file $T/hookd.log" \
    hookd_start --ingest-tokens "$ING" --allow-network 127.0.0.0/8 --retry-schedule 1s,1s
SEC_A=whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB
SEC_B=whsec_QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC
SEC_C=whsec_Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0ND
BEARER=Bearer-xyz-5e1f0c2b9d8a
APIKEY=apikey-77d1c0ffee4242
HDRS="{\"authorization\":\"$BEARER\",\"x-api-key\":\"$APIKEY\"}"
: > "$T/errors"
collect() { case $STATUS in [45]??) printf '%s\n' "$BODY" >> "$T/errors" ;; esac; }
api POST /api/v1/app '{"name":"v","uid":"v"}'
api POST /api/v1/app/v/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/good/ok\",\"secret\":\"$SEC_A\",\"headers\":$HDRS}"
is "$STATUS" 201 "endpoint with a secret and sensitive headers"
api POST /api/v1/app/v/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/bad/status/500/echo\",\"secret\":\"$SEC_B\",\"headers\":$HDRS}"
is "$STATUS" 201 "a second one whose receiver fails and echoes the request"
for i in 1 2 3; do
    AUTH="Bearer $ING" api POST /api/v1/app/v/msg "{\"eventType\":\"e\",\"payload\":{\"i\":$i}}"
done
is "$STATUS" 202 "messages sent with the ingest token"
api POST /api/v1/app/v/endpoint/good/secret/rotate "{\"key\":\"$SEC_C\"}"
is "$STATUS" 204 "secret rotated to a given key"
api POST /api/v1/app/v/endpoint/bad/secret/rotate '{}'
api GET /api/v1/app/v/endpoint/bad/secret
SEC_D=$(jqr .key)
like "$SEC_D" '^whsec_' "and another to a generated one"
for i in 4 5; do
    AUTH="Bearer $ING" api POST /api/v1/app/v/msg "{\"eventType\":\"e\",\"payload\":{\"i\":$i}}"
done
wait_received '(.path|startswith("/good"))' 5 10
ok $? "the good endpoint got every message"
wait_received '(.path|startswith("/bad"))' 15 15
ok $? "the failing one got every attempt"
api GET /api/v1/app/v/attempt/endpoint/bad
case $BODY in *"$BEARER"*) ok 0 "the echo is in the attempt records (so the log had it to leak)" ;;
              *) ok 1 "the echo is in the attempt records (so the log had it to leak)" ;; esac
# errors, each with a secret or token in its request
AUTH="Bearer wrong-$TOKEN" api GET /api/v1/app; collect
AUTH="Bearer $TOKEN-x" api GET /api/v1/app; collect
AUTH="Bearer $ING" api GET /api/v1/app/v/endpoint/good/secret; collect
AUTH="Bearer $ING" api POST /api/v1/app/v/endpoint/good/secret/rotate "{\"key\":\"$SEC_A\"}"; collect
api POST /api/v1/app/v/endpoint "{\"url\":\"$RURL/x\",\"secret\":\"${SEC_A}%%\"}"; collect
api POST /api/v1/app/v/endpoint "{\"url\":\"$RURL/x\",\"secret\":\"whsec_${BEARER}\"}"; collect
api POST /api/v1/app/v/endpoint "{\"url\":\"$RURL/x\",\"headers\":{\"authorization\":\"$BEARER\\r\\nx: y\"}}"; collect
api POST /api/v1/app/v/endpoint "{\"url\":\"$RURL/x\",\"headers\":{\"user-agent\":\"$APIKEY\"}}"; collect
api PUT /api/v1/app/v/endpoint/good/headers "{\"headers\":{\"proxy-authorization\":\"$BEARER\"}}"; collect
api POST /api/v1/app/v/endpoint/nope/secret/rotate "{\"key\":\"$SEC_C\"}"; collect
api POST "/api/v1/app/v/msg?token=$TOKEN" "{\"eventType\":\"e\",\"payload\":\"$SEC_A\"}"; collect
api DELETE /api/v1/app/v/msg; collect
api GET /api/v1/app/nope "" -H "X-Api-Key: $APIKEY"; collect
NERR=$(wc -l < "$T/errors" | tr -d ' ')
ok "$(cond "$NERR >= 13")" "collected $NERR error bodies"
api GET /metrics
printf '%s\n' "$BODY" > "$T/metrics"
like "$(grep -c '^hookd_' "$T/metrics")" '^[1-9]' "/metrics answered"
hookd_stop TERM
like "$(grep -c '"delivery failed"' "$T/hookd.log")" '^[1-9]' "the log has the failed attempts"
like "$(grep -c '"delivered"' "$T/hookd.log")" '^[1-9]' "and, at debug, the successful ones"

# leaks FILE NAME: every secret, token and sensitive value absent from FILE
leaks() {
    n=0
    for v in "$TOKEN" "$ING" "$SEC_A" "$SEC_B" "$SEC_C" "$SEC_D" "${SEC_A#whsec_}" \
             "${SEC_B#whsec_}" "${SEC_C#whsec_}" "${SEC_D#whsec_}" "$BEARER" "$APIKEY"; do
        if grep -qF -- "$v" "$1"; then n=$((n + 1)); diag "$2 contains '$v'"; fi
    done
    is "$n" 0 "no secret, token or sensitive header value in $2"
}
leaks "$T/hookd.log" "the log ($(wc -l < "$T/hookd.log" | tr -d ' ') lines)"
leaks "$T/errors" "the error bodies"
leaks "$T/metrics" "/metrics"
leaks "$T/hookd.err" "stderr"

# ---- 3. file modes ----
rm -rf "$T/data"
hookd_start
is "$(stat -c %a "$DATA")" 700 "a new data directory is 0700"
is "$(stat -c %a "$DATA/admin.token")" 600 "admin.token is 0600"
for f in "$DATA"/*.mdb; do
    is "$(stat -c %a "$f")" 600 "$(basename "$f") is 0600"
done
hookd_stop TERM
chmod 0755 "$DATA"
chmod 0644 "$DATA/admin.token"
: > "$T/hookd.err"
hookd_start
is "$(stat -c %a "$DATA")" 755 "an existing 0755 data directory keeps its mode"
like "$(cat "$T/hookd.err")" 'data directory is open to other users; chmod 700 it.*mode=0755' \
    "with a warning"
is "$(stat -c %a "$DATA/admin.token")" 600 "an existing 0644 admin.token is made 0600"
like "$(cat "$T/hookd.err")" 'admin token file was readable by other users' "with a warning"
api GET /api/v1/app
is "$STATUS" 200 "and the token still works"
hookd_stop TERM

done_testing
