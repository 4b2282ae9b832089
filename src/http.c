/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - libmicrohttpd glue.
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers, once per body chunk, once with no data when the body
 * is complete, and again after a suspended connection is resumed. The
 * request's phase field says which of those we are in. Limits, framing
 * and admit() (route, method, token) are checked on the first call,
 * before any body is read, so a refused request costs nothing but its
 * headers, and the body then has a deadline of its own (conntimer.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clock.h"
#include "conntimer.h"
#include "err.h"
#include "http.h"
#include "id.h"
#include "log.h"
#include "mem.h"
#include "stats.h"
#include "store.h"

enum { PH_LINE, PH_BODY, PH_SUSPENDED, PH_DONE };

struct http_server {
    struct MHD_Daemon *d;
    struct http_opts o;
    struct writer *writer;
    http_dispatch_fn dispatch;
    void *ctx;
    atomic_int log_requests;      /* http_set_log_requests (SIGHUP) */
    atomic_ulong next_req;        /* request ids for requests that bring none */
    char req_prefix[16];          /* random per start, so ids differ across restarts */
    struct conntimer *timer;      /* waiting and header deadlines */
    pthread_mutex_t log_lock;     /* guards log_seen */
    struct mhd_log_seen {         /* recent libmicrohttpd messages, for on_mhd_log */
        char text[160];
        int64_t since_ms;
        unsigned long quiet;      /* repeats not logged since since_ms */
    } log_seen[8];
};

/* A request without a connection (http_detached_new) keeps its own copies. */
struct http_detached {
    struct http_server srv;   /* only ctx (and writer, for http_detached_run) is set */
    char *method;
    http_done_fn done;        /* http_detached_run: called once the answer is set */
    void *done_arg;
    atomic_int refs;          /* the dispatch's return and the completion: the last calls done */
    char **args;              /* name, value pairs (value NULL for "?a"); NULL ends */
    char **headers;           /* name, value pairs; NULL ends */
};

void http_reply(struct http_req *r, int status, char *body, size_t len)
{
    if (!r->resp_borrowed)
        free(r->resp);
    r->status = status;
    r->resp = body;
    r->resp_len = len;
    r->resp_borrowed = 0;
}

void http_reply_borrowed(struct http_req *r, int status, const char *body, size_t len)
{
    http_reply(r, status, (char *)body, len);
    r->resp_borrowed = 1;
}

void http_reply_json(struct http_req *r, int status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    r->content_type = NULL;
    if (!s)
        s = xstrdup("{}");
    http_reply(r, status, s, strlen(s));
}

void http_error(struct http_req *r, int status, const char *code, const char *detail)
{
    http_reply_json(r, status, json_pack("{s:s, s:s}", "code", code, "detail", detail));
}

void http_errorf(struct http_req *r, int status, const char *code, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    http_error(r, status, code, b.data ? b.data : "");
    buf_release(&b);
}

void http_verror(struct http_req *r, const char *loc, const char *type, const char *msg)
{
    json_t *l = json_array();
    char *copy = xstrdup(loc), *save = NULL;
    for (char *p = strtok_r(copy, ".", &save); p; p = strtok_r(NULL, ".", &save))
        json_array_append_new(l, json_string(p));
    free(copy);
    json_t *item = json_pack("{s:o, s:s, s:s}", "loc", l, "msg", msg, "type", type);
    http_reply_json(r, 422, json_pack("{s:[o]}", "detail", item));
}

void *http_ctx(struct http_req *r)
{
    return r->ctx ? r->ctx : r->srv->ctx;
}

static const char *detached_get(char **kv, const char *name);
static void detached_each(char **kv, const char *name,
                          void (*fn)(const char *value, void *arg), void *arg);

const char *http_query(struct http_req *r, const char *name)
{
    if (r->detached)
        return detached_get(r->detached->args, name);
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_each {
    const char *name;
    void (*fn)(const char *value, void *arg);
    void *arg;
};

/*
 * Lists come as name=a,b, as name=a&name=b, and in the bracket forms the
 * Svix server also takes (its query parser): name[]=a and name[0]=a.
 */
static int query_key_is(const char *key, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(key, name, n) != 0)
        return 0;
    key += n;
    if (*key == '\0')
        return 1;
    if (*key++ != '[')
        return 0;
    while (*key >= '0' && *key <= '9')
        key++;
    return key[0] == ']' && key[1] == '\0';
}

static enum MHD_Result query_each_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct query_each *q = cls;
    if (value && query_key_is(key, q->name))
        q->fn(value, q->arg);
    return MHD_YES;
}

