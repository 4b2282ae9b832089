/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfollow.c - the standby's follower thread (cfollow.h).
 *
 * The thread owns its subscription; the writer owns the transaction. They
 * meet through one intent at a time: the thread fills it with the
 * messages that have arrived, submits it and waits for its done(), so the
 * standby's store is never more than one batch behind what it received,
 * and memory holds one batch plus what nats.c buffers. A subscription
 * that fails (a NATS server gone, a consumer lost) is dropped and made
 * again from the store's cluster.seq: the store, not the server, knows
 * where the standby is.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "thread.h"
#include "writer.h"

#define WAIT_MS 250          /* for the first entry of a batch; the stop is seen this often */
#define RETRY_MS 1000        /* after a failed subscription or batch */
/*
 * An ordered consumer that nats.c failed to reset (its server died while
 * the stream elected a leader) stays silent for good: after this long
 * without an entry, the stream's last sequence is asked for, and a
 * subscription behind it is made again.
 */
#define STALL_CHECK_MS 3000

struct cfollow {
    struct cfollow_opts o;
    pthread_t thread;
    int started;
    atomic_int stop;

    pthread_mutex_t lock;    /* guards owner, refused, and the batch's finished and status */
    pthread_cond_t finished_cv;
    char owner[80];
    char refused[512];       /* why this store cannot follow the log ("" when it can) */

    /* the batch in flight: filled by the thread, applied by the writer */
    struct intent in;
    natsMsg *msgs[CFOLLOW_BATCH];
    uint64_t seqs[CFOLLOW_BATCH];
    size_t n;
    int finished, status;

    /* follower thread only */
    natsSubscription *sub;
    uint64_t failures;
};

static int fatal(int rc)
{
    return rc == HOOKD_EFULL || rc == HOOKD_ESTORE || rc == HOOKD_EBOOTSTRAP
           || (rc < 0 && rc > HOOKD_ELAST);
}

int cfollow_apply(const struct reapply_env *env, struct store_txn *t, const void *p, size_t n,
                  uint64_t seq)
{
    struct store_txn *nested;
    int rc = store_nested(t, &nested);
    if (rc)
        return rc;
    rc = reapply_entry(env, p, n, nested);
    if (rc == 0)
        return store_commit(nested);
    store_abort(nested);
    if (fatal(rc))
        return rc;
    if (log_enabled(LOG_DEBUG)) {
        char at[24];
        uint16_t kind = n >= ENTRY_HEAD_LEN ? (uint16_t)(((const uint8_t *)p)[3] << 8
                                                         | ((const uint8_t *)p)[4]) : 0;
        snprintf(at, sizeof(at), "%" PRIu64, seq);
        log_debug("log entry skipped: it failed on the owner too", "seq", at, "kind",
                  reapply_kind_name(kind), "error", hookd_strerror(rc), NULL);
    }
    return 0;
}

/* Writer thread: the batch's entries, then cluster.seq, in one (nested) transaction. */
static int batch_apply(struct intent *in, struct store_txn *t)
{
    struct cfollow *f = (struct cfollow *)((char *)in - offsetof(struct cfollow, in));
    uint64_t have = 0, last = 0;
    int rc = store_meta_get_u64(t, WRITER_LOG_SEQ_KEY, &have);
    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        if (f->seqs[i] <= have)   /* delivered again after a resubscription */
            continue;
        rc = clog_apply_message(f->o.env, t, natsMsg_GetData(f->msgs[i]),
                                (size_t)natsMsg_GetDataLength(f->msgs[i]), f->seqs[i],
                                clog_msg_epoch(f->msgs[i]));
        last = f->seqs[i];
    }
    if (rc == 0 && last)
        rc = store_meta_put_u64(t, WRITER_LOG_SEQ_KEY, last);
    return rc;
}

static void batch_done(struct intent *in, int status)
{
    struct cfollow *f = (struct cfollow *)((char *)in - offsetof(struct cfollow, in));
    pthread_mutex_lock(&f->lock);
    f->status = status;
    f->finished = 1;
    pthread_cond_signal(&f->finished_cv);
    pthread_mutex_unlock(&f->lock);
}

