/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cnode.c - a serving node of a cluster (cnode.h).
 *
 * Entries from the log (a standby's whole life, an owner's catch-up) are
 * applied through an API of their own, marked replaying like hookd
 * reapply's: API writes re-applied compute their answer and drop it, and
 * are not held to the store's reserve, since they were admitted where
 * they were written.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api.h"
#include "cboot.h"
#include "cfollow.h"
#include "cfwd.h"
#include "clog.h"
#include "cluster.h"
#include "cnode.h"
#include "clock.h"
#include "cmeta.h"
#include "config.h"
#include "cstats.h"
#include "dispatch.h"
#include "epcache.h"
#include "err.h"
#include "lease.h"
#include "log.h"
#include "mem.h"
#include "reapply.h"
#include "store.h"
#include "thread.h"
#include "writer.h"

enum { MODE_OWNER, MODE_STANDBY, MODE_AUTO };

#define LEASE_KEY "group.0"        /* step 2: the one partition group */
#define CATCH_UP_POLL_MS 50        /* a new owner checks its follower this often */

struct cnode {
    struct cluster *cl;
    struct cluster *lease_cl;  /* auto: the lease's own connection */
    struct api *api;
    struct api replay;         /* applies log entries (replaying) */
    struct reapply_env env;
    struct clog *clog;         /* owner, auto */
    struct cfollow *follow;    /* standby, auto */
    struct lease *lease;       /* auto */
    struct cfwd *fwd;          /* serves forwarded requests; auto also forwards (cfwd.h) */
    struct dispatch *dispatch; /* auto: held and released as the lease moves */
    struct cstats *cstats;     /* cluster-wide stats: answers and gathers */
    struct cboot_server *boot; /* answers hookd cluster bootstrap with copies of the store */
    int mode;
    int hold;                  /* --hold-deliveries: an owner keeps them held */

    /* auto: the role thread turns the lease's callbacks into a role */
    pthread_t role_thread;
    int role_started;
    pthread_mutex_t lock;      /* guards the fields below */
    pthread_cond_t wake;
    int want_owner;            /* the lease is ours (on_acquired, until on_lost) */
    int active;                /* acting as the owner: writes and deliveries */
    int following;             /* the follower runs (role thread only writes it) */
    int stopping;
    int64_t acquired_ms;       /* when on_acquired came (for the takeover log line) */
    uint64_t lease_epoch;      /* on_acquired's */
    int lease_gone;            /* released by the role thread: this store cannot follow */

    /* auto: the marker a new owner publishes before it owns (become_owner) */
    atomic_int marking;        /* the writer may publish though the node is not active */
    struct intent marker;
    int marker_done, marker_status;   /* under lock */
};

static int is_active(struct cnode *n)
{
    if (n->mode != MODE_AUTO)
        return n->mode == MODE_OWNER;
    pthread_mutex_lock(&n->lock);
    int a = n->active;
    pthread_mutex_unlock(&n->lock);
    return a;
}

static void owner_of(void *ctx, char *out, size_t cap)
{
    struct cnode *n = ctx;
    if (is_active(n))
        snprintf(out, cap, "%s", n->replay.cfg->node_id);
    else if (n->follow)
        cfollow_owner(n->follow, out, cap);
    else
        *out = 0;
}

/* GET /hookd/v1/stats' cluster object, beyond role, nodeId and seq (api_ops.c). */
static void stats_of(void *ctx, json_t *out)
{
    struct cnode *n = ctx;
    char owner[80];
    owner_of(n, owner, sizeof(owner));
    json_object_set_new(out, "owner", *owner ? json_string(owner) : json_null());
    struct cmeta m;
    if (cmeta_load(n->replay.store, &m) == 0)
        json_object_set_new(out, "epoch", json_pack(
            "{s:I, s:o, s:I}", "epoch", (json_int_t)m.epoch, "owner",
            *m.owner ? json_string(m.owner) : json_null(), "staleSkipped", (json_int_t)m.stale));
    char why[512];
    if (n->follow && cfollow_refused(n->follow, why, sizeof(why)))
        json_object_set_new(out, "refused", json_string(why));
    cstats_put(n->cstats, out);
    if (n->lease) {
        char holder[LEASE_KEY_MAX];
        uint64_t epoch = 0;
        int64_t ms = -1;
        lease_state(n->lease, holder, &epoch, &ms);
        json_object_set_new(out, "lease", json_pack(
            "{s:s, s:o, s:I, s:b, s:I}", "key", LEASE_KEY, "holder",
            *holder ? json_string(holder) : json_null(), "epoch", (json_int_t)epoch, "held",
            lease_held(n->lease, NULL), "msSinceRenew", (json_int_t)ms));
    }
    cfwd_stats(n->fwd, out);
    if (!n->clog)
        return;
    struct clog_stats s;
    clog_get_stats(n->clog, &s);
    json_object_set_new(out, "publish", json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "batches", (json_int_t)s.batches, "messages",
        (json_int_t)s.messages, "entries",
        (json_int_t)s.entries, "failures", (json_int_t)s.failures, "caughtUp",
        (json_int_t)s.caught_up, "avgUs",
        (json_int_t)(s.batches ? s.publish_us_total / s.batches : 0), "maxUs",
        (json_int_t)s.publish_us_max));
}

