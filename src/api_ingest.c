/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_ingest.c - message ingest (POST /api/v1/app/{app}/msg, API.md 4.3),
 * the hot path.
 *
 * The HTTP thread does everything that does not need the write
 * transaction: it validates the body, picks the id and builds the stored
 * record and the 202 answer as text. Both embed the payload as the
 * producer wrote it: the raw text of the "payload" value, validated but
 * never reprinted, so 19.99 stays 19.99 and the receiver's signature
 * covers the producer's bytes. The JSON fast path (jscan.h) takes most
 * bodies without building a tree; jansson's path (api_body and the field
 * validators) takes every other body and words every error, the
 * payload's numbers masked (jscan_mask) since jansson cannot hold them
 * all. The record and the answer are then put together from the same
 * pieces, so nothing is serialised twice.
 *
 * Everything the write needs is decided before it reaches the writer
 * and travels in its log entry (entry.h): the id (made when the intent is
 * queued, so ids grow in apply order; submit_msg), the time, the record's
 * fields with the payload byte for byte, an embedded application's
 * record. The writer's apply then only reads the store: it resolves the
 * application, claims the eventId, puts the record and fans out (one
 * deliveries row and one due entry per matching endpoint) with the
 * filters of the writer's endpoint cache, a pure cache of the store's
 * endpoints (epcache.h). So hookd reapply, given the same entries in the
 * same order, fans out to the same endpoints. Fan-out stays in apply
 * rather than in the entry: carrying the list costs every message a read
 * transaction and the endpoint filters on the HTTP thread, and apply
 * must still look up each listed endpoint (one deleted in between gets
 * nothing). Measured on the paused-ingest benchmark (December 2026, one
 * endpoint, filters decoded per message as epcache's cache cannot serve
 * the HTTP threads): 31 us of CPU per message against 20.6, and a
 * quarter fewer messages a second. The record layout is described in
 * msgrec.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_kinds.h"
#include "entry_kinds.h"
#include "clock.h"
#include "config.h"
#include "epcache.h"
#include "epstats.h"
#include "err.h"
#include "jscan.h"
#include "mem.h"
#include "msgrec.h"

#define NAME_MAX_LEN 256      /* eventType, eventId */
#define CHANNELS_MAX 5
#define CHANNEL_MAX_LEN 128
#define RETENTION_DAYS 90
#define TAGS_MAX 5            /* Svix: a message's tags */
#define TAG_MAX_LEN 128
/*
 * deliverAt: Svix takes a time at most 24 hours ahead (best effort). A
 * time already past, beyond the skew a producer's clock may have, is
 * refused rather than sent at once as if it were meant.
 */
#define DELIVER_AHEAD_MS (24LL * 3600 * 1000)
#define DELIVER_SKEW_MS (60LL * 1000)

struct ingest {
    char *app;                /* the path's app id or uid */
    char *only_ep;            /* send-example: the one endpoint (id or uid), else NULL */
    int64_t now;
    char msg_id[ID_MAX];
    char type[NAME_MAX_LEN + 1];
    char event_id[NAME_MAX_LEN + 1];              /* "" when none */
    char channels[CHANNELS_MAX][CHANNEL_MAX_LEN + 1];
    size_t nchannels;         /* 0: channels null */
    char tags[TAGS_MAX][TAG_MAX_LEN + 1];
    size_t ntags;
    int64_t deliver_at;       /* first due time of a scheduled message; 0: now */
    json_t *app_rec;          /* embedded application, or NULL */
    int app_refused;          /* an embedded application the token may not create */
    char *rec, *resp;         /* stored record, MessageOut: one block, rec first */
    size_t rec_len, resp_len;
    /* what the entry carries besides the fields above: parts of rec, and the answer's form */
    size_t pay_at, pay_len;   /* the payload's text in rec */
    size_t raw_at, raw_len;   /* rawPayload's JSON string in rec; raw_len 0: none */
    int64_t days;             /* retentionDays */
    int with_content;         /* the answer holds the payload */
};

