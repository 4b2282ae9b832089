/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clog.c - the owner publishes each batch to the replicated log before
 * applying it (clog.h).
 *
 * A batch travels as one stream message (or a few, when it is larger
 * than the servers take in one), so it costs one round trip to the
 * stream's leader and its quorum, and one expected sequence fences all
 * of it. Entries published one by one, pipelined, each expecting the
 * sequence of the one before, were refused by nats-server 2.9.10 ("wrong
 * last sequence") whenever more than one was in flight: it checks the
 * expectation against what it has applied, not what it has accepted.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "cfollow.h"
#include "clock.h"
#include "clog.h"
#include "cluster.h"
#include "cmeta.h"
#include "err.h"
#include "lease.h"
#include "log.h"
#include "mem.h"
#include "reapply.h"
#include "store.h"
#include "writer.h"

#define HDR_MSG_ID "Nats-Msg-Id"
#define HDR_EXPECT "Nats-Expected-Last-Subject-Sequence"
#define ID_HEX (2 * ENTRY_SEED_LEN + 1)
#define RECORD_HEAD 8        /* an entry's length and CRC-32 in a batch message */
#define CATCH_UP_CHUNK 64    /* batch messages per transaction when catching up */

struct clog {
    struct cluster *cl;
    struct cluster_group g;    /* the group's stream and subject */
    jsCtx *js;
    struct store *store;
    const struct reapply_env *env;
    char node_id[80];
    int64_t timeout_ms;
    _Atomic(struct lease *) lease;   /* NULL: a static owner */
    atomic_int stale;          /* clog_resync: catch up before the next batch */
    _Atomic uint64_t epoch;    /* clog_set_epoch: the owner's, stamped on each message */

    /* writer thread only */
    int dirty;                 /* the log may hold entries the store lacks */
    uint64_t seq;              /* the log's last sequence, the store's too (when !dirty) */
    size_t max_msg;            /* the stream's max_msg_size, from its info (0: not known) */
    uint8_t *buf;              /* a batch message being built */
    size_t cap;

    pthread_mutex_t lock;      /* guards the stats */
    struct clog_stats stats;
};

int clog_new(struct clog **out, const struct clog_opts *o, char *err, size_t errlen)
{
    struct clog *c = xcalloc(1, sizeof(*c));
    c->cl = o->cluster;
    c->g = o->group;
    c->store = o->store;
    c->env = o->env;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : CLOG_TIMEOUT_MS;
    snprintf(c->node_id, sizeof(c->node_id), "%s", o->node_id);
    c->dirty = 1;   /* the first batch catches up with the log */
    pthread_mutex_init(&c->lock, NULL);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = c->timeout_ms;
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
    free(c->buf);
    free(c);
}

void clog_set_lease(struct clog *c, struct lease *l)
{
    atomic_store(&c->lease, l);
}

void clog_set_epoch(struct clog *c, uint64_t epoch)
{
    atomic_store(&c->epoch, epoch);
}

uint64_t clog_msg_epoch(natsMsg *m)
{
    const char *v = NULL;
    if (natsMsgHeader_Get(m, CLOG_HDR_EPOCH, &v) != NATS_OK || !v)
        return 0;
    return strtoull(v, NULL, 10);
}

void clog_resync(struct clog *c)
{
    atomic_store(&c->stale, 1);
}

void clog_get_stats(struct clog *c, struct clog_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->lock);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int clog_next_entry(const void *msg, size_t len, size_t *off, const void **entry, size_t *n)
{
    const uint8_t *p = msg;
    if (*off == len)
        return 0;
    if (len - *off < RECORD_HEAD)
        return HOOKD_ECORRUPT;
    uint32_t elen = get_be32(p + *off), crc = get_be32(p + *off + 4);
    if (elen > len - *off - RECORD_HEAD || entry_crc32(p + *off + RECORD_HEAD, elen) != crc)
        return HOOKD_ECORRUPT;
    *entry = p + *off + RECORD_HEAD;
    *n = elen;
    *off += RECORD_HEAD + elen;
    return 1;
}

/* Every entry of a batch message, each in its nested transaction of t. */
int clog_apply_message(const struct reapply_env *env, struct store_txn *t, const void *msg,
                       size_t len, uint64_t seq, uint64_t epoch)
{
    size_t off = 0, n;
    const void *e;
    int rc = cmeta_message_stale(t, epoch);
    if (rc) {   /* an older owner's, after a newer one's marker: skipped everywhere */
        char at[24];
        snprintf(at, sizeof(at), "%" PRIu64, seq);
        if (rc == 1)
            log_warn("a log message of an older owner's epoch after a newer marker; skipped",
                     "seq", at, NULL);
        return rc == 1 ? 0 : rc;
    }
    while ((rc = clog_next_entry(msg, len, &off, &e, &n)) == 1)
        if ((rc = cfollow_apply(env, t, e, n, seq)) != 0)
            return rc;
    if (rc == HOOKD_ECORRUPT) {   /* the same bytes on every node: skipped everywhere */
        char at[24];
        snprintf(at, sizeof(at), "%" PRIu64, seq);
        log_error("a damaged batch in the cluster's log; the rest of it is skipped", "seq", at,
                  NULL);
        rc = 0;
    }
    return rc;
}

/* ---- catching up: entries the log holds beyond the store ---- */

/* The log's first and last sequences (step 2: the stream's). 0, or HOOKD_EUNAVAIL. */
static int log_last(struct clog *c, uint64_t *first, uint64_t *last, char *why, size_t whylen)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, c->js, c->g.stream, NULL, &jerr);
    if (s != NATS_OK) {
        snprintf(why, whylen, "stream %s: %s", c->g.stream, natsStatus_GetText(s));
        return HOOKD_EUNAVAIL;
    }
    *last = si->State.LastSeq;
    *first = si->State.FirstSeq;
    if (si->Config && si->Config->MaxMsgSize > 0)
        c->max_msg = (size_t)si->Config->MaxMsgSize;
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
        natsStatus s = js_GetMsg(&m, c->js, c->g.stream, seq, NULL, &jerr);
        if (s != NATS_OK) {
            snprintf(why, whylen, "entry %" PRIu64 " of %s: %s", seq, c->g.stream,
                     natsStatus_GetText(s));
            rc = HOOKD_EUNAVAIL;
        } else if (strcmp(natsMsg_GetSubject(m), c->g.subject) == 0) {
            rc = clog_apply_message(c->env, t, natsMsg_GetData(m),
                                    (size_t)natsMsg_GetDataLength(m), seq, clog_msg_epoch(m));
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
    uint64_t have = 0, last = 0, first = 0;
    struct store_txn *t;
    int rc = store_read(c->store, &t);
    if (rc == 0) {
        rc = store_meta_get_u64(t, WRITER_LOG_SEQ_KEY, &have);
        store_abort(t);
    }
    if (rc == 0)
        rc = log_last(c, &first, &last, why, sizeof(why));
    if (rc == 0 && have < last && have + 1 < first) {   /* never skip entries silently */
        clog_gap_sentence(have, first, why, sizeof(why));
        rc = HOOKD_EBOOTSTRAP;
    }
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

/*
 * After catching up: a newer owner's marker in the store means another
 * node owns the log now; this one must not publish after it (the stream
 * would take it, its expectation being right).
 */
static int superseded(struct clog *c, uint64_t epoch, char *why, size_t whylen)
{
    struct cmeta m;
    if (!epoch || cmeta_load(c->store, &m) || m.epoch <= epoch)
        return 0;
    snprintf(why, whylen, "the log holds owner %s's marker of epoch %" PRIu64 ", newer than ours "
             "(%" PRIu64 ")", m.owner, m.epoch, epoch);
    return 1;
}

void clog_gap_sentence(uint64_t have, uint64_t first, char *out, size_t cap)
{
    snprintf(out, cap, "this store has applied the cluster's log up to entry %" PRIu64
             " but the log now starts at %" PRIu64 " (older entries are trimmed after the log "
             "retention): it cannot follow; start this node from a hot backup of a running "
             "node (hookd cluster bootstrap, or hookd backup), which carries its place in the "
             "log", have, first);
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

/* The entries e[from..*to) that fit in one message of at most max bytes (at least one). */
static size_t fill(struct clog *c, const struct entry_w *const *e, size_t from, size_t n,
                   size_t max, size_t *to)
{
    size_t len = 0, i = from;
    while (i < n && (i == from || len + RECORD_HEAD + e[i]->len <= max)) {
        if (len + RECORD_HEAD + e[i]->len > c->cap) {
            c->cap = 2 * (len + RECORD_HEAD + e[i]->len);
            c->buf = xrealloc(c->buf, c->cap);
        }
        put_be32(c->buf + len, (uint32_t)e[i]->len);
        put_be32(c->buf + len + 4, entry_crc32(e[i]->p, e[i]->len));
        memcpy(c->buf + len + RECORD_HEAD, e[i]->p, e[i]->len);
        len += RECORD_HEAD + e[i]->len;
        i++;
    }
    *to = i;
    return len;
}

/*
 * One batch message, after c->seq and only there; its id is its first
 * entry's seed, so a copy sent twice is stored once. 0 and c->seq moved
 * to its sequence, or HOOKD_EUNAVAIL with why.
 */
static int publish_one(struct clog *c, const struct entry_w *first, size_t len, uint64_t epoch,
                       char *why, size_t whylen)
{
    natsMsg *m = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    jsPubOptions po;
    char expect[24], id[ID_HEX], ep[24];
    snprintf(expect, sizeof(expect), "%" PRIu64, c->seq);
    snprintf(ep, sizeof(ep), "%" PRIu64, epoch);
    hex(first->head.seed, ENTRY_SEED_LEN, id);
    jsPubOptions_Init(&po);
    po.MaxWait = c->timeout_ms;
    natsStatus s = natsMsg_Create(&m, c->g.subject, NULL, (const char *)c->buf, (int)len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_MSG_ID, id);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_EXPECT, expect);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, CLOG_HDR_NODE, c->node_id);
    if (s == NATS_OK && epoch)
        s = natsMsgHeader_Set(m, CLOG_HDR_EPOCH, ep);
    if (s == NATS_OK)
        s = js_PublishMsg(&pa, c->js, m, &po, &jerr);
    if (s == NATS_OK && (pa->Duplicate || pa->Sequence <= c->seq)) {
        snprintf(why, whylen, "stored at sequence %" PRIu64 "%s, after %" PRIu64, pa->Sequence,
                 pa->Duplicate ? " as a duplicate" : "", c->seq);
        s = NATS_ERR;
    } else if (s == NATS_OK) {
        c->seq = pa->Sequence;
    } else {
        const char *t = nats_GetLastError(NULL);
        snprintf(why, whylen, "%s (JetStream error %d)", t && *t ? t : natsStatus_GetText(s),
                 (int)jerr);
    }
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(m);
    return s == NATS_OK ? 0 : HOOKD_EUNAVAIL;
}