void http_query_each(struct http_req *r, const char *name,
                     void (*fn)(const char *value, void *arg), void *arg)
{
    struct query_each q = { name, fn, arg };
    if (r->detached) {
        detached_each(r->detached->args, name, fn, arg);
        return;
    }
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_each_cb, &q);
}

const char *http_header(struct http_req *r, const char *name)
{
    if (r->detached)
        return detached_get(r->detached->headers, name);
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Collapse "//", drop a trailing "/" (API.md 2.1: the 1.x SDK sends "//api"). */
static char *normalise_path(const char *url)
{
    size_t n = strlen(url);
    char *p = xmalloc(n + 2), *o = p;
    for (const char *s = url; *s; s++) {
        if (*s == '/' && o > p && o[-1] == '/')
            continue;
        *o++ = *s;
    }
    if (o > p + 1 && o[-1] == '/')
        o--;
    if (o == p)
        *o++ = '/';
    *o = '\0';
    return p;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    struct buf *b = cls;
    buf_addc(b, b->len && strchr(b->data, '?') ? '&' : '?');
    buf_adds(b, key);
    if (value) {
        buf_addc(b, '=');
        buf_adds(b, value);
    }
    return MHD_YES;
}

static enum MHD_Result count_hdr(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (*(int *)cls)++;
    return MHD_YES;
}

static unsigned hexval(char h)
{
    return isdigit((unsigned char)h) ? (unsigned)(h - '0')
                                     : (unsigned)(tolower((unsigned char)h) - 'a' + 10);
}

/*
 * The path as libmicrohttpd would decode it, but segment by segment from
 * the bytes sent: a segment whose escapes decode to '/' ("a%2Fb" would
 * become two segments and route elsewhere) or to a control byte ("%00"
 * would cut the path short) is refused, and *bad points at it (its length
 * in *badlen). Malformed escapes stay as they are, as libmicrohttpd
 * leaves them. The result is not yet normalised.
 */
static int path_decode(const char *raw, struct buf *out, const char **bad, size_t *badlen)
{
    const char *seg = raw;
    for (const char *p = raw; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/') {
            buf_addc(out, '/');
            seg = p + 1;
            continue;
        }
        if (c == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            c = (unsigned char)(hexval(p[1]) << 4 | hexval(p[2]));
            p += 2;
            if (c == '/')
                c = 0;   /* refused below, like a control byte */
        }
        if (c < 0x20 || c == 0x7f) {
            *bad = seg;
            *badlen = strcspn(seg, "/");
            return -1;
        }
        buf_addc(out, (char)c);
    }
    if (!out->data)
        buf_add(out, "", 0);
    return 0;
}

/*
 * r->path from the path as sent (r->raw_path), or from libmicrohttpd's url
 * when that is the same (no '%' was sent, so nothing was decoded).
 */
static void req_set_path(struct http_req *r, const char *url)
{
    struct buf d = BUF_INIT;
    const char *bad = NULL;
    size_t badlen = 0;
    if (path_decode(r->raw_path ? r->raw_path : url, &d, &bad, &badlen) == 0) {
        r->path = normalise_path(d.data);
    } else {
        r->path = normalise_path(url);
        http_errorf(r, 400, "invalid_path",
                    "path segment '%.*s' decodes to '/' or a control character; ids, uids "
                    "and names never contain them", (int)(badlen > 80 ? 80 : badlen), bad);
    }
    buf_release(&d);
}

/* A request is made when its request line arrives (on_request_line). */
static struct http_req *req_alloc(struct http_server *s)
{
    struct http_req *r = xcalloc(1, sizeof(*r));
    r->srv = s;
    r->started_us = clock_mono_us();
    return r;
}

/* ... and completed once libmicrohttpd has parsed its headers. */
static void req_fill(struct http_req *r, struct MHD_Connection *c, const char *url,
                     const char *method)
{
    r->conn = c;
    r->method = method;
    req_set_path(r, url);
    struct buf u = BUF_INIT;
    buf_adds(&u, r->path);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &u);
    r->uri = buf_detach(&u, NULL);
}

static void req_free(struct http_req *r)
{
    if (r->data_free && r->data)
        r->data_free(r->data);
    entry_free(&r->intent.entry);   /* set when the writer never took it */
    buf_release(&r->body);
    free(r->raw_path);
    free(r->path);
    free(r->uri);
    for (int k = 0; k < HTTP_MAX_PARAMS; k++)
        free(r->params[k]);
    if (!r->resp_borrowed)
        free(r->resp);
    free(r);
}

