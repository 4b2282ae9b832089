/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_msgdest.c - the Svix routes about where a message went and what it
 * left behind (API.md 4.8): expunging a message's payload or an
 * attempt's response body, the attempted messages of an endpoint and the
 * attempted destinations of a message.
 *
 * Expunge is a write: the message record becomes the record retention
 * leaves (retention.c: everything but payload and raw, opening with
 * "expired": true) with "expunged": true added, and in the same
 * transaction every delivery of the message still waiting (pending,
 * sending, held: a scheduled message's, a retry's) ends as failed with
 * STORE_CODE_PAYLOAD_EXPUNGED, its due entry gone and the endpoint's
 * backlog counts with it. A due entry the writer did not find (a manual
 * attempt queued at another time) meets the expunged record in the
 * dispatcher, which ends the delivery the same way; resend and replay
 * refuse a message without a payload. So nothing ever sends an empty body
 * in place of an expunged payload.
 *
 * The two lists read deliveries rows (msg_id|ep_id) rather than
 * attempts: a row is exactly "this message was meant for this endpoint",
 * carries its state and next due time, and exists from the fan-out on.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_kinds.h"
#include "entry_kinds.h"
#include "clock.h"
#include "epstats.h"
#include "err.h"
#include "mem.h"
#include "msgrec.h"

/* Svix's MessageStatus of a deliveries row: held counts as sending (it will be sent). */
static int svix_status(const struct store_delivery *d)
{
    switch (d->state) {
    case DSTATE_SUCCESS: return 0;
    case DSTATE_PENDING: return 1;
    case DSTATE_FAIL: return 2;
    default: return 3;
    }
}

static const char *const status_names[] = { "success", "pending", "fail", "sending" };

/* --- expunge ------------------------------------------------------------------ */

static json_t *expunged_record(json_t *rec)
{
    static const char *const keep[] = { "id", "eventType", "eventId", "channels", "tags",
                                        "deliverAt", "retentionDays", "timestamp" };
    json_t *o = json_object();
    json_object_set_new(o, "expired", json_true());   /* first: retention's mark */
    json_object_set_new(o, "expunged", json_true());
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        json_t *v = json_object_get(rec, keep[i]);
        if (v)
            json_object_set(o, keep[i], v);
    }
    return o;
}

#define EXPUNGE_EPS 4096      /* deliveries of one message ended in one request */

struct ep_ids {
    char (*id)[ID_MAX];
    size_t n;
    size_t plen;
};

static int collect_ep(const struct store_kv *kv, void *arg)
{
    struct ep_ids *e = arg;
    size_t l = kv->klen - e->plen;
    if (l >= ID_MAX)
        return 0;
    memcpy(e->id[e->n], (const char *)kv->key + e->plen, l);
    e->id[e->n][l] = '\0';
    return ++e->n == EXPUNGE_EPS;
}

/* The endpoints msg has deliveries rows for (at most EXPUNGE_EPS). */
static int deliveries_of(struct store_txn *t, const char *msg, struct ep_ids *e)
{
    char hi[ID_MAX + 1];
    e->plen = strlen(msg);
    e->n = 0;
    e->id = xcalloc(EXPUNGE_EPS, ID_MAX);
    snprintf(hi, sizeof(hi), "%s\x7f", msg);
    int rc = store_scan(t, DB_DELIVERIES, msg, e->plen, hi, e->plen + 1, 0, collect_ep, e);
    return rc < 0 ? rc : 0;
}

