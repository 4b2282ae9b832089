/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_token.c - application tokens (API.md 4.11): Svix's app-portal-access,
 * logout and expire-all, and hookd's list and revoke for operators.
 *
 * The handler decides everything (the token, its id, hash, expiry and
 * capabilities) before the writer sees the intent; the apply only finds
 * or creates the application and stores the two keys (apptoken.h). The
 * answer holds the plaintext, so it is never kept for an idempotency-key
 * replay: a retry gets a new token, and the lost one expires unused. For
 * the same reason the log entry of a mint carries the token's hash, never
 * its plaintext (mint_encode).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_kinds.h"
#include "entry.h"
#include "entry_kinds.h"
#include "apptoken.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "mem.h"
#include "part.h"

#define EXPIRY_DEFAULT_S (7 * 86400)
#define EXPIRY_MAX_S (7 * 86400)

struct mint {
    char *app;                /* the path's id or uid */
    json_t *app_rec;          /* the embedded application, or NULL */
    json_t *rec;              /* the "tid|" record */
    struct apptoken tk;
    uint8_t hash[32];
    char token[APPTOKEN_MAX];
    char *url;
};

static void mint_free(void *p)
{
    struct mint *m = p;
    free(m->app);
    json_decref(m->app_rec);
    json_decref(m->rec);
    memset(m->token, 0, sizeof(m->token));
    free(m->url);
    free(m);
}

/* capabilities and readOnly into a bit set; -1 after a 422. */
static int caps_of(struct http_req *r, json_t *in, unsigned *caps)
{
    int ro, has_ro;
    json_t *list = json_object_get(in, "capabilities"), *x;
    size_t i;
    if (api_bool(r, in, "readOnly", &ro, &has_ro))
        return -1;
    *caps = APPTOK_ALL;
    if (json_is_array(list)) {
        *caps = APPTOK_VIEW;   /* "ViewBase is always required": implied */
        json_array_foreach(list, i, x) {
            unsigned bit = apptoken_cap_parse(json_string_value(x));
            if (!bit) {
                http_verror(r, "body.capabilities", "type_error.enum",
                            "capabilities are ViewBase, ViewEndpointSecret, ManageEndpointSecret, "
                            "ManageTransformations, CreateAttempts or ManageEndpoint");
                return -1;
            }
            *caps |= bit;
        }
    } else if (list && !json_is_null(list)) {
        http_verror(r, "body.capabilities", "type_error.list", "must be null or an array");
        return -1;
    }
    if (has_ro && ro == 1)
        *caps = APPTOK_VIEW;
    return 0;
}

/* The "tid|" record of a new token; NULL after a 422. */
static json_t *mint_rec(struct http_req *r, json_t *in, struct mint *m, int64_t now)
{
    int64_t expiry;
    int has_expiry;
    const char *session;
    json_t *flags;
    if (api_int(r, in, "expiry", 1, EXPIRY_MAX_S, &expiry, &has_expiry)
        || api_str(r, in, "sessionId", 0, 1, 256, &session)
        || api_names(r, in, "featureFlags", 0, 1000, 256, &flags) || caps_of(r, in, &m->tk.caps))
        return NULL;
    if (!has_expiry || expiry < 0)
        expiry = EXPIRY_DEFAULT_S;
    m->tk.expires_ms = now + expiry * 1000;
    char prefix[APPTOKEN_SHOWN + 1];
    memcpy(prefix, m->token, APPTOKEN_SHOWN);
    prefix[APPTOKEN_SHOWN] = '\0';
    return json_pack("{s:s, s:s, s:i, s:s?, s:O?, s:I, s:I}", "id", m->tk.id, "prefix", prefix,
                     "caps", (int)m->tk.caps, "sessionId", session, "featureFlags", flags,
                     "createdAt", (json_int_t)now, "expiresAt", (json_int_t)m->tk.expires_ms);
}

