#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0209: the background writes as log entries (issue 9, step 1). A server
# run with --entry-journal does retention (payloads, idempotency answers,
# an application token; in part B attempts), a replay-missing task, a
# resend and recover tasks; a store rebuilt from the journal alone
# (hookd reapply) equals the served one record for record, and served
# again it shows the same facts. Journals of the retention and
# replay-missing entries alone apply to an empty store; one of those
# entries cut short (its checksum made right) is refused by name.
#
# Part A holds deliveries, so nothing but these writes and the API's
# changes the store; part B sends (failed attempts for recover and attempt
# retention). message.create, token.mint and delivery.outcome entries are
# other parts of the work: while this build cannot re-apply them, the
# comparisons that need them are TODO (named below).
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
receiver_start

# todo_if_foreign OUT N WHAT: when reapply stopped at an entry of a kind that is
# not this test's (OUT names it), print N TODO results and return 0.
todo_if_foreign() {
    _k=$(grep -Eo '\((message\.create|token\.mint|delivery\.outcome), at byte' "$1" | head -1 |
         sed 's/^(//; s/, at byte$//')
    [ -n "$_k" ] || return 1
    _i=0
    while [ $_i -lt "$2" ]; do
        _i=$((_i + 1)); _n=$((_n + 1))
        echo "not ok $_n - $3 ($_i of $2) # TODO $_k entries are not re-applied by this build yet"
    done
    return 0
}
ms_of() { date -d "$1" +%s%3N; }
finished() { api GET "/api/v1/background-task/$1"; [ "$(jqr .status)" = finished ]; }

# --- part A: held; retention, replay-missing, resend, recover ----------------
JA=$T/journal-a
hookd_start --entry-journal "$JA" --hold-deliveries --allow-network 127.0.0.0/8 \
    --payload-retention 6s --retention-interval 1s --idempotency-ttl 1s --log-level info
DATA_A=$DATA
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
api POST /api/v1/app/shop/endpoint "{\"uid\":\"live\",\"url\":\"$RURL/live\"}"
EP_LIVE=$(jqr .id)
api POST /api/v1/app/shop/endpoint "{\"uid\":\"late\",\"url\":\"$RURL/late\"}"
EP_LATE=$(jqr .id)
api PATCH /api/v1/app/shop/endpoint/late '{"disabled":true}'
is "$STATUS" 200 "two endpoints, one disabled"
SINCE=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
sleep 0.05
MSGS=""
for i in 1 2 3; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"t\",\"payload\":{\"n\":$i}}" -H "Idempotency-Key: k$i"
    MSGS="$MSGS $(jqr .id)"
