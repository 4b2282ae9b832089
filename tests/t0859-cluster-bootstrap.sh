#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A store's way into a cluster's log (cboot.h), on three real nats-server
# processes (tests/cluster.sh):
#   - hookd cluster import: a single node's store (apps, endpoints,
#     messages delivered) becomes the first store of a new cluster: its
#     IMPORT entry is the log's first; a second import, or an import into
#     a log that is not empty, is refused; a node with an empty store
#     refuses to follow a log that starts from an import; the imported
#     store serves in the cluster and delivers new messages;
#   - a node bootstrapped from a hot backup (hookd backup) of the running
#     owner follows the log from the backup's place in it;
#   - hookd cluster bootstrap fetches a hot copy of a live node's store
#     over NATS (no file copied), and a node started on it follows;
#   - with the log's head purged (as its retention would trim it), a fresh
#     node refuses to follow with one clear sentence, and a node started
#     from a backup of the owner catches up. Every store compares equal;
#   - a node restarted after the log moved past its place refuses too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"

cluster_up
receiver_start
NODE_LOG_LEVEL=info

# refused NAME: a node on $T/NAME that must exit at once; sets REFUSED_RC, REFUSED_ERR.
refused() {
    timeout 20 "$HOOKD" serve --listen 127.0.0.1:0 --data "$T/$1" --log-level warn \
        --allow-network 127.0.0.0/8 --cluster "$NATS_URLS" --node-id "$1" \
        >"$T/$1.out" 2>"$T/$1.err"
    REFUSED_RC=$?
    REFUSED_ERR=$(cat "$T/$1.err")
}

# ---- a single node's store ----
HOOKD_DATA_DIR=$T/a hookd_start --allow-network 127.0.0.0/8
api POST /api/v1/app '{"name":"shop","uid":"shop"}'
is "$STATUS" 201 "single node: app created"
api POST /api/v1/app/shop/endpoint "{\"url\":\"$RURL/good/ok\",\"uid\":\"good\"}"
is "$STATUS" 201 "single node: endpoint created"
for i in 1 2 3; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"e\",\"payload\":{\"single\":$i}}"
done
is "$STATUS" 202 "single node: messages accepted"
OLDID=$(jqr .id)
wait_received '.path == "/good/ok"' 3 15
is "$(received '.path == "/good/ok"')" 3 "single node: delivered"
hookd_stop
HOOKD_DATA_DIR=$T/other hookd_start
api POST /api/v1/app '{"name":"other"}'
is "$STATUS" 201 "another single node: app created"
hookd_stop

# ---- import ----
TOKEN=hk_t0859adminTokenForEveryNode0   # every cluster node's
export HOOKD_ADMIN_TOKEN=$TOKEN
"$HOOKD" cluster import --cluster "$NATS_URLS" --data "$T/a" > "$T/import.out" 2>&1
RC=$?
is "$RC" 0 "hookd cluster import: exit 0"
like "$(cat "$T/import.out")" "imported '.*/a' into the cluster as log entry 1: [0-9]+ records \\(1 apps, 1 endpoints, 3 messages\\)" \
     "it says what it imported, as the log's first entry"
"$HOOKD" cluster import --cluster "$NATS_URLS" --data "$T/a" > "$T/import2.out" 2>&1
is "$?" 1 "importing the same store again: exit 1"
like "$(cat "$T/import2.out")" "already follows a cluster's log" "saying it already follows the log"
"$HOOKD" cluster import --cluster "$NATS_URLS" --data "$T/other" > "$T/import3.out" 2>&1
is "$?" 1 "importing another store into a log that is not empty: exit 1"
like "$(cat "$T/import3.out")" "the cluster's log is not empty \\(entries 1\\.\\.1\\): import needs a cluster whose log is empty" \
     "saying the log is not empty"
"$HOOKD" check --data "$T/a" > "$T/check-a.out" 2>&1
like "$(cat "$T/check-a.out")" "cluster: log applied up to entry 1, epoch 0 \\(owner none\\).*imported" \
     "hookd check: the imported store applied the log up to its import"
like "$("$HOOKD" cluster log --cluster "$NATS_URLS" | sed -n 2p)" '^1 cluster\.import node=import' \
     "hookd cluster log: entry 1 is the import"

refused empty
is "$(cond "$REFUSED_RC != 0")" 0 "a node with an empty store refuses to follow a log that starts from an import"
like "$REFUSED_ERR" "bootstrap from a hot backup of an imported store" "saying how to bootstrap it"
refused other
is "$(cond "$REFUSED_RC != 0")" 0 "a node whose store holds data of its own refuses to join"
like "$REFUSED_ERR" "holds data but never applied the cluster's log.*hookd cluster import" \
     "saying to import it instead"

# ---- the imported store serves in the cluster ----
node_start a
wait_for 20 is_owner a
ok $? "a node on the imported store owns the log"
on a
api GET "/api/v1/app/shop/msg/$OLDID"
is "$STATUS" 200 "it serves the imported messages"
api POST /api/v1/app/shop/msg '{"eventType":"e","payload":{"cluster":1}}'
is "$STATUS" 202 "and takes new ones"
NEWID=$(jqr .id)
wait_received ".id == \"$NEWID\"" 1 15
is "$(received ".id == \"$NEWID\"")" 1 "which it delivers"

