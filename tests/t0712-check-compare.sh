#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0712: hookd check --compare A B compares two logs record for record
# (the judge of cluster mode's re-apply test). A log and its backup are
# identical, every database named with equal counts; a record only in B,
# a changed endpoint, a record only in A are each reported with exit 1;
# the node-local meta "probe" does not count, while another meta key
# does; a missing directory, one without data.mdb and a truncated
# data.mdb exit 2 naming the directory, and nothing is created in either.
# SHOW_CMP=1 copies each compare's output to stderr.
. "$(dirname "$0")/lib.sh"
LMDB_KV=$TOP/build/tests/helpers/lmdb-kv
[ -x "$LMDB_KV" ] || bail "build $LMDB_KV first (make test does)"
DBS="meta apps uids endpoints event_types messages deliveries due attempts att_by_ep att_by_msg ep_health idempotency"

# cmp_logs A B [ARGS]: run the compare; sets RC and OUT (stdout and stderr)
cmp_logs() {
    "$HOOKD" check --compare "$@" > "$T/cmp.out" 2>&1
    RC=$?
    OUT=$(cat "$T/cmp.out")
    [ -z "${SHOW_CMP-}" ] || cat "$T/cmp.out" >&2
}
# row DB: DB's counts line of the last compare ("in_a in_b equal only_a only_b differ skipped")
row() { printf '%s\n' "$OUT" | awk -v d="$1" '$1 == d { print $2, $3, $4, $5, $6, $7, $8 }'; }

# 1. log A: an app, an endpoint to the receiver, five messages delivered
receiver_start
hookd_start --allow-network 127.0.0.0/8
A=$DATA
api POST /api/v1/app '{"name":"app 1","uid":"a1"}'
is "$STATUS" 201 "log A: an app"
APP1=$(jqr .id)
api POST /api/v1/app/a1/endpoint "{\"uid\":\"good\",\"url\":\"$RURL/good/ok\"}"
is "$STATUS" 201 "and an endpoint"
EP=$(jqr .id)
for i in 1 2 3 4 5; do
    api POST /api/v1/app/a1/msg "{\"eventType\":\"e\",\"payload\":{\"i\":$i}}"
done
is "$STATUS" 202 "and messages"
wait_received '(.path|startswith("/good/"))' 5
ok $? "all five were delivered"
# the last outcome is written after the receiver answers: wait for it
wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $TOKEN' '$URL/api/v1/app/a1/attempt/endpoint/$EP' | jq -e '.data|length == 5' > /dev/null"
ok $? "and their attempts recorded"
hookd_stop TERM
is "$HOOKD_RC" 0 "server A stopped cleanly"

# 2. B, a backup of A: identical
"$HOOKD" backup "$T/b" --data "$A" > /dev/null 2>&1 || bail "hookd backup failed"
cp -a "$T/b" "$T/c"   # a spare copy that no hookd opens before section 5
cmp_logs "$A" "$T/b"
is "$RC" 0 "a log and its backup: exit 0"
like "$OUT" "result: identical \\([1-9][0-9]* records equal, 0 node-local skipped\\)" "and it says so"
for db in $DBS; do
    like "$(row "$db")" "^([0-9]+) \\1 \\1 0 0 0 0$" "$db is named with equal counts ($(row "$db"))"
done
like "$(row messages)" "^5 " "the five messages were compared"
like "$(row attempts)" "^5 " "and their five attempts"
cmp_logs "$A" "$A"
is "$RC" 0 "a log compared with itself: exit 0"
like "$OUT" "the same file" "opened once, and said"

# 3. node-local records: meta "probe" is skipped, another meta key is not
printf '\000\000\001\000\000\000\000\001' | "$LMDB_KV" set "$A" meta probe || bail "lmdb-kv set failed"
printf '\000\000\001\000\000\000\000\002' | "$LMDB_KV" set "$T/b" meta probe || bail "lmdb-kv set failed"
cmp_logs "$A" "$T/b"
is "$RC" 0 "meta 'probe' differing: still identical (exit 0)"
like "$(row meta)" " 1$" "and counted as skipped"
printf '\000\000\000\000\000\000\000\000' | "$LMDB_KV" set "$T/c" meta failed || bail "lmdb-kv set failed"
cmp_logs "$A" "$T/c"
is "$RC" 1 "a meta key that is not node-local (failed, only in one): exit 1"
like "$OUT" "difference: meta 'failed': only in B \\(8 bytes\\)" "and named"
cp -a "$A" "$T/d"
printf '\000\000\000\000\000\000\000\001' | "$LMDB_KV" set "$T/d" meta failed || bail "lmdb-kv set failed"
cmp_logs "$T/d" "$T/c"
is "$RC" 1 "the same key with another binary value: exit 1"
like "$OUT" "difference: meta 'failed': values differ \\(A 8 bytes, B 8 bytes; first difference at byte 7\\)" \
    "with the offset of the first differing byte"
cmp_logs "$A" "$T/c" --ignore meta:fail
is "$RC" 0 "--ignore meta:fail leaves it out"
cmp_logs "$A" "$T/c" --ignore=meta
is "$RC" 0 "--ignore=meta, the whole database"
rm -rf "$T/c"
cp -a "$T/b" "$T/c"   # c again a spare copy, never opened by hookd check
rm -f "$T/c/lock.mdb"

