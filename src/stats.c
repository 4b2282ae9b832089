/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats.c - counters, per-second rings and latency histograms.
 *
 * The hot side (one call per committed message or attempt, mostly on the
 * writer's syncer thread) must cost a few atomic adds, so the ring of per-second
 * slots is written without a lock: a slot carries the second it counts,
 * and only the first writer of a new second takes the mutex to clear the
 * slot before publishing the second with a release store. 320 slots
 * cover the five minutes of history (and so the 60 s windows) with room
 * for a reader that is a little behind. A sample for a second older than
 * its slot (a thread whose clock read lagged across a wrap) is left out
 * of the ring but still counted in the totals.
 *
 * Latency buckets are a quarter octave wide: exact up to 8 ms, then four
 * buckets per power of two up to 2^40 ms, so merging 60 slots on read is
 * cheap and a percentile is off by at most half a bucket.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "mem.h"
#include "stats.h"

#define RING 320         /* > STATS_HISTORY_S */
#define LAT_BUCKETS 160
#define EP_SLOT_MS 10000         /* per-endpoint counts in 10 s steps */
#define EP_SLOTS 30              /* 5 minutes */
#define EP_WINDOW_MS (EP_SLOT_MS * EP_SLOTS)

const int64_t stats_hist_le[STATS_HIST_BUCKETS - 1] = { 5, 10, 25, 50, 100, 250, 500, 1000,
                                                        2500, 5000, 10000 };

const char *const stats_route_name[STATS_ROUTES] = { "unknown", "ingest", "management",
                                                    "operations", "health", "metrics" };

struct sec_slot {
    _Atomic int64_t sec;         /* the second counted here; -1: never used */
    _Atomic uint64_t ingest, ok, fail;
    _Atomic uint64_t lat[LAT_BUCKETS];
    _Atomic int64_t lat_max;
};

struct ep_recent {
    int64_t last_ms;
    int64_t step[EP_SLOTS];      /* the 10 s step each slot counts */
    uint32_t ok[EP_SLOTS], fail[EP_SLOTS];
};

struct stats {
    _Atomic uint64_t ingested, succeeded, failed, failed_final;
    _Atomic uint64_t postponed[STATS_PP_REASONS];
    _Atomic uint64_t by_class[STATS_CLASSES];
    _Atomic uint64_t hist[STATS_HIST_BUCKETS], hist_sum;
    _Atomic uint64_t http[STATS_ROUTES][STATS_NETWORK];
    _Atomic int64_t http_conns, http_waiting;

    pthread_mutex_t roll;        /* clears a slot for its new second */
    struct sec_slot ring[RING];

    pthread_mutex_t ep_lock;     /* guards eps and swept_ms */
    struct hmap eps;             /* ep_id -> struct ep_recent */
    int64_t swept_ms;
};

int stats_new(struct stats **out)
{
    struct stats *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->roll, NULL);
    pthread_mutex_init(&s->ep_lock, NULL);
    for (int i = 0; i < RING; i++)
        atomic_init(&s->ring[i].sec, -1);
    hmap_init(&s->eps);
    *out = s;
    return 0;
}

void stats_free(struct stats *s)
{
    if (!s)
        return;
    const char *k;
    void *v;
    for (size_t i = 0; hmap_next(&s->eps, &i, &k, &v);)
        free(v);
    hmap_release(&s->eps);
    pthread_mutex_destroy(&s->roll);
    pthread_mutex_destroy(&s->ep_lock);
    free(s);
}

/* --- the per-second ring --- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static void slot_clear(struct sec_slot *sl)
{
    atomic_store_explicit(&sl->ingest, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->ok, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->fail, 0, memory_order_relaxed);
    for (int i = 0; i < LAT_BUCKETS; i++)
        atomic_store_explicit(&sl->lat[i], 0, memory_order_relaxed);
    atomic_store_explicit(&sl->lat_max, 0, memory_order_relaxed);
}

/* The slot counting now's second, or NULL when the sample is too old for it. */
static struct sec_slot *slot_for(struct stats *s, int64_t now_ms)
{
    int64_t sec = floor_div(now_ms, 1000);
    struct sec_slot *sl = &s->ring[(uint64_t)sec % RING];
    int64_t have = atomic_load_explicit(&sl->sec, memory_order_acquire);
    if (have == sec)
        return sl;
    if (have > sec)
        return NULL;
    pthread_mutex_lock(&s->roll);
    have = atomic_load_explicit(&sl->sec, memory_order_relaxed);
    if (have < sec) {
        slot_clear(sl);
        atomic_store_explicit(&sl->sec, sec, memory_order_release);
    }
    pthread_mutex_unlock(&s->roll);
    return have > sec ? NULL : sl;
}

