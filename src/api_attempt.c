/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_attempt.c - message attempts (API.md 4.4) and the two calls that
 * queue manual attempts: resend (4.4) and endpoint recover (4.2).
 *
 * Attempts are written by outcome.c and only read here. The two lists
 * walk an index with api_list (att_by_ep: ep_id|attempt_id -> msg_id,
 * att_by_msg: msg_id|attempt_id -> ep_id) and look every row up in the
 * attempts database; the filters that need the message (channel,
 * event_types) and with_msg cost one more read per row.
 *
 * A manual attempt is a due entry with trigger 1, which the dispatcher
 * sends once and outcome.c never retries, plus a deliveries row when the
 * pair has none yet (an existing row keeps its state until the outcome).
 * api_queue_manual and api_resendable are shared with the operations
 * API's bulk replay (api_ops_deliveries.c).
 *
 * Resend checks and queues in the writer's apply, so the checks cannot
 * be stale. Recover is a background task (task.h, as Svix's RecoverOut
 * says: the 202 names a qtask that GET /api/v1/background-task/{id}
 * knows): the request checks the body and the endpoint; the task scans
 * the endpoint's attempts (up to 14 days of them) in a read transaction
 * on the task thread, and only the queueing of the messages it found
 * (at most RECOVER_MAX, RECOVER_BATCH per writer intent) runs in the
 * writer, each batch a log entry (ENTRY_RECOVER) carrying its message
 * ids and the time of its due entries. The writer is the one thread
 * every ingest waits on, and a big endpoint's window can hold millions
 * of attempts; a scan there would stall all writes for its duration.
 * An attempt that commits between the scan and the apply can at worst
 * cause one extra manual attempt, which at-least-once delivery allows.
 *
 * A message whose payload is gone (retention: no "payload" in the
 * record, or "expired": true) cannot be sent again: resend answers 400
 * missing_payload and recover skips it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_kinds.h"
#include "clock.h"
#include "entry.h"
#include "entry_kinds.h"
#include "epstats.h"
#include "err.h"
#include "hmap.h"
#include "mem.h"
#include "reapply.h"
#include "task.h"
#include "writer.h"

#define RECOVER_MAX 10000
#define RECOVER_BATCH 500
#define RECOVER_WINDOW_MS ((14LL * 86400 + 300) * 1000)

/* --- shared --- */

static int lookup_error(struct http_req *r, int rc, const char *what)
{
    if (rc == HOOKD_ENOTFOUND)
        api_not_found(r, what);
    else if (rc)
        api_store_error(r, rc);
    return rc;
}

/* Resolve app p[0] and the endpoint (or, by_msg, the message) p[1]; answers 404. */
static int resolve_owner(struct http_req *r, struct store_txn *t, char **p, int by_msg,
                         char app[ID_MAX], char owner[ID_MAX])
{
    int rc = api_find_app(t, p[0], app);
    if (rc)
        return lookup_error(r, rc, "application");
    rc = by_msg ? api_find_msg(t, app, p[1], owner) : api_find_endpoint(t, app, p[1], owner);
    return lookup_error(r, rc, by_msg ? "message" : "endpoint");
}

static int get_rec(struct store_txn *t, enum store_db db, const char *a, const char *b,
                   json_t **rec)
{
    char key[2 * ID_MAX];
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", a, b);
    return store_get_json(t, db, key, kl, rec);
}

static int payload_expired(json_t *msg)
{
    return !json_object_get(msg, "payload") || json_is_true(json_object_get(msg, "expired"));
}

static const char *status_text(json_int_t s)
{
    static const char *const names[] = { "success", "pending", "fail", "sending", "canceled" };
    return s >= 0 && s <= 4 ? names[s] : "fail";
}

