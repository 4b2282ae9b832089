/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_http.c - background HTTP for the console (see ui_http.h).
 *
 * The main thread never waits on the network: it drops a request in the
 * queue and picks the answer up on a later turn of its loop. One fetch
 * thread is enough, because the console asks for a handful of small
 * snapshots a second; the feed gets a thread of its own because its long
 * poll holds a request open for up to half a minute. Stopping sets a flag
 * that curl's progress callback reads, so even a hung transfer ends at
 * once and the console quits without delay.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "mem.h"
#include "ui_http.h"

#define FETCH_TIMEOUT_MS 8000
#define FEED_WAIT_S 20
#define MAX_BODY (32u << 20)

static char *ca_file;   /* ui_http_set_ca_file; NULL: the system's store */

/* ui_http_set_agent; the server logs the console's polling at debug by it */
static const char *agent = "hookd-client/" HOOKD_VERSION;

void ui_http_set_agent(const char *ua)
{
    agent = ua;
}

void ui_http_set_ca_file(const char *file)
{
    free(ca_file);
    ca_file = file && file[0] ? xstrdup(file) : NULL;
}

struct req {
    struct req *next;
    long id;
    int tag;
    char *method, *path, *body;
};

struct resp_node {
    struct resp_node *next;
    struct ui_resp *r;
};

struct ui_http {
    pthread_mutex_t mu;
    pthread_cond_t cond;         /* requests queued, or stop */
    struct req *rq_head, *rq_tail;
    struct resp_node *rs_head, *rs_tail;
    char *url, *token;           /* under mu */
    long next_id;
    long long feed_after;
    atomic_int stop;
    pthread_t fetch_thr, feed_thr;
    int fetch_on, feed_on;
};

struct xfer {
    struct buf body;
    const atomic_int *stop;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    if (x->body.len + size * n > MAX_BODY)
        return 0;
    buf_add(&x->body, p, size * n);
    return size * n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    const struct xfer *x = arg;
    return x->stop && atomic_load(x->stop) ? 1 : 0;
}

static void set_request(CURL *c, struct curl_slist **hdrs, const char *token,
                        const char *method, const char *body)
{
    char auth[512];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : "");
    *hdrs = curl_slist_append(*hdrs, auth);
    *hdrs = curl_slist_append(*hdrs, "Accept: application/json");
    if (body) {
        *hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0 && !body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
}

/* Perform one request on handle c (reset first); never NULL. */
static struct ui_resp *perform(CURL *c, const char *url, const char *token, const char *method,
                               const char *path, const char *body, long timeout_ms,
                               const atomic_int *stop)
{
    struct ui_resp *r = xcalloc(1, sizeof(*r));
    struct xfer x = { BUF_INIT, stop };
    struct curl_slist *hdrs = NULL;
    char full[8192], err[CURL_ERROR_SIZE] = "";
    snprintf(full, sizeof(full), "%s%s", url, path);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_USERAGENT, agent);
    if (ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    set_request(c, &hdrs, token, method, body);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        snprintf(r->error, sizeof(r->error), "%s", err[0] ? err : curl_easy_strerror(rc));
    r->tls = rc == CURLE_PEER_FAILED_VERIFICATION ? UI_TLS_UNTRUSTED
             : rc == CURLE_SSL_CACERT_BADFILE ? UI_TLS_BAD_CA_FILE : 0;
    curl_slist_free_all(hdrs);
    if (!x.body.data)
        buf_adds(&x.body, "");
    r->body = buf_detach(&x.body, &r->len);
    return r;
}

struct ui_resp *ui_http_request(const char *url, const char *token, const char *method,
                                const char *path, const char *body, long timeout_ms)
{
    CURL *c = curl_easy_init();
    if (!c) {
        struct ui_resp *r = xcalloc(1, sizeof(*r));
        r->body = xstrdup("");
        snprintf(r->error, sizeof(r->error), "cannot initialise libcurl");
        return r;
    }
    struct ui_resp *r = perform(c, url, token, method, path, body, timeout_ms, NULL);
    curl_easy_cleanup(c);
    return r;
}

void ui_resp_free(struct ui_resp *r)
{
    if (r) {
        free(r->body);
        free(r);
    }
}

static void push_resp(struct ui_http *h, struct ui_resp *r)
{
    struct resp_node *n = xmalloc(sizeof(*n));
    n->next = NULL;
    n->r = r;
    pthread_mutex_lock(&h->mu);
    if (h->rs_tail)
        h->rs_tail->next = n;
    else
        h->rs_head = n;
    h->rs_tail = n;
    pthread_mutex_unlock(&h->mu);
}

struct ui_resp *ui_http_poll(struct ui_http *h)
{
    pthread_mutex_lock(&h->mu);
    struct resp_node *n = h->rs_head;
    if (n) {
        h->rs_head = n->next;
        if (!h->rs_head)
            h->rs_tail = NULL;
    }
    pthread_mutex_unlock(&h->mu);
    struct ui_resp *r = n ? n->r : NULL;
    free(n);
    return r;
}

static void req_free(struct req *q)
{
    free(q->method);
    free(q->path);
    free(q->body);
    free(q);
}

/* Copy the target under the lock: set_target may replace it meanwhile. */
static void target(struct ui_http *h, char **url, char **token)
{
    pthread_mutex_lock(&h->mu);
    *url = xstrdup(h->url);
    *token = xstrdup(h->token);
    pthread_mutex_unlock(&h->mu);
}

