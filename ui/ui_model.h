/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_model.h - what the console knows about the server: snapshots parsed
 * from the API's JSON, the rate history behind the sparklines, the feed
 * ring, the failed-deliveries list with the operator's marks and the
 * replays being followed, and one delivery's detail.
 *
 * No curses and no I/O here: the model is fed response bodies by the
 * controller (ui_app.c) and read by the views. Single-threaded: only the
 * console's main thread touches a model. Strings in the structs are owned
 * by the model and already escaped for the terminal (ui_escape) unless the
 * field says "raw" (ids and names used to build URLs).
 */
#ifndef HOOKD_UI_MODEL_H
#define HOOKD_UI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define UI_HIST 300          /* seconds of rate history: 5 minutes */
#define UI_FEED_MAX 2000     /* feed items kept */

/* State of one fetched resource. */
enum ui_res_state { UI_RES_NONE, UI_RES_OK, UI_RES_UNAVAILABLE, UI_RES_ERROR };

struct ui_res {
    enum ui_res_state state;
    int64_t fetched_ms;     /* monotonic time of the last good snapshot, 0: never */
    long status;            /* HTTP status of the last answer, 0: no answer */
    char error[160];        /* why the last fetch failed */
    int live;               /* a long poll: no age while it is answering */
};

#define UI_NODES_MAX 16      /* cluster nodes shown */

/* A node of a cluster, as the server's view (stats' cluster.nodes) lists it. */
struct ui_node {
    char id[64], role[16];           /* escaped; role "owner", "standby" or "?" */
    char groups[64];                 /* escaped: the groups it owns, else those it follows ("0,3") */
    char listen[64];                 /* escaped; "" not said */
    int self, reachable;
    double seq, lag, lag_s;          /* applied sequence, lag in entries and s; -1: not said */
    double silent_ms;                /* since it last answered; -1: not said */
};

/* Cluster mode as /hookd/v1/stats says it (its "cluster" object). */
struct ui_cluster {
    int on;                          /* the server runs in cluster mode */
    char node_id[64], role[16], owner[64];   /* escaped; owner "" when unknown */
    double log_seq;                  /* the log's last sequence; -1: not said */
    struct ui_node nodes[UI_NODES_MAX];
    size_t n, more;                  /* nodes kept, and left out past UI_NODES_MAX */
};

struct ui_stats {
    char version[32];
    double uptime_s;
    double ingested, succeeded, failed, failed_final;      /* counters */
    double pending, scheduled, held, inflight;             /* gauges */
    double failed_now;                                     /* failed deliveries kept */
    double rate_ingest, rate_ok, rate_fail;                /* per s, -1: absent */
    double p50, p90, p99, max;                             /* ms, -1: absent */
    double db_bytes, map_bytes, readers;                   /* -1: absent */
    double stored, payload_ret_s;      /* messages in the log; payloads kept (0: for good) */
    int64_t oldest_payload_ms;         /* wall ms; 0: none or not said */
    int hold;                          /* every delivery held (serve --hold-deliveries) */
    struct ui_cluster cluster;
};

/* Per-second rates derived from successive counter snapshots. */
struct ui_series {
    double v[UI_HIST];      /* oldest first */
    int n;
};

struct ui_rates {
    struct ui_series ingest, ok, fail;
    int64_t last_ms;        /* monotonic time of the previous sample, 0: none */
    double last_in, last_ok, last_fail;
};

/*
 * What an endpoint's row says, each word true as of the snapshot (the help
 * screen explains them): ok; retry: deliveries wait for a scheduled retry;
 * errors: attempts failed in the last 5 min, none waits for a retry;
 * FAIL: failing now (3 in a row, or most of the last 5 min); off:
 * disabled; paused: deliveries held.
 */
enum ui_health { UI_H_OK, UI_H_RETRY, UI_H_FAIL, UI_H_OFF, UI_H_PAUSED, UI_H_ERRORS,
                 UI_H_N };

