/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - the listener: libmicrohttpd, request bodies, limits, responses,
 * and the suspend/resume handshake with the log writer.
 *
 * A request flows: MHD parses headers -> limits are checked (URL length,
 * header count, declared body size), the framing (Content-Length,
 * Transfer-Encoding) and the path's escapes -> admit() decides what it
 * can from the headers alone (route, method, token) -> only then is the
 * body collected, within its own deadline -> dispatch() is called once
 * with the complete request. dispatch either answers at once
 * (http_reply*) or hands a write to the writer with http_submit(), which
 * suspends the connection; the writer runs the apply function inside its
 * batch transaction, commits, and resumes the connection, and the stored
 * response goes out. An HTTP thread therefore never waits for a commit.
 *
 * A request refused from its headers while it announces a body is
 * answered at once, before any byte of the body is read (and without a
 * "100 Continue"), and its connection is closed; one without a body is
 * answered the same way but keeps its connection.
 *
 * Threads: admit() and dispatch() run on any of libmicrohttpd's threads;
 * the apply function passed to http_submit() runs on the writer thread. A
 * request is touched by one thread at a time (suspension hands it over).
 */
#ifndef HOOKD_HTTP_H
#define HOOKD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mem.h"
#include "writer.h"

struct http_server;
struct http_req;
struct stats;
struct store_txn;

/* Runs on the writer thread inside a nested transaction (see writer.h). */
typedef int (*http_apply_fn)(struct http_req *req, struct store_txn *txn);
typedef void (*http_dispatch_fn)(void *ctx, struct http_req *req);
/*
 * Called once the headers are in, before the body: refuse the request by
 * answering it (http_error), or leave req->status 0 to have the body read
 * and dispatch() called. The body (req->body) is empty here.
 */
typedef void (*http_admit_fn)(void *ctx, struct http_req *req);

#define HTTP_MAX_PARAMS 4

struct http_req {
    struct http_server *srv;
    struct MHD_Connection *conn;
    const char *method;       /* "GET", "POST", ... (MHD-owned) */
    char *path;               /* normalised: no duplicate or trailing '/' */
    char *uri;                /* path plus the query string, as received */
    struct buf body;          /* request body, NUL-terminated */
    int64_t started_us;       /* monotonic arrival time */

    /* the response, set by http_reply*() */
    int status;
    char *resp;               /* heap, owned by the request unless resp_borrowed */
    size_t resp_len;
    int resp_borrowed;        /* http_reply_borrowed(): resp is not freed with the request */
    const char *retry_after;  /* static string or NULL */
    const char *content_type; /* static string; NULL: application/json */

    /* the write path, set by http_submit() */
    struct intent intent;
    http_apply_fn apply;
    void *data;               /* handler state, freed with data_free */
    void (*data_free)(void *);
    int phase;                /* internal */
    char *raw_path;           /* internal: the path as sent, before decoding */
    int refused;              /* internal: why on_request_line refused it */
    int waiting;              /* internal: counted by stats_http_waiting */
    struct http_detached *detached;  /* internal: set by http_detached_new() */

    /* for the dispatcher's use (routing, auth, idempotency) */
    void *route;              /* set by admit once the route and token passed */
    char *params[HTTP_MAX_PARAMS];  /* its "*" segments (heap, freed with the request) */
    int route_class;          /* enum stats_route, for counting the answer (0: unknown) */
    int scope;
    http_apply_fn inner;      /* the handler's apply, wrapped by the dispatcher */
    /* from done(), once the write is durable and the answer is 2xx (counting) */
    void (*on_commit)(struct http_req *r);
    uint8_t idem_hash[32];
    uint8_t idem_req[32];     /* SHA-256 of method, URI and body: what the key was used for */
    int64_t idem_exp_ms;      /* when a saved answer expires (decided at submit) */
    int has_idem;
    /* cluster mode (cfwd.h) */
    int forward;              /* api_admit: the owner answers this one (forwarded in dispatch) */
    int forwarded;            /* run here for another node: never forwarded again */
    int local;                /* this node owns its group: admitted again to run here (api.c) */
    int not_run;              /* refused before anything of it ran (not_owner, shutting_down):
                                 its sender may run it on another node (cfwd.h) */
    /*
     * Partition groups (group.h): the dispatcher sets these once it knows
     * the request's group, before its handler runs. NULL: the server's.
     */
    void *ctx;                /* what http_ctx() gives (the group's struct api) */
    struct writer *writer;    /* where http_submit() hands the write */
};

struct http_opts {
    const char *listen;       /* "HOST:PORT" or "[V6]:PORT" */
    int threads;
    int max_connections;
    int max_connections_per_ip;   /* 0: no limit */
    int64_t idle_timeout_ms;  /* idle, or waiting for a request's headers (conntimer.h) */
    int64_t header_timeout_ms;/* request line to the end of the headers */
    int64_t body_timeout_ms;  /* end of the headers to the end of the body */
    int64_t max_body;
    int max_headers;
    int max_url;
    struct stats *stats;      /* every answer is counted here (stats_http); may be NULL */
    int log_requests;         /* one info line per answered request (http_set_log_requests) */
    const char *tls_cert;     /* PEM certificate chain, or NULL for plain HTTP */
    const char *tls_key;      /* PEM private key of tls_cert */
    http_admit_fn admit;      /* the header-time check (may be NULL); ctx as dispatch's */
};

/*
 * Start listening. o->admit(ctx, req), when set, is called for every
 * request once its headers are in, and dispatch(ctx, req) for every
 * complete request it did not refuse; writes go to w. The bound address (with the real port when
 * PORT was 0) is written to bound (cap bytes). With o->tls_cert, the
 * listener speaks only HTTPS (libmicrohttpd's GnuTLS); the PEM strings
 * are read at start and may be freed after http_stop().
 */