/* MessageAttemptOut of an attempt record. */
static json_t *attempt_out(json_t *rec, int with_content)
{
    static const char *const copy[] = { "id", "msgId", "endpointId", "url",
                                        "responseStatusCode", "responseDurationMs", "status",
                                        "triggerType" };
    json_t *o = json_object(), *resp = json_object_get(rec, "response");
    for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++)
        json_object_set(o, copy[i], json_object_get(rec, copy[i]));
    json_object_set_new(o, "response",
                        with_content && resp ? json_incref(resp) : json_string("{}"));
    json_int_t st = json_integer_value(json_object_get(rec, "status"));
    json_object_set_new(o, "statusText", json_string(status_text(st)));
    api_set_time(o, "timestamp", rec, "timestamp");
    /* hookd's addition (API.md 4.4): what the receiver answered besides its body */
    json_t *hdrs = json_object_get(rec, "responseHeaders");
    json_object_set_new(o, "responseHeaders", with_content && json_is_array(hdrs)
                                              ? json_incref(hdrs) : json_array());
    return o;
}

int api_queue_manual(struct store_txn *t, const char *app, const char *ep, const char *msg,
                     int64_t now)
{
    struct store_delivery d = { .state = DSTATE_PENDING, .next_ms = now, .updated_ms = now };
    uint8_t val[STORE_DELIVERY_LEN], due[STORE_DUE_KEY_MAX], dv[STORE_DUE_VAL_LEN];
    char key[2 * ID_MAX];
    snprintf(d.app_id, sizeof(d.app_id), "%s", app);
    store_delivery_encode(&d, val);
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", msg, ep);
    int rc = store_put(t, DB_DELIVERIES, key, kl, val, sizeof(val), 1);
    if (rc && rc != HOOKD_EEXIST)
        return rc;
    size_t dl = store_due_key(ep, now, msg, due, sizeof(due));
    store_due_val(app, TRIGGER_MANUAL, dv);
    rc = store_put(t, DB_DUE, due, dl, dv, sizeof(dv), 1);
    if (rc == HOOKD_EEXIST)   /* the same pair twice in one millisecond: one attempt */
        return 0;
    if (!rc)
        rc = epstats_add(t, ep, now, EPSTATS_PENDING);
    return rc ? rc : store_health_add(t, ep, 1, 0);
}

int api_resendable(struct store_txn *t, const char *app, const char *msg, const char *ep,
                   const char **why)
{
    json_t *e = NULL, *m = NULL;
    int rc = get_rec(t, DB_ENDPOINTS, app, ep, &e);
    *why = "endpoint";
    if (!rc) {
        *why = "message";
        rc = api_msg_rec(t, app, msg, &m, NULL);
    }
    if (!rc && json_is_true(json_object_get(e, "disabled"))) {
        *why = "endpoint_disabled";
        rc = HOOKD_EINVAL;
    } else if (!rc && payload_expired(m)) {
        *why = json_is_true(json_object_get(m, "expunged")) ? "payload_expunged"
                                                             : "missing_payload";
        rc = HOOKD_EINVAL;
    }
    json_decref(e);
    json_decref(m);
    return rc;
}

/* --- the two lists --- */

struct att_filter {
    struct store_txn *t;
    char app_id[ID_MAX];
    size_t plen;             /* length of the index key's leading id */
    int64_t status;          /* -1: any */
    int64_t code_class;      /* -1: any */
    char ep_id[ID_MAX];      /* list by message: endpoint_id filter, "" for none */
    const char *channel;
    const char *tag;         /* the message's tag (2.x clients send it), or NULL */
    json_t *types;           /* event_types; empty: any */
    int with_content, with_msg;
    struct api_splice sp;    /* the msg payloads (api_msg_out) */
};

/* Integer query parameter in [min, max] and a multiple of step; -1 when absent. */
static int query_int(struct http_req *r, const char *name, int64_t min, int64_t max,
                     int64_t step, int64_t *out)
{
    const char *v = http_query(r, name);
    char *end, loc[64], msg[96];
    *out = -1;
    if (!v)
        return 0;
    long long x = strtoll(v, &end, 10);
    if (*v && !*end && x >= min && x <= max && x % step == 0) {
        *out = x;
        return 0;
    }
    snprintf(loc, sizeof(loc), "query.%s", name);
    snprintf(msg, sizeof(msg), "%s must be one of %lld to %lld in steps of %lld", name,
             (long long)min, (long long)max, (long long)step);
    http_verror(r, loc, "type_error.enum", msg);
    return -1;
}

