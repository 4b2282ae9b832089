/* SPDX-License-Identifier: Apache-2.0 */
/*
 * writer.h - the log writer: the one thread that writes to the store.
 *
 * Other threads hand it intents. The writer swaps the whole pending queue
 * out under one lock, applies every intent in one write transaction (each
 * in its own nested transaction, so a failed intent leaves no trace;
 * see intent.flat for the cheaper way of the hot paths),
 * commits once (one fsync for the whole batch: group commit), and hands
 * the batch to its syncer thread, which makes the commit durable
 * (store_sync) and then calls each intent's done() with the outcome, in
 * batch order. Nothing is acknowledged that is not durable: when the
 * commit or the sync fails, every intent of the batch that had applied
 * cleanly gets that error instead.
 *
 * Queue ownership: any thread pushes (writer_submit); only the writer
 * thread pops. apply() runs on the writer thread; done() and the commit
 * hook run on the syncer thread, possibly while the writer applies the
 * next batch, so they must not share unlocked state with apply().
 */
#ifndef HOOKD_WRITER_H
#define HOOKD_WRITER_H

#include <stdint.h>
#include <stdio.h>

#include "entry.h"

struct store;
struct store_txn;
struct writer;

struct intent {
    /*
     * Perform the writes in txn (a nested transaction). Return 0 to keep
     * them, non-zero (a HOOKD_* code or any negative value) to roll them
     * back. Runs on the writer thread.
     */
    int (*apply)(struct intent *in, struct store_txn *txn);
    /*
     * Called once per intent once its batch is durable (syncer thread):
     * status is apply()'s result, or the commit's or sync's error when
     * those failed. May free the intent.
     */
    void (*done)(struct intent *in, int status);
    /*
     * Set by the submitter: apply() may run straight in the batch's
     * transaction, without a nested one of its own (a nested transaction
     * costs about a quarter of the writer's time on ingest). A batch made
     * only of flat intents runs that way; if one of them fails, the
     * writer rolls the whole batch back and runs it again with each
     * intent nested. So a flat apply() must give the same effect when it
     * runs a second time after a rollback: nothing it keeps outside the
     * transaction may be taken or counted twice.
     */
    int flat;
    /*
     * Set by the submitter when nobody waits for done() (a delivery's
     * outcome: its receiver has its answer, its slot is free). A batch
     * made only of lazy intents waits up to WRITER_LAZY_WAIT_US for more
     * to share its commit and flush; an intent that is not lazy, a full
     * batch or writer_stop() ends the wait at once. Its done() still waits
     * for durability, but a batch of only lazy intents gets it from the
     * next commit's flush when the writer is lingering towards one,
     * rather than from a flush of the syncer's own.
     */
    int lazy;
    /*
     * The write as a log entry (entry.h), built by the submitter before
     * writer_submit() with everything apply() needs decided: apply() reads
     * only the store and what the entry carries (its time, and values
     * drawn from its seed, entry.head). Empty (len 0) only for node-local
     * writes that are not part of the log (the health probe). The writer
     * owns the buffer from writer_submit() on and frees it before done().
     */
    struct entry_w entry;
    struct intent *next;     /* writer's queue link */
};

/*
 * Measured (docs/performance.md): 5 ms cut the CPU per delivery by about
 * 12 % against none; once lazy batches no longer took a flush of the
 * syncer's own, 15 ms took about 3 % off 5 ms's.
 */
#define WRITER_LAZY_WAIT_US 15000
#define WRITER_LAZY_BATCH 256

/* Histogram bounds (inclusive); the last bucket of each is +Inf. */
#define WRITER_BATCH_BUCKETS 13
#define WRITER_COMMIT_BUCKETS 14
extern const uint64_t writer_batch_le[WRITER_BATCH_BUCKETS - 1];     /* intents */
extern const uint64_t writer_commit_le_us[WRITER_COMMIT_BUCKETS - 1]; /* microseconds */

/*
 * Since start. A batch's commit time runs from opening its transaction to
 * the commit returning: apply and the data flush, not the syncer's flush.
 */
