/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_evtype.c - event types (API.md 4.5).
 *
 * Record (event_types database, key = name, JSON): name, description,
 * archived (bool), deprecated (bool), schemas (object or null),
 * featureFlag (string or null), featureFlags (array of strings or null),
 * groupName (string or null), createdAt, updatedAt (ms).
 *
 * featureFlag (1.x) and featureFlags (2.x) are stored side by side as
 * given, so each client reads back what it wrote. Deleting archives the
 * type unless ?expunge=true; an archived name can be created again, which
 * un-archives it and keeps its createdAt. Existence checks run in the
 * writer's transaction, so two concurrent creates of one name cannot both
 * get 201.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_kinds.h"
#include "entry_kinds.h"
#include "err.h"
#include "mem.h"

static json_t *et_out(json_t *rec, int with_schemas)
{
    static const char *const copied[] = { "name", "description", "archived", "deprecated" };
    static const char *const nullable[] = { "featureFlag", "featureFlags", "groupName" };
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        json_object_set(o, copied[i], json_object_get(rec, copied[i]));
    json_t *schemas = with_schemas ? json_object_get(rec, "schemas") : NULL;
    json_object_set_new(o, "schemas", schemas ? json_incref(schemas) : json_null());
    for (size_t i = 0; i < sizeof(nullable) / sizeof(nullable[0]); i++) {
        json_t *v = json_object_get(rec, nullable[i]);
        json_object_set_new(o, nullable[i], v ? json_incref(v) : json_null());
    }
    api_set_time(o, "createdAt", rec, "createdAt");
    api_set_time(o, "updatedAt", rec, "updatedAt");
    return o;
}

static int is_string(json_t *v)
{
    return json_is_string(v);
}

static int is_object(json_t *v)
{
    return json_is_object(v);
}

static int is_string_array(json_t *v)
{
    size_t i;
    json_t *x;
    if (!json_is_array(v))
        return 0;
    json_array_foreach(v, i, x)
        if (!json_is_string(x))
            return 0;
    return 1;
}

/*
 * A nullable field of type ok(): copied into rec when present (null
 * clears it); absent keeps it on patch and gives null otherwise.
 */
static int nullable(struct http_req *r, json_t *in, json_t *rec, int patch, const char *name,
                    int (*ok)(json_t *), const char *type, const char *msg)
{
    json_t *v = json_object_get(in, name);
    if (v && !json_is_null(v) && !ok(v)) {
        char loc[64];
        snprintf(loc, sizeof(loc), "body.%s", name);
        http_verror(r, loc, type, msg);
        return -1;
    }
    if (v || !patch)
        json_object_set_new(rec, name, v ? json_incref(v) : json_null());
    return 0;
}

/* A boolean defaulting to false; absent or null keeps it on patch. */
static int flag(struct http_req *r, json_t *in, json_t *rec, int patch, const char *name)
{
    int v = 0, present;
    if (api_bool(r, in, name, &v, &present))
        return -1;
    if (present || !patch)
        json_object_set_new(rec, name, json_boolean(v));
    return 0;
}

/*
 * Validate EventTypeIn (patch: EventTypePatch, every field optional) and
 * copy the given fields into rec. The name is not among them: it comes
 * from the body on create and from the path otherwise. 0, or -1 after
 * answering 422.
 */
static int et_fields(struct http_req *r, json_t *in, json_t *rec, int patch)
{
    const char *desc;
    if (api_str(r, in, "description", !patch, 0, SIZE_MAX, &desc)
        || flag(r, in, rec, patch, "archived") || flag(r, in, rec, patch, "deprecated")
        || nullable(r, in, rec, patch, "schemas", is_object, "type_error.dict",
                    "must be an object keyed by version, or null")
        || nullable(r, in, rec, patch, "featureFlag", is_string, "type_error.str",
                    "must be a string or null")
        || nullable(r, in, rec, patch, "featureFlags", is_string_array, "type_error.list",
                    "must be an array of strings or null")
        || nullable(r, in, rec, patch, "groupName", is_string, "type_error.str",
                    "must be a string or null"))
        return -1;
    if (desc)
        json_object_set_new(rec, "description", json_string(desc));
    return 0;
}

/* A fresh record named name with times now, fields from in. NULL after a 422. */
static json_t *et_new_rec(struct http_req *r, const char *name, json_t *in, int64_t now)
{
    json_t *rec = json_pack("{s:s, s:I, s:I}", "name", name, "createdAt", (json_int_t)now,
                            "updatedAt", (json_int_t)now);
    if (et_fields(r, in, rec, 0)) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

static int et_put(struct store_txn *t, json_t *rec)
{
    const char *name = json_string_value(json_object_get(rec, "name"));
    return store_put_json(t, DB_EVENT_TYPES, name, strlen(name), rec);
}

/* Load the record named name; 0, or an error code after answering. */
static int et_load(struct http_req *r, struct store_txn *t, const char *name, json_t **rec)
{
    int rc = store_get_json(t, DB_EVENT_TYPES, name, strlen(name), rec);
    if (rc == HOOKD_ENOTFOUND)
        api_not_found(r, "event type");
    else if (rc)
        api_store_error(r, rc);
    return rc;
}

static int create_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    const char *name = json_string_value(json_object_get(j->rec, "name"));
    json_t *old;
    int rc = store_get_json(t, DB_EVENT_TYPES, name, strlen(name), &old);
    if (rc && rc != HOOKD_ENOTFOUND)
        return rc;
    if (rc == 0) {
        int archived = json_is_true(json_object_get(old, "archived"));
        if (archived)
            json_object_set(j->rec, "createdAt", json_object_get(old, "createdAt"));
        json_decref(old);
        if (!archived) {
            http_error(r, 409, "event_type_exists", "An event_type with this name already exists");
            return 0;
        }
    }
    rc = et_put(t, j->rec);
    if (!rc)
        http_reply_json(r, 201, et_out(j->rec, 1));
    return rc;
}