/*
 * Whom a standby forwards to (cfwd.h): the lease's holder as last read
 * (auto), unless that is this node, which then either catches up and owns
 * in a moment, or has just fenced itself and knows the new owner only
 * from the log's entries (the lease is read again a TTL after a loss).
 */
static void forward_target(void *ctx, char *out, size_t cap)
{
    struct cnode *n = ctx;
    const char *self = n->replay.cfg->node_id;
    char holder[LEASE_KEY_MAX] = "";
    *out = 0;
    if (n->lease)
        lease_state(n->lease, holder, NULL, NULL);
    if (*holder && strcmp(holder, self) != 0) {
        snprintf(out, cap, "%s", holder);
        return;
    }
    if (*holder && lease_held(n->lease, NULL))
        return;
    if (n->follow)
        cfollow_owner(n->follow, out, cap);
    if (strcmp(out, self) == 0)
        *out = 0;
}

static void forward(void *ctx, struct http_req *r)
{
    cfwd_forward(((struct cnode *)ctx)->fwd, r);
}

static int make_fwd(struct cnode *n, const struct config *c, char *err, size_t errlen)
{
    char name[96];
    snprintf(name, sizeof(name), "%s-fwd", c->node_id);
    /* one request or answer at a time per client: latency, not batching */
    struct cluster_conn_opts co = { .urls = c->cluster, .name = name,
                                    .creds = c->nats_creds, .ca = c->nats_ca,
                                    .timeout_ms = 5000, .send_asap = 1 };
    struct cfwd_opts fo = { .conn = &co, .node_id = c->node_id, .api = n->api,
                            .writer = n->replay.writer, .owns = cnode_owns,
                            .owner = forward_target, .ctx = n };
    return cfwd_new(&n->fwd, &fo, err, errlen);
}

/* ---- auto: the lease chooses the role ---- */

/* Writes, roles and deliveries as owner (on) or standby; under n->lock. */
static void set_role_locked(struct cnode *n, int owner)
{
    n->active = owner;
    atomic_store(&n->api->cluster_standby, !owner);
    atomic_store(&n->api->cluster_role, owner ? "owner" : "standby");
    if (!n->dispatch)
        return;
    if (!owner)
        dispatch_hold(n->dispatch);
    else if (!n->hold)
        dispatch_release(n->dispatch);
}

static void on_acquired(void *arg, uint64_t epoch)
{
    struct cnode *n = arg;
    char e[24];
    snprintf(e, sizeof(e), "%" PRIu64, epoch);
    log_info("lease acquired: catching up with the log, then owning it", "key", LEASE_KEY,
             "epoch", e, NULL);
    pthread_mutex_lock(&n->lock);
    n->want_owner = 1;
    n->acquired_ms = clock_mono_ms();
    n->lease_epoch = epoch;
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->lock);
}

/* Fence at once, here on the lease thread: writes 503, nothing new delivered. */
static void on_lost(void *arg, enum lease_loss why)
{
    struct cnode *n = arg;
    pthread_mutex_lock(&n->lock);
    n->want_owner = 0;
    set_role_locked(n, 0);
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->lock);
    log_warn("lease lost: this node is a standby now (writes answer 503, deliveries held)",
             "key", LEASE_KEY, "why", lease_loss_name(why), NULL);
}

/* The writer's log function in auto: only an active owner publishes. */
static int auto_publish(void *ctx, const struct entry_w *const *entries, size_t n,
                        uint64_t *seq)
{
    struct cnode *c = ctx;
    if (!is_active(c) && !atomic_load(&c->marking))
        return HOOKD_EUNAVAIL;
    return clog_publish(c->clog, entries, n, seq);
}

