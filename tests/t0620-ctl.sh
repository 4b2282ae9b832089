#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0620: `hookd ctl`, the command line over the API: it finds the server
# through the data directory, lists applications, endpoints with a state
# word and failed deliveries (tables and --json), replays failed
# deliveries, pauses, resumes, disables and enables an endpoint, and its
# exit statuses mean one thing each (0 done, 1 refused, 2 usage, 3 no
# server or token, 4 not found). Hostile names cannot drive the terminal.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"

# ctl ARGS...: hookd ctl beside the server; sets OUT, ERR and RC.
ctl() {
    "$HOOKD" ctl --data "$DATA" "$@" >"$T/ctl.out" 2>"$T/ctl.err"
    RC=$?
    OUT=$(cat "$T/ctl.out")
    ERR=$(cat "$T/ctl.err")
}

# --- no server yet ---------------------------------------------------------
DATA=$T/nowhere ctl apps
is "$RC" 3 "no server: exit 3"
like "$ERR" "'$T/nowhere/listen' is missing" "and says which file is missing"

receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
api POST /api/v1/app '{"name":"Shop\u001b[2J","uid":"shop"}'
api POST /api/v1/app/shop/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/good/ok\"}"
api POST /api/v1/app/shop/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/bad/status/500\"}"
EP_BAD=$(jqr .id)
for i in 1 2 3; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"n\":$i}}"
done

"$HOOKD" ctl --data "$DATA" --token wrong apps >/dev/null 2>"$T/ctl.err"
is "$?" 3 "a refused token: exit 3"
like "$(cat "$T/ctl.err")" "refused the admin token" "and says so"

# --- lists -----------------------------------------------------------------
ctl apps
is "$RC" 0 "apps: exit 0"
is "$(printf '%s\n' "$OUT" | head -n 1 | tr -s ' ')" "ID UID NAME CREATED" "apps: a header"
like "$(printf '%s\n' "$OUT" | sed -n 2p)" '^app_[0-9A-Za-z]+ +shop +Shop\?\[2J ' \
     "apps: a row, the escape byte in the name shown as '?'"
case $OUT in *"$(printf '\033')"*) ok 1 "no escape byte reaches the terminal" ;;
                                *) ok 0 "no escape byte reaches the terminal" ;; esac
ctl --json apps
is "$(printf '%s' "$OUT" | jq -r '.[0].uid')" shop "apps --json: the API's objects"

failing() { ctl endpoints; printf '%s\n' "$OUT" | grep -Eq "^shop +$EP_BAD +failing "; }
wait_for 10 failing
ok $? "endpoints: the 500 endpoint is 'failing'"
like "$(printf '%s\n' "$OUT" | grep "$RURL/good/ok")" '^shop +ep_[0-9A-Za-z]+ +ok +0 ' \
     "endpoints: the good one is 'ok' with no backlog"
ctl endpoints --app nosuchapp
is "$RC" 4 "endpoints --app of a missing application: exit 4"
like "$ERR" "HTTP 404: application not found" "and the server's words"

all_failed() { ctl failed --json; [ "$(printf '%s' "$OUT" | jq length)" = 3 ]; }
wait_for 15 all_failed
ok $? "failed --json: the three deliveries to the 500 endpoint, once out of retries"
ctl failed --app shop --since 1h
is "$(printf '%s\n' "$OUT" | sed 1d | grep -c " $EP_BAD  *order.paid  *2  *500 ")" 3 \
   "failed: a row each with two tries and the last code"
ctl failed --since 2099-01-01T00:00:00Z
is "$RC:$ERR" "0:no failed deliveries" "failed: an empty window says so on stderr"

# --- replay ----------------------------------------------------------------
before=$(received '.path == "/bad/status/500"')
ctl replay --app shop --dry-run
is "$RC" 0 "replay --dry-run: exit 0"
is "$(printf '%s\n' "$OUT" | head -n 1)" "would replay 3 deliveries" "replay --dry-run: says how many"
like "$(printf '%s\n' "$OUT" | grep ' fail ')" '^ +fail +3$' "and counts them by status"
sleep 0.5
is "$(received '.path == "/bad/status/500"')" "$before" "a dry run sends nothing"
ctl replay --app shop --endpoint bad --status success --dry-run
is "$(printf '%s\n' "$OUT" | head -n 1)" "would replay 0 deliveries" "--status picks other deliveries"
ctl replay --app shop --endpoint bad
is "$RC" 0 "replay: exit 0"
is "$OUT" "replayed 3 deliveries" "replay: says how many"
wait_received '.path == "/bad/status/500"' $((before + 3))
ok $? "the receiver gets the three again"

