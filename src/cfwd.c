/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfwd.c - forwarding of requests to the cluster's owner (cfwd.h).
 *
 * The forwarding side keeps a table of the requests waiting, keyed by a
 * correlation id that ends the reply subject: in flight (sent, waiting
 * for the reply) or parked (to be tried again). Whoever takes an entry
 * out of the table, under the lock, has it alone: the reply's callback,
 * the timer (at the deadline, or a parked entry's next try), or the
 * stop. The entry is the suspended request's data, so it lives until the
 * request ends, and the answer's Content-Type and Retry-After (http_req
 * holds them as pointers) are kept in it.
 *
 * A try that nothing ran (no owner known, no responders, a not-owner
 * answer, a publish that failed) parks the entry under a fresh
 * correlation id, never sent before, so an answer to an earlier try can
 * never be taken for a later one; the timer tries it again, resolving
 * the owner anew (this node's own subject once it owns). A try that may
 * have run (sent, no answer) is never sent again: the deadline answers it.
 *
 * A forwarded request is never forwarded again (http_req.forwarded): a
 * node that receives one and does not own answers not_owner, and the
 * sender tries again; forwarding never loops.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <nats/nats.h>

#include "api.h"
#include "cfwd.h"
#include "clock.h"
#include "cluster.h"
#include "config.h"
#include "err.h"
#include "hmap.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "thread.h"

#define HDR_METHOD "Hookd-Method"
#define HDR_PATH "Hookd-Path"
#define HDR_QUERY "Hookd-Query"
#define HDR_STATUS "Hookd-Status"
#define HDR_CTYPE "Content-Type"
#define HDR_RETRY "Retry-After"
#define TICK_MS 100              /* the timer's resolution */
#define HDR_ROOM 1024            /* a message's headers beyond the forwarded values */
#define FEED_WAIT_MAX_MS 30000   /* the feed's longest wait (api_ops.c) */

/* The request headers the API reads, forwarded as they came. */
static const char *const fwd_headers[] = {
    "Authorization", "Idempotency-Key", "Content-Type", "svix-req-id",
};
#define N_FWD_HEADERS (sizeof(fwd_headers) / sizeof(fwd_headers[0]))

struct cfwd {
    struct cfwd_opts o;
    struct cluster *cl;
    char subject[128];            /* this node's: where forwarded requests arrive */
    char inbox[128];              /* this process's replies: inbox.<id> */
    natsSubscription *req_sub, *rep_sub;
    atomic_uint_fast64_t sent, failed, served;
    atomic_uint_fast64_t retried;   /* tries after one that nothing ran */
    atomic_uint_fast64_t refused;   /* forwarded requests dropped: no inbox to answer on */
    atomic_int inflight;          /* forwarded requests this node still owes an answer */
    atomic_int running;           /* between start and stop: forward and serve */

    pthread_mutex_t lock;         /* guards the fields below */
    pthread_cond_t wake;
    struct hmap waiting;          /* correlation id -> struct pending */
    uint64_t next_id;
    int stop;
    pthread_t timer;
    int timer_started;
};

/* A forwarded request waiting: the suspended request's data. */
struct pending {
    struct http_req *r;
    int group;                    /* the partition group whose owner runs it */
    int64_t deadline_ms;          /* monotonic */
    int64_t retry_ms;             /* parked: its next try (monotonic); 0: in flight */
    const char *why;              /* parked: why the last try ran nothing (the 503's detail) */
    char key[24];
    char ctype[128];
    char retry[16];
};

/* ---- the forwarding side ---- */

/* Why a try ran nothing: the detail of the 503 when the deadline comes first. */
static const char NO_OWNER[] =
    "no node owns the cluster's log right now (a takeover is under way); retry shortly (a "
    "write with the same idempotency-key is safe)";
static const char NO_RESPONDERS[] =
    "the cluster's owner does not answer (it stopped, or lost its connection); retry shortly "
    "(a write with the same idempotency-key is safe)";
static const char NOT_OWNER[] =
    "the node asked no longer owns the cluster's log (a takeover is under way); retry shortly "
    "(a write with the same idempotency-key is safe)";
static const char NO_NATS[] =
    "cannot reach the NATS servers to forward this request to the cluster's owner; retry "
    "shortly";
static const char STOPPING[] = "this node is stopping; send the request to another node";

/* Answer r with one of forwarding's own errors (counted as failed). */
static void fail(struct cfwd *f, struct http_req *r, int status, const char *code,
                 const char *retry_after, const char *detail)
{
    http_error(r, status, code, detail);
    r->retry_after = retry_after;
    atomic_fetch_add(&f->failed, 1);
}

static void unreachable(struct cfwd *f, struct http_req *r, const char *detail)
{
    fail(f, r, 503, "owner_unreachable", "1", detail);
}

/* Take the waiting entry key out of the table: NULL when another took it. */
static struct pending *take(struct cfwd *f, const char *key)
{
    pthread_mutex_lock(&f->lock);
    struct pending *p = hmap_del(&f->waiting, key);
    pthread_mutex_unlock(&f->lock);
    return p;
}

/* How long to wait: the deadline, and a feed's long poll on top. */
static int64_t deadline_of(struct cfwd *f, struct http_req *r)
{
    int64_t ms = f->o.deadline_ms;
    const char *w = strcmp(r->path, "/hookd/v1/feed") == 0 ? http_query(r, "wait") : NULL;
    if (w) {
        double s = strtod(w, NULL);
        if (s > 0)
            ms += s * 1000 < FEED_WAIT_MAX_MS ? (int64_t)(s * 1000) : FEED_WAIT_MAX_MS;
    }
    return clock_mono_ms() + ms;
}

/* The request as one NATS message, or NULL (and r answered 413). */
static natsMsg *request_msg(struct cfwd *f, struct http_req *r, const char *subject,
                            const char *reply)
{
    natsConnection *nc = cluster_nats(f->cl);
    char *query = http_query_string(r);
    size_t room = HDR_ROOM + strlen(r->path) + strlen(query);
    for (size_t i = 0; i < N_FWD_HEADERS; i++) {
        const char *v = http_header(r, fwd_headers[i]);
        room += v ? strlen(fwd_headers[i]) + strlen(v) + 4 : 0;
    }
    int64_t max = natsConnection_GetMaxPayload(nc);
    if (max > 0 && (int64_t)(r->body.len + room) > max) {
        free(query);
        http_errorf(r, 413, "payload_too_large",
                    "this request (%zu bytes) is larger than a node can forward to the "
                    "cluster's owner: the NATS servers' max_payload is %" PRId64 " bytes "
                    "(raise max_payload in their configuration, docs/operations.md 8)",
                    r->body.len, max);
        atomic_fetch_add(&f->failed, 1);
        return NULL;
    }
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, reply, r->body.data, (int)r->body.len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_METHOD, r->method);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_PATH, r->path);
    if (s == NATS_OK && *query)
        s = natsMsgHeader_Set(m, HDR_QUERY, query);
    for (size_t i = 0; s == NATS_OK && i < N_FWD_HEADERS; i++) {
        const char *v = http_header(r, fwd_headers[i]);
        if (v && *v)
            s = natsMsgHeader_Set(m, fwd_headers[i], v);
    }
    free(query);
    if (s != NATS_OK) {
        natsMsg_Destroy(m);
        unreachable(f, r, "cannot build the request for the cluster's owner; retry shortly");
        return NULL;
    }
    return m;
}

