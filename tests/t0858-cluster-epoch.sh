#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The epoch marker (cmeta.h): a node that acquires the lease publishes an
# EPOCH entry (its node id, its epoch) to the log before its first write,
# and owns once its store applied it. Every store records the epoch and
# the owner of the last marker (meta cluster.epoch, cluster.owner), shown
# by GET /hookd/v1/stats and hookd check. On three real nats-server
# processes (tests/cluster.sh): two auto nodes; a takeover after a SIGTERM
# puts a second, higher marker in the log; both stores then show the new
# epoch and owner, and compare equal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

# ---- the marker's apply rule, without NATS: hookd reapply of crafted markers ----
# markers FILE NODE:EPOCH...: a journal (length, CRC-32, entry) of EPOCH entries.
markers_journal() {
    perl -e '
        use strict;
        my ($out, @m) = @ARGV;
        my @crc; for my $i (0 .. 255) { my $c = $i; $c = $c & 1 ? 0xedb88320 ^ ($c >> 1) : $c >> 1 for 1 .. 8; $crc[$i] = $c }
        sub crc { my $c = 0xffffffff; $c = $crc[($c ^ $_) & 0xff] ^ ($c >> 8) for unpack("C*", $_[0]); $c ^ 0xffffffff }
        my $r = ""; my $i = 0;
        for (@m) {
            my ($node, $epoch) = split /:/;
            my $e = "HE\x01" . pack("n", 25) . pack("Q>", 1765155600000 + $i) . pack("C16", ($i++) x 16)
                  . chr(length($node) + 1) . $node . chr($epoch);
            $r .= pack("NN", length $e, crc($e)) . $e;
        }
        open(my $g, ">:raw", $out) or die; print $g $r; close $g;
    ' "$@"
}
markers_journal "$T/markers.journal" a:5 a:5 b:3 c:5 d:7
"$HOOKD" reapply "$T/markers.journal" --data "$T/markers" > "$T/markers.out" 2>&1
is "$?" 0 "hookd reapply applies epoch markers (no NATS needed)"
like "$(cat "$T/markers.out")" "cluster\.epoch +5" "all five, by kind name"
"$HOOKD" check --data "$T/markers" > "$T/markers-check.out" 2>&1
like "$(cat "$T/markers-check.out")" "epoch 7 \\(owner d\\), 2 stale entries skipped" \
     "the newest marker wins; the same marker again changes nothing; an older one, and another node's of the same epoch, are skipped and counted"

cluster_up
receiver_start
TOKEN=hk_t0858adminTokenForBothNodes
export HOOKD_ADMIN_TOKEN=$TOKEN
NODE_LOG_LEVEL=info

# epoch_of NAME: "EPOCH OWNER STALE" from the node's stats.
epoch_of() {
    on "$1"
    api GET /hookd/v1/stats
    jqr '"\(.cluster.epoch.epoch) \(.cluster.epoch.owner) \(.cluster.epoch.staleSkipped)"'
}
# markers: the log's EPOCH entries, "SEQ NODE/EPOCH" a line.
markers() {
    "$HOOKD" cluster log --cluster "$NATS_URLS" | awk '$2 == "cluster.epoch" { sub("marker=", "", $5); print $1, $5 }'
}

node_start a
node_start b
wait_for 20 one_owner
ok $? "one of the two nodes owns the log ($(role_of a)/$(role_of b))"
if is_owner a; then OWNER=a OTHER=b; else OWNER=b OTHER=a; fi
on "$OWNER"
api GET /hookd/v1/stats
E1=$(jqr .cluster.lease.epoch)
like "$E1" '^[1-9][0-9]*$' "the owner's lease has an epoch ($E1)"
is "$(epoch_of "$OWNER")" "$E1 $OWNER 0" "the owner's store records its own marker: epoch $E1, owner $OWNER"
M=$(markers)
is "$(printf '%s\n' "$M" | wc -l | tr -d ' ')" 1 "the log holds one marker"
is "$(printf '%s\n' "$M" | awk '{ print $2 }')" "$OWNER/$E1" "naming the owner and its epoch"
is "$(printf '%s\n' "$M" | awk '{ print $1 }')" 1 "as the log's first entry (before any write)"
"$HOOKD" cluster log --cluster "$NATS_URLS" > "$T/log1.out"
like "$(head -1 "$T/log1.out")" '^log hookd_log_0: entries 1\.\.1$' "hookd cluster log names the log's range"

