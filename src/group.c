/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group.c - a partition group: one store, one writer, one delivery
 * engine, one retention pass and one tasks runner (group.h).
 *
 * Groups are the throughput step of a node: each has its own LMDB
 * environment and writer, so G writers commit (and fsync) in parallel
 * on a machine with the cores for it, where one writer is one core at
 * most. They share nothing mutable but the node-wide stats and feed,
 * which are made for many threads already. The delivery workers are
 * split between groups (at least one each), so --workers keeps meaning
 * the node's total.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "epcache.h"
#include "err.h"
#include "group.h"
#include "mem.h"
#include "netpolicy.h"
#include "reapply.h"
#include "retention.h"
#include "retry.h"
#include "store.h"
#include "task.h"
#include "worker.h"
#include "writer.h"

static int ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Group 0 is the data directory; group g its group.<g>, made 0700. */
static int group_dir(const struct group_opts *o, char **dir, char *err, size_t cap)
{
    if (o->index == 0) {
        *dir = xstrdup(o->cfg->data_dir);
        return 0;
    }
    size_t n = strlen(o->cfg->data_dir) + 32;
    *dir = xmalloc(n);
    snprintf(*dir, n, "%s/group.%d", o->cfg->data_dir, o->index);
    if (mkdir(*dir, 0700) && errno != EEXIST) {
        snprintf(err, cap, "cannot create the directory of partition group %d '%s': %s",
                 o->index, *dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int open_store(struct group *g, const struct group_opts *o, char *err, size_t cap)
{
    int rc = store_open(&g->store, g->dir, o->cfg->map_size, 0);
    if (!rc)
        return 0;
    char holder[40] = "", why[640];
    long pid = rc == HOOKD_EBUSY ? store_lock_holder(g->dir) : 0;
    if (pid > 0)
        snprintf(holder, sizeof(holder), " (pid %ld)", pid);
    snprintf(err, cap, "cannot open the log in '%s': %s%s%s", g->dir,
             store_open_why(g->dir, rc, why, sizeof(why)), holder,
             rc == HOOKD_EBUSY ? "; stop it first, or give this one another --data" : "");
    g->store = NULL;
    return -1;
}

/* The api of a group: the node's shared parts, and this group's own. */
static void api_fill(struct group *g, const struct group_opts *o)
{
    struct api *a = &g->api;
    a->cfg = o->cfg;
    a->store = g->store;
    a->writer = g->writer;
    a->admin_token = o->admin_token;
    a->started_ms = o->started_ms;
    a->stats = o->stats;
    a->feed = o->feed;
    a->fanout = epcache_new();
    pthread_mutex_init(&a->msg_lock, NULL);
    a->groups = o->apis;
    a->ngroups = o->ngroups;
    a->group = o->index;
    a->partitions = o->partitions;
}

int group_open(struct group **out, const struct group_opts *o, char *err, size_t cap)
{
    struct group *g = xcalloc(1, sizeof(*g));
    *out = NULL;
    g->index = o->index;
    if (group_dir(o, &g->dir, err, cap) || open_store(g, o, err, cap)) {
        free(g->dir);
        free(g);
        return -1;
    }
    writer_new(&g->writer, g->store, o->cfg->commit_delay_us);
    writer_set_journal(g->writer, o->journal);
    g->fd_ceiling = o->fd_ceiling;
    api_fill(g, o);
    *out = g;
    return 0;
}

/* The delivery workers of one group: the node's, shared out. */
static int engine_workers(const struct config *c, int ngroups)
{
    int total = c->workers > 0 ? c->workers : ncpu();
    int n = ngroups > 1 ? total / ngroups : total;
    return n > 0 ? n : 1;
}

static int engine_start(struct group *g, int fd_ceiling)
{
    struct group_engine *e = &g->engine;
    const struct config *c = g->api.cfg;
    char err[256];
    struct dispatch_opts dopts = { 0 };
    e->nworkers = 0;
    if (netpolicy_new(&e->policy, c->allow_network, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return -1;
    }
    struct retry_schedule schedule;
    if (retry_parse(c->retry_schedule, &schedule)) {
        fprintf(stderr, "hookd: invalid retry schedule '%s'\n", c->retry_schedule);
        return -1;
    }
    int n = engine_workers(c, g->api.ngroups);
    e->workers = xcalloc((size_t)n, sizeof(*e->workers));
    e->nworkers = n;
    struct worker_opts wo = { .writer = g->writer, .policy = e->policy,
                              .max_response = (size_t)c->max_response,
                              .ca_file = c->ca_file,
                              .fd_ceiling = fd_ceiling,
                              .svix_headers = strcmp(c->signature_headers, "svix") == 0 ? 1
                                              : strcmp(c->signature_headers, "both") == 0 ? 2 : 0 };
    for (int i = 0; i < n; i++)
        if (worker_new(&e->workers[i], i, &wo) || worker_start(e->workers[i]))
            return -1;
    dopts.store = g->store;
    dopts.writer = g->writer;
    dopts.workers = e->workers;
    dopts.nworkers = n;
    dopts.ep_concurrency = c->endpoint_concurrency;
    dopts.connect_timeout_ms = c->connect_timeout_ms;
    dopts.timeout_ms = c->request_timeout_ms;
    swap_init(&dopts.outcome.schedule, xmemdup(&schedule, sizeof(schedule)));
    dopts.outcome.disable_after_ms = c->disable_after_ms;
    dopts.outcome.writer = g->writer;
    dopts.stats = g->api.stats;
    dopts.feed = g->api.feed;
    dopts.hold = e->hold;
    dispatch_new(&e->dispatch, &dopts);
    writer_on_commit(g->writer, dispatch_on_commit, e->dispatch);
    return dispatch_start(e->dispatch);
}

static int start_retention(struct group *g, const struct group_start_opts *so)
{
    const struct config *c = g->api.cfg;
    struct retention_opts ro = { .store = g->store, .writer = g->writer,
                                 .interval_ms = c->retention_interval_ms,
                                 .payload_ms = c->payload_retention_ms,
                                 .attempt_ms = c->attempt_retention_ms,
                                 .may_run = so->may_run, .may_run_ctx = so->may_run_ctx };
    if (!so->retention)
        return 0;
    retention_new(&g->retention, &ro);
    g->api.retention = g->retention;
    int rc = retention_start(g->retention);
    if (rc)
        fprintf(stderr, "hookd: cannot start the retention pass: %s\n", hookd_strerror(rc));
    return rc ? -1 : 0;
}

int group_start(struct group *g, const struct group_start_opts *so)
{
    int rc;
    g->engine.hold = so->hold;
    if (engine_start(g, g->fd_ceiling))
        return -1;
    g->api.dispatch = g->engine.dispatch;
    if ((rc = writer_start(g->writer))) {
        fprintf(stderr, "hookd: cannot start the writer: %s\n", hookd_strerror(rc));
        return -1;
    }
    if (start_retention(g, so))
        return -1;
    tasks_new(&g->tasks, g->store, g->writer, reapply_entry);
    g->api.tasks = g->tasks;
    if ((rc = tasks_start(g->tasks))) {
        fprintf(stderr, "hookd: cannot start the background tasks: %s\n", hookd_strerror(rc));
        return -1;
    }
    return 0;
}

/* Each worker is given what is left of the common deadline. */
void group_stop_engine(struct group *g, int64_t deadline_ms)
{
    struct group_engine *e = &g->engine;
    if (e->dispatch)
        dispatch_stop(e->dispatch);
    for (int i = 0; i < e->nworkers; i++) {
        int64_t left = deadline_ms - clock_mono_ms();
        if (e->workers[i])
            worker_stop(e->workers[i], left > 0 ? left : 0);
    }
}

void group_stop_background(struct group *g)
{
    retention_stop(g->retention);
    tasks_stop(g->tasks);
}

void group_stop_writer(struct group *g)
{
    writer_stop(g->writer);
}

void group_free_writer(struct group *g)
{
    tasks_free(g->tasks);
    g->tasks = NULL;
    g->api.tasks = NULL;
    writer_free(g->writer);
    g->writer = NULL;
}

static void engine_free(struct group_engine *e)
{
    for (int i = 0; i < e->nworkers; i++)
        worker_free(e->workers[i]);
    free(e->workers);
    dispatch_free(e->dispatch);
    netpolicy_free(e->policy);
}

void group_free(struct group *g)
{
    if (!g)
        return;
    group_free_writer(g);
    retention_free(g->retention);
    epcache_free(g->api.fanout);
    engine_free(&g->engine);
    pthread_mutex_destroy(&g->api.msg_lock);
    store_close(g->store);
    free(g->dir);
    free(g);
}

void group_reload(struct group *g, const char *schedule, int64_t connect_ms,
                  int64_t request_ms)
{
    struct retry_schedule rs;
    if (!g->engine.dispatch)
        return;
    if (schedule && retry_parse(schedule, &rs) == 0)   /* config_load checked it */
        dispatch_set_schedule(g->engine.dispatch, xmemdup(&rs, sizeof(rs)));
    dispatch_set_timeouts(g->engine.dispatch, connect_ms, request_ms);
}

/* The meta record: main thread, before any writer runs. */
static int record_count(struct store *s, int n)
{
    struct store_txn *t;
    int rc = store_write(s, &t);
    if (!rc && (rc = store_meta_put_u64(t, "groups", (uint64_t)n)))
        store_abort(t);
    return rc ? rc : store_commit(t);
}

int group_check_count(struct store *s, int n, char *err, size_t cap)
{
    struct store_txn *t;
    uint64_t had = 0;
    int64_t apps = 0;
    int rc = store_read(s, &t);
    if (rc == 0) {
        if (!(rc = store_meta_get_u64(t, "groups", &had)))
            rc = store_entries(t, DB_APPS, &apps);
        store_abort(t);
    }
    if (!rc && had == 0 && apps == 0 && n > 1)
        rc = record_count(s, n);
    if (rc) {
        snprintf(err, cap, "cannot read or record the partition groups of the store: %s",
                 hookd_strerror(rc));
        return -1;
    }
    if (had == 0 && (apps == 0 || n == 1))
        return 0;
    if (had == 0)
        had = 1;
    if ((int)had != n) {
        snprintf(err, cap, "this data directory holds %d partition group%s and cannot be served "
                 "with --groups %d (its applications would be looked for in the wrong group); "
                 "start it with --groups %d", (int)had, had == 1 ? "" : "s", n, (int)had);
        return -1;
    }
    return 0;
}
