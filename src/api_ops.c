/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_ops.c - hookd's operations API (API.md 9): stats, the endpoints
 * table, pause and resume, and the live feed. The deliveries list and
 * replay are in api_deliveries.c.
 *
 * Nothing here scans the log per call: the durable gauges come from the
 * counts kept beside the writes they count (each endpoint's backlog and
 * retrying in its health row, the meta "failed" counter; store.h), so a
 * stats call reads one health row per endpoint whatever the backlog.
 * Rates, latency and the 5-minute outcome counts come from memory
 * (stats.h) and start again with the process.
 *
 * The feed's long poll must not hold an HTTP thread: a request that finds
 * nothing new suspends its connection (http_suspend) and registers with
 * the feed, whose thread answers and resumes it when an outcome arrives or
 * the wait runs out.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_kinds.h"
#include "entry_kinds.h"
#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "epstats.h"
#include "err.h"
#include "feed.h"
#include "log.h"
#include "mem.h"
#include "part.h"
#include "missing.h"
#include "outcome.h"
#include "proc.h"
#include "retention.h"
#include "stats.h"
#include "writer.h"

#define FEED_LIMIT_DEFAULT 100
#define FEED_LIMIT_MAX 1000
#define FEED_WAIT_MAX_S 30

/* --- small shared pieces --- */

void api_count_ingest(struct http_req *r)
{
    struct api *a = http_ctx(r);
    if (a->stats)
        stats_ingest(a->stats, clock_now_ms(), 1);
}

int api_health_del(struct store_txn *t, const char *ep_id)
{
    int rc = store_del(t, DB_EP_HEALTH, ep_id, strlen(ep_id));
    if (rc == HOOKD_ENOTFOUND)
        rc = 0;
    return rc ? rc : epstats_del(t, ep_id);   /* the stats counters go with it */
}

static int ep_held(json_t *rec)
{
    return json_is_true(json_object_get(rec, "disabled"))
           || json_is_true(json_object_get(rec, "paused"));
}

static json_t *time_or_null(int64_t ms)
{
    char ts[CLOCK_RFC3339_MAX];
    if (ms <= 0)
        return json_null();
    clock_format(ms, ts);
    return json_string(ts);
}

json_t *api_attempt_error(struct store_txn *t, const char *att_id, size_t len)
{
    json_t *rec;
    char text[256];
    if (store_get_json(t, DB_ATTEMPTS, att_id, len, &rec))
        return json_null();
    json_t *resp = json_object_get(rec, "response");
    int failed = json_integer_value(json_object_get(rec, "status")) != 0;
    if (failed)
        outcome_error_text((int)json_integer_value(json_object_get(rec, "responseStatusCode")),
                           json_string_value(resp), json_string_length(resp), text,
                           sizeof(text));
    json_decref(rec);
    return failed ? json_string(text) : json_null();
}

/* lastError of an endpoint: its newest attempt, when that failed. */
static int newest_attempt(const struct store_kv *kv, void *arg)
{
    struct store_kv *out = arg;
    *out = *kv;
    return 1;
}

static json_t *ep_last_error(struct store_txn *t, const char *ep_id)
{
    struct store_kv kv = { 0 };
    char hi[ID_MAX + 1];
    size_t el = strlen(ep_id);
    snprintf(hi, sizeof(hi), "%s\x7f", ep_id);
    if (store_scan(t, DB_ATT_BY_EP, ep_id, el, hi, el + 1, 1, newest_attempt, &kv) != 1)
        return json_null();
    return api_attempt_error(t, (const char *)kv.key + el, kv.klen - el);
}

/* --- the endpoints table --- */

struct ep_rows {
    struct api *a;
    struct store_txn *t;
    int64_t now;
    char app_id[ID_MAX];      /* the app whose uid is in app_uid (rows come grouped by app) */
    json_t *app_uid;
    size_t missed_budget;     /* messages put_missed may still examine for this request */
};

static json_t *app_uid_of(struct ep_rows *x, const char *app_id)
{
    if (strcmp(x->app_id, app_id) != 0) {
        json_t *app;
        json_decref(x->app_uid);
        x->app_uid = json_null();
        snprintf(x->app_id, sizeof(x->app_id), "%s", app_id);
        if (store_get_json(x->t, DB_APPS, app_id, strlen(app_id), &app) == 0) {
            json_t *uid = json_object_get(app, "uid");
            if (json_is_string(uid))
                x->app_uid = json_incref(uid);
            json_decref(app);
        }
    }
    return json_incref(x->app_uid);
}

