/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_deliveries.c - deliveries across all applications and their bulk
 * replay (API.md 9: GET /hookd/v1/deliveries, POST .../deliveries/replay).
 *
 * A delivery is a deliveries row (msg_id|ep_id, store.h). Message ids sort
 * by time, so "newest first" is a backwards walk of that database and the
 * before/after window is a key range; the iterator is the row's key. The
 * other filters are judged row by row, cheapest first: app, endpoint and
 * state from the row itself, then "held" from the endpoint record (cached
 * per request), then the event type from the message record. A filter
 * that matches little could walk millions of rows, so a page examines at
 * most LIST_SCAN_MAX of them and then continues on the next page.
 *
 * Replay queues one manual attempt per delivery exactly as resend does
 * (api_queue_manual). Its body is checked key by key: a misspelt filter
 * key (appId for app_id) would otherwise widen a replay to every app, so
 * an unknown key is 422, and a filter without status replays failed
 * deliveries only (re-sending successes is asked for, never a default).
 * dryRun answers what would be queued, counted by status, and queues
 * nothing; the console shows those counts in its confirmation. Like recover, it splits its work: matching and the
 * resend checks (endpoint enabled, payload kept) run on the HTTP thread
 * in a read transaction; the writer's apply only confirms that message
 * and endpoint still exist and queues, so a bulk replay costs the one
 * writer thread as little as possible. The pairs so chosen travel in the
 * replay's log entry (replay_encode): the fan-out is decided before the
 * writer, and a re-apply queues exactly them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_kinds.h"
#include "entry.h"
#include "entry_kinds.h"
#include "clock.h"
#include "err.h"
#include "hmap.h"
#include "mem.h"

#define REPLAY_MAX 10000
#define LIST_SCAN_MAX 100000
#define REPLAY_SCAN_MAX 2000000
#define DAYS90_MS (90LL * 86400 * 1000)

#define EP_OPEN ((void *)(uintptr_t)1)
#define EP_HELD ((void *)(uintptr_t)2)
#define EP_GONE ((void *)(uintptr_t)3)

struct dfilter {
    int status;               /* -1 any, else a DSTATE_* (DSTATE_HELD for "held") */
    int status_given;         /* the request named a status */
    char app_id[ID_MAX];      /* "" any */
    char ep_id[ID_MAX];       /* "" any */
    const char *event_type;   /* NULL any; borrowed from the query or body */
    char lo[ID_MAX], hi[ID_MAX];
    int has_hi;
};

/* Where filter values come from: the query string, or the body's "filter" object. */
struct fsrc {
    struct http_req *r;
    json_t *obj;              /* NULL: the query */
};

static const char *const state_names[] = {
    [DSTATE_SUCCESS] = "success", [DSTATE_PENDING] = "pending", [DSTATE_FAIL] = "fail",
    [DSTATE_SENDING] = "sending", [4] = NULL, [DSTATE_HELD] = "held",
};
#define NSTATES ((int)(sizeof(state_names) / sizeof(state_names[0])))

/* --- filters --- */

static void filter_error(struct fsrc *s, const char *name, const char *type, const char *msg)
{
    char loc[96];
    snprintf(loc, sizeof(loc), "%s.%s", s->obj ? "body.filter" : "query", name);
    http_verror(s->r, loc, type, msg);
}

/* The value of name, NULL when absent; -1 after 422 when it is not a string. */
static int fget(struct fsrc *s, const char *name, const char **out)
{
    if (!s->obj) {
        *out = http_query(s->r, name);
        return 0;
    }
    json_t *v = json_object_get(s->obj, name);
    *out = json_string_value(v);
    if (v && !json_is_null(v) && !*out) {
        filter_error(s, name, "type_error.str", "must be a string");
        return -1;
    }
    return 0;
}

static int parse_status(struct fsrc *s, struct dfilter *f)
{
    const char *v;
    f->status = -1;
    if (fget(s, "status", &v))
        return -1;
    if (!v)
        return 0;
    f->status_given = 1;
    for (int i = 0; i < NSTATES; i++)
        if (state_names[i] && strcmp(v, state_names[i]) == 0)
            f->status = i;
    if (f->status < 0)
        filter_error(s, "status", "type_error.enum",
                     "status must be success, pending, sending, fail or held");
    return f->status < 0 ? -1 : 0;
}

