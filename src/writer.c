/*
 * writer.c - group commit.
 *
 * One fsync costs as much as thousands of puts, so throughput comes from
 * making each commit carry every intent that arrived while the previous
 * commit was flushing. Producers never wait here: they push and return
 * (HTTP requests suspend their connection until done() resumes it), so
 * the batch size is bounded by the arrival rate, not by thread counts.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "mem.h"
#include "store.h"
#include "writer.h"

struct writer {
    struct store *store;
    int64_t commit_delay_us;
    pthread_t thread;
    int started;

    pthread_mutex_t lock;     /* guards head, stopping and stats */
    pthread_cond_t wake;
    struct intent *head;      /* LIFO; reversed when taken */
    int stopping;
    struct writer_stats stats;

    /* writer thread only */
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
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    *out = w;
    return 0;
}

void writer_on_commit(struct writer *w, writer_commit_fn fn, void *ctx)
{
    w->on_commit = fn;
    w->on_commit_ctx = ctx;
}

void writer_touch(struct writer *w, const char *app_id, const char *ep_id)
{
    char key[96];
    snprintf(key, sizeof(key), "%s%s", app_id, ep_id);
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

static void flush_notes(struct writer *w, int committed)
{
    if (committed && w->on_commit && w->nnotes)
        w->on_commit(w->on_commit_ctx, w->notes, w->nnotes);
    for (size_t i = 0; i < w->nnotes; i++)
        free(w->notes[i]);
    w->nnotes = 0;
}

int writer_submit(struct writer *w, struct intent *in)
{
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        return HOOKD_ESTOPPED;
    }
    int was_empty = w->head == NULL;
    in->next = w->head;
    w->head = in;
    pthread_mutex_unlock(&w->lock);
    if (was_empty)
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

/* Wait for work; returns the batch in arrival order, NULL when stopped. */
static struct intent *take_batch(struct writer *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stopping)
        pthread_cond_wait(&w->wake, &w->lock);
    struct intent *batch = w->head;
    w->head = NULL;
    pthread_mutex_unlock(&w->lock);
    if (batch && w->commit_delay_us > 0) {
        struct timespec ts = { 0, (long)w->commit_delay_us * 1000 };
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&w->lock);
        struct intent *more = w->head;
        w->head = NULL;
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
    rc = in->apply(in, nested);
    if (rc) {
        store_abort(nested);
        return rc;
    }
    return store_commit(nested);
}

/* Apply a batch in one transaction; each intent's status lands in *st. */
static void run_batch(struct writer *w, struct intent *batch, int *st, size_t n)
{
    struct store_txn *txn;
    int rc = store_write(w->store, &txn);
    size_t i = 0;
    for (struct intent *in = batch; in; in = in->next, i++)
        st[i] = rc ? rc : apply_one(txn, in);
    if (rc) {
        flush_notes(w, 0);
        return;
    }
    rc = store_commit(txn);
    flush_notes(w, rc == 0);
    if (rc)
        for (i = 0; i < n; i++)
            if (st[i] == 0)
                st[i] = rc;
}

static void process(struct writer *w, struct intent *batch)
{
    size_t n = 0;
    for (struct intent *in = batch; in; in = in->next)
        n++;
    int stack_st[256];
    int *st = n <= 256 ? stack_st : xmalloc(n * sizeof(int));
    int64_t t0 = clock_mono_us();
    run_batch(w, batch, st, n);
    int64_t took = clock_mono_us() - t0;

    pthread_mutex_lock(&w->lock);
    w->stats.batches++;
    w->stats.intents += n;
    if (n > w->stats.max_batch)
        w->stats.max_batch = n;
    w->stats.commit_us_total += (uint64_t)took;
    pthread_mutex_unlock(&w->lock);

    size_t i = 0;
    for (struct intent *in = batch, *next; in; in = next, i++) {
        next = in->next;  /* done() may free in */
        in->done(in, st[i]);
    }
    if (st != stack_st)
        free(st);
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct intent *batch;
    while ((batch = take_batch(w)))
        process(w, batch);
    return NULL;
}

int writer_start(struct writer *w)
{
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc)
        return -rc;
    w->started = 1;
    return 0;
}

void writer_stop(struct writer *w)
{
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_mutex_unlock(&w->lock);
    pthread_cond_broadcast(&w->wake);
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = 0;
}

void writer_free(struct writer *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w->notes);
    free(w);
}

void writer_get_stats(struct writer *w, struct writer_stats *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    pthread_mutex_unlock(&w->lock);
}