static void put_health(json_t *o, struct store_txn *t, const char *ep_id)
{
    struct store_health h = { 0 };
    const void *v;
    size_t n;
    if (store_get(t, DB_EP_HEALTH, ep_id, strlen(ep_id), &v, &n) == 0)
        store_health_decode(v, n, &h);
    json_object_set_new(o, "backlog", json_integer(h.backlog));
    json_object_set_new(o, "consecutiveFailures", json_integer(h.consecutive_failures));
    json_object_set_new(o, "retrying", json_integer(h.retrying));   /* retries scheduled */
    json_object_set_new(o, "lastStatusCode",
                        h.last_attempt_ms ? json_integer(h.last_code) : json_null());
    json_object_set_new(o, "lastError", h.last_attempt_ms ? ep_last_error(t, ep_id) : json_null());
    json_object_set_new(o, "lastAttemptAt", time_or_null(h.last_attempt_ms));
}

/*
 * A disabled endpoint is not subscribed: what arrived since it was
 * disabled has no delivery for it. Count those messages (missing.h) for
 * the operator, up to MISSED_SCAN of them examined per endpoint and
 * MISSED_BUDGET per request, on this HTTP thread (missedCapped then says
 * the count is a floor); replay-missing sends them.
 */
#define MISSED_SCAN 20000
#define MISSED_BUDGET 100000
static void put_missed(struct ep_rows *x, json_t *o, json_t *rec, const char *app,
                       const char *id)
{
    json_t *at = json_object_get(rec, "disabledAt");
    struct missing_walk w;
    size_t scan = x->missed_budget < MISSED_SCAN ? x->missed_budget : MISSED_SCAN;
    if (!json_is_true(json_object_get(rec, "disabled")) || !json_is_integer(at) || !scan) {
        json_object_set_new(o, "missed", json_null());
        json_object_set_new(o, "missedCapped", json_boolean(json_is_integer(at) && !scan));
        return;
    }
    missing_walk_init(&w, app, id, json_integer_value(at), -1);
    int rc = missing_walk_step(&w, x->t, rec, scan, NULL, NULL);
    uint64_t seen = 0;
    for (int i = 0; i < MISSING_NCLASSES; i++)
        seen += w.counts[i];
    x->missed_budget -= seen < x->missed_budget ? seen : x->missed_budget;
    json_object_set_new(o, "missed", rc < 0 ? json_null()
                                            : json_integer((json_int_t)w.counts[MISSING_FOUND]));
    json_object_set_new(o, "missedCapped", json_boolean(rc == 0));
}

/* One row of GET /hookd/v1/endpoints from an endpoint record. */
static json_t *ep_row(struct ep_rows *x, json_t *rec)
{
    const char *app = json_string_value(json_object_get(rec, "appId"));
    const char *id = json_string_value(json_object_get(rec, "id"));
    uint64_t ok = 0, fail = 0;
    if (!app || !id)
        return NULL;
    if (x->a->stats)
        stats_ep_recent(x->a->stats, id, x->now, &ok, &fail);
    json_t *o = json_pack("{s:s, s:o, s:s, s:O, s:b, s:b}", "appId", app, "appUid",
                          app_uid_of(x, app), "endpointId", id, "url",
                          json_object_get(rec, "url"), "disabled",
                          json_is_true(json_object_get(rec, "disabled")), "paused",
                          json_is_true(json_object_get(rec, "paused")));
    json_object_set_new(o, "inflight",
                        json_integer(x->a->dispatch ? dispatch_ep_inflight(x->a->dispatch, id)
                                                    : 0));
    json_object_set_new(o, "successes5m", json_integer((json_int_t)ok));
    json_object_set_new(o, "failures5m", json_integer((json_int_t)fail));
    put_health(o, x->t, id);
    api_disabled_out(o, rec);
    put_missed(x, o, rec, app, id);
    return o;
}

static json_t *ep_list_row(const struct store_kv *kv, void *arg)
{
    json_t *rec = json_loadb(kv->val, kv->vlen, 0, NULL);
    json_t *o = rec ? ep_row(arg, rec) : NULL;
    json_decref(rec);
    return o;
}

/*
 * Across all applications of every partition group (group.h), in key
 * order (app id, then endpoint id), merged as one store's list.
 */
