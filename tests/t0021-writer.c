/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0021-writer: group commit. Intents from several threads are applied in
 * arrival order per producer, many share one commit, and a failing intent
 * rolls back only itself: in nested transactions, and again with flat
 * intents, whose failing batches the writer rolls back and reruns. Lazy
 * batches share the next commit's flush; urgent ones get their own at once.
 */
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "store.h"
#include "tap/tap.h"
#include "writer.h"

#define PRODUCERS 4
#define PER 500

struct item {
    struct intent in;
    char round;              /* key prefix: 'n' nested, 'f' flat */
    int producer, seq;
    int fail;
    int status;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *remaining;
};

static int last_seq[PRODUCERS];
static int order_ok = 1;
static int applied_twice;    /* applies beyond one per intent (flat reruns) */

static int apply_item(struct intent *in, struct store_txn *t)
{
    struct item *it = (struct item *)in;
    char key[32];
    int n = snprintf(key, sizeof(key), "%cp%d-%05d", it->round, it->producer, it->seq);
    if (it->seq <= last_seq[it->producer])
        applied_twice++;     /* a rerun starts the batch again */
    else if (it->seq != last_seq[it->producer] + 1)
        order_ok = 0;
    last_seq[it->producer] = it->seq;
    int rc = store_put(t, DB_APPS, key, (size_t)n, "v", 1, 0);
    return rc ? rc : (it->fail ? HOOKD_EINVAL : 0);
}

static void done_item(struct intent *in, int status)
{
    struct item *it = (struct item *)in;
    pthread_mutex_lock(it->mu);
    it->status = status;
    if (--*it->remaining == 0)
        pthread_cond_signal(it->cv);
    pthread_mutex_unlock(it->mu);
}

struct producer {
    struct writer *w;
    struct item *items;
    int id;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < PER; i++)
        writer_submit(p->w, &p->items[i].in);
    return NULL;
}

/* One round of PRODUCERS x PER intents, every 100th failing. */
static void run_round(struct store *s, char round)
{
    struct writer *w;
    writer_new(&w, s, 0);
    is_int(writer_start(w), 0, "%c: writer starts", round);
    memset(last_seq, 0, sizeof(last_seq));
    order_ok = 1;
    applied_twice = 0;

    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int remaining = PRODUCERS * PER;
    struct item *items = calloc(PRODUCERS * PER, sizeof(*items));
    struct producer prod[PRODUCERS];
    pthread_t th[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        for (int i = 0; i < PER; i++) {
            struct item *it = &items[p * PER + i];
            it->in.apply = apply_item;
            it->in.done = done_item;
            it->in.flat = round == 'f';
            it->round = round;
            it->producer = p;
            it->seq = i + 1;
            it->fail = (i % 100) == 7;
            it->mu = &mu;
            it->cv = &cv;
            it->remaining = &remaining;
        }
        prod[p] = (struct producer){ w, &items[p * PER], p };
        pthread_create(&th[p], NULL, produce, &prod[p]);
    }
    for (int p = 0; p < PRODUCERS; p++)
        pthread_join(th[p], NULL);
    pthread_mutex_lock(&mu);
    while (remaining)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    ok(order_ok, "%c: each producer's intents applied in submission order", round);
    int failed = 0, bad_status = 0;
    for (int i = 0; i < PRODUCERS * PER; i++) {
        failed += items[i].status != 0;
        bad_status += (items[i].status != 0) != items[i].fail;
    }
    is_int(failed, PRODUCERS * PER / 100, "%c: only the failing intents report failure", round);
    is_int(bad_status, 0, "%c: every status matches its intent", round);

    struct writer_stats st;
    writer_get_stats(w, &st);
    is_int((long long)st.intents, PRODUCERS * PER, "%c: writer counted every intent", round);
    ok(st.batches < st.intents, "%c: intents shared commits (%llu batches for %llu intents)",
       round, (unsigned long long)st.batches, (unsigned long long)st.intents);
    if (round == 'f') {
        ok(st.flat_reruns > 0 && st.flat_reruns <= PRODUCERS * PER / 100,
           "f: each failing batch ran again, nested (%llu reruns)",
           (unsigned long long)st.flat_reruns);
        ok(applied_twice > 0, "f: rerun batches applied their intents again (%d)", applied_twice);
    } else {
        is_int((long long)st.flat_reruns, 0, "n: nested batches never rerun");
        is_int(applied_twice, 0, "n: every intent applied once");
    }

    struct store_txn *t;
    store_read(s, &t);
    const void *v;
    size_t n;
    char key[16];
    int missing = 0, leftover = 0;
    for (int i = 0; i < PRODUCERS * PER; i++) {
        int kl = snprintf(key, sizeof(key), "%cp%d-%05d", round, items[i].producer, items[i].seq);
        int rc = store_get(t, DB_APPS, key, (size_t)kl, &v, &n);
        missing += !items[i].fail && rc != 0;
        leftover += items[i].fail && rc != HOOKD_ENOTFOUND;
    }
    store_abort(t);
    is_int(missing, 0, "%c: every applied intent is stored", round);
    is_int(leftover, 0, "%c: failed intents left nothing behind", round);

    writer_stop(w);
    struct item late = { .in = { .apply = apply_item, .done = done_item } };
    is_int(writer_submit(w, &late.in), HOOKD_ESTOPPED, "%c: a stopped writer refuses intents",
           round);
    writer_free(w);
    free(items);
}

