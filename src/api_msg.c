/*
 * api_msg.c - messages (API.md 4.3): ingest, get, list.
 *
 * Ingest is the hot path, so the HTTP thread does everything that does
 * not need the write transaction: it decodes and validates the body,
 * picks the id, serialises the stored record and the response once. The
 * writer's apply then only resolves the application, claims the eventId,
 * fans out (one deliveries row and one due entry per matching endpoint)
 * and puts bytes.
 *
 * Record (messages database, key app_id|msg_id, JSON): id, eventType,
 * eventId (string|null), channels (array|null), payload (object),
 * raw (string, transformationsParams.rawPayload, optional),
 * retentionDays (int), timestamp (ms).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "err.h"
#include "mem.h"

struct ingest {
    struct api_job job;      /* p[0] = app id or uid; in = the body */
    char msg_id[ID_MAX];
    const char *event_type;
    const char *event_id;
    json_t *channels;        /* borrowed from job.in */
    char *rec;               /* serialised record */
    size_t rec_len;
    json_t *app_rec;         /* embedded application, or NULL */
    char *resp;              /* serialised MessageOut */
};

static void ingest_free(void *p)
{
    struct ingest *g = p;
    free(g->rec);
    free(g->resp);
    json_decref(g->app_rec);
    for (int i = 0; i < API_MAX_PARAMS; i++)
        free(g->job.p[i]);
    json_decref(g->job.in);
    free(g);
}

static json_t *msg_out(json_t *rec, int with_content)
{
    json_t *o = json_object();
    json_object_set(o, "id", json_object_get(rec, "id"));
    json_object_set(o, "eventType", json_object_get(rec, "eventType"));
    json_t *eid = json_object_get(rec, "eventId");
    json_object_set_new(o, "eventId", eid ? json_incref(eid) : json_null());
    json_t *ch = json_object_get(rec, "channels");
    json_object_set_new(o, "channels", ch ? json_incref(ch) : json_null());
    json_t *payload = json_object_get(rec, "payload");
    json_object_set_new(o, "payload",
                        with_content && payload ? json_incref(payload) : json_object());
    api_set_time(o, "timestamp", rec, "timestamp");
    return o;
}

/* Does the endpoint record ep take a message of this type and channels? */
static int ep_matches(json_t *ep, const char *type, json_t *channels)
{
    if (json_is_true(json_object_get(ep, "disabled")))
        return 0;
    json_t *types = json_object_get(ep, "eventTypes"), *x, *y;
    size_t i, k;
    if (json_is_array(types)) {
        int hit = 0;
        json_array_foreach(types, i, x)
            hit |= strcmp(json_string_value(x), type) == 0;
        if (!hit)
            return 0;
    }
    json_t *want = json_object_get(ep, "channels");
    if (!json_is_array(want))
        return 1;
    if (!json_is_array(channels))
        return 0;
    json_array_foreach(want, i, x)
        json_array_foreach(channels, k, y)
            if (strcmp(json_string_value(x), json_string_value(y)) == 0)
                return 1;
    return 0;
}

static int add_delivery(struct store_txn *t, const char *app_id, const char *ep_id,
                        const char *msg_id, int64_t now)
{
    struct store_delivery d = { .state = DSTATE_PENDING, .next_ms = now, .updated_ms = now };
    uint8_t val[STORE_DELIVERY_LEN], due[STORE_DUE_KEY_MAX], dv[STORE_DUE_VAL_LEN];
    char key[2 * ID_MAX];
    snprintf(d.app_id, sizeof(d.app_id), "%s", app_id);
    store_delivery_encode(&d, val);
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", msg_id, ep_id);
    int rc = store_put(t, DB_DELIVERIES, key, kl, val, sizeof(val), 0);
    if (rc)
        return rc;
    size_t dl = store_due_key(ep_id, now, msg_id, due, sizeof(due));
    store_due_val(app_id, 0, dv);
    return store_put(t, DB_DUE, due, dl, dv, sizeof(dv), 0);
}

