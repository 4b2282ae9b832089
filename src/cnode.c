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
#include <errno.h>
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
#include "part.h"
#include "mem.h"
#include "reapply.h"
#include "store.h"
#include "thread.h"
#include "writer.h"

enum { MODE_OWNER, MODE_STANDBY, MODE_AUTO };

#define CATCH_UP_POLL_MS 50        /* a new owner checks its follower this often */
/*
 * Spreading groups over nodes. The node a group should have is chosen
 * among the nodes that could own it now (cstats_candidates), sorted by
 * id: group g goes to the (g mod n)-th, so n nodes own G groups G/n each
 * (one more for some), and every node that hears the same nodes chooses
 * the same. A free lease is left to that node for ACQUIRE_GRACE_MS; an
 * owner that is not that node, for HANDOFF_CHECKS checks HANDOFF_CHECK_MS
 * apart in a row (twice as many for each handoff that came back, up to
 * 64 times), hands the group over.
 */
#define ACQUIRE_GRACE_MS 3000
#define HANDOFF_CHECK_MS 1000
#define HANDOFF_CHECKS 3
#define HANDOFF_DRAIN_MS 5000      /* deliveries in flight finish within this first */
#define HANDOFF_SETTLE_MS 300      /* ... and their outcomes reach the log in this */

struct cgroup;

/* The node: what its partition groups share. */
struct cnode {
    struct cluster *cl;
    struct cluster *lease_cl;  /* auto: the leases' own connection */
    const struct config *cfg;
    struct cluster_settings settings;
    struct cfwd *fwd;          /* serves forwarded requests; auto also forwards (cfwd.h) */
    struct cstats *cstats;     /* cluster-wide stats: answers and gathers */
    struct cboot_server *boot; /* answers hookd cluster bootstrap with copies of its groups */
    int mode;
    int hold;                  /* --hold-deliveries: an owner keeps them held */
    int ngroups;               /* the cluster's partition groups: its streams */
    struct cgroup **groups;    /* ngroups of them, each set by cnode_attach */
};

/* One partition group's part of the node: its log, its lease, its role. */
struct cgroup {
    struct cnode *node;
    struct cluster_group names;/* its stream, subject and lease key */
    struct api *api;
    struct api replay;         /* applies log entries (replaying) */
    struct reapply_env env;
    struct clog *clog;         /* owner, auto */
    struct cfollow *follow;    /* standby, auto */
    struct lease *lease;       /* auto */
    struct dispatch *dispatch; /* auto: held and released as the lease moves */

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
    int not_preferred;         /* role thread: checks in a row another node was preferred */
    int handoffs;              /* role thread: handoffs that came back (the backoff) */

    /* auto: the marker a new owner publishes before it owns (become_owner) */
    atomic_int marking;        /* the writer may publish though the node is not active */
    struct intent marker;
    int marker_done, marker_status;   /* under lock */
};

static const char *node_id(const struct cgroup *g)
{
    return g->node->cfg->node_id;
}

static int is_active(struct cgroup *g)
{
    if (g->node->mode != MODE_AUTO)
        return g->node->mode == MODE_OWNER;
    pthread_mutex_lock(&g->lock);
    int a = g->active;
    pthread_mutex_unlock(&g->lock);
    return a;
}

static void owner_of(void *ctx, char *out, size_t cap)
{
    struct cgroup *g = ctx;
    if (is_active(g))
        snprintf(out, cap, "%s", node_id(g));
    else if (g->follow)
        cfollow_owner(g->follow, out, cap);
    else
        *out = 0;
}

