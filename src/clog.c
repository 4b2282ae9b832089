/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clog.c - the owner publishes each batch to the replicated log before
 * applying it (clog.h).
 *
 * All of a batch's entries are published at once (js_PublishMsgAsync) and
 * their acknowledgements counted as they come back, so a batch costs
 * about one round trip to the stream's leader and its quorum, not one per
 * entry. An acknowledgement is matched to its entry by the expected
 * sequence it carried and its message id, so a late answer to a batch
 * that already failed can never be counted for the next one.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "cfollow.h"
#include "clock.h"
#include "clog.h"
#include "cluster.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "reapply.h"
#include "store.h"
#include "writer.h"

#define HDR_MSG_ID "Nats-Msg-Id"
#define HDR_EXPECT "Nats-Expected-Last-Subject-Sequence"
#define ID_HEX (2 * ENTRY_SEED_LEN + 1)
#define CATCH_UP_CHUNK 256   /* entries per transaction when catching up */

struct clog {
    struct cluster *cl;
    jsCtx *js;                 /* our own: its ack handler is ours */
    struct store *store;
    const struct reapply_env *env;
    char node_id[80];
    int64_t timeout_ms;

    /* writer thread only */
    int dirty;                 /* the log may hold entries the store lacks */
    uint64_t seq;              /* the log's last sequence, the store's too (when !dirty) */

    pthread_mutex_t lock;      /* guards the batch in flight and the stats */
    pthread_cond_t acked;
    uint64_t base;             /* the sequence before the batch's first entry */
    size_t n, done, ok;
    char (*ids)[ID_HEX];       /* each entry's Nats-Msg-Id */
    size_t cap;
    int failed;
    char why[256];             /* the first failure's reason */
    struct clog_stats stats;
};

/* An acknowledgement (nats.c's thread): count it for its entry, if it is one of ours. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    struct clog *c = closure;
    const char *exp = NULL, *id = NULL;
    natsMsgHeader_Get(msg, HDR_EXPECT, &exp);
    natsMsgHeader_Get(msg, HDR_MSG_ID, &id);
    uint64_t e = exp ? strtoull(exp, NULL, 10) : 0;
    pthread_mutex_lock(&c->lock);
    if (exp && id && e >= c->base && e - c->base < c->n && strcmp(c->ids[e - c->base], id) == 0) {
        c->done++;
        if (pa && pa->Sequence == e + 1 && !pa->Duplicate) {
            c->ok++;
        } else if (!c->failed) {
            c->failed = 1;
            if (pae)
                snprintf(c->why, sizeof(c->why), "%s (JetStream error %d)",
                         pae->ErrText && *pae->ErrText ? pae->ErrText
                                                       : natsStatus_GetText(pae->Err),
                         (int)pae->ErrCode);
            else
                snprintf(c->why, sizeof(c->why), "entry stored at sequence %" PRIu64
                         "%s, expected %" PRIu64, pa ? pa->Sequence : 0,
                         pa && pa->Duplicate ? " as a duplicate" : "", e + 1);
        }
        if (c->done == c->n || c->failed)
            pthread_cond_broadcast(&c->acked);
    }
    pthread_mutex_unlock(&c->lock);
    natsMsg_Destroy(msg);
}

int clog_new(struct clog **out, const struct clog_opts *o, char *err, size_t errlen)
{
    struct clog *c = xcalloc(1, sizeof(*c));
    c->cl = o->cluster;
    c->store = o->store;
    c->env = o->env;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : CLOG_TIMEOUT_MS;
    snprintf(c->node_id, sizeof(c->node_id), "%s", o->node_id);
    c->dirty = 1;   /* the first batch catches up with the log */
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t mono;
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_cond_init(&c->acked, &mono);
    pthread_condattr_destroy(&mono);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = c->timeout_ms;
    jo.PublishAsync.AckHandler = on_ack;
    jo.PublishAsync.AckHandlerClosure = c;
    jo.PublishAsync.MaxPending = 1 << 20;   /* a batch is bounded by the writer, not here */
    jo.PublishAsync.StallWait = c->timeout_ms;
    natsStatus s = natsConnection_JetStream(&c->js, cluster_nats(o->cluster), &jo);
    if (s != NATS_OK) {
        snprintf(err, errlen, "JetStream context for the log: %s", natsStatus_GetText(s));
        clog_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void clog_free(struct clog *c)
{
    if (!c)
        return;
    jsCtx_Destroy(c->js);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->acked);
    free(c->ids);
    free(c);
}