/* The store applied the log to its last sequence (a follower that caught up). */
static int at_log_end(struct cnode *n)
{
    uint64_t have = 0;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    struct store_txn *t;
    if (js_GetStreamInfo(&si, cluster_js(n->cl), CLOG_STREAM, NULL, &jerr) != NATS_OK)
        return 0;
    uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    if (store_read(n->replay.store, &t))
        return 0;
    store_meta_get_u64(t, WRITER_LOG_SEQ_KEY, &have);
    store_abort(t);
    return have >= last;
}

static void pause_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* ---- the epoch marker ---- */

static int marker_apply(struct intent *in, struct store_txn *t)
{
    struct cnode *n = (struct cnode *)((char *)in - offsetof(struct cnode, marker));
    return reapply_entry(&n->env, in->entry.p, in->entry.len, t);
}

static void marker_done(struct intent *in, int status)
{
    struct cnode *n = (struct cnode *)((char *)in - offsetof(struct cnode, marker));
    pthread_mutex_lock(&n->lock);
    n->marker_status = status;
    n->marker_done = 1;
    pthread_cond_broadcast(&n->wake);
    pthread_mutex_unlock(&n->lock);
}

/*
 * Role thread: publish this node's EPOCH entry (cmeta.h) through the
 * writer, which first catches up with the whole log and then applies the
 * marker itself: 0 once the store holds everything up to and including
 * it. The epoch is the lease's, or one above the store's when the lease's
 * is not above it (the key expired before anyone read it: lease.h).
 */
static int publish_marker(struct cnode *n, uint64_t *epoch)
{
    struct cmeta m;
    int rc = cmeta_load(n->replay.store, &m);
    if (rc)
        return rc;
    pthread_mutex_lock(&n->lock);
    *epoch = n->lease_epoch > m.epoch ? n->lease_epoch : m.epoch + 1;
    n->marker_done = 0;
    pthread_mutex_unlock(&n->lock);
    lease_note_epoch(n->lease, *epoch);
    clog_set_epoch(n->clog, *epoch);
    memset(&n->marker, 0, sizeof(n->marker));
    n->marker.apply = marker_apply;
    n->marker.done = marker_done;
    cmeta_epoch_entry(&n->marker.entry, n->replay.cfg->node_id, *epoch, clock_now_ms());
    atomic_store(&n->marking, 1);
    rc = writer_submit(n->replay.writer, &n->marker);
    if (rc == 0) {
        pthread_mutex_lock(&n->lock);
        while (!n->marker_done)
            pthread_cond_wait(&n->wake, &n->lock);
        rc = n->marker_status;
        pthread_mutex_unlock(&n->lock);
    } else {
        entry_free(&n->marker.entry);
    }
    atomic_store(&n->marking, 0);
    return rc;
}

/* This store cannot follow the log: never own it; let another node have the lease. */
static void give_up_lease(struct cnode *n)
{
    char why[512];
    cfollow_refused(n->follow, why, sizeof(why));
    log_error("this node cannot own the log: giving the lease up", "key", LEASE_KEY, "error",
              why, NULL);
    pthread_mutex_lock(&n->lock);
    n->want_owner = 0;
    pthread_mutex_unlock(&n->lock);
    lease_release(n->lease);
    n->lease_gone = 1;
}

/*
 * Role thread: the lease is ours. The follower applies the log to its
 * end (nobody else appends: the old owner fenced itself before the key
 * expired, and the stream refuses its stale expectation anyway), then
 * stops; the writer catches up with anything left before its first
 * publish (clog_resync), and the node owns.
 */
static void become_owner(struct cnode *n)
{
    for (;;) {
        pthread_mutex_lock(&n->lock);
        int go = n->want_owner && !n->stopping;
        pthread_mutex_unlock(&n->lock);
        if (!go)
            return;
        if (cfollow_refused(n->follow, NULL, 0)) {
            give_up_lease(n);
            return;
        }
        if (at_log_end(n))
            break;
        pause_ms(CATCH_UP_POLL_MS);
    }
    cfollow_stop(n->follow);
    n->following = 0;
    clog_resync(n->clog);
    uint64_t epoch = 0;
    int rc;
    while ((rc = publish_marker(n, &epoch)) != 0) {
        log_warn("cannot publish this owner's epoch marker; trying again", "error",
                 hookd_strerror(rc), NULL);
        pthread_mutex_lock(&n->lock);
        int go = n->want_owner && !n->stopping;
        pthread_mutex_unlock(&n->lock);
        if (!go)
            return;   /* the role thread follows again */
        pause_ms(1000);
    }
    pthread_mutex_lock(&n->lock);
    int now = n->want_owner && !n->stopping;
    if (now)
        set_role_locked(n, 1);
    int64_t took = clock_mono_ms() - n->acquired_ms;
    pthread_mutex_unlock(&n->lock);
    if (now) {
        char ms[24], e[24];
        snprintf(ms, sizeof(ms), "%" PRId64, took);
        snprintf(e, sizeof(e), "%" PRIu64, epoch);
        log_info("this node owns the log: writes accepted, deliveries sent", "key", LEASE_KEY,
                 "epoch", e, "catchUpMs", ms, NULL);
    }
}

