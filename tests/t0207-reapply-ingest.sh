#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0207: message ingest re-applied from its log entries. A workload of
# messages (fast and jansson's path, odd payload bytes and numbers, tags,
# channels, deliverAt, rawPayload, with_content=false, an embedded
# application, idempotency keys repeated one after the other and at once,
# eventIds repeated (409) inside busy batches, send-example), fanned out to
# endpoints whose filters matter, one deleted and one created midway, runs
# with --entry-journal; the journal rebuilt into an empty store must equal
# the served store record for record, and the rebuilt store holds the
# messages and per-endpoint deliveries the workload makes. A damaged entry
# (cut short, a payload byte changed, both with a correct CRC; a flipped
# byte without one) makes hookd reapply exit 1 naming it.
. "$(dirname "$0")/lib.sh"
command -v mdb_dump >/dev/null || skip_all "mdb_dump is not installed (lmdb-utils)"
command -v perl >/dev/null || skip_all "perl is not installed"
J=$T/journal
hookd_start --hold-deliveries --entry-journal "$J" --ingest-tokens itok
M=/api/v1/app/shop/msg

# must STATUS WANT WHAT: a setup step that the rest depends on
must() { [ "$1" = "$2" ] || bail "$3 answered $1, not $2: $BODY"; }

api POST /api/v1/event-type '{"name":"order.created","description":"o"}'
must "$STATUS" 201 "event type order.created"
api POST /api/v1/event-type '{"name":"user.signup","description":"u"}'
must "$STATUS" 201 "event type user.signup"
api POST /api/v1/app '{"name":"Shop","uid":"shop"}'
must "$STATUS" 201 "app shop"
# ep NAME BODY: create an endpoint of shop, its id in EP_NAME
ep() {
    api POST /api/v1/app/shop/endpoint "$2"
    must "$STATUS" 201 "endpoint $1"
    eval "EP_$1=\$(jqr .id)"
}
ep all '{"url":"http://127.0.0.1:9/all","uid":"all"}'
ep orders '{"url":"http://127.0.0.1:9/o","uid":"orders","filterTypes":["order.created"]}'
ep blue '{"url":"http://127.0.0.1:9/b","uid":"blue","channels":["blue"]}'
ep off '{"url":"http://127.0.0.1:9/off","uid":"off","disabled":true}'
ep gone '{"url":"http://127.0.0.1:9/g","uid":"gone"}'

# post BODY [CURL ARGS]: one message to shop in the background (busy batches)
post() {
    _b=$1
    shift
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary "$_b" "$@" "$URL$M" >>"$T/codes" &
    POSTS="$POSTS $!"
}
# posted: wait for the messages posted in the background (not for the server)
posted() {
    for _p in $POSTS; do wait "$_p"; done
    POSTS=""
}
POSTS=""

# --- phase 1: all, orders, blue, off (disabled) and gone ---
: >"$T/codes"
i=0
while [ $i -lt 10 ]; do   # to all, orders, gone
    i=$((i + 1))
    post "{\"eventType\":\"order.created\",\"eventId\":\"a$i\",\"payload\":{\"n\":$i,\"amount\":19.99}}"
done
posted
i=0
while [ $i -lt 6 ]; do    # to all, blue, gone; eventIds a1..a3 again: 409 in the same batches
    i=$((i + 1))
    post "{\"eventType\":\"user.signup\",\"channels\":[\"blue\"],\"payload\":{\"u\":$i,\"big\":123456789012345678901234567890}}"
    [ $i -le 3 ] && post "{\"eventType\":\"order.created\",\"eventId\":\"a$i\",\"payload\":{}}"
done
# the same idempotency key twice at once: one message, one answer (all, blue, gone)
post '{"eventType":"user.signup","channels":["blue","red"],"payload":{"k":2}}' -H 'idempotency-key: k2'
post '{"eventType":"user.signup","channels":["blue","red"],"payload":{"k":2}}' -H 'idempotency-key: k2'
posted
is "$(sort "$T/codes" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" "202:18 409:3 " \
    "busy batches: 18 taken, 3 repeated eventIds refused"

# one after the other with one key: the same answer (all, orders, gone)
api POST $M '{"eventType":"order.created","payload":{"k":1}}' -H 'idempotency-key: k1'
is "$STATUS" 202 "idempotency key k1 taken"
K1=$(jqr .id)
api POST $M '{"eventType":"order.created","payload":{"k":1}}' -H 'idempotency-key: k1'
is "$STATUS:$(jqr .id)" "202:$K1" "k1 again: the same message"

