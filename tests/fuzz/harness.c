/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness.c - the fixture store and the request runner the fuzz targets
 * share (harness.h).
 *
 * The store lives in a temporary directory made on first use and removed
 * at exit. Fixtures are created through the API itself, committed; every
 * later write is rolled back, so the store never changes after that.
 * The writer is never started: the harness runs each apply function
 * itself, and a fresh writer per request drops the endpoint notes
 * (writer_touch) that only a commit would consume.
 */
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "config.h"
#include "epcache.h"
#include "err.h"
#include "harness.h"
#include "http.h"
#include "jscan.h"
#include "mem.h"
#include "store.h"
#include "writer.h"

struct fixture {
    struct config cfg;
    struct store *store;
    struct api api;
    char *ingest[2];
    char dir[64];
};

static struct fixture *fx;   /* the fuzz entry point has no context argument */

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz finding: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

char *fz_str(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void fixture_free(void)
{
    if (!fx)
        return;
    writer_free(fx->api.writer);
    epcache_free(fx->api.fanout);
    store_close(fx->store);
    nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    config_release(&fx->cfg);
    free(fx);
    fx = NULL;
}

static int run_req(struct api *a, struct http_req *r, int commit)
{
    const char *method = r->method;
    api_dispatch(a, r);
    if (r->apply) {
        struct store_txn *t;
        int rc = store_write(a->store, &t);
        if (rc)
            fz_fail("cannot begin a write: %s", hookd_strerror(rc));
        rc = r->apply(r, t);
        if (rc == 0 && !r->status)
            fz_fail("%s %s: the write applied but set no answer", method, r->uri);
        if (rc == 0 && commit) {
            if ((rc = store_commit(t)))
                fz_fail("commit failed: %s", hookd_strerror(rc));
        } else {
            store_abort(t);
        }
        if (rc && (!r->status || (r->status >= 200 && r->status < 300)))
            http_error(r, 500, "internal_error", "write failed");   /* as the server would */
    }
    int status = r->status;
    if (getenv("FZ_VERBOSE"))
        fprintf(stderr, "%s %s -> %d %.*s\n", method, r->uri, status,
                (int)(r->resp_len < 200 ? r->resp_len : 200), r->resp ? r->resp : "");
    if (status < 100 || status > 599)
        fz_fail("%s %s: status %d", method, r->uri, status);
    if (status == 500)
        fz_fail("%s %s: 500 for client input: %.*s", method, r->uri, (int)r->resp_len, r->resp);
    if (r->resp_len) {
        /* payloads go out as sent, numbers jansson cannot hold included (jscan.h) */
        json_error_t e;
        char *masked = xmalloc(r->resp_len + 1);
        struct jscan_span sp;
        jscan_mask(r->resp, r->resp_len, 1, masked, &sp);
        json_t *j = json_loadb(masked, r->resp_len, 0, &e);
        free(masked);
        if (!j)
            fz_fail("%s %s: answer %d is not JSON (%s): %.*s", method, r->uri, status, e.text,
                    (int)r->resp_len, r->resp);
        json_decref(j);
    }
    http_detached_free(r);
    writer_free(a->writer);
    writer_new(&a->writer, a->store, 0);
    return status;
}

static int run(struct api *a, const char *method, const char *url, const char *headers,
               const void *body, size_t len, int commit)
{
    return run_req(a, http_detached_new(a, method, url, headers, body, len), commit);
}

static void fixture(struct api *a, const char *method, const char *url, const char *body,
                    int want)
{
    int status = run(a, method, url, FZ_AUTH, body, strlen(body), 1);
    if (status != want)
        fz_fail("fixture %s %s: status %d, expected %d", method, url, status, want);
}

struct api *fz_api(void)
{
    if (fx)
        return &fx->api;
    fx = xcalloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/hookd-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (strlen(fx->dir) >= sizeof(fx->dir) - 1 || !mkdtemp(fx->dir))
        fz_fail("cannot make a temporary directory under '%s'", tmp ? tmp : "/tmp");
    config_init(&fx->cfg);
    int rc = store_open(&fx->store, fx->dir, 64 << 20, 0);
    if (rc)
        fz_fail("cannot open a store in '%s': %s", fx->dir, hookd_strerror(rc));
    atexit(fixture_free);
    struct api *a = &fx->api;
    fx->ingest[0] = FZ_INGEST_TOKEN;
    a->cfg = &fx->cfg;
    a->store = fx->store;
    a->admin_token = FZ_ADMIN_TOKEN;
    swap_init(&a->ingest_tokens, fx->ingest);   /* static: never released */
    a->fanout = epcache_new();
    pthread_mutex_init(&a->msg_lock, NULL);
    writer_new(&a->writer, a->store, 0);
    fixture(a, "POST", "/api/v1/event-type", "{\"name\":\"user.created\",\"description\":\"d\"}",
            201);
    fixture(a, "POST", "/api/v1/app", "{\"name\":\"fz\",\"uid\":\"fz\"}", 201);
    fixture(a, "POST", "/api/v1/app/fz/endpoint",
            "{\"url\":\"http://127.0.0.1:9/h\",\"uid\":\"ep1\",\"eventTypes\":[\"user.created\"],"
            "\"channels\":[\"c1\"],\"headers\":{\"X-A\":\"1\"}}", 201);
    fixture(a, "POST", "/api/v1/app/fz/endpoint", "{\"url\":\"https://example.com/x\",\"uid\":\"ep2\"}",
            201);
    fixture(a, "POST", "/api/v1/app/fz/msg",
            "{\"eventType\":\"user.created\",\"eventId\":\"m1\",\"payload\":{\"a\":1},"
            "\"channels\":[\"c1\"]}", 202);
    return a;
}

int fz_request(const char *method, const char *url, const char *headers, const void *body,
               size_t len, int commit)
{
    return run(fz_api(), method, url, headers, body, len, commit);
}

int fz_request_parts(const char *method, const char *path, const char *query,
                     const char *headers, const void *body, size_t len, int commit)
{
    struct api *a = fz_api();
    return run_req(a, http_detached_req(a, method, path, query, headers, body, len), commit);
}
