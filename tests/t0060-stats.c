/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0060-stats - the statistics module: counters and status classes,
 * per-second rates over 1/10/60 s windows (complete seconds only, the ring
 * forgetting what is older than its 320 s), the five minutes of per-second
 * history, latency percentiles within a
 * bucket's error, the cumulative histogram, per-endpoint 5-minute counts,
 * counting from several threads at once, and HTTP answers by route class.
 */
#include <pthread.h>
#include <stdint.h>

#include "stats.h"
#include "tap/tap.h"

#define S0 1700000000LL              /* a whole second, in seconds */
#define AT(sec, ms) (((S0) + (sec)) * 1000 + (ms))

static int near(double got, double want, double rel)
{
    double d = got > want ? got - want : want - got;   /* no libm for one fabs */
    return d <= rel * want;
}

static void test_counters(void)
{
    struct stats *s;
    struct stats_counters c;
    static const int codes[] = { 200, 204, 302, 404, 410, 500, 503, 0, 99 };

    stats_new(&s);
    stats_ingest(s, AT(0, 0), 10);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        stats_attempt(s, "ep_a", codes[i], -1, AT(0, 0));
    stats_final_fail(s);
    stats_get_counters(s, &c);
    is_int((long long)c.ingested, 10, "ten ingested");
    is_int((long long)c.succeeded, 2, "2xx are successes");
    is_int((long long)c.failed, 7, "everything else failed");
    is_int((long long)c.failed_final, 1, "one final failure");
    ok(c.by_class[STATS_2XX] == 2 && c.by_class[STATS_3XX] == 1 && c.by_class[STATS_4XX] == 2
       && c.by_class[STATS_5XX] == 2 && c.by_class[STATS_NETWORK] == 2,
       "status classes: a redirect is 3xx, code 0 and junk are network");
    stats_free(s);
}

static void test_rates(void)
{
    struct stats *s;
    struct stats_rates r;

    stats_new(&s);
    for (int sec = 0; sec < 60; sec++)
        for (int i = 0; i < 6; i++)
            stats_ingest(s, AT(sec, i * 100), 1);
    stats_get_rates(s, AT(60, 100), &r);
    ok(r.ingest[STATS_1S] == 6 && r.ingest[STATS_10S] == 6 && r.ingest[STATS_60S] == 6,
       "a steady 6/s reads 6 over every window");
    stats_ingest(s, AT(60, 500), 60);
    stats_get_rates(s, AT(60, 900), &r);
    is_int((long long)r.ingest[STATS_1S], 6, "the current second is not counted yet");
    stats_get_rates(s, AT(61, 0), &r);
    ok(r.ingest[STATS_1S] == 60, "1 s: the burst second (%g)", r.ingest[STATS_1S]);
    ok(near(r.ingest[STATS_10S], 11.4, 1e-9), "10 s: (9 x 6 + 60) / 10 (%g)", r.ingest[STATS_10S]);
    ok(near(r.ingest[STATS_60S], 6.9, 1e-9), "60 s: (59 x 6 + 60) / 60 (%g)", r.ingest[STATS_60S]);
    ok(r.success[STATS_60S] == 0 && r.failure[STATS_60S] == 0, "no attempts, no attempt rates");

    stats_get_rates(s, AT(200, 0), &r);
    ok(r.ingest[STATS_1S] == 0 && r.ingest[STATS_60S] == 0, "two minutes later: all zero");

    stats_attempt(s, "ep_a", 200, -1, AT(328, 0));   /* reuses the slot of second 8 */
    stats_attempt(s, "ep_a", 500, -1, AT(328, 1));
    stats_get_rates(s, AT(329, 0), &r);
    ok(r.success[STATS_1S] == 1 && r.failure[STATS_1S] == 1 && r.ingest[STATS_1S] == 0,
       "a reused slot starts from zero");
    stats_ingest(s, AT(8, 0), 5);   /* same slot, an older second: a late sample */
    stats_get_rates(s, AT(329, 0), &r);
    is_int((long long)r.ingest[STATS_1S], 0, "a late sample does not land in a newer second");
    struct stats_counters c;
    stats_get_counters(s, &c);
    is_int((long long)c.ingested, 6 * 60 + 60 + 5, "but it is still counted in the total");
    stats_free(s);
}