/* "ADDR:PORT" of the client, or "-" when libmicrohttpd does not say. */
static void client_addr(struct http_req *r, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    char host[INET6_ADDRSTRLEN] = "-";
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, ntohs(a->sin_port));
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        snprintf(out, cap, "-");
    }
}

/*
 * The access log line. Only the path (ids, never a token: tokens travel in
 * the Authorization header, which is never logged) and the client's own
 * svix-req-id, cut short, come from the request.
 */
/*
 * The console polls a handful of reads every second or two; at info they
 * would drown the operator's own calls, so its reads go to debug. Its
 * writes (replay, pause) and everything else stay at info.
 */
static enum log_level request_level(struct http_req *r)
{
    const char *ua = http_header(r, MHD_HTTP_HEADER_USER_AGENT);
    int read = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    return read && ua && strncmp(ua, "hookd-console/", 14) == 0 ? LOG_DEBUG : LOG_INFO;
}

static void log_request(struct http_req *r, enum log_level level)
{
    struct http_server *s = r->srv;
    char status[8], dur[24], id[72], addr[INET6_ADDRSTRLEN + 10];
    const char *given = http_header(r, "svix-req-id");
    if (given && *given)
        snprintf(id, sizeof(id), "%.64s", given);
    else
        snprintf(id, sizeof(id), "%s-%lu", s->req_prefix,
                 atomic_fetch_add_explicit(&s->next_req, 1, memory_order_relaxed));
    snprintf(status, sizeof(status), "%d", r->status);
    snprintf(dur, sizeof(dur), "%lld", (long long)(clock_mono_us() - r->started_us));
    client_addr(r, addr, sizeof(addr));
    log_kv(level, "request", "method", r->method, "route", stats_route_name[r->route_class],
             "path", r->path, "status", status, "duration_us", dur, "request_id", id,
             "remote", addr, NULL);
}

void http_set_log_requests(struct http_server *s, int on)
{
    atomic_store(&s->log_requests, on);
}

static enum MHD_Result send_reply(struct http_req *r)
{
    if (!r->status)
        http_error(r, 500, "internal_error", "no response was produced");
    /* a borrowed body lives in r->data, which outlives the response (on_completed) */
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->resp_len, r->resp, r->resp_borrowed ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
    r->resp = NULL;
    r->resp_borrowed = 0;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "application/json");
    if (r->retry_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, r->retry_after);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    if (r->srv->o.stats)
        stats_http(r->srv->o.stats, (enum stats_route)r->route_class, r->status);
    if (atomic_load_explicit(&r->srv->log_requests, memory_order_relaxed)) {
        enum log_level level = request_level(r);
        if (log_enabled(level))
            log_request(r, level);
    }
    MHD_destroy_response(resp);
    r->phase = PH_DONE;
    return ret;
}

/* First call: URL, header and declared body limits. 0 when all pass. */
static int check_limits(struct http_req *r, const char *url)
{
    const struct http_opts *o = &r->srv->o;
    if (strlen(url) > (size_t)o->max_url) {
        http_errorf(r, 414, "uri_too_long", "request URI is longer than %d bytes", o->max_url);
        return -1;
    }
    int n = 0;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_hdr, &n);
    if (n > o->max_headers) {
        http_errorf(r, 431, "too_many_headers", "request has %d headers; the limit is %d",
                    n, o->max_headers);
        return -1;
    }
    const char *cl = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoll(cl, NULL, 10) > o->max_body) {
        http_errorf(r, 413, "payload_too_large", "request body is larger than %lld bytes",
                    (long long)o->max_body);
        return -1;
    }
    return 0;
}

/*
 * The framing headers, tallied for check_framing. libmicrohttpd 0.9.75
 * frames a body by the first Transfer-Encoding header, else by the first
 * Content-Length, and ignores the others; a proxy in front may pick
 * another one, and the rest of the body would then run as a second
 * request (smuggling).
 */
struct framing {
    int n_cl, n_te;
    const char *cl, *te;
    const char *bad_name;     /* a header name that is not an RFC 9110 token */
};

static int is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static enum MHD_Result tally_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;
    for (const char *k = key; *k && !f->bad_name; k++)
        if (!is_tchar((unsigned char)*k))
            f->bad_name = key;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->n_cl++;
        f->cl = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->n_te++;
        f->te = value;
    }
    return MHD_YES;
}