# ---- a node from a hot backup of the running owner ----
"$HOOKD" backup --data "$T/a" "$T/b" > "$T/backup-b.out" 2>&1
is "$?" 0 "hookd backup of the running owner"
node_start b
wait_for 20 at_log_end b
ok $? "a node started on the backup follows the log to its end"
is "$(role_of b)" standby "as a standby"
on b
api GET "/api/v1/app/shop/msg/$NEWID"
is "$STATUS" 200 "it holds the message written in the cluster"
api GET "/api/v1/app/shop/msg/$OLDID"
is "$STATUS" 200 "and the imported ones"

# ---- the log's head purged: a fresh node refuses, a backup catches up ----
on a
for i in 1 2 3 4; do
    api POST /api/v1/app/shop/msg "{\"eventType\":\"e\",\"payload\":{\"more\":$i}}"
done
is "$STATUS" 202 "more messages"
wait_received '.path == "/good/ok"' 8 15
sleep 1
OUT=$("$HOOKD" cluster purge-log --cluster "$NATS_URLS" --keep 2 2>&1)
is "$?" 0 "the log's head purged, the last 2 entries kept ($OUT)"
FIRST=$(log_stream .state.first_seq)
is "$(cond "$FIRST > 2")" 0 "the log now starts at $FIRST"
refused fresh
is "$(cond "$REFUSED_RC != 0")" 0 "a fresh node refuses to follow a log whose head is gone"
like "$REFUSED_ERR" "applied the cluster's log up to entry 0 but the log now starts at $FIRST.*cannot follow.*hot backup" \
     "with one sentence that says why and how to bootstrap"
is "$(ls "$T/fresh" | grep -c listen)" 0 "and it never served"

"$HOOKD" backup --data "$T/a" "$T/d" > "$T/backup-d.out" 2>&1
is "$?" 0 "hookd backup of the running owner again"
node_start d
posted_reaches d purge "the node on the new backup of the trimmed log"
wait_for 20 at_log_end b
ok $? "the standby from the first backup kept following"
on d
api GET /hookd/v1/stats
is "$(jqr '"\(.cluster.epoch.owner) \(.cluster.refused)"')" "a null" \
   "its store names the owner's epoch marker, and it follows"

# ---- a node bootstrapped over NATS: no file copied ----
"$HOOKD" cluster bootstrap --cluster "$NATS_URLS" --data "$T/e" > "$T/boot-e.out" 2>&1
RC=$?
[ $RC = 0 ] || cat "$T/boot-e.out" >&2
is "$RC" 0 "hookd cluster bootstrap: a copy of a live node's store fetched over NATS"
like "$(cat "$T/boot-e.out")" "bootstrapped '.*/e' from node [abd]: [0-9]+ bytes, SHA-256 checked, at log entry [0-9]+ \\(epoch [0-9]+\\)" \
     "it says from which node, how much, and where in the log"
is "$(ls "$T/e" | grep -v -e '^data\.mdb$' -e '^lock\.mdb$')" "" \
   "the new data directory holds the store alone (no partial file, no admin token)"
"$HOOKD" cluster bootstrap --cluster "$NATS_URLS" --data "$T/e" > "$T/boot-e2.out" 2>&1
is "$?" 1 "bootstrap into a directory that holds a store: refused"
like "$(cat "$T/boot-e2.out")" "already holds a store" "saying so"
node_start e
posted_reaches e bootstrap "the bootstrapped node"

# ---- stopped (standbys first): every store equal ----
wait_received ".id == \"$LASTID\"" 1 15
sleep 1
wait_for 15 at_log_end b
wait_for 15 at_log_end d
wait_for 15 at_log_end e
node_stop b
node_stop d
node_stop e
node_stop a
is "$NODE_RC" 0 "the owner stops cleanly"
for n in b d e; do
    stores_equal a $n "hookd check --compare: the store of $n (from a backup) equals the owner's"
done

# ---- a node that was down while the log moved past its place ----
BSEQ=$("$HOOKD" check --data "$T/b" | sed -n 's/^cluster: log applied up to entry \([0-9]*\),.*/\1/p')
node_start a
wait_for 20 is_owner a
on a
api POST /api/v1/app/shop/msg '{"eventType":"e","payload":{"while":"b down"}}'
is "$STATUS" 202 "a message while b is down"
"$HOOKD" cluster purge-log --cluster "$NATS_URLS" --keep 1 > /dev/null 2>&1
FIRST=$(log_stream .state.first_seq)
refused b
is "$(cond "$REFUSED_RC != 0")" 0 "b, restarted after the log moved past its place, refuses to follow"
like "$REFUSED_ERR" "applied the cluster's log up to entry $BSEQ but the log now starts at $FIRST" \
     "naming where its store is and where the log starts"
node_stop a
[ "$_fail" = 0 ] || for n in a b d e; do grep -v 'msg=request' "$T/$n.err" | head -n 20 | sed "s/^/# $n: /" >&2; done

done_testing
