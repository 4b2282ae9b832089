/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiver.c - the webhook receiver that hookd's delivery tests and
 * benchmarks post to.
 *
 *   receiver --listen 127.0.0.1:0 [--log FILE] [--quiet-log]
 *            [--secret whsec_...]... [--threads N]
 *            [--tls-cert FILE --tls-key FILE]
 *
 * prints the bound port on stdout as one line and serves until SIGTERM or
 * SIGINT; over HTTPS only with --tls-cert and --tls-key (PEM files). How it answers is written in the request path, so a test needs
 * no control channel: every segment that is a keyword applies, with the
 * segments after it as arguments, and the rest are ignored. For example
 * /ep1/status/503, /ep2/delay/1500, /ep3/delay/200/retry-after/429/5.
 * Of the answers (ok, status, retry-after, gone, hang, reset) the last one
 * in the path wins, so /gone/ok answers 200.
 *
 *   ok                  200 (the default for any other path)
 *   status/N            answer N
 *   delay/MS            wait MS ms, then answer
 *   retry-after/N/SECS  answer N with "Retry-After: SECS"
 *   gone                410
 *   hang                never answer; close once the client has gone
 *   reset               read the request, close without a response
 *   flaky/N             500 for the first N requests with a given
 *                       webhook-id on this path, then the normal answer
 *   big/BYTES           200 with a body of BYTES bytes
 *   slowbody/MS         200, the body trickled out over MS ms
 *   redirect/N          answer N (300-399) with "Location:
 *                       http://HOST/redirect-landed", HOST from the Host header
 *   headers/N           add "Set-Cookie: session=s3cr3t", "Authorization:
 *                       Bearer s3cr3t" and N headers "X-Test-K: value-K"
 *                       (K from 1) to the answer
 *   hexbody             200 whose body is the bytes written in hex in the
 *                       request body's top-level string "hex" (any byte
 *                       value: what a receiver may answer, NUL included)
 *   echo                the answer's body repeats the request: its headers,
 *                       webhook-id, signature and body, as in the log
 *                       (with any answer)
 *
 * Each request appends one JSON line to the log once its body is complete
 * (before any delay), so a test can see a hung request arrive:
 *
 *   t         arrival, Unix ms with a microsecond fraction
 *   path      the URL path, without the query string
 *   id        webhook-id (null if absent)
 *   verified  true/false against any --secret; null without --secret
 *   status    the status answered; null for hang and reset
 *   lat_ms    t minus the body's top-level number "sent_ms", else null
 *   method, ts (webhook-timestamp), sig (webhook-signature), ua, ct,
 *   svix_id, headers (the others, names lowercased), body (the first
 *   4096 bytes, invalid UTF-8 as U+FFFD), len (the full body length)
 *
 * --quiet-log keeps only the first six, for benchmarks. Without
 * webhook-id, the svix-id/-timestamp/-signature family is verified.
 *
 * Tests hold thousands of connections open for seconds, so nothing here
 * sleeps on a libmicrohttpd thread: a waiting connection is suspended and a
 * timer thread resumes it when it is due. A suspended connection is not
 * polled by libmicrohttpd, so the timer also peeks at hung sockets every
 * HANG_CHECK_US to notice clients that gave up, and releases them.
 *
 * The signature check is written here from API.md section 6 on purpose and
 * shares no code with src/sign.c: it is the independent witness.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <jansson.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <microhttpd.h>

#include "clock.h"
#include "mem.h"

#define TOLERANCE_S 300
#define LOG_BODY_MAX 4096
#define BODY_MAX (64u << 20)
#define HANG_CHECK_US 200000
#define FLAKY_BUCKETS 1024
#define SLOW_BODY "{\"ok\":true}"
#define OK_BODY "{\"ok\":true}"

struct secret {
    unsigned char *key;
    size_t len;
};

struct flaky {
    struct flaky *next;
    char *key;
    long count;
};

/* What the path asks for; -1 means "not asked". */
struct spec {
    int status;
    long delay_ms;
    long retry_after;
    long flaky;
    long long big;
    long slow_ms;
    bool hang;
    bool reset;
    bool echo;
    bool hexbody;
    bool redirect;
    long extra_headers;   /* headers/N; -1: none */
};

enum phase { PH_BODY, PH_DELAY, PH_HANG, PH_SENT };