/*
 * First call: a body framed one way only (RFC 9112 6.3), else 400. Sets
 * *body when the request announces one. libmicrohttpd itself has already
 * answered a first Content-Length that is not plain digits (its HTML 400).
 */
static int check_framing(struct http_req *r, const char *version, int *body)
{
    struct framing f = { 0 };
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, tally_framing, &f);
    const char *why = NULL;
    if (f.bad_name)
        why = "a header name has a character a name cannot have (whitespace before the colon?)";
    else if (f.n_cl > 1)
        why = "more than one Content-Length header; send exactly one";
    else if (f.n_te > 1)
        why = "more than one Transfer-Encoding header; send one, 'chunked'";
    else if (f.n_cl && f.n_te)
        why = "both Content-Length and Transfer-Encoding; send one of them";
    else if (f.te && strcasecmp(f.te, "chunked") != 0)
        why = "Transfer-Encoding other than 'chunked'; only 'chunked' is supported";
    else if (f.te && version && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
        why = "Transfer-Encoding in an HTTP/1.0 request";
    else if (f.cl && (!*f.cl || f.cl[strspn(f.cl, "0123456789")]))
        why = "Content-Length is not a decimal number";
    if (why) {
        http_errorf(r, 400, "bad_framing", "request framing is ambiguous: %s", why);
        return -1;
    }
    *body = f.te || (f.cl && strtoll(f.cl, NULL, 10) > 0);
    return 0;
}

static int apply_trampoline(struct intent *in, struct store_txn *txn)
{
    struct http_req *r = (struct http_req *)((char *)in - offsetof(struct http_req, intent));
    return r->apply(r, txn);
}

static void done_trampoline(struct intent *in, int status)
{
    struct http_req *r = (struct http_req *)((char *)in - offsetof(struct http_req, intent));
    int ok_reply = r->status >= 200 && r->status < 300;
    if (status && (ok_reply || !r->status)) {
        if (status == HOOKD_EFULL) {
            http_error(r, 507, "insufficient_storage",
                       "the store is full; retention or a larger --map-size frees space");
            log_error("store full", "path", r->path, NULL);
        } else if (status == HOOKD_EUNAVAIL) {
            /* the cluster's log took nothing of the batch (clog.h): safe to retry */
            http_error(r, 503, "cluster_unavailable",
                       "the cluster's log is unavailable (no quorum or no leader); retry shortly");
            r->retry_after = "2";
        } else {
            http_errorf(r, 500, "internal_error", "write failed: %s", hookd_strerror(status));
            log_error("write failed", "path", r->path, "error", hookd_strerror(status), NULL);
        }
    }
    if (!status && ok_reply && r->on_commit)
        r->on_commit(r);
    http_resume(r);
}

/* A detached request's answer is set: done() once dispatch has returned too. */
static void detached_finish(struct http_req *r)
{
    struct http_detached *d = r->detached;
    if (atomic_fetch_sub(&d->refs, 1) == 1)
        d->done(r, d->done_arg);
}

void http_suspend(struct http_req *r, void *data, void (*data_free)(void *))
{
    r->data = data;
    r->data_free = data_free;
    r->phase = PH_SUSPENDED;
    if (!r->detached)
        MHD_suspend_connection(r->conn);
}

void http_resume(struct http_req *r)
{
    if (r->detached)
        detached_finish(r);
    else
        MHD_resume_connection(r->conn);
}

/* Count r in or out of the requests waiting for the log (stats_http_waiting). */
static void set_waiting(struct http_req *r, int on)
{
    if (r->waiting == on)
        return;
    r->waiting = on;
    if (r->srv->o.stats)
        stats_http_waiting(r->srv->o.stats, on ? 1 : -1);
}

void http_submit(struct http_req *r, http_apply_fn apply, void *data, void (*data_free)(void *))
{
    r->apply = apply;
    r->data = data;
    r->data_free = data_free;
    r->intent.apply = apply_trampoline;
    r->intent.done = done_trampoline;
    r->phase = PH_SUSPENDED;
    if (r->detached && !r->detached->done)
        return;
    set_waiting(r, 1);
    if (!r->detached)
        MHD_suspend_connection(r->conn);
    if (writer_submit(r->writer ? r->writer : r->srv->writer, &r->intent)) {
        http_error(r, 503, "shutting_down", "hookd is shutting down; retry shortly");
        r->retry_after = "5";
        http_resume(r);
    }
}

