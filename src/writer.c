/* SPDX-License-Identifier: Apache-2.0 */
/*
 * writer.c - group commit.
 *
 * One fsync costs as much as thousands of puts, so throughput comes from
 * making each commit carry every intent that arrived while the previous
 * commit was flushing. Producers never wait here: they push and return
 * (HTTP requests suspend their connection until done() resumes it), so
 * the batch size is bounded by the arrival rate, not by thread counts.
 *
 * A commit needs two flushes: LMDB writes and syncs the data pages, then
 * writes the meta page that makes them the current state, and syncing
 * that page is a second wait. The writer thread does the first and goes
 * on to the next batch; the syncer thread makes the meta page durable
 * (one flush for every batch committed since its last one) and only then
 * hands the batch's notes to the dispatcher and calls each done(). So the
 * writer waits for neither the second flush nor the callbacks, and
 * nothing is acknowledged before it is durable.
 *
 * The next commit's data flush also covers the meta page written before
 * it. Batches nobody waits for (lazy ones: delivery outcomes) use that:
 * while the writer is busy with a next batch, or lingers for more
 * outcomes (a commit follows within WRITER_LAZY_WAIT_US), the syncer waits
 * for that commit instead of flushing on its own, which halves the
 * delivery path's flushes. A batch with a request waiting is flushed at
 * once: the next commit's flush would come only after the next batch's
 * apply, late by that much (covered()).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "entry.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "thread.h"
#include "writer.h"

/* A committed batch on its way to the syncer. */
struct batch {
    struct intent *head;      /* arrival order */
    int *st;                  /* each intent's status */
    size_t n;
    int committed;
    int reran;                /* a flat run failed: applied again, nested */
    int lazy;                 /* every intent of it is lazy: nobody waits for done() */
    uint64_t need;            /* durable once writing commit need+1 is done, or a
                                 flush that began after commit need */
    char **notes;             /* writer_touch keys of a committed batch */
    size_t nnotes;
    struct batch *next;
};

struct writer {
    struct store *store;
    int64_t commit_delay_us;
    pthread_t thread, syncer;
    int started;

    pthread_mutex_t lock;     /* guards the queue (head to lingering), stopping, stats,
                                 busy, commits and flushed */
    pthread_cond_t wake;
    struct intent *head;      /* LIFO; reversed when taken */
    size_t queued;            /* intents in head */
    int urgent;               /* head holds an intent that is not lazy */
    int lingering;            /* the writer waits for more lazy intents */
    int stopping;
    struct writer_stats stats;
    int busy;                 /* the writer holds a batch it has not committed */
    uint64_t commits;         /* commits that wrote (and flushed) data */
    uint64_t flushed;         /* the syncer's last flush covers commits up to this */
    pthread_cond_t committed; /* busy went to 0 */

    pthread_mutex_t sync_lock;   /* guards the syncer's queue and sync_stop */
    pthread_cond_t sync_wake;
    struct batch *sync_head, *sync_tail;   /* FIFO: writer pushes, syncer pops */
    int sync_stop;

    FILE *journal;            /* syncer thread only once started (writer_set_journal) */
    int journal_failed;

    /* writer thread only */
    writer_log_fn log_fn;     /* cluster mode: publish each batch first */
    void *log_ctx;
    writer_commit_fn on_commit;
    void *on_commit_ctx;
    char **notes;
    size_t nnotes, capnotes;
};

int writer_new(struct writer **out, struct store *s, int64_t commit_delay_us)
{
    struct writer *w = xcalloc(1, sizeof(*w));
    w->store = s;
    w->commit_delay_us = commit_delay_us;
    pthread_condattr_t mono;   /* linger() waits on the monotonic clock */
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, &mono);
    pthread_condattr_destroy(&mono);
    pthread_cond_init(&w->committed, NULL);
    pthread_mutex_init(&w->sync_lock, NULL);
    pthread_cond_init(&w->sync_wake, NULL);
    *out = w;
    return 0;
}

void writer_on_commit(struct writer *w, writer_commit_fn fn, void *ctx)
{
    w->on_commit = fn;
    w->on_commit_ctx = ctx;
}

void writer_set_journal(struct writer *w, FILE *f)
{
    w->journal = f;
}

void writer_set_log(struct writer *w, writer_log_fn fn, void *ctx)
{
    w->log_fn = fn;
    w->log_ctx = ctx;
}