/* One group in stats' cluster.groups: its role here, owner, applied sequence, lease. */
static json_t *group_stats(struct cgroup *g)
{
    char owner[80];
    uint64_t seq = 0;
    struct store_txn *t;
    owner_of(g, owner, sizeof(owner));
    if (store_read(g->replay.store, &t) == 0) {
        store_meta_get_u64(t, WRITER_LOG_SEQ_KEY, &seq);
        store_abort(t);
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:I}", "key", g->names.key, "stream",
                          g->names.stream, "role", is_active(g) ? "owner" : "standby", "owner",
                          *owner ? json_string(owner) : json_null(), "seq", (json_int_t)seq);
    char why[512];
    if (g->follow && cfollow_refused(g->follow, why, sizeof(why)))
        json_object_set_new(o, "refused", json_string(why));
    if (g->lease) {
        char holder[LEASE_KEY_MAX];
        uint64_t epoch = 0;
        int64_t ms = -1;
        lease_state(g->lease, holder, &epoch, &ms);
        json_object_set_new(o, "lease", json_pack(
            "{s:s, s:o, s:I, s:b, s:I}", "key", g->names.key, "holder",
            *holder ? json_string(holder) : json_null(), "epoch", (json_int_t)epoch, "held",
            lease_held(g->lease, NULL), "msSinceRenew", (json_int_t)ms));
    }
    return o;
}

/* The publish figures of every group this node has a log writer for, summed. */
static void publish_stats(struct cnode *n, json_t *out)
{
    struct clog_stats sum = { 0 };
    int any = 0;
    for (int i = 0; i < n->ngroups; i++) {
        struct clog_stats s;
        if (!n->groups[i] || !n->groups[i]->clog)
            continue;
        clog_get_stats(n->groups[i]->clog, &s);
        sum.batches += s.batches;
        sum.messages += s.messages;
        sum.entries += s.entries;
        sum.failures += s.failures;
        sum.caught_up += s.caught_up;
        sum.publish_us_total += s.publish_us_total;
        sum.publish_us_max = s.publish_us_max > sum.publish_us_max ? s.publish_us_max
                                                                     : sum.publish_us_max;
        any = 1;
    }
    if (!any)
        return;
    json_object_set_new(out, "publish", json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "batches", (json_int_t)sum.batches, "messages",
        (json_int_t)sum.messages, "entries",
        (json_int_t)sum.entries, "failures", (json_int_t)sum.failures, "caughtUp",
        (json_int_t)sum.caught_up, "avgUs",
        (json_int_t)(sum.batches ? sum.publish_us_total / sum.batches : 0), "maxUs",
        (json_int_t)sum.publish_us_max));
}

/*
 * GET /hookd/v1/stats' cluster object, beyond role, nodeId and seq
 * (api_ops.c): owner, epoch, lease and refused of the group whose API
 * asks (group 0 for the node's own views), every group in groups, and
 * the node's forwarding, publishing and cluster-wide view.
 */
static void stats_of(void *ctx, json_t *out)
{
    struct cgroup *g = ctx;
    struct cnode *n = g->node;
    json_t *mine = group_stats(g);
    json_object_set(out, "owner", json_object_get(mine, "owner"));
    if (json_object_get(mine, "lease"))
        json_object_set(out, "lease", json_object_get(mine, "lease"));
    if (json_object_get(mine, "refused"))
        json_object_set(out, "refused", json_object_get(mine, "refused"));
    json_decref(mine);
    struct cmeta m;
    if (cmeta_load(g->replay.store, &m) == 0)
        json_object_set_new(out, "epoch", json_pack(
            "{s:I, s:o, s:I}", "epoch", (json_int_t)m.epoch, "owner",
            *m.owner ? json_string(m.owner) : json_null(), "staleSkipped", (json_int_t)m.stale));
    json_t *groups = json_array();
    for (int i = 0; i < n->ngroups; i++)
        if (n->groups[i])
            json_array_append_new(groups, group_stats(n->groups[i]));
    json_object_set_new(out, "groups", groups);
    cstats_put(n->cstats, out);
    cfwd_stats(n->fwd, out);
    publish_stats(n, out);
}