static void test_history(void)
{
    struct stats *s;
    uint64_t in[STATS_HISTORY_S], okc[STATS_HISTORY_S], fail[STATS_HISTORY_S];

    stats_new(&s);
    stats_ingest(s, AT(10, 0), 3);
    stats_attempt(s, "ep_a", 204, -1, AT(11, 999));
    stats_ingest(s, AT(12, 500), 7);
    stats_attempt(s, "ep_a", 503, -1, AT(12, 0));
    stats_ingest(s, AT(13, 0), 100);   /* the current second: not complete yet */
    stats_get_history(s, AT(13, 500), 5, in, okc, fail);
    ok(in[0] == 0 && in[1] == 0 && in[2] == 3 && in[3] == 0 && in[4] == 7,
       "ingest per second, oldest first, the current one left out (%llu %llu %llu %llu %llu)",
       (unsigned long long)in[0], (unsigned long long)in[1], (unsigned long long)in[2],
       (unsigned long long)in[3], (unsigned long long)in[4]);
    ok(okc[3] == 1 && okc[4] == 0 && fail[4] == 1 && fail[3] == 0,
       "successes and failures in their own seconds");

    stats_ingest(s, AT(100, 0), 9);
    stats_get_history(s, AT(400, 0), 1000, in, okc, fail);
    is_int((long long)in[0], 9, "five minutes later the oldest second kept is still there");
    is_int((long long)in[STATS_HISTORY_S - 1], 0, "and the newest is empty");
    stats_get_history(s, AT(401, 0), STATS_HISTORY_S, in, okc, fail);
    uint64_t sum = 0;
    for (int i = 0; i < STATS_HISTORY_S; i++)
        sum += in[i] + okc[i] + fail[i];
    is_int((long long)sum, 0, "a second later it is out of the window");
    stats_ingest(s, AT(100 + 320, 0), 1);   /* reuses second 100's slot */
    stats_get_history(s, AT(421, 0), STATS_HISTORY_S, in, okc, fail);
    is_int((long long)in[STATS_HISTORY_S - 1], 1, "a reused slot counts only its new second");
    stats_free(s);
}

static void test_latency(void)
{
    struct stats *s;
    struct stats_latency l;

    stats_new(&s);
    stats_get_latency(s, AT(0, 0), &l);
    is_int((long long)l.count, 0, "no latency without successes");
    for (int v = 1; v <= 100; v++)
        stats_attempt(s, "ep_a", 200, v, AT(0, v));
    stats_attempt(s, "ep_a", 500, 100000, AT(0, 0));   /* failures carry no latency */
    stats_get_latency(s, AT(0, 999), &l);
    is_int((long long)l.count, 100, "100 latencies, including the current second");
    ok(l.max == 100, "max is exact (%g)", l.max);
    ok(near(l.p50, 50, 0.125), "p50 near 50 (%g)", l.p50);
    ok(near(l.p90, 90, 0.125), "p90 near 90 (%g)", l.p90);
    ok(near(l.p99, 99, 0.125) && l.p99 <= l.max, "p99 near 99, not above max (%g)", l.p99);

    stats_get_latency(s, AT(59, 0), &l);
    is_int((long long)l.count, 100, "still in the 60 s window 59 s later");
    stats_get_latency(s, AT(60, 0), &l);
    is_int((long long)l.count, 0, "gone after 60 s");

    for (int i = 0; i < 9; i++)
        stats_attempt(s, "ep_a", 200, 3, AT(100, 0));
    stats_attempt(s, "ep_a", 200, 7000, AT(100, 0));
    stats_get_latency(s, AT(100, 500), &l);
    ok(l.p50 == 3 && l.p90 == 3, "small values are exact (p50 %g, p90 %g)", l.p50, l.p90);
    ok(l.max == 7000 && near(l.p99, 7000, 0.125), "one slow outlier is p99 and max (%g)", l.p99);
    stats_free(s);
}

static void test_hist(void)
{
    struct stats *s;
    struct stats_hist h;
    static const int64_t v[] = { 3, 5, 7, 30, 20000 };

    stats_new(&s);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        stats_attempt(s, NULL, 200, v[i], AT(0, 0));
    stats_attempt(s, NULL, 200, -1, AT(0, 0));   /* a manual attempt: no latency */
    stats_get_hist(s, &h);
    is_int((long long)h.count, 5, "five latencies in the histogram");
    is_int((long long)h.sum_ms, 3 + 5 + 7 + 30 + 20000, "their sum");
    ok(h.cumulative[0] == 2 && h.cumulative[1] == 3 && h.cumulative[2] == 3
       && h.cumulative[3] == 4 && h.cumulative[10] == 4 && h.cumulative[11] == 5,
       "cumulative: le 5 holds 5 itself, le 10000 not 20 s, +Inf everything");
    is_int(stats_hist_le[0], 5, "first bound 5 ms");
    is_int(stats_hist_le[STATS_HIST_BUCKETS - 2], 10000, "last finite bound 10 s");
    stats_free(s);
}

