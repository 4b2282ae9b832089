#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0711: damaged store files (issue 6). A data.mdb cut short by 1 %, one
# of 0 bytes and one of random bytes: hookd check, hookd serve and hookd
# backup each exit with an error that names the file, says what is wrong
# (how many bytes short, empty, not an LMDB file) and to restore from a
# backup; none dies of a signal (SIGBUS) and none writes over the file.
. "$(dirname "$0")/lib.sh"
hookd_start
api POST /api/v1/app '{"name":"d","uid":"d"}'
is "$STATUS" 201 "a log with an app"
i=0
while [ $i -lt 60 ]; do
    i=$((i + 1))
    api POST /api/v1/app/d/msg "{\"eventType\":\"e\",\"payload\":{\"n\":$i,\"pad\":\"$(printf '%02000d' 0)\"}}"
done
is "$STATUS" 202 "and messages"
hookd_stop TERM
is "$HOOKD_RC" 0 "the server stops cleanly"
SIZE=$(stat -c %s "$DATA/data.mdb")
ok "$(cond "$SIZE >= 100000")" "data.mdb is $SIZE bytes"

# damaged NAME: a copy of the data directory whose data.mdb is damaged by the caller
damaged() {
    D=$T/$1
    rm -rf "$D"
    cp -a "$DATA" "$D"
    rm -f "$D/lock.mdb"
}
sum() { cksum < "$D/data.mdb"; }

# all_refuse NAME PATTERN: check, serve and backup on $D refuse with PATTERN
all_refuse() {
    before=$(sum)
    "$HOOKD" check --data "$D" > "$T/$1.check" 2>&1
    rc=$?
    is "$rc" 2 "$1: hookd check exits 2 (not a signal)"
    like "$(cat "$T/$1.check")" "'$D/data.mdb'.*$2.*restore.*backup" "$1: check names the file, the damage and what to do"
    "$HOOKD" serve --listen 127.0.0.1:0 --data "$D" --log-level warn > "$T/$1.serve" 2>&1 &
    pid=$!
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do n=$((n + 1)); sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid"
        wait "$pid" 2>/dev/null
        rc=999
    else
        wait "$pid"
        rc=$?
    fi
    ok "$(cond "$rc > 0 && $rc < 128")" "$1: hookd serve exits with an error, not a signal ($rc)"
    like "$(cat "$T/$1.serve")" "'$D/data.mdb'.*$2.*restore.*backup" "$1: serve names the file, the damage and what to do"
    "$HOOKD" backup "$T/$1.bak" --data "$D" > "$T/$1.backup" 2>&1
    rc=$?
    ok "$(cond "$rc > 0 && $rc < 128")" "$1: hookd backup exits with an error ($rc)"
    like "$(cat "$T/$1.backup")" "'$D/data.mdb'.*$2" "$1: backup names the file and the damage"
    ok "$([ ! -e "$T/$1.bak/data.mdb" ]; echo $?)" "$1: backup left no copy"
    is "$(sum)" "$before" "$1: data.mdb is as it was"
}

damaged short
truncate -s $((SIZE * 99 / 100)) "$D/data.mdb"
all_refuse short "$((SIZE * 99 / 100)) bytes but its log needs $SIZE \\($((SIZE - SIZE * 99 / 100)) bytes short\\)"

damaged empty
: > "$D/data.mdb"
all_refuse empty "is empty \\(0 bytes\\)"
is "$(stat -c %s "$D/data.mdb")" 0 "empty: still 0 bytes, no new log over it"

damaged garbage
head -c "$SIZE" /dev/urandom > "$D/data.mdb"
all_refuse garbage "not an LMDB file"

hookd_start
api GET /api/v1/app/d
is "$STATUS" 200 "the undamaged log still opens"
done_testing