static int parse_time(struct fsrc *s, const char *name, int64_t *ms)
{
    const char *v;
    if (fget(s, name, &v))
        return -1;
    if (!v)
        return 0;
    if (clock_parse(v, ms)) {
        filter_error(s, name, "value_error", "must be an RFC 3339 date-time");
        return -1;
    }
    return 1;
}

/* before/after as message id bounds; with neither, the last 90 days (API.md 3.7). */
static int parse_window(struct fsrc *s, struct dfilter *f)
{
    int64_t before, after;
    int hb = parse_time(s, "before", &before), ha = parse_time(s, "after", &after);
    if (hb < 0 || ha < 0)
        return -1;
    f->has_hi = hb == 1;
    if (hb == 1)
        id_bound("msg_", before, 0, f->hi);
    if (ha == 1)
        id_bound("msg_", after, 1, f->lo);
    else
        id_bound("msg_", (hb == 1 ? before : clock_now_ms()) - DAYS90_MS, 0, f->lo);
    return 0;
}

/* app_id and endpoint_id, as ids or uids; answers 404/422 and returns -1. */
static int parse_owner(struct fsrc *s, struct store_txn *t, struct dfilter *f)
{
    const char *app, *ep;
    if (fget(s, "app_id", &app) || fget(s, "endpoint_id", &ep))
        return -1;
    if (app && api_find_app(t, app, f->app_id)) {
        api_not_found(s->r, "application");
        return -1;
    }
    if (ep && app && api_find_endpoint(t, f->app_id, ep, f->ep_id)) {
        api_not_found(s->r, "endpoint");
        return -1;
    }
    if (ep && !app && !id_is("ep_", ep)) {
        filter_error(s, "endpoint_id", "value_error",
                     "an endpoint uid needs app_id (uids are unique per application)");
        return -1;
    }
    if (ep && !app)
        snprintf(f->ep_id, sizeof(f->ep_id), "%s", ep);
    return 0;
}

static int parse_filter(struct fsrc *s, struct store_txn *t, struct dfilter *f)
{
    memset(f, 0, sizeof(*f));
    if (parse_status(s, f) || fget(s, "event_type", &f->event_type) || parse_window(s, f))
        return -1;
    return parse_owner(s, t, f);
}

/* --- matching rows --- */

struct dscan {
    struct store_txn *t;
    const struct dfilter *f;
    struct hmap eps;          /* app_id|ep_id -> EP_OPEN, EP_HELD or EP_GONE */
};

/* One deliveries row, decoded; msg_rec loaded when the filter or the output needs it. */
struct drow {
    struct store_delivery d;
    char msg[ID_MAX], ep[ID_MAX];
    int status;               /* the state shown: DSTATE_HELD for held pending/sending */
    json_t *msg_rec;
};

static void *ep_state(struct dscan *s, const char *app, const char *ep)
{
    char key[2 * ID_MAX];
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", app, ep);
    void *st = hmap_get(&s->eps, key);
    json_t *rec;
    if (st)
        return st;
    if (store_get_json(s->t, DB_ENDPOINTS, key, kl, &rec) == 0) {
        st = json_is_true(json_object_get(rec, "disabled"))
             || json_is_true(json_object_get(rec, "paused")) ? EP_HELD : EP_OPEN;
        json_decref(rec);
    } else {
        st = EP_GONE;
    }
    hmap_put(&s->eps, key, st);
    return st;
}

static int load_msg(struct dscan *s, struct drow *w)
{
    return w->msg_rec || api_msg_rec(s->t, w->d.app_id, w->msg, &w->msg_rec, NULL) == 0;
}

static int split_key(const struct store_kv *kv, struct drow *w)
{
    const size_t ml = 31, el = 30;   /* msg_ and ep_ ids (id.h) */
    if (kv->klen != ml + el)
        return -1;
    memcpy(w->msg, kv->key, ml);
    w->msg[ml] = '\0';
    memcpy(w->ep, (const char *)kv->key + ml, el);
    w->ep[el] = '\0';
    return store_delivery_decode(kv->val, kv->vlen, &w->d);
}

