/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_task.c - background tasks over HTTP (API.md 4.7): GET
 * /api/v1/background-task[/{id}], and the task that endpoint
 * replay-missing starts (4.2).
 *
 * Replay-missing sends an endpoint the messages it missed (missing.h):
 * those of its application in [since, until) that its filters take and
 * that have no delivery for it yet, typically what arrived while it was
 * disabled. The request only checks the body and the endpoint and answers
 * 202 with the task; the task walks the messages a slice at a time on the
 * task thread (task.h) and queues each found message as one manual
 * attempt (api_queue_manual, as recover and resend do), at most
 * RM_BATCH per writer intent, so ingest never waits behind a large
 * replay. Each intent is a log entry (ENTRY_TASK_RM) that carries the
 * batch's message ids and the time of its due entries: the walk decides
 * the set, the apply only re-checks it against the store. The writer
 * checks again that each pair still has no delivery, so a replay run
 * twice, or beside a resend, sends nothing twice.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "entry.h"
#include "entry_kinds.h"
#include "err.h"
#include "mem.h"
#include "missing.h"
#include "reapply.h"
#include "task.h"
#include "writer.h"

#define RM_SCAN 5000          /* messages one step examines */
#define RM_BATCH 500          /* messages one writer intent queues */

struct replay_missing {
    struct missing_walk w;
    char batch[RM_BATCH][ID_MAX];
    size_t n;
    uint64_t queued;
    int gone;                 /* the endpoint was deleted under the task */
};

static int rm_found(const char *msg, void *arg)
{
    struct replay_missing *g = arg;
    snprintf(g->batch[g->n++], ID_MAX, "%s", msg);
    return g->n == RM_BATCH;
}

/*
 * ENTRY_TASK_RM: app, endpoint, the number of messages, each message id;
 * the entry's time is the due entries'. Everything is decided by the
 * step; apply checks again, against the store alone, that the endpoint
 * is there and each pair still has no delivery.
 */
static void rm_encode(struct entry_w *e, const struct replay_missing *g, int64_t now)
{
    entry_begin(e, ENTRY_TASK_RM, now);
    entry_put_str(e, g->w.app);
    entry_put_str(e, g->w.ep);
    entry_put_u64(e, g->n);
    for (size_t i = 0; i < g->n; i++)
        entry_put_str(e, g->batch[i]);
}

/* Writer (task_write) and hookd reapply: queue what still has no delivery. */
int task_rm_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t)
{
    char app[ID_MAX], ep[ID_MAX], msg[ID_MAX];
    entry_get_strbuf(r, app, sizeof(app));
    entry_get_strbuf(r, ep, sizeof(ep));
    uint64_t n = entry_get_u64(r), queued = 0;
    if (r->bad || n > RM_BATCH)
        return HOOKD_EINVAL;
    int rc = 0, live = reapply_pair_get(t, DB_ENDPOINTS, app, ep) == 0;
    for (uint64_t i = 0; !rc && i < n; i++) {
        entry_get_strbuf(r, msg, sizeof(msg));
        if (r->bad)
            return HOOKD_EINVAL;
        if (!live || missing_still(t, msg, ep) != 1 || reapply_pair_get(t, DB_MESSAGES, app, msg) != 0)
            continue;
        rc = api_queue_manual(t, app, ep, msg, r->head.now_ms);
        queued += rc == 0;
    }
    if (!rc)
        reapply_queued(env, app, ep, queued);
    return rc;
}

static int rm_step(const struct task_env *env, void *arg)
{
    struct replay_missing *g = arg;
    struct store_txn *t;
    json_t *ep;
    char key[2 * ID_MAX];
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", g->w.app, g->w.ep);
    int rc = store_read(env->store, &t);
    if (rc)
        return rc;
    rc = store_get_json(t, DB_ENDPOINTS, key, kl, &ep);
    if (rc == 0) {
        g->n = 0;
        rc = missing_walk_step(&g->w, t, ep, RM_SCAN, rm_found, g);
        json_decref(ep);
    }
    store_abort(t);
    g->gone = rc == HOOKD_ENOTFOUND;
    if (rc < 0 || !g->n)
        return rc;
    struct entry_w e = { 0 };
    uint64_t queued;
    rm_encode(&e, g, clock_now_ms());   /* the due entries' time, decided before the writer */
    int wrc = task_write(env, &e, &queued);
    if (wrc)
        return wrc < 0 ? wrc : HOOKD_EINVAL;
    g->queued += queued;
    return rc;
}

static json_t *rm_report(void *arg, int status)
{
    struct replay_missing *g = arg;
    const uint64_t *c = g->w.counts;
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "appId", g->w.app,
                          "endpointId", g->w.ep, "queued", (json_int_t)g->queued, "examined",
                          (json_int_t)(c[MISSING_FOUND] + c[MISSING_DELIVERED]
                                       + c[MISSING_FILTERED] + c[MISSING_EXPIRED]
                                       + c[MISSING_UNREADABLE]),
                          "alreadyDelivered", (json_int_t)c[MISSING_DELIVERED], "notSubscribed",
                          (json_int_t)c[MISSING_FILTERED], "payloadExpired",
                          (json_int_t)c[MISSING_EXPIRED], "unreadable",
                          (json_int_t)c[MISSING_UNREADABLE]);
    if (g->gone)
        json_object_set_new(o, "error", json_string("endpoint deleted"));
    (void)status;
    return o;
}

/*
 * ReplayIn: since (required), until (default: now, so that a replay
 * started while messages keep arriving has an end). -1 after a 422.
 */