/* The portal-url template with every {token} replaced; "" when unset. */
static char *portal_url(const struct config *cfg, const char *token)
{
    struct buf b = BUF_INIT;
    const char *s = cfg->portal_url ? cfg->portal_url : "";
    for (const char *at; (at = strstr(s, "{token}")); s = at + 7) {
        buf_add(&b, s, (size_t)(at - s));
        buf_adds(&b, token);
    }
    buf_adds(&b, s);
    return buf_detach(&b, NULL);
}

/* The application of the path, created from the embedded one when missing. */
static int mint_app(struct http_req *r, struct store_txn *t, struct mint *m)
{
    int rc = api_find_app(t, m->app, m->tk.app_id);
    if (rc != HOOKD_ENOTFOUND)
        return rc;
    if (!m->app_rec) {
        api_not_found(r, "application");
        return rc;
    }
    const char *uid = json_string_value(json_object_get(m->app_rec, "uid"));
    if (!uid || strcmp(uid, m->app) != 0) {
        http_verror(r, "body.application.uid", uid ? "application_uid_mismatch"
                    : "application_uid_missing",
                    "application.uid must equal the application id in the path");
        return HOOKD_EINVAL;
    }
    rc = api_app_store(r, t, m->app_rec, NULL);
    if (!rc)
        snprintf(m->tk.app_id, ID_MAX, "%s", json_string_value(json_object_get(m->app_rec, "id")));
    return rc;
}

static int mint_apply(struct http_req *r, struct store_txn *t)
{
    struct mint *m = r->data;
    int rc = mint_app(r, t, m);
    if (rc)
        return rc;
    json_object_set_new(m->rec, "appId", json_string(m->tk.app_id));
    rc = apptoken_put(t, m->hash, &m->tk, m->rec);
    if (rc)
        return rc;
    char exp[CLOCK_RFC3339_MAX];
    clock_format(m->tk.expires_ms, exp);
    http_reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:s}", "token", m->token, "url", m->url,
                                      "id", m->tk.id, "expiresAt", exp));
    return 0;
}

void api_auth_portal_access(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 1), *app;
    if (!in)
        return;
    struct mint *m = xcalloc(1, sizeof(*m));
    int64_t now = clock_now_ms();
    m->app = xstrdup(p[0]);
    apptoken_new(now, m->token, m->tk.id);
    apptoken_hash(m->token, m->hash);
    app = json_object_get(in, "application");
    if ((json_is_object(app) && !(m->app_rec = api_app_new_rec(r, app, now)))
        || !(m->rec = mint_rec(r, in, m, now))) {
        json_decref(in);
        mint_free(m);
        return;
    }
    json_decref(in);
    m->url = portal_url(a->cfg, m->token);
    r->has_idem = 0;   /* the answer holds the token: keep no copy of it */
    api_submit(r, &api_kind_token_mint, m);
}

/* Logout and revoke: remove one token in the writer, then 204. */
struct revoke {
    uint8_t hash[32];
    char *id;                 /* revoke by id, else by hash */
};

static void revoke_free(void *p)
{
    struct revoke *v = p;
    free(v->id);
    free(v);
}

static int revoke_apply(struct http_req *r, struct store_txn *t)
{
    struct revoke *v = r->data;
    int rc = v->id ? apptoken_del_id(t, v->id) : apptoken_del_hash(t, v->hash);
    if (rc == HOOKD_ENOTFOUND && v->id) {
        api_not_found(r, "token");
        return rc;
    }
    if (rc && rc != HOOKD_ENOTFOUND)
        return rc;
    http_reply(r, 204, xstrdup(""), 0);
    return 0;
}

/* Admitted for application tokens only (api.c: SCOPE_APP). */
void api_auth_logout(struct api *a, struct http_req *r, char **p)
{
    const char *h = http_header(r, "Authorization");
    struct revoke *v = xcalloc(1, sizeof(*v));
    h += 7;
    while (*h == ' ')
        h++;
    apptoken_hash(h, v->hash);
    r->has_idem = 0;
    api_submit(r, &api_kind_token_revoke, v);
}