struct req {
    struct receiver *rc;
    struct MHD_Connection *conn;
    const char *method;        /* libmicrohttpd's, valid for the request */
    enum phase phase;
    double t_ms;               /* arrival, Unix ms */
    struct buf body;
    struct spec spec;
    int status;                /* what we answer */
    int fd;                    /* for hang checks */
    bool abort;                /* set by the timer: close instead of answering */
    int64_t slow_start_us;
};

struct timer_entry {
    int64_t due_us;
    struct req *req;
};

struct receiver {
    struct MHD_Daemon *d;
    FILE *log;
    bool quiet;
    pthread_mutex_t log_mu;
    struct secret *secrets;
    size_t nsecrets;
    pthread_mutex_t flaky_mu;
    struct flaky *flaky[FLAKY_BUCKETS];
    /* Timer: a min-heap of suspended requests, guarded by tmu. */
    pthread_mutex_t tmu;
    pthread_cond_t tcond;
    struct timer_entry *heap;
    size_t hlen, hcap;
    bool stopping;
    pthread_t timer;
    char *tls_cert, *tls_key;  /* PEM, for --tls-cert / --tls-key */
};

/* ---- timer ------------------------------------------------------------ */

static void heap_push(struct receiver *rc, struct timer_entry e)
{
    if (rc->hlen == rc->hcap) {
        rc->hcap = rc->hcap ? rc->hcap * 2 : 256;
        rc->heap = xrealloc(rc->heap, rc->hcap * sizeof(*rc->heap));
    }
    size_t i = rc->hlen++;
    while (i > 0 && rc->heap[(i - 1) / 2].due_us > e.due_us) {
        rc->heap[i] = rc->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    rc->heap[i] = e;
}

static struct timer_entry heap_pop(struct receiver *rc)
{
    struct timer_entry top = rc->heap[0], last = rc->heap[--rc->hlen];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= rc->hlen)
            break;
        if (c + 1 < rc->hlen && rc->heap[c + 1].due_us < rc->heap[c].due_us)
            c++;
        if (last.due_us <= rc->heap[c].due_us)
            break;
        rc->heap[i] = rc->heap[c];
        i = c;
    }
    if (rc->hlen)
        rc->heap[i] = last;
    return top;
}

/*
 * Suspend r's connection until due_us (monotonic). Called on an MHD thread
 * from the access handler or a content reader. Suspending and queueing
 * happen under tmu so that shutdown, which drains the queue under tmu,
 * never misses a suspended connection. -1 when shutting down.
 */
static int suspend_until(struct req *r, int64_t due_us)
{
    struct receiver *rc = r->rc;
    pthread_mutex_lock(&rc->tmu);
    if (rc->stopping) {
        pthread_mutex_unlock(&rc->tmu);
        return -1;
    }
    MHD_suspend_connection(r->conn);
    heap_push(rc, (struct timer_entry){ due_us, r });
    pthread_cond_signal(&rc->tcond);
    pthread_mutex_unlock(&rc->tmu);
    return 0;
}

/* Re-queue an already suspended request (timer thread only). */
static void requeue(struct receiver *rc, struct req *r, int64_t due_us)
{
    pthread_mutex_lock(&rc->tmu);
    bool stopping = rc->stopping;
    if (!stopping)
        heap_push(rc, (struct timer_entry){ due_us, r });
    pthread_mutex_unlock(&rc->tmu);
    if (stopping) {
        r->abort = true;
        MHD_resume_connection(r->conn);
    }
}