void cfollow_new(struct cfollow **out, const struct cfollow_opts *o)
{
    struct cfollow *f = xcalloc(1, sizeof(*f));
    f->o = *o;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->finished_cv, NULL);
    *out = f;
}

void cfollow_owner(struct cfollow *f, char *out, size_t cap)
{
    pthread_mutex_lock(&f->lock);
    snprintf(out, cap, "%s", f->owner);
    pthread_mutex_unlock(&f->lock);
}

/* The store's cluster.seq: the last log message applied. 0, or a store error. */
static int applied_seq(struct cfollow *f, uint64_t *have)
{
    struct store_txn *t;
    *have = 0;
    int rc = store_read(f->o.store, &t);
    if (rc == 0) {
        rc = store_meta_get_u64(t, WRITER_LOG_SEQ_KEY, have);
        store_abort(t);
    }
    return rc;
}

/* Say once, and keep for cfollow_refused, why this store cannot follow. */
static void refuse(struct cfollow *f, const char *why)
{
    pthread_mutex_lock(&f->lock);
    int first = !*f->refused;
    snprintf(f->refused, sizeof(f->refused), "%s", why);
    pthread_mutex_unlock(&f->lock);
    if (first)
        log_error("cannot follow the cluster's log", "error", why, NULL);
}

int cfollow_refused(struct cfollow *f, char *why, size_t cap)
{
    pthread_mutex_lock(&f->lock);
    int yes = *f->refused != 0;
    if (why)
        snprintf(why, cap, "%s", f->refused);
    pthread_mutex_unlock(&f->lock);
    return yes;
}

/*
 * The entries after the store's have + 1 must all be in the stream: an
 * ordered consumer asked for a trimmed start begins at the first entry
 * there, skipping the rest without a word. 0, or -1 (refused).
 */
static int check_gap(struct cfollow *f, uint64_t have)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, cluster_js(f->o.cluster), f->o.group.stream, NULL, &jerr) != NATS_OK)
        return 0;   /* the subscription fails too, and says so */
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    if (have >= last || have + 1 >= first)
        return 0;
    char why[512];
    clog_gap_sentence(have, first, why, sizeof(why));
    refuse(f, why);
    return -1;
}

/* 1 when the stream holds messages past what the store applied. */
static int behind(struct cfollow *f)
{
    uint64_t have;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (applied_seq(f, &have)
        || js_GetStreamInfo(&si, cluster_js(f->o.cluster), f->o.group.stream, NULL, &jerr) != NATS_OK)
        return 0;   /* nothing to tell: keep the subscription */
    int yes = si->State.LastSeq > have;
    jsStreamInfo_Destroy(si);
    return yes;
}

/* Subscribe from the store's cluster.seq + 1. 0, or -1 (logged once per outage). */
static int subscribe(struct cfollow *f)
{
    uint64_t have = 0;
    if (applied_seq(f, &have) || check_gap(f, have))
        return -1;
    jsSubOptions so;
    jsErrCode jerr = 0;
    jsSubOptions_Init(&so);
    so.Stream = f->o.group.stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = have + 1;
    natsStatus s = js_SubscribeSync(&f->sub, cluster_js(f->o.cluster), f->o.group.subject, NULL, &so,
                                    &jerr);
    if (s == NATS_OK) {
        if (f->failures) {
            char from[24];
            snprintf(from, sizeof(from), "%" PRIu64, have + 1);
            log_info("following the cluster's log again", "from", from, NULL);
        }
        f->failures = 0;
        return 0;
    }
    f->sub = NULL;
    if (f->failures++ == 0)
        log_warn("cannot follow the cluster's log; trying again every second", "error",
                 natsStatus_GetText(s), NULL);
    return -1;
}

static void drop_sub(struct cfollow *f)
{
    natsSubscription_Destroy(f->sub);
    f->sub = NULL;
}

