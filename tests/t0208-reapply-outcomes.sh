#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0208: delivery outcomes are deterministic log entries (entry.h): a
# server run with --entry-journal and a short retry schedule delivers to
# receivers that answer at once, fail and then succeed, fail for good
# (500, a reset connection, 429 with Retry-After), answer 410 (the
# endpoint is disabled), answer odd bytes and headers; an endpoint deleted
# with a backlog ends its deliveries as "endpoint deleted", a paused
# endpoint's message whose content is expunged ends canceled, and a
# resend makes a manual attempt. The operator's endpoint (the reserved
# application) gets the events these cause, so their deliveries are
# outcomes too. Once settled and stopped, hookd reapply rebuilds the store
# from the journal, record for record. Then a journal whose outcome entry
# is cut short (its record's CRC made right again) makes reapply exit 1
# naming the entry, without a crash.
. "$(dirname "$0")/lib.sh"
[ -x "$RECEIVER" ] || bail "no receiver '$RECEIVER' (run make build/tests/helpers/receiver)"
perl -MCompress::Zlib -e 1 2>/dev/null || bail "perl's Compress::Zlib is needed to damage a journal"
receiver_start
J=$T/journal
hookd_start --allow-network 127.0.0.0/8 --retry-schedule 1s,1s --entry-journal "$J"

api POST /api/v1/operational-webhook/endpoint "{\"url\":\"$RURL/ops\",\"uid\":\"ops\"}"
is "$STATUS" 201 "the operator's endpoint"
api POST /api/v1/app '{"name":"a","uid":"a"}'
api POST /api/v1/app '{"name":"b","uid":"b"}'
ep() {   # ep APP UID PATH: an endpoint; sets EP
    api POST "/api/v1/app/$1/endpoint" "{\"uid\":\"$2\",\"url\":\"$RURL$3\"}"
    EP=$(jqr .id)
}
msg() {  # msg APP PAYLOAD: sets MSG
    api POST "/api/v1/app/$1/msg" "{\"eventType\":\"t\",\"payload\":$2}"
    MSG=$(jqr .id)
}
# app a: every message goes to each endpoint; the hex matters to /hexbody only
ep a ok /ok/headers/2;            EP_OK=$EP
ep a flaky /flaky/1;              EP_FLAKY=$EP
ep a bad /bad/status/500;         EP_BAD=$EP
ep a reset /reset;                EP_RESET=$EP
ep a ra /ra/retry-after/429/1;    EP_RA=$EP
ep a gone /gone;                  EP_GONE=$EP
ep a bytes /bytes/hexbody;        EP_BYTES=$EP
for hex in 00ff41 c328 e282 "" 0a0d09; do
    msg a "{\"hex\":\"$hex\"}"
    [ -n "${M_FIRST:-}" ] || M_FIRST=$MSG
done
# app b: a backlog for an endpoint then deleted, and for one whose message is expunged
ep b del /del;                    EP_DEL=$EP
ep b exp /exp;                    EP_EXP=$EP
for e in del exp; do api POST "/hookd/v1/app/b/endpoint/$e/pause"; done
is "$STATUS" 200 "endpoints del and exp paused"
for n in 1 2 3; do msg b "{\"n\":$n}"; done
M_LAST=$MSG

count() {   # count STATUS EP: deliveries of EP in STATUS
    api GET "/hookd/v1/deliveries?status=$1&endpoint_id=$2&limit=250"
    jqr '.data|length'
}
attempts() {  # attempts APP EP: attempts of EP (one page holds them)
    api GET "/api/v1/app/$1/attempt/endpoint/$2?limit=250"
    jqr '.data|length'
}
api DELETE /api/v1/app/b/endpoint/del
is "$STATUS" 204 "endpoint del deleted with its backlog of 3"
wait_for 10 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' '$URL/hookd/v1/deliveries?status=fail&endpoint_id=$EP_DEL' | jq '.data|length')\" = 3 ]"
ok $? "its deliveries end"
api DELETE "/api/v1/app/b/msg/$M_LAST/content"
is "$STATUS" 204 "a message of the paused endpoint expunged"
api POST /hookd/v1/app/b/endpoint/exp/resume
is "$STATUS" 200 "endpoint exp resumed"