/* A correlation id never used before into p->key; under f->lock. */
static void new_key_locked(struct cfwd *f, struct pending *p)
{
    snprintf(p->key, sizeof(p->key), "%" PRIu64, ++f->next_id);
}

/*
 * Nothing of p's request ran (the caller took p out of the table, or it
 * never was in it): park it for another try, or answer 503 why when the
 * deadline comes before that try could.
 */
static void park(struct cfwd *f, struct pending *p, const char *why)
{
    int64_t now = clock_mono_ms();
    if (now + CFWD_RETRY_MS >= p->deadline_ms) {
        unreachable(f, p->r, why);
        http_resume(p->r);
        return;
    }
    pthread_mutex_lock(&f->lock);
    int stopped = f->stop;
    if (!stopped) {
        new_key_locked(f, p);
        p->retry_ms = now + CFWD_RETRY_MS;
        p->why = why;
        hmap_put(&f->waiting, p->key, p);
    }
    pthread_mutex_unlock(&f->lock);
    if (stopped) {   /* cfwd_stop answered the table already */
        unreachable(f, p->r, STOPPING);
        http_resume(p->r);
    }
}

/*
 * One try of p (out of the table: the caller's alone) to the owner as
 * resolved now, or to this node's own subject once it owns (it serves
 * forwarded requests there like any owner). Then p is in flight in the
 * table, parked, or answered.
 */
