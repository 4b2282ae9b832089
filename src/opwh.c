/* SPDX-License-Identifier: Apache-2.0 */
/*
 * opwh.c - operational webhooks (opwh.h): events as messages of the
 * reserved application.
 *
 * An event is rare (a change of state), so it is made plainly: the ids'
 * uids are read from their records, the reserved application's endpoints
 * are read from the store and matched against their type filters, and
 * the message and its deliveries are written as ingest writes them
 * (msgrec.h, store.h), with the dispatcher told through writer_touch.
 * The payload is Svix's {"type": ..., "data": {...}} with the data's
 * fields in Svix's order and its nulls kept.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "mem.h"
#include "msgrec.h"
#include "entry.h"
#include "opwh.h"
#include "store.h"
#include "writer.h"

#define OPWH_RETENTION_DAYS 90

static const char *const events[] = {
    "endpoint.created", "endpoint.updated", "endpoint.deleted", "endpoint.disabled",
    "endpoint.enabled", "message.attempt.exhausted", "message.attempt.failing",
    "message.attempt.recovered",
};

int opwh_is_event(const char *name)
{
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
        if (strcmp(events[i], name) == 0)
            return 1;
    return 0;
}

int opwh_app_id(struct store_txn *t, char out[ID_MAX])
{
    char key[64];
    const void *v;
    size_t n;
    size_t kl = store_uid_key('a', "", OPWH_APP_UID, key, sizeof(key));
    int rc = store_get(t, DB_UIDS, key, kl, &v, &n);
    if (rc)
        return rc;
    if (n == 0 || n >= ID_MAX)
        return HOOKD_ECORRUPT;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

int opwh_app_ensure(struct store_txn *t, struct entry_head *h, char out[ID_MAX])
{
    int64_t now = h->now_ms;
    int rc = opwh_app_id(t, out);
    if (rc != HOOKD_ENOTFOUND)
        return rc;
    char id[ID_MAX], key[64];
    entry_draw_id(h, "app_", now, id);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:n, s:{}, s:I, s:I}", "id", id,
                            "name", "Operational webhooks", "uid", OPWH_APP_UID,
                            "throttleRate", "metadata", "createdAt", (json_int_t)now,
                            "updatedAt", (json_int_t)now);
    size_t kl = store_uid_key('a', "", OPWH_APP_UID, key, sizeof(key));
    rc = store_put(t, DB_UIDS, key, kl, id, strlen(id), 1);
    if (!rc)
        rc = store_put_json(t, DB_APPS, id, strlen(id), rec);
    json_decref(rec);
    if (!rc)
        memcpy(out, id, strlen(id) + 1);
    return rc;
}

/* The uid of a record (json null when it has none or cannot be read). */
static json_t *uid_of(struct store_txn *t, enum store_db db, const char *a, const char *b)
{
    char key[2 * ID_MAX];
    json_t *rec, *uid = NULL;
    size_t kl = str_copy(key, sizeof(key), a, b ? b : "");
    if (store_get_json(t, db, key, kl, &rec) == 0) {
        uid = json_object_get(rec, "uid");
        uid = json_is_string(uid) ? json_incref(uid) : NULL;
        json_decref(rec);
    }
    return uid ? uid : json_null();
}

static json_t *time_of(int64_t ms)
{
    char ts[CLOCK_RFC3339_MAX];
    clock_format(ms, ts);
    return json_string(ts);
}

/* The reserved application's endpoints that take type: ids appended to eps. */
struct match {
    const char *op_id;
    const char *type;
    json_t *eps;
};

static int takes(json_t *rec, const char *type)
{
    json_t *types = json_object_get(rec, "eventTypes"), *x;
    size_t i;
    if (json_is_true(json_object_get(rec, "disabled")))
        return 0;
    if (!json_is_array(types))
        return 1;
    json_array_foreach(types, i, x)
        if (json_is_string(x) && strcmp(json_string_value(x), type) == 0)
            return 1;
    return 0;
}

static int match_row(const struct store_kv *kv, void *arg)
{
    struct match *m = arg;
    size_t plen = strlen(m->op_id);
    if (kv->klen <= plen || memcmp(kv->key, m->op_id, plen) != 0)
        return 1;
    json_t *rec = json_loadb(kv->val, kv->vlen, 0, NULL);
    if (rec && takes(rec, m->type))
        json_array_append_new(m->eps, json_stringn((const char *)kv->key + plen,
                                                   kv->klen - plen));
    json_decref(rec);
    return 0;
}