static void *role_main(void *arg)
{
    struct cnode *n = arg;
    pthread_mutex_lock(&n->lock);
    while (!n->stopping) {
        if (n->want_owner && !n->active) {
            pthread_mutex_unlock(&n->lock);
            become_owner(n);
            pthread_mutex_lock(&n->lock);
        } else if (!n->want_owner && !n->following) {
            pthread_mutex_unlock(&n->lock);   /* fenced by on_lost already */
            if (cfollow_start(n->follow) == 0)
                n->following = 1;
            else
                pause_ms(1000);
            pthread_mutex_lock(&n->lock);
        } else {
            pthread_cond_wait(&n->wake, &n->lock);
        }
    }
    pthread_mutex_unlock(&n->lock);
    return NULL;
}

static int connect_checked(struct cnode *n, const struct config *c, char *err, size_t errlen)
{
    struct cluster_conn_opts o = { .urls = c->cluster, .name = c->node_id,
                                   .creds = c->nats_creds, .ca = c->nats_ca,
                                   .timeout_ms = 5000 };
    struct cluster_settings s;
    char why[512];
    if (cluster_connect(&n->cl, &o, err, errlen))
        return -1;
    int rc = cluster_read_settings(n->cl, &s, why, sizeof(why));
    if (rc == HOOKD_ENOTFOUND)
        snprintf(err, errlen, "the cluster at %s is not initialized (run hookd cluster init "
                 "--cluster ... first)", c->cluster);
    else if (rc)
        snprintf(err, errlen, "%s", why);
    return rc ? -1 : 0;
}

static int connect_lease(struct cnode *n, const struct config *c, char *err, size_t errlen)
{
    char name[96];
    snprintf(name, sizeof(name), "%s-lease", c->node_id);
    struct cluster_conn_opts o = { .urls = c->cluster, .name = name,
                                   .creds = c->nats_creds, .ca = c->nats_ca,
                                   .timeout_ms = 5000 };
    return cluster_connect(&n->lease_cl, &o, err, errlen) ? -1 : 0;
}

static int role_of(const char *r)
{
    if (strcmp(r, "owner") == 0)
        return MODE_OWNER;
    return strcmp(r, "standby") == 0 ? MODE_STANDBY : MODE_AUTO;
}

int cnode_new(struct cnode **out, const struct config *c, struct store *s, struct writer *w,
              struct api *api, char *err, size_t errlen)
{
    struct cnode *n = xcalloc(1, sizeof(*n));
    if (nats_Open(-1) != NATS_OK) {
        snprintf(err, errlen, "cannot start the NATS client library");
        free(n);
        return -1;
    }
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->wake, NULL);
    n->mode = role_of(c->cluster_role);
    n->hold = c->hold_deliveries;
    n->api = api;
    n->replay = (struct api){ .cfg = c, .store = s, .writer = w, .replaying = 1,
                              .fanout = epcache_new() };
    n->env = (struct reapply_env){ .store = s, .api = &n->replay, .writer = w };
    if (connect_checked(n, c, err, errlen) || cboot_check(n->cl, s, err, errlen)
        || cboot_serve_start(&n->boot, n->cl, s, c->data_dir, c->node_id,
                             api->admin_token, err, errlen))
        goto fail;
    if (n->mode == MODE_AUTO && connect_lease(n, c, err, errlen))
        goto fail;
    if (make_fwd(n, c, err, errlen))
        goto fail;
    if (n->mode != MODE_OWNER) {
        struct cfollow_opts fo = { .cluster = n->cl, .store = s, .writer = w, .env = &n->env };
        cfollow_new(&n->follow, &fo);
    }
    if (n->mode != MODE_STANDBY) {
        struct clog_opts lo = { .cluster = n->cl, .store = s, .env = &n->env,
                                .node_id = c->node_id };
        if (clog_new(&n->clog, &lo, err, errlen))
            goto fail;
        if (n->mode == MODE_AUTO)
            writer_set_log(w, auto_publish, n);
        else
            writer_set_log(w, clog_publish, n->clog);
    }
    struct cstats_opts so = { .cluster = n->cl, .api = api, .node_id = c->node_id,
                              .group = LEASE_KEY, .stream = CLOG_STREAM };
    cstats_new(&n->cstats, &so);
    /* auto starts as a standby: following the log, its lease not yet held */
    api->cluster_role = n->mode == MODE_OWNER ? "owner" : "standby";
    api->cluster_standby = n->mode != MODE_OWNER;
    api->cluster_owner = owner_of;
    api->cluster_stats = stats_of;
    /* a fixed standby is a drill: it answers from its own store */
    api->cluster_forward = n->mode == MODE_AUTO ? forward : NULL;
    api->cluster_ctx = n;
    *out = n;
    return 0;
