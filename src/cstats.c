/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cstats.c - cluster-wide stats: the responder, the gather and the view
 * (cstats.h).
 *
 * The view is rebuilt by the gather thread only; the HTTP threads copy
 * it under c->lock, so a stats request never waits for a node that does
 * not answer. The node itself is in the view from its own summary, built
 * in the gather: it does not answer its own requests.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "cluster.h"
#include "clusteropt.h"
#include "cstats.h"
#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "stats.h"
#include "store.h"
#include "thread.h"
#include "version.h"
#include "writer.h"

#define SAMPLES 600            /* the log's last sequence, one a gather: 10 minutes */
#define NODE_ID_MAX CSTATS_ID_MAX
#define REPLY_MAX 16384        /* a summary is about 350 bytes; anything larger is not one */

/* A node of the view: its last summary and when it came. */
struct seen {
    char id[NODE_ID_MAX];
    json_t *summary;           /* owned */
    int64_t seen_mono, seen_wall;
    int answered;              /* in the last gather */
    uint64_t lag;              /* entries, against the log's last sequence read */
    double lag_s;
};

struct cstats {
    struct cluster *cl;
    struct api *api;
    char node_id[NODE_ID_MAX];
    char stream[64];
    void (*groups)(void *ctx, json_t *owns, json_t *follows);
    void *groups_ctx;

    natsSubscription *responder;   /* CSTATS_SUBJECT */
    natsSubscription *replies;     /* the gather's inbox */
    char inbox[128];
    pthread_t thread;
    int started;

    pthread_mutex_t lock;      /* guards the view and the fields below; cv on CLOCK_MONOTONIC */
    pthread_cond_t cv;
    int stopping;
    char listen[160];
    struct seen nodes[CSTATS_MAX_NODES];   /* [0] is this node */
    size_t nnodes;
    uint64_t log_seq;          /* the log's last sequence as last read, 0 none */
    int64_t gather_wall, gather_ms;
    int answers;
    char gather_error[160];

    pthread_mutex_t sum_lock;  /* the summary cache */
    char *sum_text;
    int64_t sum_mono;

    /* gather thread only */
    struct cstats_sample samples[SAMPLES];   /* a ring, oldest at s_head when full */
    uint64_t round;            /* the gathers so far: the reply subject's last token */
    size_t s_head, s_n;
};

double cstats_lag_seconds(const struct cstats_sample *s, size_t n, uint64_t seq, int64_t now)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].seq > seq)
            return (double)(now - s[i].mono_ms) / 1000;
    return 0;
}

/* ---- this node's summary ---- */

static json_t *summary_build(struct cstats *c)
{
    struct api *a = c->api;
    int64_t now = clock_now_ms();
    struct stats_counters k = { 0 };
    struct stats_rates rt = { 0 };
    struct dispatch_stats ds = { 0 };
    struct api_gauges g = { 0 };
    uint64_t seq = 0;
    struct store_txn *t;
    if (a->stats) {
        stats_get_counters(a->stats, &k);
        stats_get_rates(a->stats, now, &rt);
    }
    if (a->dispatch)
        dispatch_get_stats(a->dispatch, &ds);
    if (store_read(a->store, &t) == 0) {
        store_meta_get_u64(t, WRITER_LOG_SEQ_KEY, &seq);
        store_abort(t);
    }
    int gauges = api_gauges(a, &g) == 0;
    json_t *owns = json_array(), *follows = json_array();
    if (c->groups)
        c->groups(c->groups_ctx, owns, follows);
    /* an owner of any group is an owner: it writes and delivers */
    const char *role = json_array_size(owns) ? "owner" : "standby";
    char who[NODE_ID_MAX] = "";
    if (a->cluster_owner)
        a->cluster_owner(a->cluster_ctx, who, sizeof(who));
    pthread_mutex_lock(&c->lock);
    json_t *listen = c->listen[0] ? json_string(c->listen) : json_null();
    json_t *log_seq = c->log_seq ? json_integer((json_int_t)c->log_seq) : json_null();
    pthread_mutex_unlock(&c->lock);
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:s, s:I, s:I, s:I, s:I, s:I, "
                     "s:i, s:b, s:o, s:{s:f, s:f, s:f}}",
                     "nodeId", c->node_id, "role", role, "owns", owns, "follows", follows,
                     "owner", who[0] ? json_string(who) : json_null(),
                     "seq", (json_int_t)seq, "logSeq", log_seq, "listen", listen,
                     "version", HOOKD_VERSION, "uptimeS", (json_int_t)((now - a->started_ms) / 1000),
                     "messagesIngested", (json_int_t)k.ingested,
                     "attemptsSucceeded", (json_int_t)k.succeeded,
                     "attemptsFailed", (json_int_t)k.failed,
                     "deliveriesFailedFinal", (json_int_t)k.failed_final,
                     "inflight", ds.inflight,
                     "deliveryHold", a->dispatch && dispatch_held(a->dispatch),
                     "deliveriesDue", gauges ? json_integer(g.pending + g.scheduled + g.held)
                                             : json_null(),
                     "rates", "ingest", rt.ingest[STATS_10S], "success", rt.success[STATS_10S],
                     "failure", rt.failure[STATS_10S]);
}