done
is "$STATUS" 202 "three messages with idempotency keys"
M1=${MSGS# }
M1=${M1%% *}
api POST /api/v1/auth/app-portal-access/shop '{"expiry":1}'
SHORT_ID=$(jqr .id)
is "$STATUS" 200 "an application token for one second"
api POST "/api/v1/app/shop/msg/$M1/endpoint/live/resend"
is "$STATUS" 202 "a resend to the live endpoint"

api PATCH /api/v1/app/shop/endpoint/late '{"disabled":false}'
api POST /api/v1/app/shop/endpoint/late/replay-missing "{\"since\":\"$SINCE\"}"
RM=$(jqr .id)
wait_for 10 finished "$RM"
ok $? "replay-missing finishes"
is "$(jqr '[.data.queued, .data.alreadyDelivered]|@csv')" "3,0" "it queued the three the endpoint missed"
api POST /api/v1/app/shop/endpoint/live/recover "{\"since\":\"$SINCE\"}"
REC=$(jqr .id)
wait_for 10 finished "$REC"
ok $? "a recover finishes"
is "$(jqr .data.found)" 0 "held, there is no failed attempt to recover"

all_expired() {
    for m in $MSGS; do
        api GET "/api/v1/app/shop/msg/$m"
        [ "$(jqr '.payload|tojson')" = '{"expired":true}' ] || return 1
    done
}
wait_for 30 all_expired
ok $? "retention expires the three payloads"
token_gone() { api GET /hookd/v1/tokens; [ "$(jqr "[.data[]|select(.id==\"$SHORT_ID\")]|length")" = 0 ]; }
wait_for 10 token_gone
ok $? "and removes the expired token"
idem_removed() {
    sed -n 's/.*retention pass.*idempotency=\([0-9]*\).*/\1/p' "$T/hookd.err" |
        awk '{ s += $1 } END { exit !(s >= 3) }'
}
wait_for 10 idem_removed
ok $? "and the three idempotency answers"
row() { api GET /hookd/v1/endpoints; jqr ".data[]|select(.endpointId==\"$1\")|$2"; }
is "$(row "$EP_LIVE" .backlog):$(row "$EP_LATE" .backlog)" "4:3" \
   "backlogs: live 3 + the resend, late the 3 replayed"
api GET "/hookd/v1/deliveries?endpoint_id=$EP_LATE"
is "$(jqr '[.data[].status]|unique|join(",")'):$(jqr '.data|length')" "pending:3" \
   "the replayed deliveries wait"
hookd_stop
is "$HOOKD_RC" 0 "part A: the server stops cleanly"

"$HOOKD" reapply "$JA" --data "$T/reapply-probe-a" >"$T/probe-a.out" 2>&1
if todo_if_foreign "$T/probe-a.out" 11 "part A re-applies and compares"; then
    diag "$(cat "$T/probe-a.out")"
else
    reapply_same "$DATA_A" "$JA" held
    OUT=$(cat "$T/reapply-held.out")
    like "$OUT" "  retention\.batch +[1-9]" "the journal has retention batches and they applied"
    like "$OUT" "  task\.replay_missing +1( |$)" "one replay-missing batch"
    like "$OUT" "  message\.resend +1( |$)" "one resend"
    HOOKD_DATA_DIR=$T/reapply-held hookd_start --hold-deliveries
    api GET "/api/v1/app/shop/msg/$M1"
    is "$(jqr '.payload|tojson')" '{"expired":true}' "rebuilt: the payload is expired"
    api GET /hookd/v1/tokens
    is "$(jqr "[.data[]|select(.id==\"$SHORT_ID\")]|length")" 0 "rebuilt: the token is gone"
    is "$(row "$EP_LIVE" .backlog):$(row "$EP_LATE" .backlog)" "4:3" "rebuilt: the same backlogs"
    api GET "/hookd/v1/deliveries?endpoint_id=$EP_LATE"
    is "$(jqr '.data|length')" 3 "rebuilt: the three replayed deliveries"
    api POST /api/v1/app/shop/msg '{"eventType":"t","payload":{"n":9}}' -H "Idempotency-Key: k1"
    is "$STATUS" 202 "rebuilt: an idempotency key of part A is free again"
    [ "$(jqr .id)" != "$M1" ]
    ok $? "and makes a new message"
    hookd_stop
fi

# --- the retention and replay-missing entries alone; then cut short ----------
# journal records: length (u32 BE), CRC-32 (u32 BE), entry ("HE", version, kind
# u16 BE at bytes 3-4). keep_kinds IN OUT CUT KINDS...: the records of KINDS;
# CUT (a kind, or 0) loses the last byte of its first entry, checksum made right.
keep_kinds() {
    perl -e '
        use strict;
        my ($in, $out, $cut, @kinds) = @ARGV;
        my %keep = map { $_ => 1 } @kinds;
        open(my $f, "<:raw", $in) or die; local $/; my $j = <$f>; close $f;
        my @crc; for my $i (0 .. 255) { my $c = $i; $c = $c & 1 ? 0xedb88320 ^ ($c >> 1) : $c >> 1 for 1 .. 8; $crc[$i] = $c }
        sub crc { my $c = 0xffffffff; $c = $crc[($c ^ $_) & 0xff] ^ ($c >> 8) for unpack("C*", $_[0]); $c ^ 0xffffffff }
        my ($o, $r, $kept, $cutdone) = (0, "", 0, 0);
        while ($o < length $j) {
            my $n = unpack("N", substr($j, $o, 4)); my $e = substr($j, $o + 8, $n); $o += 8 + $n;
            my $k = unpack("n", substr($e, 3, 2));
            next unless $keep{$k};
            if ($k == $cut && !$cutdone) { $e = substr($e, 0, $n - 1); $cutdone = 1 }
            $r .= pack("NN", length $e, crc($e)) . $e; $kept++;
        }
        die "no entry of the kinds asked\n" unless $kept;
        die "no entry of kind $cut to cut\n" if $cut && !$cutdone;
        open(my $g, ">:raw", $out) or die; print $g $r; close $g;
    ' "$@"
}
keep_kinds "$JA" "$T/journal-bg" 0 21 23
is "$?" 0 "a journal of part A's retention and replay-missing entries"
"$HOOKD" reapply "$T/journal-bg" --data "$T/reapply-bg" >"$T/bg.out" 2>&1
is "$?" 0 "it applies to an empty store (each entry checks the store, which has nothing)"
like "$(cat "$T/bg.out")" "  retention\.batch +[1-9]" "its retention batches among them"
for c in 21:retention.batch 23:task.replay_missing; do
    kind=${c%%:*} name=${c#*:}
    keep_kinds "$JA" "$T/journal-cut-$kind" "$kind" 21 23
    is "$?" 0 "the same with one $name entry cut short"
    "$HOOKD" reapply "$T/journal-cut-$kind" --data "$T/reapply-cut-$kind" >"$T/cut-$kind.out" 2>&1
    is "$?" 1 "reapply refuses it (exit 1)"
    like "$(cat "$T/cut-$kind.out")" "entry [0-9]+ \\($name, at byte [0-9]+ .*invalid input" \
         "naming the entry and its kind"
done

# --- part B: deliveries that fail; recover; attempts leave with retention -----
JB=$T/journal-b
HOOKD_DATA_DIR=$T/data-b hookd_start --entry-journal "$JB" --allow-network 127.0.0.0/8 \
    --attempt-retention 4s --retention-interval 1s --retry-schedule 100s
DATA_B=$DATA
api POST /api/v1/app '{"name":"B","uid":"b"}'
api POST /api/v1/app/b/endpoint "{\"uid\":\"bad\",\"url\":\"$RURL/b/status/500\"}"
EP_BAD=$(jqr .id)
SINCE=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
sleep 0.05
for i in 1 2 3; do api POST /api/v1/app/b/msg "{\"eventType\":\"t\",\"payload\":{\"n\":$i}}"; done
is "$STATUS" 202 "part B: three messages to a failing endpoint"
wait_received '.path=="/b/status/500"' 3
ok $? "each is tried once (the retry is 100 s away)"
attempts() { api GET "/api/v1/app/b/attempt/endpoint/$EP_BAD?limit=50"; jqr '.data|length'; }
three_failed() { [ "$(attempts)" = 3 ]; }
wait_for 10 three_failed
ok $? "three failed attempts"
api POST /api/v1/app/b/endpoint/bad/recover "{\"since\":\"$SINCE\"}"
REC=$(jqr .id)
wait_for 10 finished "$REC"
is "$(jqr '[.status, .data.found, .data.queued]|@csv')" '"finished",3,3' \
   "recover finds and queues the three"
wait_received '.path=="/b/status/500"' 6
ok $? "and they are sent again"
no_attempts() { [ "$(attempts)" = 0 ]; }
wait_for 20 no_attempts
ok $? "attempt retention removes all six attempts"
hookd_stop
is "$HOOKD_RC" 0 "part B: the server stops cleanly"

"$HOOKD" reapply "$JB" --data "$T/reapply-probe-b" >"$T/probe-b.out" 2>&1
if todo_if_foreign "$T/probe-b.out" 4 "part B re-applies and compares"; then
    diag "$(cat "$T/probe-b.out")"
else
    reapply_same "$DATA_B" "$JB" sent
    OUT=$(cat "$T/reapply-sent.out")
    like "$OUT" "  task\.recover +1( |$)" "one recover batch"
    like "$OUT" "  retention\.batch +[1-9]" "retention batches (the attempts)"
fi

done_testing
