/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clog.h - the owner's side of one partition group's replicated log
 * (cluster mode, CLUSTER.md): every entry of the group on its subject of
 * its stream (cluster_group_names: group 0's are hookd.log.0 of
 * hookd_log_0).
 *
 * The writer hands clog_publish() each batch's entries before it applies
 * them (writer_set_log). The batch goes to the stream as one message (a
 * few when it is larger than the stream's max_msg_size, max-body + 64 KiB,
 * or the servers' max_payload, whichever is smaller): each entry as
 * its length (u32 BE), its CRC-32 (u32 BE) and its bytes, the journal's
 * framing (entry.h). Each message carries Nats-Msg-Id, the hex of its
 * first entry's seed (JetStream drops a copy within its window), and
 * Nats-Expected-Last-Subject-Sequence, the log's last sequence as this
 * owner knows it: JetStream refuses a message whose expectation is wrong,
 * so a second writer (a stale owner) cannot append after another has: the
 * stream itself fences the log. A third header, Hookd-Node, names the
 * owner, so that a standby can tell clients whom to ask. clog_publish
 * returns once the log acknowledged the batch (a majority of the NATS
 * servers hold it), and the writer then applies it and records the
 * sequence of its last message in meta "cluster.seq" (writer.h): that is
 * the unit a standby counts too.
 *
 * A batch that is not acknowledged within the timeout (no quorum, a lost
 * leader, a wrong expected sequence) fails with HOOKD_EUNAVAIL and
 * nothing of it is applied; but it, or part of it, may be in the log. So
 * the next batch first catches up: it reads what the log holds beyond
 * the store's cluster.seq and applies it as a standby would, then
 * publishes after the log's real last sequence. The same catch-up runs
 * before the first batch after a start, and after clog_resync() (a node
 * that followed the log as a standby and now owns it). With a lease
 * (clog_set_lease), every batch first asks lease_held(), the local
 * check of the monotonic clock: a node whose lease ran out publishes
 * nothing, before its lease thread even noticed. Requests of a failed batch were
 * answered 503: a client's retry with the same idempotency key is safe;
 * without one, an entry that did reach the log is applied and the retry
 * stores a second message.
 *
 * Threads: clog_publish() runs on the writer thread only; the acks
 * arrive on nats.c's threads and meet it under a lock. clog_get_stats()
 * from any thread.
 */
#ifndef HOOKD_CLOG_H
#define HOOKD_CLOG_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "cluster.h"
#include "entry.h"

struct cluster;
struct lease;
struct reapply_env;
struct store;

#define CLOG_HDR_NODE "Hookd-Node"
#define CLOG_HDR_EPOCH "Hookd-Epoch"   /* the owner's epoch (cmeta.h); absent: a static owner */
#define CLOG_TIMEOUT_MS 3000   /* a batch not acknowledged by then fails (503) */

struct clog_opts {
    struct cluster *cluster;        /* borrowed: the node's NATS connection */
    struct cluster_group group;     /* the group's stream and subject */
    struct store *store;            /* borrowed */
    const struct reapply_env *env;  /* borrowed: how catching up applies entries */
    const char *node_id;            /* copied */
    int64_t timeout_ms;             /* 0: CLOG_TIMEOUT_MS */
};

struct clog_stats {
    uint64_t batches;          /* published and acknowledged */
    uint64_t messages;         /* stream messages they took */
    uint64_t entries;
    uint64_t failures;         /* batches that failed (answered 503) */
    uint64_t caught_up;        /* stream messages applied from the log by catching up */
    uint64_t publish_us_total; /* first publish to last ack, acknowledged batches */
    uint64_t publish_us_max;
};

struct clog;

/* 0, or -1 with one sentence in err (no JetStream context). */
int clog_new(struct clog **out, const struct clog_opts *o, char *err, size_t errlen);
void clog_free(struct clog *c);

/*
 * A writer_log_fn (writer.h); ctx is the clog. 0 and *seq the sequence of
 * the last entry, or HOOKD_EUNAVAIL (logged), or a store error from
 * catching up.
 */
int clog_publish(void *ctx, const struct entry_w *const *entries, size_t n, uint64_t *seq);

void clog_get_stats(struct clog *c, struct clog_stats *out);

/*
 * The store may lag the log (it followed it as a standby until now): the
 * next batch catches up first. Any thread.
 */
void clog_resync(struct clog *c);

/*
 * The owner's epoch, from its marker (cnode.c; 0: none, a static owner):
 * each message carries it in CLOG_HDR_EPOCH, and a batch after catching
 * up with a newer owner's marker is refused (HOOKD_EUNAVAIL) rather than
 * published after it. Any thread.
 */
void clog_set_epoch(struct clog *c, uint64_t epoch);

/*
 * Publish only while lease_held(l) (borrowed; a static owner has none).
 * Any thread, before the lease can make this node the owner.
 */
void clog_set_lease(struct clog *c, struct lease *l);

/*
 * The next entry of a batch message (msg, len) at *off: 1 (entry, n set,
 * *off moved), 0 at its end, HOOKD_ECORRUPT when the framing or a CRC is
 * wrong. Pure.
 */
int clog_next_entry(const void *msg, size_t len, size_t *off, const void **entry, size_t *n);

/*
 * Apply every entry of the batch message at stream sequence seq, stamped
 * with epoch (clog_msg_epoch), each in a nested transaction of t
 * (cfollow_apply): 0, or the store's error that must stop the caller's
 * transaction. A damaged message is logged and skipped: every node reads
 * the same bytes; so is a message of an epoch older than the store's
 * (cmeta_message_stale). The caller's thread owns t.
 */
struct store_txn;
int clog_apply_message(const struct reapply_env *env, struct store_txn *t, const void *msg,
                       size_t len, uint64_t seq, uint64_t epoch);

/* A log message's CLOG_HDR_EPOCH, 0 when it has none. */
uint64_t clog_msg_epoch(natsMsg *m);

/*
 * The one sentence for a store that cannot follow the log: it applied
 * entries up to have, and the log now starts after have + 1.
 */
void clog_gap_sentence(uint64_t have, uint64_t first, char *out, size_t cap);

#endif