struct ui_endpoint {
    char *app_id, *app_uid, *id;   /* raw */
    char *url, *last_error;        /* escaped */
    int disabled, paused;
    char *disabled_reason;         /* raw: operator, http_410, failures; "" unknown */
    int64_t disabled_at;           /* wall ms, 0: not disabled or not said */
    double missed;                 /* messages missed while disabled, -1: not said */
    int missed_capped;             /* missed is a floor */
    double backlog, inflight, ok5m, fail5m, consecutive;
    double retrying;               /* of the backlog, waiting for a scheduled retry; -1: not said */
    long last_status;
    int64_t last_at;               /* wall ms, 0: never */
};

/* How a replayed delivery is doing, as the feed reports it. */
enum ui_track { UI_T_NONE, UI_T_QUEUED, UI_T_OK, UI_T_FAIL, UI_T_SKIPPED };

struct ui_delivery {
    char *msg_id, *app_id, *ep_id, *event_type;   /* raw */
    char *status, *last_error;                    /* escaped */
    long attempts, last_status;
    int64_t next_at, updated_at;                  /* wall ms */
    int marked;
    enum ui_track track;
    long track_status;
    char track_why[32];                           /* UI_T_SKIPPED: the server's reason */
};

struct ui_feed_item {
    int64_t seq, ts;
    char *msg_id, *app_id, *ep_id, *event_type;   /* raw */
    char *error;                                  /* escaped */
    long status, duration_ms;
    int ok, manual;
};

struct ui_attempt {
    char *id;                      /* raw */
    char *url, *response;          /* escaped; response is raw-ish text */
    char *response_raw;            /* raw bytes for line splitting */
    char **headers;                /* responseHeaders as "name: value" lines, escaped */
    size_t nheaders;
    long status_code, duration_ms, status, trigger;
    int64_t ts;
};

struct ui_detail {
    char *app_id, *msg_id, *ep_id;     /* raw: what was asked for */
    char *event_type, *event_id;       /* escaped */
    int64_t ts;
    char **payload;                    /* pretty-printed, escaped lines */
    size_t npayload;
    char **headers;                    /* the endpoint's custom headers, escaped lines */
    size_t nheaders;
    struct ui_attempt *att;            /* newest first */
    size_t natt;
    struct ui_res msg_res, att_res;
};

/* An application token as GET /hookd/v1/tokens lists it (ui_tokens.c). */
struct ui_token {
    char *id, *app_id;             /* raw */
    char *app_uid;                 /* escaped; "" when the application has none */
    char *prefix;                  /* escaped: the token's first characters */
    char *access;                  /* "full", "limited" or "read-only" */
    int expired;
    int64_t created_at, expires_at;   /* wall ms */
};

struct ui_model {
    int utf8;                          /* the terminal takes UTF-8 */
    struct ui_res stats_res, ep_res, failed_res, feed_res;
    struct ui_stats stats;
    struct ui_rates rates;
    struct ui_endpoint *eps;
    size_t neps;
    struct ui_delivery *failed;
    size_t nfailed;
    int failed_done;                   /* the server had no more rows */
    struct ui_feed_item *feed;         /* ring of UI_FEED_MAX */
    size_t feed_head, nfeed;           /* oldest at feed_head */
    int64_t feed_seq;
    struct ui_detail detail;
    struct ui_token *tokens;           /* the tokens dialog's list */
    size_t ntokens;
    struct ui_res tokens_res;
};

void ui_model_init(struct ui_model *m, int utf8);
void ui_model_release(struct ui_model *m);

/* Mark a resource fetched (OK) or failed; error (the answer's detail) is
 * copied. A 404 or 405 that names no thing ("no route ...") means the
 * server lacks the call: UI_RES_UNAVAILABLE. */