/* End one waiting delivery of msg to ep (writer). */
static int end_waiting(struct http_req *r, struct store_txn *t, const char *app,
                       const char *msg, const char *ep, int64_t now)
{
    char key[2 * ID_MAX];
    uint8_t val[STORE_DELIVERY_LEN], due[STORE_DUE_KEY_MAX];
    struct store_delivery d;
    const void *v;
    size_t n, kl = str_copy(key, sizeof(key), msg, ep);
    int rc = store_get(t, DB_DELIVERIES, key, kl, &v, &n);
    if (rc || store_delivery_decode(v, n, &d) || d.state == DSTATE_SUCCESS
        || d.state == DSTATE_FAIL)
        return rc == HOOKD_ENOTFOUND ? 0 : rc;
    size_t dl = store_due_key(ep, d.next_ms, msg, due, sizeof(due));
    if (store_get(t, DB_DUE, due, dl, &v, &n) == 0) {
        int retry = n == STORE_DUE_VAL_LEN && ((const uint8_t *)v)[31] == TRIGGER_RETRY;
        rc = store_del(t, DB_DUE, due, dl);
        if (!rc)
            rc = store_health_add(t, ep, -1, retry ? -1 : 0);
    }
    d.state = DSTATE_FAIL;
    d.next_ms = 0;
    d.updated_ms = now;
    d.last_code = STORE_CODE_PAYLOAD_EXPUNGED;
    store_delivery_encode(&d, val);
    if (!rc)
        rc = store_counter_add(t, "failed", 1);
    if (!rc)
        rc = epstats_add(t, ep, now, EPSTATS_CANCELED);
    if (!rc)
        rc = store_put(t, DB_DELIVERIES, key, kl, val, sizeof(val), 0);
    if (!rc)
        api_touch(r, app, ep);
    return rc;
}

static int msg_expunge_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    char app[ID_MAX], msg[ID_MAX], key[2 * ID_MAX];
    struct ep_ids e = { 0 };
    json_t *rec = NULL;
    int rc = api_find_pair(r, t, j->p, 1, app, msg);
    if (!rc && (rc = api_msg_rec(t, app, msg, &rec, NULL)))
        api_store_error(r, rc);
    if (rc)
        return rc;
    json_t *out = expunged_record(rec);
    json_decref(rec);
    size_t kl = str_copy(key, sizeof(key), app, msg);
    rc = store_put_json(t, DB_MESSAGES, key, kl, out);
    json_decref(out);
    if (!rc)
        rc = deliveries_of(t, msg, &e);
    for (size_t i = 0; !rc && i < e.n; i++)
        rc = end_waiting(r, t, app, msg, e.id[i], j->now);
    free(e.id);
    if (rc)
        api_store_error(r, rc);
    else
        http_reply(r, 204, xstrdup(""), 0);
    return rc;
}

void api_msg_expunge(struct api *a, struct http_req *r, char **p)
{
    struct api_job *j = api_job_new(p, NULL);
    j->now = clock_now_ms();
    api_submit(r, &api_kind_msg_expunge, j);
}

/* Svix answers the expunged attempt's response as "EXPUNGED"; so does hookd. */
static int att_expunge_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    char app[ID_MAX], msg[ID_MAX];
    json_t *rec = NULL;
    const char *att = j->p[2];
    int rc = api_find_pair(r, t, j->p, 1, app, msg);
    if (rc)
        return rc;
    rc = id_is("atmpt_", att) ? store_get_json(t, DB_ATTEMPTS, att, strlen(att), &rec)
                              : HOOKD_ENOTFOUND;
    const char *of = rc ? NULL : json_string_value(json_object_get(rec, "msgId"));
    if (rc == 0 && (!of || strcmp(of, msg) != 0))
        rc = HOOKD_ENOTFOUND;
    if (rc == 0) {
        json_object_set_new(rec, "response", json_string("EXPUNGED"));
        rc = store_put_json(t, DB_ATTEMPTS, att, strlen(att), rec);
    }
    json_decref(rec);
    if (rc == HOOKD_ENOTFOUND)
        api_not_found(r, "attempt");
    else if (rc)
        api_store_error(r, rc);
    else
        http_reply(r, 204, xstrdup(""), 0);
    return rc;
}

void api_att_expunge(struct api *a, struct http_req *r, char **p)
{
    api_submit(r, &api_kind_att_expunge, api_job_new(p, NULL));
}

/* --- the attempted messages of an endpoint ------------------------------------ */

/* status, statusText and nextAttempt of a deliveries row into o. */
static void delivery_out(json_t *o, const struct store_delivery *d)
{
    int st = svix_status(d);
    json_object_set_new(o, "status", json_integer(st));
    json_object_set_new(o, "statusText", json_string(status_names[st]));
    if ((d->state == DSTATE_PENDING || d->state == DSTATE_SENDING || d->state == DSTATE_HELD)
        && d->next_ms > 0) {
        char ts[CLOCK_RFC3339_MAX];
        clock_format(d->next_ms, ts);
        json_object_set_new(o, "nextAttempt", json_string(ts));
    } else {
        json_object_set_new(o, "nextAttempt", json_null());
    }
}