static void test_endpoints(void)
{
    struct stats *s;
    uint64_t okc, fail;

    stats_new(&s);
    for (int i = 0; i < 3; i++)
        stats_attempt(s, "ep_a", 200, 1, AT(0, i));
    stats_attempt(s, "ep_a", 500, -1, AT(0, 10));
    stats_attempt(s, "ep_a", 0, -1, AT(5, 0));
    stats_attempt(s, "ep_b", 503, -1, AT(5, 0));
    stats_ep_recent(s, "ep_a", AT(10, 0), &okc, &fail);
    ok(okc == 3 && fail == 2, "ep_a: 3 successes, 2 failures (%llu, %llu)",
       (unsigned long long)okc, (unsigned long long)fail);
    stats_ep_recent(s, "ep_b", AT(10, 0), &okc, &fail);
    ok(okc == 0 && fail == 1, "ep_b counted apart");
    stats_ep_recent(s, "ep_c", AT(10, 0), &okc, &fail);
    ok(okc == 0 && fail == 0, "an unknown endpoint has none");
    stats_ep_recent(s, "ep_a", AT(280, 0), &okc, &fail);
    ok(okc == 3 && fail == 2, "still there 4.5 minutes later");
    stats_ep_recent(s, "ep_a", AT(310, 0), &okc, &fail);
    ok(okc == 0 && fail == 0, "gone after 5 minutes");
    stats_attempt(s, "ep_b", 200, 1, AT(400, 0));   /* sweeps the quiet ep_a away */
    stats_ep_recent(s, "ep_b", AT(400, 0), &okc, &fail);
    ok(okc == 1 && fail == 0, "a returning endpoint starts afresh");
    stats_free(s);
}

#define THREADS 4
#define PER_THREAD 100000

static void *hammer(void *arg)
{
    struct stats *s = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        stats_attempt(s, "ep_t", 200, i % 50, AT(0, i % 1000));
        stats_ingest(s, AT(0, i % 1000), 1);
    }
    return NULL;
}

static void test_threads(void)
{
    struct stats *s;
    struct stats_counters c;
    struct stats_rates r;
    struct stats_hist h;
    pthread_t t[THREADS];
    uint64_t okc, fail;

    stats_new(&s);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, s);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    stats_get_counters(s, &c);
    stats_get_rates(s, AT(1, 0), &r);
    stats_get_hist(s, &h);
    stats_ep_recent(s, "ep_t", AT(1, 0), &okc, &fail);
    is_int((long long)c.succeeded, THREADS * PER_THREAD, "no success lost between threads");
    is_int((long long)r.success[STATS_1S], THREADS * PER_THREAD, "nor in the second's slot");
    is_int((long long)r.ingest[STATS_1S], THREADS * PER_THREAD, "nor an ingest");
    is_int((long long)h.count, THREADS * PER_THREAD, "nor a histogram entry");
    is_int((long long)okc, THREADS * PER_THREAD, "nor an endpoint count");
    stats_free(s);
}

static void test_http(void)
{
    struct stats *s;
    uint64_t n[STATS_ROUTES][STATS_NETWORK];

    stats_new(&s);
    stats_http(s, STATS_R_INGEST, 202);
    stats_http(s, STATS_R_INGEST, 401);
    stats_http(s, STATS_R_METRICS, 200);
    stats_http(s, STATS_R_UNKNOWN, 404);
    stats_http(s, STATS_R_MANAGEMENT, 507);
    stats_http(s, STATS_R_HEALTH, 0);                 /* out of range: 5xx */
    stats_http(s, (enum stats_route)99, 200);         /* unknown class: unknown */
    stats_get_http(s, n);
    ok(n[STATS_R_INGEST][STATS_2XX] == 1 && n[STATS_R_INGEST][STATS_4XX] == 1
       && n[STATS_R_METRICS][STATS_2XX] == 1 && n[STATS_R_UNKNOWN][STATS_4XX] == 1
       && n[STATS_R_MANAGEMENT][STATS_5XX] == 1 && n[STATS_R_HEALTH][STATS_5XX] == 1
       && n[STATS_R_UNKNOWN][STATS_2XX] == 1,
       "http answers by route class and status class");
    is_str(stats_route_name[STATS_R_OPERATIONS], "operations", "route class label");
    stats_free(s);
}

int main(void)
{
    test_counters();
    test_rates();
    test_history();
    test_latency();
    test_hist();
    test_endpoints();
    test_threads();
    test_http();
    return done_testing();
}
