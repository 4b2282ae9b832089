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
 * A node holds the cluster's partition groups (part.h; as many as the
 * cluster has streams), each with its own store, writer, API and
 * dispatcher (serve's), and here its own log writer, follower, lease
 * (key group.<g>) and role thread: what is said above of "the log" holds
 * for each group's log on its own. The node's NATS connection, its
 * forwarding (cfwd.h: a request goes to the owner of its group) and its
 * cluster-wide stats are shared.
 *
 * cnode_new() connects to NATS and checks that the cluster was
 * initialized; cnode_attach() then takes each group's store, writer and
 * API: it checks that the store can follow the group's log, wires the
 * writer (owner) or makes the follower (standby), and sets the API's
 * cluster fields. Every role also answers and gathers the cluster-wide
 * stats (cstats.h), which the API's cluster_stats adds to GET
 * /hookd/v1/stats. Built only with HOOKD_CLUSTER.
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
 * Before the groups open: connect, and read the cluster's settings (its
 * groups). 0, or -1 with one sentence in err (unreachable NATS servers,
 * a cluster never initialized).
 */
int cnode_new(struct cnode **out, const struct config *c, char *err, size_t errlen);
/* The cluster's partition groups (its streams), and partitions: 1 and 1 for no node. */
int cnode_groups(const struct cnode *n);
int cnode_partitions(const struct cnode *n);
/*
 * Group g's store, writer and API, before that writer's start, group 0
 * first: its API is the front, which forwarded requests run through (it
 * routes each to its group's API). 0, or -1 with one sentence in err
 * (the store cannot follow the group's log).
 */
int cnode_attach(struct cnode *n, int g, struct store *s, struct writer *w, struct api *api,
                 char *err, size_t errlen);
/* Group g's part, the ctx of cnode_owns for that group; NULL before its attach. */
void *cnode_group(struct cnode *n, int g);
/* The node starts as a standby (standby, or auto): deliveries start held. */
int cnode_standby(const struct cnode *n);
/* --cluster-role auto: the lease chooses the role. */
int cnode_auto(const struct cnode *n);
/* This node owns the group's log now (1), or is a standby (0); ctx is cnode_group's. Any thread. */
int cnode_owns(void *ctx);
/*
 * After the writers' start and the dispatchers' (d[g] for group g, which
 * auto holds and releases as the lease moves): a standby starts
 * following; auto follows and runs the leases. 0 or an error code.
 */
int cnode_start(struct cnode *n, struct dispatch *const *d);
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