/* What the record and the answer need besides struct ingest. */
struct body {
    char *text;               /* the masked body jansson read (slow path), or NULL */
    const char *payload;      /* the payload's text as sent; points into the request body */
    size_t plen;
    char *raw;                /* rawPayload as a JSON string, or NULL */
    int64_t days;             /* payloadRetentionPeriod, -1 when absent */
    int with_content;
};

static void ingest_free(void *p)
{
    struct ingest *g = p;
    free(g->app);
    free(g->only_ep);
    free(g->rec);
    json_decref(g->app_rec);
    free(g);
}

/* --- the fast path --------------------------------------------------------- */

static int is_null(const char *v, size_t n)
{
    return n == 4 && memcmp(v, "null", 4) == 0;
}

/* A JSON string that is a name (api_is_name) of 1..max bytes, into out. */
static int take_name(const char *v, size_t n, size_t max, char *out)
{
    if (n < 3 || n - 2 > max || v[0] != '"' || v[n - 1] != '"')
        return -1;
    memcpy(out, v + 1, n - 2);
    out[n - 2] = '\0';
    return api_is_name(out, max) ? 0 : -1;
}

/* Names hold no ',' or '"', so a compact array of them splits on ','. */
static int take_channels(const char *v, size_t n, struct ingest *g)
{
    if (is_null(v, n))
        return 0;
    if (n < 4 || v[0] != '[' || v[n - 1] != ']')
        return -1;
    for (const char *p = v + 1, *end = v + n - 1; p < end; g->nchannels++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        if (!comma)
            comma = end;
        if (g->nchannels == CHANNELS_MAX
            || take_name(p, (size_t)(comma - p), CHANNEL_MAX_LEN, g->channels[g->nchannels]))
            return -1;
        p = comma + 1;
    }
    return 0;
}

static int take_days(const char *v, size_t n, int64_t *days)
{
    if (is_null(v, n))
        return 0;
    if (n > 2)
        return -1;
    int d = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        d = d * 10 + (v[i] - '0');
    }
    if (d < 1 || d > RETENTION_DAYS)
        return -1;
    *days = d;
    return 0;
}

static int key_is(const char *text, const struct jscan_member *m, const char *name)
{
    return m->klen == strlen(name) && memcmp(text + m->key, name, m->klen) == 0;
}

/* One top-level member; -1 for anything the validators would have to judge. */
static int fast_member(struct ingest *g, struct body *b, const char *text,
                       const struct jscan_member *m)
{
    const char *v = text + m->val;
    size_t n = m->vlen;
    if (key_is(text, m, "eventType"))
        return take_name(v, n, NAME_MAX_LEN, g->type);
    if (key_is(text, m, "eventId")) {
        if (is_null(v, n))
            return 0;
        if (take_name(v, n, NAME_MAX_LEN, g->event_id))
            return -1;
        return strncmp(g->event_id, "msg_", 4) == 0 ? -1 : 0;
    }
    if (key_is(text, m, "channels"))
        return take_channels(v, n, g);
    if (key_is(text, m, "payloadRetentionPeriod"))
        return take_days(v, n, &b->days);
    if (key_is(text, m, "payload")) {
        b->payload = v;
        b->plen = n;
        return v[0] == '{' ? 0 : -1;
    }
    if (key_is(text, m, "application") || key_is(text, m, "transformationsParams")
        || key_is(text, m, "tags") || key_is(text, m, "deliverAt"))
        return -1;
    return 0;    /* fields the API ignores */
}

/* 0 when the body is on the fast path and every field is valid. */
static int body_fast(struct api *a, struct http_req *r, struct ingest *g, struct body *b)
{
    struct jscan_member m[JSCAN_MAX_KEYS];
    const char *text = r->body.data ? r->body.data : "";
    int nm = jscan_object(text, r->body.len, a->cfg->max_json_depth, m);
    for (int i = 0; i < nm; i++)
        if (fast_member(g, b, text, &m[i]))
            nm = -1;
    if (nm >= 0 && g->type[0] && b->payload)
        return 0;
    *b = (struct body){ .days = -1 };
    g->type[0] = g->event_id[0] = '\0';
    g->nchannels = 0;
    return -1;
}