/* The summary as text, built again when older than CSTATS_SUMMARY_MS. Heap. */
static char *summary_text(struct cstats *c)
{
    pthread_mutex_lock(&c->sum_lock);
    int64_t now = clock_mono_ms();
    if (!c->sum_text || now - c->sum_mono >= CSTATS_SUMMARY_MS) {
        json_t *s = summary_build(c);
        char *text = s ? json_dumps(s, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
        json_decref(s);
        if (text) {
            free(c->sum_text);
            c->sum_text = text;
            c->sum_mono = now;
        }
    }
    char *out = c->sum_text ? xstrdup(c->sum_text) : NULL;
    pthread_mutex_unlock(&c->sum_lock);
    return out;
}

/* nats.c's thread: a request from another node (or hookd cluster status). */
static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
    struct cstats *c = arg;
    const char *reply = natsMsg_GetReply(msg);
    int len = natsMsg_GetDataLength(msg);
    json_t *req = len > 0 && len <= REPLY_MAX
                  ? json_loadb(natsMsg_GetData(msg), (size_t)len, 0, NULL) : NULL;
    const char *from = json_string_value(json_object_get(req, "from"));
    /* answered on an inbox only (cluster_reply_ok), never on our own gather */
    if (cluster_reply_ok(reply) && !(from && strcmp(from, c->node_id) == 0)) {
        char *text = summary_text(c);
        if (text)
            natsConnection_PublishString(nc, reply, text);
        free(text);
    }
    json_decref(req);
    natsMsg_Destroy(msg);
    (void)sub;
}

/* ---- an answer, as anyone on the NATS servers may send it ---- */

#define NUM_MAX 1e15           /* above any counter a node reaches; sums stay exact */
#define STR_MAX 128

/* A string of printable ASCII, shorter than STR_MAX, or NULL. */
static json_t *clean_str(json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (!s || n >= STR_MAX || json_string_length(v) != n)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return NULL;
    return json_string(s);
}

/* A whole number from 0 to NUM_MAX, or NULL. */
static json_t *clean_int(json_t *v)
{
    json_int_t n = json_integer_value(v);
    return json_is_integer(v) && n >= 0 && n <= (json_int_t)NUM_MAX ? json_integer(n) : NULL;
}

static json_t *or_null(json_t *v)
{
    return v ? v : json_null();
}

static json_t *clean_groups(json_t *v)
{
    json_t *out = json_array(), *g;
    size_t i;
    json_array_foreach(v, i, g) {
        json_t *s = i < 8 ? clean_str(g) : NULL;
        if (s)
            json_array_append_new(out, s);
    }
    return out;
}

static json_t *clean_rate(json_t *v)
{
    double d = json_number_value(v);
    return json_real(d >= 0 && d <= NUM_MAX ? d : 0);
}

/*
 * A node's summary as this node keeps it: the fields of a summary
 * (cstats.h) with their types, numbers within 0..NUM_MAX, strings short
 * and printable, everything else dropped; NULL when it is not a summary
 * (no object, or no node id a node could have: clusteropt's rule). The
 * view, /metrics and the console read only what this lets through.
 */