static void try_send(struct cfwd *f, struct pending *p)
{
    char owner[96], subject[192], reply[160], key[sizeof(p->key)];
    struct http_req *r = p->r;
    if (f->o.owns(f->o.ctx, p->group))
        snprintf(owner, sizeof(owner), "%s", f->o.node_id);
    else
        f->o.owner(f->o.ctx, p->group, owner, sizeof(owner));
    if (!*owner) {
        park(f, p, NO_OWNER);
        return;
    }
    pthread_mutex_lock(&f->lock);
    new_key_locked(f, p);
    pthread_mutex_unlock(&f->lock);
    snprintf(key, sizeof(key), "%s", p->key);
    snprintf(subject, sizeof(subject), CFWD_SUBJECT_PREFIX "%s" CFWD_SUBJECT_SUFFIX, owner);
    snprintf(reply, sizeof(reply), "%s.%s", f->inbox, key);
    natsMsg *m = request_msg(f, r, subject, reply);
    if (!m) {   /* answered (413, or no message could be made) */
        http_resume(r);
        return;
    }
    p->retry_ms = 0;
    pthread_mutex_lock(&f->lock);
    int stopped = f->stop;
    if (!stopped)
        hmap_put(&f->waiting, key, p);
    pthread_mutex_unlock(&f->lock);
    if (stopped) {   /* cfwd_stop answered the table already */
        natsMsg_Destroy(m);
        unreachable(f, r, STOPPING);
        http_resume(r);
        return;
    }
    /* from here on a reply, the timer or the stop may answer p, and free it */
    natsStatus s = natsConnection_PublishMsg(cluster_nats(f->cl), m);
    natsMsg_Destroy(m);
    if (s == NATS_OK) {
        atomic_fetch_add(&f->sent, 1);
        return;
    }
    if (!(p = take(f, key)))
        return;                 /* answered already */
    if (s == NATS_MAX_PAYLOAD) {
        fail(f, r, 413, "payload_too_large", NULL,
             "this request is larger than the NATS servers' max_payload (docs/operations.md 8)");
        http_resume(r);
        return;
    }
    park(f, p, NO_NATS);   /* not sent: nobody has it */
}

void cfwd_forward(struct cfwd *f, struct http_req *r, int group)
{
    if (!atomic_load(&f->running)) {
        unreachable(f, r, STOPPING);
        return;
    }
    struct pending *p = xcalloc(1, sizeof(*p));
    p->r = r;
    p->group = group;
    p->deadline_ms = deadline_of(f, r);
    /*
     * Suspended before it joins the table: from then on the stop (or a
     * reply, the timer) may answer and resume it before this thread returns.
     */
    http_suspend(r, p, free);
    try_send(f, p);
}

/* An answer's status: three digits, 200 to 599 (a 1xx is no final answer); else 0. */
static int status_of(const char *st)
{
    if (!st || strlen(st) != 3 || strspn(st, "0123456789") != 3)
        return 0;
    int status = atoi(st);
    return status >= 200 && status <= 599 ? status : 0;
}

/* A header value fit to pass on: printable ASCII, shorter than cap. */
static int value_ok(const char *v, size_t cap)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f)
            return 0;
    return n > 0 && n < cap;
}

/*
 * The owner's answer into p's request: 1; or 0 for a not-owner answer
 * (the node refused the request before running it), which answers nothing.
 */
static int answer_from(struct cfwd *f, struct pending *p, natsMsg *msg)
{
    struct http_req *r = p->r;
    const char *st = NULL, *ct = NULL, *ra = NULL;
    natsMsgHeader_Get(msg, HDR_STATUS, &st);
    int status = status_of(st);
    if (!status) {
        unreachable(f, r, "the cluster's owner sent an answer without a valid status; retry "
                    "shortly");
        return 1;
    }
    if (natsMsgHeader_Get(msg, "Hookd-Not-Owner", &ra) == NATS_OK)
        return 0;
    ra = NULL;
    natsMsgHeader_Get(msg, HDR_CTYPE, &ct);
    natsMsgHeader_Get(msg, HDR_RETRY, &ra);
    int n = natsMsg_GetDataLength(msg);
    http_reply(r, status, xmemdup(n > 0 ? natsMsg_GetData(msg) : "", (size_t)(n > 0 ? n : 0)),
               (size_t)(n > 0 ? n : 0));
    if (ct && value_ok(ct, sizeof(p->ctype)) && strcasecmp(ct, "application/json") != 0) {
        snprintf(p->ctype, sizeof(p->ctype), "%s", ct);
        r->content_type = p->ctype;
    }
    if (ra && value_ok(ra, sizeof(p->retry)) && strspn(ra, "0123456789") == strlen(ra)) {
        snprintf(p->retry, sizeof(p->retry), "%s", ra);
        r->retry_after = p->retry;
    }
    return 1;
}

