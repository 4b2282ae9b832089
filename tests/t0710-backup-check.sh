#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0710: hookd backup copies a live log under ingest load into a directory
# a second server starts from, holding every message acknowledged before
# the backup began; hookd check passes on the live log (beside the server)
# and on the copy, names violations made on purpose in copies, and exits 2
# when there is no log; backup refuses a non-empty directory.
. "$(dirname "$0")/lib.sh"
LMDB_DEL=$TOP/build/tests/helpers/lmdb-del
[ -x "$LMDB_DEL" ] || bail "build $LMDB_DEL first (make test does)"

like "$("$HOOKD" version | tr '\n' ' ')" "^hookd [0-9.]+.*lmdb [0-9]+\.[0-9]+.*libcurl .*mbedtls .*libmicrohttpd .*jansson " \
    "version names hookd and its libraries"

# 1. data: three apps; a1 has an endpoint that takes everything and one
# that always fails (three attempts, then a retry parked 60 s out)
receiver_start
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s,1s,60s
LIVE=$DATA LIVE_URL=$URL LIVE_TOKEN=$TOKEN LIVE_PID=$HOOKD_PID
for a in 1 2 3; do api POST /api/v1/app "{\"name\":\"app $a\",\"uid\":\"a$a\"}"; done
APP1=$(api GET /api/v1/app/a1 && jqr .id)
api POST /api/v1/app/a1/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/good/ok\"}"
api POST /api/v1/app/a1/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/bad/status/500\"}"
EP_BAD=$(jqr .id)
api POST /api/v1/app/a2/endpoint "{\"url\":\"$RURL/load/ok\"}"
for i in $(seq 1 20); do
    api POST /api/v1/app/a1/msg "{\"eventType\":\"e\",\"payload\":{\"i\":$i}}"
done
MSG1=$(jqr .id)
wait_received '(.path|startswith("/good/"))' 20 && wait_received '(.path|startswith("/bad/"))' 60 20
ok $? "a1's messages were delivered to one endpoint and failed three times on the other"

# 2. backup while a producer keeps posting to a2
producer() {
    while [ ! -e "$T/stop" ]; do
        curl -s -H "Authorization: Bearer $LIVE_TOKEN" -H 'Content-Type: application/json' \
            --data-binary '{"eventType":"load","payload":{"x":1}}' "$LIVE_URL/api/v1/app/a2/msg" |
            jq -r 'select(.id != null) | .id' >> "$T/acks"
    done
}
: > "$T/acks"
producer & P1=$!
producer & P2=$!
sleep 1
grep -E '^msg_[0-9A-Za-z]{27}$' "$T/acks" | sort -u > "$T/acked-before"
"$HOOKD" backup "$T/backup" --data "$LIVE" > "$T/backup.out" 2> "$T/backup.err"
is "$?" 0 "hookd backup succeeds while the server runs and ingests"
like "$(cat "$T/backup.out")" "backed up .* to '$T/backup'" "backup says what it wrote"
N_BEFORE=$(wc -l < "$T/acked-before" | tr -d ' ')
ok "$(cond "$N_BEFORE > 0")" "messages were acknowledged before the backup began ($N_BEFORE)"

"$HOOKD" check --data "$LIVE" > "$T/check-live.out" 2>&1
is "$?" 0 "hookd check on the live log, beside the server under load: clean"
like "$(cat "$T/check-live.out")" "deliveries +[1-9][0-9]*" "check prints row counts per database"
like "$(grep 'pending/sending delivery' "$T/check-live.out")" " [1-9][0-9]* checked, 0 violations" \
    "check matched pending and sending deliveries with their due entries"
touch "$T/stop"
wait "$P1" "$P2"

is "$(stat -c %a "$T/backup")" 700 "the backup directory is 0700"
is "$(stat -c %a "$T/backup/admin.token")" 600 "admin.token is copied with mode 0600"
is "$(cat "$T/backup/admin.token")" "$LIVE_TOKEN" "and holds the same token"
[ ! -e "$T/backup/listen" ]
ok $? "the listen file is not copied"

"$HOOKD" check --data "$T/backup" > "$T/check-backup.out" 2>&1
is "$?" 0 "hookd check on the backup: clean"
like "$(cat "$T/check-backup.out")" "result: ok" "and it says so"
cp -a "$T/backup" "$T/pristine"

# 3. a second server on the backup holds the live server's state
# page through a list; prints one id per line
list_ids() {
    _it=""
    while :; do
        api GET "$1?limit=250${_it:+&iterator=$_it}"
        jqr '.data[].id'
        [ "$(jqr .done)" = true ] && break
        _it=$(jqr .iterator)
    done
}
URL=$LIVE_URL TOKEN=$LIVE_TOKEN
APPS_LIVE=$(list_ids /api/v1/app | sort)
A1_LIVE=$(list_ids /api/v1/app/a1/msg | sort)
HOOKD_DATA_DIR=$T/backup hookd_start --retry-schedule 1s,1s,60s
is "$TOKEN" "$LIVE_TOKEN" "the restored server uses the copied admin token"
is "$(list_ids /api/v1/app | sort)" "$APPS_LIVE" "the restored server lists the same apps"
is "$(list_ids /api/v1/app/a1/msg | sort)" "$A1_LIVE" "and the same messages of a1 (20)"
list_ids /api/v1/app/a2/msg | sort > "$T/a2-restored"
is "$(comm -23 "$T/acked-before" "$T/a2-restored" | wc -l | tr -d ' ')" 0 \
    "every message acknowledged before the backup began is in it"