static json_t *summary_clean(json_t *in)
{
    static const char *const ints[] = {
        "seq", "uptimeS", "messagesIngested", "attemptsSucceeded", "attemptsFailed",
        "deliveriesFailedFinal", "inflight",
    };
    static const char *const nullable_ints[] = { "logSeq", "deliveriesDue" };
    static const char *const strs[] = { "owner", "listen", "version" };
    char why[80];
    const char *id = json_string_value(json_object_get(in, "nodeId"));
    const char *role = json_string_value(json_object_get(in, "role"));
    if (!json_is_object(in) || !id || !*id
        || json_string_length(json_object_get(in, "nodeId")) != strlen(id)
        || clusteropt_check_node_id(id, why, sizeof(why)) || strlen(id) >= NODE_ID_MAX)
        return NULL;
    json_t *out = json_pack("{s:s, s:s}", "nodeId", id, "role",
                            role && strcmp(role, "owner") == 0 ? "owner" : "standby");
    json_object_set_new(out, "owns", clean_groups(json_object_get(in, "owns")));
    json_object_set_new(out, "follows", clean_groups(json_object_get(in, "follows")));
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        json_object_set_new(out, strs[i], or_null(clean_str(json_object_get(in, strs[i]))));
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        json_t *v = clean_int(json_object_get(in, ints[i]));
        json_object_set_new(out, ints[i], v ? v : json_integer(0));
    }
    for (size_t i = 0; i < sizeof(nullable_ints) / sizeof(nullable_ints[0]); i++)
        json_object_set_new(out, nullable_ints[i],
                            or_null(clean_int(json_object_get(in, nullable_ints[i]))));
    json_object_set_new(out, "deliveryHold",
                        json_boolean(json_is_true(json_object_get(in, "deliveryHold"))));
    json_t *r = json_object_get(in, "rates");
    json_object_set_new(out, "rates", json_pack(
        "{s:o, s:o, s:o}", "ingest", clean_rate(json_object_get(r, "ingest")), "success",
        clean_rate(json_object_get(r, "success")), "failure",
        clean_rate(json_object_get(r, "failure"))));
    return out;
}

/* ---- the view ---- */

/*
 * The entry of node id, made when new. When the view is full, a new node
 * takes the place of the one silent longest, if that one is silent
 * (CSTATS_SILENT_MS): names that answered once (a stranger's, a node
 * renamed) do not keep a real node out of the view for CSTATS_FORGET_MS.
 */
static struct seen *find_locked(struct cstats *c, const char *id, int64_t now)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (strcmp(c->nodes[i].id, id) == 0)
            return &c->nodes[i];
    struct seen *s;
    if (c->nnodes == CSTATS_MAX_NODES) {
        size_t old = 0;
        for (size_t i = 1; i < c->nnodes; i++)
            if (!old || c->nodes[i].seen_mono < c->nodes[old].seen_mono)
                old = i;
        if (!old || now - c->nodes[old].seen_mono <= CSTATS_SILENT_MS)
            return NULL;
        s = &c->nodes[old];
        json_decref(s->summary);
    } else {
        s = &c->nodes[c->nnodes++];
    }
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", id);
    return s;
}

static void note_locked(struct cstats *c, json_t *summary, int64_t mono, int64_t wall)
{
    const char *id = json_string_value(json_object_get(summary, "nodeId"));
    struct seen *s = id && strlen(id) < NODE_ID_MAX ? find_locked(c, id, mono) : NULL;
    if (!s) {
        json_decref(summary);
        return;
    }
    json_decref(s->summary);
    s->summary = summary;
    s->seen_mono = mono;
    s->seen_wall = wall;
    s->answered = 1;
}

