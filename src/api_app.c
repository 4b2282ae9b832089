/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_app.c - applications (API.md 4.1).
 *
 * Record (apps database, JSON): id, name, uid (string or null),
 * throttleRate (int or null), metadata (object), createdAt, updatedAt (ms).
 * Uniqueness of uids is checked in the writer's transaction, so two
 * concurrent creates with one uid cannot both win.
 *
 * Applies decide nothing (entry.h): a create's id is made by its handler,
 * before the writer, and carried in the entry with the record; a PUT
 * that creates draws its id from the entry; every time written is the
 * job's (the request's arrival).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_kinds.h"
#include "entry.h"
#include "entry_kinds.h"
#include "clock.h"
#include "err.h"
#include "mem.h"
#include "opwh.h"
#include "part.h"

json_t *api_app_out(json_t *rec)
{
    json_t *o = json_object();
    json_object_set(o, "id", json_object_get(rec, "id"));
    json_object_set(o, "name", json_object_get(rec, "name"));
    json_t *uid = json_object_get(rec, "uid");
    json_object_set_new(o, "uid", uid ? json_incref(uid) : json_null());
    json_t *tr = json_object_get(rec, "throttleRate");
    json_object_set_new(o, "throttleRate", tr ? json_incref(tr) : json_null());
    json_object_set_new(o, "rateLimit", tr ? json_incref(tr) : json_null());
    json_t *md = json_object_get(rec, "metadata");
    json_object_set_new(o, "metadata", md ? json_incref(md) : json_object());
    api_set_time(o, "createdAt", rec, "createdAt");
    api_set_time(o, "updatedAt", rec, "updatedAt");
    return o;
}

/* The partition groups (group.h) of the request's api; 1 without groups. */
static int groups_of(struct api *a)
{
    return a && a->ngroups > 1 ? a->ngroups : 1;
}

/*
 * With partition groups, an app's id and uid name the same group, so a
 * request naming either is routed without a lookup: a uid of another
 * group than the one the app lives in is refused (1, after a 422).
 */
static int other_group(struct http_req *r, const char *uid)
{
    struct api *a = http_ctx(r);
    int n = groups_of(a);
    if (n == 1 || part_app_group(uid, a->partitions, n) == a->group)
        return 0;
    http_errorf(r, 422, "uid_other_group", "uid '%s' belongs to another partition group than "
                "this application's (hookd serve --groups %d): an application's id and uid must "
                "name the same group, so this uid can only be given to an application created "
                "with it", uid, n);
    return 1;
}

/*
 * Validate ApplicationIn (patch: every field optional) and copy the given
 * fields into rec. 0, or -1 after answering 422.
 */
static int app_fields(struct http_req *r, json_t *in, json_t *rec, int patch)
{
    const char *name, *uid;
    int64_t rate;
    int has_rate, has_rate2;
    json_t *md;
    if (api_str(r, in, "name", !patch, 1, 256, &name) || api_uid(r, in, "uid", "app_", &uid)
        || api_int(r, in, "throttleRate", 1, 65535, &rate, &has_rate))
        return -1;
    if (!has_rate && api_int(r, in, "rateLimit", 1, 65535, &rate, &has_rate2))
        return -1;
    if (api_metadata(r, in, "metadata", &md))
        return -1;
    if (uid && other_group(r, uid))
        return -1;
    if (uid && strcmp(uid, OPWH_APP_UID) == 0) {
        http_verror(r, "body.uid", "value_error", "uid '" OPWH_APP_UID "' is reserved for the "
                    "operational webhooks' application (API.md 4.10)");
        return -1;
    }
    for (const char *p = name; p && *p; p++)
        if ((unsigned char)*p <= 0x08) {
            http_verror(r, "body.name", "value_error", "must not contain control bytes 0x00-0x08");
            return -1;
        }
    if (name)
        json_object_set_new(rec, "name", json_string(name));
    if (!patch || json_object_get(in, "uid"))
        json_object_set_new(rec, "uid", uid ? json_string(uid) : json_null());
    if (!patch || has_rate || json_object_get(in, "rateLimit"))
        json_object_set_new(rec, "throttleRate", rate >= 0 ? json_integer(rate) : json_null());
    if (!patch || json_object_get(in, "metadata"))
        json_object_set_new(rec, "metadata", md ? json_incref(md) : json_object());
    return 0;
}

static const char *rec_uid(json_t *rec)
{
    return json_string_value(json_object_get(rec, "uid"));
}

/* Write rec (and its uid binding, replacing old_uid's) in the writer. */
int api_app_store(struct http_req *r, struct store_txn *t, json_t *rec, const char *old_uid)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *uid = rec_uid(rec);
    int rc = 0;
    if (old_uid && (!uid || strcmp(old_uid, uid) != 0))
        rc = api_uid_del(t, 'a', "", old_uid);
    if (!rc && uid && (!old_uid || strcmp(old_uid, uid) != 0)) {
        rc = api_uid_put(t, 'a', "", uid, id);
        if (rc == HOOKD_EEXIST) {
            http_error(r, 409, "conflict", "An application with that id or uid already exists");
            return rc;
        }
    }
    if (!rc)
        rc = store_put_json(t, DB_APPS, id, strlen(id), rec);
    return rc;
}

