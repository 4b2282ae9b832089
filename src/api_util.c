/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_util.c - what every resource handler shares: body decoding with
 * limits, field validators that answer 422 in the HTTPValidationError
 * shape, id-or-uid lookups, and the ListResponse pagination of API.md 3.7.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "msgrec.h"
#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "writer.h"

struct store_txn *api_read(struct api *a, struct http_req *r)
{
    struct store_txn *t;
    int rc = store_read(a->store, &t);
    if (rc) {
        api_store_error(r, rc);
        return NULL;
    }
    return t;
}

int api_groups(const struct api *a)
{
    return a->ngroups > 1 ? a->ngroups : 1;
}

struct api *api_group(struct api *a, int g)
{
    return a->ngroups > 1 ? a->groups[g] : a;
}

int api_read_groups(struct api *a, struct http_req *r, struct store_txn **ts)
{
    int n = api_groups(a);
    for (int g = 0; g < n; g++) {
        if (!(ts[g] = api_read(api_group(a, g), r))) {
            while (g-- > 0)
                store_abort(ts[g]);
            return -1;
        }
    }
    return n;
}

int api_dispatch_stats(struct api *a, struct dispatch_stats *ds)
{
    int held = 0;
    memset(ds, 0, sizeof(*ds));
    for (int g = 0; g < api_groups(a); g++) {
        struct dispatch_stats one = { 0 };
        struct dispatch *d = api_group(a, g)->dispatch;
        if (!d)
            continue;
        dispatch_get_stats(d, &one);
        ds->endpoints += one.endpoints;
        ds->inflight += one.inflight;
        ds->queued += one.queued;
        held |= dispatch_held(d);
    }
    return held;
}

int api_store_info(struct api *a, struct store_info *si)
{
    memset(si, 0, sizeof(*si));
    for (int g = 0; g < api_groups(a); g++) {
        struct store_info one;
        int rc = store_info(api_group(a, g)->store, &one);
        if (rc)
            return rc;
        si->map_bytes += one.map_bytes;
        si->used_bytes += one.used_bytes;
        si->free_bytes += one.free_bytes;
        si->readers += one.readers;
    }
    return 0;
}

void api_abort_groups(struct store_txn **ts, int n)
{
    for (int g = 0; g < n; g++)
        store_abort(ts[g]);
}

void api_not_found(struct http_req *r, const char *what)
{
    http_errorf(r, 404, "not_found", "%s not found", what);
}

void api_store_error(struct http_req *r, int err)
{
    log_error("store error", "path", r->path, "error", hookd_strerror(err), NULL);
    if (err == HOOKD_EFULL)
        http_error(r, 507, "insufficient_storage", "the store is full");
    else
        http_errorf(r, 500, "internal_error", "store error: %s", hookd_strerror(err));
}

/* Deepest nesting of arrays/objects in raw JSON text, strings skipped. */
static int json_depth(const char *s, size_t n)
{
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

json_t *api_body(struct api *a, struct http_req *r, int empty_ok)
{
    return api_body_text(a, r, r->body.data ? r->body.data : "", r->body.len, empty_ok);
}

json_t *api_body_text(struct api *a, struct http_req *r, const char *s, size_t n, int empty_ok)
{
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0 && empty_ok)
        return json_object();
    if (json_depth(s, n) > a->cfg->max_json_depth) {
        char msg[96];
        snprintf(msg, sizeof(msg), "JSON is nested deeper than %d levels", a->cfg->max_json_depth);
        http_verror(r, "body", "value_error.jsondecode", msg);
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        char msg[256];
        snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d: %s", err.line, err.column,
                 err.text);
        http_verror(r, "body", "value_error.jsondecode", msg);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        http_verror(r, "body", "type_error.dict", "the request body must be a JSON object");
        return NULL;
    }
    return j;
}

static void field_error(struct http_req *r, const char *name, const char *type, const char *msg)
{
    char loc[160];
    snprintf(loc, sizeof(loc), "body.%s", name);
    http_verror(r, loc, type, msg);
}

int api_str(struct http_req *r, json_t *o, const char *name, int required, size_t minlen,
            size_t maxlen, const char **out)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) {
        if (required) {
            field_error(r, name, "value_error.missing", "field required");
            return -1;
        }
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v)) {
        field_error(r, name, "type_error.str", "must be a string");
        return -1;
    }
    size_t len = json_string_length(v);
    if (len < minlen || len > maxlen) {
        char msg[96];
        snprintf(msg, sizeof(msg), "length must be between %zu and %zu", minlen, maxlen);
        field_error(r, name, "value_error.any_str", msg);
        return -1;
    }
    *out = json_string_value(v);
    if (strlen(*out) != len) {
        field_error(r, name, "value_error", "must not contain NUL bytes");
        return -1;
    }
    return 0;
}