/* Wait until every item counted in *remaining has had its done(). */
static void wait_done(int *remaining, pthread_mutex_t *mu, pthread_cond_t *cv)
{
    pthread_mutex_lock(mu);
    while (*remaining)
        pthread_cond_wait(cv, mu);
    pthread_mutex_unlock(mu);
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Lazy intents (delivery outcomes): a batch of them waits up to
 * WRITER_LAZY_WAIT_US for more, and an intent that is not lazy ends the
 * wait. Lower bounds on time are safe to assert; upper bounds are not on
 * a loaded machine, so the cut is read from the writer's counters.
 */
static void test_lazy(struct store *s)
{
    struct writer *w;
    writer_new(&w, s, 0);
    writer_start(w);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int remaining = 1;
    struct item a = { .in = { .apply = apply_item, .done = done_item, .flat = 1, .lazy = 1 },
                      .round = 'l', .producer = 0, .seq = 1, .mu = &mu, .cv = &cv,
                      .remaining = &remaining };
    memset(last_seq, 0, sizeof(last_seq));
    long long t0 = now_us();
    writer_submit(w, &a.in);
    wait_done(&remaining, &mu, &cv);
    long long took = now_us() - t0;
    struct writer_stats st;
    writer_get_stats(w, &st);
    ok(took >= WRITER_LAZY_WAIT_US, "a lone lazy intent waits for company (%lld us)", took);
    ok(st.lazy_waits == 1 && st.lazy_cut == 0, "the wait ran its course (waits %llu, cut %llu)",
       (unsigned long long)st.lazy_waits, (unsigned long long)st.lazy_cut);

    struct item b = a, c = a;
    b.seq = 2;
    c.seq = 3;
    c.in.lazy = 0;
    remaining = 2;
    writer_submit(w, &b.in);
    struct timespec gap = { 0, 300 * 1000 };
    nanosleep(&gap, NULL);   /* the writer takes b and waits */
    writer_submit(w, &c.in);
    wait_done(&remaining, &mu, &cv);
    writer_get_stats(w, &st);
    ok(st.lazy_waits - 1 == st.lazy_cut, "an urgent intent cuts the wait short (waits %llu, cut %llu)",
       (unsigned long long)st.lazy_waits - 1, (unsigned long long)st.lazy_cut);
    is_int(b.status + c.status, 0, "both applied");
    is_int((long long)st.batches, 2, "and they shared one commit");

    remaining = 1;
    struct item d = a;
    d.seq = 4;
    writer_submit(w, &d.in);
    writer_stop(w);   /* stopping ends a wait too, and the intent is still applied */
    wait_done(&remaining, &mu, &cv);
    is_int(d.status, 0, "a lazy intent queued at stop is applied");
    writer_free(w);
}

static uint64_t syncer_flushes(const struct writer_stats *st)
{
    uint64_t n = 0;
    for (int i = 0; i < WRITER_COMMIT_BUCKETS; i++)
        n += st->sync_hist[i];
    return n;
}

/*
 * On tmpfs (a /tmp that is one, as on Debian 13 or in a chroot) a flush
 * returns at once: each commit is over before the next intent arrives, so
 * the writer is idle rather than lingering, and the syncer's own flush,
 * which costs nothing there, is the right call.
 */
static int flush_is_free(const char *dir)
{
    struct statfs fs;
    return statfs(dir, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

/*
 * A steady trickle of lazy intents, as outcomes arrive: each batch is
 * made durable by the next commit's flush, which the writer is already
 * lingering towards, not by a flush of the syncer's own.
 */
static void test_lazy_trickle(struct store *s, const char *dir)
{
    enum { N = 1500 };   /* 100 us apart: several lazy waits long */
    struct writer *w;
    writer_new(&w, s, 0);
    writer_start(w);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int remaining = N;
    struct item *items = calloc(N, sizeof(*items));
    memset(last_seq, 0, sizeof(last_seq));
    int64_t last = clock_mono_us(), max_gap = 0;
    for (int i = 0; i < N; i++) {
        int64_t now = clock_mono_us();
        max_gap = now - last > max_gap ? now - last : max_gap;
        last = now;
        items[i] = (struct item){ .in = { .apply = apply_item, .done = done_item, .flat = 1,
                                          .lazy = 1 },
                                  .round = 't', .seq = i + 1, .mu = &mu, .cv = &cv,
                                  .remaining = &remaining };
        writer_submit(w, &items[i].in);
        struct timespec gap = { 0, 100 * 1000 };
        nanosleep(&gap, NULL);
    }
    wait_done(&remaining, &mu, &cv);
    struct writer_stats st;
    writer_get_stats(w, &st);
    int failed = 0;
    for (int i = 0; i < N; i++)
        failed += items[i].status != 0;
    is_int(failed, 0, "a trickle of %d lazy intents: all applied", N);
    if (flush_is_free(dir))
        skip(1, "the store is on tmpfs, where flushes take no time");
    else if (max_gap >= WRITER_LAZY_WAIT_US / 2)
        /* a starved machine let the writer go idle between intents: no trickle */
        skip(1, "the trickle stalled past half the lazy wait (a busy machine)");
    else
        ok(st.batches >= 4 && syncer_flushes(&st) * 2 < st.batches,
           "their %llu batches took %llu flushes of the syncer's own: the next commit covers each",
           (unsigned long long)st.batches, (unsigned long long)syncer_flushes(&st));
    writer_stop(w);
    writer_free(w);
    free(items);
}

/*
 * A batch with a request waiting is flushed by the syncer at once, not
 * held for the next commit's flush: here the next batch's apply takes
 * 300 ms, and the first batch's done() must come while it runs.
 */
static long long slow_end_us, urgent_done_us;
static volatile int urgent_applied;

static int apply_slow(struct intent *in, struct store_txn *t)
{
    struct timespec nap = { 0, 300 * 1000 * 1000 };
    nanosleep(&nap, NULL);
    int rc = apply_item(in, t);
    slow_end_us = now_us();
    return rc;
}

static int apply_urgent(struct intent *in, struct store_txn *t)
{
    urgent_applied = 1;
    return apply_item(in, t);
}

static void done_urgent(struct intent *in, int status)
{
    urgent_done_us = now_us();
    done_item(in, status);
}

static void test_urgent_flushed(struct store *s)
{
    struct writer *w;
    writer_new(&w, s, 0);
    writer_start(w);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int remaining = 2;
    memset(last_seq, 0, sizeof(last_seq));
    struct item u = { .in = { .apply = apply_urgent, .done = done_urgent, .flat = 1 },
                      .round = 'u', .seq = 1, .mu = &mu, .cv = &cv, .remaining = &remaining };
    struct item slow = u;
    slow.in.apply = apply_slow;
    slow.in.done = done_item;
    slow.seq = 2;
    writer_submit(w, &u.in);
    while (!urgent_applied) {
        struct timespec gap = { 0, 100 * 1000 };
        nanosleep(&gap, NULL);
    }
    writer_submit(w, &slow.in);   /* the next batch, after u's commit */
    wait_done(&remaining, &mu, &cv);
    is_int(u.status + slow.status, 0, "both batches applied");
    ok(urgent_done_us < slow_end_us,
       "the first batch was answered while the next one applied (%lld us before its end)",
       slow_end_us - urgent_done_us);
    writer_stop(w);
    writer_free(w);
}

int main(void)
{
    char dir[] = "/tmp/hookd-t0021-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct store *s;
    is_int(store_open(&s, dir, 64 << 20, 0), 0, "store opens");
    run_round(s, 'n');
    run_round(s, 'f');
    test_lazy(s);
    test_lazy_trickle(s, dir);
    test_urgent_flushed(s);
    store_close(s);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd))
        diag("cleanup failed");
    return done_testing();
}