/* cstats' owns and follows: the keys of the groups this node owns, and of the others. */
static void groups_of(void *ctx, json_t *owns, json_t *follows)
{
    struct cnode *n = ctx;
    for (int i = 0; i < n->ngroups; i++) {
        struct cgroup *g = n->groups[i];
        /* a store that cannot follow its group's log could not own it either */
        if (g && !(g->follow && cfollow_refused(g->follow, NULL, 0)))
            json_array_append_new(is_active(g) ? owns : follows, json_string(g->names.key));
    }
}

/*
 * Whom a standby forwards group i's requests to (cfwd.h): its lease's
 * holder as last read (auto), unless that is this node, which then
 * either catches up and owns in a moment, or has just fenced itself and
 * knows the new owner only from the log's entries (the lease is read
 * again a TTL after a loss).
 */
static void forward_target(void *ctx, int i, char *out, size_t cap)
{
    struct cnode *n = ctx;
    struct cgroup *g = i >= 0 && i < n->ngroups ? n->groups[i] : NULL;
    const char *self = n->cfg->node_id;
    char holder[LEASE_KEY_MAX] = "";
    *out = 0;
    if (!g)
        return;
    if (g->lease)
        lease_state(g->lease, holder, NULL, NULL);
    if (*holder && strcmp(holder, self) != 0) {
        snprintf(out, cap, "%s", holder);
        return;
    }
    if (*holder && lease_held(g->lease, NULL))
        return;
    if (g->follow)
        cfollow_owner(g->follow, out, cap);
    if (strcmp(out, self) == 0)
        *out = 0;
}

static int owns_group(void *ctx, int i)
{
    struct cnode *n = ctx;
    return i >= 0 && i < n->ngroups && n->groups[i] && is_active(n->groups[i]);
}

/* The API's cluster_forward: r goes to the owner of the group whose API it reached. */
static void forward(void *ctx, struct http_req *r)
{
    struct cgroup *g = ctx;
    cfwd_forward(g->node->fwd, r, g->names.index);
}

static int make_fwd(struct cnode *n, struct api *front, char *err, size_t errlen)
{
    const struct config *c = n->cfg;
    char name[96];
    snprintf(name, sizeof(name), "%s-fwd", c->node_id);
    /* one request or answer at a time per client: latency, not batching */
    struct cluster_conn_opts co = { .urls = c->cluster, .name = name,
                                    .creds = c->nats_creds, .ca = c->nats_ca,
                                    .timeout_ms = 5000, .send_asap = 1 };
    struct cfwd_opts fo = { .conn = &co, .node_id = c->node_id, .api = front,
                            .writer = front->writer, .owns = owns_group,
                            .owner = forward_target, .ctx = n };
    return cfwd_new(&n->fwd, &fo, err, errlen);
}

/* ---- spreading: which node should own a group ---- */

static int by_id(const void *x, const void *y)
{
    return strcmp(x, y);
}

/* The node that should own g now, into best; 1 when it is this node. */
static int preferred(struct cgroup *g, char *best, size_t cap)
{
    static __thread char ids[CSTATS_MAX_NODES][CSTATS_ID_MAX];
    int n = cstats_candidates(g->node->cstats, g->names.key, ids, CSTATS_MAX_NODES);
    if (n < 1) {
        snprintf(best, cap, "%s", node_id(g));
        return 1;
    }
    qsort(ids, (size_t)n, sizeof(ids[0]), by_id);
    snprintf(best, cap, "%s", ids[g->names.index % n]);
    return strcmp(best, node_id(g)) == 0;
}

/*
 * The lease's may_acquire: the preferred node at once, any other after
 * the grace. One group is not spread: whoever comes first owns it, as
 * nothing is gained by moving it.
 */
static int may_acquire(void *arg, int64_t free_ms)
{
    struct cgroup *g = arg;
    char best[CSTATS_ID_MAX];
    return g->node->ngroups == 1 || preferred(g, best, sizeof(best))
           || free_ms >= ACQUIRE_GRACE_MS;
}

/* ---- auto: the lease chooses the role ---- */

