/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.c - libcurl multi transfers for deliveries.
 *
 * The loop: take the inbox, start those transfers, curl_multi_poll() until
 * something happens (worker_submit wakes it with curl_multi_wakeup), read
 * finished transfers, hand each outcome to the writer. (An epoll loop
 * driving curl_multi_socket_action was tried: with 64 transfers in flight
 * it cost a fifth more CPU per delivery, in epoll_ctl calls and one
 * curl call per ready socket.) The SSRF policy
 * runs in the open-socket callback, which curl calls with the exact
 * address it is about to connect to, after DNS: checking there means
 * the address checked is the address used.
 *
 * Easy handles outlive their transfers: a finished one goes back to the
 * worker's pool with its fixed options still set, and the next delivery
 * sets only what is its own (url, body, headers, deadlines, callbacks'
 * data). Making and freeing a handle per delivery cost more than the
 * request itself on a fast loopback receiver.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "dispatch.h"
#include "err.h"
#include "job.h"
#include "log.h"
#include "mem.h"
#include "netpolicy.h"
#include "sign.h"
#include "thread.h"
#include "worker.h"

/* Idle easy handles kept per worker; more than that are freed. */
#define WORKER_IDLE_HANDLES 256

/*
 * An easy handle and the URL it last sent to, parsed (worker thread
 * only). Given as CURLOPT_CURLU, a parsed URL spares curl parsing the
 * text again for every delivery: about 3 % of a worker's time when one
 * endpoint takes them all. It is parsed again when the handle moves on
 * to another URL.
 */
struct easy {
    CURL *h;
    CURLU *url;
    char *url_text;   /* what url holds, NULL when unset */
};

struct worker {
    int id;
    struct worker_opts o;
    pthread_t thread;
    int started;
    CURLM *multi;

    pthread_mutex_t lock;      /* guards inbox, stopping, deadline, load */
    struct job *inbox;
    int stopping;
    int64_t deadline_ms;
    int load;

    int running;               /* worker thread only: transfers in flight */
    struct job *active;        /* worker thread only: their jobs, doubly linked */
    struct easy *idle[WORKER_IDLE_HANDLES];   /* worker thread only: handles to reuse */
    int nidle;
};

int worker_new(struct worker **out, int id, const struct worker_opts *o)
{
    struct worker *w = xcalloc(1, sizeof(*w));
    w->id = id;
    w->o = *o;
    w->multi = curl_multi_init();
    if (!w->multi) {
        free(w);
        return HOOKD_EINVAL;
    }
    curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, 1024L);
    pthread_mutex_init(&w->lock, NULL);
    *out = w;
    return 0;
}

void worker_submit(struct worker *w, struct job *j)
{
    pthread_mutex_lock(&w->lock);
    int was_empty = w->inbox == NULL;
    j->next = w->inbox;
    w->inbox = j;
    w->load++;
    pthread_mutex_unlock(&w->lock);
    if (was_empty)   /* else the push that filled it woke the worker, which has not taken it yet */
        curl_multi_wakeup(w->multi);
}

int worker_load(struct worker *w)
{
    pthread_mutex_lock(&w->lock);
    int n = w->load;
    pthread_mutex_unlock(&w->lock);
    return n;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct job *j = arg;
    size_t len = size * n;
    if (j->response.len < j->resp_cap) {
        size_t keep = j->resp_cap - j->response.len;
        buf_add(&j->response, p, len < keep ? len : keep);
    }
    return len;   /* read and drop the rest: memory stays bounded */
}