void api_ops_endpoints(struct api *a, struct http_req *r, char **p)
{
    struct store_txn *ts[PART_GROUPS_MAX];
    const struct api_page *ps[PART_GROUPS_MAX];
    int n = api_read_groups(a, r, ts);
    if (n < 0)
        return;
    struct ep_rows *x = xcalloc((size_t)n, sizeof(*x));
    struct api_page *pg = xcalloc((size_t)n, sizeof(*pg));
    int64_t now = clock_now_ms();
    for (int g = 0; g < n; g++) {
        x[g] = (struct ep_rows){ .a = api_group(a, g), .t = ts[g], .now = now,
                                 .app_uid = json_null(), .missed_budget = MISSED_BUDGET / n };
        pg[g] = (struct api_page){ .db = DB_ENDPOINTS, .prefix = "", .row = ep_list_row,
                                   .arg = &x[g] };
        ps[g] = &pg[g];
    }
    api_list_groups(r, ts, ps, n);
    for (int g = 0; g < n; g++)
        json_decref(x[g].app_uid);
    api_abort_groups(ts, n);
    free(pg);
    free(x);
}

/* --- pause and resume --- */

static int pause_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    /* no missed count here: the writer does not walk messages (missed is null) */
    struct ep_rows x = { .a = http_ctx(r), .t = t, .now = j->now, .app_uid = json_null() };
    char app[ID_MAX], id[ID_MAX], key[2 * ID_MAX];
    json_t *rec = NULL;
    const char *what = "application";
    int rc = api_find_app(t, j->p[0], app);
    if (rc == 0) {
        what = "endpoint";
        rc = api_find_endpoint(t, app, j->p[1], id);
    }
    size_t kl = rc ? 0 : (size_t)snprintf(key, sizeof(key), "%s%s", app, id);
    if (rc == 0)
        rc = store_get_json(t, DB_ENDPOINTS, key, kl, &rec);
    if (rc == HOOKD_ENOTFOUND)
        api_not_found(r, what);
    if (rc)
        return rc;
    json_object_set_new(rec, "paused", json_boolean(j->opt));
    rc = store_put_json(t, DB_ENDPOINTS, key, kl, rec);
    if (!rc) {
        api_touch_settings(r, app, id);   /* the dispatcher reloads: holds or releases */
        http_reply_json(r, 200, ep_row(&x, rec));
    }
    json_decref(rec);
    json_decref(x.app_uid);
    return rc;
}

static void submit_pause(struct http_req *r, char **p, int paused)
{
    struct api_job *j = api_job_new(p, NULL);
    j->opt = paused;
    /*
     * The answer holds this process's figures (inflight, the last 5
     * minutes' outcomes), which a saved idempotency answer would put in
     * the store, where a re-apply of the entry cannot make them the same.
     * Pause and resume set a flag, so a retry does the same thing again:
     * keep no answer.
     */
    r->has_idem = 0;
    api_submit(r, &api_kind_ep_pause, j);
}

void api_ops_pause(struct api *a, struct http_req *r, char **p)
{
    submit_pause(r, p, 1);
}

void api_ops_resume(struct api *a, struct http_req *r, char **p)
{
    submit_pause(r, p, 0);
}

/*
 * POST /hookd/v1/deliveries/release: lift the hold of --hold-deliveries
 * (dispatch.h). Nothing to write: the hold lives in the dispatcher only,
 * so a restart with the flag holds again, and one without it does not.
 */
void api_ops_release(struct api *a, struct http_req *r, char **p)
{
    int was = 0;
    for (int g = 0; g < api_groups(a); g++) {   /* every partition group's dispatcher */
        struct api *ga = api_group(a, g);
        struct dispatch *d = ga->dispatch;
        /* a group this node follows is held for good: its owner delivers it */
        if (atomic_load_explicit(&ga->cluster_standby, memory_order_relaxed))
            continue;
        if (d && dispatch_held(d)) {
            dispatch_release(d);
            was = 1;
        }
    }
    if (was) {
        log_warn("deliveries released", "detail", "the hold of --hold-deliveries is lifted",
                 NULL);
    }
    http_reply_json(r, 200, json_pack("{s:b, s:b}", "deliveryHold", 0, "released", was));
}

/* --- stats --- */

struct gauges {
    struct api_gauges *g;
    struct store_txn *t;
};