# 4. differences made through the real server on B: a new app (only in B),
# twelve messages of it, a changed endpoint (differs); B compared while
# its server runs
HOOKD_DATA_DIR=$T/b hookd_start --allow-network 127.0.0.0/8
api POST /api/v1/app '{"name":"app 2","uid":"a2"}'
is "$STATUS" 201 "B: another app"
APP2=$(jqr .id)
for i in $(seq 1 12); do
    api POST /api/v1/app/a2/msg "{\"eventType\":\"e\",\"payload\":{\"i\":$i}}"
done
is "$STATUS" 202 "with twelve messages"
api PATCH "/api/v1/app/a1/endpoint/$EP" "{\"url\":\"$RURL/changed/ok\"}"
is "$STATUS" 200 "B: the endpoint's url changed"
cmp_logs "$A" "$T/b"
is "$RC" 1 "A against B beside B's live server: exit 1"
hookd_stop TERM
cmp_logs "$A" "$T/b"
is "$RC" 1 "A against B: exit 1"
like "$OUT" "difference: apps '$APP2': only in B" "the new app is only in B"
like "$OUT" "difference: uids 'a\\\\x00a2': only in B" "and its uid, a key with a NUL shown escaped"
like "$(row apps)" "^1 2 1 0 1 0 " "apps: 1 in A, 2 in B, 1 equal, 1 only in B"
like "$OUT" "difference: endpoints '$APP1$EP': values differ \\(A [0-9]+ bytes, B [0-9]+ bytes; fields differ: .*\"url\"" \
    "the changed endpoint differs, naming the fields that differ"
like "$(row endpoints)" "^1 1 0 0 0 1 " "endpoints: one differs"
like "$(row messages)" "^5 17 5 0 12 0 " "messages: twelve only in B"
is "$(grep -c '^difference: messages ' "$T/cmp.out")" 10 "ten of them are shown"
like "$OUT" "result: [0-9]+ differences \\(the first [0-9]+ are shown\\)" "and the rest counted"

# 5. a record only in A: an event type made on a copy of A
cp -a "$A" "$T/a2"
HOOKD_DATA_DIR=$T/a2 hookd_start
api POST /api/v1/event-type '{"name":"only.here","description":"x"}'
is "$STATUS" 201 "A': an event type"
hookd_stop TERM
cmp_logs "$T/a2" "$T/b"
is "$RC" 1 "A' against B: exit 1"
like "$OUT" "difference: event_types 'only.here': only in A" "the event type is only in A"
like "$(row event_types)" "^1 0 0 1 0 0 " "event_types: one only in A"

# 6. logs that cannot be opened: exit 2, the directory named, nothing created
before=$(ls -A "$T/c")
cmp_logs "$T/c" "$T/nowhere"
is "$RC" 2 "a missing directory: exit 2"
like "$OUT" "cannot open the log in '$T/nowhere': no such directory" "naming it"
[ ! -e "$T/nowhere" ]
ok $? "and it is not created"
mkdir -m 700 "$T/empty"
cmp_logs "$T/empty" "$T/c"
is "$RC" 2 "a directory without data.mdb: exit 2"
like "$OUT" "cannot open the log in '$T/empty': no data.mdb there" "naming it"
is "$(ls -A "$T/empty")" "" "and nothing is created in it"
mkdir -m 700 "$T/short"
cp "$T/c/data.mdb" "$T/short/"
SIZE=$(stat -c %s "$T/short/data.mdb")
truncate -s $((SIZE - 4096)) "$T/short/data.mdb"
cmp_logs "$T/c" "$T/short"
is "$RC" 2 "a truncated data.mdb: exit 2"
like "$OUT" "cannot open the log in '$T/short': '$T/short/data.mdb' is [0-9]+ bytes but its log needs [0-9]+ \\(4096 bytes short\\)" \
    "naming the file and the damage"
is "$(ls -A "$T/short")" "data.mdb" "nothing is created beside it"
is "$(ls -A "$T/c")" "$before" "nor in the other directory (checked before either is opened)"
is "$(stat -c %s "$T/short/data.mdb")" $((SIZE - 4096)) "the truncated file is as it was"

# 7. usage
cmp_logs "$A"
is "$RC" 2 "--compare with one directory: exit 2"
like "$OUT" "usage|hookd check --compare DIR_A DIR_B" "with a usage line"
cmp_logs "$A" "$T/b" extra
is "$RC" 2 "an extra argument: exit 2"
like "$OUT" "unexpected argument 'extra' \\(hookd check --compare DIR_A DIR_B" "with a usage line"
cmp_logs "$A" "$T/b" --repair
is "$RC" 2 "--compare with --repair: exit 2"
cmp_logs "$A" "$T/b" --ignore nosuchdb
is "$RC" 2 "--ignore with an unknown database: exit 2"
like "$OUT" "no database 'nosuchdb'" "naming it"
"$HOOKD" check --help > "$T/help" 2>&1
like "$(cat "$T/help")" "meta 'probe': the health check's test write" "--help lists the node-local records"
done_testing