/* Writes, roles and deliveries as owner (on) or standby; under g->lock. */
static void set_role_locked(struct cgroup *g, int owner)
{
    g->active = owner;
    atomic_store(&g->api->cluster_standby, !owner);
    atomic_store(&g->api->cluster_role, owner ? "owner" : "standby");
    if (!g->dispatch)
        return;
    if (!owner)
        dispatch_hold(g->dispatch);
    else if (!g->node->hold)
        dispatch_release(g->dispatch);
}

static void on_acquired(void *arg, uint64_t epoch)
{
    struct cgroup *g = arg;
    char e[24];
    snprintf(e, sizeof(e), "%" PRIu64, epoch);
    log_info("lease acquired: catching up with the log, then owning it", "key", g->names.key,
             "epoch", e, NULL);
    pthread_mutex_lock(&g->lock);
    g->want_owner = 1;
    g->acquired_ms = clock_mono_ms();
    g->lease_epoch = epoch;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
}

/* Fence at once, here on the lease thread: writes 503, nothing new delivered. */
static void on_lost(void *arg, enum lease_loss why)
{
    struct cgroup *g = arg;
    pthread_mutex_lock(&g->lock);
    g->want_owner = 0;
    set_role_locked(g, 0);
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    log_warn("lease lost: this node is a standby of the group now (writes answer 503, "
             "deliveries held)", "key", g->names.key, "why", lease_loss_name(why), NULL);
}

/* The writer's log function in auto: only an active owner publishes. */
static int auto_publish(void *ctx, const struct entry_w *const *entries, size_t n,
                        uint64_t *seq)
{
    struct cgroup *g = ctx;
    if (!is_active(g) && !atomic_load(&g->marking))
        return HOOKD_EUNAVAIL;
    return clog_publish(g->clog, entries, n, seq);
}

/* The store applied the group's log to its last sequence (a follower that caught up). */
static int at_log_end(struct cgroup *g)
{
    uint64_t have = 0;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    struct store_txn *t;
    if (js_GetStreamInfo(&si, cluster_js(g->node->cl), g->names.stream, NULL, &jerr) != NATS_OK)
        return 0;
    uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    if (store_read(g->replay.store, &t))
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
    struct cgroup *g = (struct cgroup *)((char *)in - offsetof(struct cgroup, marker));
    return reapply_entry(&g->env, in->entry.p, in->entry.len, t);
}

static void marker_done(struct intent *in, int status)
{
    struct cgroup *g = (struct cgroup *)((char *)in - offsetof(struct cgroup, marker));
    pthread_mutex_lock(&g->lock);
    g->marker_status = status;
    g->marker_done = 1;
    pthread_cond_broadcast(&g->wake);
    pthread_mutex_unlock(&g->lock);
}

/*
 * Role thread: publish this node's EPOCH entry (cmeta.h) through the
 * writer, which first catches up with the whole log and then applies the
 * marker itself: 0 once the store holds everything up to and including
 * it. The epoch is the lease's, or one above the store's when the lease's
 * is not above it (the key expired before anyone read it: lease.h).
 */
static int publish_marker(struct cgroup *g, uint64_t *epoch)
{
    struct cmeta m;
    int rc = cmeta_load(g->replay.store, &m);
    if (rc)
        return rc;
    pthread_mutex_lock(&g->lock);
    *epoch = g->lease_epoch > m.epoch ? g->lease_epoch : m.epoch + 1;
    g->marker_done = 0;
    pthread_mutex_unlock(&g->lock);
    lease_note_epoch(g->lease, *epoch);
    clog_set_epoch(g->clog, *epoch);
    memset(&g->marker, 0, sizeof(g->marker));
    g->marker.apply = marker_apply;
    g->marker.done = marker_done;
    cmeta_epoch_entry(&g->marker.entry, node_id(g), *epoch, clock_now_ms());
    atomic_store(&g->marking, 1);
    rc = writer_submit(g->replay.writer, &g->marker);
    if (rc == 0) {
        pthread_mutex_lock(&g->lock);
        while (!g->marker_done)
            pthread_cond_wait(&g->wake, &g->lock);
        rc = g->marker_status;
        pthread_mutex_unlock(&g->lock);
    } else {
        entry_free(&g->marker.entry);
    }
    atomic_store(&g->marking, 0);
    return rc;
}