static int add_gauges(const struct store_kv *kv, void *arg)
{
    struct gauges *x = arg;
    struct api_gauges *g = x->g;
    json_t *rec = json_loadb(kv->val, kv->vlen, 0, NULL);
    const char *id = json_string_value(json_object_get(rec, "id"));
    struct store_health h = { 0 };
    const void *v;
    size_t n;
    if (id && store_get(x->t, DB_EP_HEALTH, id, strlen(id), &v, &n) == 0)
        store_health_decode(v, n, &h);
    int64_t retrying = h.retrying < h.backlog ? h.retrying : h.backlog;
    if (ep_held(rec)) {
        g->held += h.backlog;
    } else {
        g->pending += h.backlog - retrying;
        g->scheduled += retrying;
    }
    g->endpoints++;
    if (id && g->each)
        g->each(g->arg, id, &h);
    json_decref(rec);
    return 0;
}

/* One group's store added to g. */
static int gauges_add(struct store *s, struct api_gauges *g)
{
    struct gauges x = { .g = g };
    int64_t failed = 0, messages = 0;
    int rc = store_read(s, &x.t);
    if (rc)
        return rc;
    rc = store_scan(x.t, DB_ENDPOINTS, "", 0, NULL, 0, 0, add_gauges, &x);
    if (rc >= 0)
        rc = store_counter_get(x.t, "failed", &failed);
    if (rc >= 0)
        rc = store_entries(x.t, DB_MESSAGES, &messages);
    store_abort(x.t);
    g->failed += failed;
    g->messages += messages;
    return rc < 0 ? rc : 0;
}

/* Summed over every partition group (group.h). */
int api_gauges(struct api *a, struct api_gauges *g)
{
    int rc = 0;
    g->pending = g->scheduled = g->held = g->failed = g->endpoints = g->messages = 0;
    for (int i = 0; i < api_groups(a) && !rc; i++)
        rc = gauges_add(api_group(a, i)->store, g);
    return rc;
}

/* The durable gauges: one health row per endpoint, never the due index. */
static int store_gauges(struct api *a, json_t *out)
{
    struct api_gauges g = { 0 };
    int rc = api_gauges(a, &g);
    if (rc)
        return rc;
    json_object_set_new(out, "deliveriesPending", json_integer(g.pending));
    json_object_set_new(out, "deliveriesScheduled", json_integer(g.scheduled));
    json_object_set_new(out, "deliveriesHeld", json_integer(g.held));
    json_object_set_new(out, "deliveriesFailed", json_integer(g.failed));
    json_object_set_new(out, "messagesStored", json_integer(g.messages));
    return 0;
}

static json_t *windows(const double *v)
{
    return json_pack("{s:f, s:f, s:f}", "1s", v[STATS_1S], "10s", v[STATS_10S], "60s",
                     v[STATS_60S]);
}

static void put_memory_figures(struct api *a, json_t *out, int64_t now)
{
    struct stats_counters c = { 0 };
    struct stats_rates rt = { 0 };
    struct stats_latency l = { 0 };
    if (a->stats) {
        stats_get_counters(a->stats, &c);
        stats_get_rates(a->stats, now, &rt);
        stats_get_latency(a->stats, now, &l);
    }
    json_object_set_new(out, "messagesIngested", json_integer((json_int_t)c.ingested));
    json_object_set_new(out, "attemptsSucceeded", json_integer((json_int_t)c.succeeded));
    json_object_set_new(out, "attemptsFailed", json_integer((json_int_t)c.failed));
    json_object_set_new(out, "deliveriesFailedFinal", json_integer((json_int_t)c.failed_final));
    json_object_set_new(out, "deliveriesPostponed",
                        json_pack("{s:I, s:I, s:I}", "storeFull",
                                  (json_int_t)c.postponed[STATS_PP_STORE_FULL], "noSocket",
                                  (json_int_t)c.postponed[STATS_PP_NO_SOCKET], "storeError",
                                  (json_int_t)c.postponed[STATS_PP_STORE_ERROR]));
    json_object_set_new(out, "rates", json_pack("{s:o, s:o, s:o}", "ingest", windows(rt.ingest),
                                                "success", windows(rt.success), "failure",
                                                windows(rt.failure)));
    json_object_set_new(out, "latencyMs",
                        l.count ? json_pack("{s:f, s:f, s:f, s:f, s:I}", "p50", l.p50, "p90",
                                            l.p90, "p99", l.p99, "max", l.max, "count",
                                            (json_int_t)l.count)
                                : json_pack("{s:n, s:n, s:n, s:n, s:i}", "p50", "p90", "p99",
                                            "max", "count", 0));
}