/* The connection's deadlines (conntimer.h), kept as its socket context. */
static struct conntimer_conn *conn_timer(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? conntimer_open(s->timer, ci->connect_fd) : NULL;
        if (s->o.stats)
            stats_http_conn(s->o.stats, 1);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conntimer_close(s->timer, *socket_context);   /* before libmicrohttpd closes the fd */
        *socket_context = NULL;
        if (s->o.stats)
            stats_http_conn(s->o.stats, -1);
    }
}

/*
 * libmicrohttpd keeps a 56-byte record in the connection's pool for each
 * query argument. A few hundred short ones exhaust it, and 0.9.75 then
 * neither answers nor closes: the client waits for the header deadline.
 * So on_request_line counts them before libmicrohttpd parses them, and
 * when there are too many, or the whole URI is over --max-url, it cuts
 * the query off in place (the line is the connection's own buffer, cut
 * only after the '?' libmicrohttpd has already found) and marks the
 * request, which then gets a JSON 414 once its headers are in.
 *
 * It also keeps the path as sent when it has escapes: libmicrohttpd hands
 * on_request a path already decoded, where "a%2Fb" has become two
 * segments and "a%00b" has lost its end (req_set_path).
 */
#define HTTP_MAX_QUERY_ARGS 100
enum { REFUSED_NONE, REFUSED_LONG, REFUSED_ARGS };

static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct http_server *s = cls;
    conntimer_request_line(conn_timer(c));
    struct http_req *r = req_alloc(s);
    char *q = strchr(uri, '?');
    size_t len = strlen(uri), args = 1;
    if (len > (size_t)s->o.max_url) {
        r->refused = REFUSED_LONG;
    } else if (q) {
        for (const char *p = q + 1; *p; p++)
            args += *p == '&';
        if (args > HTTP_MAX_QUERY_ARGS)
            r->refused = REFUSED_ARGS;
    }
    if (r->refused && q)
        q[1] = '\0';
    size_t plen = q ? (size_t)(q - uri) : len;
    if (r->refused != REFUSED_LONG && memchr(uri, '%', plen))
        r->raw_path = xstrndup(uri, plen);
    return r;
}

/*
 * First call, the headers complete and no byte of the body read: every
 * check that needs only the headers, then admit(). A refusal of a request
 * announcing a body is sent now: libmicrohttpd then sends no "100
 * Continue", reads none of the body and closes the connection after the
 * answer. A refusal of a request without a body waits for the last call,
 * which follows at once, so that its connection stays open.
 */
