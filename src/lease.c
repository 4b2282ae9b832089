/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lease.c - a partition group's lease on a JetStream KV key (lease.h).
 *
 * The writes are the KV's own (kvStore_Create and kvStore_Update publish
 * to $KV.<bucket>.<key> with an expected last subject sequence), sent here
 * with js_Publish so that each has its own deadline (a renewal must not
 * wait past the self-fencing point) and its JetStream error code: "wrong
 * last sequence" means someone else wrote, anything else is a failure to
 * retry. Reads take the key's last message from the stream leader
 * (js_GetLastMsg), delete markers included, since a release marker
 * carries the epoch.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "lease.h"
#include "mem.h"
#include "thread.h"

#define KV_OP_HEADER "KV-Operation"

struct lease {
    struct cluster *c;
    char node[LEASE_KEY_MAX];
    char key[LEASE_KEY_MAX];
    char stream[96];        /* KV_<bucket> */
    char subject[160];      /* $KV.<bucket>.<key> */
    struct lease_cbs cbs;
    int64_t ttl_ms;
    pthread_t thread;
    int started;

    pthread_mutex_t mu;     /* everything below */
    pthread_cond_t cv;      /* on CLOCK_MONOTONIC: stop */
    int stop;
    int held;
    uint64_t epoch;         /* ours while held */
    uint64_t rev;           /* our last write's revision while held */
    int64_t ok_mono;        /* when our last successful write was sent */
    int64_t next_renew;     /* mono ms */
    int64_t retry_at;       /* mono ms: the next acquire try */
    uint64_t floor;         /* lease_note_epoch */
    uint64_t seen_epoch;    /* the highest epoch read on the key */
    char holder[LEASE_KEY_MAX];   /* the holder last read ("" none) */
    uint64_t holder_epoch;
    uint64_t pending_epoch; /* an acquire whose answer never came */
    int64_t pending_sent;
    int64_t free_since;     /* mono ms the key was first read free in this spell; 0 held */
    int yield;              /* lease_yield asked: 1 asked, 2 done (the answer in yielded) */
    int yielded;
};