/* nats.c's thread of the reply subscription. */
static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
    struct cfwd *f = arg;
    const char *subj = natsMsg_GetSubject(msg), *dot = strrchr(subj, '.');
    struct pending *p = dot ? take(f, dot + 1) : NULL;
    if (p) {   /* nobody received it, or the node refused it: nothing of it ran */
        if (natsMsg_IsNoResponders(msg))
            park(f, p, NO_RESPONDERS);
        else if (!answer_from(f, p, msg))
            park(f, p, NOT_OWNER);
        else
            http_resume(p->r);
    }
    natsMsg_Destroy(msg);
}

/*
 * Answer every waiting request past its deadline (all of them with all),
 * and try the parked ones due again.
 */
static void expire(struct cfwd *f, int all)
{
    int64_t now = clock_mono_ms();
    struct pending **due = NULL;
    size_t n = 0, nagain = 0;
    const char *k;
    void *v;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; hmap_next(&f->waiting, &i, &k, &v);) {
        struct pending *p = v;
        if (all || p->deadline_ms <= now || (p->retry_ms && p->retry_ms <= now)) {
            due = xrealloc(due, (n + 1) * sizeof(*due));
            due[n++] = p;
        }
    }
    for (size_t i = 0; i < n; i++)
        hmap_del(&f->waiting, due[i]->key);
    pthread_mutex_unlock(&f->lock);
    for (size_t i = 0; i < n; i++) {
        struct pending *p = due[i];
        if (all) {
            unreachable(f, p->r, "this node is stopping; a write may or may not have "
                        "been applied: retry it on another node with the same idempotency-key");
        } else if (p->deadline_ms > now) {
            due[nagain++] = p;   /* parked, due for its next try */
            continue;
        } else if (p->retry_ms) {
            unreachable(f, p->r, p->why);   /* no try ran it: as at once before */
        } else {
            fail(f, p->r, 503, "owner_unreachable", "2",
                 "the cluster's owner did not answer in time; a write may or may not have "
                 "been applied: retry it with the same idempotency-key");
        }
        http_resume(p->r);
    }
    for (size_t i = 0; i < nagain; i++) {
        atomic_fetch_add(&f->retried, 1);
        try_send(f, due[i]);
    }
    free(due);
}

static void *timer_main(void *arg)
{
    struct cfwd *f = arg;
    pthread_mutex_lock(&f->lock);
    while (!f->stop) {
        struct timespec ts;
        clock_deadline(CLOCK_MONOTONIC, TICK_MS, &ts);
        pthread_cond_timedwait(&f->wake, &f->lock, &ts);
        pthread_mutex_unlock(&f->lock);
        expire(f, 0);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* ---- the owner's side ---- */

struct served {
    struct cfwd *f;
    char *reply;
};

static void publish_reply(struct cfwd *f, const char *reply, int status, const char *ctype,
                          const char *retry, const char *body, size_t len, int not_owner)
{
    natsConnection *nc = cluster_nats(f->cl);
    char st[8];
    natsMsg *m = NULL;
    snprintf(st, sizeof(st), "%d", status);
    natsStatus s = natsMsg_Create(&m, reply, NULL, body, (int)len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_STATUS, st);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_CTYPE, ctype ? ctype : "application/json");
    if (s == NATS_OK && retry)
        s = natsMsgHeader_Set(m, HDR_RETRY, retry);
    if (s == NATS_OK && not_owner)
        s = natsMsgHeader_Set(m, "Hookd-Not-Owner", "1");
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(nc, m);
    natsMsg_Destroy(m);
    if (s != NATS_OK)
        log_warn("cannot send a forwarded request's answer", "error", natsStatus_GetText(s),
                 NULL);
}

/* http_detached_run's done: the answer goes back to the node that forwarded it. */
static void answered(struct http_req *r, void *arg)
{
    struct served *sv = arg;
    struct cfwd *f = sv->f;
    int64_t max = natsConnection_GetMaxPayload(cluster_nats(f->cl));
    if (!r->status)
        http_error(r, 500, "internal_error", "no response was produced");
    if (max > 0 && (int64_t)(r->resp_len + HDR_ROOM) > max) {
        http_errorf(r, 503, "response_too_large",
                    "the answer (%zu bytes) is larger than the NATS servers' max_payload "
                    "(%" PRId64 " bytes), so it cannot be forwarded: ask for less (a smaller "
                    "limit), or raise max_payload (docs/operations.md 8)", r->resp_len, max);
        r->retry_after = NULL;
    }
    /*
     * refused before anything of it ran (this node became a standby, or
     * stops): not-owner, and its sender tries again elsewhere. Any other
     * 503 (cluster_unavailable: the batch may be in the log) goes to the
     * client as it is, never retried by the sender.
     */
    int not_owner = r->status == 503 && r->not_run;
    publish_reply(f, sv->reply, r->status, r->content_type, r->retry_after, r->resp,
                  r->resp_len, not_owner);
    http_detached_free(r);
    free(sv->reply);
    free(sv);
    atomic_fetch_add(&f->served, 1);
    atomic_fetch_sub(&f->inflight, 1);
}

/* The request's headers as "Name: value" lines for http_detached_req. */
static char *header_lines(natsMsg *msg)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < N_FWD_HEADERS; i++) {
        const char *v = NULL;
        if (natsMsgHeader_Get(msg, fwd_headers[i], &v) == NATS_OK && v)
            buf_addf(&b, "%s: %s\n", fwd_headers[i], v);
    }
    if (!b.data)
        buf_add(&b, "", 0);
    return buf_detach(&b, NULL);
}

