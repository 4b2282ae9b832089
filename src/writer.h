/*
 * writer.h - the log writer: the one thread that writes to the store.
 *
 * Other threads hand it intents. The writer swaps the whole pending queue
 * out under one lock, applies every intent in one write transaction (each
 * in its own nested transaction, so a failed intent leaves no trace),
 * commits once (one fsync for the whole batch: group commit), then calls
 * each intent's done() with the outcome. Nothing is acknowledged that was
 * not written: when the commit fails, every intent of the batch that had
 * applied cleanly gets the commit's error instead.
 *
 * Queue ownership: any thread pushes (writer_submit); only the writer
 * thread pops. apply() and done() run on the writer thread.
 */
#ifndef HOOKD_WRITER_H
#define HOOKD_WRITER_H

#include <stdint.h>

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
     * Called once per intent after the batch: status is apply()'s result,
     * or the commit's error when the commit failed. May free the intent.
     */
    void (*done)(struct intent *in, int status);
    struct intent *next;     /* writer's queue link */
};

struct writer_stats {
    uint64_t batches;
    uint64_t intents;
    uint64_t max_batch;
    uint64_t commit_us_total;
};

/*
 * Commit hook: after each batch that committed, fn(ctx, keys, n) runs on
 * the writer thread with the endpoint keys (app_id|ep_id) that intents of
 * the batch touched (writer_touch). Set before writer_start().
 */
typedef void (*writer_commit_fn)(void *ctx, char *const *keys, size_t n);
void writer_on_commit(struct writer *w, writer_commit_fn fn, void *ctx);

/*
 * Writer thread only, from inside apply(): note that an endpoint's due
 * entries or settings changed, so the dispatcher looks at it again once
 * the batch is durable. Notes of a batch whose commit fails are dropped.
 */
void writer_touch(struct writer *w, const char *app_id, const char *ep_id);

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
