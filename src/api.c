/*
 * api.c - routing, authentication and idempotency for the HTTP API, and
 * the helpers every resource handler shares.
 *
 * The route table below is the whole URL space: a path is split into
 * segments and matched against each pattern ("*" takes any one segment as
 * a parameter). A path that matches some pattern but not with this method
 * is a 405; no match at all is a 404; both carry the JSON error body the
 * official SDK needs (API.md 2.6).
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "mem.h"
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
    { "GET", "/metrics", api_metrics, SCOPE_ADMIN },
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

/* Constant-time comparison, so response timing says nothing about a token. */
static int token_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0 && lb > 0;
}

static int token_scope(struct api *a, struct http_req *r)
{
    const char *h = http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return SCOPE_NONE;
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    int scope = SCOPE_NONE;
    if (token_eq(tok, a->admin_token))
        scope = SCOPE_ADMIN;
    for (char **t = swap_get(&a->ingest_tokens); t && *t; t++)
        if (token_eq(tok, *t) && scope == SCOPE_NONE)
            scope = SCOPE_INGEST;
    return scope;
}

static void idem_hash(struct http_req *r, const char *key)
{
    const char *auth = http_header(r, "Authorization");
    struct buf b = BUF_INIT;
    buf_addf(&b, "%s\n%s\n%s", auth ? auth : "", key, r->uri);
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)b.data,
               b.len, r->idem_hash);
    buf_release(&b);
    r->has_idem = 1;
}

/* A saved answer for this request's idempotency hash: 1 replayed, 0 none. */
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
    if (exp < clock_now_ms())
        return 0;
    int status = p[8] << 8 | p[9];
    http_reply(r, status, xmemdup(p + 10, n - 10), n - 10);
    return 1;
}

static int idem_save(struct api *a, struct http_req *r, struct store_txn *t)
{
    size_t n = 10 + r->resp_len;
    uint8_t *v = xmalloc(n);
    uint64_t exp = (uint64_t)(clock_now_ms() + a->cfg->idempotency_ttl_ms);
    for (int i = 7; i >= 0; i--, exp >>= 8)
        v[i] = (uint8_t)exp;
    v[8] = (uint8_t)(r->status >> 8);
    v[9] = (uint8_t)r->status;
    memcpy(v + 10, r->resp, r->resp_len);
    int rc = store_put(t, DB_IDEMPOTENCY, r->idem_hash, 32, v, n, 0);
    free(v);
    return rc;
}

static int idem_apply(struct http_req *r, struct store_txn *t)
{
    struct api *a = http_ctx(r);
    if (r->has_idem && idem_replay(r, t))
        return 0;
    int rc = r->inner(r, t);
    if (rc == 0 && r->has_idem && r->status >= 200 && r->status < 300)
        rc = idem_save(a, r, t);
    return rc;
}

void api_submit_flat(struct http_req *r, http_apply_fn apply, void *data,
                     void (*data_free)(void *))
{
    r->intent.flat = 1;
    api_submit(r, apply, data, data_free);
}

void api_submit(struct http_req *r, http_apply_fn apply, void *data, void (*data_free)(void *))
{
    r->inner = apply;
    http_submit(r, idem_apply, data, data_free);
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

static const struct route *find_route(struct http_req *r, char **params, int *mismatch)
{
    int i = api_route_match(r->method, r->path, params);
    *mismatch = i == API_BAD_METHOD;
    return i >= 0 ? &routes[i] : NULL;
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

void api_dispatch(void *ctx, struct http_req *r)
{
    struct api *a = ctx;
    char *params[API_MAX_PARAMS] = { 0 };
    int mismatch;
    const struct route *rt = find_route(r, params, &mismatch);
    if (!rt) {
        route_not_found(r, mismatch);
        return;
    }
    r->route_class = route_class(rt);
    if (atomic_load_explicit(&a->stopping, memory_order_relaxed) && refused_while_stopping(rt)) {
        http_error(r, 503, "shutting_down", "hookd is shutting down; retry shortly");
        r->retry_after = "5";
        goto out;
    }
    r->scope = token_scope(a, r);
    if (rt->scope != SCOPE_NONE && r->scope == SCOPE_NONE) {
        http_error(r, 401, "authentication_failed", "missing or invalid bearer token");
        goto out;
    }
    if (rt->scope == SCOPE_ADMIN && r->scope != SCOPE_ADMIN) {
        http_error(r, 403, "insufficient_access", "this token's scope does not allow this route");
        goto out;
    }
    const char *key = strcmp(r->method, "POST") == 0 ? http_header(r, "idempotency-key") : NULL;
    r->route = (void *)rt;
    if (key && *key) {
        idem_hash(r, key);
        struct store_txn *t = api_read(a, r);
        if (!t)
            goto out;
        int replayed = idem_replay(r, t);
        store_abort(t);
        if (replayed)
            goto out;
    }
    rt->fn(a, r, params);
out:
    for (int k = 0; k < API_MAX_PARAMS; k++)
        free(params[k]);
}