static enum MHD_Result first_call(struct http_server *s, struct http_req *r, const char *url,
                                  const char *version)
{
    int body = 0, framing = 0;
    conntimer_headers_done(conn_timer(r->conn));
    if (r->refused == REFUSED_LONG)
        http_errorf(r, 414, "uri_too_long", "request URI is longer than %d bytes",
                    s->o.max_url);
    else if (r->refused == REFUSED_ARGS)
        http_errorf(r, 414, "uri_too_long", "request has more than %d query arguments",
                    HTTP_MAX_QUERY_ARGS);
    if (check_framing(r, version, &body))
        framing = 1;
    else if (!r->status && body && (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD")))
        /* health needs no token: its body would be the one a stranger could send */
        http_errorf(r, 413, "payload_too_large", "a %s request takes no body", r->method);
    else if (!r->status && !check_limits(r, url) && s->o.admit)
        s->o.admit(s->ctx, r);
    r->phase = PH_BODY;
    if (r->status && (body || framing))
        return send_reply(r);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct http_server *s = cls;
    struct http_req *r = *con_cls;
    if (!r)
        r = *con_cls = req_alloc(s);
    if (r->phase == PH_LINE) {
        req_fill(r, c, url, method);
        return first_call(s, r, url, version);
    }
    if (r->phase == PH_BODY && *upload_size) {
        /* a refused request (a chunked body over the limit) reads on, keeping nothing */
        if (!r->status && r->body.len + *upload_size > (size_t)s->o.max_body) {
            http_errorf(r, 413, "payload_too_large", "request body is larger than %lld bytes",
                        (long long)s->o.max_body);
            buf_release(&r->body);
        }
        if (!r->status)
            buf_add(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->phase == PH_BODY) {
        conntimer_body_done(conn_timer(c));
        if (r->status)
            return send_reply(r);
        if (!r->body.data)
            buf_add(&r->body, "", 0);
        s->dispatch(s->ctx, r);
        if (r->phase == PH_SUSPENDED)
            return MHD_YES;
        return send_reply(r);
    }
    if (r->phase == PH_SUSPENDED) {
        set_waiting(r, 0);
        return send_reply(r);
    }
    return MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    conntimer_request_done(conn_timer(c));
    if (*con_cls) {
        set_waiting(*con_cls, 0);   /* a connection closed before its answer */
        req_free(*con_cls);
    }
    *con_cls = NULL;
}

/*
 * libmicrohttpd's messages, each text at most once per MHD_LOG_QUIET_MS
 * with the count of repeats held back: a client opening connections past a
 * limit, or many being cut at their deadline, must not flood the log.
 */
#define MHD_LOG_QUIET_MS 10000

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *s = cls;
    struct buf b = BUF_INIT;
    buf_vaddf(&b, fmt, ap);
    while (b.len && (b.data[b.len - 1] == '\n'))
        b.data[--b.len] = '\0';
    const char *text = b.data ? b.data : "";
    int64_t now = clock_mono_ms();
    unsigned long held = 0;
    size_t n = sizeof(s->log_seen) / sizeof(s->log_seen[0]), k = 0;
    pthread_mutex_lock(&s->log_lock);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(s->log_seen[i].text, text, sizeof(s->log_seen[i].text) - 1) == 0) {
            k = i;
            break;
        }
        if (s->log_seen[i].since_ms < s->log_seen[k].since_ms)
            k = i;       /* the oldest, replaced when the text is new */
    }
    struct mhd_log_seen *e = &s->log_seen[k];
    int same = strncmp(e->text, text, sizeof(e->text) - 1) == 0 && e->since_ms;
    if (same && now - e->since_ms < MHD_LOG_QUIET_MS) {
        e->quiet++;
        pthread_mutex_unlock(&s->log_lock);
        buf_release(&b);
        return;
    }
    held = same ? e->quiet : 0;
    snprintf(e->text, sizeof(e->text), "%s", text);
    e->since_ms = now;
    e->quiet = 0;
    pthread_mutex_unlock(&s->log_lock);
    if (held) {
        char rep[24];
        snprintf(rep, sizeof(rep), "%lu", held);
        log_warn("http", "error", text, "repeated", rep, NULL);
    } else {
        log_warn("http", "error", text, NULL);
    }
    buf_release(&b);
}

/* Parse "HOST:PORT" / "[V6]:PORT" into a sockaddr. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host))
        return HOOKD_EINVAL;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    long port = strtol(colon + 1, NULL, 10);
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        size_t hl = strlen(host);
        if (hl < 3 || host[hl - 1] != ']')
            return HOOKD_EINVAL;
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return HOOKD_EINVAL;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *len = sizeof(*a);
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return HOOKD_EINVAL;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    *len = sizeof(*a);
    return 0;
}

static void describe_bound(struct MHD_Daemon *d, const struct sockaddr_storage *ss, char *out,
                           size_t cap)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    char host[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, port);
    } else {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, port);
    }
}

int http_start(struct http_server **out, const struct http_opts *o, struct writer *w,
               http_dispatch_fn dispatch, void *ctx, char *bound, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (parse_listen(o->listen, &ss, &sslen))
        return HOOKD_EINVAL;
    if (o->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return -ENOTSUP;
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->o = *o;
    s->writer = w;
    s->dispatch = dispatch;
    s->ctx = ctx;
    atomic_init(&s->log_requests, o->log_requests);
    atomic_init(&s->next_req, 1);
    uint8_t rnd[4];
    id_random(rnd, sizeof(rnd));
    snprintf(s->req_prefix, sizeof(s->req_prefix), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3]);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME
                     | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* Passed as an array so plain HTTP gives libmicrohttpd no TLS option at all. */
    struct MHD_OptionItem tls[] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key },
        { MHD_OPTION_END, 0, NULL },
    };
    if (o->tls_cert)
        flags |= MHD_USE_TLS;
    /*
     * The pool must hold the request line and headers (up to --max-url and
     * --max-headers) so that our own checks answer 414/431; bodies stream
     * through it in pieces. libmicrohttpd zeroes the whole pool for every
     * request on a kept-alive connection, so each spare KiB costs time.
     */
    size_t mem = (size_t)o->max_url + 16 * 1024;
    /* libmicrohttpd's own timeout measures gaps only (a trickle resets it);
     * the conntimer adds deadlines that bytes do not move */
    int64_t idle_ms = o->idle_timeout_ms > 0 ? o->idle_timeout_ms : 30000;
    int64_t header_ms = o->header_timeout_ms > 0 ? o->header_timeout_ms : 10000;
    int64_t body_ms = o->body_timeout_ms > 0 ? o->body_timeout_ms : 30000;
    unsigned idle_s = (unsigned)((idle_ms + 999) / 1000);
    conntimer_new(&s->timer, idle_ms, header_ms, body_ms);
    pthread_mutex_init(&s->log_lock, NULL);
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads > 0 ? o->threads : 1),
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            (unsigned)o->max_connections_per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_ARRAY, o->tls_cert ? tls : tls + 2,
                            MHD_OPTION_END);
    int e = errno ? -errno : HOOKD_EINVAL;
    if (s->d && (e = conntimer_start(s->timer)) != 0) {
        MHD_stop_daemon(s->d);
        s->d = NULL;
    }
    if (!s->d) {
        conntimer_free(s->timer);
        pthread_mutex_destroy(&s->log_lock);
        free(s);
        return e;
    }
    describe_bound(s->d, &ss, bound, cap);
    *out = s;
    return 0;
}