int api_is_name(const char *s, size_t maxlen)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!(isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return n >= 1 && n <= maxlen;
}

int api_uid(struct http_req *r, json_t *o, const char *name, const char *prefix,
            const char **out)
{
    if (api_str(r, o, name, 0, 1, 256, out))
        return -1;
    if (!*out)
        return 0;
    if (!api_is_name(*out, 256)) {
        field_error(r, name, "value_error.str.regex", "must match ^[a-zA-Z0-9\\-_.]+$");
        return -1;
    }
    if (prefix && strncmp(*out, prefix, strlen(prefix)) == 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "must not start with '%s'", prefix);
        field_error(r, name, "value_error", msg);
        return -1;
    }
    return 0;
}

int api_int(struct http_req *r, json_t *o, const char *name, int64_t min, int64_t max,
            int64_t *out, int *present)
{
    json_t *v = json_object_get(o, name);
    if (present)
        *present = v != NULL;
    if (!v || json_is_null(v)) {
        *out = -1;
        return 0;
    }
    if (!json_is_integer(v)) {
        field_error(r, name, "type_error.integer", "must be an integer");
        return -1;
    }
    json_int_t x = json_integer_value(v);
    if (x < min || x > max) {
        char msg[96];
        snprintf(msg, sizeof(msg), "must be between %lld and %lld", (long long)min,
                 (long long)max);
        field_error(r, name, "value_error.number", msg);
        return -1;
    }
    *out = x;
    return 0;
}

int api_bool(struct http_req *r, json_t *o, const char *name, int *out, int *present)
{
    json_t *v = json_object_get(o, name);
    if (present)
        *present = v != NULL && !json_is_null(v);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        field_error(r, name, "type_error.bool", "must be a boolean");
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

int api_metadata(struct http_req *r, json_t *o, const char *name, json_t **out)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        field_error(r, name, "type_error.dict", "must be an object of strings");
        return -1;
    }
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (!json_is_string(x)) {
            field_error(r, name, "type_error.str", "every value must be a string");
            return -1;
        }
    }
    char *s = json_dumps(v, JSON_COMPACT);
    size_t len = s ? strlen(s) : 0;
    free(s);
    if (len > 4096) {
        field_error(r, name, "value_error", "must be at most 4096 bytes as JSON");
        return -1;
    }
    *out = v;
    return 0;
}

int api_names(struct http_req *r, json_t *o, const char *name, size_t min, size_t max,
              size_t maxlen, json_t **out)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) < min || json_array_size(v) > max) {
        char msg[96];
        snprintf(msg, sizeof(msg), "must be null or an array of %zu to %zu names", min, max);
        field_error(r, name, "value_error.list", msg);
        return -1;
    }
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (!json_is_string(x) || !api_is_name(json_string_value(x), maxlen)) {
            char msg[128];
            snprintf(msg, sizeof(msg), "item %zu must match ^[a-zA-Z0-9\\-_.]+$ (1 to %zu chars)",
                     i, maxlen);
            field_error(r, name, "value_error.str.regex", msg);
            return -1;
        }
    }
    *out = v;
    return 0;
}

static void query_error(struct http_req *r, const char *name, const char *msg)
{
    char loc[96];
    snprintf(loc, sizeof(loc), "query.%s", name);
    http_verror(r, loc, "value_error", msg);
}

int api_qbool(struct http_req *r, const char *name, int dflt)
{
    const char *v = http_query(r, name);
    if (!v)
        return dflt;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        return 1;
    if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return 0;
    query_error(r, name, "must be true or false");
    return -1;
}

int api_qtime(struct http_req *r, const char *name, int64_t *ms)
{
    const char *v = http_query(r, name);
    if (!v)
        return 0;
    if (clock_parse(v, ms)) {
        query_error(r, name, "must be an RFC 3339 date-time");
        return -1;
    }
    return 1;
}

