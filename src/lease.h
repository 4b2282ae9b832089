/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lease.h - a partition group's lease in KV bucket CLUSTER_BUCKET_LEASES
 * (cluster.h): which node owns the group (writes the log and dispatches),
 * held by one node at a time, taken over by a standby when its holder dies,
 * stops renewing, or releases it.
 *
 * The key's value is JSON {"node": ID, "epoch": N, "renewedAt": MS}.
 *   - Acquire: write only if the key is absent, expired, or its last entry
 *     is a delete marker (what kvStore_Create does: expect no message on
 *     the subject, or expect the marker's revision), every TTL/10 while
 *     not holding.
 *   - Renew: every TTL/10, write expecting our last revision (what
 *     kvStore_Update does). The bucket's max_age is the TTL (nats-server
 *     2.9 has no per-key TTL): each write keeps the key alive TTL longer.
 *   - Self-fence: when no renewal succeeded for 7/10 of the TTL, counted from when
 *     the last successful write was SENT (the server stamped it later, so
 *     it expires no sooner than TTL after that), the holder gives it up:
 *     on_lost. The key then expires at least 3/10 of the TTL after the holder
 *     stopped, before which no other node can acquire it.
 *   - Lost to another: a renewal answered "wrong last sequence" where the
 *     key now holds another node's value, or nothing (expired): on_lost.
 *   - Release (a clean stop): a delete marker written expecting our last
 *     revision, so a standby acquires at once instead of after the TTL,
 *     and a lease already lost is never deleted under its new holder.
 *     The marker carries {"node", "epoch", "releasedAt"} as its body so
 *     the next holder reads the epoch from it.
 * After a loss the module waits one TTL before it tries to acquire again,
 * so a fenced ex-owner does not take the lease straight back.
 *
 * The epoch grows by one on every acquisition: the acquirer writes one more
 * than the highest epoch it has seen: in the key's last entry (a value, or
 * a release marker's body) read just before the write, in every value read
 * on earlier failed tries (a standby waiting for an expiry saw the holder's
 * value before it expired), and lease_note_epoch()'s floor. A key that
 * expired before this node ever read it leaves nothing to read (nats-server
 * 2.9 keeps no marker for max_age removals): the caller passes the highest
 * epoch its copy of the log has seen with lease_note_epoch().
 *
 * Times: decisions use only revisions (compare-and-set) and this process's
 * monotonic clock; another node's renewedAt is never compared with ours
 * (it is for people reading the key).
 *
 * Threads: lease_start starts one thread ("lease") that does all the
 * writes and calls the callbacks; callbacks must be short (set a flag,
 * signal a thread). lease_state, lease_held and lease_note_epoch may be
 * called from any thread; lease_release, lease_stop and lease_free by the
 * owner of the struct only, once.
 */
#ifndef HOOKD_LEASE_H
#define HOOKD_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

#define LEASE_KEY_MAX 64

/* Why a held lease was lost. */
enum lease_loss {
    LEASE_LOST_TAKEN = 1,   /* another node's value is on the key */
    LEASE_LOST_EXPIRED,     /* the key expired or was deleted under us */
    LEASE_LOST_SILENT,      /* no renewal succeeded for 7/10 of the TTL: self-fenced */
};
const char *lease_loss_name(enum lease_loss why);   /* "taken", "expired", "renew-timeout" */

struct lease_cbs {
    /* Now the holder with this epoch: catch up, then start owning. */
    void (*on_acquired)(void *arg, uint64_t epoch);
    /* No longer the holder: stop publishing and dispatching AT ONCE. */
    void (*on_lost)(void *arg, enum lease_loss why);
    /*
     * Optional: asked before each acquire of a free key, with how long it
     * has been read free (ms): 0 leaves it to another node this time
     * (partition groups spread over nodes: cnode.c).
     */
    int (*may_acquire)(void *arg, int64_t free_ms);
    void *arg;
};

struct lease;

/*
 * Start trying to acquire key (like "group.0") for node_id. The bucket's
 * TTL is read from its max_age. 0, or -1 with one sentence in err (no
 * leases bucket, bad key). c is best a connection of its own: renewals
 * then never queue behind the log's large publishes, and a publish held
 * in the client's reconnect buffer past its deadline only ever extends a
 * lease this node already gave up (the others wait longer; never unsafe).
 */
int lease_start(struct lease **out, struct cluster *c, const char *node_id, const char *key,
                const struct lease_cbs *cbs, char *err, size_t errlen);

/* An epoch the caller knows was used (from its log): the next acquisition goes above it. */
void lease_note_epoch(struct lease *l, uint64_t epoch);

/*
 * Whether this node holds the lease right now, judged at the call from
 * the monotonic clock (the last successful renewal less than 7/10 of the TTL ago),
 * not from the lease thread having run: a process that was stopped for
 * seconds sees 0 before its lease thread wakes. *epoch when held.
 */
int lease_held(struct lease *l, uint64_t *epoch);

/*
 * For status and metrics: the holder last seen (ours, or another node's
 * read on a failed acquire; "" when none), its epoch, and for our own
 * lease the ms since the last successful renewal was sent (-1 when not
 * ours). holder has room for LEASE_KEY_MAX bytes.
 */
void lease_state(struct lease *l, char *holder, uint64_t *epoch, int64_t *ms_since_renew);

/* The TTL in ms (the bucket's max_age). */
int64_t lease_ttl_ms(struct lease *l);

/*
 * A clean stop: stop the thread and, if we hold the lease, delete the key
 * (compare-and-set on our revision). 1 released, 0 not held, -1 the
 * delete failed (it expires after the TTL instead).
 */
int lease_release(struct lease *l);

/*
 * A handoff while running (the caller fenced itself first): delete the
 * key if held, as lease_release does, but keep the thread, which tries to
 * acquire again only a TTL later. 1 released, 0 not held, -1 the delete
 * failed. Not from a callback.
 */
int lease_yield(struct lease *l);

/* Stop the thread without releasing (the key expires after the TTL). */
void lease_stop(struct lease *l);
void lease_free(struct lease *l);

#endif