/* --- jansson's path -------------------------------------------------------- */

static void copy_names(json_t *arr, struct ingest *g)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
        snprintf(g->channels[g->nchannels++], CHANNEL_MAX_LEN + 1, "%s", json_string_value(x));
}

/* tags and deliverAt (scheduled messages, API.md 4.3). 0 or -1 after 422. */
static int slow_schedule(struct http_req *r, json_t *in, struct ingest *g)
{
    json_t *tags, *x;
    const char *at;
    size_t i;
    if (api_names(r, in, "tags", 0, TAGS_MAX, TAG_MAX_LEN, &tags)
        || api_str(r, in, "deliverAt", 0, 1, 64, &at))
        return -1;
    json_array_foreach(tags, i, x)
        snprintf(g->tags[g->ntags++], TAG_MAX_LEN + 1, "%s", json_string_value(x));
    if (!at)
        return 0;
    if (clock_parse(at, &g->deliver_at)) {
        http_verror(r, "body.deliverAt", "value_error.datetime",
                    "deliverAt must be an RFC 3339 date-time");
        return -1;
    }
    if (g->deliver_at < g->now - DELIVER_SKEW_MS || g->deliver_at > g->now + DELIVER_AHEAD_MS) {
        http_verror(r, "body.deliverAt", "value_error",
                    "deliverAt must be in the future, at most 24 hours ahead");
        return -1;
    }
    if (g->deliver_at <= g->now)   /* within the skew: now */
        g->deliver_at = 0;
    return 0;
}