/* Answer a forwarded request with one of the owner's own errors. */
static void reply_error(struct cfwd *f, const char *reply, int status, const char *code,
                        const char *detail)
{
    json_t *j = json_pack("{s:s, s:s}", "code", code, "detail", detail);
    char *body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    publish_reply(f, reply, status, NULL, NULL, body ? body : "{}", body ? strlen(body) : 2, 0);
    free(body);
}

/*
 * What the listener checks of a connection's request before any handler
 * sees it, checked again (http_forward_refusal): anyone who may publish to
 * this node's subject can send a forwarded request, not only a node. 0
 * when msg may run, else the status, with code and detail set.
 */
static int refusal(struct cfwd *f, natsMsg *msg, const char *method, const char *path,
                   const char *query, const char **code, char *detail, size_t cap)
{
    const struct config *cfg = f->o.api->cfg;
    const char *values[N_FWD_HEADERS] = { 0 };
    for (size_t i = 0; i < N_FWD_HEADERS; i++)
        natsMsgHeader_Get(msg, fwd_headers[i], &values[i]);
    int n = natsMsg_GetDataLength(msg);
    return http_forward_refusal(method, path, query, values, N_FWD_HEADERS,
                                (size_t)(n > 0 ? n : 0), cfg ? cfg->max_url : 8192,
                                cfg ? cfg->max_body : INT64_MAX, code, detail, cap);
}

/* nats.c's thread of this node's subject: a request another node forwarded. */
static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
    struct cfwd *f = arg;
    const char *reply = natsMsg_GetReply(msg), *method = NULL, *path = NULL, *query = NULL;
    const char *code;
    char detail[160];
    static const char not_owner[] = "{\"code\":\"not_owner\",\"detail\":\"not the owner\"}";
    if (!cluster_reply_ok(reply)) {   /* nobody to answer, or not an inbox (cluster.h) */
        atomic_fetch_add(&f->refused, 1);
        natsMsg_Destroy(msg);
        return;
    }
    natsMsgHeader_Get(msg, HDR_METHOD, &method);
    natsMsgHeader_Get(msg, HDR_PATH, &path);
    natsMsgHeader_Get(msg, HDR_QUERY, &query);
    int status = refusal(f, msg, method, path, query, &code, detail, sizeof(detail));
    if (status) {
        atomic_fetch_add(&f->refused, 1);
        reply_error(f, reply, status, code, detail);
        natsMsg_Destroy(msg);
        return;
    }
    /* a node that does not own the request's group refuses it not-run in the API */
    if (!atomic_load(&f->running)) {
        publish_reply(f, reply, 503, NULL, "1", not_owner, sizeof(not_owner) - 1, 1);
        natsMsg_Destroy(msg);
        return;
    }
    char *hdrs = header_lines(msg);
    int n = natsMsg_GetDataLength(msg);
    struct http_req *r = http_detached_req(f->o.api, method, path, query, hdrs,
                                           natsMsg_GetData(msg), (size_t)(n > 0 ? n : 0));
    free(hdrs);
    r->forwarded = 1;
    struct served *sv = xcalloc(1, sizeof(*sv));
    sv->f = f;
    sv->reply = xstrdup(reply);
    natsMsg_Destroy(msg);
    atomic_fetch_add(&f->inflight, 1);
    http_detached_run(r, f->o.writer, api_dispatch, answered, sv);
}