/* Does the row pass the filter? Cheap tests first. need_msg: load the message anyway. */
static int row_match(struct dscan *s, const struct store_kv *kv, struct drow *w, int need_msg)
{
    const struct dfilter *f = s->f;
    memset(w, 0, sizeof(*w));
    if (split_key(kv, w) || (f->app_id[0] && strcmp(f->app_id, w->d.app_id) != 0)
        || (f->ep_id[0] && strcmp(f->ep_id, w->ep) != 0))
        return 0;
    w->status = w->d.state;
    if (w->status == DSTATE_PENDING || w->status == DSTATE_SENDING)
        if (ep_state(s, w->d.app_id, w->ep) == EP_HELD)
            w->status = DSTATE_HELD;
    if (f->status >= 0 && f->status != w->status)
        return 0;
    if (!f->event_type && !need_msg)
        return 1;
    if (!load_msg(s, w))
        return !f->event_type;
    const char *type = json_string_value(json_object_get(w->msg_rec, "eventType"));
    int keep = !f->event_type || (type && strcmp(type, f->event_type) == 0);
    if (!keep) {
        json_decref(w->msg_rec);
        w->msg_rec = NULL;
    }
    return keep;
}

static void scan_init(struct dscan *s, struct store_txn *t, const struct dfilter *f)
{
    s->t = t;
    s->f = f;
    hmap_init(&s->eps);
}

/* --- the list --- */

static int newest_for_ep(const struct store_kv *kv, void *arg)
{
    struct store_kv *want = arg;   /* val: the endpoint id to find; key: the result */
    if (kv->vlen != want->vlen || memcmp(kv->val, want->val, kv->vlen) != 0)
        return 0;
    want->key = kv->key;
    want->klen = kv->klen;
    return 1;
}

/* The error of the pair's newest attempt when it failed (att_by_msg, newest first). */
static json_t *pair_last_error(struct store_txn *t, const struct drow *w)
{
    struct store_kv want = { .val = w->ep, .vlen = strlen(w->ep) };
    char hi[ID_MAX + 1];
    size_t ml = strlen(w->msg);
    int ok = w->d.last_code >= 200 && w->d.last_code < 300;
    if (!w->d.attempts || ok)
        return json_null();
    snprintf(hi, sizeof(hi), "%s\x7f", w->msg);
    if (store_scan(t, DB_ATT_BY_MSG, w->msg, ml, hi, ml + 1, 1, newest_for_ep, &want) != 1)
        return json_null();
    return api_attempt_error(t, (const char *)want.key + ml, want.klen - ml);
}

static json_t *row_out(struct dscan *s, const struct drow *w)
{
    char ts[CLOCK_RFC3339_MAX];
    int waiting = w->d.state == DSTATE_PENDING || w->d.state == DSTATE_SENDING;
    json_t *type = json_object_get(w->msg_rec, "eventType");
    clock_format(w->d.updated_ms, ts);
    json_t *o = json_pack("{s:s, s:s, s:s, s:O, s:s, s:i}", "msgId", w->msg, "appId",
                          w->d.app_id, "endpointId", w->ep, "eventType",
                          type ? type : json_null(), "status", state_names[w->status],
                          "attempts", w->d.attempts);
    if (w->d.state == DSTATE_FAIL && (w->d.last_code == STORE_CODE_ENDPOINT_DELETED
                                      || w->d.last_code == STORE_CODE_PAYLOAD_EXPUNGED)) {
        json_object_set_new(o, "lastStatusCode", json_null());
        json_object_set_new(o, "lastError",
                            json_string(w->d.last_code == STORE_CODE_ENDPOINT_DELETED
                                        ? "endpoint deleted"
                                        : "payload expunged before it was sent"));
    } else {
        json_object_set_new(o, "lastStatusCode",
                            w->d.attempts ? json_integer(w->d.last_code) : json_null());
        json_object_set_new(o, "lastError", pair_last_error(s->t, w));
    }
    if (waiting && w->d.next_ms > 0) {
        char next[CLOCK_RFC3339_MAX];
        clock_format(w->d.next_ms, next);
        json_object_set_new(o, "nextAttemptAt", json_string(next));
    } else {
        json_object_set_new(o, "nextAttemptAt", json_null());
    }
    json_object_set_new(o, "updatedAt", json_string(ts));
    return o;
}

static json_t *list_row(const struct store_kv *kv, void *arg)
{
    struct drow w;
    json_t *o = row_match(arg, kv, &w, 1) ? row_out(arg, &w) : NULL;
    json_decref(w.msg_rec);
    return o;
}

void api_ops_deliveries(struct api *a, struct http_req *r, char **p)
{
    struct fsrc src = { r, NULL };
    struct dfilter f;
    struct dscan s;
    struct store_txn *t = api_read(a, r);
    if (!t)
        return;
    if (parse_filter(&src, t, &f) == 0) {
        scan_init(&s, t, &f);
        struct api_page pg = { .db = DB_DELIVERIES, .prefix = "", .descending = 1,
                               .lo_id = f.lo, .hi_id = f.has_hi ? f.hi : NULL,
                               .row = list_row, .arg = &s, .max_scan = LIST_SCAN_MAX };
        api_list(r, t, &pg);
        hmap_release(&s.eps);
    }
    store_abort(t);
}