static bool peer_gone(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void timer_fire(struct receiver *rc, struct req *r)
{
    if (r->phase == PH_HANG) {
        if (!peer_gone(r->fd)) {
            requeue(rc, r, clock_mono_us() + HANG_CHECK_US);
            return;
        }
        r->abort = true;
    }
    MHD_resume_connection(r->conn);
}

static void timer_wait(struct receiver *rc, int64_t due_us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t wait = due_us - clock_mono_us();
    ts.tv_sec += wait / 1000000;
    ts.tv_nsec += (wait % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&rc->tcond, &rc->tmu, &ts);
}

/* On stop: resume everything so MHD_stop_daemon finds nothing suspended. */
static void timer_drain(struct receiver *rc)
{
    while (rc->hlen) {
        struct req *r = heap_pop(rc).req;
        r->abort = true;
        MHD_resume_connection(r->conn);
    }
}

static void *timer_main(void *arg)
{
    struct receiver *rc = arg;
    pthread_mutex_lock(&rc->tmu);
    for (;;) {
        if (rc->stopping) {
            timer_drain(rc);
            break;
        }
        if (!rc->hlen) {
            pthread_cond_wait(&rc->tcond, &rc->tmu);
            continue;
        }
        if (rc->heap[0].due_us > clock_mono_us()) {
            timer_wait(rc, rc->heap[0].due_us);
            continue;
        }
        struct req *r = heap_pop(rc).req;
        pthread_mutex_unlock(&rc->tmu);
        timer_fire(rc, r);
        pthread_mutex_lock(&rc->tmu);
    }
    pthread_mutex_unlock(&rc->tmu);
    return NULL;
}

/* ---- path spec -------------------------------------------------------- */

/* Parse a decimal argument in [lo, hi]; false if absent or malformed. */
static bool num_arg(const char *seg, long long lo, long long hi, long long *out)
{
    if (!seg || !*seg)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(seg, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/*
 * The answer keywords (ok, status, retry-after, gone, hang, reset) replace
 * each other, so the last one wins: an endpoint may be named after a
 * keyword, and /gone/ok or /hang/status/503 mean what they say.
 */
static void spec_answer(struct spec *s, int status, long retry_after, bool hang, bool reset)
{
    s->status = status;
    s->retry_after = retry_after;
    s->hang = hang;
    s->reset = reset;
}

/* Apply keyword seg[0] with its arguments; how many segments it used. */
static int spec_apply(struct spec *s, char **seg, int n)
{
    static const struct {
        const char *name;
        int status;
        bool hang, reset;
    } plain[] = {
        { "ok", 200, false, false },
        { "gone", 410, false, false },
        { "hang", 200, true, false },
        { "reset", 200, false, true },
    };
    const char *k = seg[0], *a1 = n > 1 ? seg[1] : NULL, *a2 = n > 2 ? seg[2] : NULL;
    long long v, w;

    if (!strcmp(k, "echo")) {
        s->echo = true;
        return 1;
    }
    if (!strcmp(k, "hexbody")) {
        s->hexbody = true;
        return 1;
    }
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        if (!strcmp(k, plain[i].name)) {
            spec_answer(s, plain[i].status, -1, plain[i].hang, plain[i].reset);
            return 1;
        }
    }
    if (!strcmp(k, "retry-after") && num_arg(a1, 100, 999, &v)
        && num_arg(a2, 0, 1000000000, &w)) {
        spec_answer(s, (int)v, (long)w, false, false);
        return 3;
    }
    if (!num_arg(a1, 0, 1LL << 40, &v))
        return 1;
    if (!strcmp(k, "status") && v >= 100 && v <= 999)
        spec_answer(s, (int)v, -1, false, false);
    else if (!strcmp(k, "redirect") && v >= 300 && v <= 399) {
        spec_answer(s, (int)v, -1, false, false);
        s->redirect = true;
    }
    else if (!strcmp(k, "delay") && v <= 86400000)
        s->delay_ms = (long)v;
    else if (!strcmp(k, "flaky"))
        s->flaky = (long)v;
    else if (!strcmp(k, "big"))
        s->big = v;
    else if (!strcmp(k, "slowbody") && v <= 86400000)
        s->slow_ms = (long)v;
    else if (!strcmp(k, "headers") && v <= 1000)
        s->extra_headers = (long)v;
    else
        return 1;
    return 2;
}

static void spec_parse(struct spec *s, const char *path)
{
    *s = (struct spec){ .status = 200, .delay_ms = 0, .retry_after = -1, .flaky = -1,
                        .big = -1, .slow_ms = -1, .extra_headers = -1 };
    char *copy = xstrdup(path), *save = NULL;
    char *seg[64];
    int n = 0;
    for (char *p = strtok_r(copy, "/", &save); p && n < 64; p = strtok_r(NULL, "/", &save))
        seg[n++] = p;
    for (int i = 0; i < n;)
        i += spec_apply(s, seg + i, n - i);
    free(copy);
}

/* Count this request against /flaky/N; true while it should still fail. */
static bool flaky_fails(struct receiver *rc, const char *id, const char *path, long n)
{
    struct buf key = BUF_INIT;
    buf_addf(&key, "%s\n%s", id ? id : "", path);
    unsigned h = 5381;
    for (size_t i = 0; i < key.len; i++)
        h = h * 33 + (unsigned char)key.data[i];
    struct flaky **b = &rc->flaky[h % FLAKY_BUCKETS], *f;
    pthread_mutex_lock(&rc->flaky_mu);
    for (f = *b; f && strcmp(f->key, key.data); f = f->next)
        ;
    if (!f) {
        f = xcalloc(1, sizeof(*f));
        f->key = buf_detach(&key, NULL);
        f->next = *b;
        *b = f;
    }
    bool fail = ++f->count <= n;
    pthread_mutex_unlock(&rc->flaky_mu);
    buf_release(&key);
    return fail;
}

/* ---- signature check (API.md 6) --------------------------------------- */

static int secret_decode(const char *s, struct secret *out)
{
    if (!strncmp(s, "whsec_", 6))
        s += 6;
    size_t n = strlen(s), olen = 0;
    out->key = xmalloc(n + 1);
    if (mbedtls_base64_decode(out->key, n + 1, &olen, (const unsigned char *)s, n) || !olen) {
        free(out->key);
        return -1;
    }
    out->len = olen;
    return 0;
}

static void hmac_sha256(const struct secret *k, const char *id, const char *ts,
                        const struct buf *body, unsigned char mac[32])
{
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    mbedtls_md_hmac_starts(&md, k->key, k->len);
    mbedtls_md_hmac_update(&md, (const unsigned char *)id, strlen(id));
    mbedtls_md_hmac_update(&md, (const unsigned char *)".", 1);
    mbedtls_md_hmac_update(&md, (const unsigned char *)ts, strlen(ts));
    mbedtls_md_hmac_update(&md, (const unsigned char *)".", 1);
    mbedtls_md_hmac_update(&md, (const unsigned char *)body->data, body->len);
    mbedtls_md_hmac_finish(&md, mac);
    mbedtls_md_free(&md);
}

static bool same32(const unsigned char *a, const unsigned char *b)
{
    unsigned char d = 0;
    for (int i = 0; i < 32; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

/* Does any "v1,<b64>" entry of sig match mac? */
static bool sig_matches(const char *sig, const unsigned char mac[32])
{
    bool ok = false;
    char *copy = xstrdup(sig), *save = NULL;
    for (char *e = strtok_r(copy, " ", &save); e; e = strtok_r(NULL, " ", &save)) {
        unsigned char got[48];
        size_t olen = 0;
        if (strncmp(e, "v1,", 3))
            continue;
        if (mbedtls_base64_decode(got, sizeof(got), &olen, (const unsigned char *)e + 3,
                                  strlen(e + 3)) || olen != 32)
            continue;
        ok |= same32(got, mac);
    }
    free(copy);
    return ok;
}

static bool verify(const struct receiver *rc, const char *id, const char *ts, const char *sig,
                   const struct buf *body)
{
    long long t;
    if (!id || !ts || !sig || !num_arg(ts, 0, LLONG_MAX, &t))
        return false;
    long long now = (long long)time(NULL);
    if (t < now - TOLERANCE_S || t > now + TOLERANCE_S)
        return false;
    bool ok = false;
    for (size_t i = 0; i < rc->nsecrets; i++) {
        unsigned char mac[32];
        hmac_sha256(&rc->secrets[i], id, ts, body, mac);
        ok |= sig_matches(sig, mac);
    }
    return ok;
}

/* ---- the log ------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t k = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (!k || k > n || (s[0] >= 0xf0 && k != 4))
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)
        || (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return k;
}

/* A JSON string; invalid UTF-8 bytes become U+FFFD so the line stays JSON. */
static void json_strn(struct buf *b, const char *s, size_t n)
{
    if (!s) {
        buf_adds(b, "null");
        return;
    }
    buf_addc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k;
        if (c == '"' || c == '\\') {
            buf_addc(b, '\\');
            buf_addc(b, (char)c);
        } else if (c == '\n') {
            buf_adds(b, "\\n");
        } else if (c < 0x20) {
            buf_addf(b, "\\u%04x", c);
        } else if (c < 0x80) {
            buf_addc(b, (char)c);
        } else if ((k = utf8_len((const unsigned char *)s + i, n - i))) {
            buf_add(b, s + i, k);
            i += k;
            continue;
        } else {
            buf_adds(b, "\\ufffd");
        }
        i++;
    }
    buf_addc(b, '"');
}

static void json_str(struct buf *b, const char *s)
{
    json_strn(b, s, s ? strlen(s) : 0);
}

static void json_field(struct buf *b, const char *name, const char *value)
{
    buf_addf(b, ",\"%s\":", name);
    json_str(b, value);
}

/* Headers the log reports elsewhere or that every client sends. */
static bool header_standard(const char *k)
{
    static const char *const std[] = {
        "host", "content-length", "content-type", "user-agent", "accept", "accept-encoding",
        "connection", "expect", "transfer-encoding", "keep-alive", "te",
        "webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", NULL,
    };
    for (int i = 0; std[i]; i++)
        if (!strcasecmp(k, std[i]))
            return true;
    return false;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct buf *b = cls;
    if (header_standard(key))
        return MHD_YES;
    char *lower = xstrdup(key);
    for (char *p = lower; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    buf_adds(b, b->data[b->len - 1] == '{' ? "" : ",");
    json_str(b, lower);
    buf_addc(b, ':');
    json_str(b, value ? value : "");
    free(lower);
    return MHD_YES;
}

/* arrival - sent_ms when the body is JSON with a numeric top-level sent_ms. */
static void add_latency(struct buf *b, const struct req *r)
{
    json_t *j = NULL, *v;
    if (memmem(r->body.data, r->body.len, "\"sent_ms\"", 9))
        j = json_loadb(r->body.data, r->body.len, 0, NULL);
    if (j && (v = json_object_get(j, "sent_ms")) && json_is_number(v))
        buf_addf(b, ",\"lat_ms\":%.3f", r->t_ms - json_number_value(v));
    else
        buf_adds(b, ",\"lat_ms\":null");
    json_decref(j);
}

static const char *hdr(const struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static void log_full(struct buf *b, const struct req *r)
{
    json_field(b, "method", r->method);
    json_field(b, "ts", hdr(r, "webhook-timestamp"));
    json_field(b, "sig", hdr(r, "webhook-signature"));
    json_field(b, "ua", hdr(r, "user-agent"));
    json_field(b, "ct", hdr(r, "content-type"));
    json_field(b, "svix_id", hdr(r, "svix-id"));
    buf_adds(b, ",\"headers\":{");
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_header, b);
    buf_adds(b, "},\"body\":");
    json_strn(b, r->body.data, r->body.len < LOG_BODY_MAX ? r->body.len : LOG_BODY_MAX);
    buf_addf(b, ",\"len\":%zu", r->body.len);
}

static void log_request(struct receiver *rc, const struct req *r, const char *url, int verified)
{
    if (!rc->log)
        return;
    struct buf b = BUF_INIT;
    buf_addf(&b, "{\"t\":%.3f", r->t_ms);
    json_field(&b, "path", url);
    json_field(&b, "id", hdr(r, "webhook-id"));
    buf_addf(&b, ",\"verified\":%s",
             verified < 0 ? "null" : verified ? "true" : "false");
    if (r->status)
        buf_addf(&b, ",\"status\":%d", r->status);
    else
        buf_adds(&b, ",\"status\":null");
    add_latency(&b, r);
    if (!rc->quiet)
        log_full(&b, r);
    buf_adds(&b, "}\n");
    pthread_mutex_lock(&rc->log_mu);
    fwrite(b.data, 1, b.len, rc->log);
    fflush(rc->log);
    pthread_mutex_unlock(&rc->log_mu);
    buf_release(&b);
}

/* ---- answering ---------------------------------------------------------- */

static ssize_t big_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    memset(out, 'x', max);
    return (ssize_t)max;
}

/* One byte at a time, spread evenly over slow_ms; suspends in between. */
static ssize_t slow_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    struct req *r = cls;
    const uint64_t n = sizeof(SLOW_BODY) - 1;
    if (pos >= n)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (r->abort)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    int64_t now = clock_mono_us();
    if (!r->slow_start_us)
        r->slow_start_us = now;
    int64_t due = r->slow_start_us + (int64_t)pos * r->spec.slow_ms * 1000 / (int64_t)(n - 1);
    if (now < due)
        return suspend_until(r, due) ? MHD_CONTENT_READER_END_WITH_ERROR : 0;
    out[0] = SLOW_BODY[pos];
    return 1;
}

/* The bytes of the request body's "hex" string; an empty body when it has none. */
static struct MHD_Response *hex_response(const struct req *r)
{
    json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    const char *hex = json_string_value(json_object_get(j, "hex"));
    size_t n = hex ? strlen(hex) / 2 : 0;
    unsigned char *out = xcalloc(n + 1, 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    json_decref(j);
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, out, MHD_RESPMEM_MUST_COPY);
    free(out);
    return resp;
}

static struct MHD_Response *make_response(struct req *r)
{
    static const char fail[] = "{\"ok\":false}";
    if (r->spec.big >= 0)
        return MHD_create_response_from_callback((uint64_t)r->spec.big, 64 * 1024, big_reader,
                                                 NULL, NULL);
    if (r->spec.slow_ms >= 0)
        return MHD_create_response_from_callback(sizeof(SLOW_BODY) - 1, 1024, slow_reader, r,
                                                 NULL);
    if (r->spec.hexbody)
        return hex_response(r);
    if (r->spec.echo) {
        struct buf b = BUF_INIT;
        buf_adds(&b, "{\"echo\":true");
        json_field(&b, "id", hdr(r, "webhook-id"));
        log_full(&b, r);
        buf_adds(&b, "}");
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
        buf_release(&b);
        return resp;
    }
    bool ok = r->status >= 200 && r->status < 300;
    return MHD_create_response_from_buffer(ok ? sizeof(OK_BODY) - 1 : sizeof(fail) - 1,
                                           (void *)(ok ? OK_BODY : fail),
                                           MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result answer(struct req *r)
{
    if (r->abort)
        return MHD_NO;
    struct MHD_Response *resp = make_response(r);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (r->spec.retry_after >= 0) {
        char v[24];
        snprintf(v, sizeof(v), "%ld", r->spec.retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    for (long i = 1; r->spec.extra_headers >= 0 && i <= r->spec.extra_headers + 2; i++) {
        char k[32], v[32];
        snprintf(k, sizeof(k), "X-Test-%ld", i - 2);
        snprintf(v, sizeof(v), "value-%ld", i - 2);
        MHD_add_response_header(resp, i == 1 ? "Set-Cookie" : i == 2 ? "Authorization" : k,
                                i <= 2 ? (i == 1 ? "session=s3cr3t" : "Bearer s3cr3t") : v);
    }
    if (r->spec.redirect) {
        const char *host = hdr(r, "host");
        struct buf loc = BUF_INIT;
        buf_addf(&loc, "http://%s/redirect-landed", host ? host : "127.0.0.1");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc.data);
        buf_release(&loc);
    }
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->phase = PH_SENT;
    return ret;
}

static int check_signature(struct receiver *rc, struct req *r)
{
    if (!rc->nsecrets)
        return -1;
    const char *id = hdr(r, "webhook-id"), *ts, *sig;
    if (id) {
        ts = hdr(r, "webhook-timestamp");
        sig = hdr(r, "webhook-signature");
    } else {
        id = hdr(r, "svix-id");
        ts = hdr(r, "svix-timestamp");
        sig = hdr(r, "svix-signature");
    }
    return verify(rc, id, ts, sig, &r->body);
}

/* The body is complete: decide, record, then answer, wait or hang. */
static enum MHD_Result request_complete(struct receiver *rc, struct req *r, const char *url)
{
    if (!r->body.data)
        buf_add(&r->body, "", 0);
    spec_parse(&r->spec, url);
    r->status = r->spec.status;
    if (r->spec.flaky >= 0) {
        const char *id = hdr(r, "webhook-id");
        if (flaky_fails(rc, id ? id : hdr(r, "svix-id"), url, r->spec.flaky))
            r->status = 500;
    }
    if (r->spec.hang || r->spec.reset)
        r->status = 0;
    log_request(rc, r, url, check_signature(rc, r));
    if (r->spec.reset)
        return MHD_NO;
    if (r->spec.hang) {
        r->phase = PH_HANG;
        r->fd = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD)->connect_fd;
        return suspend_until(r, clock_mono_us() + HANG_CHECK_US) ? MHD_NO : MHD_YES;
    }
    if (r->spec.delay_ms > 0) {
        r->phase = PH_DELAY;
        return suspend_until(r, clock_mono_us() + r->spec.delay_ms * 1000) ? MHD_NO : MHD_YES;
    }
    return answer(r);
}

static struct req *req_new(struct receiver *rc, struct MHD_Connection *c, const char *method)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct req *r = xcalloc(1, sizeof(*r));
    r->rc = rc;
    r->conn = c;
    r->method = method;
    r->phase = PH_BODY;
    r->fd = -1;
    r->t_ms = (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
    buf_init(&r->body);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct receiver *rc = cls;
    struct req *r = *con_cls;
    if (!r) {
        *con_cls = req_new(rc, c, method);
        return MHD_YES;
    }
    if (r->phase == PH_BODY && *upload_size) {
        if (r->body.len + *upload_size > BODY_MAX)
            return MHD_NO;
        buf_add(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->phase == PH_BODY)
        return request_complete(rc, r, url);
    if (r->phase == PH_DELAY)
        return answer(r);
    return MHD_NO;   /* PH_HANG resumed: the client left or we are stopping */
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;
    if (!r)
        return;
    buf_release(&r->body);
    free(r);
    *con_cls = NULL;
}

/* ---- start-up ----------------------------------------------------------- */

struct args {
    const char *listen;
    const char *log;
    bool quiet;
    unsigned threads;
    const char **secrets;
    size_t nsecrets;
    const char *tls_cert, *tls_key;
};

static void usage(void)
{
    fprintf(stderr, "usage: receiver --listen HOST:PORT [--log FILE] [--quiet-log] "
                    "[--secret whsec_...]... [--threads N] "
                    "[--tls-cert FILE --tls-key FILE]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "log", required_argument, NULL, 'o' },
        { "secret", required_argument, NULL, 's' },
        { "quiet-log", no_argument, NULL, 'q' },
        { "threads", required_argument, NULL, 't' },
        { "tls-cert", required_argument, NULL, 'c' },
        { "tls-key", required_argument, NULL, 'k' },
        { NULL, 0, NULL, 0 },
    };
    long long n;
    int c;
    *a = (struct args){ .listen = "127.0.0.1:0", .threads = 4 };
    a->secrets = xcalloc((size_t)argc, sizeof(*a->secrets));
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'l')
            a->listen = optarg;
        else if (c == 'o')
            a->log = optarg;
        else if (c == 's')
            a->secrets[a->nsecrets++] = optarg;
        else if (c == 'q')
            a->quiet = true;
        else if (c == 't' && num_arg(optarg, 1, 256, &n))
            a->threads = (unsigned)n;
        else if (c == 'c')
            a->tls_cert = optarg;
        else if (c == 'k')
            a->tls_key = optarg;
        else
            usage();
    }
    if (optind != argc || !a->tls_cert != !a->tls_key)
        usage();
}

/* "HOST:PORT" or "[V6]:PORT". */
static int parse_listen(const char *spec, struct sockaddr_storage *ss)
{
    char host[128];
    long long port;
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof(host) || !num_arg(colon + 1, 0, 65535, &port))
        return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    memset(ss, 0, sizeof(*ss));
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1 ? 0 : -1;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1",
                     &a4->sin_addr) == 1 ? 0 : -1;
}

/* Tests hold 10,000+ connections; take every descriptor we may. */
static rlim_t raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return 1024;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl))
        getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

