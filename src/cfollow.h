/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfollow.h - a standby applies the owner's log (cluster mode, CLUSTER.md
 * step 2; the owner's side is clog.h).
 *
 * One thread reads the stream from the store's meta "cluster.seq" + 1
 * with an ordered consumer (ephemeral, ack-less: the server keeps no
 * cursor and no pending messages for it; the cursor is cluster.seq, in
 * the store) and hands what has arrived, up to CFOLLOW_BATCH stream
 * messages (each one owner's batch of entries, clog.h), to the writer as
 * one intent. Its apply runs each entry with reapply_entry in a nested
 * transaction and records the last message's sequence in cluster.seq in
 * the same transaction, so each entry is applied once however the thread
 * or the process stops. An entry whose apply fails
 * failed the same way on the owner (apply decides nothing: entry.h) and
 * is skipped; a store that is full or failing stops the batch, which is
 * tried again.
 *
 * A standby never dispatches (serve holds its deliveries) and refuses
 * writes (api.c answers 503 not_owner): the log is its only writer.
 *
 * Threads: cfollow_start() starts the follower thread, cfollow_stop()
 * joins it (before writer_stop: it waits for its batches' commits); a
 * stopped follower may be started again (a node of --cluster-role auto
 * follows whenever it does not own the log).
 * cfollow_owner() from any thread.
 */
#ifndef HOOKD_CFOLLOW_H
#define HOOKD_CFOLLOW_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

struct cluster;
struct reapply_env;
struct store;
struct store_txn;
struct writer;

#define CFOLLOW_BATCH 1024

struct cfollow_opts {
    struct cluster *cluster;        /* borrowed */
    struct cluster_group group;     /* the group's stream and subject */
    struct store *store;            /* borrowed */
    struct writer *writer;          /* borrowed: every apply goes through it */
    const struct reapply_env *env;  /* borrowed: reapply_entry's environment */
};

struct cfollow;

void cfollow_new(struct cfollow **out, const struct cfollow_opts *o);
int cfollow_start(struct cfollow *f);
void cfollow_stop(struct cfollow *f);
void cfollow_free(struct cfollow *f);

/*
 * 1 when this store cannot follow the log, why in why (cap bytes): the
 * log no longer holds the entries after the store's cluster.seq (trimmed
 * by its retention), or it starts from an imported store that this one
 * is not. The follower then applies nothing (it looks again every
 * second, and says so once): the node must be started again on a hot
 * backup of a running node's store. Any thread.
 */
int cfollow_refused(struct cfollow *f, char *why, size_t cap);

/* The owner's node id as its last entry named it ("" before any). */
void cfollow_owner(struct cfollow *f, char *out, size_t cap);

/*
 * Apply one log entry (stream sequence seq) in a nested transaction of t:
 * 0 when it applied or failed as it did on the owner (skipped, logged at
 * debug), or the store's error (HOOKD_EFULL, HOOKD_ESTORE, an errno)
 * that must stop the caller's transaction. The owner's catch-up uses it
 * too (clog.c). The caller's thread owns t.
 */
int cfollow_apply(const struct reapply_env *env, struct store_txn *t, const void *p, size_t n,
                  uint64_t seq);

#endif