static int add_delivery(struct store_txn *t, struct writer *w, const char *op_id,
                        const char *ep_id, const char *msg_id, int64_t now)
{
    struct store_delivery d = { .state = DSTATE_PENDING, .next_ms = now, .updated_ms = now };
    uint8_t val[STORE_DELIVERY_LEN], due[STORE_DUE_KEY_MAX], dv[STORE_DUE_VAL_LEN];
    char key[2 * ID_MAX];
    memcpy(d.app_id, op_id, strnlen(op_id, sizeof(d.app_id) - 1));
    store_delivery_encode(&d, val);
    size_t kl = str_copy(key, sizeof(key), msg_id, ep_id);
    int rc = store_put(t, DB_DELIVERIES, key, kl, val, sizeof(val), 0);
    size_t dl = store_due_key(ep_id, now, msg_id, due, sizeof(due));
    store_due_val(op_id, TRIGGER_SCHEDULED, dv);
    if (!rc)
        rc = store_put(t, DB_DUE, due, dl, dv, sizeof(dv), 0);
    if (!rc)
        rc = store_health_add(t, ep_id, 1, 0);
    if (!rc && w)
        writer_touch(w, op_id, ep_id, WRITER_NOTE_DUE);
    return rc;
}

/* The message of event type with data (stolen) and one delivery per taker. */
static int emit(struct store_txn *t, struct writer *w, const char *type, const char *app_id,
                json_t *data, struct entry_head *h)
{
    int64_t now = h->now_ms;
    char op_id[ID_MAX], msg_id[ID_MAX], key[2 * ID_MAX];
    int rc = opwh_app_id(t, op_id);
    if (rc || strcmp(op_id, app_id) == 0) {
        json_decref(data);
        return rc == HOOKD_ENOTFOUND ? 0 : rc;
    }
    json_t *payload = json_pack("{s:s, s:o}", "type", type, "data", data);
    char *text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    struct match m = { op_id, type, json_array() };
    rc = store_scan(t, DB_ENDPOINTS, op_id, strlen(op_id), NULL, 0, 0, match_row, &m);
    if (rc == 1)
        rc = 0;
    entry_draw_id(h, "msg_", now, msg_id);
    struct buf rec = BUF_INIT;
    msgrec_head(&rec, msg_id, type, NULL, NULL, 0);
    buf_adds(&rec, text);
    msgrec_tail(&rec, OPWH_RETENTION_DAYS, now, NULL);
    size_t kl = str_copy(key, sizeof(key), op_id, msg_id);
    if (!rc)
        rc = store_put(t, DB_MESSAGES, key, kl, rec.data, rec.len, 1);
    for (size_t i = 0; !rc && i < json_array_size(m.eps); i++)
        rc = add_delivery(t, w, op_id, json_string_value(json_array_get(m.eps, i)), msg_id,
                          now);
    buf_release(&rec);
    free(text);
    json_decref(m.eps);
    return rc;
}

int opwh_endpoint_event(struct store_txn *t, struct writer *w, const char *type,
                        const char *app_id, const char *ep_id, json_t *extra,
                        struct entry_head *h)
{
    json_t *data = json_pack("{s:s, s:o, s:s, s:o}", "appId", app_id,
                             "appUid", uid_of(t, DB_APPS, app_id, NULL), "endpointId", ep_id,
                             "endpointUid", uid_of(t, DB_ENDPOINTS, app_id, ep_id));
    if (extra)
        json_object_update(data, extra);
    return emit(t, w, type, app_id, data, h);
}

/* The message's eventId (Svix's msgEventId), or null. */
static json_t *event_id_of(struct store_txn *t, const char *app_id, const char *msg_id)
{
    char key[2 * ID_MAX];
    const void *v;
    size_t n;
    json_t *id = NULL;
    size_t kl = str_copy(key, sizeof(key), app_id, msg_id);
    if (store_get(t, DB_MESSAGES, key, kl, &v, &n) == 0) {
        json_t *rec = msgrec_parse(v, n, NULL);
        id = json_object_get(rec, "eventId");
        id = json_is_string(id) ? json_incref(id) : NULL;
        json_decref(rec);
    }
    return id ? id : json_null();
}

int opwh_attempt_event(struct store_txn *t, struct writer *w, const char *type,
                       const char *app_id, const char *ep_id, const char *msg_id,
                       const struct opwh_attempt *last, struct entry_head *h)
{
    char op_id[ID_MAX];
    int rc = opwh_app_id(t, op_id);   /* the common case: no reads past this one */
    if (rc || strcmp(op_id, app_id) == 0)
        return rc == HOOKD_ENOTFOUND ? 0 : rc;
    json_t *att = json_pack("{s:s, s:i, s:o}", "id", last->id, "responseStatusCode",
                            last->status_code, "timestamp", time_of(last->ms));
    json_t *data = json_pack("{s:s, s:o, s:s, s:o, s:s, s:o}", "appId", app_id,
                             "appUid", uid_of(t, DB_APPS, app_id, NULL), "msgId", msg_id,
                             "msgEventId", event_id_of(t, app_id, msg_id),
                             "endpointId", ep_id, "lastAttempt", att);
    return emit(t, w, type, app_id, data, h);
}

json_t *opwh_time(int64_t ms)
{
    return time_of(ms);
}
