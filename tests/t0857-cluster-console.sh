#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The console against a cluster's standby (three real nats-servers, two
# hookd nodes of --cluster-role auto; tests/cluster.sh), driven in tmux:
# the overview names the node it talks to and its role, and its cluster
# panel lists both nodes with their roles, the group each owns or
# follows, the applied sequence and lag, and that they answer. The owner
# stopped (SIGTERM): the standby takes the log over, and the same
# console, unchanged, shows it as the owner and the old owner as
# UNREACHABLE. The help explains the panel's words; hookd ctl status lists
# the nodes too.
#
# HOOKD_SCREENS_OUT=FILE keeps the 100x30 capture (docs/console-screens.txt).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"
. "$(dirname "$0")/tmux.sh"

cluster_up
TOKEN=hk_t0857adminTokenForBothNodes
export HOOKD_ADMIN_TOKEN=$TOKEN

node_start a
node_start b
wait_for 20 one_owner
ok $? "one of the two nodes owns the log"
if is_owner a; then OWNER=a STANDBY=b; else OWNER=b STANDBY=a; fi
on "$OWNER"
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
for i in 1 2 3; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"order.paid\",\"payload\":{\"i\":$i}}"
done
is "$STATUS" 202 "messages accepted by the owner"
wait_for 20 at_log_end "$STANDBY"
ok $? "the standby applied the log to its end"
LAST=$(log_last)

# ---- the console against the standby ----
tm new-session -d -s t -x 100 -y 30 "TERM=xterm-256color $HOOKD console --data $T/$STANDBY"
wait_screen 10 "hookd [0-9.]+ .*node $STANDBY, standby"
ok $? "the title names the node the console talks to and its role"
wait_screen 10 "Cluster: log at $LAST, owner $OWNER"
ok $? "the cluster panel: the log's last sequence and the owner"
like "$(cap)" "NODE +ROLE +GROUPS +APPLIED +LAG +STATE +HTTP" "the panel's column heads"
wait_screen 5 "^ +$STANDBY \(this\) +standby +0 +$LAST +0 +answers"
ok $? "the standby itself: standby of group.0, at the log's end, lag 0, answering"
eval "_u=\$URL_$OWNER"
wait_screen 5 "^ +$OWNER +owner +0 +$LAST +0 +answers +${_u#http://}"
ok $? "the owner: owns group.0, at the log's end, answering, with its HTTP address"
like "$(cap)" "Store and totals" "the rest of the overview is still there"
if [ -n "${HOOKD_SCREENS_OUT:-}" ]; then
    { printf '\n== 1 Overview of a cluster node (100x30) ==\n\n'; cap; } >> "$HOOKD_SCREENS_OUT"
fi
keys '?'
wait_screen 3 "UNREACHABLE: no"
ok $? "the help explains the cluster panel's words"
keys Escape

# ---- hookd ctl status against the standby lists the nodes too ----
OUT=$("$HOOKD" ctl --data "$T/$STANDBY" status 2>&1)
like "$OUT" "cluster: node $STANDBY, standby; owner $OWNER; log at $LAST" "ctl status: the node, its role, the owner"
like "$OUT" "$OWNER +owner +group\.0 +$LAST +0 +answers +${_u#http://}" "ctl status: the owner's row"
like "$OUT" "$STANDBY \(this\) +standby +group\.0 +$LAST +0 +answers" "ctl status: the standby's own row"

# ---- the owner stopped: the standby owns, the old owner unreachable ----
node_stop "$OWNER"
is "$NODE_RC" 0 "the owner stopped cleanly"
wait_screen 15 "node $STANDBY, owner"
ok $? "the console shows its node became the owner"
# the new owner's epoch marker (one entry) is past the old owner's last: lag 1, with its age
wait_screen 10 "^ +$OWNER +owner +0 +$LAST +1 \([0-9.]+ s\) +UNREACHABLE"
ok $? "and the old owner, silent, as UNREACHABLE with its last figures, one entry (the new marker) behind"
wait_screen 10 "^ +$STANDBY \(this\) +owner +0"
ok $? "its own row says owner of group.0"

keys q
node_stop "$STANDBY"
is "$NODE_RC" 0 "the remaining node stops cleanly"
done_testing
