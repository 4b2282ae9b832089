/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cstats.h - cluster-wide stats (cluster mode, CLUSTER.md "cluster-wide
 * views are gathered from all nodes"): every node answers requests on
 * subject CSTATS_SUBJECT with a summary of itself, and keeps a view of
 * every node it has heard from, refreshed in the background, that
 * GET /hookd/v1/stats and /metrics read without waiting on the network.
 *
 * A node's summary (JSON): nodeId, role ("owner" or "standby"), owns and
 * follows (the keys of the partition groups it owns or follows),
 * owner (whom it believes owns the log), seq (the last log entry its
 * store applied), logSeq (the log's last sequence as it last read it),
 * listen (its HTTP address), version, uptimeS, its counters since its
 * start (messagesIngested, attemptsSucceeded, attemptsFailed,
 * deliveriesFailedFinal), inflight, deliveryHold, deliveriesDue (pending
 * + scheduled + held, from its store) and rates (10 s: ingest, success,
 * failure per second). Built at most every CSTATS_SUMMARY_MS; a request
 * within that gets the same text.
 *
 * The gather (a thread, every CSTATS_PERIOD_MS): read the log's last
 * sequence (stream info, waiting at most CSTATS_WAIT_MS), publish one
 * request {"from": NODE} with a reply inbox of its own (one a gather), and
 * collect the answers until CSTATS_WAIT_MS passed or every other node
 * that answered lately answered again. Anyone on the NATS servers can
 * answer: an answer is kept only as a summary of the types above with a
 * node id a node could have, and the view holds CSTATS_MAX_NODES at most,
 * a new node taking the place of one silent for CSTATS_SILENT_MS. The
 * view keeps each node heard from (its last summary, when it was last
 * heard from); one silent for CSTATS_SILENT_MS is unreachable, and one
 * silent for CSTATS_FORGET_MS is forgotten. A node's lag is the log's
 * last sequence, as this node read it, less the node's seq; its lag in
 * seconds how long ago (to the period) the log first went past the
 * node's seq, from this node's own samples of the log's last sequence.
 *
 * Threads: cstats_start() starts the gather thread ("hookd-cstats") and
 * subscribes the responder, whose callback runs on nats.c's thread;
 * cstats_put() from any thread (the HTTP threads: it only copies the
 * view under a lock); new, set_listen, start, stop and free by the
 * node's owner (main's thread through cnode.c). Built only with
 * HOOKD_CLUSTER.
 */
#ifndef HOOKD_CSTATS_H
#define HOOKD_CSTATS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <nats/nats.h>

#define CSTATS_SUBJECT "hookd.stats"
#define CSTATS_PERIOD_MS 1000       /* a gather this often */
#define CSTATS_WAIT_MS 400          /* for the answers, and for the stream's info */
#define CSTATS_SUMMARY_MS 250       /* a summary is built again after this */
#define CSTATS_SILENT_MS 3000       /* not heard from for this long: unreachable */
#define CSTATS_FORGET_MS (60 * 60 * 1000)  /* ... and for this long: forgotten */
#define CSTATS_MAX_NODES 64
#define CSTATS_ID_MAX 80            /* a node id's bytes, its NUL included */

struct api;
struct cluster;
struct cstats;

struct cstats_opts {
    struct cluster *cluster;    /* borrowed: the node's NATS connection */
    struct api *api;            /* borrowed: role, counters, store, dispatcher */
    const char *node_id;        /* copied */
    const char *stream;         /* copied: the log whose lag is shown (group 0's) */
    /* adds the keys of the groups this node owns and follows to the two arrays */
    void (*groups)(void *ctx, json_t *owns, json_t *follows);
    void *groups_ctx;
};

void cstats_new(struct cstats **out, const struct cstats_opts *o);
/* The HTTP address the node listens on (after the listener started). */
void cstats_set_listen(struct cstats *c, const char *addr);
/* Subscribe the responder and start the gather: 0 or an error code. */
int cstats_start(struct cstats *c);
/* Stop the gather and the responder (before the connection closes). */
void cstats_stop(struct cstats *c);
void cstats_free(struct cstats *c);

/*
 * Add the view to stats' cluster object: logSeq, lag (this node's),
 * nodes (this node first, then by node id; each with self, reachable,
 * answered, lastSeen, silentMs, lag {entries, seconds}), totals and
 * gather {at, ms, answers, error}. Any thread; never waits on the network.
 */
void cstats_put(struct cstats *c, json_t *cluster);

/*
 * The nodes that could own the partition group key now: this node first,
 * then every other node heard from within CSTATS_SILENT_MS whose summary
 * lists key in owns or follows; at most max ids. The count. Any thread.
 */
int cstats_candidates(struct cstats *c, const char *key, char (*ids)[CSTATS_ID_MAX], int max);

/*
 * One gather on its own (hookd cluster status): publish a request on nc
 * and collect the summaries that arrive within wait_ms, as a JSON array
 * (caller decrefs). NULL when the request cannot be sent.
 */
json_t *cstats_ask(natsConnection *nc, int64_t wait_ms);

/*
 * Seconds (to the samples' spacing) that an applied sequence seq lags:
 * samples are (monotonic ms, the log's last sequence), oldest first, n of
 * them; the answer is now less the time of the first sample whose
 * sequence is beyond seq (0 when none is), or less the oldest sample's
 * time when every one is (a floor). Pure; for the tests too.
 */
struct cstats_sample {
    int64_t mono_ms;
    uint64_t seq;
};
double cstats_lag_seconds(const struct cstats_sample *s, size_t n, uint64_t seq, int64_t now);

#endif