/* --- replay --- */

struct target {
    char app[ID_MAX], msg[ID_MAX], ep[ID_MAX];
    int status;               /* as the list shows it (state_names) */
};

struct replay {
    struct target *v;
    size_t n, cap;
    size_t skipped;           /* gone, endpoint disabled or payload expired */
    int capped;               /* more than REPLAY_MAX matched */
    int scan_cut;             /* the filter scan stopped at REPLAY_SCAN_MAX rows */
    int dry;                  /* dryRun: count, queue nothing */
    int64_t now;
    json_t *skipped_list;     /* the first SKIPPED_LIST_MAX skipped, for the console */
};

/* The console marks the rows it replayed; these it can mark as not sent. */
#define SKIPPED_LIST_MAX 250

static void replay_skip(struct replay *g, const char *msg, const char *ep, const char *why)
{
    if (!g->skipped_list)
        g->skipped_list = json_array();
    if (json_array_size(g->skipped_list) < SKIPPED_LIST_MAX)
        json_array_append_new(g->skipped_list, json_pack("{s:s, s:s, s:s}", "msgId", msg,
                                                         "endpointId", ep, "reason", why));
}

static void replay_free(void *p)
{
    struct replay *g = p;
    free(g->v);
    json_decref(g->skipped_list);
    free(g);
}

/* Keep the pair if it can be sent again (the resend checks); 1 when the list is full. */
static int replay_add(struct replay *g, struct store_txn *t, const char *app, const char *msg,
                      const char *ep, int status)
{
    const char *why;
    if (g->n == REPLAY_MAX) {
        g->capped = 1;
        return 1;
    }
    if (api_resendable(t, app, msg, ep, &why)) {
        g->skipped++;
        replay_skip(g, msg, ep, why);
        return 0;
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 64;
        g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
    }
    struct target *x = &g->v[g->n++];
    snprintf(x->app, sizeof(x->app), "%s", app);
    snprintf(x->msg, sizeof(x->msg), "%s", msg);
    snprintf(x->ep, sizeof(x->ep), "%s", ep);
    x->status = status;
    return 0;
}

struct replay_scan {
    struct dscan s;
    struct replay *g;
    size_t seen;
};

static int replay_row(const struct store_kv *kv, void *arg)
{
    struct replay_scan *x = arg;
    struct drow w;
    int stop = 0;
    if (row_match(&x->s, kv, &w, 0))
        stop = replay_add(x->g, x->s.t, w.d.app_id, w.msg, w.ep, w.status);
    json_decref(w.msg_rec);
    if (!stop && ++x->seen >= REPLAY_SCAN_MAX)
        x->g->scan_cut = stop = 1;
    return stop;
}

static int replay_by_filter(struct http_req *r, struct store_txn *t, json_t *fobj,
                            struct replay *g)
{
    struct fsrc src = { r, fobj };
    struct dfilter f;
    struct replay_scan x = { .g = g };
    if (parse_filter(&src, t, &f))
        return -1;
    if (!f.status_given)
        f.status = DSTATE_FAIL;
    scan_init(&x.s, t, &f);
    int rc = store_scan(t, DB_DELIVERIES, f.lo, strlen(f.lo), f.has_hi ? f.hi : NULL,
                        f.has_hi ? strlen(f.hi) : 0, 0, replay_row, &x);
    hmap_release(&x.s.eps);
    if (rc < 0)
        api_store_error(r, rc);
    return rc < 0 ? -1 : 0;
}

/* {"deliveries":[{"msgId":..,"endpointId":..}, ...]}: the app comes from each row. */
static int replay_by_list(struct http_req *r, struct store_txn *t, json_t *list,
                          struct replay *g)
{
    static const struct dfilter any = { .status = -1 };
    struct dscan s;
    size_t i;
    json_t *it;
    int rc = 0;
    scan_init(&s, t, &any);
    json_array_foreach(list, i, it) {
        const char *msg = json_string_value(json_object_get(it, "msgId"));
        const char *ep = json_string_value(json_object_get(it, "endpointId"));
        char key[2 * ID_MAX], loc[64];
        struct store_delivery d;
        const void *v;
        size_t n;
        if (!msg || !ep) {
            snprintf(loc, sizeof(loc), "body.deliveries.%zu", i);
            http_verror(r, loc, "value_error", "each item needs msgId and endpointId strings");
            rc = -1;
            break;
        }
        size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", msg, ep);
        if (kl >= sizeof(key) || store_get(t, DB_DELIVERIES, key, kl, &v, &n)
            || store_delivery_decode(v, n, &d)) {
            g->skipped++;
            replay_skip(g, msg, ep, "delivery");
            continue;
        }
        int st = d.state;
        if ((st == DSTATE_PENDING || st == DSTATE_SENDING) && ep_state(&s, d.app_id, ep) == EP_HELD)
            st = DSTATE_HELD;
        if (replay_add(g, t, d.app_id, msg, ep, st))
            break;
    }
    hmap_release(&s.eps);
    return rc;
}