/* RFC 3339 time of the oldest message holding its payload, or null. */
static json_t *oldest_payload(struct api *a)
{
    struct retention_stats rs = { 0 };
    char ts[CLOCK_RFC3339_MAX];
    int64_t oldest = 0;
    for (int g = 0; g < api_groups(a); g++) {   /* the oldest of every group's */
        struct retention *rt = api_group(a, g)->retention;
        if (!rt)
            continue;
        retention_get_stats(rt, &rs);
        if (rs.oldest_payload_ms && (!oldest || rs.oldest_payload_ms < oldest))
            oldest = rs.oldest_payload_ms;
    }
    if (!oldest)
        return json_null();
    clock_format(oldest, ts);
    return json_string(ts);
}

/* Descriptors against their limit, memory and CPU: null when /proc fails. */
static json_t *process_figures(void)
{
    struct proc_sample p;
    if (proc_sample(&p))
        return json_null();
    return json_pack("{s:I, s:I, s:I, s:I, s:f}", "openFds", (json_int_t)p.open_fds, "maxFds",
                     (json_int_t)p.max_fds, "rssBytes", (json_int_t)p.rss_bytes, "threads",
                     (json_int_t)p.threads, "cpuSeconds", p.cpu_seconds);
}

/* Cluster mode: this node's role and the last log entry its store holds. */
static json_t *cluster_figures(struct api *a)
{
    uint64_t seq = 0;
    struct store_txn *t;
    if (store_read(a->store, &t) == 0) {
        store_meta_get_u64(t, WRITER_LOG_SEQ_KEY, &seq);
        store_abort(t);
    }
    json_t *c = json_pack("{s:s, s:s, s:I}", "role", a->cluster_role, "nodeId",
                          a->cfg->node_id, "seq", (json_int_t)seq);
    if (a->cluster_stats)
        a->cluster_stats(a->cluster_ctx, c);
    return c;
}

void api_ops_stats(struct api *a, struct http_req *r, char **p)
{
    int64_t now = clock_now_ms();
    struct dispatch_stats ds = { 0 };
    struct store_info si;
    json_t *out = json_pack("{s:s, s:I}", "version", HOOKD_VERSION, "uptimeS",
                            (json_int_t)((now - a->started_ms) / 1000));
    put_memory_figures(a, out, now);
    int held = api_dispatch_stats(a, &ds);
    json_object_set_new(out, "inflight", json_integer(ds.inflight));
    json_object_set_new(out, "deliveryHold", json_boolean(held));
    int rc = store_gauges(a, out);
    if (!rc)
        rc = api_store_info(a, &si);
    if (rc) {
        json_decref(out);
        api_store_error(r, rc);
        return;
    }
    json_object_set_new(out, "dbBytes", json_integer(si.used_bytes));
    json_object_set_new(out, "dbFreeBytes", json_integer(si.free_bytes));
    json_object_set_new(out, "mapBytes", json_integer(si.map_bytes));
    json_object_set_new(out, "readers", json_integer(si.readers));
    json_object_set_new(out, "payloadRetentionS",
                        json_integer(a->cfg ? a->cfg->payload_retention_ms / 1000 : 0));
    json_object_set_new(out, "oldestPayloadAt", oldest_payload(a));
    json_object_set_new(out, "process", process_figures());
    if (a->cluster_role)
        json_object_set_new(out, "cluster", cluster_figures(a));
    struct stats_http_now hn = { 0 };
    if (a->stats)
        stats_get_http_now(a->stats, &hn);
    json_object_set_new(out, "http", json_pack("{s:I, s:I}", "connections",
                                               (json_int_t)hn.connections, "waiting",
                                               (json_int_t)hn.waiting));
    char *text = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(6));   /* 0.3, not 0.2999.. */
    json_decref(out);
    http_reply(r, 200, text ? text : xstrdup("{}"), text ? strlen(text) : 2);
}

/* --- the live feed --- */

struct feed_req {
    uint64_t after;
    size_t limit;
};

static json_t *feed_item_out(const struct feed_item *it)
{
    char ts[CLOCK_RFC3339_MAX];
    clock_format(it->ts_ms, ts);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:I, s:i, s:o}", "seq",
                     (json_int_t)it->seq, "timestamp", ts, "msgId", it->msg_id, "appId",
                     it->app_id, "endpointId", it->ep_id, "eventType", it->event_type,
                     "statusCode", it->status_code, "ok", it->ok, "durationMs",
                     (json_int_t)it->duration_ms, "triggerType", it->trigger, "error",
                     it->ok ? json_null() : json_string(it->error));
}