static int create_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    const char *uid = rec_uid(j->rec);
    char found[ID_MAX];
    if (uid && api_find_app(t, uid, found) == 0 && j->opt) {
        json_t *rec;
        int rc = store_get_json(t, DB_APPS, found, strlen(found), &rec);
        if (rc)
            return rc;
        http_reply_json(r, 200, api_app_out(rec));
        json_decref(rec);
        return 0;
    }
    int rc = api_app_store(r, t, j->rec, NULL);
    if (!rc)
        http_reply_json(r, 201, api_app_out(j->rec));
    return rc;
}

/* A record with this id and times now, fields from in. NULL after a 422. */
static json_t *app_rec_of(struct http_req *r, json_t *in, int64_t now, const char *id)
{
    json_t *rec = json_pack("{s:s, s:I, s:I}", "id", id, "createdAt", (json_int_t)now,
                            "updatedAt", (json_int_t)now);
    if (app_fields(r, in, rec, 0)) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

/* A fresh record with a new id (a handler's, before the writer). NULL after a 422. */
json_t *api_app_new_rec(struct http_req *r, json_t *in, int64_t now)
{
    char id[ID_MAX];
    struct api *a = http_ctx(r);
    int n = groups_of(a);
    do   /* with groups, until the id is of this group (n draws on average) */
        id_new_at("app_", now, id);
    while (n > 1 && part_app_group(id, a->partitions, n) != a->group);
    return app_rec_of(r, in, now, id);
}

void api_app_create(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    int get_if_exists = api_qbool(r, "get_if_exists", 0);
    struct api_job *j = api_job_new(p, in);
    if (get_if_exists < 0 || !(j->rec = api_app_new_rec(r, in, j->now))) {
        api_job_free(j);
        return;
    }
    j->opt = get_if_exists;
    api_submit(r, &api_kind_app_create, j);
}

static json_t *list_row(const struct store_kv *kv, void *arg)
{
    json_t *rec = json_loadb(kv->val, kv->vlen, 0, NULL);
    if (!rec)
        return NULL;
    /* the operator's own application is listed by its routes (API.md 4.10) */
    const char *uid = rec_uid(rec);
    json_t *o = uid && strcmp(uid, OPWH_APP_UID) == 0 ? NULL : api_app_out(rec);
    json_decref(rec);
    return o;
}

/* Every group's apps (group.h), merged by id: the list one store would give. */
void api_app_list(struct api *a, struct http_req *r, char **p)
{
    struct store_txn *ts[PART_GROUPS_MAX];
    const struct api_page *ps[PART_GROUPS_MAX];
    struct api_page pg = { .db = DB_APPS, .prefix = "", .descending = 0, .row = list_row };
    int n = api_read_groups(a, r, ts);
    if (n < 0)
        return;
    for (int g = 0; g < n; g++)
        ps[g] = &pg;
    api_list_groups(r, ts, ps, n);
    api_abort_groups(ts, n);
}

/* Load the app named by id or uid; 0, or an error code after answering. */
static int load_app(struct http_req *r, struct store_txn *t, const char *x, json_t **rec)
{
    char id[ID_MAX];
    int rc = api_find_app(t, x, id);
    if (!rc)
        rc = store_get_json(t, DB_APPS, id, strlen(id), rec);
    if (rc == HOOKD_ENOTFOUND)
        api_not_found(r, "application");
    else if (rc)
        api_store_error(r, rc);
    return rc;
}

void api_app_get(struct api *a, struct http_req *r, char **p)
{
    struct store_txn *t = api_read(a, r);
    json_t *rec;
    if (!t)
        return;
    if (load_app(r, t, p[0], &rec) == 0) {
        http_reply_json(r, 200, api_app_out(rec));
        json_decref(rec);
    }
    store_abort(t);
}

/* PUT and PATCH: update in the writer (PUT creates when missing). */
static int update_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    int patch = j->opt;
    json_t *rec;
    char id[ID_MAX];
    /* a PUT names its object by uid unless the path is an id: a body
     * without uid (absent or null) keeps that uid, or the next PUT would
     * create a twin */
    if (!patch && !json_is_string(json_object_get(j->in, "uid")) && !id_is("app_", j->p[0]))
        json_object_set_new(j->in, "uid", json_string(j->p[0]));
    int rc = api_find_app(t, j->p[0], id);
    if (rc == HOOKD_ENOTFOUND && !patch) {
        /* the id is drawn from the entry (entry.h), so a re-apply makes the same one */
        struct api *a = http_ctx(r);
        int n = groups_of(a);
        do   /* with groups, until the id is of this group: the same draws on a re-apply */
            entry_draw_id(&r->intent.entry.head, "app_", j->now, id);
        while (n > 1 && part_app_group(id, a->partitions, n) != a->group);
        json_decref(j->rec);   /* an entry may bring one; the new record replaces it */
        if (!(j->rec = app_rec_of(r, j->in, j->now, id)))
            return HOOKD_EINVAL;
        rc = api_app_store(r, t, j->rec, NULL);
        if (!rc)
            http_reply_json(r, 201, api_app_out(j->rec));
        return rc;
    }
    if (rc == 0)
        rc = store_get_json(t, DB_APPS, id, strlen(id), &rec);
    if (rc) {
        if (rc == HOOKD_ENOTFOUND)
            api_not_found(r, "application");
        return rc;
    }
    char *old_uid = rec_uid(rec) ? xstrdup(rec_uid(rec)) : NULL;
    rc = app_fields(r, j->in, rec, patch) ? HOOKD_EINVAL : 0;
    json_object_set_new(rec, "updatedAt", json_integer(j->now));
    if (!rc)
        rc = api_app_store(r, t, rec, old_uid);
    if (!rc)
        http_reply_json(r, 200, api_app_out(rec));
    free(old_uid);
    json_decref(rec);
    return rc;
}