/* MHD's own errors, minus those every /reset, abandoned /hang and stop cause. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (strstr(msg, "Application reported internal error")
        || strstr(msg, "application reported error generating data"))
        return;
    fprintf(stderr, "receiver: %s", msg);
}

/* A whole PEM file, NUL-terminated, or NULL (said). */
static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "r");
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    if (!f) {
        fprintf(stderr, "receiver: cannot read '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    buf_add(&b, "", 0);
    return buf_detach(&b, NULL);
}

static int start_daemon(struct receiver *rc, const struct args *a)
{
    struct sockaddr_storage ss;
    if (parse_listen(a->listen, &ss)) {
        fprintf(stderr, "receiver: bad listen address '%s' (want HOST:PORT)\n", a->listen);
        return -1;
    }
    rlim_t nofile = raise_nofile();
    unsigned limit = nofile > UINT_MAX ? UINT_MAX - 64 : nofile > 128 ? (unsigned)nofile - 64 : 64;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME
                     | MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem tls[] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, NULL },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    if (a->tls_cert) {
        if (!(rc->tls_cert = read_pem(a->tls_cert)) || !(rc->tls_key = read_pem(a->tls_key)))
            return -1;
        tls[0].ptr_value = rc->tls_cert;
        tls[1].ptr_value = rc->tls_key;
        flags |= MHD_USE_TLS;
    }
    rc->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, rc,
                             MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, rc,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                             MHD_OPTION_THREAD_POOL_SIZE, a->threads,
                             MHD_OPTION_CONNECTION_LIMIT, limit,
                             MHD_OPTION_CONNECTION_TIMEOUT, 600u,
                             MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, rc,
                             MHD_OPTION_ARRAY, a->tls_cert ? tls : tls + 2,
                             MHD_OPTION_END);
    if (!rc->d) {
        fprintf(stderr, "receiver: cannot listen on '%s'\n", a->listen);
        return -1;
    }
    return 0;
}