# jansson's path: tags and deliverAt (all, blue, gone)
AT=$(date -u -d '+10 minutes' +%Y-%m-%dT%H:%M:%S.000Z)
api POST $M "{\"eventType\":\"user.signup\",\"channels\":[\"red\",\"blue\"],\"tags\":[\"t1\",\"x.y\"],\"deliverAt\":\"$AT\",\"payload\":{\"when\":-0.0}}"
is "$STATUS" 202 "tags and deliverAt taken"
# non-ASCII key, 1e400, retention, rawPayload (all, orders, gone)
api POST $M '{"payload":{"café":19.99,"n":1e400},"eventType":"order.created","payloadRetentionPeriod":5,"transformationsParams":{"rawPayload":"raw \"text\" \\ é"}}'
is "$STATUS" 202 "jansson's path with rawPayload taken"
# a \u escape, with_content=false (all, orders, gone)
api "POST" "$M?with_content=false" '{"eventType":"order.created","payload":{"u":"\u00e9","amount":0.10,"sp" :  [ 1 ,2.50 ]}}'
is "$STATUS:$(printf "%s" "$BODY" | jq -c .payload)" "202:{}" "with_content=false taken"
# the fast path with odd numbers and whitespace (all, orders, gone)
api POST $M '{"eventType":"order.created","eventId":"dmg","payload":{ "dmg" : 1E+2 , "huge":1e400 }}'
is "$STATUS" 202 "odd numbers on the fast path taken"

# an embedded application: created by the message, then used
api POST /api/v1/app/newshop/msg '{"eventType":"e","payload":{"a":1},"application":{"name":"New","uid":"newshop","metadata":{"k":"v"}}}'
is "$STATUS" 202 "a message creates its application"
api POST /api/v1/app/newshop/msg '{"eventType":"e","payload":{"a":2}}'
is "$STATUS" 202 "and the next one finds it"
AUTH="Bearer itok" api POST /api/v1/app/nosuch/msg '{"eventType":"e","payload":{},"application":{"name":"N","uid":"nosuch"}}'
is "$STATUS" 404 "an ingest token may not create one"

# --- phase 2: gone deleted, late created: all, orders, blue, off, late ---
api DELETE "/api/v1/app/shop/endpoint/gone"
must "$STATUS" 204 "endpoint gone deleted"
ep late '{"url":"http://127.0.0.1:9/late","uid":"late"}'
: >"$T/codes"
i=0
while [ $i -lt 5 ]; do   # to all, orders, late
    i=$((i + 1))
    post "{\"eventType\":\"order.created\",\"eventId\":\"b$i\",\"payload\":{\"b\":$i}}"
done
posted
is "$(sort "$T/codes" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" "202:5 " "phase 2 taken"
api POST /api/v1/app/shop/endpoint/blue/send-example '{"eventType":"svix.ping"}'
is "$STATUS" 202 "send-example to blue taken"

api GET "$M?limit=100"
is "$(jqr '.data|length')" 28 "shop lists 28 messages"
hookd_stop
is "$HOOKD_RC" 0 "hookd stopped cleanly"

reapply_same "$T/data" "$J" ingest
R=$T/reapply-ingest
is "$(mdb_stat -s messages "$R" | awk '/Entries:/ { print $2 }')" 30 \
    "the rebuilt store holds 30 messages (28 of shop, 2 of newshop)"
mdb_dump -p -s deliveries "$R" >"$T/deliveries"
# deliveries KEY: rows of the rebuilt store for endpoint id KEY
deliveries() { grep -c "^ msg_.*$1\$" "$T/deliveries"; }
is "$(deliveries "$EP_all")" 27 "all: every message of shop but send-example's"
is "$(deliveries "$EP_orders")" 19 "orders: the order.created ones"
is "$(deliveries "$EP_blue")" 9 "blue: the blue channel's, and send-example's"
is "$(deliveries "$EP_off")" 0 "off (disabled): none"
is "$(deliveries "$EP_late")" 5 "late: only those after it was created"
# 30 messages, and the second k2 when it reached the writer (it then re-answers)
like "$(cat "$T/reapply-ingest.out")" "message\\.create +3[01]\$" \
    "the journal holds a message.create entry for each message"