/* One deliveries row and one due entry per matching endpoint (API.md 4.3). */
static int fan_out(struct http_req *r, struct store_txn *t, const char *app_id,
                   struct ingest *g, int64_t now)
{
    struct store_cursor *c;
    struct store_kv kv;
    size_t al = strlen(app_id);
    int rc = store_cursor_open(t, DB_ENDPOINTS, &c);
    if (rc)
        return rc;
    for (rc = store_cursor_seek(c, app_id, al, &kv);
         rc == 0 && kv.klen > al && memcmp(kv.key, app_id, al) == 0;
         rc = store_cursor_next(c, &kv)) {
        json_t *ep = json_loadb(kv.val, kv.vlen, 0, NULL);
        if (!ep) {
            rc = HOOKD_ECORRUPT;
            break;
        }
        if (ep_matches(ep, g->event_type, g->channels)) {
            char ep_id[ID_MAX];
            snprintf(ep_id, sizeof(ep_id), "%.*s", (int)(kv.klen - al), (const char *)kv.key + al);
            rc = add_delivery(t, app_id, ep_id, g->msg_id, now);
            if (!rc)
                api_touch(r, app_id, ep_id);
        }
        json_decref(ep);
        if (rc)
            break;
    }
    store_cursor_close(c);
    return rc == HOOKD_ENOTFOUND ? 0 : rc;
}