static int print_port(struct receiver *rc)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(rc->d, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (!di || getsockname(di->listen_fd, (struct sockaddr *)&ss, &len))
        return -1;
    unsigned port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    printf("%u\n", port);
    return fflush(stdout) ? -1 : 0;
}

static int receiver_init(struct receiver *rc, const struct args *a)
{
    memset(rc, 0, sizeof(*rc));
    pthread_mutex_init(&rc->log_mu, NULL);
    pthread_mutex_init(&rc->flaky_mu, NULL);
    pthread_mutex_init(&rc->tmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rc->tcond, &ca);
    pthread_condattr_destroy(&ca);
    rc->quiet = a->quiet;
    rc->secrets = xcalloc(a->nsecrets + 1, sizeof(*rc->secrets));
    for (; rc->nsecrets < a->nsecrets; rc->nsecrets++) {
        if (secret_decode(a->secrets[rc->nsecrets], &rc->secrets[rc->nsecrets])) {
            fprintf(stderr, "receiver: secret #%zu is not base64 (want whsec_<base64>)\n",
                    rc->nsecrets + 1);
            return -1;
        }
    }
    if (a->log && !(rc->log = fopen(a->log, "a"))) {
        fprintf(stderr, "receiver: cannot open log '%s': %s\n", a->log, strerror(errno));
        return -1;
    }
    return 0;
}