/* Forget the long silent, and work out every node's lag. */
static void settle_locked(struct cstats *c, int64_t now)
{
    size_t k = 1;
    for (size_t i = 1; i < c->nnodes; i++) {
        if (now - c->nodes[i].seen_mono > CSTATS_FORGET_MS) {
            json_decref(c->nodes[i].summary);
            continue;
        }
        c->nodes[k++] = c->nodes[i];
    }
    c->nnodes = k;
    struct cstats_sample lin[SAMPLES];
    for (size_t i = 0; i < c->s_n; i++)
        lin[i] = c->samples[(c->s_head + i) % SAMPLES];
    for (size_t i = 0; i < c->nnodes; i++) {
        struct seen *s = &c->nodes[i];
        json_int_t seq = json_integer_value(json_object_get(s->summary, "seq"));
        uint64_t u = seq > 0 ? (uint64_t)seq : 0;
        s->lag = c->log_seq > u ? c->log_seq - u : 0;
        s->lag_s = s->lag ? cstats_lag_seconds(lin, c->s_n, u, now) : 0;
    }
}

static void sample(struct cstats *c, uint64_t seq, int64_t now)
{
    size_t at = (c->s_head + c->s_n) % SAMPLES;
    c->samples[at] = (struct cstats_sample){ now, seq };
    if (c->s_n < SAMPLES)
        c->s_n++;
    else
        c->s_head = (c->s_head + 1) % SAMPLES;
}

/* The log's last sequence, waiting at most CSTATS_WAIT_MS; 0 when unknown. */
static uint64_t log_last(struct cstats *c, char *err, size_t errlen)
{
    jsOptions o;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    jsOptions_Init(&o);
    o.Wait = CSTATS_WAIT_MS;
    natsStatus st = js_GetStreamInfo(&si, cluster_js(c->cl), c->stream, &o, &jerr);
    if (st != NATS_OK) {
        snprintf(err, errlen, "cannot read the log's stream: %s", natsStatus_GetText(st));
        return 0;
    }
    uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return last;
}

/*
 * A reply's summary, cleaned (summary_clean); NULL when it is too large,
 * not JSON or not a summary. m is destroyed.
 */
static json_t *reply_json(natsMsg *m)
{
    int len = natsMsg_GetDataLength(m);
    json_t *raw = len > 0 && len <= REPLY_MAX
                  ? json_loadb(natsMsg_GetData(m), (size_t)len, 0, NULL) : NULL;
    natsMsg_Destroy(m);
    json_t *s = summary_clean(raw);
    json_decref(raw);
    return s;
}

/*
 * Others that answered lately (within CSTATS_SILENT_MS): this gather
 * waits for them, by name, into ids. Their number.
 */
static size_t expected_locked(struct cstats *c, int64_t now, char (*ids)[NODE_ID_MAX])
{
    size_t n = 0;
    for (size_t i = 1; i < c->nnodes; i++)
        if (now - c->nodes[i].seen_mono <= CSTATS_SILENT_MS)
            memcpy(ids[n++], c->nodes[i].id, NODE_ID_MAX);
    return n;
}

