/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conntimer.c - waiting, header and body deadlines for client connections (see
 * conntimer.h for why libmicrohttpd needs them).
 *
 * Each connection carries one deadline, an atomic monotonic time in ms (0:
 * none), which only its own thread sets and only the timer's thread
 * clears when it fires. The connections are on one list under one lock,
 * taken once at open, once at close and once per pass of the timer, so the
 * hot path (three calls per request) takes no lock. A pass every
 * TICK_MS walks the whole list: a few thousand loads, well under a
 * millisecond, and simpler than a heap that each request would reorder.
 *
 * The socket is shut down under the list lock; close removes the entry
 * under the same lock before libmicrohttpd closes the socket, so the
 * descriptor shut down is always the connection's own.
 *
 * The same pass wakes connections whose request sits unread. Under heavy
 * CPU starvation (sanitizer builds beside load tests) a few new
 * connections were seen to hold a complete request for 30 s, answered
 * only when the client gave up and closed: libmicrohttpd's edge-triggered
 * epoll had missed their read event. A connection that has waited more
 * than NUDGE_MS with bytes in its receive queue (FIONREAD) and no request
 * line gets SO_RCVLOWAT set to 1, its default: the kernel then wakes its
 * pollers as if data had just arrived, and libmicrohttpd reads it. Each
 * connection is looked at once per NUDGE_MS at most, and only while it
 * waits for a request, so idle keep-alive connections cost one ioctl a
 * second each.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "conntimer.h"
#include "log.h"
#include "mem.h"
#include "thread.h"

#define TICK_MS 250
#define NUDGE_MS 1000        /* a request unread this long gets its connection woken */
#define LOG_EVERY_MS 10000   /* at most one log line this often, with the count */

struct conntimer_conn {
    struct conntimer *t;
    int fd;
    _Atomic int64_t deadline;      /* CLOCK_MONOTONIC ms; 0 none */
    _Atomic int64_t waiting;       /* since when it waits for a request line; 0 not */
    int64_t looked_ms;             /* timer thread only: its last FIONREAD */
    struct conntimer_conn *prev, *next;
};

struct conntimer {
    int64_t idle_ms, header_ms, body_ms;
    pthread_mutex_t lock;          /* guards conns, stopping */
    pthread_cond_t wake;
    struct conntimer_conn *conns;
    int stopping;
    pthread_t thread;
    int started;
    _Atomic uint64_t expired;
    _Atomic uint64_t woken;        /* connections nudged with a request unread */
    uint64_t woken_logged;         /* timer thread only: woken at the last log line */
    int64_t woken_logged_ms;
    uint64_t logged;               /* timer thread only: expired at the last log line */
    int64_t logged_ms;
};

int conntimer_new(struct conntimer **out, int64_t idle_ms, int64_t header_ms, int64_t body_ms)
{
    struct conntimer *t = xcalloc(1, sizeof(*t));
    pthread_condattr_t ca;
    t->idle_ms = idle_ms;
    t->header_ms = header_ms;
    t->body_ms = body_ms;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&t->expired, 0);
    *out = t;
    return 0;
}

struct conntimer_conn *conntimer_open(struct conntimer *t, int fd)
{
    struct conntimer_conn *c = xcalloc(1, sizeof(*c));
    c->t = t;
    c->fd = fd;
    int64_t now = clock_mono_ms();
    atomic_init(&c->deadline, now + t->idle_ms);
    atomic_init(&c->waiting, now);
    pthread_mutex_lock(&t->lock);
    c->next = t->conns;
    if (t->conns)
        t->conns->prev = c;
    t->conns = c;
    pthread_mutex_unlock(&t->lock);
    return c;
}

void conntimer_request_line(struct conntimer_conn *c)
{
    if (!c)
        return;
    atomic_store_explicit(&c->waiting, 0, memory_order_relaxed);
    int64_t d = atomic_load_explicit(&c->deadline, memory_order_relaxed);
    int64_t h = clock_mono_ms() + c->t->header_ms;
    if (d == 0 || h < d)
        atomic_store_explicit(&c->deadline, h, memory_order_relaxed);
}