void api_et_create(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    struct api_job *j = api_job_new(p, in);
    const char *name;
    if (api_str(r, in, "name", 1, 1, 256, &name)) {
        api_job_free(j);
        return;
    }
    if (!api_is_name(name, 256)) {
        http_verror(r, "body.name", "value_error.str.regex", "must match ^[a-zA-Z0-9\\-_.]+$");
        api_job_free(j);
        return;
    }
    if (!(j->rec = et_new_rec(r, name, in, j->now))) {
        api_job_free(j);
        return;
    }
    api_submit(r, &api_kind_et_create, j);
}

struct list_opts {
    int with_content;
    int include_archived;
};

static json_t *list_row(const struct store_kv *kv, void *arg)
{
    const struct list_opts *o = arg;
    json_t *rec = json_loadb(kv->val, kv->vlen, 0, NULL);
    if (!rec)
        return NULL;
    json_t *out = NULL;
    if (o->include_archived || !json_is_true(json_object_get(rec, "archived")))
        out = et_out(rec, o->with_content);
    json_decref(rec);
    return out;
}

void api_et_list(struct api *a, struct http_req *r, char **p)
{
    struct list_opts o;
    if ((o.with_content = api_qbool(r, "with_content", 0)) < 0
        || (o.include_archived = api_qbool(r, "include_archived", 0)) < 0)
        return;
    struct store_txn *t = api_read(a, r);
    if (!t)
        return;
    struct api_page pg = { .db = DB_EVENT_TYPES, .prefix = "", .descending = 0,
                           .fixed_order = 1, .row = list_row, .arg = &o };
    api_list(r, t, &pg);
    store_abort(t);
}

void api_et_get(struct api *a, struct http_req *r, char **p)
{
    struct store_txn *t = api_read(a, r);
    json_t *rec;
    if (!t)
        return;
    if (et_load(r, t, p[0], &rec) == 0) {
        http_reply_json(r, 200, et_out(rec, 1));
        json_decref(rec);
    }
    store_abort(t);
}

/* PUT and PATCH in the writer: update, or (PUT only) create when missing. */
static int update_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    int patch = j->opt;
    json_t *rec;
    int rc = store_get_json(t, DB_EVENT_TYPES, j->p[0], strlen(j->p[0]), &rec);
    if (rc == HOOKD_ENOTFOUND && !patch) {
        json_decref(j->rec);   /* an entry may bring one; the new record replaces it */
        if (!(j->rec = et_new_rec(r, j->p[0], j->in, j->now)))
            return HOOKD_EINVAL;
        rc = et_put(t, j->rec);
        if (!rc)
            http_reply_json(r, 201, et_out(j->rec, 1));
        return rc;
    }
    if (rc) {
        if (rc == HOOKD_ENOTFOUND)
            api_not_found(r, "event type");
        return rc;
    }
    rc = et_fields(r, j->in, rec, patch) ? HOOKD_EINVAL : 0;
    json_object_set_new(rec, "updatedAt", json_integer(j->now));
    if (!rc)
        rc = et_put(t, rec);
    if (!rc)
        http_reply_json(r, 200, et_out(rec, 1));
    json_decref(rec);
    return rc;
}

static void submit_update(struct api *a, struct http_req *r, char **p, int patch)
{
    if (!api_is_name(p[0], 256)) {
        http_verror(r, "path.event_type_name", "value_error.str.regex",
                    "must match ^[a-zA-Z0-9\\-_.]+$ (1 to 256 chars)");
        return;
    }
    api_submit_update(a, r, p, patch, et_fields, &api_kind_et_update);
}

void api_et_put(struct api *a, struct http_req *r, char **p)
{
    submit_update(a, r, p, 0);
}

void api_et_patch(struct api *a, struct http_req *r, char **p)
{
    submit_update(a, r, p, 1);
}

static int delete_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    const char *name = j->p[0];
    json_t *rec;
    int rc = et_load(r, t, name, &rec);
    if (rc)
        return rc;
    if (j->opt) {
        rc = store_del(t, DB_EVENT_TYPES, name, strlen(name));
    } else {
        json_object_set_new(rec, "archived", json_true());
        json_object_set_new(rec, "updatedAt", json_integer(j->now));
        rc = et_put(t, rec);
    }
    json_decref(rec);
    if (!rc)
        http_reply(r, 204, xstrdup(""), 0);
    return rc;
}

void api_et_delete(struct api *a, struct http_req *r, char **p)
{
    int expunge = api_qbool(r, "expunge", 0);
    if (expunge < 0)
        return;
    struct api_job *j = api_job_new(p, NULL);
    j->opt = expunge;
    api_submit(r, &api_kind_et_delete, j);
}

/* --- log entry kinds (api_kinds.h) --- */

/* Each decode checks what its apply reads (api_job_decode_as). */
API_JOB_DECODER(decode_create, 0, 1, "name")
API_JOB_DECODER(decode_update, 1, 1, NULL)
API_JOB_DECODER(decode_delete, 1, 0, NULL)

const struct api_kind api_kind_et_create = { ENTRY_ET_CREATE, create_apply, api_job_encode, decode_create,
    api_job_free };

const struct api_kind api_kind_et_update = { ENTRY_ET_UPDATE, update_apply, api_job_encode, decode_update,
    api_job_free };

const struct api_kind api_kind_et_delete = { ENTRY_ET_DELETE, delete_apply, api_job_encode, decode_delete,
    api_job_free };