static int in_ids(char (*ids)[NODE_ID_MAX], size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

/*
 * The answers to this gather's request (reply subject inbox.ROUND), sent
 * at t0, until CSTATS_WAIT_MS from then or until every expected node
 * answered (none expected: wait it out, to meet new ones): each goes into
 * the view. Anyone on the NATS servers can answer, so only the expected
 * names end the wait early (answers under other names cannot cut it short
 * before a real node's), answers to an earlier round are dropped unread
 * (a flood of them cannot delay this round's), and at most
 * CSTATS_MAX_NODES * 4 answers are read a round. The number of distinct
 * nodes that answered.
 */
static int collect(struct cstats *c, int64_t t0, char (*want)[NODE_ID_MAX], size_t nwant)
{
    int got = 0, read = 0;
    size_t met = 0;
    char seen[CSTATS_MAX_NODES][NODE_ID_MAX], round[32];
    snprintf(round, sizeof(round), ".%" PRIu64, c->round);
    size_t rlen = strlen(round);
    for (;;) {
        int64_t left = t0 + CSTATS_WAIT_MS - clock_mono_ms();
        natsMsg *m = NULL;
        if (left <= 0 || (nwant > 0 && met >= nwant)
            || natsSubscription_NextMsg(&m, c->replies, left) != NATS_OK)
            return got;
        const char *subj = natsMsg_GetSubject(m);
        size_t slen = strlen(subj);
        if (slen < rlen || strcmp(subj + slen - rlen, round) != 0
            || read++ >= CSTATS_MAX_NODES * 4) {
            natsMsg_Destroy(m);
            continue;
        }
        json_t *s = reply_json(m);
        const char *id = json_string_value(json_object_get(s, "nodeId"));
        if (!json_is_object(s) || !id || strcmp(id, c->node_id) == 0) {
            json_decref(s);
            continue;
        }
        int dup = 0;
        for (int i = 0; i < got; i++)
            dup |= strcmp(seen[i], id) == 0;
        if (!dup && got < CSTATS_MAX_NODES) {
            snprintf(seen[got++], NODE_ID_MAX, "%s", id);
            met += in_ids(want, nwant, id);
        }
        pthread_mutex_lock(&c->lock);
        note_locked(c, s, clock_mono_ms(), clock_now_ms());
        pthread_mutex_unlock(&c->lock);
    }
}

static void gather(struct cstats *c)
{
    char err[160] = "", req[160], reply[160];
    char want[CSTATS_MAX_NODES][NODE_ID_MAX];
    int64_t t0 = clock_mono_ms();
    uint64_t last = log_last(c, err, sizeof(err));
    snprintf(req, sizeof(req), "{\"from\":\"%s\"}", c->node_id);   /* ids are plain names */
    snprintf(reply, sizeof(reply), "%s.%" PRIu64, c->inbox, ++c->round);
    natsStatus st = natsConnection_PublishRequestString(cluster_nats(c->cl), CSTATS_SUBJECT,
                                                        reply, req);
    if (st != NATS_OK && !err[0])
        snprintf(err, sizeof(err), "cannot ask the other nodes: %s", natsStatus_GetText(st));
    char *text = summary_text(c);
    json_t *self = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    pthread_mutex_lock(&c->lock);
    size_t nwant = expected_locked(c, t0, want);
    for (size_t i = 1; i < c->nnodes; i++)
        c->nodes[i].answered = 0;
    pthread_mutex_unlock(&c->lock);
    int got = st == NATS_OK ? collect(c, t0, want, nwant) : 0;
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&c->lock);
    if (last) {
        c->log_seq = last;
        sample(c, last, t0);
    }
    if (json_is_object(self))
        note_locked(c, json_incref(self), now, clock_now_ms());
    settle_locked(c, now);
    c->gather_wall = clock_now_ms();
    c->gather_ms = now - t0;
    c->answers = got;
    snprintf(c->gather_error, sizeof(c->gather_error), "%s", err);
    pthread_mutex_unlock(&c->lock);
    json_decref(self);
}

static void *gather_main(void *arg)
{
    struct cstats *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        pthread_mutex_unlock(&c->lock);
        int64_t t0 = clock_mono_ms();
        gather(c);
        int64_t rest = CSTATS_PERIOD_MS - (clock_mono_ms() - t0);
        pthread_mutex_lock(&c->lock);
        if (rest > 0 && !c->stopping) {
            struct timespec ts;
            clock_deadline(CLOCK_MONOTONIC, rest, &ts);
            pthread_cond_timedwait(&c->cv, &c->lock, &ts);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* ---- life ---- */

void cstats_new(struct cstats **out, const struct cstats_opts *o)
{
    struct cstats *c = xcalloc(1, sizeof(*c));
    pthread_condattr_t ca;
    c->cl = o->cluster;
    c->api = o->api;
    snprintf(c->node_id, sizeof(c->node_id), "%s", o->node_id);
    c->groups = o->groups;
    c->groups_ctx = o->groups_ctx;
    snprintf(c->stream, sizeof(c->stream), "%s", o->stream);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->sum_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* this node is always the view's first */
    c->nnodes = 1;
    snprintf(c->nodes[0].id, sizeof(c->nodes[0].id), "%s", c->node_id);
    *out = c;
}

void cstats_set_listen(struct cstats *c, const char *addr)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    snprintf(c->listen, sizeof(c->listen), "%s", addr);
    c->listen[strcspn(c->listen, "\r\n")] = '\0';   /* DATA/listen's line */
    pthread_mutex_unlock(&c->lock);
}

int cstats_start(struct cstats *c)
{
    natsConnection *nc = cluster_nats(c->cl);
    natsInbox *inbox = NULL;
    if (natsInbox_Create(&inbox) != NATS_OK)
        return HOOKD_EUNAVAIL;
    snprintf(c->inbox, sizeof(c->inbox), "%s", (const char *)inbox);
    natsInbox_Destroy(inbox);
    char all[160];
    snprintf(all, sizeof(all), "%s.*", c->inbox);   /* inbox.ROUND: collect() */
    if (natsConnection_SubscribeSync(&c->replies, nc, all) != NATS_OK
        || natsConnection_Subscribe(&c->responder, nc, CSTATS_SUBJECT, on_request, c)
           != NATS_OK) {
        log_warn("cannot answer or gather cluster stats", "subject", CSTATS_SUBJECT, NULL);
        return HOOKD_EUNAVAIL;
    }
    int rc = thread_start(&c->thread, "hookd-cstats", gather_main, c);
    if (rc == 0)
        c->started = 1;
    return rc;
}

void cstats_stop(struct cstats *c)
{
    if (!c)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->lock);
        c->stopping = 1;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
        c->started = 0;
    }
    if (c->responder) {
        /* a drained subscription runs no callback any more: c may go */
        if (natsSubscription_Drain(c->responder) != NATS_OK
            || natsSubscription_WaitForDrainCompletion(c->responder, 2000) != NATS_OK)
            natsSubscription_Unsubscribe(c->responder);
        natsSubscription_Destroy(c->responder);
        c->responder = NULL;
    }
    if (c->replies) {
        natsSubscription_Unsubscribe(c->replies);
        natsSubscription_Destroy(c->replies);
        c->replies = NULL;
    }
}

