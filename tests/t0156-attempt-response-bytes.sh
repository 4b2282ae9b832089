#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0156: whatever bytes a receiver answers, its attempt stays readable
# (issue 6). A property test: the 256 one-byte bodies, "ok\0ok", and
# random byte strings (every byte value, valid and broken UTF-8, NUL) are
# answered by a receiver; every attempt is listed by the API with the
# response a JSON reader must get back (API.md 4.4: NUL as \u0000, bytes
# that are not UTF-8 as U+FFFD; tests/helpers/bytestr.c is the witness),
# and hookd check is clean. Then a store damaged on purpose (an attempt
# deleted, one overwritten with garbage, an index entry deleted) fails
# hookd check, and hookd check --repair heals it: the attempt lists and
# the check are whole again. Random strings come from a seed printed
# below (HOOKD_SEED=N repeats a run).
. "$(dirname "$0")/lib.sh"
BYTESTR=$TOP/build/tests/helpers/bytestr
LMDB_KV=$TOP/build/tests/helpers/lmdb-kv
LMDB_DEL=$TOP/build/tests/helpers/lmdb-del
for h in "$RECEIVER" "$BYTESTR" "$LMDB_KV" "$LMDB_DEL"; do
    [ -x "$h" ] || bail "no helper '$h' (make $(echo "$h" | sed "s,^$TOP/,,"))"
done
SEED=${HOOKD_SEED:-$(date +%s)}
diag "random strings from seed $SEED"

receiver_start --quiet-log
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
api POST /api/v1/app '{"name":"bytes","uid":"bytes"}'
api POST /api/v1/app/bytes/endpoint "{\"url\":\"$RURL/b/hexbody\"}"
is "$STATUS" 201 "an endpoint whose receiver answers the bytes each message asks for"
EP=$(jqr .id)

"$BYTESTR" single > "$T/cases"
echo "6f6b006f6b $(printf 'ok\000ok' | base64)" >> "$T/cases"
"$BYTESTR" random "$SEED" 150 64 >> "$T/cases"
N=$(wc -l < "$T/cases" | tr -d ' ')

: > "$T/want"
i=0
refused=0
while read -r hex want; do
    i=$((i + 1))
    [ "$hex" = . ] && hex=""
    api POST /api/v1/app/bytes/msg "{\"eventType\":\"b\",\"payload\":{\"hex\":\"$hex\"}}"
    if [ "$STATUS" = 202 ]; then
        echo "$(jqr .id) $want" >> "$T/want"
    else
        refused=$((refused + 1))
    fi
    [ $i = 1 ] && M_NUL=$(jqr .id)
    [ $i = 257 ] && M_OKOK=$(jqr .id)
done < "$T/cases"
is "$refused" 0 "all $N messages accepted"

# every attempt of the endpoint, newest first, as "msgId base64(response)"
list_all() {
    : > "$T/got"
    _it=""
    _pages=0
    while [ $_pages -lt 20 ]; do
        _pages=$((_pages + 1))
        api GET "/api/v1/app/bytes/attempt/endpoint/$EP?limit=250${_it:+&iterator=$_it}"
        [ "$STATUS" = 200 ] || return 1
        jqr '.data[] | "\(.msgId) \(if .response == "" then "." else (.response | @base64) end)"' \
            >> "$T/got"
        [ "$(jqr .done)" = true ] && return 0
        _it=$(jqr .iterator)
    done
    return 1
}
all_listed() { list_all && [ "$(wc -l < "$T/got" | tr -d ' ')" -ge "$N" ]; }
wait_for 30 all_listed
ok $? "every attempt is listed by the API"
is "$(wc -l < "$T/got" | tr -d ' ')" "$N" "one attempt per message ($N)"
sort "$T/want" > "$T/want.s"
sort "$T/got" > "$T/got.s"
is "$(head -n 257 "$T/want" | sort | comm -23 - "$T/got.s" | wc -l | tr -d ' ')" 0 \
    "each of the 256 byte values and ok<NUL>ok reads back as written"
is "$(comm -23 "$T/want.s" "$T/got.s" | wc -l | tr -d ' ')" 0 \
    "each random byte string reads back as written"
comm -3 "$T/want.s" "$T/got.s" | head -n 5 | while read -r l; do diag "differs: $l"; done

api GET "/api/v1/app/bytes/attempt/msg/$M_OKOK"
is "$(jqr '.data[0].response == "ok\u0000ok"')" true "ok<NUL>ok is listed by message as ok, \\u0000, ok"
A_NUL=$(jqr '.data[0].id')
api GET "/api/v1/app/bytes/msg/$M_OKOK/attempt/$A_NUL"
is "$STATUS:$(jqr '.response | length')" 200:5 "and fetched alone, all five characters"
api GET "/api/v1/app/bytes/attempt/msg/$M_NUL"
is "$(jqr '.data[0].response == "\u0000"')" true "a lone NUL is listed as \\u0000"

"$HOOKD" check --data "$DATA" > "$T/check.out" 2>&1
is "$?" 0 "hookd check reads every attempt"

# ---- a damaged store heals with hookd check --repair ----
"$HOOKD" check --repair --data "$DATA" > "$T/busy.out" 2>&1
is "$?" 2 "hookd check --repair refuses while a server holds the log"
like "$(cat "$T/busy.out")" "stop it first" "and says to stop it first"
hookd_stop TERM
# three attempts: one to delete, one to garble, one to take out of att_by_ep
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
api GET "/api/v1/app/bytes/attempt/endpoint/$EP?limit=3"
# shellcheck disable=SC2046
set -- $(jqr '.data[].id')
D1=$1 D2=$2 D3=$3
hookd_stop TERM
"$LMDB_DEL" "$DATA" attempts "$D1" > /dev/null
ok $? "planted: attempt '$D1' deleted, its index entries left dangling"
printf '{"id":"%s","msgId":"x\000' "$D2" | "$LMDB_KV" put "$DATA" attempts "$D2"
ok $? "planted: attempt '$D2' overwritten with bytes that are not a record"
"$LMDB_DEL" "$DATA" att_by_ep "$EP$D3" > /dev/null
ok $? "planted: the att_by_ep entry of '$D3' deleted"
"$HOOKD" check --data "$DATA" > "$T/bad.out" 2>&1
is "$?" 1 "hookd check finds the damage"
like "$(cat "$T/bad.out")" "attempt '$D1' not found" "the dangling index entry is named"
"$HOOKD" check --repair --data "$DATA" > "$T/repair.out" 2>&1
is "$?" 0 "hookd check --repair mends it and checks clean"
like "$(cat "$T/repair.out")" "repaired: 5 entries removed, 1 index entries restored" \
    "it removed the garbled record and four dangling entries, and restored one"
"$HOOKD" check --data "$DATA" > "$T/after.out" 2>&1
is "$?" 0 "a second hookd check is clean"
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s
list_all
ok $? "the attempts list by endpoint reads through"
is "$(wc -l < "$T/got" | tr -d ' ')" "$((N - 2))" "with every attempt but the two removed"
api GET "/api/v1/app/bytes/attempt/endpoint/$EP?limit=3"
like "$(jqr '.data[].id')" "$D3" "the attempt whose index entry was restored is listed again"
done_testing