void api_ops_token_revoke(struct api *a, struct http_req *r, char **p)
{
    struct revoke *v = xcalloc(1, sizeof(*v));
    v->id = xstrdup(p[0]);
    api_submit(r, &api_kind_token_revoke, v);
}

/* expire-all: the tokens of one application (of some sessions), now or soon. */
struct expire_all {
    char *app;
    json_t *sessions;         /* array of strings, or NULL for every session */
    int64_t until;            /* new expiry (ms); <= now: removed */
    int64_t now;
};

static void expire_all_free(void *p)
{
    struct expire_all *e = p;
    free(e->app);
    json_decref(e->sessions);
    free(e);
}

static int in_sessions(json_t *sessions, json_t *rec)
{
    const char *sid = json_string_value(json_object_get(rec, "sessionId"));
    size_t i;
    json_t *x;
    if (!sessions)
        return 1;
    json_array_foreach(sessions, i, x)
        if (sid && strcmp(sid, json_string_value(x)) == 0)
            return 1;
    return 0;
}

/* The ids of app_id's tokens that e selects (a new array). */
static json_t *expire_ids(struct store_txn *t, const char *app_id, const struct expire_all *e)
{
    json_t *ids = json_array();
    struct store_cursor *c;
    struct store_kv kv;
    size_t pl = strlen(APPTOKEN_ID_PREFIX);
    if (store_cursor_open(t, DB_META, &c))
        return ids;
    int rc = store_cursor_seek(c, APPTOKEN_ID_PREFIX, pl, &kv);
    for (; rc == 0 && kv.klen > pl && memcmp(kv.key, APPTOKEN_ID_PREFIX, pl) == 0;
         rc = store_cursor_next(c, &kv)) {
        json_t *rec = json_loadb(kv.val, kv.vlen, 0, NULL);
        const char *app = json_string_value(json_object_get(rec, "appId"));
        if (app && strcmp(app, app_id) == 0 && in_sessions(e->sessions, rec))
            json_array_append(ids, json_object_get(rec, "id"));
        json_decref(rec);
    }
    store_cursor_close(c);
    return ids;
}

static int expire_all_apply(struct http_req *r, struct store_txn *t)
{
    struct expire_all *e = r->data;
    char app_id[ID_MAX];
    int rc = api_find_app(t, e->app, app_id);
    if (rc) {
        if (rc == HOOKD_ENOTFOUND)
            api_not_found(r, "application");
        return rc;
    }
    json_t *ids = expire_ids(t, app_id, e), *id;
    size_t i;
    json_array_foreach(ids, i, id) {
        const char *s = json_string_value(id);
        rc = e->until <= e->now ? apptoken_del_id(t, s) : apptoken_expire(t, s, e->until);
        if (rc && rc != HOOKD_ENOTFOUND)
            break;
        rc = 0;
    }
    json_decref(ids);
    if (!rc)
        http_reply(r, 204, xstrdup(""), 0);
    return rc;
}

void api_auth_expire_all(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 1), *sessions = json_object_get(in, "sessionIds"), *x;
    int64_t expiry;
    int has;
    size_t i;
    if (!in)
        return;
    if (api_int(r, in, "expiry", 0, EXPIRY_MAX_S, &expiry, &has)) {
        json_decref(in);
        return;
    }
    json_array_foreach(sessions, i, x) {
        if (!json_is_string(x)) {
            http_verror(r, "body.sessionIds", "type_error.str", "must be an array of strings");
            json_decref(in);
            return;
        }
    }
    if (sessions && !json_is_null(sessions) && !json_is_array(sessions)) {
        http_verror(r, "body.sessionIds", "type_error.list", "must be an array of strings");
        json_decref(in);
        return;
    }
    struct expire_all *e = xcalloc(1, sizeof(*e));
    e->app = xstrdup(p[0]);
    e->sessions = json_is_array(sessions) ? json_incref(sessions) : NULL;
    e->now = clock_now_ms();
    e->until = e->now + (has && expiry > 0 ? expiry * 1000 : 0);
    json_decref(in);
    api_submit(r, &api_kind_token_expire_all, e);
}