/* ---- life ---- */

int cfwd_new(struct cfwd **out, const struct cfwd_opts *o, char *err, size_t errlen)
{
    struct cfwd *f = xcalloc(1, sizeof(*f));
    f->o = *o;
    if (!f->o.deadline_ms)
        f->o.deadline_ms = CFWD_DEADLINE_MS;
    pthread_mutex_init(&f->lock, NULL);
    /* the timer's waits are on the monotonic clock (a realtime cond took them as long past) */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->wake, &ca);
    pthread_condattr_destroy(&ca);
    hmap_init(&f->waiting);
    snprintf(f->subject, sizeof(f->subject), CFWD_SUBJECT_PREFIX "%s" CFWD_SUBJECT_SUFFIX,
             o->node_id);
    natsInbox *inbox = NULL;
    if (natsInbox_Create(&inbox) != NATS_OK) {
        snprintf(err, errlen, "cannot make a NATS inbox for forwarded requests' replies");
        cfwd_free(f);
        return -1;
    }
    snprintf(f->inbox, sizeof(f->inbox), "%s", (const char *)inbox);
    natsInbox_Destroy(inbox);
    if (cluster_connect(&f->cl, o->conn, err, errlen)) {
        cfwd_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

int cfwd_start(struct cfwd *f)
{
    char all[160];
    natsConnection *nc = cluster_nats(f->cl);
    snprintf(all, sizeof(all), "%s.*", f->inbox);
    atomic_store(&f->running, 1);
    natsStatus s = natsConnection_Subscribe(&f->rep_sub, nc, all, on_reply, f);
    if (s == NATS_OK)
        s = natsConnection_Subscribe(&f->req_sub, nc, f->subject, on_request, f);
    if (s == NATS_OK)
        s = natsConnection_Flush(nc);
    if (s != NATS_OK) {
        log_error("cannot subscribe for forwarded requests", "subject", f->subject, "error",
                  natsStatus_GetText(s), NULL);
        atomic_store(&f->running, 0);
        return HOOKD_EUNAVAIL;
    }
    int rc = thread_start(&f->timer, "hookd-fwd", timer_main, f);
    if (rc) {
        atomic_store(&f->running, 0);
        return rc;
    }
    f->timer_started = 1;
    return 0;
}

void cfwd_stats(struct cfwd *f, json_t *cluster)
{
    if (!f)
        return;
    json_object_set_new(cluster, "forward", json_pack(
        "{s:I, s:I, s:I, s:I, s:I}", "sent", (json_int_t)atomic_load(&f->sent), "failed",
        (json_int_t)atomic_load(&f->failed), "served", (json_int_t)atomic_load(&f->served),
        "refused", (json_int_t)atomic_load(&f->refused), "retried",
        (json_int_t)atomic_load(&f->retried)));
}

static void drain(natsSubscription *sub)
{
    if (sub && natsSubscription_Drain(sub) == NATS_OK)
        natsSubscription_WaitForDrainCompletion(sub, 2000);
}

void cfwd_stop(struct cfwd *f)
{
    if (!f || !atomic_exchange(&f->running, 0))
        return;
    drain(f->req_sub);   /* the requests already received run (stopping: writes 503) */
    pthread_mutex_lock(&f->lock);
    f->stop = 1;         /* nothing joins the table after this */
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
    if (f->timer_started) {
        pthread_join(f->timer, NULL);
        f->timer_started = 0;
    }
    expire(f, 1);
    drain(f->rep_sub);
}

void cfwd_free(struct cfwd *f)
{
    if (!f)
        return;
    cfwd_stop(f);
    /* the writer answered every write it held; a feed's wait ends with feed_stop */
    for (int i = 0; i < 50 && atomic_load(&f->inflight) > 0; i++) {
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&f->inflight) > 0)
        log_warn("forwarded requests still unanswered at the stop; their senders answer 503",
                 NULL);
    natsSubscription_Destroy(f->req_sub);
    natsSubscription_Destroy(f->rep_sub);
    if (atomic_load(&f->inflight) == 0)
        cluster_close(f->cl);   /* else an answer still being made would use it */
    hmap_release(&f->waiting);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->wake);
    if (atomic_load(&f->inflight) == 0)
        free(f);
}