static int rm_window(struct http_req *r, json_t *in, int64_t now, int64_t *since,
                     int64_t *until)
{
    if (api_since_until(r, in, now + 1, since, until))
        return -1;
    if (*until <= *since) {
        http_verror(r, "body.until", "value_error", "until must be later than since");
        return -1;
    }
    return 0;
}

/* The endpoint p[1] of app p[0] as ids; -1 after a 404 or 500. */
static int rm_endpoint(struct api *a, struct http_req *r, char **p, char app[ID_MAX],
                       char ep[ID_MAX])
{
    struct store_txn *t = api_read(a, r);
    if (!t)
        return -1;
    int rc = api_find_pair(r, t, p, 0, app, ep);
    store_abort(t);
    return rc ? -1 : 0;
}

static void rm_free(void *arg)
{
    free(arg);
}

void api_ep_replay_missing(struct api *a, struct http_req *r, char **p)
{
    int64_t since, until, now = clock_now_ms();
    char app[ID_MAX], ep[ID_MAX], id[ID_MAX];
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    int rc = rm_window(r, in, now, &since, &until);
    json_decref(in);
    if (rc || rm_endpoint(a, r, p, app, ep))
        return;
    struct replay_missing *g = xcalloc(1, sizeof(*g));
    missing_walk_init(&g->w, app, ep, since, until);
    struct task_spec spec = { .kind = "endpoint.replay", .step = rm_step, .report = rm_report,
                              .free_arg = rm_free, .arg = g };
    if (!a->tasks) {
        rm_free(g);
        http_error(r, 503, "unavailable", "background tasks are not running");
        return;
    }
    if ((rc = task_submit(a->tasks, &spec, now, id))) {
        http_error(r, 503, "shutting_down", "the server is stopping; try again after it restarts");
        return;
    }
    http_reply_json(r, 202, json_pack("{s:s, s:s, s:s}", "id", id, "status", "running", "task",
                                      "endpoint.replay"));
}

/* --- GET /api/v1/background-task --- */

/* A task runs in its app's partition group (group.h): each group's are looked at. */
void api_task_get(struct api *a, struct http_req *r, char **p)
{
    json_t *o = NULL;
    for (int g = 0; g < api_groups(a) && !o; g++) {
        struct tasks *ts = api_group(a, g)->tasks;
        o = ts ? task_get(ts, p[0]) : NULL;
    }
    if (!o) {
        api_not_found(r, "background task");
        return;
    }
    http_reply_json(r, 200, o);
}

/* limit (1..250, default 50), order, status, task; -1 after a 422. */
static int list_query(struct http_req *r, int *limit, int *desc, int *status)
{
    const char *l = http_query(r, "limit"), *o = http_query(r, "order");
    const char *s = http_query(r, "status");
    char *end;
    *limit = 50;
    *desc = !o || strcmp(o, "ascending") != 0;
    *status = s ? task_status_parse(s) : -1;
    if (l) {
        long x = strtol(l, &end, 10);
        if (*l == '\0' || *end || x < 1 || x > 250) {
            http_verror(r, "query.limit", "value_error.number.not_le",
                        "limit must be an integer between 1 and 250");
            return -1;
        }
        *limit = (int)x;
    }
    if (o && strcmp(o, "ascending") != 0 && strcmp(o, "descending") != 0) {
        http_verror(r, "query.order", "type_error.enum", "order must be ascending or descending");
        return -1;
    }
    if (s && *status < 0) {
        http_verror(r, "query.status", "type_error.enum",
                    "status must be running, finished or failed");
        return -1;
    }
    return 0;
}

static int by_id(const void *x, const void *y)
{
    json_t *const *a = x, *const *b = y;
    return strcmp(json_string_value(json_object_get(*a, "id")),
                  json_string_value(json_object_get(*b, "id")));
}

/* Sort the merged tasks by id in the list's order and keep limit; 1 when some were cut. */
static int keep_first(json_t *data, int limit, int desc)
{
    size_t n = json_array_size(data);
    json_t **v = xcalloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(data, i));
    qsort(v, n, sizeof(*v), by_id);
    json_array_clear(data);
    for (size_t i = 0; i < n && i < (size_t)limit; i++)
        json_array_append(data, v[desc ? n - 1 - i : i]);
    for (size_t i = 0; i < n; i++)
        json_decref(v[i]);
    free(v);
    return n > (size_t)limit;
}

void api_task_list(struct api *a, struct http_req *r, char **p)
{
    int limit, desc, status, more = 0;
    if (list_query(r, &limit, &desc, &status))
        return;
    const char *it = http_query(r, "iterator");
    json_t *data = json_array();
    for (int g = 0; g < api_groups(a); g++) {   /* every partition group's, merged */
        struct tasks *ts = api_group(a, g)->tasks;
        int more_g = 0;
        json_t *one = ts ? task_list(ts, it, desc, limit, status, http_query(r, "task"), &more_g)
                         : json_array();
        json_array_extend(data, one);
        json_decref(one);
        more |= more_g;
    }
    if (api_groups(a) > 1)
        more |= keep_first(data, limit, desc);
    size_t n = json_array_size(data);
    json_t *last = n ? json_object_get(json_array_get(data, n - 1), "id") : NULL;
    http_reply_json(r, 200, json_pack("{s:o, s:O, s:n, s:b}", "data", data, "iterator",
                                      last ? last : json_null(), "prevIterator", "done", !more));
}