static int get_delivery(struct store_txn *t, const char *msg, size_t mlen, const char *ep,
                        struct store_delivery *d)
{
    char key[2 * ID_MAX];
    const void *v;
    size_t n;
    if (mlen >= ID_MAX)
        return HOOKD_ENOTFOUND;
    memcpy(key, msg, mlen);
    size_t kl = mlen + (size_t)snprintf(key + mlen, sizeof(key) - mlen, "%s", ep);
    int rc = store_get(t, DB_DELIVERIES, key, kl, &v, &n);
    return rc ? rc : store_delivery_decode(v, n, d);
}

struct epmsg_filter {
    struct store_txn *t;
    char app_id[ID_MAX], ep_id[ID_MAX];
    int with_content;
    int64_t status;           /* -1: any */
    const char *channel, *tag;
    json_t *types;
    struct api_splice sp;
};

static json_t *epmsg_row(const struct store_kv *kv, void *arg)
{
    struct epmsg_filter *f = arg;
    size_t al = strlen(f->app_id);
    struct store_delivery d;
    if (kv->klen <= al
        || get_delivery(f->t, (const char *)kv->key + al, kv->klen - al, f->ep_id, &d))
        return NULL;
    if (f->status >= 0 && svix_status(&d) != f->status)
        return NULL;
    json_t *rec = msgrec_parse(kv->val, kv->vlen, NULL), *out = NULL;
    if (!rec)
        return NULL;
    if (api_msg_matches(f->types, f->channel, rec) && (!f->tag || api_msg_tagged(rec, f->tag))) {
        out = api_msg_out(rec, f->with_content, &f->sp);
        delivery_out(out, &d);
    }
    json_decref(rec);
    return out;
}

/* status: 0..3 (Svix's MessageStatus); -1 absent; -2 after 422. */
static int64_t query_status(struct http_req *r)
{
    const char *v = http_query(r, "status");
    if (!v)
        return -1;
    if (v[0] >= '0' && v[0] <= '3' && !v[1])
        return v[0] - '0';
    http_verror(r, "query.status", "type_error.enum", "status must be 0, 1, 2 or 3");
    return -2;
}

/*
 * EndpointMessageOut: the app's messages (newest first, the message
 * list's window and filters) that have a delivery to the endpoint, with
 * its state. A filter that matches little walks at most LIST_SCAN
 * messages per page (api_page.max_scan).
 */
#define LIST_SCAN 20000
void api_ep_msg_list(struct api *a, struct http_req *r, char **p)
{
    struct epmsg_filter f = { .with_content = api_qbool(r, "with_content", 1),
                              .status = query_status(r), .channel = http_query(r, "channel"),
                              .tag = http_query(r, "tag"), .sp = API_SPLICE_INIT };
    char lo[ID_MAX], hi[ID_MAX];
    int has_hi;
    if (f.with_content < 0 || f.status == -2 || api_window(r, "msg_", lo, hi, &has_hi)
        || !(f.t = api_read(a, r)))
        return;
    if (api_find_pair(r, f.t, p, 0, f.app_id, f.ep_id) == 0) {
        f.types = api_query_types(r);
        struct api_page pg = { .db = DB_MESSAGES, .prefix = f.app_id, .descending = 1,
                               .lo_id = lo, .hi_id = has_hi ? hi : NULL, .row = epmsg_row,
                               .arg = &f, .max_scan = LIST_SCAN, .splice = &f.sp };
        api_list(r, f.t, &pg);
    }
    json_decref(f.sp.texts);
    json_decref(f.types);
    store_abort(f.t);
}

/* --- the attempted destinations of a message ---------------------------------- */

struct msgep_filter {
    struct store_txn *t;
    char app_id[ID_MAX];
    size_t plen;
};