static void submit_update(struct api *a, struct http_req *r, char **p, int patch)
{
    api_submit_update(a, r, p, patch, app_fields, &api_kind_app_update);
}

void api_app_put(struct api *a, struct http_req *r, char **p)
{
    submit_update(a, r, p, 0);
}

void api_app_patch(struct api *a, struct http_req *r, char **p)
{
    submit_update(a, r, p, 1);
}

/* Drop every endpoint of app_id with its uid binding and health row. */
static int delete_endpoints(struct http_req *r, struct store_txn *t, const char *app_id)
{
    struct store_cursor *c;
    struct store_kv kv;
    size_t al = strlen(app_id);
    int rc = store_cursor_open(t, DB_ENDPOINTS, &c);
    if (rc)
        return rc;
    rc = store_cursor_seek(c, app_id, al, &kv);
    while (rc == 0 && kv.klen > al && memcmp(kv.key, app_id, al) == 0) {
        json_t *ep = json_loadb(kv.val, kv.vlen, 0, NULL);
        const char *uid = ep ? json_string_value(json_object_get(ep, "uid")) : NULL;
        char ep_id[ID_MAX];
        snprintf(ep_id, sizeof(ep_id), "%.*s", (int)(kv.klen - al), (const char *)kv.key + al);
        if (uid)
            rc = api_uid_del(t, 'e', app_id, uid);
        json_decref(ep);
        if (!rc)
            rc = api_health_del(t, ep_id);
        if (!rc)   /* the dispatcher drops what it holds for it */
            api_touch_settings(r, app_id, ep_id);
        if (!rc)
            rc = store_cursor_del(c);
        if (!rc)
            rc = store_cursor_seek(c, app_id, al, &kv);
    }
    store_cursor_close(c);
    return rc == HOOKD_ENOTFOUND || rc > 0 ? 0 : rc;
}

static int delete_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    json_t *rec;
    char id[ID_MAX];
    int rc = api_find_app(t, j->p[0], id);
    if (!rc)
        rc = store_get_json(t, DB_APPS, id, strlen(id), &rec);
    if (rc) {
        if (rc == HOOKD_ENOTFOUND)
            api_not_found(r, "application");
        return rc;
    }
    if (rec_uid(rec))
        rc = api_uid_del(t, 'a', "", rec_uid(rec));
    json_decref(rec);
    if (!rc)
        rc = delete_endpoints(r, t, id);
    if (!rc)
        rc = store_del(t, DB_APPS, id, strlen(id));
    if (!rc)
        http_reply(r, 204, xstrdup(""), 0);
    return rc;
}

void api_app_delete(struct api *a, struct http_req *r, char **p)
{
    api_submit(r, &api_kind_app_delete, api_job_new(p, NULL));
}

/* --- log entry kinds (api_kinds.h) --- */

/* Each decode checks what its apply reads (api_job_decode_as). */
API_JOB_DECODER(decode_create, 0, 1, "id")
API_JOB_DECODER(decode_update, 1, 1, NULL)
API_JOB_DECODER(decode_delete, 1, 0, NULL)

const struct api_kind api_kind_app_create = { ENTRY_APP_CREATE, create_apply, api_job_encode, decode_create,
    api_job_free };

const struct api_kind api_kind_app_update = { ENTRY_APP_UPDATE, update_apply, api_job_encode, decode_update,
    api_job_free };

const struct api_kind api_kind_app_delete = { ENTRY_APP_DELETE, delete_apply, api_job_encode, decode_delete,
    api_job_free };