void cstats_free(struct cstats *c)
{
    if (!c)
        return;
    cstats_stop(c);
    for (size_t i = 0; i < c->nnodes; i++)
        json_decref(c->nodes[i].summary);
    free(c->sum_text);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->sum_lock);
    pthread_cond_destroy(&c->cv);
    free(c);
}

/* ---- the view in GET /hookd/v1/stats ---- */

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static json_t *node_out(const struct seen *s, int self, int64_t now)
{
    json_t *o = s->summary ? json_deep_copy(s->summary) : json_pack("{s:s}", "nodeId", s->id);
    int64_t silent = s->seen_mono ? now - s->seen_mono : -1;
    char ts[CLOCK_RFC3339_MAX];
    json_object_set_new(o, "self", json_boolean(self));
    json_object_set_new(o, "reachable",
                        json_boolean(self || (s->seen_mono && silent <= CSTATS_SILENT_MS)));
    json_object_set_new(o, "answered", json_boolean(self || s->answered));
    if (s->seen_wall)
        clock_format(s->seen_wall, ts);
    json_object_set_new(o, "lastSeen", s->seen_wall ? json_string(ts) : json_null());
    json_object_set_new(o, "silentMs", json_integer(self || silent < 0 ? 0 : silent));
    json_object_set_new(o, "lag", json_pack("{s:I, s:f}", "entries", (json_int_t)s->lag,
                                            "seconds", s->lag_s));
    return o;
}

/* What adding makes sense of: counters and rates of the nodes that answer. */
static json_t *totals(json_t *nodes)
{
    double in = 0, ok = 0, fail = 0, flight = 0, r_in = 0, r_ok = 0, r_fail = 0;
    json_int_t reach = 0, owners = 0, lag_max = 0;
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) {
        if (!json_is_true(json_object_get(n, "reachable")))
            continue;
        reach++;
        json_t *r = json_object_get(n, "rates");
        const char *role = json_string_value(json_object_get(n, "role"));
        owners += role && strcmp(role, "owner") == 0;
        in += num(n, "messagesIngested");
        ok += num(n, "attemptsSucceeded");
        fail += num(n, "attemptsFailed");
        flight += num(n, "inflight");
        r_in += num(r, "ingest");
        r_ok += num(r, "success");
        r_fail += num(r, "failure");
        json_int_t lag = json_integer_value(json_object_get(json_object_get(n, "lag"), "entries"));
        lag_max = lag > lag_max ? lag : lag_max;
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:f, s:f, s:f}}",
                     "nodes", (json_int_t)json_array_size(nodes), "reachable", reach,
                     "owners", owners, "messagesIngested", (json_int_t)in,
                     "attemptsSucceeded", (json_int_t)ok, "attemptsFailed", (json_int_t)fail,
                     "inflight", (json_int_t)flight, "lagEntriesMax", lag_max,
                     "rates", "ingest", r_in, "success", r_ok, "failure", r_fail);
}