static int exists(struct store_txn *t, enum store_db db, const char *a, const char *b)
{
    char key[2 * ID_MAX];
    const void *v;
    size_t n, kl = (size_t)snprintf(key, sizeof(key), "%s%s", a, b);
    return store_get(t, db, key, kl, &v, &n) == 0;
}

static json_t *replay_out(const struct replay *g, size_t queued)
{
    json_t *o = json_pack("{s:I}", "queued", (json_int_t)queued);
    struct buf b = BUF_INIT;
    if (g->capped)
        buf_addf(&b, "capped at %d deliveries per call; replay again for the rest. ",
                 REPLAY_MAX);
    if (g->scan_cut)
        buf_addf(&b, "the filter scan stopped after %d deliveries; narrow it with after/before. ",
                 REPLAY_SCAN_MAX);
    if (g->skipped + (g->n - queued))
        buf_addf(&b, "%zu skipped (gone, endpoint disabled or payload expired).",
                 g->skipped + (g->n - queued));
    while (b.len && b.data[b.len - 1] == ' ')
        b.data[--b.len] = '\0';
    if (b.len)
        json_object_set_new(o, "detail", json_string(b.data));
    buf_release(&b);
    if (g->skipped_list)
        json_object_set(o, "skippedDeliveries", g->skipped_list);
    return o;
}

/* dryRun: what would be queued, by status, without touching the writer. */
static json_t *replay_dry_out(const struct replay *g)
{
    json_int_t by[NSTATES] = { 0 };
    json_t *counts = json_object();
    for (size_t i = 0; i < g->n; i++)
        by[g->v[i].status]++;
    for (int i = 0; i < NSTATES; i++)
        if (state_names[i] && by[i])
            json_object_set_new(counts, state_names[i], json_integer(by[i]));
    json_t *o = replay_out(g, g->n);
    json_object_del(o, "queued");
    json_object_set_new(o, "dryRun", json_true());
    json_object_set_new(o, "wouldQueue", json_integer((json_int_t)g->n));
    json_object_set_new(o, "byStatus", counts);
    json_object_set_new(o, "skipped", json_integer((json_int_t)g->skipped));
    return o;
}

/*
 * Writer: queue what still exists; the checks of the HTTP thread stand.
 * The job is left as it came (the skipped list grows in a copy), so an
 * apply run again starts from the same job.
 */
static int replay_apply(struct http_req *r, struct store_txn *t)
{
    const struct replay *g = r->data;
    struct replay w = *g;
    size_t queued = 0;
    int rc = 0;
    w.skipped_list = g->skipped_list ? json_copy(g->skipped_list) : NULL;
    for (size_t i = 0; !rc && i < g->n; i++) {
        const struct target *x = &g->v[i];
        if (!exists(t, DB_ENDPOINTS, x->app, x->ep) || !exists(t, DB_MESSAGES, x->app, x->msg)) {
            replay_skip(&w, x->msg, x->ep, "gone");
            continue;
        }
        rc = api_queue_manual(t, x->app, x->ep, x->msg, g->now);
        if (!rc) {
            api_touch(r, x->app, x->ep);
            queued++;
        }
    }
    if (!rc)
        http_reply_json(r, 202, replay_out(&w, queued));
    json_decref(w.skipped_list);
    return rc;
}

/* 422 naming the first key of o that is not in names (NULL-terminated); -1 then. */
static int known_keys(struct http_req *r, json_t *o, const char *where,
                      const char *const *names)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (names[i] && strcmp(names[i], k) != 0)
            i++;
        if (names[i])
            continue;
        char loc[160], msg[256];
        struct buf b = BUF_INIT;
        for (i = 0; names[i]; i++)
            buf_addf(&b, "%s%s", i ? ", " : "", names[i]);
        snprintf(loc, sizeof(loc), "%s.%s", where, k);
        snprintf(msg, sizeof(msg), "unknown key '%.64s' (known: %s)", k, b.data);
        buf_release(&b);
        http_verror(r, loc, "value_error.unknown_key", msg);
        return -1;
    }
    return 0;
}

