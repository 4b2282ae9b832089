/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats.h - process-wide delivery statistics: counters since start,
 * per-second rates, delivery latency and recent per-endpoint outcomes.
 *
 * What is counted is decided by the callers, after the write it describes
 * has committed: a message once its create committed (api layer), an
 * attempt once its outcome committed (dispatcher's job_done), a final
 * failure once the outcome that set it committed. Nothing here survives
 * a restart; the durable gauges live in the store (store.h, ep_health and
 * meta "failed").
 *
 * Times are passed in (ms since the epoch), so tests control the clock.
 * Rates are over complete seconds ([now - w, now) in whole seconds); the
 * latency percentiles cover the last 60 s including the current one.
 *
 * Threads: every function may be called from any thread. Counters are C11
 * atomics; a per-second slot is cleared for its new second under a mutex
 * once per second; the per-endpoint table has its own mutex. Readers may
 * see a second that is still being counted: figures are for dashboards.
 */
#ifndef HOOKD_STATS_H
#define HOOKD_STATS_H

#include <stdint.h>

struct stats;

/* Status classes of attempts; network: no HTTP response (code 0 or invalid). */
enum stats_class { STATS_2XX, STATS_3XX, STATS_4XX, STATS_5XX, STATS_NETWORK, STATS_CLASSES };

/* Rate windows in seconds: 1, 10, 60. */
enum stats_window { STATS_1S, STATS_10S, STATS_60S, STATS_WINDOWS };

/* Cumulative latency histogram bounds (ms) for Prometheus; the last bucket is +Inf. */
#define STATS_HIST_BUCKETS 12
extern const int64_t stats_hist_le[STATS_HIST_BUCKETS - 1];

int stats_new(struct stats **out);
void stats_free(struct stats *s);

/* n messages were ingested (committed) at now_ms. */
void stats_ingest(struct stats *s, int64_t now_ms, uint64_t n);
/*
 * One attempt's committed outcome: status_code 0 when there was no HTTP
 * response; latency_ms (message timestamp to response) is counted for
 * successes when >= 0. ep_id feeds the per-endpoint 5-minute counts.
 */
void stats_attempt(struct stats *s, const char *ep_id, int status_code, int64_t latency_ms,
                   int64_t now_ms);
/* A delivery was final-failed (retries exhausted) by a committed outcome. */
void stats_final_fail(struct stats *s);

/* Why a delivery was put off without an attempt: its outcome could not be
 * written (a full store), or there was no descriptor for its socket. */
enum stats_postpone { STATS_PP_STORE_FULL, STATS_PP_NO_SOCKET, STATS_PP_STORE_ERROR,
                     STATS_PP_REASONS };
extern const char *const stats_postpone_name[STATS_PP_REASONS];
/* One delivery was put off for reason r; it is sent again later. */
void stats_postponed(struct stats *s, enum stats_postpone r);

struct stats_counters {
    uint64_t ingested;
    uint64_t succeeded;
    uint64_t failed;                  /* attempts that failed */
    uint64_t failed_final;            /* deliveries that final-failed */
    uint64_t postponed[STATS_PP_REASONS]; /* deliveries put off without an attempt */
    uint64_t by_class[STATS_CLASSES]; /* attempts by status class */
};
void stats_get_counters(struct stats *s, struct stats_counters *out);

/* Per second, averaged over each window. */
struct stats_rates {
    double ingest[STATS_WINDOWS];
    double success[STATS_WINDOWS];
    double failure[STATS_WINDOWS];
};
void stats_get_rates(struct stats *s, int64_t now_ms, struct stats_rates *out);

/*
 * What each of the last n complete seconds (before now's) counted, oldest
 * first: messages ingested, attempts that succeeded and that failed. n is
 * at most STATS_HISTORY_S; a second before the start, or one nothing
 * happened in, is 0. The console's sparklines start from it.
 */
#define STATS_HISTORY_S 300
void stats_get_history(struct stats *s, int64_t now_ms, int n, uint64_t *ingest, uint64_t *ok,
                       uint64_t *fail);

/*
 * Delivery latency of the successes of the last 60 s, in ms. Percentiles
 * come from log buckets a quarter octave wide (exact below 8 ms, within
 * about 12 % above) and never exceed max, which is exact. count 0: none.
 */
struct stats_latency {
    uint64_t count;
    double p50, p90, p99, max;
};
void stats_get_latency(struct stats *s, int64_t now_ms, struct stats_latency *out);

/* Since start: cumulative[i] counts latencies <= stats_hist_le[i] (last: all). */
struct stats_hist {
    uint64_t cumulative[STATS_HIST_BUCKETS];
    uint64_t count;
    uint64_t sum_ms;
};
void stats_get_hist(struct stats *s, struct stats_hist *out);

/*
 * API answers by route class (what the router matched; unknown when it
 * matched nothing or the request was refused before routing: 413, 414,
 * 431) and status class. Counted by the listener as each answer is queued.
 */
enum stats_route {
    STATS_R_UNKNOWN, STATS_R_INGEST, STATS_R_MANAGEMENT, STATS_R_OPERATIONS, STATS_R_HEALTH,
    STATS_R_METRICS, STATS_ROUTES
};
/* "unknown", "ingest", ...: the label values of hookd_http_requests_total. */
extern const char *const stats_route_name[STATS_ROUTES];
/* One answer with HTTP status code status; codes outside 200..599 count as 5xx. */
void stats_http(struct stats *s, enum stats_route route, int status);
/* out[route][class] for classes STATS_2XX..STATS_5XX, since start. */
void stats_get_http(struct stats *s, uint64_t out[STATS_ROUTES][STATS_NETWORK]);

/*
 * The listener's gauges: client connections open, and requests waiting
 * for the log (handed to the writer, not yet answered). delta is +1 or
 * -1. A waiting count that stays above zero while nothing is ingested
 * means answers are stuck between the commit and the client.
 */
void stats_http_conn(struct stats *s, int delta);
void stats_http_waiting(struct stats *s, int delta);
struct stats_http_now {
    int64_t connections;
    int64_t waiting;
};
void stats_get_http_now(struct stats *s, struct stats_http_now *out);

/*
 * Successes and failures of ep_id's attempts over the last 5 minutes (in
 * 10-second steps). Endpoints without an attempt for 5 minutes are
 * forgotten, so the table is bounded by the endpoints that are active.
 */
void stats_ep_recent(struct stats *s, const char *ep_id, int64_t now_ms, uint64_t *ok,
                     uint64_t *fail);

#endif