/* The query filters of both lists; -1 after 422. */
static int parse_filter(struct http_req *r, struct att_filter *f)
{
    f->channel = http_query(r, "channel");
    f->tag = http_query(r, "tag");
    if ((f->with_content = api_qbool(r, "with_content", 1)) < 0
        || (f->with_msg = api_qbool(r, "with_msg", 0)) < 0
        || query_int(r, "status", 0, 4, 1, &f->status)
        || query_int(r, "status_code_class", 0, 500, 100, &f->code_class))
        return -1;
    f->types = api_query_types(r);
    return 0;
}

/* Channel and event-type filters, and with_msg: 1 keeps the row (msg added to out). */
static int msg_filter(struct att_filter *f, const char *msg_id, json_t *out)
{
    int filtered = f->channel || f->tag || json_array_size(f->types);
    json_t *m;
    if (!filtered && !f->with_msg)
        return 1;
    if (!msg_id || api_msg_rec(f->t, f->app_id, msg_id, &m, NULL))
        return !filtered;
    int keep = api_msg_matches(f->types, f->channel, m) && (!f->tag || api_msg_tagged(m, f->tag));
    if (keep && f->with_msg)
        json_object_set_new(out, "msg", api_msg_out(m, f->with_content, &f->sp));
    json_decref(m);
    return keep;
}

static int64_t code_class(json_int_t code)
{
    return code < 100 ? 0 : code / 100 * 100;
}

static json_t *att_row(const struct store_kv *kv, void *arg)
{
    struct att_filter *f = arg;
    json_t *rec, *out = NULL;
    size_t el = strlen(f->ep_id);
    if (el && (kv->vlen != el || memcmp(kv->val, f->ep_id, el) != 0))
        return NULL;
    if (store_get_json(f->t, DB_ATTEMPTS, (const char *)kv->key + f->plen, kv->klen - f->plen,
                       &rec))
        return NULL;
    json_int_t st = json_integer_value(json_object_get(rec, "status"));
    json_int_t code = json_integer_value(json_object_get(rec, "responseStatusCode"));
    if ((f->status < 0 || st == f->status)
        && (f->code_class < 0 || code_class(code) == f->code_class)) {
        out = attempt_out(rec, f->with_content);
        if (!msg_filter(f, json_string_value(json_object_get(rec, "msgId")), out)) {
            json_decref(out);
            out = NULL;
        }
    }
    json_decref(rec);
    return out;
}

/*
 * ep_path: the endpoint named by the path (the deprecated
 * /msg/{msg}/endpoint/{ep}/attempt), which must exist; else the
 * endpoint_id query of the list by message, which filters only.
 */
static void att_list(struct api *a, struct http_req *r, char **p, int by_msg,
                     const char *ep_path)
{
    struct att_filter f = { 0 };
    char owner[ID_MAX], lo[ID_MAX], hi[ID_MAX];
    int has_hi;
    if (parse_filter(r, &f) || api_window(r, "atmpt_", lo, hi, &has_hi)
        || !(f.t = api_read(a, r)))
        goto out;
    if (resolve_owner(r, f.t, p, by_msg, f.app_id, owner) == 0) {
        const char *ep = by_msg ? http_query(r, "endpoint_id") : NULL;
        if (ep_path && api_find_endpoint(f.t, f.app_id, ep_path, f.ep_id) != 0) {
            api_not_found(r, "endpoint");
            goto out;
        }
        if (!ep_path && ep && api_find_endpoint(f.t, f.app_id, ep, f.ep_id) != 0)
            snprintf(f.ep_id, sizeof(f.ep_id), "%s", ep);   /* unknown: matches nothing */
        f.plen = strlen(owner);
        struct api_page pg = { .db = by_msg ? DB_ATT_BY_MSG : DB_ATT_BY_EP, .prefix = owner,
                               .descending = 1, .lo_id = lo, .hi_id = has_hi ? hi : NULL,
                               .row = att_row, .arg = &f, .splice = &f.sp };
        api_list(r, f.t, &pg);
    }
out:
    store_abort(f.t);
    json_decref(f.sp.texts);   /* api_list answered without splicing (an error) */
    json_decref(f.types);
}