static json_t *msgep_row(const struct store_kv *kv, void *arg)
{
    struct msgep_filter *f = arg;
    struct store_delivery d;
    char key[2 * ID_MAX];
    size_t el = kv->klen - f->plen, al = strlen(f->app_id);
    json_t *rec;
    if (el >= ID_MAX || store_delivery_decode(kv->val, kv->vlen, &d))
        return NULL;
    memcpy(key, f->app_id, al);
    memcpy(key + al, (const char *)kv->key + f->plen, el);
    if (store_get_json(f->t, DB_ENDPOINTS, key, al + el, &rec))
        return NULL;   /* deleted since: Svix keeps those, hookd has no record left */
    json_t *out = api_ep_out(rec);
    json_decref(rec);
    delivery_out(out, &d);
    return out;
}

/* MessageEndpointOut: the endpoints the message has deliveries to, by endpoint id. */
void api_msg_ep_list(struct api *a, struct http_req *r, char **p)
{
    struct msgep_filter f = { 0 };
    char msg[ID_MAX];
    if (!(f.t = api_read(a, r)))
        return;
    if (api_find_pair(r, f.t, p, 1, f.app_id, msg) == 0) {
        f.plen = strlen(msg);
        struct api_page pg = { .db = DB_DELIVERIES, .prefix = msg, .descending = 0,
                               .fixed_order = 1, .row = msgep_row, .arg = &f };
        api_list(r, f.t, &pg);
    }
    store_abort(f.t);
}

/* --- endpoint stats ----------------------------------------------------------- */

#define STATS_RANGE_MS ((28LL * 86400 + 300) * 1000)

/* Svix's EndpointStatsRange: until at most now, since at most 28 days (+5 min) before. */
static int stats_range(struct http_req *r, int64_t now, int64_t *since, int64_t *until)
{
    int hs = api_qtime(r, "since", since), hu = api_qtime(r, "until", until);
    if (hs < 0 || hu < 0)
        return -1;
    if (hu != 1)
        *until = now;
    if (*until > now) {
        http_error(r, 400, "invalid_range", "'until' cannot be in the future");
        return -1;
    }
    if (hs != 1)
        *since = *until - 28LL * 86400 * 1000;
    if (*until - *since > STATS_RANGE_MS) {
        http_error(r, 400, "invalid_range", "'since' cannot be more than 28 days prior to 'until'");
        return -1;
    }
    return 0;
}

/*
 * EndpointStats from the writer's day counters (epstats.h): the UTC days
 * since and until fall on are counted whole.
 */
void api_ep_stats(struct api *a, struct http_req *r, char **p)
{
    int64_t since, until, c[EPSTATS_KINDS];
    char app[ID_MAX], ep[ID_MAX];
    struct store_txn *t;
    if (stats_range(r, clock_now_ms(), &since, &until) || !(t = api_read(a, r)))
        return;
    int rc = api_find_pair(r, t, p, 0, app, ep);
    if (!rc && (rc = epstats_sum(t, ep, since, until, c)))
        api_store_error(r, rc);
    if (!rc)
        http_reply_json(r, 200, json_pack("{s:I, s:I, s:I, s:I, s:I}",
                                          "success", (json_int_t)c[EPSTATS_SUCCESS],
                                          "pending", (json_int_t)c[EPSTATS_PENDING],
                                          "sending", (json_int_t)c[EPSTATS_SENDING],
                                          "fail", (json_int_t)c[EPSTATS_FAIL],
                                          "canceled", (json_int_t)c[EPSTATS_CANCELED]));
    store_abort(t);
}

/* --- log entry kinds (api_kinds.h) --- */

/* Each decode checks what its apply reads (api_job_decode_as). */
API_JOB_DECODER(decode_msg_expunge, 2, 0, NULL)
API_JOB_DECODER(decode_att_expunge, 3, 0, NULL)

const struct api_kind api_kind_msg_expunge = { ENTRY_MSG_EXPUNGE, msg_expunge_apply, api_job_encode, decode_msg_expunge,
    api_job_free };

const struct api_kind api_kind_att_expunge = { ENTRY_ATT_EXPUNGE, att_expunge_apply, api_job_encode, decode_att_expunge,
    api_job_free };