/* What has arrived, up to CFOLLOW_BATCH entries. 0 (f->n may be 0) or -1: resubscribe. */
static int collect(struct cfollow *f)
{
    natsMsg *m = NULL;
    natsStatus s = natsSubscription_NextMsg(&m, f->sub, WAIT_MS);
    f->n = 0;
    while (s == NATS_OK) {
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
            f->msgs[f->n] = m;
            f->seqs[f->n++] = meta->Sequence.Stream;
            jsMsgMetaData_Destroy(meta);
        } else {
            natsMsg_Destroy(m);
        }
        int pending = 0;
        if (f->n == CFOLLOW_BATCH || natsSubscription_GetPending(f->sub, &pending, NULL)
            != NATS_OK || pending == 0)
            break;
        s = natsSubscription_NextMsg(&m, f->sub, WAIT_MS);
    }
    if (s == NATS_OK || s == NATS_TIMEOUT)
        return 0;
    if (f->failures++ == 0)
        log_warn("the cluster's log subscription failed; following it again", "error",
                 natsStatus_GetText(s), NULL);
    return -1;
}

/* The owner's name from the batch's last entry. */
static void note_owner(struct cfollow *f)
{
    const char *node = NULL;
    if (f->n && natsMsgHeader_Get(f->msgs[f->n - 1], CLOG_HDR_NODE, &node) == NATS_OK && node) {
        pthread_mutex_lock(&f->lock);
        snprintf(f->owner, sizeof(f->owner), "%s", node);
        pthread_mutex_unlock(&f->lock);
    }
}

/* Hand the batch to the writer and wait for it to be durable. */
static int apply_batch(struct cfollow *f)
{
    memset(&f->in, 0, sizeof(f->in));
    f->in.apply = batch_apply;
    f->in.done = batch_done;
    f->finished = 0;
    int rc = writer_submit(f->o.writer, &f->in);
    if (rc == 0) {
        pthread_mutex_lock(&f->lock);
        while (!f->finished)
            pthread_cond_wait(&f->finished_cv, &f->lock);
        rc = f->status;
        pthread_mutex_unlock(&f->lock);
    }
    if (rc == 0)
        note_owner(f);
    for (size_t i = 0; i < f->n; i++)
        natsMsg_Destroy(f->msgs[i]);
    f->n = 0;
    return rc;
}

static void pause_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* A silent subscription for STALL_CHECK_MS while the stream grew is dropped. */
static void check_stall(struct cfollow *f, int64_t *idle_since)
{
    int64_t now = clock_mono_ms();
    if (f->n) {
        *idle_since = 0;
        return;
    }
    if (!*idle_since) {
        *idle_since = now;
        return;
    }
    if (now - *idle_since < STALL_CHECK_MS)
        return;
    *idle_since = now;
    if (behind(f)) {
        log_warn("the cluster's log subscription went silent behind the stream; following it again",
                 NULL);
        drop_sub(f);
    }
}

static void *follow_main(void *arg)
{
    struct cfollow *f = arg;
    int64_t idle_since = 0;
    while (!atomic_load(&f->stop)) {
        if (!f->sub && subscribe(f)) {
            pause_ms(RETRY_MS);
            continue;
        }
        if (collect(f)) {
            if (f->n)   /* what arrived before the failure still applies */
                apply_batch(f);
            drop_sub(f);
            pause_ms(RETRY_MS);
            continue;
        }
        check_stall(f, &idle_since);
        if (!f->sub)
            continue;
        int rc = f->n ? apply_batch(f) : 0;
        if (rc == HOOKD_EBOOTSTRAP) {
            refuse(f, "the cluster's log starts from an imported store, which this store is "
                   "not: bootstrap from a hot backup of an imported store (hookd cluster "
                   "bootstrap, or hookd backup on a running node)");
            drop_sub(f);
            pause_ms(RETRY_MS);
        } else if (rc) {
            log_error("cannot apply the cluster's log; trying again", "error",
                      hookd_strerror(rc), NULL);
            drop_sub(f);   /* start again from cluster.seq */
            pause_ms(RETRY_MS);
        }
    }
    drop_sub(f);
    return NULL;
}

int cfollow_start(struct cfollow *f)
{
    if (f->started)
        return 0;
    atomic_store(&f->stop, 0);
    int rc = thread_start(&f->thread, "hookd-follow", follow_main, f);
    f->started = rc == 0;
    return rc;
}

void cfollow_stop(struct cfollow *f)
{
    if (!f || !f->started)
        return;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    f->started = 0;
}

void cfollow_free(struct cfollow *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->finished_cv);
    free(f);
}
