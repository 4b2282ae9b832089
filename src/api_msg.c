/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_msg.c - messages (API.md 4.3): get and list; ingest, the hot path,
 * has a file of its own (api_ingest.c).
 *
 * Record (messages database, key app_id|msg_id, JSON; msgrec.h): id,
 * eventType, eventId (string|null), channels (array|null), tags (array,
 * optional), deliverAt (ms, optional: a scheduled message), payload
 * (object, the producer's text byte for byte), retentionDays (int),
 * timestamp (ms), raw (string, transformationsParams.rawPayload,
 * optional). Once the payload outlived its retention (retention.c) or
 * was expunged (api_msgdest.c, which adds "expunged": true), the record
 * keeps id, eventType, eventId, channels, tags, deliverAt, retentionDays
 * and timestamp, loses payload and raw, and opens with "expired": true;
 * it is shown with payload {"expired":true}.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "err.h"
#include "mem.h"
#include "msgrec.h"

#define MARK "\x01payload:"
#define MARK_OUT "\"\\u0001payload:"     /* how jansson prints MARK's start */

static json_t *placeholder(struct api_splice *sp, json_t *text)
{
    char mark[40];
    if (!sp->texts)
        sp->texts = json_array();
    snprintf(mark, sizeof(mark), MARK "%zu", json_array_size(sp->texts));
    json_array_append(sp->texts, text);
    return json_string(mark);
}

void api_splice_reply(struct http_req *r, int status, json_t *j, struct api_splice *sp)
{
    char *s = json_dumps(j, JSON_COMPACT), *p = s, *m;
    json_decref(j);
    struct buf b = BUF_INIT;
    size_t ml = strlen(MARK_OUT);
    while (s && sp->texts && (m = strstr(p, MARK_OUT))) {
        char *end;
        unsigned long i = strtoul(m + ml, &end, 10);
        json_t *t = json_array_get(sp->texts, i);
        buf_add(&b, p, (size_t)(m - p));
        if (t && *end == '"')
            buf_add(&b, json_string_value(t), json_string_length(t));
        else   /* not one of ours: cannot happen, but keep the text valid */
            buf_adds(&b, "{}");
        p = *end == '"' ? end + 1 : end;
    }
    buf_adds(&b, p ? p : "{}");
    free(s);
    json_decref(sp->texts);
    sp->texts = NULL;
    r->content_type = NULL;
    size_t len = b.len;
    http_reply(r, status, buf_detach(&b, NULL), len);
}

json_t *api_msg_out(json_t *rec, int with_content, struct api_splice *sp)
{
    json_t *o = json_object();
    json_object_set(o, "id", json_object_get(rec, "id"));
    json_object_set(o, "eventType", json_object_get(rec, "eventType"));
    json_t *eid = json_object_get(rec, "eventId");
    json_object_set_new(o, "eventId", eid ? json_incref(eid) : json_null());
    json_t *ch = json_object_get(rec, "channels");
    json_object_set_new(o, "channels", ch ? json_incref(ch) : json_null());
    json_t *payload = json_object_get(rec, "payload");
    if (with_content && (!payload || json_is_true(json_object_get(rec, "expired"))))
        json_object_set_new(o, "payload", json_pack("{s:b}", "expired", 1));
    else if (!with_content)
        json_object_set_new(o, "payload", json_object());
    else if (json_is_string(payload))   /* the text as sent (msgrec_parse) */
        json_object_set_new(o, "payload", placeholder(sp, payload));
    else
        json_object_set_new(o, "payload", json_incref(payload));
    api_set_time(o, "timestamp", rec, "timestamp");
    json_t *tags = json_object_get(rec, "tags");
    if (tags)
        json_object_set(o, "tags", tags);
    if (json_is_integer(json_object_get(rec, "deliverAt")))
        api_set_time(o, "deliverAt", rec, "deliverAt");
    return o;
}

/* Load the message named by id or eventId in app; answers 404 itself. */
static int load_msg(struct http_req *r, struct store_txn *t, char **p, json_t **rec)
{
    char app_id[ID_MAX], msg_id[ID_MAX];
    int rc = api_find_app(t, p[0], app_id);
    if (rc == 0)
        rc = api_find_msg(t, app_id, p[1], msg_id);
    if (rc == 0)
        rc = api_msg_rec(t, app_id, msg_id, rec, NULL);
    if (rc == HOOKD_ENOTFOUND)
        api_not_found(r, "message");
    else if (rc)
        api_store_error(r, rc);
    return rc;
}

void api_msg_get(struct api *a, struct http_req *r, char **p)
{
    int with_content = api_qbool(r, "with_content", 1);
    struct store_txn *t;
    json_t *rec;
    if (with_content < 0 || !(t = api_read(a, r)))
        return;
    if (load_msg(r, t, p, &rec) == 0) {
        struct api_splice sp = API_SPLICE_INIT;
        api_splice_reply(r, 200, api_msg_out(rec, with_content, &sp), &sp);
        json_decref(rec);
    }
    store_abort(t);
}

struct list_filter {
    int with_content;
    const char *channel;
    const char *tag;         /* Svix's tag filter, or NULL */
    json_t *types;           /* array of names or NULL */
    struct api_splice sp;
};

static json_t *list_row(const struct store_kv *kv, void *arg)
{
    struct list_filter *f = arg;
    json_t *rec = msgrec_parse(kv->val, kv->vlen, NULL), *out = NULL;
    if (!rec)
        return NULL;
    if (api_msg_matches(f->types, f->channel, rec) && (!f->tag || api_msg_tagged(rec, f->tag)))
        out = api_msg_out(rec, f->with_content, &f->sp);
    json_decref(rec);
    return out;
}

/* before/after as id bounds; with neither, the last 90 days. -1 after 422. */
static int msg_window(struct http_req *r, char lo[ID_MAX], char hi[ID_MAX], int *has_hi)
{
    int64_t before, after;
    int hb = api_qtime(r, "before", &before), ha = api_qtime(r, "after", &after);
    if (hb < 0 || ha < 0)
        return -1;
    *has_hi = hb == 1;
    if (hb == 1)
        id_bound("msg_", before, 0, hi);
    if (ha == 1)
        id_bound("msg_", after, 1, lo);
    else if (hb == 1)
        id_bound("msg_", before - 90LL * 86400 * 1000, 0, lo);
    else
        id_bound("msg_", clock_now_ms() - 90LL * 86400 * 1000, 0, lo);
    return 0;
}

void api_msg_list(struct api *a, struct http_req *r, char **p)
{
    struct list_filter f = { api_qbool(r, "with_content", 1), http_query(r, "channel"),
                             http_query(r, "tag"), NULL, API_SPLICE_INIT };
    char app_id[ID_MAX], lo[ID_MAX], hi[ID_MAX];
    int has_hi;
    if (f.with_content < 0 || msg_window(r, lo, hi, &has_hi))
        return;
    struct store_txn *t = api_read(a, r);
    if (!t)
        return;
    int rc = api_find_app(t, p[0], app_id);
    if (rc) {
        rc == HOOKD_ENOTFOUND ? api_not_found(r, "application") : api_store_error(r, rc);
        store_abort(t);
        return;
    }
    f.types = api_query_types(r);
    struct api_page pg = { .db = DB_MESSAGES, .prefix = app_id, .descending = 1,
                           .lo_id = lo, .hi_id = has_hi ? hi : NULL,
                           .row = list_row, .arg = &f, .splice = &f.sp };
    api_list(r, t, &pg);
    json_decref(f.sp.texts);   /* api_list answered without splicing (an error) */
    json_decref(f.types);
    store_abort(t);
}