static void feed_answer(struct http_req *r)
{
    struct api *a = http_ctx(r);
    struct feed_req *q = r->data;
    struct feed_item *items = xcalloc(q->limit, sizeof(*items));
    uint64_t last;
    size_t n = feed_read(a->feed, q->after, items, q->limit, &last);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, feed_item_out(&items[i]));
    free(items);
    http_reply_json(r, 200, json_pack("{s:I, s:o}", "seq", (json_int_t)last, "items", arr));
}

/* The feed's thread: the wait ended; answer and hand the connection back. */
static void feed_ready(void *arg)
{
    struct http_req *r = arg;
    feed_answer(r);
    http_resume(r);
}

/* Unsigned integer or decimal query parameter in [0, max]; -1 after 422. */
static int query_num(struct http_req *r, const char *name, double max, double dflt, double *out)
{
    const char *v = http_query(r, name);
    char *end, loc[64], msg[96];
    *out = dflt;
    if (!v)
        return 0;
    double x = strtod(v, &end);
    if (*v && !*end && x >= 0 && x <= max) {
        *out = x;
        return 0;
    }
    snprintf(loc, sizeof(loc), "query.%s", name);
    snprintf(msg, sizeof(msg), "%s must be a number between 0 and %.0f", name, max);
    http_verror(r, loc, "value_error.number", msg);
    return -1;
}

static json_t *counts(const uint64_t *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

/*
 * GET /hookd/v1/stats/history?seconds=N: what each of the last N complete
 * seconds counted (N up to five minutes, the default, and no further back
 * than the start), oldest first, so that a dashboard opened now draws the
 * last minutes at once instead of starting empty.
 */
void api_ops_history(struct api *a, struct http_req *r, char **p)
{
    uint64_t in[STATS_HISTORY_S] = { 0 }, ok[STATS_HISTORY_S] = { 0 },
             fail[STATS_HISTORY_S] = { 0 };
    double seconds;
    if (query_num(r, "seconds", STATS_HISTORY_S, STATS_HISTORY_S, &seconds))
        return;
    int64_t now = clock_now_ms();
    int64_t up = now / 1000 - a->started_ms / 1000;   /* complete seconds since the start */
    int n = (int)seconds < up ? (int)seconds : up > 0 ? (int)up : 0;
    if (a->stats)
        stats_get_history(a->stats, now, n, in, ok, fail);
    char until[CLOCK_RFC3339_MAX];
    clock_format(now - now % 1000, until);
    json_t *out = json_pack("{s:s, s:i, s:o, s:o, s:o}", "until", until, "seconds", n,
                            "ingest", counts(in, n), "success", counts(ok, n),
                            "failure", counts(fail, n));
    http_reply_json(r, 200, out);
}

/*
 * GET /hookd/v1/feed?after=SEQ&wait=S&limit=N. A cursor beyond the newest
 * item (kept from before a restart) counts as the newest, so the caller
 * resynchronises instead of waiting for numbers it already saw.
 */
void api_ops_feed(struct api *a, struct http_req *r, char **p)
{
    double after, wait, limit;
    if (query_num(r, "after", 1e18, 0, &after) || query_num(r, "wait", 1e9, 0, &wait)
        || query_num(r, "limit", FEED_LIMIT_MAX, FEED_LIMIT_DEFAULT, &limit))
        return;
    struct feed_req *q = xcalloc(1, sizeof(*q));
    uint64_t last = feed_last_seq(a->feed);
    q->after = (uint64_t)after < last ? (uint64_t)after : last;
    q->limit = limit >= 1 ? (size_t)limit : 1;
    int64_t wait_ms = (int64_t)((wait < FEED_WAIT_MAX_S ? wait : FEED_WAIT_MAX_S) * 1000);
    if (q->after < last || wait_ms <= 0) {
        r->data = q;
        r->data_free = free;
        feed_answer(r);
        return;
    }
    http_suspend(r, q, free);
    if (feed_wait(a->feed, q->after, clock_mono_ms() + wait_ms, feed_ready, r))
        feed_ready(r);
}

/* --- log entry kinds (api_kinds.h) --- */

/* Each decode checks what its apply reads (api_job_decode_as). */
API_JOB_DECODER(decode_pause, 2, 0, NULL)

const struct api_kind api_kind_ep_pause = { ENTRY_EP_PAUSE, pause_apply, api_job_encode, decode_pause,
    api_job_free };