void http_quiesce(struct http_server *s)
{
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void http_stop(struct http_server *s)
{
    if (!s)
        return;
    conntimer_stop(s->timer);
    MHD_stop_daemon(s->d);      /* closes every connection, each through conntimer_close */
    conntimer_free(s->timer);
    pthread_mutex_destroy(&s->log_lock);
    free(s);
}

/* ---- requests without a connection (tests, fuzzing) ---------------------- */

/* Case-insensitive like libmicrohttpd's lookups; the first match wins. */
static const char *detached_get(char **kv, const char *name)
{
    for (; kv[0]; kv += 2)
        if (strcasecmp(kv[0], name) == 0)
            return kv[1];
    return NULL;
}

static void detached_each(char **kv, const char *name,
                          void (*fn)(const char *value, void *arg), void *arg)
{
    for (; kv[0]; kv += 2)
        if (kv[1] && query_key_is(kv[0], name))
            fn(kv[1], arg);
}

static void kv_push(char ***kv, size_t *n, char *name, char *value)
{
    *kv = xrealloc(*kv, (*n + 3) * sizeof(char *));
    (*kv)[(*n)++] = name;
    (*kv)[(*n)++] = value;
    (*kv)[*n] = NULL;
}

/* "a=1&b&c=%20" into decoded pairs, as libmicrohttpd splits a query. */
static char **split_query(const char *q, struct buf *uri)
{
    char **kv = xcalloc(1, sizeof(char *));
    size_t n = 0;
    while (q && *q) {
        size_t len = strcspn(q, "&");
        char *name = xstrndup(q, len), *eq = strchr(name, '=');
        char *value = eq ? xstrdup(eq + 1) : NULL;
        if (eq)
            *eq = '\0';
        if (*name || value) {
            MHD_http_unescape(name);
            if (value)
                MHD_http_unescape(value);
            kv_push(&kv, &n, name, value);
            add_arg(uri, MHD_GET_ARGUMENT_KIND, name, value);
        } else {
            free(name);
        }
        q += len + (q[len] == '&');
    }
    return kv;
}

/* "Name: value" lines; lines without a colon are skipped. */
static char **split_headers(const char *h)
{
    char **kv = xcalloc(1, sizeof(char *));
    size_t n = 0;
    while (h && *h) {
        size_t len = strcspn(h, "\n");
        const char *colon = memchr(h, ':', len);
        if (colon) {
            const char *v = colon + 1, *end = h + len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            kv_push(&kv, &n, xstrndup(h, (size_t)(colon - h)), xstrndup(v, (size_t)(end - v)));
        }
        h += len + (h[len] == '\n');
    }
    return kv;
}

/* The request of http_detached_new and http_detached_req: path taken as it is. */
static struct http_req *detached_make(void *ctx, const char *method, const char *path,
                                      const char *query, const char *headers, const void *body,
                                      size_t len)
{
    struct http_req *r = xcalloc(1, sizeof(*r));
    struct http_detached *d = xcalloc(1, sizeof(*d));
    struct buf u = BUF_INIT;
    d->srv.ctx = ctx;
    d->method = xstrdup(method);
    r->detached = d;
    r->srv = &d->srv;
    r->method = d->method;
    r->path = normalise_path(path);
    buf_adds(&u, r->path);
    d->args = split_query(query, &u);
    d->headers = split_headers(headers);
    r->uri = buf_detach(&u, NULL);
    buf_add(&r->body, body ? body : "", body ? len : 0);
    r->started_us = clock_mono_us();
    return r;
}

struct http_req *http_detached_new(void *ctx, const char *method, const char *url,
                                   const char *headers, const void *body, size_t len)
{
    const char *q = strchr(url, '?');
    char *path = q ? xstrndup(url, (size_t)(q - url)) : xstrdup(url);
    struct http_req *r = detached_make(ctx, method, path, q ? q + 1 : NULL, headers, body, len);
    free(path);
    return r;
}

struct http_req *http_detached_req(void *ctx, const char *method, const char *path,
                                   const char *query, const char *headers, const void *body,
                                   size_t len)
{
    return detached_make(ctx, method, path, query, headers, body, len);
}

void http_detached_run(struct http_req *r, struct writer *w, http_dispatch_fn dispatch,
                       http_done_fn done, void *arg)
{
    struct http_detached *d = r->detached;
    d->srv.writer = w;
    d->done = done;
    d->done_arg = arg;
    atomic_init(&d->refs, 2);
    dispatch(d->srv.ctx, r);
    if (r->phase != PH_SUSPENDED)
        done(r, arg);          /* answered at once */
    else
        detached_finish(r);    /* the writer or a resume may have finished it already */
}

/* Percent-encode s for a query string (RFC 3986 unreserved bytes stay). */
static void query_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p)) {
            buf_addc(b, (char)*p);
        } else {
            buf_addc(b, '%');
            buf_addc(b, hex[*p >> 4]);
            buf_addc(b, hex[*p & 15]);
        }
    }
}