/* This store cannot follow the group's log: never own it; let another node have the lease. */
static void give_up_lease(struct cgroup *g)
{
    char why[512];
    cfollow_refused(g->follow, why, sizeof(why));
    log_error("this node cannot own the group's log: giving the lease up", "key", g->names.key,
              "error", why, NULL);
    pthread_mutex_lock(&g->lock);
    g->want_owner = 0;
    pthread_mutex_unlock(&g->lock);
    lease_release(g->lease);
    g->lease_gone = 1;
}

static int still_wanted(struct cgroup *g)
{
    pthread_mutex_lock(&g->lock);
    int go = g->want_owner && !g->stopping;
    pthread_mutex_unlock(&g->lock);
    return go;
}

/*
 * Role thread: the lease is ours. The follower applies the log to its
 * end (nobody else appends: the old owner fenced itself before the key
 * expired, and the stream refuses its stale expectation anyway), then
 * stops; the writer catches up with anything left before its first
 * publish (clog_resync), and the node owns the group.
 */
static void become_owner(struct cgroup *g)
{
    for (;;) {
        if (!still_wanted(g))
            return;
        if (cfollow_refused(g->follow, NULL, 0)) {
            give_up_lease(g);
            return;
        }
        if (at_log_end(g))
            break;
        pause_ms(CATCH_UP_POLL_MS);
    }
    cfollow_stop(g->follow);
    g->following = 0;
    clog_resync(g->clog);
    uint64_t epoch = 0;
    int rc;
    while ((rc = publish_marker(g, &epoch)) != 0) {
        log_warn("cannot publish this owner's epoch marker; trying again", "key", g->names.key,
                 "error", hookd_strerror(rc), NULL);
        if (!still_wanted(g))
            return;   /* the role thread follows again */
        pause_ms(1000);
    }
    pthread_mutex_lock(&g->lock);
    int now = g->want_owner && !g->stopping;
    if (now)
        set_role_locked(g, 1);
    int64_t took = clock_mono_ms() - g->acquired_ms;
    pthread_mutex_unlock(&g->lock);
    if (now) {
        char ms[24], e[24];
        snprintf(ms, sizeof(ms), "%" PRId64, took);
        snprintf(e, sizeof(e), "%" PRIu64, epoch);
        log_info("this node owns the group's log: writes accepted, deliveries sent", "key",
                 g->names.key, "epoch", e, "catchUpMs", ms, NULL);
    }
}

/*
 * Role thread: hand the group to the node that should own it. Deliveries
 * are held first and those in flight finish (bounded), so their outcomes
 * are in the log before the fence; then writes answer 503 not-owner (a
 * forwarding node tries them again on the new owner) and the lease's key
 * is deleted, which the new owner acquires within a second.
 */
static void hand_off(struct cgroup *g, const char *to)
{
    int64_t t0 = clock_mono_ms();
    log_info("handing the group to the node that should own it", "key", g->names.key, "to", to,
             NULL);
    if (g->dispatch) {
        dispatch_hold(g->dispatch);
        struct dispatch_stats ds;
        do {
            dispatch_get_stats(g->dispatch, &ds);
            if (ds.inflight > 0)
                pause_ms(50);
        } while (ds.inflight > 0 && clock_mono_ms() - t0 < HANDOFF_DRAIN_MS);
        pause_ms(HANDOFF_SETTLE_MS);   /* the writer has no barrier: outcomes commit in ms */
    }
    pthread_mutex_lock(&g->lock);
    g->want_owner = 0;
    set_role_locked(g, 0);
    pthread_mutex_unlock(&g->lock);
    int rc = lease_yield(g->lease);
    char ms[24];
    snprintf(ms, sizeof(ms), "%" PRId64, clock_mono_ms() - t0);
    if (rc < 0)
        log_warn("cannot delete the group's lease; it moves when it expires", "key",
                 g->names.key, NULL);
    else
        log_info("group handed over: this node follows it now", "key", g->names.key, "ms", ms,
                 NULL);
    g->handoffs = g->handoffs < 6 ? g->handoffs + 1 : 6;
}

