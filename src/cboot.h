/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cboot.h - how a store comes to follow a cluster's log (cluster mode,
 * docs/operations.md 8 "Adding a node" and "Importing a single node"):
 *
 *   - cboot_check(), when a node starts: the store can follow the log
 *     from its cluster.seq + 1 only when the log still holds that entry
 *     (streams are trimmed by their max_age, the log retention), when the
 *     log does not start from an imported store this one is not, and when
 *     a store that never applied the log holds no data of its own. Else
 *     one sentence that says how to bootstrap the node: from a hot backup
 *     (`hookd backup`) of a running node, whose store records its place
 *     in the log (meta cluster.seq) and nothing node-local that matters
 *     (the node id is a flag, never stored; meta "probe" is skipped by
 *     check --compare).
 *   - `hookd cluster import --data DIR`: a single node's store becomes the
 *     first store of a cluster whose log is empty: an IMPORT entry
 *     (cmeta.h) is published as the log's first entry, expecting an empty
 *     subject, and the store records it (cluster.seq, cluster.import) in
 *     one transaction.
 *   - `hookd cluster bootstrap --data DIR` (cbootnet.c): a hot copy of
 *     every partition group's store of a live node fetched over NATS in
 *     chunks, each SHA-256 checked, into a new data directory (group 0 in
 *     DIR, group g in DIR/group.<g>), so a new machine needs no file copy.
 *   - `hookd cluster log [--from N] [--count N]`: the log's messages and
 *     their entries, one line each (seq, kind, node, epoch), for people
 *     and tests.
 *   - `hookd cluster purge-log --keep N` (tests only, not in the usage):
 *     drops all but the last N messages of the log, as its retention would.
 *
 * Built only with HOOKD_CLUSTER. Threads: the caller's.
 */
#ifndef HOOKD_CBOOT_H
#define HOOKD_CBOOT_H

#include <stddef.h>

struct cluster;
struct cluster_group;
struct store;

/* 0 when the store can follow group g's log (or the log cannot be asked now), -1 with one sentence in err. */
int cboot_check(struct cluster *cl, const struct cluster_group *g, struct store *s, char *err,
                size_t errlen);

/* `hookd cluster import|log|bootstrap|purge-log`: argv[0] is the subcommand; the exit status. */
int cboot_main(int argc, char **argv);

/*
 * cbootnet.c: every serving node answers bootstrap requests on its NATS
 * connection cl with hot copies of its partition groups' stores (in
 * data_dir/bootstrap), one copy at a time per node, to requests that
 * carry its admin_token (copied) and name a group it registered.
 *
 * cboot_serve_start: once per node (cnode_new), answering from then on;
 * a request for a group not registered yet gets an error answer.
 * cboot_serve_group: group g's store s (0 <= g < PART_GROUPS_MAX; -1
 * else), once per group (cnode_attach); the server borrows s, which
 * must stay open until cboot_serve_stop. The callbacks run on nats.c's
 * threads and a copy is made on a thread of its own; start, serve_group
 * and stop on the caller's (one thread), stop (which waits for a copy
 * being made) before any registered store closes.
 *
 * cboot_fetch: `hookd cluster bootstrap`, every group of a cluster with
 * groups partition groups (its settings' streams) into dir, with
 * admin_token ("" none: the cluster refuses); the exit status.
 */
struct cboot_server;
int cboot_serve_start(struct cboot_server **out, struct cluster *cl, const char *data_dir,
                      const char *node, const char *admin_token, char *err, size_t errlen);
int cboot_serve_group(struct cboot_server *b, int g, struct store *s);
void cboot_serve_stop(struct cboot_server *b);
int cboot_fetch(struct cluster *cl, int groups, const char *dir, const char *admin_token);

#endif