fail:
    cnode_free(n);
    return -1;
}

int cnode_standby(const struct cnode *n)
{
    return n && n->mode != MODE_OWNER;
}

int cnode_owns(void *ctx)
{
    return ctx && is_active(ctx);
}

int cnode_auto(const struct cnode *n)
{
    return n && n->mode == MODE_AUTO;
}

static int start_auto(struct cnode *n, struct dispatch *d)
{
    char err[512];
    n->dispatch = d;
    int rc = cfollow_start(n->follow);
    if (rc)
        return rc;
    n->following = 1;
    if ((rc = thread_start(&n->role_thread, "hookd-role", role_main, n)) != 0)
        return rc;
    n->role_started = 1;
    struct lease_cbs cbs = { .on_acquired = on_acquired, .on_lost = on_lost, .arg = n };
    /* the clog's lease check as soon as there is a lease */
    if (lease_start(&n->lease, n->lease_cl, n->replay.cfg->node_id, LEASE_KEY, &cbs, err,
                    sizeof(err))) {
        log_error("cannot run the cluster's lease", "error", err, NULL);
        return HOOKD_EUNAVAIL;
    }
    clog_set_lease(n->clog, n->lease);
    struct cmeta m;
    if (cmeta_load(n->replay.store, &m) == 0)   /* the next acquisition goes above the log's */
        lease_note_epoch(n->lease, m.epoch);
    return 0;
}

void cnode_set_listen(struct cnode *n, const char *addr)
{
    if (n)
        cstats_set_listen(n->cstats, addr);
}

int cnode_start(struct cnode *n, struct dispatch *d)
{
    if (!n)
        return 0;
    int rc = cfwd_start(n->fwd);
    if (rc)
        return rc;
    if (cstats_start(n->cstats))   /* the node serves without: its stats stay local */
        log_warn("cluster-wide stats unavailable: this node neither answers nor gathers them",
                 NULL);
    if (n->mode == MODE_AUTO)
        return start_auto(n, d);
    return n->follow ? cfollow_start(n->follow) : 0;
}

void cnode_stop(struct cnode *n)
{
    if (!n)
        return;
    cfwd_stop(n->fwd);
    if (n->role_started) {
        pthread_mutex_lock(&n->lock);
        n->stopping = 1;
        pthread_cond_signal(&n->wake);
        pthread_mutex_unlock(&n->lock);
        pthread_join(n->role_thread, NULL);
        n->role_started = 0;
    }
    if (n->follow)
        cfollow_stop(n->follow);
    cstats_stop(n->cstats);
    cboot_serve_stop(n->boot);
    n->boot = NULL;
}

void cnode_release(struct cnode *n)
{
    if (!n || !n->lease || n->lease_gone)
        return;
    int rc = lease_release(n->lease);
    pthread_mutex_lock(&n->lock);
    if (n->active)
        set_role_locked(n, 0);
    pthread_mutex_unlock(&n->lock);
    if (rc == 1)
        log_info("lease released: another node takes over now", "key", LEASE_KEY, NULL);
    else if (rc < 0)
        log_warn("cannot release the lease; another node takes over when it expires", "key",
                 LEASE_KEY, NULL);
}

void cnode_free(struct cnode *n)
{
    if (!n)
        return;
    if (n->lease) {
        lease_stop(n->lease);
        lease_free(n->lease);
    }
    cstats_free(n->cstats);
    cfwd_free(n->fwd);
    cboot_serve_stop(n->boot);
    cfollow_free(n->follow);
    clog_free(n->clog);
    cluster_close(n->lease_cl);
    cluster_close(n->cl);
    epcache_free(n->replay.fanout);
    pthread_mutex_destroy(&n->lock);
    pthread_cond_destroy(&n->wake);
    free(n);
    nats_CloseAndWait(2000);
}
