/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cnode.h - a serving node of a cluster (hookd serve --cluster): what
 * main.c starts and stops, so that its start-up story stays a story.
 *
 * The owner publishes every batch before applying it (clog.h) and
 * delivers; a standby applies the owner's log (cfollow.h) and delivers
 * nothing. Every node serves the requests other nodes forward to it
 * while it owns (cfwd.h); a standby of --cluster-role auto forwards
 * every API request to the owner, while a fixed standby (a drill)
 * answers reads from its store and writes 503 not_owner. With --cluster-role auto
 * (the normal one) the lease of key group.0 (lease.h, on a NATS
 * connection of its own) chooses: a node starts as a standby; when it
 * acquires the lease its follower applies the log to its end and stops,
 * and the node owns (clog publishing, deliveries released, writes
 * accepted); when it loses the lease it fences at once, in the lease's
 * callback (writes 503, deliveries held again: those in flight finish),
 * and follows again. A role thread does the slow parts (catching up,
 * stopping and starting the follower). owner and standby are static
 * roles, for drills.
 *
 * cnode_new() connects to NATS, checks that the cluster was initialized,
 * and wires the writer (owner) or makes the follower (standby), and sets
 * the API's cluster fields. Every role also answers and gathers the
 * cluster-wide stats (cstats.h), which the API's cluster_stats adds to
 * GET /hookd/v1/stats. Built only with HOOKD_CLUSTER.
 *
 * Threads: main's, for new, start, stop, release and free; the lease's
 * callbacks on its thread, the role thread (auto); the API's callbacks
 * (struct api's cluster_owner and cluster_stats) from any thread.
 */
#ifndef HOOKD_CNODE_H
#define HOOKD_CNODE_H

#include <stddef.h>

struct api;
struct config;
struct dispatch;
struct store;
struct writer;

struct cnode;

/*
 * Before writer_start(). 0, or -1 with one sentence in err (unreachable
 * NATS servers, a cluster never initialized).
 */
int cnode_new(struct cnode **out, const struct config *c, struct store *s, struct writer *w,
              struct api *api, char *err, size_t errlen);
/* The node starts as a standby (standby, or auto): deliveries start held. */
int cnode_standby(const struct cnode *n);
/* --cluster-role auto: the lease chooses the role. */
int cnode_auto(const struct cnode *n);
/* This node owns the log now (1), or is a standby (0); ctx is the cnode. Any thread. */
int cnode_owns(void *ctx);
/*
 * After writer_start() and the dispatcher's start (d, which auto holds
 * and releases as the lease moves): a standby starts following; auto
 * follows and runs the lease. 0 or an error code.
 */
int cnode_start(struct cnode *n, struct dispatch *d);
/* The HTTP address the node listens on, for the cluster-wide stats (cstats.h). */
void cnode_set_listen(struct cnode *n, const char *addr);
/* Before writer_stop(): the role thread, the follower and the stats' gather stop. */
void cnode_stop(struct cnode *n);
/*
 * After writer_stop() (the last outcomes are in the log): give the lease
 * up, so that another node owns at once rather than after the TTL.
 */
void cnode_release(struct cnode *n);
/* After writer_stop() and writer_free(). */
void cnode_free(struct cnode *n);

#endif
