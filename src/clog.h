/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clog.h - the owner's side of the replicated log (cluster mode, CLUSTER.md
 * step 2: one partition group, every entry on subject CLOG_SUBJECT of
 * stream CLOG_STREAM).
 *
 * The writer hands clog_publish() each batch's entries before it applies
 * them (writer_set_log). Each entry is published asynchronously with two
 * headers: Nats-Msg-Id, the hex of the entry's seed (JetStream drops a
 * duplicate within its window), and Nats-Expected-Last-Subject-Sequence,
 * the sequence the entry before it got. JetStream refuses an entry whose
 * expectation is wrong, so a second writer (a stale owner) cannot append
 * after another has: the stream itself fences the log. A third header,
 * Hookd-Node, names the owner, so that a standby can tell clients whom to
 * ask. clog_publish returns once every entry is acknowledged (a majority
 * of the NATS servers hold it), and the writer then applies the batch and
 * records the last entry's sequence in meta "cluster.seq" (writer.h).
 *
 * A batch that is not acknowledged whole within the timeout (no quorum, a
 * lost leader, a wrong expected sequence) fails with HOOKD_EUNAVAIL and
 * nothing of it is applied; but some of its entries may be in the log.
 * So the next batch first catches up: it reads what the log holds beyond
 * the store's cluster.seq and applies it as a standby would (cfollow.h),
 * then publishes after the log's real last sequence. The same catch-up
 * runs before the first batch after a start. Requests of a failed batch
 * were answered 503: a client's retry with the same idempotency key is
 * safe; without one, an entry that did reach the log is applied and the
 * retry stores a second message.
 *
 * Step 2 keeps the stream's other subjects empty, so the entries of a
 * batch get consecutive sequences and each one's expectation is known
 * before the acks come back. Step 3 (many partitions per stream) must
 * change that.
 *
 * Threads: clog_publish() runs on the writer thread only; the acks
 * arrive on nats.c's threads and meet it under a lock. clog_get_stats()
 * from any thread.
 */
#ifndef HOOKD_CLOG_H
#define HOOKD_CLOG_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"

struct cluster;
struct reapply_env;
struct store;

#define CLOG_STREAM "hookd_log_0"
#define CLOG_SUBJECT "hookd.log.0"
#define CLOG_HDR_NODE "Hookd-Node"
#define CLOG_TIMEOUT_MS 5000   /* a batch not acknowledged by then fails */

struct clog_opts {
    struct cluster *cluster;        /* borrowed: the node's NATS connection */
    struct store *store;            /* borrowed */
    const struct reapply_env *env;  /* borrowed: how catching up applies entries */
    const char *node_id;            /* copied */
    int64_t timeout_ms;             /* 0: CLOG_TIMEOUT_MS */
};

struct clog_stats {
    uint64_t batches;          /* published and acknowledged */
    uint64_t entries;
    uint64_t failures;         /* batches that failed (answered 503) */
    uint64_t caught_up;        /* entries applied from the log by catching up */
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

#endif