struct list_arg {
    char app_id[ID_MAX];      /* "" for every application */
    int64_t now;
    struct store_txn *t;      /* for each row's application uid */
};

/* The application's uid, for people (a new reference; null when it has none or is gone). */
static json_t *app_uid(struct store_txn *t, const char *app_id)
{
    json_t *rec, *uid = NULL;
    if (app_id && store_get_json(t, DB_APPS, app_id, strlen(app_id), &rec) == 0) {
        uid = json_incref(json_object_get(rec, "uid"));
        json_decref(rec);
    }
    return uid ? uid : json_null();
}

/* A "tid|" record as the list shows it: never the hash, never the token. */
static json_t *token_row(const struct store_kv *kv, void *arg)
{
    const struct list_arg *la = arg;
    json_t *rec = json_loadb(kv->val, kv->vlen, 0, NULL), *caps = json_array();
    const char *app = json_string_value(json_object_get(rec, "appId"));
    if (!rec || (la->app_id[0] && (!app || strcmp(app, la->app_id) != 0))) {
        json_decref(rec);
        json_decref(caps);
        return NULL;
    }
    unsigned c = (unsigned)json_integer_value(json_object_get(rec, "caps"));
    for (unsigned bit = 1; bit <= APPTOK_ALL; bit <<= 1)
        if (c & bit)
            json_array_append_new(caps, json_string(apptoken_cap_name(bit)));
    int64_t exp = json_integer_value(json_object_get(rec, "expiresAt"));
    json_t *o = json_pack("{s:O, s:O, s:O, s:b, s:o, s:b}", "id", json_object_get(rec, "id"),
                          "appId", json_object_get(rec, "appId"), "prefix",
                          json_object_get(rec, "prefix"), "readOnly", c == APPTOK_VIEW,
                          "capabilities", caps, "expired", exp <= la->now);
    json_t *sid = json_object_get(rec, "sessionId"), *ff = json_object_get(rec, "featureFlags");
    json_object_set_new(o, "appUid", app_uid(la->t, app));
    json_object_set_new(o, "sessionId", sid ? json_incref(sid) : json_null());
    json_object_set_new(o, "featureFlags", ff ? json_incref(ff) : json_array());
    api_set_time(o, "createdAt", rec, "createdAt");
    api_set_time(o, "expiresAt", rec, "expiresAt");
    json_decref(rec);
    return o;
}

/* Every partition group's tokens (group.h), merged by id as one store's list. */
void api_ops_tokens(struct api *a, struct http_req *r, char **p)
{
    struct store_txn *ts[PART_GROUPS_MAX];
    int n = api_read_groups(a, r, ts);
    if (n < 0)
        return;
    struct list_arg *la = xcalloc((size_t)n, sizeof(*la));
    struct api_page *pg = xcalloc((size_t)n, sizeof(*pg));
    const struct api_page *ps[PART_GROUPS_MAX];
    struct store_txn *in[PART_GROUPS_MAX];
    const char *app = http_query(r, "app_id");
    int k = 0;   /* the groups listed: all, or the one holding app_id */
    for (int g = 0; g < n; g++) {
        la[g].now = clock_now_ms();
        la[g].t = ts[g];
        if (app && *app && api_find_app(ts[g], app, la[g].app_id))
            continue;
        pg[g] = (struct api_page){ .db = DB_META, .prefix = APPTOKEN_ID_PREFIX, .descending = 1,
                                   .row = token_row, .arg = &la[g],
                                   .max_scan = app && *app ? 10000 : 0 };
        ps[k] = &pg[g];
        in[k++] = ts[g];
    }
    if (!k)
        api_not_found(r, "application");
    else
        api_list_groups(r, in, ps, k);
    api_abort_groups(ts, n);
    free(pg);
    free(la);
}

/* --- log entry kinds (api_kinds.h) --- */

