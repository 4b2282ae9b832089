/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dispatch.h - the dispatcher: what is due, for whom, and when.
 *
 * It keeps one state per endpoint and reads each endpoint's backlog from
 * the log's due index in bounded slices (so a million-delivery backlog
 * for a dead endpoint costs a cursor, not memory). It starts a delivery
 * only when the endpoint is enabled and not paused and the server does
 * not hold every delivery (dispatch_release), under its concurrency cap
 * and its throttleRate, rotating between endpoints one delivery at a
 * time so a busy endpoint cannot starve a quiet one. The due entries of a
 * deleted endpoint, also those a restart finds, are drained without a
 * send: each waiting delivery ends as failed, "endpoint deleted"
 * (outcome.c). It never touches the network.
 *
 * Threads: the dispatcher runs its own thread. dispatch_on_commit (the
 * writer's commit hook) and the jobs' done callbacks run on the writer
 * thread and only push to the dispatcher's inbox under its lock; the done
 * callbacks also count the committed outcome (stats.h, feed.h).
 */
#ifndef HOOKD_DISPATCH_H
#define HOOKD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "outcome.h"

struct dispatch;
struct feed;
struct stats;
struct store;
struct worker;
struct writer;

struct dispatch_opts {
    struct store *store;
    struct writer *writer;
    struct worker **workers;
    int nworkers;
    int ep_concurrency;          /* deliveries in flight per endpoint */
    int64_t connect_timeout_ms;  /* defaults; endpoints may override */
    int64_t timeout_ms;
    struct outcome_opts outcome; /* its schedule is taken: dispatch_free releases it */
    struct stats *stats;         /* committed outcomes are counted here (may be NULL) */
    struct feed *feed;           /* and pushed to the live feed (may be NULL) */
    int hold;                    /* start with every delivery held (dispatch_release) */
};

struct dispatch_stats {
    int endpoints;
    int inflight;
    int queued;                  /* claimed, waiting for a slot */
};

int dispatch_new(struct dispatch **out, const struct dispatch_opts *o);
int dispatch_start(struct dispatch *d);
/* Stop handing out work and join the thread. Jobs handed out stay with the workers. */
void dispatch_stop(struct dispatch *d);
void dispatch_free(struct dispatch *d);

/*
 * Worker thread: j's HTTP exchange has ended. The endpoint's concurrency
 * slot is free from now on, while the claim on the due entry stays until
 * the outcome is committed (job_done), so a slot is not held for a commit.
 */
struct job;
void dispatch_transfer_done(struct dispatch *d, struct job *j);

/*
 * The thread that owns j (worker or dispatcher): build j's outcome entry
 * and hand it to the writer (outcome_submit). Non-zero when the writer
 * refused it (stopping): j is still the caller's, to pass to its done().
 */
int dispatch_submit_outcome(struct job *j);

/* writer_commit_fn: endpoints whose due entries or settings changed. */
void dispatch_on_commit(void *ctx, char *const *keys, size_t n);

/*
 * SIGHUP reloads (main thread). New deliveries take the timeouts from the
 * dispatcher's next round; those in flight keep theirs. The schedule
 * (heap, taken) applies to the outcomes submitted from then on.
 */
void dispatch_set_timeouts(struct dispatch *d, int64_t connect_timeout_ms, int64_t timeout_ms);
void dispatch_set_schedule(struct dispatch *d, struct retry_schedule *s);

void dispatch_get_stats(struct dispatch *d, struct dispatch_stats *out);

/*
 * The hold of hookd serve --hold-deliveries (a restore drill on a copy
 * of the log must not send what the original already sent): while held,
 * the dispatcher claims nothing, so no delivery is attempted and nothing
 * in the log changes on its account; new messages are accepted and
 * wait. dispatch_release lifts it for good (the next round starts the
 * work); dispatch_held says whether it is on. Any thread.
 */
void dispatch_release(struct dispatch *d);
int dispatch_held(struct dispatch *d);
/*
 * The inverse of dispatch_release, for a cluster's owner that lost its
 * lease: from now on nothing new is claimed; deliveries already started
 * finish (their outcomes may fail to reach the log: the next owner sends
 * them again, at least once). Any thread.
 */
void dispatch_hold(struct dispatch *d);
/*
 * Deliveries of ep_id handed to workers whose outcome is not yet
 * committed, as of the dispatcher's last round. Any thread.
 */
int dispatch_ep_inflight(struct dispatch *d, const char *ep_id);

#endif