void writer_touch(struct writer *w, const char *app_id, const char *ep_id,
                  enum writer_note kind)
{
    if (!w)   /* hookd reapply: no dispatcher to tell */
        return;
    char key[96] = { (char)kind };
    str_copy(key + 1, sizeof(key) - 1, app_id, ep_id);
    /* a batch usually touches few endpoints many times: dedup the recent ones */
    size_t from = w->nnotes > 16 ? w->nnotes - 16 : 0;
    for (size_t i = from; i < w->nnotes; i++)
        if (strcmp(w->notes[i], key) == 0)
            return;
    if (w->nnotes == w->capnotes) {
        w->capnotes = w->capnotes ? 2 * w->capnotes : 64;
        w->notes = xrealloc(w->notes, w->capnotes * sizeof(char *));
    }
    w->notes[w->nnotes++] = xstrdup(key);
}

static void free_notes(char **notes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(notes[i]);
    free(notes);
}

/*
 * Drop the notes left since the first `keep` (a flat run rolled back):
 * those before it came from writes already committed (the log's
 * catch-up, clog.h) and still need telling.
 */
static void drop_notes_from(struct writer *w, size_t keep)
{
    for (size_t i = keep; i < w->nnotes; i++)
        free(w->notes[i]);
    w->nnotes = keep;
}

/* The batch takes the notes when it committed; otherwise they are dropped. */
static void flush_notes(struct writer *w, int committed, struct batch *b)
{
    if (committed && b) {
        b->notes = w->notes;
        b->nnotes = w->nnotes;
    } else {
        free_notes(w->notes, w->nnotes);
    }
    w->notes = NULL;
    w->nnotes = w->capnotes = 0;
}

int writer_submit(struct writer *w, struct intent *in)
{
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        entry_free(&in->entry);   /* the writer's from here on */
        return HOOKD_ESTOPPED;
    }
    int was_empty = w->head == NULL;
    in->next = w->head;
    w->head = in;
    w->queued++;
    w->urgent |= !in->lazy;
    int wake = was_empty || (w->lingering && (!in->lazy || w->queued >= WRITER_LAZY_BATCH));
    pthread_mutex_unlock(&w->lock);
    if (wake)
        pthread_cond_signal(&w->wake);
    return 0;
}

static struct intent *reverse(struct intent *l)
{
    struct intent *r = NULL;
    while (l) {
        struct intent *n = l->next;
        l->next = r;
        r = l;
        l = n;
    }
    return r;
}

/* The queue holds only lazy intents, short of a full batch, and no stop. */
static int lazy_only(const struct writer *w)
{
    return !w->urgent && !w->stopping && w->queued < WRITER_LAZY_BATCH;
}

/*
 * Lock held: when the queue holds only lazy intents, wait a little for more.
 * Outcomes arrive one transfer at a time, and much of a commit's cost is
 * per commit, not per outcome: the copied root-to-leaf path of each table
 * it touches, the flushes, the hand-offs to the syncer and dispatcher.
 * On the delivery benchmark (13-16k outcomes/s) the wait cuts the CPU
 * per delivery by about 15 % (writer.h). Nobody waits for a lazy intent: the
 * receiver has its answer and the endpoint its slot back, so the wait
 * delays only when the attempt shows in the API.
 */
static void linger(struct writer *w)
{
    if (!w->head || !lazy_only(w))
        return;
    struct timespec until;
    clock_deadline_us(CLOCK_MONOTONIC, WRITER_LAZY_WAIT_US, &until);
    int rc = 0;
    w->lingering = 1;
    while (lazy_only(w) && rc == 0)
        rc = pthread_cond_timedwait(&w->wake, &w->lock, &until);
    w->lingering = 0;
    w->stats.lazy_waits++;
    w->stats.lazy_cut += rc == 0;
}