/* A failed batch: catch up before the next one (some of it may be in the log). */
static void fail_batch(struct clog *c, size_t n, const char *why)
{
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
    char why[512] = "";
    int rc;
    if (atomic_exchange(&c->stale, 0))
        c->dirty = 1;
    struct lease *l = atomic_load(&c->lease);
    if (l && !lease_held(l, NULL)) {   /* fenced: not a word to the log */
        c->dirty = 1;
        pthread_mutex_lock(&c->lock);
        c->stats.failures++;
        pthread_mutex_unlock(&c->lock);
        return HOOKD_EUNAVAIL;
    }
    uint64_t epoch = atomic_load(&c->epoch);
    if (c->dirty && (rc = catch_up(c)) != 0) {
        pthread_mutex_lock(&c->lock);
        c->stats.failures++;
        pthread_mutex_unlock(&c->lock);
        return rc == HOOKD_EFULL ? rc : HOOKD_EUNAVAIL;
    }
    if (superseded(c, epoch, why, sizeof(why))) {
        fail_batch(c, n, why);
        return HOOKD_EUNAVAIL;
    }
    int64_t t0 = clock_mono_us();
    size_t max = (size_t)natsConnection_GetMaxPayload(cluster_nats(c->cl)), msgs = 0;
    /* The stream takes messages up to max-body + CLUSTER_ENTRY_OVERHEAD, less
     * than the servers' max_payload may be: a batch beyond it is refused whole
     * (JetStream error 10054), so a batch is split at the smaller of the two. */
    if (c->max_msg && c->max_msg < max)
        max = c->max_msg;
    max = max > 4096 ? max - 4096 : max;   /* room for the headers */
    rc = 0;
    for (size_t from = 0, to; from < n && rc == 0; from = to, msgs++) {
        size_t len = fill(c, entries, from, n, max, &to);
        rc = publish_one(c, entries[from], len, epoch, why, sizeof(why));
    }
    if (rc) {
        fail_batch(c, n, why);
        return HOOKD_EUNAVAIL;
    }
    *seq = c->seq;
    uint64_t took = (uint64_t)(clock_mono_us() - t0);
    pthread_mutex_lock(&c->lock);
    c->stats.batches++;
    c->stats.messages += msgs;
    c->stats.entries += n;
    c->stats.publish_us_total += took;
    if (took > c->stats.publish_us_max)
        c->stats.publish_us_max = took;
    pthread_mutex_unlock(&c->lock);
    return 0;
}