void clog_get_stats(struct clog *c, struct clog_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->lock);
}

/* ---- catching up: entries the log holds beyond the store ---- */

/* The log's last sequence (step 2: the stream's). 0, or HOOKD_EUNAVAIL. */
static int log_last(struct clog *c, uint64_t *last, char *why, size_t whylen)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, c->js, CLOG_STREAM, NULL, &jerr);
    if (s != NATS_OK) {
        snprintf(why, whylen, "stream %s: %s", CLOG_STREAM, natsStatus_GetText(s));
        return HOOKD_EUNAVAIL;
    }
    *last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return 0;
}

/* Apply entries from+1..to, fetched one by one, in one transaction. */
static int apply_range(struct clog *c, uint64_t from, uint64_t to, char *why, size_t whylen)
{
    struct store_txn *t;
    int rc = store_write(c->store, &t);
    for (uint64_t seq = from + 1; rc == 0 && seq <= to; seq++) {
        natsMsg *m = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_GetMsg(&m, c->js, CLOG_STREAM, seq, NULL, &jerr);
        if (s != NATS_OK) {
            snprintf(why, whylen, "entry %" PRIu64 " of %s: %s", seq, CLOG_STREAM,
                     natsStatus_GetText(s));
            rc = HOOKD_EUNAVAIL;
        } else if (strcmp(natsMsg_GetSubject(m), CLOG_SUBJECT) == 0) {
            rc = cfollow_apply(c->env, t, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
                               seq);
            if (rc)
                snprintf(why, whylen, "entry %" PRIu64 ": %s", seq, hookd_strerror(rc));
        }
        natsMsg_Destroy(m);
    }
    if (rc == 0 && (rc = store_meta_put_u64(t, WRITER_LOG_SEQ_KEY, to)) != 0)
        snprintf(why, whylen, "%s", hookd_strerror(rc));
    if (rc == 0 && (rc = store_commit(t)) != 0)
        snprintf(why, whylen, "commit: %s", hookd_strerror(rc));
    else if (rc && t)
        store_abort(t);
    return rc;
}

/*
 * Writer thread, before publishing after a start or a failed batch:
 * apply what the log holds beyond cluster.seq, so this batch's entries
 * follow the log's real last one.
 */
static int catch_up(struct clog *c)
{
    char why[512] = "";
    uint64_t have = 0, last = 0;
    struct store_txn *t;
    int rc = store_read(c->store, &t);
    if (rc == 0) {
        rc = store_meta_get_u64(t, WRITER_LOG_SEQ_KEY, &have);
        store_abort(t);
    }
    if (rc == 0)
        rc = log_last(c, &last, why, sizeof(why));
    if (rc == 0 && last < have) {
        snprintf(why, sizeof(why), "the log ends at %" PRIu64 " but this store holds entries "
                 "up to %" PRIu64 " (was the cluster set up again?)", last, have);
        rc = HOOKD_EUNAVAIL;
    }
    for (uint64_t at = have; rc == 0 && at < last; at += CATCH_UP_CHUNK) {
        uint64_t to = last - at > CATCH_UP_CHUNK ? at + CATCH_UP_CHUNK : last;
        rc = apply_range(c, at, to, why, sizeof(why));
        if (rc == 0) {
            pthread_mutex_lock(&c->lock);
            c->stats.caught_up += to - at;
            pthread_mutex_unlock(&c->lock);
        }
    }
    if (rc) {
        log_error("cannot catch up with the cluster's log; writes answer 503", "error",
                  *why ? why : hookd_strerror(rc), NULL);
        return rc;
    }
    if (last > have) {
        char n[24];
        snprintf(n, sizeof(n), "%" PRIu64, last - have);
        log_info("caught up with the cluster's log", "entries", n, NULL);
    }
    c->seq = last;
    c->dirty = 0;
    return 0;
}