static int by_id(const void *x, const void *y)
{
    const char *a = json_string_value(json_object_get(*(json_t *const *)x, "nodeId"));
    const char *b = json_string_value(json_object_get(*(json_t *const *)y, "nodeId"));
    return strcmp(a ? a : "", b ? b : "");
}

void cstats_put(struct cstats *c, json_t *cluster)
{
    int64_t now = clock_mono_ms();
    json_t *others[CSTATS_MAX_NODES];
    size_t n = 0;
    char ts[CLOCK_RFC3339_MAX];
    pthread_mutex_lock(&c->lock);
    json_t *nodes = json_array();
    json_array_append_new(nodes, node_out(&c->nodes[0], 1, now));
    for (size_t i = 1; i < c->nnodes; i++)
        others[n++] = node_out(&c->nodes[i], 0, now);
    json_object_set_new(cluster, "logSeq", c->log_seq ? json_integer((json_int_t)c->log_seq)
                                                      : json_null());
    json_object_set_new(cluster, "lag", json_pack("{s:I, s:f}", "entries",
                                                  (json_int_t)c->nodes[0].lag, "seconds",
                                                  c->nodes[0].lag_s));
    if (c->gather_wall)
        clock_format(c->gather_wall, ts);
    json_object_set_new(cluster, "gather", json_pack(
        "{s:o, s:I, s:i, s:o}", "at", c->gather_wall ? json_string(ts) : json_null(),
        "ms", (json_int_t)c->gather_ms, "answers", c->answers,
        "error", c->gather_error[0] ? json_string(c->gather_error) : json_null()));
    pthread_mutex_unlock(&c->lock);
    qsort(others, n, sizeof(*others), by_id);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(nodes, others[i]);
    json_object_set_new(cluster, "totals", totals(nodes));
    json_object_set_new(cluster, "nodes", nodes);
}

/* ---- one gather on its own ---- */

json_t *cstats_ask(natsConnection *nc, int64_t wait_ms)
{
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    json_t *got[CSTATS_MAX_NODES];
    size_t n = 0;
    if (natsInbox_Create(&inbox) != NATS_OK)
        return NULL;
    int sent = natsConnection_SubscribeSync(&sub, nc, (const char *)inbox) == NATS_OK
               && natsConnection_PublishRequestString(nc, CSTATS_SUBJECT, (const char *)inbox,
                                                      "{\"from\":\"\"}") == NATS_OK;
    int64_t until = clock_mono_ms() + wait_ms;
    while (sent && n < CSTATS_MAX_NODES) {
        int64_t left = until - clock_mono_ms();
        natsMsg *m = NULL;
        if (left <= 0 || natsSubscription_NextMsg(&m, sub, left) != NATS_OK)
            break;
        json_t *s = reply_json(m);
        if (json_is_object(s))
            got[n++] = s;
        else
            json_decref(s);
    }
    natsSubscription_Destroy(sub);
    natsInbox_Destroy(inbox);
    if (!sent)
        return NULL;
    qsort(got, n, sizeof(*got), by_id);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, got[i]);
    return out;
}

/* key is one of the strings of array a */
static int listed(json_t *a, const char *key)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), key) == 0)
            return 1;
    return 0;
}

int cstats_candidates(struct cstats *c, const char *key, char (*ids)[CSTATS_ID_MAX], int max)
{
    int n = 0;
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&c->lock);
    if (max > 0)
        snprintf(ids[n++], CSTATS_ID_MAX, "%s", c->node_id);
    for (size_t i = 1; i < c->nnodes && n < max; i++) {
        const struct seen *s = &c->nodes[i];
        if (!s->seen_mono || now - s->seen_mono > CSTATS_SILENT_MS || !s->summary)
            continue;
        if (listed(json_object_get(s->summary, "owns"), key)
            || listed(json_object_get(s->summary, "follows"), key))
            snprintf(ids[n++], CSTATS_ID_MAX, "%s", s->id);
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}