void conntimer_headers_done(struct conntimer_conn *c)
{
    if (c)
        atomic_store_explicit(&c->deadline, clock_mono_ms() + c->t->body_ms,
                              memory_order_relaxed);
}

void conntimer_body_done(struct conntimer_conn *c)
{
    if (c)
        atomic_store_explicit(&c->deadline, 0, memory_order_relaxed);
}

void conntimer_request_done(struct conntimer_conn *c)
{
    if (!c)
        return;
    int64_t now = clock_mono_ms();
    atomic_store_explicit(&c->waiting, now, memory_order_relaxed);
    atomic_store_explicit(&c->deadline, now + c->t->idle_ms, memory_order_relaxed);
}

void conntimer_close(struct conntimer *t, struct conntimer_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&t->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&t->lock);
    free(c);
}

/* Wake c when a request has sat unread in its socket for NUDGE_MS (see top). */
static void nudge(struct conntimer *t, struct conntimer_conn *c, int64_t now)
{
    int64_t since = atomic_load_explicit(&c->waiting, memory_order_relaxed);
    if (!since || now - since < NUDGE_MS || now - c->looked_ms < NUDGE_MS)
        return;
    c->looked_ms = now;
    int unread = 0, one = 1;
    if (ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0
        && setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one)) == 0)
        atomic_fetch_add(&t->woken, 1);
}

/* Shut down every connection past its deadline, wake those with a request
 * unread; called with the lock held. */
static void expire(struct conntimer *t, int64_t now)
{
    for (struct conntimer_conn *c = t->conns; c; c = c->next) {
        nudge(t, c, now);
        int64_t d = atomic_load_explicit(&c->deadline, memory_order_relaxed);
        if (d == 0 || d > now)
            continue;
        /* the connection's thread may have moved the deadline meanwhile */
        if (!atomic_compare_exchange_strong(&c->deadline, &d, 0))
            continue;
        shutdown(c->fd, SHUT_RDWR);
        atomic_fetch_add(&t->expired, 1);
    }
}

/* One line now and then, not one per connection: an attack must not flood the log. */
static void report(struct conntimer *t, int64_t now)
{
    uint64_t w = atomic_load(&t->woken);
    if (w != t->woken_logged && now - t->woken_logged_ms >= LOG_EVERY_MS) {
        char count[24];
        snprintf(count, sizeof(count), "%llu", (unsigned long long)(w - t->woken_logged));
        log_warn("client connections woken: a request sat unread", "count", count, "detail",
                 "libmicrohttpd missed their read event; each was woken after 1 s", NULL);
        t->woken_logged = w;
        t->woken_logged_ms = now;
    }
    uint64_t n = atomic_load(&t->expired);
    if (n == t->logged || now - t->logged_ms < LOG_EVERY_MS)
        return;
    char count[24], total[24];
    snprintf(count, sizeof(count), "%llu", (unsigned long long)(n - t->logged));
    snprintf(total, sizeof(total), "%llu", (unsigned long long)n);
    log_warn("client connections closed: no complete request in time", "count", count,
             "total", total, "detail",
             "headers slower than --header-timeout, a body slower than --body-timeout, "
             "or no request within --idle-timeout", NULL);
    t->logged = n;
    t->logged_ms = now;
}

static void *timer_main(void *arg)
{
    struct conntimer *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec ts;
        clock_deadline(CLOCK_MONOTONIC, TICK_MS, &ts);
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
        if (t->stopping)
            break;
        int64_t now = clock_mono_ms();
        expire(t, now);
        pthread_mutex_unlock(&t->lock);
        report(t, now);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int conntimer_start(struct conntimer *t)
{
    int rc = thread_start(&t->thread, "hookd-conntimer", timer_main, t);
    if (rc)
        return rc;
    t->started = 1;
    return 0;
}

void conntimer_stop(struct conntimer *t)
{
    if (!t || !t->started)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    t->started = 0;
}

void conntimer_free(struct conntimer *t)
{
    if (!t)
        return;
    conntimer_stop(t);
    while (t->conns)
        conntimer_close(t, t->conns);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

uint64_t conntimer_woken(struct conntimer *t)
{
    return atomic_load(&t->woken);
}
