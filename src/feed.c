/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed.c - the outcome ring and its long-poll waiters.
 *
 * Items are fixed-size records in a ring indexed by (seq - 1) % cap, so a
 * push (in the writer's done path, once per attempt) is a copy under
 * the lock and never allocates. Waiters are few (one per open long poll)
 * and live in a list; the feed thread sleeps until the earliest deadline
 * or a push, detaches the waiters that are due, and calls them back after
 * dropping the lock, because a callback reads the ring and answers its
 * HTTP request. The push only signals: answering requests is not work
 * the writer should do.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "feed.h"
#include "mem.h"
#include "thread.h"

struct waiter {
    uint64_t after;
    int64_t deadline_ms;         /* clock_mono_ms */
    feed_ready_fn ready;
    void *arg;
    struct waiter *next;
};

struct feed {
    pthread_mutex_t lock;        /* guards everything below */
    pthread_cond_t wake;         /* CLOCK_MONOTONIC */
    struct feed_item *ring;
    size_t cap;
    uint64_t last;               /* newest seq */
    struct waiter *waiters;
    int stopping;                /* no new waiters; the thread calls the rest back */
    pthread_t thread;
    int started;
};

int feed_new(struct feed **out, size_t cap)
{
    struct feed *f = xcalloc(1, sizeof(*f));
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&f->lock, NULL);
    f->cap = cap ? cap : FEED_CAP_DEFAULT;
    f->ring = xcalloc(f->cap, sizeof(*f->ring));
    *out = f;
    return 0;
}

void feed_free(struct feed *f)
{
    if (!f)
        return;
    for (struct waiter *w = f->waiters, *next; w; w = next) {
        next = w->next;
        free(w);
    }
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->wake);
    free(f->ring);
    free(f);
}

void feed_push(struct feed *f, struct feed_item *it)
{
    pthread_mutex_lock(&f->lock);
    it->seq = ++f->last;
    f->ring[(it->seq - 1) % f->cap] = *it;
    int wake = f->waiters != NULL;
    pthread_mutex_unlock(&f->lock);
    if (wake)
        pthread_cond_signal(&f->wake);
}

uint64_t feed_last_seq(struct feed *f)
{
    pthread_mutex_lock(&f->lock);
    uint64_t last = f->last;
    pthread_mutex_unlock(&f->lock);
    return last;
}

size_t feed_read(struct feed *f, uint64_t after, struct feed_item *out, size_t max,
                 uint64_t *last)
{
    size_t n = 0;
    pthread_mutex_lock(&f->lock);
    uint64_t oldest = f->last > f->cap ? f->last - f->cap + 1 : 1;
    uint64_t seq = after + 1 > oldest ? after + 1 : oldest;
    for (; seq <= f->last && n < max; seq++)
        out[n++] = f->ring[(seq - 1) % f->cap];
    pthread_mutex_unlock(&f->lock);
    *last = n ? out[n - 1].seq : after;
    return n;
}

/* Under the lock: does w's wait end now? */
static int waiter_due(const struct feed *f, const struct waiter *w, int64_t now)
{
    return f->stopping || w->after < f->last || now >= w->deadline_ms;
}

int feed_wait(struct feed *f, uint64_t after, int64_t deadline_ms, feed_ready_fn ready,
              void *arg)
{
    struct waiter *w = xcalloc(1, sizeof(*w));
    *w = (struct waiter){ after, deadline_ms, ready, arg, NULL };
    pthread_mutex_lock(&f->lock);
    int now_ready = waiter_due(f, w, clock_mono_ms());
    if (!now_ready) {
        w->next = f->waiters;
        f->waiters = w;
    }
    pthread_mutex_unlock(&f->lock);
    if (now_ready)
        free(w);
    else
        pthread_cond_signal(&f->wake);   /* its deadline may be the earliest */
    return now_ready;
}

/* Under the lock: unlink the waiters whose wait ended; the earliest other deadline. */
static struct waiter *take_due(struct feed *f, int64_t now, int64_t *next_deadline)
{
    struct waiter *due = NULL, **pp = &f->waiters;
    *next_deadline = now + 60000;
    while (*pp) {
        struct waiter *w = *pp;
        if (waiter_due(f, w, now)) {
            *pp = w->next;
            w->next = due;
            due = w;
        } else {
            if (w->deadline_ms < *next_deadline)
                *next_deadline = w->deadline_ms;
            pp = &w->next;
        }
    }
    return due;
}

static void sleep_until(struct feed *f, int64_t deadline_ms)
{
    struct timespec ts = { (time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L };
    pthread_cond_timedwait(&f->wake, &f->lock, &ts);
}

/*
 * The lock is held from the look at the waiters to the wait on the
 * condition, so a push or a new waiter cannot slip in between unseen.
 */
static void *feed_main(void *arg)
{
    struct feed *f = arg;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        int64_t next;
        struct waiter *due = take_due(f, clock_mono_ms(), &next);
        if (!due && f->stopping)
            break;
        if (!due) {
            sleep_until(f, next);
            continue;
        }
        pthread_mutex_unlock(&f->lock);
        for (struct waiter *w = due, *n; w; w = n) {
            n = w->next;
            w->ready(w->arg);
            free(w);
        }
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

int feed_start(struct feed *f)
{
    int rc = thread_start(&f->thread, "hookd-feed", feed_main, f);
    if (rc)
        return rc;
    f->started = 1;
    return 0;
}

void feed_stop(struct feed *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = 1;
    pthread_mutex_unlock(&f->lock);
    pthread_cond_broadcast(&f->wake);
    if (f->started)
        pthread_join(f->thread, NULL);
    f->started = 0;
}
