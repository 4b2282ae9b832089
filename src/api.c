/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.c - routing, authentication and idempotency for the HTTP API, and
 * the helpers every resource handler shares.
 *
 * The route table below is the whole URL space: a path is split into
 * segments and matched against each pattern ("*" takes any one segment as
 * a parameter). A path that matches some pattern but not with this method
 * is a 405; no match at all is a 404; both carry the JSON error body the
 * official SDK needs (API.md 2.6).
 *
 * Routing, the stop and the token need only the headers, so they run in
 * api_admit(), which http.c calls before reading a body: a refused request
 * never gets to send one. api_dispatch() then has the body and runs the
 * idempotency check and the handler. The configured tokens (admin,
 * ingest, metrics) are checked without the store; only a bearer shaped
 * like an application token (apptoken.h) costs one read, and the table
 * app_grants says which routes such a token may call.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "api.h"
#include "apptoken.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "part.h"
#include "stats.h"

struct route {
    const char *method;
    const char *pattern;
    api_handler fn;
    int scope;        /* SCOPE_NONE: no token needed */
};

/*
 * Matched in order, the first whose pattern and method fit. Ingest comes
 * first: it is nearly every request under load, and no pattern before it
 * could take its paths (a GET of the same path goes on to api_msg_list).
 */
static const struct route routes[] = {
    { "POST", "/api/v1/app/*/msg", api_msg_create, SCOPE_INGEST },
    { "GET", "/api/v1/health", api_health, SCOPE_NONE },
    { "HEAD", "/api/v1/health", api_health, SCOPE_NONE },
    { "GET", "/api/v1/health/ping", api_health, SCOPE_NONE },
    { "HEAD", "/api/v1/health/ping", api_health, SCOPE_NONE },
    { "POST", "/api/v1/app", api_app_create, SCOPE_ADMIN },
    { "GET", "/api/v1/app", api_app_list, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*", api_app_get, SCOPE_ADMIN },
    { "PUT", "/api/v1/app/*", api_app_put, SCOPE_ADMIN },
    { "PATCH", "/api/v1/app/*", api_app_patch, SCOPE_ADMIN },
    { "DELETE", "/api/v1/app/*", api_app_delete, SCOPE_ADMIN },
    { "POST", "/api/v1/app/*/endpoint", api_ep_create, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/endpoint", api_ep_list, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/endpoint/*", api_ep_get, SCOPE_ADMIN },
    { "PUT", "/api/v1/app/*/endpoint/*", api_ep_put, SCOPE_ADMIN },
    { "PATCH", "/api/v1/app/*/endpoint/*", api_ep_patch, SCOPE_ADMIN },
    { "DELETE", "/api/v1/app/*/endpoint/*", api_ep_delete, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/endpoint/*/secret", api_ep_secret_get, SCOPE_ADMIN },
    { "POST", "/api/v1/app/*/endpoint/*/secret/rotate", api_ep_secret_rotate, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/endpoint/*/headers", api_ep_headers_get, SCOPE_ADMIN },
    { "PUT", "/api/v1/app/*/endpoint/*/headers", api_ep_headers_put, SCOPE_ADMIN },
    { "PATCH", "/api/v1/app/*/endpoint/*/headers", api_ep_headers_patch, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/msg", api_msg_list, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/msg/*", api_msg_get, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/attempt/endpoint/*", api_att_list_by_ep, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/attempt/msg/*", api_att_list_by_msg, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/msg/*/attempt/*", api_att_get, SCOPE_ADMIN },
    { "POST", "/api/v1/app/*/msg/*/endpoint/*/resend", api_att_resend, SCOPE_ADMIN },
    { "POST", "/api/v1/app/*/endpoint/*/recover", api_ep_recover, SCOPE_ADMIN },
    { "POST", "/api/v1/app/*/endpoint/*/replay-missing", api_ep_replay_missing, SCOPE_ADMIN },
    { "GET", "/api/v1/background-task", api_task_list, SCOPE_ADMIN },
    { "GET", "/api/v1/background-task/*", api_task_get, SCOPE_ADMIN },
    { "POST", "/api/v1/event-type", api_et_create, SCOPE_ADMIN },
    { "GET", "/api/v1/event-type", api_et_list, SCOPE_ADMIN },
    { "GET", "/api/v1/event-type/*", api_et_get, SCOPE_ADMIN },
    { "PUT", "/api/v1/event-type/*", api_et_put, SCOPE_ADMIN },
    { "PATCH", "/api/v1/event-type/*", api_et_patch, SCOPE_ADMIN },
    { "DELETE", "/api/v1/event-type/*", api_et_delete, SCOPE_ADMIN },
    { "GET", "/hookd/v1/stats", api_ops_stats, SCOPE_ADMIN },
    { "GET", "/hookd/v1/stats/history", api_ops_history, SCOPE_ADMIN },
    { "GET", "/hookd/v1/endpoints", api_ops_endpoints, SCOPE_ADMIN },
    { "GET", "/hookd/v1/deliveries", api_ops_deliveries, SCOPE_ADMIN },
    { "POST", "/hookd/v1/deliveries/replay", api_ops_replay, SCOPE_ADMIN },
    { "POST", "/hookd/v1/deliveries/release", api_ops_release, SCOPE_ADMIN },
    { "GET", "/hookd/v1/feed", api_ops_feed, SCOPE_ADMIN },
    { "POST", "/hookd/v1/app/*/endpoint/*/pause", api_ops_pause, SCOPE_ADMIN },
    { "POST", "/hookd/v1/app/*/endpoint/*/resume", api_ops_resume, SCOPE_ADMIN },
    { "GET", "/hookd/v1/app/*/endpoint/*/timeouts", api_ep_timeouts_get, SCOPE_ADMIN },
    { "PUT", "/hookd/v1/app/*/endpoint/*/timeouts", api_ep_timeouts_put, SCOPE_ADMIN },
    { "GET", "/metrics", api_metrics, SCOPE_METRICS },
    /* Svix parity (issue 7): the deprecated attempt lists, ... */
    { "GET", "/api/v1/app/*/msg/*/attempt", api_att_list_msg_old, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/msg/*/endpoint/*/attempt", api_att_list_msg_ep_old, SCOPE_ADMIN },
    { "DELETE", "/api/v1/app/*/msg/*/content", api_msg_expunge, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/endpoint/*/msg", api_ep_msg_list, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/endpoint/*/stats", api_ep_stats, SCOPE_ADMIN },
    { "POST", "/api/v1/app/*/endpoint/*/send-example", api_ep_send_example, SCOPE_ADMIN },
    { "GET", "/api/v1/app/*/msg/*/endpoint", api_msg_ep_list, SCOPE_ADMIN },
    { "DELETE", "/api/v1/app/*/msg/*/attempt/*/content", api_att_expunge, SCOPE_ADMIN },
    /* operational webhooks: the operator's endpoints (api_opwh.c, API.md 4.10) */
    { "GET", "/api/v1/operational-webhook/endpoint", api_opwh_list, SCOPE_ADMIN },
    { "POST", "/api/v1/operational-webhook/endpoint", api_opwh_create, SCOPE_ADMIN },
    { "GET", "/api/v1/operational-webhook/endpoint/*", api_opwh_get, SCOPE_ADMIN },
    { "PUT", "/api/v1/operational-webhook/endpoint/*", api_opwh_put, SCOPE_ADMIN },
    { "DELETE", "/api/v1/operational-webhook/endpoint/*", api_opwh_delete, SCOPE_ADMIN },
    { "GET", "/api/v1/operational-webhook/endpoint/*/secret", api_opwh_secret_get, SCOPE_ADMIN },
    { "POST", "/api/v1/operational-webhook/endpoint/*/secret/rotate", api_opwh_secret_rotate, SCOPE_ADMIN },
    { "GET", "/api/v1/operational-webhook/endpoint/*/headers", api_opwh_headers_get, SCOPE_ADMIN },
    { "PUT", "/api/v1/operational-webhook/endpoint/*/headers", api_opwh_headers_put, SCOPE_ADMIN },
    /* application tokens (API.md 4.11): made and listed with the admin token */
    { "POST", "/api/v1/auth/app-portal-access/*", api_auth_portal_access, SCOPE_ADMIN },
    { "POST", "/api/v1/auth/logout", api_auth_logout, SCOPE_APP },
    { "POST", "/api/v1/auth/app/*/expire-all", api_auth_expire_all, SCOPE_ADMIN },
    { "GET", "/hookd/v1/tokens", api_ops_tokens, SCOPE_ADMIN },
    { "DELETE", "/hookd/v1/tokens/*", api_ops_token_revoke, SCOPE_ADMIN },
};

/*
 * What an application token may call (API.md 4.11), as Svix's app portal
 * may: the routes of one application, each needing any one of caps. A
 * route not listed here (a new one included) refuses application tokens.
 */
struct app_grant {
    api_handler fn;
    unsigned caps;
};

#define SECRET_CAPS (APPTOK_VIEW_SECRET | APPTOK_MANAGE_SECRET | APPTOK_MANAGE_ENDPOINT)

static const struct app_grant app_grants[] = {
    { api_app_get, APPTOK_VIEW },
    { api_ep_list, APPTOK_VIEW },
    { api_ep_get, APPTOK_VIEW },
    { api_ep_headers_get, APPTOK_VIEW },
    { api_msg_list, APPTOK_VIEW },
    { api_msg_get, APPTOK_VIEW },
    { api_att_list_by_ep, APPTOK_VIEW },
    { api_att_list_by_msg, APPTOK_VIEW },
    { api_att_get, APPTOK_VIEW },
    { api_et_list, APPTOK_VIEW },
    { api_et_get, APPTOK_VIEW },
    { api_auth_logout, APPTOK_VIEW },
    { api_ep_secret_get, SECRET_CAPS },
    { api_ep_secret_rotate, APPTOK_MANAGE_SECRET | APPTOK_MANAGE_ENDPOINT },
    { api_ep_create, APPTOK_MANAGE_ENDPOINT },
    { api_ep_put, APPTOK_MANAGE_ENDPOINT },
    { api_ep_patch, APPTOK_MANAGE_ENDPOINT },
    { api_ep_delete, APPTOK_MANAGE_ENDPOINT },
    { api_ep_headers_put, APPTOK_MANAGE_ENDPOINT },
    { api_ep_headers_patch, APPTOK_MANAGE_ENDPOINT },
    { api_att_resend, APPTOK_CREATE_ATTEMPTS },
    { api_ep_recover, APPTOK_CREATE_ATTEMPTS },
    { api_ep_replay_missing, APPTOK_CREATE_ATTEMPTS },
    { api_ep_stats, APPTOK_VIEW },
    { api_ep_msg_list, APPTOK_VIEW },
    { api_msg_ep_list, APPTOK_VIEW },
    { api_att_list_msg_old, APPTOK_VIEW },
    { api_att_list_msg_ep_old, APPTOK_VIEW },
};

#define MAX_SEGS 12

static int split(char *path, char **seg)
{
    int n = 0;
    char *save = NULL;
    for (char *s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEGS)
            return -1;
        seg[n++] = s;
    }
    return n;
}

/*
 * Match pattern against segments, filling params; 1 on match. Every
 * request tries most of the table, so the pattern is walked in place and
 * a segment is given up at its first differing byte. Patterns are "/seg"
 * repeated: no empty, trailing or doubled segments.
 */
static int match(const char *pattern, char **seg, int nseg, char **params)
{
    const char *p = pattern;
    int i = 0, k = 0;
    for (; *p; i++) {
        p++;    /* the '/' before each segment */
        if (i == nseg)
            return 0;
        if (p[0] == '*' && (p[1] == '/' || p[1] == '\0')) {
            if (k < API_MAX_PARAMS)
                params[k++] = seg[i];
            p++;
            continue;
        }
        const char *s = seg[i];
        while (*p && *p != '/' && *p == *s)
            p++, s++;
        if ((*p && *p != '/') || *s)
            return 0;
    }
    return i == nseg;
}

int api_token_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0 && lb > 0;
}

/* The bearer token of the request, or NULL. */
static const char *bearer(struct http_req *r)
{
    const char *h = http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return h;
}

/* The scope of a configured token; no store read, so ingest stays cheap. */
static int token_scope(struct api *a, const char *tok)
{
    if (!tok)
        return SCOPE_NONE;
    int scope = SCOPE_NONE;
    if (api_token_eq(tok, a->admin_token))
        scope = SCOPE_ADMIN;
    for (char **t = swap_get(&a->ingest_tokens); t && *t; t++)
        if (api_token_eq(tok, *t) && scope == SCOPE_NONE)
            scope = SCOPE_INGEST;
    for (char **t = swap_get(&a->metrics_tokens); t && *t; t++)
        if (api_token_eq(tok, *t) && scope == SCOPE_NONE)
            scope = SCOPE_METRICS;
    return scope;
}

static unsigned app_grant(const struct route *rt)
{
    for (size_t i = 0; i < sizeof(app_grants) / sizeof(app_grants[0]); i++)
        if (app_grants[i].fn == rt->fn)
            return app_grants[i].caps;
    return 0;
}

/* Is the route's first parameter an application (id or uid)? */
static int names_app(const struct route *rt)
{
    return strncmp(rt->pattern, "/api/v1/app/*", 13) == 0;
}

/*
 * An application token lives in the store of its application's group
 * (group.h): a route naming an app looks in that group's first (the
 * common case: one read), then in the others, so that a token of
 * another app is told 404 as on one group, not 401; a route without an
 * app (the event types, logout) in each group's until found, and logout
 * then runs in the group that has the token (r->ctx). *t is left open on
 * the store searched last (NULL after answering 500); apptoken_find's
 * code.
 */
static int token_group(struct api *a, struct http_req *r, const struct route *rt,
                       const uint8_t h[32], struct apptoken *tk, struct store_txn **t)
{
    int n = a->ngroups > 1 ? a->ngroups : 1, rc = HOOKD_ENOTFOUND;
    int first = names_app(rt) && n > 1 ? part_app_group(r->params[0], a->partitions, n) : 0;
    for (int i = 0; i < n && rc == HOOKD_ENOTFOUND; i++) {
        int g = (first + i) % n;
        struct api *ga = n > 1 ? a->groups[g] : a;
        store_abort(*t);
        if (!(*t = api_read(ga, r)))
            return HOOKD_ESTORE;
        rc = apptoken_find(*t, h, tk);
        if (rc == 0 && n > 1 && rt->fn == api_auth_logout)
            r->ctx = ga;
    }
    return rc;
}

/*
 * The admission of an application token (apptoken.h), one store read: a
 * token not stored or past its expiry is 401; a route it may not call,
 * or not with its capabilities, 403; another application 404, as Svix
 * answers it (the holder learns nothing of other applications). 0 when
 * admitted (r->scope SCOPE_APP), -1 when answered.
 */
static int app_admit(struct api *a, struct http_req *r, const struct route *rt, const char *tok)
{
    uint8_t h[32];
    struct apptoken tk;
    char app[ID_MAX];
    unsigned need = app_grant(rt);
    struct store_txn *t = NULL;
    apptoken_hash(tok, h);
    int rc = token_group(a, r, rt, h, &tk, &t), admitted = 0;
    if (!t)
        return -1;
    if (rc)
        http_error(r, 401, "authentication_failed", "missing or invalid bearer token");
    else if (tk.expires_ms <= clock_now_ms())
        http_error(r, 401, "authentication_failed", "this application token has expired");
    else if (!need)
        http_error(r, 403, "insufficient_access",
                   "an application token may not call this route (it needs the admin token)");
    else if (!(tk.caps & need))
        http_error(r, 403, "insufficient_access", tk.caps == APPTOK_VIEW
                   ? "this application token is read-only"
                   : "this application token lacks the capability this route needs");
    else if (names_app(rt) && (api_find_app(t, r->params[0], app) || strcmp(app, tk.app_id)))
        api_not_found(r, "application");
    else
        admitted = 1;
    store_abort(t);
    if (!admitted)
        return -1;
    r->scope = SCOPE_APP;
    return 0;
}

/*
 * The key's hash (the store key: token, key, URI) and the request's
 * (method, URI, body), which is saved with the answer so that the key
 * reused for another request is told apart from a retry.
 */
static void idem_hash(struct http_req *r, const char *key)
{
    const mbedtls_md_info_t *sha = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    const char *auth = http_header(r, "Authorization");
    struct buf b = BUF_INIT;
    buf_addf(&b, "%s\n%s\n%s", auth ? auth : "", key, r->uri);
    mbedtls_md(sha, (const unsigned char *)b.data, b.len, r->idem_hash);
    buf_reset(&b);
    buf_addf(&b, "%s\n%s\n", r->method, r->uri);
    buf_add(&b, r->body.data ? r->body.data : "", r->body.len);
    mbedtls_md(sha, (const unsigned char *)b.data, b.len, r->idem_req);
    buf_release(&b);
    r->has_idem = 1;
}

/*
 * Saved answers: expiry (8 bytes, ms, big-endian), status (2), then the
 * request hash (32) when the status has IDEM_HAS_REQ set (answers saved
 * before requests were hashed lack it), then the body.
 */
#define IDEM_HAS_REQ 0x8000

/*
 * A saved answer for this request's idempotency hash: 1 replayed (or,
 * the key having served another request, answered 422), 0 none.
 */
static int idem_replay(struct http_req *r, struct store_txn *t)
{
    const void *v;
    size_t n;
    if (store_get(t, DB_IDEMPOTENCY, r->idem_hash, 32, &v, &n) || n < 10)
        return 0;
    const uint8_t *p = v;
    int64_t exp = 0;
    for (int i = 0; i < 8; i++)
        exp = exp << 8 | p[i];
    if (exp < r->intent.entry.head.now_ms)
        return 0;
    int status = p[8] << 8 | p[9];
    size_t at = 10;
    if (status & IDEM_HAS_REQ) {
        if (n < 42)
            return 0;
        if (memcmp(p + 10, r->idem_req, 32) != 0) {
            http_error(r, 422, "idempotency_key_reused",
                       "this idempotency-key was already used for a different request "
                       "(another body or method); use a new key for a new request");
            return 1;
        }
        status &= ~IDEM_HAS_REQ;
        at = 42;
    }
    http_reply(r, status, xmemdup(p + at, n - at), n - at);
    return 1;
}

static int idem_save(struct http_req *r, struct store_txn *t)
{
    size_t n = 42 + r->resp_len;
    uint8_t *v = xmalloc(n);
    uint64_t exp = (uint64_t)r->idem_exp_ms;
    for (int i = 7; i >= 0; i--, exp >>= 8)
        v[i] = (uint8_t)exp;
    v[8] = (uint8_t)((r->status | IDEM_HAS_REQ) >> 8);
    v[9] = (uint8_t)r->status;
    memcpy(v + 10, r->idem_req, 32);
    memcpy(v + 42, r->resp, r->resp_len);
    int rc = store_put(t, DB_IDEMPOTENCY, r->idem_hash, 32, v, n, 0);
    free(v);
    return rc;
}

/*
 * Management writes (apps, endpoints, event types, metadata, resend,
 * replay) stop short of the store's reserve as ingest does (store_room),
 * so they cannot eat the pages kept for delivery outcomes: 507 instead.
 * Deletes are let through (they free pages, and LMDB needs some to do it);
 * flat intents are ingest, which measures its own record. An entry being
 * re-applied was admitted where it was written.
 */
static int mgmt_room(struct http_req *r, struct store_txn *t)
{
    struct api *a = http_ctx(r);
    if (a->replaying || r->intent.flat || strcmp(r->method, "DELETE") == 0)
        return 0;
    return store_room(t, 2 * r->body.len + 4096);
}

static int idem_apply(struct http_req *r, struct store_txn *t)
{
    if (r->has_idem && idem_replay(r, t))
        return 0;
    int rc = mgmt_room(r, t);
    if (rc)
        return rc;
    rc = r->inner(r, t);
    if (rc == 0 && r->has_idem && r->status >= 200 && r->status < 300)
        rc = idem_save(r, t);
    return rc;
}

/*
 * The fields api_submit writes before the kind's own: the method (room
 * and idempotency depend on it), then the idempotency key's hashes and
 * expiry when the request has one.
 */
static void submit_entry(struct http_req *r, const struct api_kind *k, void *data)
{
    struct api *a = http_ctx(r);
    struct entry_w *w = &r->intent.entry;
    entry_reserve(w, r->body.len + 512);   /* the body's fields, with room for the rest */
    entry_begin(w, k->kind, clock_now_ms());
    entry_put_str(w, r->method);
    entry_put_u64(w, (uint64_t)r->has_idem);
    if (r->has_idem) {
        r->idem_exp_ms = w->head.now_ms + a->cfg->idempotency_ttl_ms;
        entry_put_bytes(w, r->idem_hash, 32);
        entry_put_bytes(w, r->idem_req, 32);
        entry_put_i64(w, r->idem_exp_ms);
    }
    if (k->encode)
        k->encode(w, data);
}

void api_submit_flat(struct http_req *r, const struct api_kind *k, void *data)
{
    r->intent.flat = 1;
    api_submit(r, k, data);
}

void api_submit(struct http_req *r, const struct api_kind *k, void *data)
{
    r->inner = k->apply;
    submit_entry(r, k, data);
    http_submit(r, idem_apply, data, k->data_free);
}

/* The idempotency fields of submit_entry into a detached request. */
static int reapply_idem(struct http_req *r, struct entry_r *er)
{
    r->has_idem = entry_get_u64(er) != 0;
    if (r->has_idem) {
        size_t n1, n2;
        const void *h = entry_get_bytes(er, &n1), *q = entry_get_bytes(er, &n2);
        if (n1 != 32 || n2 != 32)
            return HOOKD_EINVAL;
        memcpy(r->idem_hash, h, 32);
        memcpy(r->idem_req, q, 32);
        r->idem_exp_ms = entry_get_i64(er);
    }
    return er->bad ? HOOKD_EINVAL : 0;
}

int api_reapply(struct api *a, const struct api_kind *k, struct entry_r *er,
                struct store_txn *t)
{
    char method[16];
    entry_get_strbuf(er, method, sizeof(method));
    if (er->bad || !k->decode)
        return HOOKD_EINVAL;
    struct http_req *r = http_detached_new(a, method, "/", NULL, NULL, 0);
    int rc = reapply_idem(r, er);
    void *data = rc ? NULL : k->decode(er);
    if (!rc && (!data || entry_end(er)))
        rc = HOOKD_EINVAL;
    r->data = data;
    r->data_free = k->data_free;
    if (!rc) {
        r->inner = k->apply;
        r->intent.entry.head = er->head;
        r->intent.entry.head.drawn = 0;
        rc = idem_apply(r, t);
    }
    http_detached_free(r);   /* frees data with data_free */
    return rc;
}

static void route_not_found(struct http_req *r, int method_mismatch)
{
    if (method_mismatch)
        http_errorf(r, 405, "method_not_allowed", "method '%s' is not allowed on '%s'",
                    r->method, r->path);
    else
        http_errorf(r, 404, "not_found", "no route for '%s'", r->path);
}

int api_route_match(const char *method, const char *path, char **params)
{
    char *copy = xstrdup(path), *seg[MAX_SEGS];
    int nseg = split(copy, seg), found = API_NO_ROUTE;
    char *tmp[API_MAX_PARAMS];
    for (size_t i = 0; nseg >= 0 && i < sizeof(routes) / sizeof(routes[0]); i++) {
        memset(tmp, 0, sizeof(tmp));
        if (!match(routes[i].pattern, seg, nseg, tmp))
            continue;
        if (strcmp(routes[i].method, method) != 0) {
            found = API_BAD_METHOD;
            continue;
        }
        found = (int)i;
        for (int k = 0; k < API_MAX_PARAMS; k++)
            params[k] = tmp[k] ? xstrdup(tmp[k]) : NULL;
        break;
    }
    free(copy);
    return found;
}

/* The class the answer is counted under (hookd_http_requests_total{route}). */
static enum stats_route route_class(const struct route *rt)
{
    if (rt->fn == api_msg_create)
        return STATS_R_INGEST;
    if (rt->fn == api_health)
        return STATS_R_HEALTH;
    if (rt->fn == api_metrics)
        return STATS_R_METRICS;
    if (strncmp(rt->pattern, "/hookd/", 7) == 0)
        return STATS_R_OPERATIONS;
    return STATS_R_MANAGEMENT;
}

void api_dispatch_metrics(void *ctx, struct http_req *r)
{
    r->route_class = STATS_R_METRICS;
    if (strcmp(r->path, "/metrics") != 0)
        http_errorf(r, 404, "not_found", "no route for '%s' (this listener serves /metrics only)",
                    r->path);
    else if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        route_not_found(r, 1);
    else
        api_metrics(ctx, r, NULL);
}

void api_stop_writes(struct api *a)
{
    atomic_store(&a->stopping, 1);
}

/* While stopping: is this a route that must answer 503? */
static int refused_while_stopping(const struct route *rt)
{
    return rt->fn == api_health
           || (strcmp(rt->method, "GET") != 0 && strcmp(rt->method, "HEAD") != 0);
}

/*
 * 503 while stopping, before anything of r ran: a forwarded request's
 * sender tries it on the node that owns next (cfwd.h), invisibly to its
 * client; a client of this node's own sees shutting_down and retries.
 */
static void refuse_stopping(struct http_req *r)
{
    http_error(r, 503, "shutting_down", "hookd is shutting down; retry shortly");
    r->retry_after = "5";
    r->not_run = 1;
}

/*
 * A cluster's standby applies the owner's log and nothing else. With
 * forwarding (--cluster-role auto, cfwd.h) it hands every request but the
 * node's own (node_local) to the owner; a fixed standby (a drill) answers
 * every route that writes 503 not_owner, naming the owner when its log
 * has, and serves reads from this store. Both come after the token
 * check: a stranger learns nothing of the cluster. A request forwarded
 * to a node that is no longer the owner is answered not_owner too, for
 * its sender to answer. 1 when r was answered.
 */
static int refused_on_standby(struct api *a, struct http_req *r, const struct route *rt)
{
    if (!a->cluster_standby)
        return 0;
    if (!r->forwarded && (strcmp(rt->method, "GET") == 0 || strcmp(rt->method, "HEAD") == 0))
        return 0;
    char owner[80] = "";
    if (a->cluster_owner && !r->forwarded)
        a->cluster_owner(a->cluster_ctx, owner, sizeof(owner));
    http_reply_json(r, 503, json_pack("{s:s, s:s, s:o}", "code", "not_owner", "detail",
                                      "this node is a standby: it serves reads, and writes go "
                                      "to the cluster's owner", "owner",
                                      *owner ? json_string(owner) : json_null()));
    r->retry_after = "1";
    r->not_run = 1;
    return 1;
}

/*
 * What is about this node itself, answered here even on a standby that
 * forwards: its health (a load balancer asks each node), its metrics and
 * its stats. Everything else is the log's, and its owner answers it.
 */
static int node_local(const struct route *rt)
{
    return rt->fn == api_health || rt->fn == api_metrics || rt->fn == api_ops_stats
           || rt->fn == api_ops_history;
}

/*
 * May this node hand r to an owner (cfwd.h)? With one group: when it
 * does not own it. With several, the group is known only in dispatch
 * (an app create's is in its body): dispatch forwards r when this node
 * does not own r's group, and else admits it again to run here (local).
 */
static int forwards(struct api *a, struct http_req *r, const struct route *rt)
{
    return a->cluster_forward && !r->forwarded && !r->local && !node_local(rt)
           && (a->ngroups > 1 || atomic_load_explicit(&a->cluster_standby, memory_order_relaxed));
}

/*
 * Admitted: forwarded from dispatch, refused on a standby, or handled
 * here. With several groups the refusal waits for dispatch, which knows
 * r's group.
 */
static void admitted(struct api *a, struct http_req *r, const struct route *rt, int fwd)
{
    if (fwd)
        r->forward = 1;
    else if (a->ngroups <= 1 && refused_on_standby(a, r, rt))
        return;
    r->route = (void *)rt;
}

void api_admit(void *ctx, struct http_req *r)
{
    struct api *a = ctx;
    char *params[API_MAX_PARAMS] = { 0 };
    int i = api_route_match(r->method, r->path, params);
    if (i < 0) {
        route_not_found(r, i == API_BAD_METHOD);
        return;
    }
    const struct route *rt = &routes[i];
    r->route_class = route_class(rt);
    memcpy(r->params, params, sizeof(params));
    if (atomic_load_explicit(&a->stopping, memory_order_relaxed) && refused_while_stopping(rt)) {
        refuse_stopping(r);
        return;
    }
    int fwd = forwards(a, r, rt);
    const char *tok = bearer(r);
    r->scope = token_scope(a, tok);
    if (rt->scope != SCOPE_NONE && r->scope == SCOPE_NONE && tok && apptoken_shaped(tok)) {
        /* forwarded: the owner's store has the newest tokens, and checks it */
        if (fwd || app_admit(a, r, rt, tok) == 0)
            admitted(a, r, rt, fwd);
        return;
    }
    if (rt->scope != SCOPE_NONE && r->scope == SCOPE_NONE) {
        http_error(r, 401, "authentication_failed", "missing or invalid bearer token");
        return;
    }
    if (rt->scope == SCOPE_APP) {   /* logout: an application token ends itself only */
        http_error(r, 403, "insufficient_access",
                   "only an application token may call this route (logout ends the token it is "
                   "called with)");
        return;
    }
    if (rt->scope != SCOPE_NONE && r->scope != SCOPE_ADMIN && r->scope != rt->scope) {
        http_error(r, 403, "insufficient_access", "this token's scope does not allow this route");
        return;
    }
    admitted(a, r, rt, fwd);
}

/*
 * Routes whose first parameter is an application (id or uid), whose
 * group (part.h) holds everything they touch.
 */
static int app_in_path(const struct route *rt)
{
    static const char *const prefixes[] = { "/api/v1/app/*", "/hookd/v1/app/*",
                                            "/api/v1/auth/app-portal-access/*",
                                            "/api/v1/auth/app/*" };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(rt->pattern, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/*
 * The group of a new application: its uid's, so that the uid and the id
 * drawn for it (api_app_new_rec) name the same group; without a uid, or
 * with a body that does not parse (the handler answers that), any group,
 * so apps spread: the idempotency key's when there is one, so that a
 * retry finds the answer its group saved, else a random one.
 */
/*
 * A random group, one this node owns when it owns any (cluster mode:
 * the create then runs here, and a node it was forwarded to chooses
 * among its own groups, never one it would refuse).
 */
static int random_group(struct api *a)
{
    int owned[PART_GROUPS_MAX], n = 0;
    uint8_t b[2];
    for (int g = 0; g < a->ngroups && g < PART_GROUPS_MAX; g++)
        if (!atomic_load_explicit(&a->groups[g]->cluster_standby, memory_order_relaxed))
            owned[n++] = g;
    id_random(b, sizeof(b));
    int pick = b[0] << 8 | b[1];
    return n ? owned[pick % n] : pick % a->ngroups;
}

static int create_group(struct api *a, struct http_req *r)
{
    json_t *in = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    const char *uid = json_string_value(json_object_get(in, "uid"));
    const char *key = http_header(r, "idempotency-key");
    int g;
    if (uid) {
        g = part_app_group(uid, a->partitions, a->ngroups);
    } else if (key && *key) {
        g = part_app_group(key, a->partitions, a->ngroups);
    } else {
        g = random_group(a);
    }
    json_decref(in);
    return g;
}

/* The group whose store has the token of this id (its "tid|" record); 0 when none has. */
static int token_id_group(struct api *a, const char *id)
{
    char key[ID_MAX + 8];
    int n = snprintf(key, sizeof(key), "%s%s", APPTOKEN_ID_PREFIX, id), found = 0;
    for (int g = 1; g < a->ngroups && !found && n < (int)sizeof(key); g++) {
        struct store_txn *t;
        const void *v;
        size_t vn;
        if (store_read(a->groups[g]->store, &t))
            continue;
        if (store_get(t, DB_META, key, (size_t)n, &v, &vn) == 0)
            found = g;
        store_abort(t);
    }
    return found;
}

/*
 * The deliveries list and a filtered replay (/hookd/v1) narrowed to one
 * app (app_id) are that app's group's; NULL when r has no such filter.
 * The app's name is kept in r->params[3] (free, as these routes have no
 * parameter) for the request's life.
 */
static const char *filter_app(struct http_req *r, const struct route *rt)
{
    if (rt->fn == api_ops_deliveries)
        return http_query(r, "app_id");
    if (rt->fn != api_ops_replay || r->params[3])
        return r->params[3];
    json_t *in = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    const char *app = json_string_value(json_object_get(json_object_get(in, "filter"), "app_id"));
    if (app)
        r->params[3] = xstrdup(app);
    json_decref(in);
    return r->params[3];
}

/*
 * The api of the partition group r belongs to (group.h), which its
 * handler then runs with (http_ctx, and http_submit's writer): the app's
 * group for a route with an app in its path or an app create, and for
 * the deliveries list and replay filtered by app_id; the group holding
 * the token for logout (token_group) and for a revoke by id; group 0 (a,
 * the front) for the rest: event types, operational webhooks, and the
 * node-wide views, which look at every group themselves (api->groups)
 * or are group 0's only (docs/operations.md). One group: a.
 */
static struct api *route_group(struct api *a, struct http_req *r, const struct route *rt)
{
    struct api *ga = a;
    const char *app;
    if (a->ngroups <= 1 || a->group != 0)
        return a;
    if (app_in_path(rt))
        ga = a->groups[part_app_group(r->params[0], a->partitions, a->ngroups)];
    else if (rt->fn == api_app_create)
        ga = a->groups[create_group(a, r)];
    else if (rt->fn == api_auth_logout && r->ctx)
        ga = r->ctx;
    else if (rt->fn == api_ops_token_revoke)
        ga = a->groups[token_id_group(a, r->params[0])];
    else if ((app = filter_app(r, rt)))
        ga = a->groups[part_app_group(app, a->partitions, a->ngroups)];
    r->ctx = ga;
    r->writer = ga->writer;
    return ga;
}

/*
 * r was admitted to be forwarded, but this node owns its group's log
 * now: admit it again (a is the front) to run here (an application
 * token was not checked yet).
 */
static void readmit(struct api *a, struct http_req *r)
{
    r->forward = 0;
    r->local = 1;
    r->route = NULL;
    for (int k = 0; k < API_MAX_PARAMS; k++) {
        free(r->params[k]);
        r->params[k] = NULL;
    }
    api_admit(a, r);
}

void api_dispatch(void *ctx, struct http_req *r)
{
    struct api *a = ctx;
    if (!r->route) {
        api_admit(a, r);
        if (!r->route)
            return;
    }
    const struct route *rt = r->route;
    /* a stop that began while the body was arriving */
    if (atomic_load_explicit(&a->stopping, memory_order_relaxed) && refused_while_stopping(rt)) {
        refuse_stopping(r);
        return;
    }
    struct api *ga = route_group(a, r, rt);
    if (r->forward) {
        if (atomic_load_explicit(&ga->cluster_standby, memory_order_relaxed)) {
            ga->cluster_forward(ga->cluster_ctx, r);
            return;
        }
        readmit(a, r);   /* r keeps its group: r->ctx, r->writer */
        if (!r->route)
            return;
        rt = r->route;
    }
    if (refused_on_standby(ga, r, rt))
        return;
    a = ga;
    const char *key = strcmp(r->method, "POST") == 0 ? http_header(r, "idempotency-key") : NULL;
    if (key && *key) {
        idem_hash(r, key);
        struct store_txn *t = api_read(a, r);
        if (!t)
            return;
        int replayed = idem_replay(r, t);
        store_abort(t);
        if (replayed)
            return;
    }
    rt->fn(a, r, r->params);
}