on "$OWNER"
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
is "$STATUS" 201 "app created on the owner"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/good/ok\",\"uid\":\"good\"}"
is "$STATUS" 201 "endpoint created"
for i in 1 2 3 4 5; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"e\",\"payload\":{\"i\":$i}}" -H "idempotency-key: m$i"
done
is "$STATUS" 202 "messages accepted"
wait_received '.path == "/good/ok"' 5 20
like "$("$HOOKD" cluster log --cluster "$NATS_URLS" | sed -n '$p')" "node=$OWNER epoch=$E1\$" \
     "the owner's messages carry its node and epoch"
wait_for 20 at_log_end "$OTHER"
is "$(epoch_of "$OTHER")" "$E1 $OWNER 0" "the standby applied the marker: the same epoch and owner"

# ---- takeover after a clean stop ----
node_stop "$OWNER"
is "$NODE_RC" 0 "the owner stops cleanly (releasing the lease)"
wait_for 10 is_owner "$OTHER"
ok $? "the other node ($OTHER) owns the log"
on "$OTHER"
api GET /hookd/v1/stats
E2=$(jqr .cluster.lease.epoch)
is "$(cond "$E2 > $E1")" 0 "with a higher epoch ($E2 > $E1)"
is "$(epoch_of "$OTHER")" "$E2 $OTHER 0" "its store records its own marker"
api POST /api/v1/app/shop/msg '{"eventType":"e","payload":{"after":"takeover"}}'
is "$STATUS" 202 "the new owner takes writes"
LASTID=$(jqr .id)
wait_received ".id == \"$LASTID\"" 1 15
is "$(received ".id == \"$LASTID\"")" 1 "and delivers them"
M=$(markers)
is "$(printf '%s\n' "$M" | awk '{ print $2 }' | tr '\n' ' ')" "$OWNER/$E1 $OTHER/$E2 " \
   "the log holds both markers, in order"
S2=$(printf '%s\n' "$M" | awk 'NR == 2 { print $1 }')
is "$("$HOOKD" cluster log --cluster "$NATS_URLS" --from $((S2 + 1)) | awk 'NR > 1 && $4 != "epoch='$E2'"' | wc -l | tr -d ' ')" 0 \
   "every entry after the new marker carries the new epoch"

node_start "$OWNER"
wait_for 30 at_log_end "$OWNER"
ok $? "the old owner, restarted, caught up"
is "$(role_of "$OWNER")" standby "as a standby"
is "$(epoch_of "$OWNER")" "$E2 $OTHER 0" "its store shows the new epoch and owner"

# the standby first: taking over from a stopped owner it would add a marker
node_stop "$OWNER"
is "$NODE_RC" 0 "the standby stops cleanly"
node_stop "$OTHER"
is "$NODE_RC" 0 "the owner stops cleanly"
"$HOOKD" check --data "$T/$OWNER" > "$T/check.out" 2>&1
is "$?" 0 "hookd check: clean"
like "$(cat "$T/check.out")" "cluster: log applied up to entry [0-9]+, epoch [0-9]+ \\(owner [ab]\\)" \
     "hookd check shows the store's place in the log, its epoch and owner"
stores_equal a b "hookd check --compare: the two stores are equal (epoch and owner included)"
[ "$_fail" = 0 ] || for n in a b; do grep -v 'msg=request' "$T/$n.err" | head -n 20 | sed "s/^/# $n: /" >&2; done

done_testing
