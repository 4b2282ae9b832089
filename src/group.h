/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group.h - one partition group of a node: its store, writer, delivery
 * engine, retention pass, background tasks, fan-out cache, message-id
 * lock and struct api.
 *
 * A node holds G groups (part.h); every app lives in exactly one,
 * part_app_group(app id or uid, P, G), and everything of the app (its
 * endpoints, messages, deliveries, attempts, application tokens) is in
 * that group's store. Group 0's store is the data directory itself, so
 * a single node (G = 1) is exactly what it was before groups; group
 * g > 0 keeps a complete store of its own in DATA/group.<g> (0700),
 * which hookd check, backup and compare read like any other.
 *
 * What is the node's, not a group's, is shared by every group's api and
 * owned by serve (main.c): the configuration, stats, feed, the admin
 * token, started_ms. The ingest and metrics token lists (api.ingest_tokens,
 * api.metrics_tokens) live in the front api only (group 0's: the HTTP
 * server's ctx), where every request is admitted; the other groups'
 * lists stay empty.
 *
 * Lifecycle, in serve's order: group_open (store, writer made but not
 * started, api filled in) for every group; then the cluster side may
 * attach to a group's store, writer and api (cnode_new takes group 0's)
 * and decide whether its deliveries are held; group_start; ... the stop,
 * each step for every group before the next: group_stop_engine,
 * group_stop_background, (http quiesce), group_stop_writer,
 * group_free_writer, group_free.
 *
 * Threads: every function here is for serve's main thread. A group's
 * threads are its writer's (two), its dispatcher, its workers, its
 * retention pass and its tasks' runner; they touch only that group's
 * store, plus the node-wide stats and feed.
 */
#ifndef HOOKD_GROUP_H
#define HOOKD_GROUP_H

#include <stdint.h>
#include <stdio.h>

#include "api.h"

struct config;
struct dispatch;
struct netpolicy;
struct retention;
struct store;
struct tasks;
struct worker;
struct writer;

/* A group's delivery engine: its workers and the dispatcher feeding them. */
struct group_engine {
    struct netpolicy *policy;
    struct worker **workers;
    int nworkers;
    struct dispatch *dispatch;
    int hold;                    /* every delivery held: --hold-deliveries, or a standby */
};

struct group {
    int index;                   /* 0 .. ngroups - 1 */
    char *dir;                   /* its store's directory (heap) */
    struct store *store;
    struct writer *writer;
    struct group_engine engine;
    struct retention *retention; /* NULL when the group runs no retention (a standby) */
    struct tasks *tasks;
    struct api api;              /* this group's; api.groups lists every group's */
    int fd_ceiling;              /* group_opts.fd_ceiling */
};

/* What group_open needs; the node-wide parts are borrowed for the group's life. */
struct group_opts {
    const struct config *cfg;
    int index, ngroups, partitions;
    struct api *const *apis;     /* every group's api (ngroups), filled as they open */
    struct stats *stats;         /* node-wide, shared */
    struct feed *feed;           /* node-wide, shared */
    const char *admin_token;
    int64_t started_ms;
    FILE *journal;               /* --entry-journal, or NULL; the caller keeps it */
    int fd_ceiling;              /* deliveries' sockets stay below it */
};

/*
 * Open group o->index: its directory (group.<g> under the data
 * directory, made 0700, for g > 0), its store, its writer (not started),
 * its fan-out cache and msg_lock, and its api filled in with the
 * node-wide parts. 0, or -1 with err set to one sentence (the store's
 * own words, naming the directory and, when busy, the holder's pid);
 * *out is then NULL and nothing is left open.
 */
int group_open(struct group **out, const struct group_opts *o, char *err, size_t cap);

/* How group_start runs the group's threads. */
struct group_start_opts {
    int hold;                    /* hold every delivery (engine.hold) */
    int retention;               /* run a retention pass */
    int (*may_run)(void *ctx);   /* retention_opts.may_run, or NULL */
    void *may_run_ctx;
};

/*
 * Start the delivery engine, the writer, the retention pass (when
 * asked) and the background tasks, and set api.dispatch, api.retention,
 * api.tasks. 0, or -1 after printing why to stderr (the caller stops
 * what started: the stop functions below take a half-started group).
 */
int group_start(struct group *g, const struct group_start_opts *so);

/*
 * Stop handing out deliveries and let those in flight finish by
 * deadline_ms (clock_mono_ms), which every group shares.
 */
void group_stop_engine(struct group *g, int64_t deadline_ms);
/* Stop the retention pass and the tasks (their last batches need the writer). */
void group_stop_background(struct group *g);
/* Apply what is queued, resume every request, join the writer. */
void group_stop_writer(struct group *g);
/* Free the tasks and the writer (after every group's writer stopped). */
void group_free_writer(struct group *g);
/* Free the rest and close the store; NULL is fine. */
void group_free(struct group *g);

/*
 * Every group's dispatcher takes the reloadable delivery settings
 * (SIGHUP): schedule (NULL: unchanged) and timeouts.
 */
void group_reload(struct group *g, const char *schedule, int64_t connect_ms,
                  int64_t request_ms);

/*
 * The partition groups recorded in the store of group 0 (meta "groups"),
 * checked against n: a store made with another count is refused (its
 * apps would be looked for in the wrong group); a store without the
 * record was made with one group, unless it holds no application yet,
 * when n is recorded (only when n > 1: a single node's store stays
 * byte for byte what it was). Before the writer starts (main thread).
 * 0, or -1 with err set.
 */
int group_check_count(struct store *s, int n, char *err, size_t cap);

#endif