static enum MHD_Result add_escaped_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    struct buf *b = cls;
    if (b->len)
        buf_addc(b, '&');
    query_escape(b, key);
    if (value) {
        buf_addc(b, '=');
        query_escape(b, value);
    }
    return MHD_YES;
}

char *http_query_string(struct http_req *r)
{
    struct buf b = BUF_INIT;
    if (r->detached) {
        for (char **kv = r->detached->args; kv[0]; kv += 2)
            add_escaped_arg(&b, MHD_GET_ARGUMENT_KIND, kv[0], kv[1]);
    } else {
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_escaped_arg, &b);
    }
    if (!b.data)
        buf_add(&b, "", 0);
    return buf_detach(&b, NULL);
}

/* A control byte, refused in a path (path_decode) and in a header value. */
static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

int http_forward_refusal(const char *method, const char *path, const char *query,
                         const char *const *values, size_t nvalues, size_t body_len,
                         int max_url, int64_t max_body, const char **code, char *detail,
                         size_t cap)
{
    size_t args = 1;
    *code = "bad_forward";
    if (!method || !path) {
        snprintf(detail, cap, "a forwarded request needs the headers Hookd-Method and "
                 "Hookd-Path");
        return 400;
    }
    size_t mlen = strlen(method);
    if (!mlen || mlen > 16 || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != mlen) {
        snprintf(detail, cap, "Hookd-Method is not an HTTP method");
        return 400;
    }
    for (size_t i = 0; i < nvalues; i++)
        if (values[i] && has_ctl(values[i])) {
            snprintf(detail, cap, "a forwarded header has a control character");
            return 400;
        }
    if (strlen(path) + (query ? strlen(query) : 0) > 3 * (size_t)max_url) {
        *code = "uri_too_long";
        snprintf(detail, cap, "request URI is longer than %d bytes", max_url);
        return 414;
    }
    for (const char *p = query; p && *p; p++)
        args += *p == '&';
    if (args > HTTP_MAX_QUERY_ARGS) {
        *code = "uri_too_long";
        snprintf(detail, cap, "request has more than %d query arguments", HTTP_MAX_QUERY_ARGS);
        return 414;
    }
    if (*path != '/' || has_ctl(path) || (query && has_ctl(query))) {
        *code = "invalid_path";
        snprintf(detail, cap, "Hookd-Path must start with '/' and have no control character");
        return 400;
    }
    if ((int64_t)body_len > max_body) {
        *code = "payload_too_large";
        snprintf(detail, cap, "request body is larger than %lld bytes", (long long)max_body);
        return 413;
    }
    return 0;
}

static void kv_free(char **kv)
{
    for (char **p = kv; p[0]; p += 2) {
        free(p[0]);
        free(p[1]);
    }
    free(kv);
}

void http_detached_free(struct http_req *r)
{
    if (!r)
        return;
    struct http_detached *d = r->detached;
    r->detached = NULL;
    req_free(r);
    kv_free(d->args);
    kv_free(d->headers);
    free(d->method);
    free(d);
}