/* Look up the uid index; copy the id it names. */
static int find_uid(struct store_txn *t, char kind, const char *parent, const char *uid,
                    char out[ID_MAX])
{
    char key[320];
    size_t klen = store_uid_key(kind, parent, uid, key, sizeof(key));
    const void *v;
    size_t n;
    if (!klen)
        return HOOKD_ENOTFOUND;
    int rc = store_get(t, DB_UIDS, key, klen, &v, &n);
    if (rc)
        return rc;
    if (n >= ID_MAX)
        return HOOKD_ECORRUPT;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* id when x has the prefix and exists under parent|x, else the uid index. */
static int find_child(struct store_txn *t, enum store_db db, char kind, const char *prefix,
                      const char *parent, const char *x, char out[ID_MAX])
{
    if (id_is(prefix, x)) {
        char key[2 * ID_MAX];
        size_t pl = strlen(parent), xl = strlen(x);
        memcpy(key, parent, pl);
        memcpy(key + pl, x, xl);
        const void *v;
        size_t n;
        int rc = store_get(t, db, key, pl + xl, &v, &n);
        if (rc == 0)
            snprintf(out, ID_MAX, "%s", x);
        return rc;
    }
    return find_uid(t, kind, parent, x, out);
}

int api_msg_rec(struct store_txn *t, const char *app_id, const char *msg_id, json_t **rec,
                struct msgrec_view *v)
{
    char key[2 * ID_MAX];
    size_t kl = str_copy(key, sizeof(key), app_id, msg_id);
    const void *val;
    size_t n;
    int rc = store_get(t, DB_MESSAGES, key, kl, &val, &n);
    if (rc)
        return rc;
    *rec = msgrec_parse(val, n, v);
    return *rec ? 0 : HOOKD_ECORRUPT;
}

int api_find_app(struct store_txn *t, const char *x, char out[ID_MAX])
{
    return find_child(t, DB_APPS, 'a', "app_", "", x, out);
}

int api_find_endpoint(struct store_txn *t, const char *app_id, const char *x, char out[ID_MAX])
{
    return find_child(t, DB_ENDPOINTS, 'e', "ep_", app_id, x, out);
}

int api_find_msg(struct store_txn *t, const char *app_id, const char *x, char out[ID_MAX])
{
    return find_child(t, DB_MESSAGES, 'm', "msg_", app_id, x, out);
}

int api_find_pair(struct http_req *r, struct store_txn *t, char **p, int by_msg,
                  char app[ID_MAX], char id[ID_MAX])
{
    int rc = api_find_app(t, p[0], app);
    if (rc == HOOKD_ENOTFOUND)
        api_not_found(r, "application");
    else if (!rc && (rc = by_msg ? api_find_msg(t, app, p[1], id)
                                 : api_find_endpoint(t, app, p[1], id)) == HOOKD_ENOTFOUND)
        api_not_found(r, by_msg ? "message" : "endpoint");
    else if (rc)
        api_store_error(r, rc);
    return rc;
}

int api_since_until(struct http_req *r, json_t *in, int64_t until_dflt, int64_t *since,
                    int64_t *until)
{
    const char *s, *u;
    if (api_str(r, in, "since", 1, 1, 64, &s) || api_str(r, in, "until", 0, 1, 64, &u))
        return -1;
    *until = until_dflt;
    if (clock_parse(s, since)) {
        http_verror(r, "body.since", "value_error.datetime", "since must be an RFC 3339 date-time");
        return -1;
    }
    if (u && clock_parse(u, until)) {
        http_verror(r, "body.until", "value_error.datetime", "until must be an RFC 3339 date-time");
        return -1;
    }
    return 0;
}

int api_uid_put(struct store_txn *t, char kind, const char *parent, const char *uid,
                const char *id)
{
    char key[320];
    size_t klen = store_uid_key(kind, parent, uid, key, sizeof(key));
    if (!klen)
        return HOOKD_EINVAL;
    return store_put(t, DB_UIDS, key, klen, id, strlen(id), 1);
}

int api_uid_del(struct store_txn *t, char kind, const char *parent, const char *uid)
{
    char key[320];
    size_t klen = store_uid_key(kind, parent, uid, key, sizeof(key));
    if (!klen)
        return HOOKD_EINVAL;
    int rc = store_del(t, DB_UIDS, key, klen);
    return rc == HOOKD_ENOTFOUND ? 0 : rc;
}

int api_window(struct http_req *r, const char *prefix, char lo[ID_MAX], char hi[ID_MAX],
               int *has_hi)
{
    int64_t before, after, days90 = 90LL * 86400 * 1000;
    int hb = api_qtime(r, "before", &before), ha = api_qtime(r, "after", &after);
    if (hb < 0 || ha < 0)
        return -1;
    *has_hi = hb == 1;
    if (hb == 1)
        id_bound(prefix, before, 0, hi);
    if (ha == 1)
        id_bound(prefix, after, 1, lo);
    else
        id_bound(prefix, (hb == 1 ? before : clock_now_ms()) - days90, 0, lo);
    return 0;
}

void api_set_time(json_t *out, const char *name, json_t *rec, const char *field)
{
    char ts[CLOCK_RFC3339_MAX];
    clock_format(json_integer_value(json_object_get(rec, field)), ts);
    json_object_set_new(out, name, json_string(ts));
}

struct api_job *api_job_new(char **params, json_t *in)
{
    struct api_job *j = xcalloc(1, sizeof(*j));
    for (int i = 0; i < API_MAX_PARAMS; i++)
        j->p[i] = params[i] ? xstrdup(params[i]) : NULL;
    j->in = in;
    j->now = clock_now_ms();
    return j;
}

void api_job_free(void *job)
{
    struct api_job *j = job;
    for (int i = 0; i < API_MAX_PARAMS; i++)
        free(j->p[i]);
    json_decref(j->in);
    json_decref(j->rec);
    free(j);
}

void api_job_encode(struct entry_w *w, const void *job)
{
    const struct api_job *j = job;
    for (int i = 0; i < API_MAX_PARAMS; i++)
        entry_put_str(w, j->p[i]);
    entry_put_json(w, j->in);
    entry_put_json(w, j->rec);
    entry_put_i64(w, j->now);
    entry_put_i64(w, j->opt);
}

void *api_job_decode(struct entry_r *r)
{
    struct api_job *j = xcalloc(1, sizeof(*j));
    for (int i = 0; i < API_MAX_PARAMS; i++)
        j->p[i] = entry_get_str(r);
    j->in = entry_get_json(r);
    j->rec = entry_get_json(r);
    j->now = entry_get_i64(r);
    j->opt = (int)entry_get_i64(r);
    if (r->bad) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

void *api_job_decode_as(struct entry_r *r, int nparams, int need_in, const char *rec_key)
{
    struct api_job *j = api_job_decode(r);
    int bad = !j;
    for (int i = 0; !bad && i < nparams && i < API_MAX_PARAMS; i++)
        bad = !j->p[i];
    if (!bad && need_in)
        bad = !json_is_object(j->in);
    if (!bad && rec_key)
        bad = !json_is_object(j->rec) || !json_is_string(json_object_get(j->rec, rec_key));
    if (bad && j) {
        api_job_free(j);
        j = NULL;
    }
    if (bad)
        r->bad = 1;
    return j;
}

void api_touch(struct http_req *r, const char *app_id, const char *ep_id)
{
    struct api *a = http_ctx(r);
    writer_touch(a->writer, app_id, ep_id, WRITER_NOTE_DUE);
}

void api_touch_settings(struct http_req *r, const char *app_id, const char *ep_id)
{
    struct api *a = http_ctx(r);
    writer_touch(a->writer, app_id, ep_id, WRITER_NOTE_SETTINGS);
}

void api_submit_update(struct api *a, struct http_req *r, char **p, int patch,
                       api_fields_fn check, const struct api_kind *k)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    struct api_job *j = api_job_new(p, in);
    j->opt = patch;
    json_t *scratch = json_object();
    int bad = check(r, in, scratch, patch);
    json_decref(scratch);
    if (bad) {
        api_job_free(j);
        return;
    }
    api_submit(r, k, j);
}

static void add_types(const char *v, void *arg)
{
    char *copy = xstrdup(v), *save = NULL;
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
        json_array_append_new(arg, json_string(s));
    free(copy);
}

json_t *api_query_types(struct http_req *r)
{
    json_t *types = json_array();
    http_query_each(r, "event_types", add_types, types);
    return types;
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

int api_msg_matches(json_t *types, const char *channel, json_t *msg_rec)
{
    const char *type = json_string_value(json_object_get(msg_rec, "eventType"));
    json_t *ch = json_object_get(msg_rec, "channels");
    return (!json_array_size(types) || (type && has_string(types, type)))
           && (!channel || (json_is_array(ch) && has_string(ch, channel)));
}

int api_msg_tagged(json_t *msg_rec, const char *tag)
{
    json_t *tags = json_object_get(msg_rec, "tags");
    return json_is_array(tags) && has_string(tags, tag);
}

void api_disabled_out(json_t *out, json_t *rec)
{
    json_t *at = json_object_get(rec, "disabledAt");
    json_t *why = json_object_get(rec, "disabledReason");
    int on = json_is_true(json_object_get(rec, "disabled"));
    if (on && json_is_integer(at))
        api_set_time(out, "disabledAt", rec, "disabledAt");
    else
        json_object_set_new(out, "disabledAt", json_null());
    json_object_set_new(out, "disabledReason",
                        on && json_is_string(why) ? json_incref(why) : json_null());
}