# --- pause, resume, disable, enable ----------------------------------------
ctl pause shop bad
is "$RC:$OUT" "0:endpoint 'bad' of 'shop' paused: its deliveries are held" "pause"
ctl endpoints --app shop
like "$(printf '%s\n' "$OUT" | grep "$EP_BAD")" " paused " "endpoints shows 'paused'"
ctl resume shop bad
is "$RC" 0 "resume"
ctl disable shop bad
is "$RC" 0 "disable"
ctl endpoints --json
is "$(printf '%s' "$OUT" | jq -r ".[]|select(.endpointId==\"$EP_BAD\")|[.disabled,.paused]|@csv")" \
   "true,false" "disabled, no longer paused"
ctl enable shop bad
api GET /api/v1/app/shop/endpoint/bad
is "$RC:$(jqr .disabled)" "0:false" "enable: the endpoint is enabled again"
ctl pause shop nosuch
is "$RC" 4 "pause of a missing endpoint: exit 4"

ctl release
is "$RC:$OUT" "0:nothing was held" "release when nothing is held"

# --- application tokens ----------------------------------------------------
ctl token-create shop --expiry 1h --read-only
is "$RC" 0 "token-create: exit 0"
APPTOK=$OUT
like "$APPTOK" '^appsk_[0-9A-Za-z]{27}$' "token-create: the token alone on stdout"
like "$ERR" "^token tok_[0-9A-Za-z]+ for 'shop' \(read-only\), expires " "its id on stderr"
TOKID=$(printf '%s' "$ERR" | sed -n 's/^token \(tok_[0-9A-Za-z]*\) .*/\1/p')
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $APPTOK" \
      "$URL/api/v1/app/shop/endpoint")" 200 "the token reads its application"
ctl token-create nosuchapp
is "$RC" 4 "token-create for a missing application: exit 4"
ctl token-create shop --expiry soon
is "$RC" 2 "token-create with a bad --expiry: exit 2"
ctl tokens --app shop
is "$RC" 0 "tokens: exit 0"
is "$(printf '%s\n' "$OUT" | head -n 1 | tr -s ' ')" "ID APP TOKEN ACCESS CREATED EXPIRES" "tokens: a header"
like "$(printf '%s\n' "$OUT" | grep "$TOKID")" " $(printf '%.10s' "$APPTOK")\.\.\. +read-only " \
     "tokens: the row shows the token's first characters and read-only"
case $OUT in *"$APPTOK"*) ok 1 "tokens: never the whole token" ;;
                       *) ok 0 "tokens: never the whole token" ;; esac
ctl tokens --json
is "$(printf '%s' "$OUT" | jq -r '.[0].id')" "$TOKID" "tokens --json: the API's rows"
ctl token-revoke "$TOKID"
is "$RC:$OUT" "0:token '$TOKID' revoked" "token-revoke: exit 0, says so"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $APPTOK" \
      "$URL/api/v1/app/shop/endpoint")" 401 "the revoked token is refused"
ctl token-revoke "$TOKID"
is "$RC" 4 "token-revoke of an unknown id: exit 4"

# --- usage -----------------------------------------------------------------
ctl frobnicate
is "$RC" 2 "an unknown command: exit 2"
like "$ERR" "unknown command 'frobnicate'" "and its name"
ctl apps --dry-run
is "$RC" 2 "an option the command does not take: exit 2, not ignored"
like "$ERR" "'apps' does not take --dry-run" "and which"
ctl failed --since yesterday
is "$RC" 2 "a --since that is neither a duration nor a time: exit 2"
ctl pause shop
is "$RC" 2 "a missing argument: exit 2"
"$HOOKD" ctl --help > "$T/help"
is "$?" 0 "--help: exit 0"
is "$(grep -c -E '^  (status|apps|endpoints|failed|replay|pause|resume|enable|disable|release|tokens|token-create|token-revoke)( |$)' "$T/help")" 13 \
   "--help lists every command"
done_testing