static void *fetch_main(void *arg)
{
    struct ui_http *h = arg;
    CURL *c = curl_easy_init();
    for (;;) {
        pthread_mutex_lock(&h->mu);
        while (!h->rq_head && !atomic_load(&h->stop))
            pthread_cond_wait(&h->cond, &h->mu);
        struct req *q = h->rq_head;
        if (atomic_load(&h->stop) || !q) {
            pthread_mutex_unlock(&h->mu);
            break;
        }
        h->rq_head = q->next;
        if (!h->rq_head)
            h->rq_tail = NULL;
        pthread_mutex_unlock(&h->mu);
        char *url, *token;
        target(h, &url, &token);
        struct ui_resp *r = perform(c, url, token, q->method, q->path, q->body,
                                    FETCH_TIMEOUT_MS, &h->stop);
        r->id = q->id;
        r->tag = q->tag;
        push_resp(h, r);
        free(url);
        free(token);
        req_free(q);
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* Sleep up to ms unless stopping; returns 1 when stopping. */
static int nap(struct ui_http *h, long ms)
{
    struct timespec ts;
    clock_deadline(CLOCK_REALTIME, ms, &ts);
    pthread_mutex_lock(&h->mu);
    while (!atomic_load(&h->stop))
        if (pthread_cond_timedwait(&h->cond, &h->mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&h->mu);
    return atomic_load(&h->stop);
}

/* The feed's next sequence and item count from an answer, or -1. */
static long long feed_seq(const char *body, size_t *items)
{
    json_t *o = json_loads(body, 0, NULL), *seq = json_object_get(o, "seq");
    long long s = json_is_integer(seq) ? json_integer_value(seq) : -1;
    *items = json_array_size(json_object_get(o, "items"));
    json_decref(o);
    return s;
}

static void *feed_main(void *arg)
{
    struct ui_http *h = arg;
    CURL *c = curl_easy_init();
    while (!atomic_load(&h->stop)) {
        char path[128], *url, *token;
        snprintf(path, sizeof(path), "/hookd/v1/feed?after=%lld&wait=%d&limit=250",
                 h->feed_after, FEED_WAIT_S);
        target(h, &url, &token);
        int64_t t0 = clock_mono_ms();
        struct ui_resp *r = perform(c, url, token, "GET", path, NULL,
                                    (FEED_WAIT_S + 10) * 1000L, &h->stop);
        free(url);
        free(token);
        size_t items = 0;
        long long seq = r->status == 200 ? feed_seq(r->body, &items) : -1;
        int good = r->status == 200 && seq >= 0;
        if (good)
            h->feed_after = seq;
        r->tag = UI_TAG_FEED;
        if (atomic_load(&h->stop)) {
            ui_resp_free(r);
            break;
        }
        push_resp(h, r);
        if (!good)
            nap(h, 2000);                 /* server away or no feed: retry calmly */
        else if (!items && clock_mono_ms() - t0 < 200)
            nap(h, 1000);                 /* a server that does not wait */
    }
    curl_easy_cleanup(c);
    return NULL;
}

struct ui_http *ui_http_new(const char *url, const char *token)
{
    struct ui_http *h = xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cond, NULL);
    h->url = xstrdup(url);
    h->token = xstrdup(token);
    atomic_init(&h->stop, 0);
    return h;
}

void ui_http_set_target(struct ui_http *h, const char *url, const char *token)
{
    char *u = xstrdup(url), *t = xstrdup(token);
    pthread_mutex_lock(&h->mu);
    free(h->url);
    free(h->token);
    h->url = u;
    h->token = t;
    pthread_mutex_unlock(&h->mu);
}

int ui_http_start(struct ui_http *h)
{
    int rc = pthread_create(&h->fetch_thr, NULL, fetch_main, h);
    if (rc)
        return -rc;
    h->fetch_on = 1;
    return 0;
}

int ui_http_feed_start(struct ui_http *h, long long after)
{
    if (h->feed_on)
        return 0;
    h->feed_after = after;
    int rc = pthread_create(&h->feed_thr, NULL, feed_main, h);
    if (rc)
        return -rc;
    h->feed_on = 1;
    return 0;
}

long ui_http_submit(struct ui_http *h, int tag, const char *method, const char *path,
                    const char *body)
{
    struct req *q = xcalloc(1, sizeof(*q));
    q->tag = tag;
    q->method = xstrdup(method);
    q->path = xstrdup(path);
    q->body = body ? xstrdup(body) : NULL;
    pthread_mutex_lock(&h->mu);
    long id = q->id = ++h->next_id;   /* q belongs to the fetch thread once queued */
    if (h->rq_tail)
        h->rq_tail->next = q;
    else
        h->rq_head = q;
    h->rq_tail = q;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
    return id;
}

void ui_http_free(struct ui_http *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    atomic_store(&h->stop, 1);
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
    if (h->fetch_on)
        pthread_join(h->fetch_thr, NULL);
    if (h->feed_on)
        pthread_join(h->feed_thr, NULL);
    while (h->rq_head) {
        struct req *q = h->rq_head;
        h->rq_head = q->next;
        req_free(q);
    }
    struct ui_resp *r;
    while ((r = ui_http_poll(h)))
        ui_resp_free(r);
    free(h->url);
    free(h->token);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