static void receiver_release(struct receiver *rc)
{
    for (size_t i = 0; i < FLAKY_BUCKETS; i++) {
        for (struct flaky *f = rc->flaky[i], *next; f; f = next) {
            next = f->next;
            free(f->key);
            free(f);
        }
    }
    for (size_t i = 0; i < rc->nsecrets; i++)
        free(rc->secrets[i].key);
    free(rc->secrets);
    free(rc->heap);
    free(rc->tls_cert);
    free(rc->tls_key);
    if (rc->log)
        fclose(rc->log);
    pthread_cond_destroy(&rc->tcond);
    pthread_mutex_destroy(&rc->tmu);
    pthread_mutex_destroy(&rc->flaky_mu);
    pthread_mutex_destroy(&rc->log_mu);
}

/*
 * The timer thread resumes every suspended connection as it exits, and no
 * handler suspends once stopping is set, so MHD_stop_daemon() afterwards
 * finds none suspended (it aborts if it does).
 */
static void timer_stop(struct receiver *rc)
{
    pthread_mutex_lock(&rc->tmu);
    rc->stopping = true;
    pthread_cond_signal(&rc->tcond);
    pthread_mutex_unlock(&rc->tmu);
    pthread_join(rc->timer, NULL);
}

int main(int argc, char **argv)
{
    struct args a;
    struct receiver rc;
    sigset_t stop;
    int sig, rcode = 1;

    parse_args(argc, argv, &a);
    signal(SIGPIPE, SIG_IGN);
    /* Blocked before any thread starts, so only sigwait() below sees them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if (receiver_init(&rc, &a))
        goto out_release;
    if (pthread_create(&rc.timer, NULL, timer_main, &rc))
        goto out_release;
    if (start_daemon(&rc, &a))
        goto out_timer;
    if (print_port(&rc))
        goto out_stop;
    sigwait(&stop, &sig);
    rcode = 0;
out_stop:
    timer_stop(&rc);
    MHD_stop_daemon(rc.d);
    goto out_release;
out_timer:
    timer_stop(&rc);
out_release:
    receiver_release(&rc);
    free(a.secrets);
    return rcode;
}