/* Validate MessageIn fields beyond eventType/payload. 0 or -1 after 422. */
static int slow_fields(struct http_req *r, json_t *in, struct ingest *g, struct body *b)
{
    const char *type, *eid, *raw = NULL;
    json_t *channels;
    if (api_str(r, in, "eventType", 1, 1, NAME_MAX_LEN, &type))
        return -1;
    if (!api_is_name(type, NAME_MAX_LEN)) {
        http_verror(r, "body.eventType", "value_error.str.regex", "must match ^[a-zA-Z0-9\\-_.]+$");
        return -1;
    }
    if (!json_is_object(json_object_get(in, "payload"))) {
        http_verror(r, "body.payload", "type_error.dict", "payload must be a JSON object");
        return -1;
    }
    if (api_uid(r, in, "eventId", "msg_", &eid)
        || api_names(r, in, "channels", 1, CHANNELS_MAX, CHANNEL_MAX_LEN, &channels)
        || api_int(r, in, "payloadRetentionPeriod", 1, RETENTION_DAYS, &b->days, NULL)
        || slow_schedule(r, in, g))
        return -1;
    json_t *tp = json_object_get(in, "transformationsParams");
    if (json_is_object(tp) && api_str(r, tp, "rawPayload", 0, 0, SIZE_MAX, &raw))
        return -1;
    snprintf(g->type, sizeof(g->type), "%s", type);
    snprintf(g->event_id, sizeof(g->event_id), "%s", eid ? eid : "");
    if (channels)
        copy_names(channels, g);
    if (raw) {
        json_t *s = json_string(raw);
        b->raw = json_dumps(s, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(s);
    }
    return 0;
}

/*
 * The payload's text as sent. Its key written with escapes is not found
 * by the mask, whose numbers then reached jansson unmasked: that payload
 * alone is jansson's compact print.
 */
static void slow_payload(struct http_req *r, json_t *in, struct body *b,
                         const struct jscan_span *sp)
{
    if (sp->found) {
        b->payload = r->body.data + sp->at;
        b->plen = sp->len;
        return;
    }
    free(b->text);
    b->text = json_dumps(json_object_get(in, "payload"), JSON_COMPACT);
    b->payload = b->text;
    b->plen = strlen(b->text);
}

/* Decode with jansson; answers 422 itself and returns -1. */
static int body_slow(struct api *a, struct http_req *r, struct ingest *g, struct body *b)
{
    struct jscan_span sp;
    const char *text = r->body.data ? r->body.data : "";
    b->text = xmalloc(r->body.len + 1);
    jscan_mask(text, r->body.len, 0, b->text, &sp);
    json_t *in = api_body_text(a, r, b->text, r->body.len, 0), *app;
    int rc = -1;
    if (!in)
        return -1;
    b->with_content = api_qbool(r, "with_content", 1);
    if (b->with_content < 0 || slow_fields(r, in, g, b))
        goto out;
    app = json_object_get(in, "application");
    if (json_is_object(app) && r->scope != SCOPE_ADMIN)
        g->app_refused = 1;   /* creating one is an admin's write (API.md 2) */
    else if (json_is_object(app) && !(g->app_rec = api_app_new_rec(r, app, g->now)))
        goto out;
    slow_payload(r, in, b, &sp);
    rc = 0;
out:
    json_decref(in);
    return rc;
}

/* --- the record and the answer --------------------------------------------- */

/*
 * The fields both texts start with (msgrec.h); deliverAt is ms in the
 * record and an RFC 3339 time in the answer.
 */
static void put_head(struct buf *o, const struct ingest *g, int answer)
{
    const char *channels[CHANNELS_MAX], *tags[TAGS_MAX];
    char at[CLOCK_RFC3339_MAX + 2];
    struct msgrec_extra x = { tags, g->ntags, NULL };
    for (size_t i = 0; i < g->nchannels; i++)
        channels[i] = g->channels[i];
    for (size_t i = 0; i < g->ntags; i++)
        tags[i] = g->tags[i];
    if (g->deliver_at && answer) {
        at[0] = '"';
        clock_format(g->deliver_at, at + 1);
        strcat(at, "\"");
        x.deliver_at = at;
    } else if (g->deliver_at) {
        snprintf(at, sizeof(at), "%lld", (long long)g->deliver_at);
        x.deliver_at = at;
    }
    msgrec_head_ext(o, g->msg_id, g->type, g->event_id, channels, g->nchannels, &x);
}

/*
 * Record and MessageOut, in the key order json_dumps gave them before,
 * one after the other in one allocation.
 */
static void build_texts(struct ingest *g, const struct body *b)
{
    struct buf o = BUF_INIT;
    char ts[CLOCK_RFC3339_MAX];
    buf_grow(&o, b->plen + (b->with_content ? b->plen : 2) + 1024);
    put_head(&o, g, 0);
    g->pay_at = o.len;
    g->pay_len = b->plen;
    g->days = b->days > 0 ? b->days : RETENTION_DAYS;
    g->with_content = b->with_content;
    buf_add(&o, b->payload, b->plen);
    msgrec_tail(&o, g->days, g->now, b->raw);
    g->raw_len = b->raw ? strlen(b->raw) : 0;
    g->raw_at = o.len - 1 - g->raw_len;   /* ,"raw":RAW} */
    g->rec_len = o.len;
    put_head(&o, g, 1);
    if (b->with_content)
        buf_add(&o, b->payload, b->plen);
    else
        buf_adds(&o, "{}");
    clock_format(g->now, ts);
    buf_adds(&o, ",\"timestamp\":\"");
    buf_adds(&o, ts);
    buf_adds(&o, "\"}");
    g->resp_len = o.len - g->rec_len;
    g->rec = buf_detach(&o, NULL);
    g->resp = g->rec + g->rec_len;
}

/* --- the writer's side ----------------------------------------------------- */

static int has_name(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

/* Does the endpoint take a message of this type and these channels? */
static int ep_matches(const struct ep_filter *f, const struct ingest *g)
{
    if (f->disabled || (!f->any_type && !has_name(f->types, f->ntypes, g->type)))
        return 0;
    if (f->any_channel)
        return 1;
    for (size_t i = 0; i < g->nchannels; i++)
        if (has_name(f->channels, f->nchannels, g->channels[i]))
            return 1;
    return 0;
}

/* due: the first attempt's time (now, or a scheduled message's deliverAt). */
static int add_delivery(struct store_txn *t, const char *app_id, const char *ep_id,
                        const char *msg_id, int64_t now, int64_t due_ms)
{
    struct store_delivery d = { .state = DSTATE_PENDING, .next_ms = due_ms, .updated_ms = now };
    uint8_t val[STORE_DELIVERY_LEN], due[STORE_DUE_KEY_MAX], dv[STORE_DUE_VAL_LEN];
    char key[2 * ID_MAX];
    memcpy(d.app_id, app_id, strnlen(app_id, sizeof(d.app_id) - 1));
    store_delivery_encode(&d, val);
    size_t kl = str_copy(key, sizeof(key), msg_id, ep_id);
    int rc = store_append(t, DB_DELIVERIES, key, kl, val, sizeof(val), 0);
    if (rc)
        return rc;
    size_t dl = store_due_key(ep_id, due_ms, msg_id, due, sizeof(due));
    store_due_val(app_id, 0, dv);
    rc = store_put(t, DB_DUE, due, dl, dv, sizeof(dv), 0);
    if (!rc)
        rc = epstats_add(t, ep_id, now, EPSTATS_PENDING);
    return rc ? rc : store_health_add(t, ep_id, 1, 0);   /* the endpoint's backlog */
}

/* One deliveries row and one due entry per matching endpoint (API.md 4.3). */
static int fan_out(struct http_req *r, struct store_txn *t, const char *app_id,
                   const struct ingest *g)
{
    struct api *a = http_ctx(r);
    const struct ep_list *l;
    int rc = epcache_get(a->fanout, t, app_id, &l);
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        if (!ep_matches(&l->eps[i], g))
            continue;
        rc = add_delivery(t, app_id, l->eps[i].id, g->msg_id, g->now,
                          g->deliver_at ? g->deliver_at : g->now);
        if (!rc)
            api_touch(r, app_id, l->eps[i].id);
    }
    return rc;
}

/* The app for this message; created from the embedded application if allowed. */
static int resolve_app(struct http_req *r, struct store_txn *t, struct ingest *g,
                       char app_id[ID_MAX])
{
    int rc = api_find_app(t, g->app, app_id);
    if (rc != HOOKD_ENOTFOUND)
        return rc;
    if (g->app_refused) {
        http_errorf(r, 404, "not_found", "application '%s' not found; an ingest token cannot "
                    "create applications (create it with the admin token first)", g->app);
        return rc;
    }
    if (!g->app_rec) {
        api_not_found(r, "application");
        return rc;
    }
    const char *uid = json_string_value(json_object_get(g->app_rec, "uid"));
    if (!uid || strcmp(uid, g->app) != 0) {
        http_verror(r, "body.application.uid", uid ? "application_uid_mismatch"
                    : "application_uid_missing",
                    "application.uid must equal the application id in the path");
        return HOOKD_EINVAL;
    }
    rc = api_app_store(r, t, g->app_rec, NULL);
    if (!rc)
        snprintf(app_id, ID_MAX, "%s", json_string_value(json_object_get(g->app_rec, "id")));
    return rc;
}

/*
 * A new message must fit outside the store's reserve (store_room), so a
 * full map refuses ingest with 507 while outcomes, retention and deletes
 * still find pages. The estimate: the record twice (page slack), plus
 * its small rows. That check is the node's own admission: an entry being
 * re-applied was admitted where it was written, so it is not made again.
 */
static int create_apply(struct http_req *r, struct store_txn *t)
{
    struct ingest *g = r->data;
    struct api *a = http_ctx(r);
    char app_id[ID_MAX], key[2 * ID_MAX];
    int rc = a->replaying ? 0 : store_room(t, 2 * g->rec_len + 1024);
    if (!rc)
        rc = resolve_app(r, t, g, app_id);
    if (rc)
        return rc;
    if (g->event_id[0]) {
        rc = api_uid_put(t, 'm', app_id, g->event_id, g->msg_id);
        if (rc == HOOKD_EEXIST)
            http_error(r, 409, "conflict", "A message with that eventId already exists");
        if (rc)
            return rc;
    }
    char ep[ID_MAX];
    if (g->only_ep && (rc = api_find_endpoint(t, app_id, g->only_ep, ep))) {
        if (rc == HOOKD_ENOTFOUND)
            api_not_found(r, "endpoint");
        return rc;
    }
    size_t kl = str_copy(key, sizeof(key), app_id, g->msg_id);
    rc = store_append(t, DB_MESSAGES, key, kl, g->rec, g->rec_len, 1);
    if (!rc && g->only_ep) {   /* send-example: that endpoint, whatever its filters */
        rc = add_delivery(t, app_id, ep, g->msg_id, g->now, g->now);
        if (!rc)
            api_touch(r, app_id, ep);
    } else if (!rc) {
        rc = fan_out(r, t, app_id, g);
    }
    if (!rc) {   /* g is the request's data: it outlives the answer */
        http_reply_borrowed(r, 202, g->resp, g->resp_len);
        r->on_commit = api_count_ingest;
    }
    return rc;
}

/*
 * The id as the message is handed on: the provisional one made with its
 * time, or just after the last id handed out when that is not larger.
 * Ids made on the HTTP threads would reach the writer slightly out of
 * order; handed out in order instead, the messages and deliveries
 * databases append, which fills their pages rather than splitting them in
 * half (about a third fewer bytes to write per commit). The writer
 * applies intents in the order writer_submit() queued them (writer.h), so
 * msg_lock is held from the id until the intent is queued; the entry
 * carries the id, and apply decides none.
 */
static void submit_msg(struct api *a, struct http_req *r, struct ingest *g, int flat)
{
    char id[ID_MAX];
    size_t len = strlen(g->msg_id);
    pthread_mutex_lock(&a->msg_lock);
    id_after(g->msg_id, a->last_msg_id, id);
    if (strcmp(id, g->msg_id) != 0) {
        memcpy(g->msg_id, id, len);
        memcpy(g->rec + MSGREC_ID_AT, id, len);
        memcpy(g->resp + MSGREC_ID_AT, id, len);
    }
    memcpy(a->last_msg_id, id, len + 1);
    if (flat)
        api_submit_flat(r, &api_kind_msg_create, g);
    else
        api_submit(r, &api_kind_msg_create, g);
    pthread_mutex_unlock(&a->msg_lock);
}

void api_msg_create(struct api *a, struct http_req *r, char **p)
{
    struct ingest *g = xcalloc(1, sizeof(*g));
    struct body b = { .days = -1 };
    g->now = clock_now_ms();
    if (body_fast(a, r, g, &b) == 0)
        b.with_content = api_qbool(r, "with_content", 1);
    else if (body_slow(a, r, g, &b))
        goto fail;
    if (b.with_content < 0)
        goto fail;
    g->app = xstrdup(p[0]);
    id_new_at("msg_", g->now, g->msg_id);
    build_texts(g, &b);
    free(b.text);
    free(b.raw);
    submit_msg(a, r, g, 1);
    return;
fail:
    free(b.text);
    free(b.raw);
    ingest_free(g);
}

/* --- send-example ---------------------------------------------------------- */

/*
 * The example of an event type's schema: the newest version's
 * "examples"[index], else its "example" when index is 0. NULL when none.
 */
static json_t *schema_example(json_t *schemas, int64_t index)
{
    const char *k, *best = NULL;
    json_t *v;
    json_object_foreach(schemas, k, v)
        if (!best || strtol(k, NULL, 10) > strtol(best, NULL, 10))
            best = k;
    json_t *s = best ? json_object_get(schemas, best) : NULL;
    json_t *ex = json_array_get(json_object_get(s, "examples"), (size_t)index);
    if (!ex && index == 0)
        ex = json_object_get(s, "example");
    return json_is_object(ex) ? ex : NULL;
}

/* The example payload's text (caller frees), or NULL after answering 4xx. */
static char *example_payload(struct api *a, struct http_req *r, const char *type, int64_t index)
{
    if (strcmp(type, "svix.ping") == 0)   /* as Svix: no event type needed */
        return xstrdup("{\"success\":true}");
    struct store_txn *t = api_read(api_group(a, 0), r);   /* event types are group 0's */
    json_t *et = NULL;
    char *out = NULL;
    if (!t)
        return NULL;
    int rc = store_get_json(t, DB_EVENT_TYPES, type, strlen(type), &et);
    store_abort(t);
    json_t *ex = rc ? NULL : schema_example(json_object_get(et, "schemas"), index);
    if (rc == HOOKD_ENOTFOUND)
        api_not_found(r, "event type");
    else if (rc)
        api_store_error(r, rc);
    else if (!ex)
        http_errorf(r, 400, "invalid_scheme", "Unable to generate example message from "
                    "event-type schema: event type '%s' has no example %lld in its newest "
                    "schema", type, (long long)index);
    else
        out = json_dumps(ex, JSON_COMPACT);
    json_decref(et);
    return out;
}

/*
 * POST .../endpoint/{ep}/send-example (EventExampleIn: eventType,
 * exampleIndex): a message made from the event type's schema example, or
 * svix.ping's {"success":true}, sent to that one endpoint; MessageOut 202.
 */
void api_ep_send_example(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    const char *type;
    int64_t index = 0;
    char *payload = NULL;
    if (!in)
        return;
    if (api_str(r, in, "eventType", 1, 1, NAME_MAX_LEN, &type)
        || api_int(r, in, "exampleIndex", 0, 1000, &index, NULL))
        goto out;
    if (!api_is_name(type, NAME_MAX_LEN)) {
        http_verror(r, "body.eventType", "value_error.str.regex", "must match ^[a-zA-Z0-9\\-_.]+$");
        goto out;
    }
    if (index < 0)   /* absent */
        index = 0;
    if (!(payload = example_payload(a, r, type, index)))
        goto out;
    struct ingest *g = xcalloc(1, sizeof(*g));
    struct body b = { .payload = payload, .plen = strlen(payload), .days = -1, .with_content = 1 };
    g->now = clock_now_ms();
    snprintf(g->type, sizeof(g->type), "%s", type);
    g->app = xstrdup(p[0]);
    g->only_ep = xstrdup(p[1]);
    id_new_at("msg_", g->now, g->msg_id);
    build_texts(g, &b);
    submit_msg(a, r, g, 0);
out:
    free(payload);
    json_decref(in);
}

/* --- log entry kinds (api_kinds.h) --- */

/* A name of the message (eventType, eventId, a channel or tag) as bytes. */
static void put_name(struct entry_w *w, const char *s)
{
    entry_put_bytes(w, s, strlen(s));
}

enum { F_APP_REFUSED = 1, F_WITH_CONTENT = 2 };

/*
 * The message as the HTTP thread decided it: the record is rebuilt from
 * these fields (build_texts), the payload and rawPayload as their bytes
 * in the record. Only an embedded application goes through jansson, and
 * only bodies that have one take jansson's path anyway.
 */
static void create_encode(struct entry_w *w, const void *data)
{
    const struct ingest *g = data;
    entry_put_str(w, g->app);
    entry_put_str(w, g->only_ep);
    entry_put_i64(w, g->now);
    put_name(w, g->msg_id);
    put_name(w, g->type);
    put_name(w, g->event_id);
    entry_put_u64(w, g->nchannels);
    for (size_t i = 0; i < g->nchannels; i++)
        put_name(w, g->channels[i]);
    entry_put_u64(w, g->ntags);
    for (size_t i = 0; i < g->ntags; i++)
        put_name(w, g->tags[i]);
    entry_put_i64(w, g->deliver_at);
    entry_put_u64(w, (g->app_refused ? F_APP_REFUSED : 0) | (g->with_content ? F_WITH_CONTENT : 0));
    entry_put_u64(w, (uint64_t)g->days);
    entry_put_bytes(w, g->rec + g->pay_at, g->pay_len);
    entry_put_bytes(w, g->rec + g->raw_at, g->raw_len);
    entry_put_json(w, g->app_rec);
}

/*
 * A name into out (cap bytes with its NUL): empty only when may_be_empty,
 * else of the API's name characters; the reader is left bad otherwise.
 */
static void get_name(struct entry_r *er, char *out, size_t cap, int may_be_empty)
{
    size_t n;
    const char *p = entry_get_bytes(er, &n);
    if (er->bad || n >= cap || (n == 0 && !may_be_empty)) {
        er->bad = 1;
        out[0] = '\0';
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    if (n && !api_is_name(out, cap - 1))
        er->bad = 1;
}

/* A count of names (at most max), then the names into v. */
static size_t get_names(struct entry_r *er, size_t max, size_t cap, char *v, size_t stride)
{
    uint64_t n = entry_get_u64(er);
    if (n > max) {
        er->bad = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        get_name(er, v + i * stride, cap, 0);
    return (size_t)n;
}

/*
 * A payload read back from an entry is one JSON object, as ingest
 * checked it: jscan's fast path, else jansson with the numbers masked
 * (jscan.h). Only decode pays for this, not the hot path.
 */
static int payload_valid(const char *p, size_t n)
{
    struct jscan_member m[JSCAN_MAX_KEYS];
    struct jscan_span sp;
    if (n < 2 || p[0] != '{' || p[n - 1] != '}')
        return 0;
    if (jscan_object(p, n, JSCAN_MAX_DEPTH, m) >= 0)
        return 1;
    char *masked = xmalloc(n + 1);
    jscan_mask(p, n, 1, masked, &sp);
    json_t *j = json_loadb(masked, n, JSON_REJECT_DUPLICATES, NULL);
    int ok = json_is_object(j);
    json_decref(j);
    free(masked);
    return ok;
}

/* The fields after the names; 0, or -1 when they cannot be what encode wrote. */
static int decode_rest(struct entry_r *er, struct ingest *g, struct body *b)
{
    g->deliver_at = entry_get_i64(er);
    uint64_t f = entry_get_u64(er), days = entry_get_u64(er);
    g->app_refused = (f & F_APP_REFUSED) != 0;
    b->with_content = (f & F_WITH_CONTENT) != 0;
    b->days = (int64_t)(days <= RETENTION_DAYS ? days : 0);
    b->payload = entry_get_bytes(er, &b->plen);
    size_t rn;
    const char *raw = entry_get_bytes(er, &rn);
    g->app_rec = entry_get_json(er);
    if (er->bad || f > (F_APP_REFUSED | F_WITH_CONTENT) || days < 1 || days > RETENTION_DAYS
        || !payload_valid(b->payload, b->plen)
        || (rn && (rn < 2 || raw[0] != '"' || raw[rn - 1] != '"'))
        || (g->app_rec && !json_is_string(json_object_get(g->app_rec, "id"))))
        return -1;
    b->raw = rn ? xstrndup(raw, rn) : NULL;
    return 0;
}

/* create_encode's fields into a job like the handler's, records rebuilt; NULL when damaged. */
static void *create_decode(struct entry_r *er)
{
    struct ingest *g = xcalloc(1, sizeof(*g));
    struct body b = { .days = -1 };
    g->app = entry_get_str(er);
    g->only_ep = entry_get_str(er);
    g->now = entry_get_i64(er);
    get_name(er, g->msg_id, sizeof(g->msg_id), 0);
    get_name(er, g->type, sizeof(g->type), 0);
    get_name(er, g->event_id, sizeof(g->event_id), 1);
    g->nchannels = get_names(er, CHANNELS_MAX, CHANNEL_MAX_LEN + 1, g->channels[0],
                             sizeof(g->channels[0]));
    g->ntags = get_names(er, TAGS_MAX, TAG_MAX_LEN + 1, g->tags[0], sizeof(g->tags[0]));
    if (er->bad || !g->app || strncmp(g->msg_id, "msg_", 4) != 0 || decode_rest(er, g, &b)) {
        er->bad = 1;
        ingest_free(g);
        return NULL;
    }
    build_texts(g, &b);
    free(b.raw);
    return g;
}

const struct api_kind api_kind_msg_create = { ENTRY_MSG_CREATE, create_apply, create_encode,
                                              create_decode, ingest_free };