const char *lease_loss_name(enum lease_loss why)
{
    switch (why) {
    case LEASE_LOST_TAKEN: return "taken";
    case LEASE_LOST_EXPIRED: return "expired";
    case LEASE_LOST_SILENT: return "renew-timeout";
    }
    return "unknown";
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The key's last entry as read from the stream leader. */
struct last {
    int found;              /* 0: no entry (absent or expired) */
    int deleted;            /* a delete or purge marker */
    uint64_t rev;
    char node[LEASE_KEY_MAX];
    uint64_t epoch;         /* 0 when the entry carries none */
};

static void parse_value(const char *data, int len, struct last *e)
{
    json_t *o = data && len > 0 ? json_loadb(data, (size_t)len, 0, NULL) : NULL;
    const char *node = "";
    json_int_t epoch = 0;
    if (o && !json_unpack(o, "{s?s, s?I}", "node", &node, "epoch", &epoch)) {
        snprintf(e->node, sizeof(e->node), "%s", node);
        e->epoch = epoch > 0 ? (uint64_t)epoch : 0;
    }
    json_decref(o);
}

/* 0 with *e filled, -1 when the leader did not answer. */
static int read_last(struct lease *l, int64_t wait_ms, struct last *e)
{
    jsOptions jo;
    jsErrCode jerr = 0;
    natsMsg *m = NULL;
    memset(e, 0, sizeof(*e));
    jsOptions_Init(&jo);
    jo.Wait = wait_ms;
    natsStatus s = js_GetLastMsg(&m, cluster_js(l->c), l->stream, l->subject, &jo, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
        return 0;
    if (s != NATS_OK)
        return -1;
    const char *op = NULL;
    e->found = 1;
    e->rev = natsMsg_GetSequence(m);
    e->deleted = natsMsgHeader_Get(m, KV_OP_HEADER, &op) == NATS_OK && op
                 && (strcmp(op, "DEL") == 0 || strcmp(op, "PURGE") == 0);
    parse_value(natsMsg_GetData(m), natsMsg_GetDataLength(m), e);
    natsMsg_Destroy(m);
    return 0;
}

/* What our writes carry: the value, or a release marker's body. */
static char *value_json(struct lease *l, uint64_t epoch, const char *when_field)
{
    json_t *o = json_pack("{s:s, s:I, s:I}", "node", l->node, "epoch", (json_int_t)epoch,
                          when_field, (json_int_t)clock_now_ms());
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

enum wr { WR_OK, WR_CONFLICT, WR_FAILED };

/*
 * One compare-and-set write: expect_rev 0 means "no message on the key".
 * del: a delete marker. *rev the new revision on WR_OK.
 */
static enum wr cas_write(struct lease *l, const char *body, int del, uint64_t expect_rev,
                         int64_t wait_ms, uint64_t *rev)
{
    jsPubOptions po;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsMsg *m = NULL;
    jsPubOptions_Init(&po);
    po.MaxWait = wait_ms;
    if (expect_rev)
        po.ExpectLastSubjectSeq = expect_rev;
    else
        po.ExpectNoMessage = true;
    natsStatus s = natsMsg_Create(&m, l->subject, NULL, body, (int)strlen(body));
    if (s == NATS_OK && del)
        s = natsMsgHeader_Set(m, KV_OP_HEADER, "DEL");
    if (s == NATS_OK)
        s = js_PublishMsg(&pa, cluster_js(l->c), m, &po, &jerr);
    if (s == NATS_OK)
        *rev = pa->Sequence;
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(m);
    if (s == NATS_OK)
        return WR_OK;
    return jerr == JSStreamWrongLastSequenceErr ? WR_CONFLICT : WR_FAILED;
}

static void note_seen(struct lease *l, const struct last *e)
{
    if (e->epoch > l->seen_epoch)
        l->seen_epoch = e->epoch;
    if (e->found && !e->deleted) {
        snprintf(l->holder, sizeof(l->holder), "%s", e->node);
        l->holder_epoch = e->epoch;
    } else {
        l->holder[0] = 0;
        l->holder_epoch = 0;
    }
}

/*
 * A holder renews every TTL/10 and fences itself when no renewal has
 * succeeded for 7/10 of the TTL. The fence leaves 3/10 of the TTL before
 * the key can expire under it. It also outlasts the election of a new
 * leader for the leases bucket (4-5 s when its leader's server is
 * killed), plus the renewal that was due just before that server died.
 * With TTL/2, killing that server moved the lease every time.
 */
static int64_t renew_every(const struct lease *l) { return l->ttl_ms / 10; }
static int64_t fence_after(const struct lease *l) { return l->ttl_ms * 7 / 10; }

/* Called with mu held; returns with it held. */
static void become_holder(struct lease *l, uint64_t epoch, uint64_t rev, int64_t sent)
{
    l->held = 1;
    l->epoch = epoch;
    l->rev = rev;
    l->ok_mono = sent;
    l->next_renew = sent + renew_every(l);
    l->pending_epoch = 0;
    if (epoch > l->seen_epoch)
        l->seen_epoch = epoch;
    snprintf(l->holder, sizeof(l->holder), "%s", l->node);
    l->holder_epoch = epoch;
    pthread_mutex_unlock(&l->mu);
    if (l->cbs.on_acquired)
        l->cbs.on_acquired(l->cbs.arg, epoch);
    pthread_mutex_lock(&l->mu);
}

/* Called with mu held; returns with it held. */
static void lose(struct lease *l, enum lease_loss why)
{
    l->held = 0;
    /* a fenced ex-owner waits a TTL, so it does not take the lease straight back */
    l->retry_at = clock_mono_ms() + l->ttl_ms;
    pthread_mutex_unlock(&l->mu);
    if (l->cbs.on_lost)
        l->cbs.on_lost(l->cbs.arg, why);
    pthread_mutex_lock(&l->mu);
}

/* One acquire try; mu held on entry and exit. */
static void try_acquire(struct lease *l)
{
    int64_t wait = l->ttl_ms / 10;
    struct last e;
    pthread_mutex_unlock(&l->mu);
    int rc = read_last(l, wait, &e);
    pthread_mutex_lock(&l->mu);
    if (rc)
        return;
    note_seen(l, &e);
    if (e.found && !e.deleted)
        l->free_since = 0;
    else if (!l->free_since)
        l->free_since = clock_mono_ms();
    if (e.found && !e.deleted) {
        /* our own create whose answer was lost: it is ours, written after we sent it
           (too long ago to renew in time, it is left to expire) */
        if (l->pending_epoch && e.epoch == l->pending_epoch && strcmp(e.node, l->node) == 0
            && clock_mono_ms() - l->pending_sent < l->ttl_ms / 4)
            become_holder(l, e.epoch, e.rev, l->pending_sent);
        return;
    }
    if (l->cbs.may_acquire && !l->cbs.may_acquire(l->cbs.arg, clock_mono_ms() - l->free_since))
        return;   /* another node should have it: it may take it first */
    uint64_t epoch = (l->seen_epoch > l->floor ? l->seen_epoch : l->floor) + 1, rev = 0;
    pthread_mutex_unlock(&l->mu);
    char *body = value_json(l, epoch, "renewedAt");
    int64_t sent = clock_mono_ms();
    enum wr w = cas_write(l, body, 0, e.found ? e.rev : 0, wait, &rev);
    free(body);
    pthread_mutex_lock(&l->mu);
    if (w == WR_OK) {
        become_holder(l, epoch, rev, sent);
    } else if (w == WR_FAILED) {
        l->pending_epoch = epoch;
        l->pending_sent = sent;
    }
    /* WR_CONFLICT: another node wrote first; the next try reads it */
}

/* One renewal; mu held on entry and exit. */
static void try_renew(struct lease *l)
{
    int64_t sent = clock_mono_ms(), fence_at = l->ok_mono + fence_after(l);
    uint64_t epoch = l->epoch, expect = l->rev, rev = 0;
    /* never wait past the fencing point, nor long enough to miss the next renewal */
    int64_t wait = clamp64(fence_at - sent, 50, l->ttl_ms / 10);
    pthread_mutex_unlock(&l->mu);
    char *body = value_json(l, epoch, "renewedAt");
    enum wr w = cas_write(l, body, 0, expect, wait, &rev);
    free(body);
    struct last e;
    int rc = w == WR_CONFLICT ? read_last(l, wait, &e) : 0;
    pthread_mutex_lock(&l->mu);
    if (!l->held || l->epoch != epoch)
        return;
    if (w == WR_OK) {
        l->rev = rev;
        l->ok_mono = sent;
        l->next_renew = sent + renew_every(l);
        return;
    }
    /* a failure: try again soon, until the fencing point */
    l->next_renew = clock_mono_ms() + l->ttl_ms / 20;
    if (w != WR_CONFLICT || rc)
        return;
    note_seen(l, &e);
    if (e.found && !e.deleted && e.epoch == epoch && strcmp(e.node, l->node) == 0) {
        /* an earlier renewal of ours whose answer was lost: adopt its revision */
        l->rev = e.rev;
        l->next_renew = clock_mono_ms();
        snprintf(l->holder, sizeof(l->holder), "%s", l->node);
        return;
    }
    lose(l, e.found && !e.deleted ? LEASE_LOST_TAKEN : LEASE_LOST_EXPIRED);
}

/* Sleep until the monotonic time at (or a stop); mu held. */
static void sleep_until(struct lease *l, int64_t at)
{
    int64_t ms = at - clock_mono_ms();
    if (ms <= 0 || l->stop)
        return;
    struct timespec ts;
    clock_deadline(CLOCK_MONOTONIC, ms, &ts);
    pthread_cond_timedwait(&l->cv, &l->mu, &ts);
}

/* The delete marker of a held lease (compare-and-set on our revision); mu held. */
static int delete_held(struct lease *l)
{
    char *body = value_json(l, l->epoch, "releasedAt");
    uint64_t rev = 0;
    uint64_t expect = l->rev;
    pthread_mutex_unlock(&l->mu);
    /* compare-and-set: a lease lost unnoticed is never deleted under its new holder */
    enum wr w = cas_write(l, body, 1, expect, l->ttl_ms / 5, &rev);
    pthread_mutex_lock(&l->mu);
    free(body);
    l->held = 0;
    return w == WR_OK ? 1 : -1;
}

/* lease_yield's work, on the lease thread; mu held. */
static void do_yield(struct lease *l)
{
    l->yielded = l->held ? delete_held(l) : 0;
    /* as after a loss: the node that should own it takes it meanwhile */
    l->retry_at = clock_mono_ms() + l->ttl_ms;
    l->free_since = 0;
    l->yield = 2;
    pthread_cond_broadcast(&l->cv);
}

static void *lease_thread(void *arg)
{
    struct lease *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        int64_t now = clock_mono_ms();
        if (l->yield == 1) {
            do_yield(l);
        } else if (l->held) {
            int64_t fence_at = l->ok_mono + fence_after(l);
            if (now >= fence_at)
                lose(l, LEASE_LOST_SILENT);
            else if (now >= l->next_renew)
                try_renew(l);
            else
                sleep_until(l, l->next_renew < fence_at ? l->next_renew : fence_at);
        } else if (now >= l->retry_at) {
            try_acquire(l);
            if (!l->held && l->retry_at <= now)
                l->retry_at = now + l->ttl_ms / 10;
        } else {
            sleep_until(l, l->retry_at);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static int valid_key(const char *k)
{
    size_t n = strlen(k);
    if (!n || n >= LEASE_KEY_MAX || k[0] == '.' || k[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = k[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                 || ch == '-' || ch == '_' || (ch == '.' && k[i + 1] != '.');
        if (!ok)
            return 0;
    }
    return 1;
}

/* The bucket's max_age, its TTL: 0, or -1 with err. */
static int read_ttl(struct lease *l, char *err, size_t errlen)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, cluster_js(l->c), l->stream, NULL, &jerr);
    if (s != NATS_OK) {
        snprintf(err, errlen, "cannot read KV bucket %s: %s", CLUSTER_BUCKET_LEASES,
                 s == NATS_NOT_FOUND ? "it does not exist (run hookd cluster init)"
                                     : natsStatus_GetText(s));
        return -1;
    }
    l->ttl_ms = si->Config->MaxAge / 1000000;
    jsStreamInfo_Destroy(si);
    if (l->ttl_ms < 1000) {
        snprintf(err, errlen, "KV bucket %s has no TTL of a second or more (max_age); "
                 "leases need one", CLUSTER_BUCKET_LEASES);
        return -1;
    }
    return 0;
}

int lease_start(struct lease **out, struct cluster *c, const char *node_id, const char *key,
                const struct lease_cbs *cbs, char *err, size_t errlen)
{
    if (!valid_key(key) || !node_id || !*node_id || strlen(node_id) >= LEASE_KEY_MAX) {
        snprintf(err, errlen, "a lease key is letters, digits, '-', '_' and inner dots, and "
                 "a node id 1 to %d bytes", LEASE_KEY_MAX - 1);
        return -1;
    }
    struct lease *l = xcalloc(1, sizeof(*l));
    l->c = c;
    snprintf(l->node, sizeof(l->node), "%s", node_id);
    snprintf(l->key, sizeof(l->key), "%s", key);
    snprintf(l->stream, sizeof(l->stream), "KV_%s", CLUSTER_BUCKET_LEASES);
    snprintf(l->subject, sizeof(l->subject), "$KV.%s.%s", CLUSTER_BUCKET_LEASES, key);
    if (cbs)
        l->cbs = *cbs;
    if (read_ttl(l, err, errlen)) {
        free(l);
        return -1;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&l->mu, NULL);
    int rc = thread_start(&l->thread, "lease", lease_thread, l);
    if (rc) {
        snprintf(err, errlen, "cannot start the lease thread: %s", strerror(-rc));
        lease_free(l);
        return -1;
    }
    l->started = 1;
    *out = l;
    return 0;
}

void lease_note_epoch(struct lease *l, uint64_t epoch)
{
    pthread_mutex_lock(&l->mu);
    if (epoch > l->floor)
        l->floor = epoch;
    pthread_mutex_unlock(&l->mu);
}

int lease_held(struct lease *l, uint64_t *epoch)
{
    pthread_mutex_lock(&l->mu);
    int held = l->held && clock_mono_ms() - l->ok_mono < fence_after(l);
    if (held && epoch)
        *epoch = l->epoch;
    pthread_mutex_unlock(&l->mu);
    return held;
}

void lease_state(struct lease *l, char *holder, uint64_t *epoch, int64_t *ms_since_renew)
{
    pthread_mutex_lock(&l->mu);
    if (holder)
        snprintf(holder, LEASE_KEY_MAX, "%s", l->holder);
    if (epoch)
        *epoch = l->holder_epoch;
    if (ms_since_renew)
        *ms_since_renew = l->held ? clock_mono_ms() - l->ok_mono : -1;
    pthread_mutex_unlock(&l->mu);
}

int64_t lease_ttl_ms(struct lease *l)
{
    return l->ttl_ms;
}

void lease_stop(struct lease *l)
{
    if (!l || !l->started)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    l->started = 0;
}

int lease_release(struct lease *l)
{
    lease_stop(l);
    if (!l->held)
        return 0;
    pthread_mutex_lock(&l->mu);
    int rc = delete_held(l);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int lease_yield(struct lease *l)
{
    pthread_mutex_lock(&l->mu);
    if (!l->started || l->stop) {
        pthread_mutex_unlock(&l->mu);
        return 0;
    }
    l->yield = 1;
    pthread_cond_broadcast(&l->cv);
    while (l->yield == 1 && !l->stop)
        pthread_cond_wait(&l->cv, &l->mu);
    int rc = l->yield == 2 ? l->yielded : 0;
    l->yield = 0;
    pthread_mutex_unlock(&l->mu);
    return rc;
}

void lease_free(struct lease *l)
{
    if (!l)
        return;
    lease_stop(l);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
