/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cnode.h - a serving node of a cluster (hookd serve --cluster): what
 * main.c starts and stops, so that its start-up story stays a story.
 *
 * Roles are static for now (--cluster-role): the owner publishes every
 * batch before applying it (clog.h) and delivers; a standby applies the
 * owner's log (cfollow.h), delivers nothing and refuses writes with 503
 * not_owner. No node changes role by itself: the partition leases of
 * CLUSTER.md will choose the owner and replace the option.
 *
 * cnode_new() connects to NATS, checks that the cluster was initialized,
 * and wires the writer (owner) or makes the follower (standby), and sets
 * the API's cluster fields. Built only with HOOKD_CLUSTER.
 *
 * Threads: main's, for new, start, stop and free; the API's callbacks
 * (struct api's cluster_owner and cluster_stats) from any thread.
 */
#ifndef HOOKD_CNODE_H
#define HOOKD_CNODE_H

#include <stddef.h>

struct api;
struct config;
struct store;
struct writer;

struct cnode;

/*
 * Before writer_start(). 0, or -1 with one sentence in err (unreachable
 * NATS servers, a cluster never initialized).
 */
int cnode_new(struct cnode **out, const struct config *c, struct store *s, struct writer *w,
              struct api *api, char *err, size_t errlen);
int cnode_standby(const struct cnode *n);
/* After writer_start(): a standby starts following. 0 or an error code. */
int cnode_start(struct cnode *n);
/* Before writer_stop(): the follower stops. */
void cnode_stop(struct cnode *n);
/* After writer_stop() and writer_free(). */
void cnode_free(struct cnode *n);

#endif