/* Header names whose values are credentials: recorded as "(redacted)". */
static int sensitive_header(const char *name)
{
    static const char *const names[] = { "authorization", "proxy-authorization", "cookie",
                                         "set-cookie", "set-cookie2", "x-api-key" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return strstr(name, "token") || strstr(name, "secret") || strstr(name, "password");
}

/*
 * Keep one response header line for the attempt record, bounded
 * (JOB_HDRS_MAX, JOB_HDRS_BYTES): what a receiver answered is often why
 * it failed (a proxy's server header, a rate limit's x-ratelimit-*).
 * A status line starts over: only the final response's headers count.
 */
static void keep_header(struct job *j, const char *p, size_t len)
{
    while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        j->resp_hdrs_len = 0;
        j->resp_hdrs_n = 0;
        return;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon || colon == p || j->resp_hdrs_n >= JOB_HDRS_MAX)
        return;
    size_t nl = (size_t)(colon - p), k = nl + 1;
    while (k < len && (p[k] == ' ' || p[k] == '\t'))
        k++;
    char name[128];
    if (nl >= sizeof(name))
        return;
    for (size_t i = 0; i < nl; i++)
        name[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    name[nl] = '\0';
    const char *v = p + k;
    size_t vl = len - k;
    if (sensitive_header(name)) {
        v = "(redacted)";
        vl = strlen(v);
    }
    if (j->resp_hdrs_len + nl + vl + 2 > sizeof(j->resp_hdrs))
        return;   /* over the byte budget: this one is not kept */
    char *out = j->resp_hdrs + j->resp_hdrs_len;
    memcpy(out, name, nl + 1);
    memcpy(out + nl + 1, v, vl);
    out[nl + 1 + vl] = '\0';
    j->resp_hdrs_len += nl + vl + 2;
    j->resp_hdrs_n++;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct job *j = arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
        size_t k = 12;
        while (k < len && (p[k] == ' ' || p[k] == '\t'))
            k++;
        size_t v = len - k;
        while (v && (p[k + v - 1] == '\r' || p[k + v - 1] == '\n' || p[k + v - 1] == ' '))
            v--;
        snprintf(j->retry_after, sizeof(j->retry_after), "%.*s", (int)v, p + k);
    }
    keep_header(j, p, len);
    return len;
}

/* A socket() failure that is this process's or machine's, not the receiver's. */
static int out_of_sockets(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

/* SSRF check on the address curl is about to connect to. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct job *j = arg;
    char why[160];
    if (j->policy && netpolicy_check(j->policy, &a->addr, why, sizeof(why))) {
        j->refused = 1;
        buf_reset(&j->response);
        buf_addf(&j->response, "refused by the network policy: %s", why);
        return CURL_SOCKET_BAD;
    }
    curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
    /* the kernel hands out the lowest free number: one at the ceiling
     * means all below it are taken, and the rest are kept for clients */
    if (fd != CURL_SOCKET_BAD && j->fd_ceiling > 0 && fd >= j->fd_ceiling) {
        close(fd);
        fd = CURL_SOCKET_BAD;
        errno = EMFILE;
    }
    if (fd == CURL_SOCKET_BAD && out_of_sockets(errno))
        j->no_socket = errno;
    return fd;
}

/* "name: value" as a header node in front of next, its text in j's buffer. */
static struct curl_slist *sig_node(struct job *j, int *n, size_t *at, const char *name,
                                   const char *value, struct curl_slist *next)
{
    struct curl_slist *node = &j->sig_nodes[(*n)++];
    char *p = j->sig_text + *at;
    size_t len = str_copy(p, sizeof(j->sig_text) - *at, name, ": ");
    len += str_copy(p + len, sizeof(j->sig_text) - *at - len, value, NULL);
    *at += len + 1;
    node->data = p;
    node->next = next;
    return node;
}

/* Keys current at ts_ms signing msg_id.ts.body: "v1,... v1,..." into sig. */
static void sign_all(const struct job *j, int64_t ts_ms,
                     char sig[EPCONF_MAX_KEYS * SIGN_ENTRY_MAX])
{
    const struct epconf *c = j->conf;
    size_t len = 0;
    sig[0] = '\0';
    for (int i = 0; i < c->nkeys; i++) {
        if (c->keys[i].expires_ms && c->keys[i].expires_ms <= ts_ms)
            continue;   /* a rotated key past its grace period */
        char entry[SIGN_ENTRY_MAX];
        if (sign_entry_with(&c->keys[i].k, j->msg_id, ts_ms / 1000, j->body.data, j->body.len,
                            entry) != 0)
            continue;
        if (len)
            sig[len++] = ' ';
        len += str_copy(sig + len, EPCONF_MAX_KEYS * SIGN_ENTRY_MAX - len, entry, NULL);
    }
}

/*
 * Standard Webhooks headers (and/or the svix-* family) in nodes of the
 * job's own, in front of the endpoint's shared list of custom and fixed
 * headers (epconf.h): no allocation per delivery. Returns the list.
 */