/* Wait for work; returns the batch in arrival order, NULL when stopped. */
static struct intent *take_batch(struct writer *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stopping)
        pthread_cond_wait(&w->wake, &w->lock);
    linger(w);
    struct intent *batch = w->head;
    w->head = NULL;
    w->queued = 0;
    w->urgent = 0;
    w->busy = batch != NULL;
    pthread_mutex_unlock(&w->lock);
    if (batch && w->commit_delay_us > 0) {
        /* tv_nsec must stay below 1 s: at 1,000,000 us it would not sleep at all */
        struct timespec ts = { (time_t)(w->commit_delay_us / 1000000),
                               (long)(w->commit_delay_us % 1000000) * 1000 };
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&w->lock);
        struct intent *more = w->head;
        w->head = NULL;
        w->queued = 0;
        w->urgent = 0;
        pthread_mutex_unlock(&w->lock);
        if (more) {  /* more is newer: it goes in front of the LIFO list */
            struct intent *tail = more;
            while (tail->next)
                tail = tail->next;
            tail->next = batch;
            batch = more;
        }
    }
    return reverse(batch);
}

static int apply_one(struct store_txn *txn, struct intent *in)
{
    struct store_txn *nested;
    int rc = store_nested(txn, &nested);
    if (rc)
        return rc;
    in->entry.head.drawn = 0;
    rc = in->apply(in, nested);
    if (rc) {
        store_abort(nested);
        return rc;
    }
    return store_commit(nested);
}

/* A batch that was not made durable: every intent of it is answered with rc. */
static void log_batch_failure(const char *what, int rc, size_t n)
{
    char count[24];
    snprintf(count, sizeof(count), "%zu", n);
    log_error(what, "error", hookd_strerror(rc), "intents", count,
              "detail", "nothing of the batch is acknowledged", NULL);
}

/* Each intent in its own nested transaction: a failure leaves no trace. */
static void apply_nested(struct store_txn *txn, struct batch *b)
{
    size_t i = 0;
    for (struct intent *in = b->head; in; in = in->next, i++)
        b->st[i] = apply_one(txn, in);
}

/* Every intent straight in txn; 0 when all applied, else the first failure. */
static int apply_flat(struct store_txn *txn, struct batch *b)
{
    size_t i = 0;
    for (struct intent *in = b->head; in; in = in->next, i++) {
        in->entry.head.drawn = 0;   /* a rerun after a rollback draws the same values */
        if ((b->st[i] = in->apply(in, txn)) != 0)
            return b->st[i];
    }
    return 0;
}

static int all_flat(const struct batch *b)
{
    for (const struct intent *in = b->head; in; in = in->next)
        if (!in->flat)
            return 0;
    return 1;
}

/*
 * Apply a batch in one transaction; each intent's status lands in b->st.
 * A flat batch whose apply failed somewhere has partial writes in its
 * transaction: it is dropped, with its notes, and the batch runs nested.
 */
static void run_batch(struct writer *w, struct batch *b, uint64_t log_seq)
{
    struct store_txn *txn;
    size_t keep = w->nnotes;
    int rc = store_write(w->store, &txn);
    if (rc == 0 && all_flat(b) && apply_flat(txn, b) != 0) {
        store_abort(txn);
        drop_notes_from(w, keep);
        b->reran = 1;
        rc = store_write(w->store, &txn);
        if (rc == 0)
            apply_nested(txn, b);
    } else if (rc == 0 && !all_flat(b)) {
        apply_nested(txn, b);
    }
    if (rc == 0 && log_seq && (rc = store_meta_put_u64(txn, WRITER_LOG_SEQ_KEY, log_seq)))
        store_abort(txn);
    if (rc == 0)
        rc = store_commit(txn);
    else
        for (size_t i = 0; i < b->n; i++)
            b->st[i] = rc;
    b->committed = rc == 0;
    if (rc)
        log_batch_failure(rc == HOOKD_EFULL ? "store full" : "commit failed", rc, b->n);
    flush_notes(w, b->committed, b);
    for (size_t i = 0; rc && i < b->n; i++)
        if (b->st[i] == 0)
            b->st[i] = rc;
}

static void sync_push(struct writer *w, struct batch *b)
{
    pthread_mutex_lock(&w->sync_lock);
    if (w->sync_tail)
        w->sync_tail->next = b;
    else
        w->sync_head = b;
    w->sync_tail = b;
    pthread_mutex_unlock(&w->sync_lock);
    pthread_cond_signal(&w->sync_wake);
}

const uint64_t writer_batch_le[WRITER_BATCH_BUCKETS - 1] = { 1, 2, 4, 8, 16, 32, 64, 128,
                                                              256, 512, 1024, 4096 };