void api_att_list_by_ep(struct api *a, struct http_req *r, char **p)
{
    att_list(a, r, p, 0, NULL);
}

void api_att_list_by_msg(struct api *a, struct http_req *r, char **p)
{
    att_list(a, r, p, 1, NULL);
}

/*
 * The Svix server's two deprecated lists, which it still serves outside
 * its OpenAPI: /msg/{msg}/attempt is the list by message (endpoint_id
 * filter and all), /msg/{msg}/endpoint/{ep}/attempt the same for one
 * endpoint, 404 when that endpoint does not exist.
 */
void api_att_list_msg_old(struct api *a, struct http_req *r, char **p)
{
    att_list(a, r, p, 1, NULL);
}

void api_att_list_msg_ep_old(struct api *a, struct http_req *r, char **p)
{
    att_list(a, r, p, 1, p[2]);
}

/* --- one attempt --- */

void api_att_get(struct api *a, struct http_req *r, char **p)
{
    char app[ID_MAX], msg[ID_MAX];
    json_t *rec = NULL;
    int with_content = api_qbool(r, "with_content", 1);
    struct store_txn *t;
    if (with_content < 0 || !(t = api_read(a, r)))
        return;
    if (resolve_owner(r, t, p, 1, app, msg) == 0) {
        int rc = id_is("atmpt_", p[2])
                 ? store_get_json(t, DB_ATTEMPTS, p[2], strlen(p[2]), &rec) : HOOKD_ENOTFOUND;
        const char *of = rc ? NULL : json_string_value(json_object_get(rec, "msgId"));
        if (rc == 0 && (!of || strcmp(of, msg) != 0))
            rc = HOOKD_ENOTFOUND;
        if (lookup_error(r, rc, "attempt") == 0)
            http_reply_json(r, 200, attempt_out(rec, with_content));
    }
    json_decref(rec);
    store_abort(t);
}

/* --- resend --- */

/* The endpoint must be enabled and the payload still there; answers 4xx. */
static int resend_check(struct http_req *r, struct store_txn *t, const char *app,
                        const char *msg, const char *ep)
{
    const char *why;
    int rc = api_resendable(t, app, msg, ep, &why);
    if (rc == HOOKD_EINVAL && strcmp(why, "endpoint_disabled") == 0)
        http_errorf(r, 400, "endpoint_disabled",
                    "endpoint '%s' is disabled (enable it, then resend)", ep);
    else if (rc == HOOKD_EINVAL && strcmp(why, "payload_expunged") == 0)
        http_errorf(r, 400, "missing_payload",
                    "the payload of message '%s' was expunged and cannot be sent again", msg);
    else if (rc == HOOKD_EINVAL)
        http_errorf(r, 400, "missing_payload",
                    "the payload of message '%s' has expired and cannot be sent again", msg);
    else
        lookup_error(r, rc, why);
    return rc;
}

static int resend_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    char app[ID_MAX], msg[ID_MAX], ep[ID_MAX];
    char *owner[2] = { j->p[0], j->p[2] };
    int rc = resolve_owner(r, t, j->p, 1, app, msg);
    if (!rc)
        rc = resolve_owner(r, t, owner, 0, app, ep);
    if (!rc)
        rc = resend_check(r, t, app, msg, ep);
    if (!rc)
        rc = api_queue_manual(t, app, ep, msg, j->now);
    if (rc)
        return rc;
    api_touch(r, app, ep);
    http_reply(r, 202, xstrdup("{}"), 2);
    return 0;
}

/* No body is needed (API.md 7.7); whatever is sent is ignored. */
void api_att_resend(struct api *a, struct http_req *r, char **p)
{
    api_submit(r, &api_kind_resend, api_job_new(p, NULL));
}

/* --- recover --- */

struct recover {
    char app_id[ID_MAX], ep_id[ID_MAX];
    int64_t since, until;
    char **msgs;             /* messages to send again, at most RECOVER_MAX */
    size_t n, done;           /* found; queued or skipped so far */
    int scanned, gone;
    uint64_t queued;
};

static void recover_free(void *p)
{
    struct recover *g = p;
    for (size_t i = 0; i < g->n; i++)
        free(g->msgs[i]);
    free(g->msgs);
    free(g);
}