/* The slot of second sec if it still counts that second, else NULL. */
static const struct sec_slot *slot_at(const struct stats *s, int64_t sec)
{
    const struct sec_slot *sl = &s->ring[(uint64_t)sec % RING];
    return atomic_load_explicit(&sl->sec, memory_order_acquire) == sec ? sl : NULL;
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

/* --- latency buckets --- */

static int lat_bucket(uint64_t v)
{
    if (v < 8)
        return (int)v;
    int e = 63 - __builtin_clzll(v);            /* v in [2^e, 2^(e+1)), e >= 3 */
    int b = 8 + (e - 3) * 4 + (int)((v >> (e - 2)) & 3);
    return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

/* The middle of bucket b (its only value below 8). */
static double lat_value(int b)
{
    if (b < 8)
        return b;
    int e = (b - 8) / 4 + 3, sub = (b - 8) % 4;
    double width = (double)(1ULL << (e - 2));
    return (4 + sub) * width + (width - 1) / 2;
}

static void max_update(_Atomic int64_t *m, int64_t v)
{
    int64_t cur = atomic_load_explicit(m, memory_order_relaxed);
    while (v > cur && !atomic_compare_exchange_weak_explicit(m, &cur, v, memory_order_relaxed,
                                                             memory_order_relaxed))
        ;
}

static void hist_add(struct stats *s, int64_t ms)
{
    int i = 0;
    while (i < STATS_HIST_BUCKETS - 1 && ms > stats_hist_le[i])
        i++;
    add(&s->hist[i], 1);
    add(&s->hist_sum, (uint64_t)ms);
}

/* --- per-endpoint recent counts --- */

/* Forget endpoints quiet for the whole window; at most once a minute. */
static void ep_sweep(struct stats *s, int64_t now_ms)
{
    const char *k;
    void *v;
    if (now_ms - s->swept_ms < 60000)
        return;
    s->swept_ms = now_ms;
    for (size_t i = 0; hmap_next(&s->eps, &i, &k, &v);) {
        struct ep_recent *e = v;
        if (now_ms - e->last_ms > EP_WINDOW_MS)
            free(hmap_del(&s->eps, k));
    }
}

static void ep_count(struct stats *s, const char *ep_id, int ok, int64_t now_ms)
{
    int64_t step = floor_div(now_ms, EP_SLOT_MS);
    int i = (int)((uint64_t)step % EP_SLOTS);
    pthread_mutex_lock(&s->ep_lock);
    ep_sweep(s, now_ms);
    struct ep_recent *e = hmap_get(&s->eps, ep_id);
    if (!e) {
        e = xcalloc(1, sizeof(*e));
        hmap_put(&s->eps, ep_id, e);
    }
    if (e->step[i] != step) {
        e->step[i] = step;
        e->ok[i] = e->fail[i] = 0;
    }
    e->ok[i] += ok;
    e->fail[i] += !ok;
    if (now_ms > e->last_ms)
        e->last_ms = now_ms;
    pthread_mutex_unlock(&s->ep_lock);
}

void stats_ep_recent(struct stats *s, const char *ep_id, int64_t now_ms, uint64_t *ok,
                     uint64_t *fail)
{
    int64_t step = floor_div(now_ms, EP_SLOT_MS);
    *ok = *fail = 0;
    pthread_mutex_lock(&s->ep_lock);
    struct ep_recent *e = hmap_get(&s->eps, ep_id);
    for (int i = 0; e && i < EP_SLOTS; i++) {
        if (e->step[i] > step - EP_SLOTS && e->step[i] <= step) {
            *ok += e->ok[i];
            *fail += e->fail[i];
        }
    }
    pthread_mutex_unlock(&s->ep_lock);
}

/* --- counting --- */

static enum stats_class class_of(int code)
{
    if (code >= 200 && code < 600)
        return (enum stats_class)(STATS_2XX + code / 100 - 2);
    return STATS_NETWORK;
}

void stats_ingest(struct stats *s, int64_t now_ms, uint64_t n)
{
    add(&s->ingested, n);
    struct sec_slot *sl = slot_for(s, now_ms);
    if (sl)
        add(&sl->ingest, n);
}

void stats_attempt(struct stats *s, const char *ep_id, int status_code, int64_t latency_ms,
                   int64_t now_ms)
{
    int ok = status_code >= 200 && status_code < 300;
    struct sec_slot *sl = slot_for(s, now_ms);
    add(ok ? &s->succeeded : &s->failed, 1);
    add(&s->by_class[class_of(status_code)], 1);
    if (sl)
        add(ok ? &sl->ok : &sl->fail, 1);
    if (ok && latency_ms >= 0) {
        hist_add(s, latency_ms);
        if (sl) {
            add(&sl->lat[lat_bucket((uint64_t)latency_ms)], 1);
            max_update(&sl->lat_max, latency_ms);
        }
    }
    if (ep_id && *ep_id)
        ep_count(s, ep_id, ok, now_ms);
}

void stats_final_fail(struct stats *s)
{
    add(&s->failed_final, 1);
}

const char *const stats_postpone_name[STATS_PP_REASONS] = { "store_full", "no_socket",
                                                                 "store_error" };

void stats_postponed(struct stats *s, enum stats_postpone r)
{
    add(&s->postponed[r], 1);
}

/* --- reading --- */

void stats_get_counters(struct stats *s, struct stats_counters *out)
{
    out->ingested = get(&s->ingested);
    out->succeeded = get(&s->succeeded);
    out->failed = get(&s->failed);
    out->failed_final = get(&s->failed_final);
    for (int i = 0; i < STATS_PP_REASONS; i++)
        out->postponed[i] = get(&s->postponed[i]);
    for (int i = 0; i < STATS_CLASSES; i++)
        out->by_class[i] = get(&s->by_class[i]);
}

void stats_get_rates(struct stats *s, int64_t now_ms, struct stats_rates *out)
{
    static const int width[STATS_WINDOWS] = { 1, 10, 60 };
    int64_t cur = floor_div(now_ms, 1000);
    memset(out, 0, sizeof(*out));
    for (int w = 0; w < STATS_WINDOWS; w++) {
        uint64_t in = 0, ok = 0, fail = 0;
        for (int64_t sec = cur - width[w]; sec < cur; sec++) {
            const struct sec_slot *sl = slot_at(s, sec);
            if (!sl)
                continue;
            in += get(&sl->ingest);
            ok += get(&sl->ok);
            fail += get(&sl->fail);
        }
        out->ingest[w] = (double)in / width[w];
        out->success[w] = (double)ok / width[w];
        out->failure[w] = (double)fail / width[w];
    }
}

void stats_get_history(struct stats *s, int64_t now_ms, int n, uint64_t *ingest, uint64_t *ok,
                       uint64_t *fail)
{
    int64_t cur = floor_div(now_ms, 1000);
    n = n < 0 ? 0 : n > STATS_HISTORY_S ? STATS_HISTORY_S : n;
    for (int i = 0; i < n; i++) {
        const struct sec_slot *sl = slot_at(s, cur - n + i);
        ingest[i] = sl ? get(&sl->ingest) : 0;
        ok[i] = sl ? get(&sl->ok) : 0;
        fail[i] = sl ? get(&sl->fail) : 0;
    }
}

/* The value at rank (1-based) of the merged buckets. */
static double rank_value(const uint64_t *b, uint64_t rank)
{
    uint64_t seen = 0;
    for (int i = 0; i < LAT_BUCKETS; i++) {
        seen += b[i];
        if (seen >= rank)
            return lat_value(i);
    }
    return lat_value(LAT_BUCKETS - 1);
}

static double percentile(const uint64_t *b, uint64_t count, double p, double max)
{
    uint64_t rank = (uint64_t)(p * (double)count + 0.999999);
    double v = rank_value(b, rank ? rank : 1);
    return v > max ? max : v;
}

void stats_get_latency(struct stats *s, int64_t now_ms, struct stats_latency *out)
{
    uint64_t b[LAT_BUCKETS] = { 0 };
    int64_t cur = floor_div(now_ms, 1000), max = 0;
    memset(out, 0, sizeof(*out));
    for (int64_t sec = cur - 59; sec <= cur; sec++) {
        const struct sec_slot *sl = slot_at(s, sec);
        if (!sl)
            continue;
        for (int i = 0; i < LAT_BUCKETS; i++) {
            uint64_t n = get(&sl->lat[i]);
            b[i] += n;
            out->count += n;
        }
        int64_t m = atomic_load_explicit((_Atomic int64_t *)&sl->lat_max, memory_order_relaxed);
        if (m > max)
            max = m;
    }
    if (!out->count)
        return;
    out->max = (double)max;
    out->p50 = percentile(b, out->count, 0.50, out->max);
    out->p90 = percentile(b, out->count, 0.90, out->max);
    out->p99 = percentile(b, out->count, 0.99, out->max);
}

void stats_get_hist(struct stats *s, struct stats_hist *out)
{
    uint64_t sum = 0;
    for (int i = 0; i < STATS_HIST_BUCKETS; i++) {
        sum += get(&s->hist[i]);
        out->cumulative[i] = sum;
    }
    out->count = sum;
    out->sum_ms = get(&s->hist_sum);
}

void stats_http(struct stats *s, enum stats_route route, int status)
{
    enum stats_class c = class_of(status);
    if ((unsigned)route >= STATS_ROUTES)
        route = STATS_R_UNKNOWN;
    add(&s->http[route][c == STATS_NETWORK ? STATS_5XX : c], 1);
}

void stats_get_http(struct stats *s, uint64_t out[STATS_ROUTES][STATS_NETWORK])
{
    for (int r = 0; r < STATS_ROUTES; r++)
        for (int c = 0; c < STATS_NETWORK; c++)
            out[r][c] = get(&s->http[r][c]);
}

void stats_http_conn(struct stats *s, int delta)
{
    atomic_fetch_add_explicit(&s->http_conns, delta, memory_order_relaxed);
}

void stats_http_waiting(struct stats *s, int delta)
{
    atomic_fetch_add_explicit(&s->http_waiting, delta, memory_order_relaxed);
}

void stats_get_http_now(struct stats *s, struct stats_http_now *out)
{
    out->connections = atomic_load_explicit(&s->http_conns, memory_order_relaxed);
    out->waiting = atomic_load_explicit(&s->http_waiting, memory_order_relaxed);
}