static int replay_keys(struct http_req *r, json_t *in, struct replay *g)
{
    static const char *const top[] = { "deliveries", "filter", "dryRun", NULL };
    static const char *const filt[] = { "status", "app_id", "endpoint_id", "event_type",
                                        "after", "before", NULL };
    json_t *fobj = json_object_get(in, "filter");
    if (known_keys(r, in, "body", top)
        || (json_is_object(fobj) && known_keys(r, fobj, "body.filter", filt))
        || api_bool(r, in, "dryRun", &g->dry, NULL))
        return -1;
    return 0;
}

/* Collect the targets on this thread; -1 after answering. */
static int replay_collect(struct api *a, struct http_req *r, json_t *in, struct replay *g)
{
    json_t *list = json_object_get(in, "deliveries"), *fobj = json_object_get(in, "filter");
    struct store_txn *t;
    if (replay_keys(r, in, g))
        return -1;
    if (!json_is_array(list) && !json_is_object(fobj)) {
        http_verror(r, "body", "value_error",
                    "give either deliveries (an array of {msgId, endpointId}) or filter "
                    "(an object)");
        return -1;
    }
    if (!(t = api_read(a, r)))
        return -1;
    int rc = json_is_array(list) ? replay_by_list(r, t, list, g)
                                 : replay_by_filter(r, t, fobj, g);
    store_abort(t);
    return rc;
}

void api_ops_replay(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    struct replay *g = xcalloc(1, sizeof(*g));
    g->now = clock_now_ms();
    int rc = replay_collect(a, r, in, g);
    json_decref(in);
    if (!rc && g->dry)
        http_reply_json(r, 200, replay_dry_out(g));
    if (rc || g->dry) {
        replay_free(g);
        return;
    }
    api_submit(r, &api_kind_replay, g);
}

/* --- log entry kinds (api_kinds.h) --- */

/*
 * A replay's entry carries what its HTTP thread decided: the time, the
 * pairs to queue (the fan-out, decided before the writer, at most
 * REPLAY_MAX) and what the answer reports of the collection (capped, the
 * scan cut, the skipped ones), so that a re-apply queues the same
 * attempts and, for an idempotency-key, saves the same answer.
 */
static void replay_encode(struct entry_w *w, const void *data)
{
    const struct replay *g = data;
    entry_put_i64(w, g->now);
    entry_put_u64(w, (uint64_t)g->capped);
    entry_put_u64(w, (uint64_t)g->scan_cut);
    entry_put_u64(w, g->skipped);
    entry_put_json(w, g->skipped_list);
    entry_put_u64(w, g->n);
    for (size_t i = 0; i < g->n; i++) {
        entry_put_str(w, g->v[i].app);
        entry_put_str(w, g->v[i].msg);
        entry_put_str(w, g->v[i].ep);
    }
}

static void *replay_decode(struct entry_r *r)
{
    struct replay *g = xcalloc(1, sizeof(*g));
    g->now = entry_get_i64(r);
    g->capped = entry_get_u64(r) != 0;
    g->scan_cut = entry_get_u64(r) != 0;
    g->skipped = (size_t)entry_get_u64(r);
    g->skipped_list = entry_get_json(r);
    uint64_t n = entry_get_u64(r);
    int bad = r->bad || n > REPLAY_MAX || (g->skipped_list && !json_is_array(g->skipped_list));
    if (!bad && n) {
        g->cap = (size_t)n;
        g->v = xcalloc(g->cap, sizeof(*g->v));
    }
    for (size_t i = 0; !bad && i < n; i++) {
        struct target *x = &g->v[g->n++];
        x->status = DSTATE_FAIL;   /* not in the entry: the answer does not show it */
        entry_get_strbuf(r, x->app, sizeof(x->app));
        entry_get_strbuf(r, x->msg, sizeof(x->msg));
        entry_get_strbuf(r, x->ep, sizeof(x->ep));
        bad = r->bad;
    }
    if (bad) {
        replay_free(g);
        return NULL;
    }
    return g;
}

const struct api_kind api_kind_replay = { ENTRY_REPLAY, replay_apply, replay_encode,
                                          replay_decode, replay_free };