const uint64_t writer_commit_le_us[WRITER_COMMIT_BUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000
};

/* The histogram bucket of v: the first bound >= v, else the last (+Inf). */
static size_t bucket_of(const uint64_t *le, size_t nbuckets, uint64_t v)
{
    size_t i = 0;
    while (i < nbuckets - 1 && v > le[i])
        i++;
    return i;
}

/*
 * Cluster mode: the batch's entries go to the replicated log before it
 * applies. 0 and *seq, or the log's error, which every intent gets.
 */
static int log_batch(struct writer *w, struct batch *b, uint64_t *seq)
{
    const struct entry_w **v = xmalloc(b->n * sizeof(*v));
    size_t n = 0;
    for (struct intent *in = b->head; in; in = in->next)
        if (in->entry.len)
            v[n++] = &in->entry;
    *seq = 0;
    int rc = n ? w->log_fn(w->log_ctx, v, n, seq) : 0;
    free(v);
    if (rc) {
        for (size_t i = 0; i < b->n; i++)
            b->st[i] = rc;
        log_batch_failure("log publish failed", rc, b->n);
    }
    return rc;
}

static void process(struct writer *w, struct intent *head)
{
    struct batch *b = xcalloc(1, sizeof(*b));
    b->head = head;
    b->lazy = 1;
    for (struct intent *in = head; in; in = in->next) {
        b->n++;
        b->lazy &= in->lazy != 0;
    }
    b->st = xmalloc(b->n * sizeof(int));
    int64_t t0 = clock_mono_us();
    uint64_t txn0 = store_last_txnid(w->store), log_seq = 0;
    if (!w->log_fn || log_batch(w, b, &log_seq) == 0)
        run_batch(w, b, log_seq);
    int wrote = b->committed && store_last_txnid(w->store) != txn0;
    int64_t took = clock_mono_us() - t0;

    pthread_mutex_lock(&w->lock);
    w->commits += (uint64_t)wrote;
    b->need = w->commits;
    w->busy = 0;
    pthread_cond_broadcast(&w->committed);
    w->stats.batches++;
    w->stats.intents += b->n;
    w->stats.flat_reruns += (uint64_t)b->reran;
    if (b->n > w->stats.max_batch)
        w->stats.max_batch = b->n;
    w->stats.commit_us_total += (uint64_t)took;
    w->stats.batch_hist[bucket_of(writer_batch_le, WRITER_BATCH_BUCKETS, b->n)]++;
    w->stats.commit_hist[bucket_of(writer_commit_le_us, WRITER_COMMIT_BUCKETS,
                                   (uint64_t)took)]++;
    pthread_mutex_unlock(&w->lock);
    sync_push(w, b);
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct intent *batch;
    while ((batch = take_batch(w)))
        process(w, batch);
    return NULL;
}

/*
 * The entries of a durable batch that applied, in apply order, to the
 * journal. A journal that cannot be written is given up (once, logged):
 * it is a drill's record, and the store stays the truth.
 */
static void journal_batch(struct writer *w, const struct batch *b)
{
    size_t i = 0;
    for (const struct intent *in = b->head; in && !w->journal_failed; in = in->next, i++)
        if (b->st[i] == 0 && in->entry.len && entry_journal_put(w->journal, in->entry.p,
                                                                 in->entry.len))
            w->journal_failed = 1;
    if (!w->journal_failed && fflush(w->journal))
        w->journal_failed = 1;
    if (w->journal_failed)
        log_error("entry journal cannot be written; no more entries go to it", NULL);
}

/* Notes to the dispatcher, then every intent's answer; frees the batch. */
static void finish(struct writer *w, struct batch *b, int sync_rc)
{
    if (b->committed && !sync_rc && w->on_commit && b->nnotes)
        w->on_commit(w->on_commit_ctx, b->notes, b->nnotes);
    if (b->committed && !sync_rc && w->journal && !w->journal_failed)
        journal_batch(w, b);
    free_notes(b->notes, b->nnotes);
    size_t i = 0;
    for (struct intent *in = b->head, *next; in; in = next, i++) {
        next = in->next;  /* done() may free in */
        entry_free(&in->entry);
        in->done(in, b->committed && sync_rc && b->st[i] == 0 ? sync_rc : b->st[i]);
    }
    free(b->st);
    free(b);
}