void ui_res_ok(struct ui_res *r, int64_t mono_ms);
void ui_res_fail(struct ui_res *r, long status, const char *error);

/*
 * Parse a /hookd/v1/stats body into m->stats and add a rate sample taken
 * at monotonic time now_ms. 0, or -1 if the body is not a stats object.
 */
int ui_model_stats(struct ui_model *m, const char *body, int64_t now_ms);
/* Add one rate sample from counters (exposed for tests). */
void ui_rates_sample(struct ui_rates *r, int64_t now_ms, double in, double ok, double fail);
void ui_series_push(struct ui_series *s, double v);
/*
 * Put the server's per-second history (v[0..n), oldest first, up to the
 * last complete second) in front of what s sampled itself: the newest of
 * it overlaps the seconds s already has, so as many are left out.
 */
void ui_series_seed(struct ui_series *s, const double *v, int n);
/*
 * Seed the rate series from a /hookd/v1/stats/history body. 0, or -1 if
 * the body is not a history.
 */
int ui_model_history(struct ui_model *m, const char *body);

/* Replace the endpoint list from a /hookd/v1/endpoints body. 0 or -1. */
int ui_model_endpoints(struct ui_model *m, const char *body);
const struct ui_endpoint *ui_model_endpoint(const struct ui_model *m, const char *ep_id);
/* A short label for an app id: its uid when an endpoint row names it. */
const char *ui_model_app_label(const struct ui_model *m, const char *app_id);
enum ui_health ui_endpoint_health(const struct ui_endpoint *e);
/* Success rate in % over the last 5 min, -1 without attempts. */
double ui_endpoint_ok_pct(const struct ui_endpoint *e);

/*
 * Replace the failed list from a /hookd/v1/deliveries body, keeping marks
 * and the replays being followed: a followed row the server no longer
 * lists as failed stays on top with its tracked state. 0 or -1.
 */
int ui_model_failed(struct ui_model *m, const char *body);
/* Forget every followed replay and mark (a new filter). */
void ui_model_failed_clear(struct ui_model *m);
struct ui_delivery *ui_model_find_failed(struct ui_model *m, const char *msg_id,
                                         const char *ep_id);
/*
 * Apply a replay's answer (POST /hookd/v1/deliveries/replay): the rows it
 * lists in skippedDeliveries were not sent (UI_T_SKIPPED, with the
 * reason); when it queued none, no row waiting for it was sent. Returns
 * the number of rows marked.
 */
size_t ui_model_replay_answer(struct ui_model *m, const char *body);
/* The server's reason for a skipped replay in words: "endpoint disabled". */
const char *ui_skip_words(const char *why);

/*
 * Append the items of a /hookd/v1/feed body to the ring and update the
 * followed replays they concern. Returns the number of items added or -1.
 */
int ui_model_feed(struct ui_model *m, const char *body);
/* i-th feed item, oldest first (i < m->nfeed). */
const struct ui_feed_item *ui_model_feed_at(const struct ui_model *m, size_t i);
void ui_model_feed_clear(struct ui_model *m);

/* Point the detail at a delivery (clears what was loaded). */
void ui_detail_open(struct ui_detail *d, const char *app_id, const char *msg_id,
                    const char *ep_id);
void ui_detail_release(struct ui_detail *d);
/* The message body of GET /api/v1/app/{app}/msg/{msg}. 0 or -1. */
int ui_model_detail_msg(struct ui_model *m, const char *body);
/* The attempts of GET /api/v1/app/{app}/attempt/msg/{msg}?endpoint_id=. 0 or -1. */
int ui_model_detail_attempts(struct ui_model *m, const char *body);

/* The custom headers of GET .../endpoint/{ep}/headers. 0 or -1. */
int ui_model_detail_headers(struct ui_model *m, const char *body);

/* The "detail" of an HTTP error body ({"code","detail"}) or NULL; heap. */
char *ui_model_error_detail(const char *body);

#endif