/* The app for this message; created from the embedded application if allowed. */
static int resolve_app(struct http_req *r, struct store_txn *t, struct ingest *g,
                       char app_id[ID_MAX])
{
    int rc = api_find_app(t, g->job.p[0], app_id);
    if (rc != HOOKD_ENOTFOUND)
        return rc;
    if (!g->app_rec) {
        api_not_found(r, "application");
        return rc;
    }
    const char *uid = json_string_value(json_object_get(g->app_rec, "uid"));
    if (!uid || strcmp(uid, g->job.p[0]) != 0) {
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

static int create_apply(struct http_req *r, struct store_txn *t)
{
    struct ingest *g = r->data;
    char app_id[ID_MAX], key[2 * ID_MAX];
    int rc = resolve_app(r, t, g, app_id);
    if (rc)
        return rc;
    if (g->event_id) {
        rc = api_uid_put(t, 'm', app_id, g->event_id, g->msg_id);
        if (rc == HOOKD_EEXIST)
            http_error(r, 409, "conflict", "A message with that eventId already exists");
        if (rc)
            return rc;
    }
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", app_id, g->msg_id);
    rc = store_put(t, DB_MESSAGES, key, kl, g->rec, g->rec_len, 1);
    if (!rc)
        rc = fan_out(r, t, app_id, g, g->job.now);
    if (!rc)
        http_reply(r, 202, xstrdup(g->resp), strlen(g->resp));
    return rc;
}

/* Validate MessageIn fields beyond eventType/payload. 0 or -1 after 422. */
static int msg_fields(struct http_req *r, json_t *in, struct ingest *g, int64_t *days,
                      const char **raw)
{
    if (api_str(r, in, "eventType", 1, 1, 256, &g->event_type))
        return -1;
    if (!api_is_name(g->event_type, 256)) {
        http_verror(r, "body.eventType", "value_error.str.regex", "must match ^[a-zA-Z0-9\\-_.]+$");
        return -1;
    }
    if (!json_is_object(json_object_get(in, "payload"))) {
        http_verror(r, "body.payload", "type_error.dict", "payload must be a JSON object");
        return -1;
    }
    if (api_uid(r, in, "eventId", "msg_", &g->event_id)
        || api_names(r, in, "channels", 1, 5, 128, &g->channels)
        || api_int(r, in, "payloadRetentionPeriod", 1, 90, days, NULL))
        return -1;
    json_t *tp = json_object_get(in, "transformationsParams");
    *raw = NULL;
    if (json_is_object(tp) && api_str(r, tp, "rawPayload", 0, 0, SIZE_MAX, raw))
        return -1;
    return 0;
}

/* Build the stored record and the response text once, here. */
static void msg_serialise(struct ingest *g, json_t *in, int64_t days, const char *raw,
                          int with_content)
{
    json_t *rec = json_pack("{s:s, s:s, s:o, s:O, s:O, s:I, s:I}", "id", g->msg_id,
                            "eventType", g->event_type,
                            "eventId", g->event_id ? json_string(g->event_id) : json_null(),
                            "channels", g->channels ? g->channels : json_null(),
                            "payload", json_object_get(in, "payload"),
                            "retentionDays", (json_int_t)(days > 0 ? days : 90),
                            "timestamp", (json_int_t)g->job.now);
    if (raw)
        json_object_set_new(rec, "raw", json_string(raw));
    g->rec = json_dumps(rec, JSON_COMPACT);
    g->rec_len = strlen(g->rec);
    json_t *out = msg_out(rec, with_content);
    g->resp = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    json_decref(rec);
}

void api_msg_create(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    struct ingest *g = xcalloc(1, sizeof(*g));
    g->job.p[0] = xstrdup(p[0]);
    g->job.in = in;
    g->job.now = clock_now_ms();
    int64_t days;
    const char *raw;
    int with_content = api_qbool(r, "with_content", 1);
    if (with_content < 0 || msg_fields(r, in, g, &days, &raw))
        goto fail;
    json_t *app = json_object_get(in, "application");
    if (json_is_object(app) && !(g->app_rec = api_app_new_rec(r, app, g->job.now)))
        goto fail;
    id_new_at("msg_", g->job.now, g->msg_id);
    msg_serialise(g, in, days, raw, with_content);
    api_submit(r, create_apply, g, ingest_free);
    return;
fail:
    ingest_free(g);
}

/* Load the message named by id or eventId in app; answers 404 itself. */
static int load_msg(struct http_req *r, struct store_txn *t, char **p, json_t **rec)
{
    char app_id[ID_MAX], msg_id[ID_MAX], key[2 * ID_MAX];
    int rc = api_find_app(t, p[0], app_id);
    if (rc == 0)
        rc = api_find_msg(t, app_id, p[1], msg_id);
    if (rc == 0) {
        size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", app_id, msg_id);
        rc = store_get_json(t, DB_MESSAGES, key, kl, rec);
    }
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
        http_reply_json(r, 200, msg_out(rec, with_content));
        json_decref(rec);
    }
    store_abort(t);
}

struct list_filter {
    int with_content;
    const char *channel;
    json_t *types;           /* array of names or NULL */
};

static void add_types(const char *v, void *arg)
{
    json_t *types = arg;
    char *copy = xstrdup(v), *save = NULL;
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
        json_array_append_new(types, json_string(s));
    free(copy);
}

static int has_string(json_t *arr, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
            return 1;
    return 0;
}

static json_t *list_row(const struct store_kv *kv, void *arg)
{
    struct list_filter *f = arg;
    json_t *rec = json_loadb(kv->val, kv->vlen, 0, NULL), *out = NULL;
    if (!rec)
        return NULL;
    const char *type = json_string_value(json_object_get(rec, "eventType"));
    json_t *ch = json_object_get(rec, "channels");
    int keep = (!json_array_size(f->types) || (type && has_string(f->types, type)))
               && (!f->channel || (json_is_array(ch) && has_string(ch, f->channel)));
    if (keep)
        out = msg_out(rec, f->with_content);
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
    struct list_filter f = { api_qbool(r, "with_content", 1), http_query(r, "channel"), NULL };
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
    f.types = json_array();
    http_query_each(r, "event_types", add_types, f.types);
    struct api_page pg = { .db = DB_MESSAGES, .prefix = app_id, .descending = 1,
                           .lo_id = lo, .hi_id = has_hi ? hi : NULL,
                           .row = list_row, .arg = &f };
    api_list(r, t, &pg);
    json_decref(f.types);
    store_abort(t);
}