/* Wait for committed batches; NULL once stopped with none left. */
static struct batch *sync_take(struct writer *w)
{
    pthread_mutex_lock(&w->sync_lock);
    while (!w->sync_head && !w->sync_stop)
        pthread_cond_wait(&w->sync_wake, &w->sync_lock);
    struct batch *list = w->sync_head;
    w->sync_head = w->sync_tail = NULL;
    pthread_mutex_unlock(&w->sync_lock);
    return list;
}

/*
 * 1 when the batches up to need are durable without a flush of our own:
 * a later commit or flush already made them so, or, for batches nobody
 * waits for (lazy), the commit under way or the one the writer is
 * lingering towards will; on the delivery path that leaves one flush per
 * batch instead of two. A batch with a request waiting for its answer is
 * flushed at once instead: the next commit's flush comes only after that
 * batch's apply, and waiting for it kept about 0.7 ms more on every
 * acknowledgement and left the CPUs idle meanwhile (docs/performance.md).
 */
static int covered(struct writer *w, uint64_t need, int lazy)
{
    pthread_mutex_lock(&w->lock);
    while (lazy && w->commits <= need && w->flushed < need && (w->busy || w->lingering))
        pthread_cond_wait(&w->committed, &w->lock);
    int yes = w->commits > need || w->flushed >= need;
    if (yes)
        w->stats.flushes_saved++;
    pthread_mutex_unlock(&w->lock);
    return yes;
}

/* Flush; on success every commit done before it began is durable. */
static int flush(struct writer *w)
{
    pthread_mutex_lock(&w->lock);
    uint64_t upto = w->commits;
    pthread_mutex_unlock(&w->lock);
    int64_t t0 = clock_mono_us();
    int rc = store_sync(w->store);
    uint64_t took = (uint64_t)(clock_mono_us() - t0);
    pthread_mutex_lock(&w->lock);
    if (rc == 0 && upto > w->flushed)
        w->flushed = upto;
    w->stats.sync_us_total += took;
    w->stats.sync_hist[bucket_of(writer_commit_le_us, WRITER_COMMIT_BUCKETS, took)]++;
    pthread_mutex_unlock(&w->lock);
    return rc;
}

/* One flush (or the next commit's) makes every batch taken durable. */
static void *syncer_main(void *arg)
{
    struct writer *w = arg;
    struct batch *list;
    while ((list = sync_take(w))) {
        int any = 0, lazy = 1, rc = 0;
        uint64_t need = 0;
        for (struct batch *b = list; b; b = b->next) {
            any |= b->committed;
            lazy &= b->lazy;
            need = b->need;   /* the last is the largest */
        }
        if (any && !covered(w, need, lazy) && (rc = flush(w))) {
            size_t n = 0;
            for (struct batch *b = list; b; b = b->next)
                n += b->n;
            log_batch_failure("sync failed", rc, n);
        }
        for (struct batch *b = list, *next; b; b = next) {
            next = b->next;
            finish(w, b, rc);
        }
    }
    return NULL;
}

int writer_start(struct writer *w)
{
    int rc = thread_start(&w->syncer, "hookd-syncer", syncer_main, w);
    if (rc)
        return rc;
    w->started = 1;
    rc = thread_start(&w->thread, "hookd-writer", writer_main, w);
    if (rc) {
        writer_stop(w);
        return rc;
    }
    w->started = 2;
    return 0;
}

/* The writer drains its queue first, then the syncer answers what is left. */
void writer_stop(struct writer *w)
{
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_mutex_unlock(&w->lock);
    pthread_cond_broadcast(&w->wake);
    if (w->started == 2)
        pthread_join(w->thread, NULL);
    pthread_mutex_lock(&w->sync_lock);
    w->sync_stop = 1;
    pthread_mutex_unlock(&w->sync_lock);
    pthread_cond_broadcast(&w->sync_wake);
    if (w->started)
        pthread_join(w->syncer, NULL);
    w->started = 0;
}

void writer_free(struct writer *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->committed);
    pthread_mutex_destroy(&w->sync_lock);
    pthread_cond_destroy(&w->sync_wake);
    flush_notes(w, 0, NULL);   /* notes of a batch that never committed */
    free(w);
}

void writer_get_stats(struct writer *w, struct writer_stats *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    pthread_mutex_unlock(&w->lock);
}