/* Role thread, while owning: another node should own the group, steadily? */
static void check_spread(struct cgroup *g)
{
    char best[CSTATS_ID_MAX];
    if (preferred(g, best, sizeof(best))) {
        g->not_preferred = 0;
        g->handoffs = 0;
        return;
    }
    if (++g->not_preferred < (HANDOFF_CHECKS << g->handoffs))
        return;
    g->not_preferred = 0;
    hand_off(g, best);
}

static void *role_main(void *arg)
{
    struct cgroup *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        if (g->want_owner && !g->active) {
            pthread_mutex_unlock(&g->lock);
            become_owner(g);
            pthread_mutex_lock(&g->lock);
        } else if (!g->want_owner && !g->following) {
            pthread_mutex_unlock(&g->lock);   /* fenced by on_lost already */
            if (cfollow_start(g->follow) == 0)
                g->following = 1;
            else
                pause_ms(1000);
            pthread_mutex_lock(&g->lock);
        } else if (g->active && g->want_owner && g->node->ngroups > 1) {
            struct timespec ts;
            clock_deadline(CLOCK_MONOTONIC, HANDOFF_CHECK_MS, &ts);
            if (pthread_cond_timedwait(&g->wake, &g->lock, &ts) == ETIMEDOUT && !g->stopping
                && g->active) {
                pthread_mutex_unlock(&g->lock);
                check_spread(g);
                pthread_mutex_lock(&g->lock);
            }
        } else {
            pthread_cond_wait(&g->wake, &g->lock);
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

static int connect_checked(struct cnode *n, char *err, size_t errlen)
{
    const struct config *c = n->cfg;
    struct cluster_conn_opts o = { .urls = c->cluster, .name = c->node_id,
                                   .creds = c->nats_creds, .ca = c->nats_ca,
                                   .timeout_ms = 5000 };
    char why[512];
    if (cluster_connect(&n->cl, &o, err, errlen))
        return -1;
    int rc = cluster_read_settings(n->cl, &n->settings, why, sizeof(why));
    if (rc == HOOKD_ENOTFOUND)
        snprintf(err, errlen, "the cluster at %s is not initialized (run hookd cluster init "
                 "--cluster ... first)", c->cluster);
    else if (rc)
        snprintf(err, errlen, "%s", why);
    else if (n->settings.streams < 1 || n->settings.streams > PART_GROUPS_MAX
             || n->settings.partitions < n->settings.streams)
        snprintf(err, errlen, "the cluster's settings have %d streams over %d partitions: "
                 "this node holds 1 to %d partition groups, each at least one partition",
                 n->settings.streams, n->settings.partitions, PART_GROUPS_MAX);
    else
        return 0;
    return -1;
}

static int connect_lease(struct cnode *n, char *err, size_t errlen)
{
    const struct config *c = n->cfg;
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

int cnode_new(struct cnode **out, const struct config *c, char *err, size_t errlen)
{
    struct cnode *n = xcalloc(1, sizeof(*n));
    if (nats_Open(-1) != NATS_OK) {
        snprintf(err, errlen, "cannot start the NATS client library");
        free(n);
        return -1;
    }
    n->cfg = c;
    n->mode = role_of(c->cluster_role);
    n->hold = c->hold_deliveries;
    if (connect_checked(n, err, errlen))
        goto fail;
    n->ngroups = n->settings.streams;
    n->groups = xcalloc((size_t)n->ngroups, sizeof(*n->groups));
    if (n->mode == MODE_AUTO && connect_lease(n, err, errlen))
        goto fail;
    *out = n;
    return 0;
fail:
    cnode_free(n);
    return -1;
}

/*
 * cnode_attach of group 0: what the node shares, around the front (group
 * 0's API, through which forwarded requests run and the stats read the
 * node's counters). 0, or -1 with err.
 */
static int attach_front(struct cnode *n, struct api *front, char *err, size_t errlen)
{
    const struct config *c = n->cfg;
    if (make_fwd(n, front, err, errlen)
        || cboot_serve_start(&n->boot, n->cl, c->data_dir, c->node_id, front->admin_token, err,
                             errlen))
        return -1;
    struct cstats_opts so = { .cluster = n->cl, .api = front, .node_id = c->node_id,
                              .stream = CLUSTER_STREAM_PREFIX "0", .groups = groups_of,
                              .groups_ctx = n };
    cstats_new(&n->cstats, &so);
    return 0;
}

int cnode_groups(const struct cnode *n)
{
    return n ? n->ngroups : 1;
}

int cnode_partitions(const struct cnode *n)
{
    return n ? n->settings.partitions : 1;
}

static void group_free(struct cgroup *g)
{
    if (!g)
        return;
    if (g->lease) {
        lease_stop(g->lease);
        lease_free(g->lease);
    }
    cfollow_free(g->follow);
    clog_free(g->clog);
    epcache_free(g->replay.fanout);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->wake);
    free(g);
}

int cnode_attach(struct cnode *n, int i, struct store *s, struct writer *w, struct api *api,
                 char *err, size_t errlen)
{
    const struct config *c = n->cfg;
    if (i == 0 && attach_front(n, api, err, errlen))
        return -1;
    struct cgroup *g = xcalloc(1, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* the spread check's timed wait */
    pthread_cond_init(&g->wake, &ca);
    pthread_condattr_destroy(&ca);
    g->node = n;
    cluster_group_names(i, n->settings.partitions, n->settings.streams, &g->names);
    g->api = api;
    /* the group's shape too: apply draws ids and skips group 0's checks by it */
    g->replay = (struct api){ .cfg = c, .store = s, .writer = w, .replaying = 1,
                              .fanout = epcache_new(), .groups = api->groups,
                              .ngroups = api->ngroups, .group = api->group,
                              .partitions = api->partitions };
    g->env = (struct reapply_env){ .store = s, .api = &g->replay, .writer = w };
    if (cboot_check(n->cl, &g->names, s, err, errlen)) {
        group_free(g);
        return -1;
    }
    cboot_serve_group(n->boot, i, s);
    if (n->mode != MODE_OWNER) {
        struct cfollow_opts fo = { .cluster = n->cl, .group = g->names, .store = s,
                                   .writer = w, .env = &g->env };
        cfollow_new(&g->follow, &fo);
    }
    if (n->mode != MODE_STANDBY) {
        struct clog_opts lo = { .cluster = n->cl, .group = g->names, .store = s,
                                .env = &g->env, .node_id = c->node_id };
        if (clog_new(&g->clog, &lo, err, errlen)) {
            group_free(g);
            return -1;
        }
        if (n->mode == MODE_AUTO)
            writer_set_log(w, auto_publish, g);
        else
            writer_set_log(w, clog_publish, g->clog);
    }
    /* auto starts as a standby: following the log, its lease not yet held */
    api->cluster_role = n->mode == MODE_OWNER ? "owner" : "standby";
    api->cluster_standby = n->mode != MODE_OWNER;
    api->cluster_owner = owner_of;
    api->cluster_stats = stats_of;
    /* a fixed standby is a drill: it answers from its own store */
    api->cluster_forward = n->mode == MODE_AUTO ? forward : NULL;
    api->cluster_ctx = g;
    n->groups[i] = g;
    return 0;
}

void *cnode_group(struct cnode *n, int i)
{
    return n && i >= 0 && i < n->ngroups ? n->groups[i] : NULL;
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

static int start_auto(struct cgroup *g, struct dispatch *d)
{
    char err[512], name[16];
    g->dispatch = d;
    int rc = cfollow_start(g->follow);
    if (rc)
        return rc;
    g->following = 1;
    snprintf(name, sizeof(name), "hookd-role%d", g->names.index);
    if ((rc = thread_start(&g->role_thread, name, role_main, g)) != 0)
        return rc;
    g->role_started = 1;
    struct lease_cbs cbs = { .on_acquired = on_acquired, .on_lost = on_lost,
                             .may_acquire = may_acquire, .arg = g };
    /* the clog's lease check as soon as there is a lease */
    if (lease_start(&g->lease, g->node->lease_cl, node_id(g), g->names.key, &cbs, err,
                    sizeof(err))) {
        log_error("cannot run the group's lease", "key", g->names.key, "error", err, NULL);
        return HOOKD_EUNAVAIL;
    }
    clog_set_lease(g->clog, g->lease);
    struct cmeta m;
    if (cmeta_load(g->replay.store, &m) == 0)   /* the next acquisition goes above the log's */
        lease_note_epoch(g->lease, m.epoch);
    return 0;
}

void cnode_set_listen(struct cnode *n, const char *addr)
{
    if (n)
        cstats_set_listen(n->cstats, addr);
}

int cnode_start(struct cnode *n, struct dispatch *const *d)
{
    if (!n)
        return 0;
    int rc = cfwd_start(n->fwd);
    if (rc)
        return rc;
    if (cstats_start(n->cstats))   /* the node serves without: its stats stay local */
        log_warn("cluster-wide stats unavailable: this node neither answers nor gathers them",
                 NULL);
    for (int i = 0; i < n->ngroups && rc == 0; i++) {
        struct cgroup *g = n->groups[i];
        if (!g)
            continue;   /* a group this node does not hold */
        if (n->mode == MODE_AUTO)
            rc = start_auto(g, d[i]);
        else if (g->follow)
            rc = cfollow_start(g->follow);
    }
    return rc;
}

static void group_stop(struct cgroup *g)
{
    if (g->role_started) {
        pthread_mutex_lock(&g->lock);
        g->stopping = 1;
        pthread_cond_signal(&g->wake);
        pthread_mutex_unlock(&g->lock);
        pthread_join(g->role_thread, NULL);
        g->role_started = 0;
    }
    if (g->follow)
        cfollow_stop(g->follow);
}

void cnode_stop(struct cnode *n)
{
    if (!n)
        return;
    cfwd_stop(n->fwd);
    for (int i = 0; i < n->ngroups; i++)
        if (n->groups[i])
            group_stop(n->groups[i]);
    cstats_stop(n->cstats);
    cboot_serve_stop(n->boot);
    n->boot = NULL;
}

static void group_release(struct cgroup *g)
{
    if (!g || !g->lease || g->lease_gone)
        return;
    int rc = lease_release(g->lease);
    pthread_mutex_lock(&g->lock);
    if (g->active)
        set_role_locked(g, 0);
    pthread_mutex_unlock(&g->lock);
    if (rc == 1)
        log_info("lease released: another node takes over now", "key", g->names.key, NULL);
    else if (rc < 0)
        log_warn("cannot release the lease; another node takes over when it expires", "key",
                 g->names.key, NULL);
}

void cnode_release(struct cnode *n)
{
    for (int i = 0; n && i < n->ngroups; i++)
        group_release(n->groups[i]);
}

void cnode_free(struct cnode *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->ngroups; i++)
        if (n->groups[i] && n->groups[i]->lease)
            lease_stop(n->groups[i]->lease);   /* every lease thread, before any group goes */
    cstats_free(n->cstats);
    cfwd_free(n->fwd);
    cboot_serve_stop(n->boot);
    for (int i = 0; i < n->ngroups; i++)
        group_free(n->groups[i]);
    free(n->groups);
    cluster_close(n->lease_cl);
    cluster_close(n->cl);
    free(n);
    nats_CloseAndWait(2000);
}