static struct curl_slist *build_headers(struct worker *w, struct job *j)
{
    static const char *const names[2][3] = {
        { "webhook-id", "webhook-timestamp", "webhook-signature" },
        { "svix-id", "svix-timestamp", "svix-signature" },
    };
    char sig[EPCONF_MAX_KEYS * SIGN_ENTRY_MAX], ts[STR_INT_MAX];
    sign_all(j, j->started_ms, sig);
    str_int(ts, j->started_ms / 1000);
    const char *values[3] = { j->msg_id, ts, sig };
    struct curl_slist *list = j->conf->tail;
    int n = 0;
    size_t at = 0;
    for (int f = 1; f >= 0; f--) {   /* built back to front */
        if ((f == 0 && w->o.svix_headers == 1) || (f == 1 && w->o.svix_headers == 0))
            continue;
        for (int i = 2; i >= 0; i--)
            list = sig_node(j, &n, &at, names[f][i], values[i], list);
    }
    return list;
}

/*
 * A url whose host spells an IPv4 address in disguise ("0177.0.0.1") ends
 * here, before curl, which would read it as the address it hides. The API
 * refuses such urls when an endpoint is written; this catches records that
 * predate that check. The address check at connect time would stop most
 * of them anyway; this one names the trick.
 */
static int refuse_url(struct worker *w, struct job *j)
{
    if (!j->conf->url_refused)   /* checked once per settings load (epconf.c) */
        return 0;
    j->refused = 1;
    j->started_ms = clock_now_ms();
    j->duration_ms = 0;
    j->status_code = 0;
    buf_reset(&j->response);
    buf_addf(&j->response, "refused by the network policy: %s", j->conf->url_refused);
    pthread_mutex_lock(&w->lock);
    w->load--;
    pthread_mutex_unlock(&w->lock);
    dispatch_transfer_done(j->owner, j);
    if (dispatch_submit_outcome(j))
        j->intent.done(&j->intent, HOOKD_ESTOPPED);   /* not recorded: resent after restart */
    return 1;
}

/* A handle from the pool, or a new one with the options every delivery shares. */
static struct easy *easy_get(struct worker *w)
{
    if (w->nidle > 0)
        return w->idle[--w->nidle];
    CURL *e = curl_easy_init();
    if (!e) {   /* only out of memory makes it fail: fatal, as for every allocation (mem.h) */
        fprintf(stderr, "hookd: out of memory making a curl handle\n");
        abort();
    }
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /*
     * No proxy, whatever the environment says: the SSRF policy checks the
     * address a delivery connects to, and through a proxy that would be
     * the proxy's. (It also spares curl reading six variables per request.)
     */
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    /*
     * Verification stays on (curl's default) for every delivery. CAINFO
     * replaces curl's CA bundle file but not its CA directory
     * (/etc/ssl/certs on Debian), so the system's CAs are still trusted.
     */
    if (w->o.ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, w->o.ca_file);
    struct easy *x = xcalloc(1, sizeof(*x));
    x->h = e;
    return x;
}

static void easy_free(struct easy *x)
{
    curl_easy_cleanup(x->h);
    curl_url_cleanup(x->url);
    free(x->url_text);
    free(x);
}

static void easy_put(struct worker *w, struct easy *x)
{
    if (w->nidle < WORKER_IDLE_HANDLES)
        w->idle[w->nidle++] = x;
    else
        easy_free(x);
}

/*
 * Point x at url: nothing to do when it is the URL x last sent to. The
 * text goes in too (CURLOPT_URL), since curl names it in what it reports;
 * the parsed form decides where curl connects. A URL curl's parser
 * refuses is given as text alone, so that curl reports the error as usual.
 */
static void easy_set_url(struct easy *x, const char *url)
{
    if (x->url_text && strcmp(x->url_text, url) == 0)
        return;
    free(x->url_text);
    x->url_text = NULL;
    if (!x->url)
        x->url = curl_url();
    curl_easy_setopt(x->h, CURLOPT_URL, url);
    if (x->url && curl_url_set(x->url, CURLUPART_URL, url,
                               CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
        x->url_text = xstrdup(url);
        curl_easy_setopt(x->h, CURLOPT_CURLU, x->url);
    } else {
        curl_easy_setopt(x->h, CURLOPT_CURLU, NULL);
    }
}

/* Every option that differs between deliveries is set here, each time. */
static void start_job(struct worker *w, struct job *j)
{
    if (refuse_url(w, j))
        return;
    struct easy *x = easy_get(w);
    CURL *e = x->h;
    j->easy = x;
    j->resp_cap = w->o.max_response;
    j->policy = w->o.policy;
    j->fd_ceiling = w->o.fd_ceiling;
    j->started_ms = clock_now_ms();
    easy_set_url(x, j->conf->url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body.data);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body.len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, build_headers(w, j));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)j->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, j);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_error);
    j->curl_error[0] = '\0';
    curl_multi_add_handle(w->multi, e);
    j->prev = NULL;
    j->next = w->active;
    if (w->active)
        w->active->prev = j;
    w->active = j;
    w->running++;
}