/*
 * A mint's entry: the path's application, the embedded application's
 * record (its id made by the handler), the "tid|" record, the token's id,
 * expiry, capabilities and hash. Never the plaintext: the log keeps the
 * hash only, as the store does; a re-applied mint answers "" for the
 * token and url, an answer nobody reads (it is never kept, r->has_idem).
 */
static void mint_encode(struct entry_w *w, const void *data)
{
    const struct mint *m = data;
    entry_put_str(w, m->app);
    entry_put_json(w, m->app_rec);
    entry_put_json(w, m->rec);
    entry_put_str(w, m->tk.id);
    entry_put_i64(w, m->tk.expires_ms);
    entry_put_u64(w, m->tk.caps);
    entry_put_bytes(w, m->hash, sizeof(m->hash));
}

/* An object with a string id, as the applies read it (NULL allowed when may_miss). */
static int rec_ok(json_t *rec, int may_miss)
{
    return rec ? json_is_object(rec) && json_is_string(json_object_get(rec, "id")) : may_miss;
}

static void *mint_decode(struct entry_r *r)
{
    struct mint *m = xcalloc(1, sizeof(*m));
    size_t n = 0;
    m->app = entry_get_str(r);
    m->app_rec = entry_get_json(r);
    m->rec = entry_get_json(r);
    entry_get_strbuf(r, m->tk.id, sizeof(m->tk.id));
    m->tk.expires_ms = entry_get_i64(r);
    uint64_t caps = entry_get_u64(r);
    const void *h = entry_get_bytes(r, &n);
    m->tk.caps = (unsigned)caps;
    m->url = xstrdup("");
    if (r->bad || !m->app || !rec_ok(m->app_rec, 1) || !rec_ok(m->rec, 0) || caps > APPTOK_ALL
        || n != sizeof(m->hash)) {
        mint_free(m);
        return NULL;
    }
    memcpy(m->hash, h, n);
    return m;
}

/* Revoke and logout: the token's hash, and the id when revoked by id. */
static void revoke_encode(struct entry_w *w, const void *data)
{
    const struct revoke *v = data;
    entry_put_bytes(w, v->hash, sizeof(v->hash));
    entry_put_str(w, v->id);
}

static void *revoke_decode(struct entry_r *r)
{
    struct revoke *v = xcalloc(1, sizeof(*v));
    size_t n = 0;
    const void *h = entry_get_bytes(r, &n);
    v->id = entry_get_str(r);
    if (r->bad || n != sizeof(v->hash)) {
        revoke_free(v);
        return NULL;
    }
    memcpy(v->hash, h, n);
    return v;
}

/* expire-all: the path's application, the sessions (or absent), the new expiry and now. */
static void expire_all_encode(struct entry_w *w, const void *data)
{
    const struct expire_all *e = data;
    entry_put_str(w, e->app);
    entry_put_json(w, e->sessions);
    entry_put_i64(w, e->until);
    entry_put_i64(w, e->now);
}

static void *expire_all_decode(struct entry_r *r)
{
    struct expire_all *e = xcalloc(1, sizeof(*e));
    e->app = entry_get_str(r);
    e->sessions = entry_get_json(r);
    e->until = entry_get_i64(r);
    e->now = entry_get_i64(r);
    int bad = r->bad || !e->app || (e->sessions && !json_is_array(e->sessions));
    size_t i;
    json_t *x;
    json_array_foreach(e->sessions, i, x)
        bad |= !json_is_string(x);
    if (bad) {
        expire_all_free(e);
        return NULL;
    }
    return e;
}

const struct api_kind api_kind_token_mint = { ENTRY_TOKEN_MINT, mint_apply, mint_encode,
                                              mint_decode, mint_free };

const struct api_kind api_kind_token_revoke = { ENTRY_TOKEN_REVOKE, revoke_apply, revoke_encode,
                                                revoke_decode, revoke_free };

const struct api_kind api_kind_token_expire_all = { ENTRY_TOKEN_EXPIRE_ALL, expire_all_apply,
                                                    expire_all_encode, expire_all_decode,
                                                    expire_all_free };