/* RecoverIn: since (required), until (default now), at most 14 days + 5 min apart. */
static int recover_window(struct http_req *r, json_t *in, int64_t now, int64_t *since,
                          int64_t *until)
{
    if (api_since_until(r, in, now, since, until))
        return -1;
    if (*until - *since > RECOVER_WINDOW_MS) {
        http_verror(r, "body.since", "value_error",
                    "since must be at most 14 days and 5 minutes before until");
        return -1;
    }
    return 0;
}

#define SEEN_FAIL ((void *)(uintptr_t)1)
#define SEEN_OK ((void *)(uintptr_t)2)

struct scan {
    struct store_txn *t;
    size_t plen;
    struct hmap seen;        /* msg_id -> SEEN_FAIL, or SEEN_OK once one attempt succeeded */
    char **failed;           /* msg ids in the order of their first failure */
    size_t n, cap;
};

static int scan_one(const struct store_kv *kv, void *arg)
{
    struct scan *s = arg;
    char msg[ID_MAX];
    json_t *rec;
    if (kv->vlen >= ID_MAX || store_get_json(s->t, DB_ATTEMPTS, (const char *)kv->key + s->plen,
                                             kv->klen - s->plen, &rec))
        return 0;
    int ok = json_integer_value(json_object_get(rec, "status")) == 0;
    json_decref(rec);
    memcpy(msg, kv->val, kv->vlen);
    msg[kv->vlen] = '\0';
    if (ok) {
        hmap_put(&s->seen, msg, SEEN_OK);
    } else if (!hmap_get(&s->seen, msg)) {
        hmap_put(&s->seen, msg, SEEN_FAIL);
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->failed = xrealloc(s->failed, s->cap * sizeof(char *));
        }
        s->failed[s->n++] = xstrdup(msg);
    }
    return 0;
}

/* Can msg still be sent? (It exists and its payload has not expired.) */
static int sendable(struct store_txn *t, const char *app, const char *msg)
{
    json_t *m;
    if (api_msg_rec(t, app, msg, &m, NULL))
        return 0;
    int ok = !payload_expired(m);
    json_decref(m);
    return ok;
}

/* Messages with a failed and no successful attempt in [since, until) (HTTP thread). */
static int recover_collect(struct store_txn *t, struct recover *g, int64_t since, int64_t until)
{
    struct scan s = { .t = t, .plen = strlen(g->ep_id) };
    char lo[ID_MAX], hi[ID_MAX], klo[2 * ID_MAX], khi[2 * ID_MAX];
    id_bound("atmpt_", since, 0, lo);
    id_bound("atmpt_", until, 0, hi);
    size_t llen = (size_t)snprintf(klo, sizeof(klo), "%s%s", g->ep_id, lo);
    size_t hlen = (size_t)snprintf(khi, sizeof(khi), "%s%s", g->ep_id, hi);
    hmap_init(&s.seen);
    int rc = since < until
             ? store_scan(t, DB_ATT_BY_EP, klo, llen, khi, hlen, 0, scan_one, &s) : 0;
    g->msgs = xcalloc(s.n < RECOVER_MAX ? s.n + 1 : RECOVER_MAX, sizeof(char *));
    for (size_t i = 0; i < s.n; i++) {
        if (rc >= 0 && g->n < RECOVER_MAX && hmap_get(&s.seen, s.failed[i]) == SEEN_FAIL
            && sendable(t, g->app_id, s.failed[i]))
            g->msgs[g->n++] = s.failed[i];
        else
            free(s.failed[i]);
    }
    free(s.failed);
    hmap_release(&s.seen);
    return rc < 0 ? rc : 0;
}

/*
 * ENTRY_RECOVER: app, endpoint, the number of messages, each message id;
 * the entry's time is the due entries'. The scan decided the set; apply
 * re-checks only what the store says (the endpoint and each message are
 * still there).
 */
static void recover_encode(struct entry_w *e, const struct recover *g, size_t end, int64_t now)
{
    entry_begin(e, ENTRY_RECOVER, now);
    entry_put_str(e, g->app_id);
    entry_put_str(e, g->ep_id);
    entry_put_u64(e, end - g->done);
    for (size_t i = g->done; i < end; i++)
        entry_put_str(e, g->msgs[i]);
}