settled() {
    [ "$(count success "$EP_OK")" = 5 ] && [ "$(count success "$EP_FLAKY")" = 5 ] &&
    [ "$(count fail "$EP_BAD")" = 5 ] && [ "$(count fail "$EP_RESET")" = 5 ] &&
    [ "$(count fail "$EP_RA")" = 5 ] && [ "$(count success "$EP_BYTES")" = 5 ] &&
    [ "$(count success "$EP_EXP")" = 2 ] && [ "$(count fail "$EP_EXP")" = 1 ]
}
wait_for 40 settled
ok $? "deliveries settle: successes, retried successes, exhausted, deleted, expunged"
# a manual attempt: the first message again to the endpoint that fails
api POST "/api/v1/app/a/msg/$M_FIRST/endpoint/$EP_BAD/resend"
is "$STATUS" 202 "a resend to the failing endpoint"
wait_for 10 sh -c "[ \$(jq -c 'select(.path==\"/bad/status/500\")' '$RLOG' | wc -l) -ge 16 ]"
ok $? "its manual attempt is made"
ops() { jq -c "select(.path==\"/ops\")|(.body|fromjson)|select(.type==\"$1\")" "$RLOG" | wc -l | tr -d ' '; }
wait_for 10 sh -c "[ \$(jq -c 'select(.path==\"/ops\")|(.body|fromjson)|select(.type==\"message.attempt.exhausted\")' '$RLOG' | wc -l) -ge 15 ]"
ok $? "the operator gets message.attempt.exhausted for each exhausted delivery"
sleep 1.5   # the events' own deliveries and the manual attempt's outcome are recorded
api GET /api/v1/app/a/endpoint/gone
is "$(jqr .disabled)" true "the 410 disabled its endpoint"
is "$(ops endpoint.disabled)" 1 "and the operator got endpoint.disabled"
is "$(attempts a "$EP_OK"):$(attempts a "$EP_FLAKY"):$(attempts a "$EP_BYTES")" "5:10:5" \
   "attempts: 5 at once, 10 for 5 that failed once, 5 odd byte bodies"
is "$(attempts a "$EP_BAD"):$(attempts a "$EP_RESET"):$(attempts a "$EP_RA")" "16:15:15" \
   "3 per exhausted delivery, and the manual one"
g=$(attempts a "$EP_GONE")
ok "$(cond "$g >= 1 && $g <= 5")" "1 to 5 attempts (those in flight) before the 410 held the rest ($g)"
is "$(attempts b "$EP_EXP")" 2 "no attempt for the expunged message"
api GET "/hookd/v1/deliveries?endpoint_id=$EP_DEL&limit=250"
is "$(jqr '[.data[].lastError]|unique|join(",")')" "endpoint deleted" \
   "the deleted endpoint's deliveries end as 'endpoint deleted'"
api GET "/api/v1/app/a/attempt/endpoint/$EP_BYTES?limit=250"
is "$(jqr '[.data[].response]|map(select(. == "\u0000\ufffdA" or . == "\n\r\t"))|length')" 2 \
   "a body of odd bytes is recorded as it reads"
hookd_stop
is "$HOOKD_RC" 0 "the server stops cleanly"
ok "$([ -s "$J" ]; echo $?)" "the journal holds entries"

reapply_same "$DATA" "$J" outcomes
like "$(cat "$T/reapply-outcomes.out")" "delivery.outcome +[0-9]" "the journal's outcome entries were applied"
n=$(awk '$1 == "delivery.outcome" { print $2 }' "$T/reapply-outcomes.out")
ok "$(cond "${n:-0} >= 90")" "at least 90 outcomes re-applied (got ${n:-0})"

# a damaged outcome entry: cut 3 bytes off the first outcome with an
# attempt (its attempt id), make its record's length and CRC right again,
# and drop what follows
perl -MCompress::Zlib -e '
    open(my $in, "<:raw", $ARGV[0]) or die; open(my $out, ">:raw", $ARGV[1]) or die;
    my ($n, $i) = (0, 0);
    while (read($in, my $h, 8) == 8) {
        my ($len, $crc) = unpack("NN", $h);
        read($in, my $e, $len) == $len or die "torn";
        $i++;
        my $kind = unpack("n", substr($e, 3, 2));
        if ($kind == 20 && substr($e, -33, 6) eq "atmpt_") {
            $e = substr($e, 0, $len - 3);
            print $out pack("NN", length($e), crc32($e)), $e;
            print "$i\n";
            exit 0;
        }
        print $out $h, $e;
    }
    die "no outcome entry";
' "$J" "$T/damaged" > "$T/damaged.at"
is "$?" 0 "a journal with an outcome entry cut short"
rm -rf "$T/re-damaged"
"$HOOKD" reapply "$T/damaged" --data "$T/re-damaged" >"$T/damaged.out" 2>"$T/damaged.err"
is "$?" 1 "reapply exits 1 on it"
like "$(cat "$T/damaged.err")" "entry $(cat "$T/damaged.at") \\(delivery.outcome" \
     "and names the entry and its kind"
done_testing