static void unlink_active(struct worker *w, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        w->active = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->next = j->prev = NULL;
    w->running--;
    pthread_mutex_lock(&w->lock);
    w->load--;
    pthread_mutex_unlock(&w->lock);
}

static void release_transfer(struct worker *w, struct job *j)
{
    struct easy *x = j->easy;
    curl_multi_remove_handle(w->multi, x->h);
    curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, NULL);   /* j's buffer goes with j */
    easy_put(w, x);
    j->easy = NULL;
    unlink_active(w, j);
}

static void finish_job(struct worker *w, CURL *e, CURLcode res)
{
    struct job *j;
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&j);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    release_transfer(w, j);
    j->duration_ms = clock_now_ms() - j->started_ms;
    j->status_code = res == CURLE_OK ? (int)code : 0;
    dispatch_transfer_done(j->owner, j);   /* the endpoint's slot; the claim waits for the commit */
    if (res != CURLE_OK && j->no_socket) {
        /* nothing reached the receiver: no attempt, sent again after a pause */
        j->intent.done(&j->intent, -j->no_socket);
        return;
    }
    if (res != CURLE_OK && !j->refused) {
        /* curl's detail names the cause ("SSL certificate problem: ...",
         * "Could not resolve host: ..."); its code's text is the fallback */
        buf_reset(&j->response);
        buf_adds(&j->response, j->curl_error[0] ? j->curl_error : curl_easy_strerror(res));
    }
    if (dispatch_submit_outcome(j))
        j->intent.done(&j->intent, HOOKD_ESTOPPED);   /* not recorded: resent after restart */
}

static void read_done(struct worker *w)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(w->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            finish_job(w, m->easy_handle, m->data.result);
}

/* Take the inbox in submission order. */
static struct job *take_inbox(struct worker *w, int *stopping, int64_t *deadline)
{
    pthread_mutex_lock(&w->lock);
    struct job *l = w->inbox, *r = NULL;
    w->inbox = NULL;
    *stopping = w->stopping;
    *deadline = w->deadline_ms;
    pthread_mutex_unlock(&w->lock);
    while (l) {
        struct job *n = l->next;
        l->next = r;
        r = l;
        l = n;
    }
    return r;
}

/* Abandon transfers still running at the stop deadline: not recorded, so
 * their due entries remain and they are sent again after a restart. */
static void abandon_all(struct worker *w)
{
    if (w->running > 0) {
        char n[16];
        snprintf(n, sizeof(n), "%d", w->running);
        log_warn("deliveries abandoned at stop", "count", n,
                 "detail", "still running at --shutdown-timeout; sent again after a restart",
                 NULL);
    }
    while (w->active) {
        struct job *j = w->active;
        release_transfer(w, j);
        j->intent.done(&j->intent, HOOKD_ESTOPPED);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int stopping = 0;
    int64_t deadline = 0;
    for (;;) {
        for (struct job *j = take_inbox(w, &stopping, &deadline), *n; j; j = n) {
            n = j->next;
            start_job(w, j);
        }
        if (stopping && (w->running == 0 || clock_mono_ms() >= deadline))
            break;
        int still;
        curl_multi_perform(w->multi, &still);
        read_done(w);
        curl_multi_poll(w->multi, NULL, 0, stopping ? 50 : 1000, NULL);
        curl_multi_perform(w->multi, &still);
        read_done(w);
    }
    abandon_all(w);
    return NULL;
}

int worker_start(struct worker *w)
{
    char name[24];
    snprintf(name, sizeof(name), "hookd-worker%d", w->id);
    int rc = thread_start(&w->thread, name, worker_main, w);
    if (rc)
        return rc;
    w->started = 1;
    return 0;
}

void worker_stop(struct worker *w, int64_t deadline_ms)
{
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    w->deadline_ms = clock_mono_ms() + deadline_ms;
    pthread_mutex_unlock(&w->lock);
    curl_multi_wakeup(w->multi);
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = 0;
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    while (w->nidle > 0)
        easy_free(w->idle[--w->nidle]);
    curl_multi_cleanup(w->multi);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