/* Writer (task_write) and hookd reapply: queue a batch of what the scan found. */
int task_recover_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t)
{
    char app[ID_MAX], ep[ID_MAX], msg[ID_MAX];
    entry_get_strbuf(r, app, sizeof(app));
    entry_get_strbuf(r, ep, sizeof(ep));
    uint64_t n = entry_get_u64(r), queued = 0;
    if (r->bad || n > RECOVER_BATCH)
        return HOOKD_EINVAL;
    int rc = reapply_pair_get(t, DB_ENDPOINTS, app, ep);   /* ENOTFOUND: the task ends, "gone" */
    for (uint64_t i = 0; !rc && i < n; i++) {
        entry_get_strbuf(r, msg, sizeof(msg));
        if (r->bad)
            return HOOKD_EINVAL;
        rc = reapply_pair_get(t, DB_MESSAGES, app, msg);   /* deleted since the scan? */
        if (rc == HOOKD_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (!rc)
            rc = api_queue_manual(t, app, ep, msg, r->head.now_ms);
        queued += rc == 0;
    }
    if (!rc)
        reapply_queued(env, app, ep, queued);
    return rc;
}

/* First step: the scan; then one batch per step. */
static int recover_step(const struct task_env *env, void *arg)
{
    struct recover *g = arg;
    struct store_txn *t;
    if (!g->scanned) {
        int rc = store_read(env->store, &t);
        if (rc)
            return rc;
        rc = recover_collect(t, g, g->since, g->until);
        store_abort(t);
        g->scanned = 1;
        return rc < 0 ? rc : g->n ? 0 : 1;
    }
    size_t end = g->done + RECOVER_BATCH < g->n ? g->done + RECOVER_BATCH : g->n;
    struct entry_w e = { 0 };
    uint64_t queued;
    recover_encode(&e, g, end, clock_now_ms());   /* the due entries' time, decided here */
    int rc = task_write(env, &e, &queued);
    if (rc == HOOKD_ENOTFOUND) {
        g->gone = 1;
        return 1;
    }
    if (rc)
        return rc < 0 ? rc : HOOKD_EINVAL;
    g->queued += queued;
    g->done = end;
    return g->done == g->n;
}

static json_t *recover_report(void *arg, int status)
{
    struct recover *g = arg;
    json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "appId", g->app_id, "endpointId", g->ep_id,
                          "found", (json_int_t)g->n, "queued", (json_int_t)g->queued);
    if (g->gone)
        json_object_set_new(o, "error", json_string("endpoint deleted"));
    (void)status;
    return o;
}

void api_ep_recover(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    struct recover *g = xcalloc(1, sizeof(*g));
    struct store_txn *t = NULL;
    char id[ID_MAX], ts[CLOCK_RFC3339_MAX];
    int64_t now = clock_now_ms();
    int rc = recover_window(r, in, now, &g->since, &g->until);
    json_decref(in);
    if (rc || !(t = api_read(a, r)))
        goto fail;
    rc = resolve_owner(r, t, p, 0, g->app_id, g->ep_id);
    store_abort(t);
    if (rc)
        goto fail;
    if (!a->tasks) {
        http_error(r, 503, "unavailable", "background tasks are not running");
        goto fail;
    }
    struct task_spec spec = { .kind = "endpoint.recover", .step = recover_step,
                              .report = recover_report, .free_arg = recover_free, .arg = g };
    if (task_submit(a->tasks, &spec, now, id)) {
        http_error(r, 503, "shutting_down", "the server is stopping; try again after it restarts");
        return;
    }
    clock_format(now, ts);
    http_reply_json(r, 202, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "status", "running",
                                      "task", "endpoint.recover", "updatedAt", ts));
    return;
fail:
    recover_free(g);
}

/* --- log entry kinds (api_kinds.h) --- */

/* app, message and endpoint: resend_apply reads all three */
API_JOB_DECODER(decode_resend, 3, 0, NULL)
const struct api_kind api_kind_resend = { ENTRY_RESEND, resend_apply, api_job_encode,
    decode_resend, api_job_free };