# --- damaged entries ---
# damage MODE N IN OUT: copy the journal IN to OUT with the N-th
# message.create entry damaged: "cut" drops its last byte, "payload"
# changes the first byte of the payload { "dmg" (N is ignored: the entry
# holding it), both with the record's length and CRC made right again;
# "flip" flips a byte of it and leaves the CRC.
damage() {
    perl -e '
        my ($mode, $want, $in, $out) = @ARGV;
        sub crc { my $c = 0xffffffff; for my $b (unpack "C*", $_[0]) { $c ^= $b;
            for (1 .. 8) { $c = ($c & 1) ? (($c >> 1) ^ 0xedb88320) : ($c >> 1); } }
            return $c ^ 0xffffffff; }
        open(my $f, "<:raw", $in) or die; local $/; my $all = <$f>; close $f;
        my ($o, $res, $k) = (0, "", 0);
        while ($o < length $all) {
            my ($len, $crc) = unpack "NN", substr($all, $o, 8);
            my $e = substr($all, $o + 8, $len);
            $o += 8 + $len;
            my $hit = unpack("n", substr($e, 3, 2)) == 11
                && ($mode eq "payload" ? index($e, "{ \"dmg\"") >= 0 : ++$k == $want);
            if ($hit) {
                if ($mode eq "cut") { $e = substr($e, 0, $len - 1); $crc = crc($e); }
                elsif ($mode eq "payload") { my $at = index($e, "{ \"dmg\"");
                    die "no payload" if $at < 0; substr($e, $at, 1) = "X"; $crc = crc($e); }
                else { substr($e, 40, 1) = chr(ord(substr($e, 40, 1)) ^ 1); }
            }
            $res .= pack("NN", length $e, $crc) . $e;
        }
        open($f, ">:raw", $out) or die; print $f $res; close $f;
    ' "$@"
}
# reapply_damaged NAME: hookd reapply of $T/J-NAME exits 1 and names what is wrong
reapply_damaged() {
    "$HOOKD" reapply "$T/J-$1" --data "$T/r-$1" >"$T/r-$1.out" 2>&1
    is "$?" 1 "$1: hookd reapply exits 1"
}
damage cut 5 "$J" "$T/J-cut" || bail "cannot damage the journal"
reapply_damaged cut
like "$(cat "$T/r-cut.out")" "entry [0-9]+ \(message\.create, at byte [0-9]+ of .*\) failed: " \
    "cut: the entry is named"
damage payload 0 "$J" "$T/J-payload" || bail "cannot damage the journal's payload"
reapply_damaged payload
like "$(cat "$T/r-payload.out")" "entry [0-9]+ \(message\.create, at byte [0-9]+ of .*\) failed: " \
    "payload: the entry is named"
damage flip 7 "$J" "$T/J-flip" || bail "cannot damage the journal"
reapply_damaged flip
like "$(cat "$T/r-flip.out")" "at byte [0-9]+: a damaged or torn record" "flip: the record is named"

# Every cut of the 5th message.create entry, and every byte of it changed
# (CRC made right), each in a journal that ends with it: a cut is refused
# (exit 1), a change is refused or applies (it may still be a valid
# entry), and nothing crashes (a sanitizer build aborts on a bad read).
perl -e '
    my ($want, $in, $dir) = @ARGV;
    sub crc { my $c = 0xffffffff; for my $b (unpack "C*", $_[0]) { $c ^= $b;
        for (1 .. 8) { $c = ($c & 1) ? (($c >> 1) ^ 0xedb88320) : ($c >> 1); } }
        return $c ^ 0xffffffff; }
    sub rec { return pack("NN", length $_[0], crc($_[0])) . $_[0]; }
    open(my $f, "<:raw", $in) or die; local $/; my $all = <$f>; close $f;
    my ($o, $k) = (0, 0);
    while ($o < length $all) {
        my ($len) = unpack "N", substr($all, $o, 8);
        my $e = substr($all, $o + 8, $len);
        my $before = substr($all, 0, $o);
        $o += 8 + $len;
        next unless unpack("n", substr($e, 3, 2)) == 11 && ++$k == $want;
        for my $n (29 .. $len - 1) {
            open($f, ">:raw", "$dir/cut-$n") or die; print $f $before . rec(substr($e, 0, $n)); close $f;
        }
        for my $i (0 .. $len - 1) {
            my $d = $e;
            substr($d, $i, 1) = chr(ord(substr($d, $i, 1)) ^ 0x5a);
            open($f, ">:raw", "$dir/flip-$i") or die; print $f $before . rec($d); close $f;
        }
        exit 0;
    }
    exit 1;
' 5 "$J" "$(mkdir -p "$T/D" && echo "$T/D")" || bail "cannot write the damaged journals"
: >"$T/D.codes"
for f in "$T"/D/*; do
    "$HOOKD" reapply "$f" --data "$f.store" >"$f.out" 2>&1
    echo "${f##*/} $?" >>"$T/D.codes"
    rm -rf "$f.store"
done
is "$(grep -c '^cut-' "$T/D.codes") $(grep '^cut-' "$T/D.codes" | grep -vc ' 1$')" \
    "$(ls "$T"/D/cut-* | grep -vc '\.out$') 0" "every cut of an entry is refused"
is "$(grep '^flip-' "$T/D.codes" | grep -vc ' [01]$')" 0 \
    "every changed byte is refused or applies, and nothing crashes"
diag "$(grep -c '^cut-' "$T/D.codes") cuts; $(grep -c '^flip-' "$T/D.codes") changed bytes:" \
    "$(grep '^flip-' "$T/D.codes" | grep -c ' 1$') refused"
like "$(grep '^flip-' "$T/D.codes" | grep -c ' 1$')" "^[1-9][0-9]+$" "most changed bytes are refused"
done_testing