struct writer_stats {
    uint64_t batches;
    uint64_t intents;
    uint64_t max_batch;
    uint64_t flat_reruns;     /* flat batches rolled back and run again nested */
    uint64_t flushes_saved;   /* syncer rounds made durable by a later commit's flush */
    uint64_t lazy_waits;      /* batches of lazy intents that waited for more */
    uint64_t lazy_cut;        /* ... and were cut short (urgent intent, full, stop) */
    uint64_t commit_us_total;
    uint64_t batch_hist[WRITER_BATCH_BUCKETS];    /* batches per size bucket (not cumulative) */
    uint64_t commit_hist[WRITER_COMMIT_BUCKETS];  /* batches per commit time bucket */
    /*
     * The syncer's own flushes (same bounds as commits): while one lasts,
     * no request is answered, so a slow disk shows here even when the
     * writer sits idle.
     */
    uint64_t sync_us_total;
    uint64_t sync_hist[WRITER_COMMIT_BUCKETS];
};

/*
 * Commit hook: once each batch that committed is durable, fn(ctx, keys,
 * n) runs on the syncer thread, before the batch's done() calls, with the
 * note keys (writer_touch) that intents of the batch left
 * (writer_touch). Set before writer_start().
 */
typedef void (*writer_commit_fn)(void *ctx, char *const *keys, size_t n);
void writer_on_commit(struct writer *w, writer_commit_fn fn, void *ctx);

/*
 * Writer thread only, from inside apply(): note that an endpoint's due
 * entries (WRITER_NOTE_DUE) or its record (WRITER_NOTE_SETTINGS) changed,
 * so the dispatcher looks at it again once the batch is durable. A note's
 * key is the kind's letter, then app_id|ep_id. Notes of a batch whose
 * commit fails are dropped.
 */
enum writer_note { WRITER_NOTE_DUE = 'd', WRITER_NOTE_SETTINGS = 's' };
void writer_touch(struct writer *w, const char *app_id, const char *ep_id,
                  enum writer_note kind);   /* w NULL: nothing (hookd reapply) */

/*
 * Journal: once each batch is durable, the entries of its intents that
 * applied go to f in apply order (entry_journal_put), so `hookd reapply`
 * can rebuild the store from them. Not fsynced: a drill's record, not
 * the log. Set before writer_start(); f stays the caller's.
 */
void writer_set_journal(struct writer *w, FILE *f);

/*
 * The replicated log (cluster mode, clog.h). Before a batch is applied,
 * fn(ctx, entries, n, &seq) gets the entries of its intents that carry
 * one, in apply order (node-local writes, whose entry is empty, are left
 * out), and returns 0 once the log holds them all, *seq the log's
 * sequence of the last one (0: nothing was published), or an error: then
 * nothing of the batch is applied and every intent of it is answered
 * with that error. A batch that applies records *seq in meta
 * WRITER_LOG_SEQ_KEY (u64 BE) in its own transaction, so the store says
 * which log entries it holds. fn runs on the writer thread, between
 * batches, and may write to the store itself (catching up with entries
 * the log holds and the store does not). Unset (the default, one node):
 * nothing of this runs. Set before writer_start().
 */
#define WRITER_LOG_SEQ_KEY "cluster.seq"
typedef int (*writer_log_fn)(void *ctx, const struct entry_w *const *entries, size_t n,
                             uint64_t *seq);
void writer_set_log(struct writer *w, writer_log_fn fn, void *ctx);

/* commit_delay_us > 0 waits that long for more intents before a commit. */
int writer_new(struct writer **out, struct store *s, int64_t commit_delay_us);
int writer_start(struct writer *w);
/* Queue an intent; HOOKD_ESTOPPED after writer_stop() began. Any thread. */
int writer_submit(struct writer *w, struct intent *in);
/* Apply everything queued, then stop and join the thread. */
void writer_stop(struct writer *w);
void writer_free(struct writer *w);
void writer_get_stats(struct writer *w, struct writer_stats *out);

#endif