int http_start(struct http_server **out, const struct http_opts *o, struct writer *w,
               http_dispatch_fn dispatch, void *ctx, char *bound, size_t cap);
/* Turn the per-request log lines on or off (SIGHUP reload); any thread. */
void http_set_log_requests(struct http_server *s, int on);
/*
 * Stop accepting new connections; those open are still served. The stop
 * calls it once deliveries have drained, so that until then load
 * balancers get the 503s of api_stop_writes() rather than refusals.
 */
void http_quiesce(struct http_server *s);
/* Close every connection and free the server. */
void http_stop(struct http_server *s);

/*
 * Answer with a heap body (taken) and content-type application/json, or
 * r->content_type when the handler set it.
 */
void http_reply(struct http_req *r, int status, char *body, size_t len);
/*
 * http_reply() without taking the body: it must stay valid until the
 * request ends, as the request's data (http_submit) does. Saves a copy on
 * the hot path.
 */
void http_reply_borrowed(struct http_req *r, int status, const char *body, size_t len);
/* Answer with json (reference stolen) serialised compactly. */
void http_reply_json(struct http_req *r, int status, json_t *j);
/* HttpErrorOut: {"code": code, "detail": detail}. */
void http_error(struct http_req *r, int status, const char *code, const char *detail);
/* HttpErrorOut with a formatted detail. */
void http_errorf(struct http_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* HTTPValidationError with one entry: loc is "body.field" split on '.'. */
void http_verror(struct http_req *r, const char *loc, const char *type, const char *msg);

/*
 * Hand the request to the writer (r->writer, or the server's when NULL):
 * apply(req, txn) runs in the next batch
 * and sets the response; the connection is suspended until then. data
 * (may be NULL) lives until the request ends. If apply returns non-zero
 * without having set a response, or the commit fails, the request gets
 * 500 (507 when the store is full).
 */
void http_submit(struct http_req *r, http_apply_fn apply, void *data, void (*data_free)(void *));

/*
 * Park the request without a writer: the connection is suspended and the
 * HTTP thread returns to other work. Whoever the caller arranged to
 * finish it (exactly once, from any thread) sets the response and calls
 * http_resume(); r must not be touched after that. data (may be NULL)
 * lives until the request ends. Only from inside dispatch().
 */
void http_suspend(struct http_req *r, void *data, void (*data_free)(void *));
void http_resume(struct http_req *r);

/* Call fn(value, arg) for every value of a repeated query argument. */
void http_query_each(struct http_req *r, const char *name,
                     void (*fn)(const char *value, void *arg), void *arg);

/*
 * A request that no connection carries, for tests and fuzzing: the real
 * dispatcher and handlers run on it unchanged. url is the raw path with
 * an optional query string, split and percent-decoded as libmicrohttpd
 * does; headers are "Name: value" lines (or NULL); the body is copied.
 * http_ctx() gives ctx, http_query() and http_header() read the copies,
 * and http_submit() only records apply and data (r->apply, r->data) for
 * the caller to run in a transaction of its own, or not. Routes that
 * suspend otherwise (http_suspend) are not for detached requests unless
 * they run through http_detached_run().
 */
struct http_req *http_detached_new(void *ctx, const char *method, const char *url,
                                   const char *headers, const void *body, size_t len);
/*
 * A detached request from its parts: path (not decoded; normalised),
 * query the query string without '?' (percent-encoded, as
 * http_query_string gives it; may be NULL), headers and body as for
 * http_detached_new.
 */
struct http_req *http_detached_req(void *ctx, const char *method, const char *path,
                                   const char *query, const char *headers, const void *body,
                                   size_t len);
/*
 * Run a detached request through dispatch(ctx of http_detached_*, r) as
 * a connection's would run: http_submit() hands its write to the writer
 * w, and http_suspend()/http_resume() park it. done(r, arg) is called
 * exactly once with the answer set, on this thread when dispatch
 * answered at once, else on the thread that finished it (the writer's
 * syncer, a resume); done owns r then (http_detached_free). A forwarded
 * request runs this way on its owner (cfwd.h).
 */
typedef void (*http_done_fn)(struct http_req *r, void *arg);
void http_detached_run(struct http_req *r, struct writer *w, http_dispatch_fn dispatch,
                       http_done_fn done, void *arg);
/*
 * The request's query arguments as one percent-encoded string without
 * '?' ("" when none; heap, the caller frees): http_detached_req() of it
 * gives the same arguments, and the same r->uri.
 */
char *http_query_string(struct http_req *r);
/*
 * What the listener refuses of a connection's request, checked of one
 * that came another way (a node forwarded it, cfwd.h), from anyone who may
 * publish on the NATS servers: the method (1 to 16 upper-case letters),
 * the path (starts with '/', no control byte; it is decoded already), the
 * URI's length (path and query up to 3 * max_url: a forwarded query is
 * escaped again), the query's arguments (at most 100), the forwarded
 * header values (no control byte; NULL entries are absent headers) and
 * the body's size. 0 when it may run, else its status (400, 413, 414)
 * with *code and detail set. Pure.
 */
int http_forward_refusal(const char *method, const char *path, const char *query,
                         const char *const *values, size_t nvalues, size_t body_len,
                         int max_url, int64_t max_body, const char **code, char *detail,
                         size_t cap);

/* Free a detached request, its response and its data (data_free). */
void http_detached_free(struct http_req *r);

/* r->ctx when set, else the ctx given to http_start() (the dispatcher's state). */
void *http_ctx(struct http_req *r);

/* Query argument (decoded) or NULL; header value or NULL. */
const char *http_query(struct http_req *r, const char *name);
const char *http_header(struct http_req *r, const char *name);

#endif