/* ---- publishing ---- */

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The batch in flight: its ids, its base; acks of anything else are ignored. */
static void begin_batch(struct clog *c, const struct entry_w *const *e, size_t n)
{
    pthread_mutex_lock(&c->lock);
    if (n > c->cap) {
        c->cap = n;
        c->ids = xrealloc(c->ids, n * sizeof(*c->ids));
    }
    for (size_t i = 0; i < n; i++)
        hex(e[i]->head.seed, ENTRY_SEED_LEN, c->ids[i]);
    c->base = c->seq;
    c->n = n;
    c->done = c->ok = 0;
    c->failed = 0;
    c->why[0] = '\0';
    pthread_mutex_unlock(&c->lock);
}

static natsStatus publish_one(struct clog *c, const struct entry_w *e, size_t i)
{
    natsMsg *m = NULL;
    char expect[24];
    snprintf(expect, sizeof(expect), "%" PRIu64, c->seq + i);
    natsStatus s = natsMsg_Create(&m, CLOG_SUBJECT, NULL, (const char *)e->p, (int)e->len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_MSG_ID, c->ids[i]);   /* written before, read-only now */
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_EXPECT, expect);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, CLOG_HDR_NODE, c->node_id);
    if (s == NATS_OK)
        s = js_PublishMsgAsync(c->js, &m, NULL);   /* takes m on success */
    natsMsg_Destroy(m);
    return s;
}

/* Wait until every published entry is acknowledged, one failed, or the deadline. */
static int wait_acks(struct clog *c, size_t sent, int64_t timeout_ms)
{
    struct timespec until;
    clock_deadline_us(CLOCK_MONOTONIC, timeout_ms * 1000, &until);
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    while (c->done < sent && !c->failed && rc == 0)
        rc = pthread_cond_timedwait(&c->acked, &c->lock, &until);
    int ok = c->ok == c->n && !c->failed;
    if (!ok && !c->failed && !c->why[0])
        snprintf(c->why, sizeof(c->why), "%zu of %zu entries acknowledged in %" PRId64 " ms",
                 c->ok, c->n, timeout_ms);
    c->n = 0;   /* later acks of this batch count for nothing */
    pthread_mutex_unlock(&c->lock);
    return ok ? 0 : HOOKD_EUNAVAIL;
}

/* A failed batch: forget what nats.c still waits for, and catch up next time. */
static void fail_batch(struct clog *c, size_t n, const char *why)
{
    natsMsgList pending = { 0 };
    if (js_PublishAsyncGetPendingList(&pending, c->js) == NATS_OK)
        natsMsgList_Destroy(&pending);
    c->dirty = 1;
    char count[24];
    snprintf(count, sizeof(count), "%zu", n);
    log_warn("the cluster's log did not take a batch; its writes answer 503", "entries", count,
             "error", why, NULL);
    pthread_mutex_lock(&c->lock);
    c->stats.failures++;
    pthread_mutex_unlock(&c->lock);
}

int clog_publish(void *ctx, const struct entry_w *const *entries, size_t n, uint64_t *seq)
{
    struct clog *c = ctx;
    int rc;
    if (c->dirty && (rc = catch_up(c)) != 0) {
        pthread_mutex_lock(&c->lock);
        c->stats.failures++;
        pthread_mutex_unlock(&c->lock);
        return rc == HOOKD_EFULL ? rc : HOOKD_EUNAVAIL;
    }
    int64_t t0 = clock_mono_us();
    begin_batch(c, entries, n);
    size_t sent = 0;
    natsStatus s = NATS_OK;
    while (sent < n && (s = publish_one(c, entries[sent], sent)) == NATS_OK)
        sent++;
    rc = wait_acks(c, sent, s == NATS_OK ? c->timeout_ms : 0);
    if (s != NATS_OK || rc) {
        char why[320];
        pthread_mutex_lock(&c->lock);
        snprintf(why, sizeof(why), "%s", s != NATS_OK ? natsStatus_GetText(s) : c->why);
        pthread_mutex_unlock(&c->lock);
        fail_batch(c, n, why);
        return HOOKD_EUNAVAIL;
    }
    c->seq += n;
    *seq = c->seq;
    uint64_t took = (uint64_t)(clock_mono_us() - t0);
    pthread_mutex_lock(&c->lock);
    c->stats.batches++;
    c->stats.entries += n;
    c->stats.publish_us_total += took;
    if (took > c->stats.publish_us_max)
        c->stats.publish_us_max = took;
    pthread_mutex_unlock(&c->lock);
    return 0;
}