api GET "/api/v1/app/a1/attempt/endpoint/$EP_BAD?limit=250"
is "$(jqr '.data|length')" 60 "the failed attempts came along"
hookd_stop TERM
"$HOOKD" check --data "$T/backup" > /dev/null 2>&1
is "$?" 0 "the restored log is still clean after the second server ran on it"

# 4. violations made on purpose, each in its own copy
# corrupt NAME DB [--prefix] KEY: a copy of the pristine backup with one key gone
corrupt() {
    _name=$1 _d=$T/$1 _db=$2
    cp -a "$T/pristine" "$_d"
    shift 2
    if [ "$1" = --prefix ]; then
        "$LMDB_DEL" --prefix "$_d" "$_db" "$2" > /dev/null
    else
        "$LMDB_DEL" "$_d" "$_db" "$1" > /dev/null
    fi || bail "lmdb-del failed on $_db"
    "$HOOKD" check --data "$_d" > "$T/$_name.out" 2>&1
    CHECK_RC=$?
    CHECK_OUT=$(cat "$T/$_name.out")
}
corrupt nomsg messages "$APP1$MSG1"
is "$CHECK_RC" 1 "a deleted message: check exits 1"
like "$CHECK_OUT" "violation: delivery -> message: deliveries '$MSG1\|ep_[0-9A-Za-z]+': message '$APP1\|$MSG1' not found" \
    "and names the delivery and the missing message"
like "$CHECK_OUT" "violation: due entry -> message: due '$EP_BAD\|[0-9]+\|$MSG1'" \
    "and the due entry of the parked retry"
like "$CHECK_OUT" "result: [0-9]+ violations" "and counts them"

corrupt nodue due --prefix "$EP_BAD"
is "$CHECK_RC" 1 "a deleted due entry of a sending delivery: check exits 1"
like "$CHECK_OUT" "violation: pending/sending delivery -> due entry: deliveries 'msg_[0-9A-Za-z]+\|$EP_BAD': sending, but no due entry" \
    "and names the delivery"

corrupt noidx att_by_ep --prefix "$EP_BAD"
is "$CHECK_RC" 1 "a deleted att_by_ep entry: check exits 1"
like "$CHECK_OUT" "violation: attempt -> att_by_ep and att_by_msg: attempts 'atmpt_[0-9A-Za-z]+': att_by_ep '$EP_BAD\|" \
    "and names the attempt and the missing index entry"

corrupt noatt attempts --prefix atmpt_
is "$CHECK_RC" 1 "a deleted attempt: check exits 1"
like "$CHECK_OUT" "att_by_ep/att_by_msg -> attempt: att_by_msg 'msg_[0-9A-Za-z]+\|atmpt_[0-9A-Za-z]+': attempt 'atmpt_[0-9A-Za-z]+' not found" \
    "and names the index entry that points to nothing"

corrupt noapp apps "$APP1"
is "$CHECK_RC" 1 "a deleted app record: check exits 1"
like "$CHECK_OUT" "violation: uid -> record: uids 'a.x00a1': apps '$APP1' not found" \
    "and names the uid entry"

# 5. refusals
"$HOOKD" backup "$T/backup" --data "$LIVE" > /dev/null 2> "$T/err"
is "$?" 1 "backup into a non-empty directory fails"
like "$(cat "$T/err")" "backup directory '$T/backup' is not empty" "with a clear message"
"$HOOKD" check --data "$T/backup" > /dev/null 2>&1
is "$?" 0 "and leaves that directory as it was"
mkdir "$T/empty"
"$HOOKD" backup --data "$T/nowhere" "$T/empty" > /dev/null 2> "$T/err"
is "$?" 1 "backup of a directory without a log fails"
like "$(cat "$T/err")" "no log to back up in '$T/nowhere'" "naming it"
"$HOOKD" check --data "$T/nowhere" > /dev/null 2> "$T/err"
is "$?" 2 "check on a missing directory exits 2"
like "$(cat "$T/err")" "cannot open the log in '$T/nowhere'" "naming it"
mkdir -m 700 "$T/garbage"
head -c 65536 /dev/urandom > "$T/garbage/data.mdb"
"$HOOKD" check --data "$T/garbage" > /dev/null 2> "$T/err"
is "$?" 2 "check on a data.mdb of random bytes exits 2"
like "$(cat "$T/err")" "'$T/garbage/data.mdb' \\([0-9]+ bytes\\) is not an LMDB file or its header is damaged; restore" \
    "saying which file, what it is not and what to do"
"$HOOKD" serve --listen 127.0.0.1:0 --data "$T/garbage" > /dev/null 2> "$T/err"
is "$?" 1 "serve on it exits 1"
like "$(cat "$T/err")" "cannot open the log in '$T/garbage': '$T/garbage/data.mdb' \\([0-9]+ bytes\\) is not an LMDB file" \
    "with the same words"
HOOKD_DATA=$T/pristine "$HOOKD" check > /dev/null 2>&1
is "$?" 0 "check takes the data directory from HOOKD_DATA"

HOOKD_PID=$LIVE_PID
hookd_stop TERM
is "$HOOKD_RC" 0 "the live server stopped cleanly"
done_testing
