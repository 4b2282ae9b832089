/* SPDX-License-Identifier: Apache-2.0 */
/*
 * missing.h - the messages an endpoint missed: messages of its
 * application, from a time on, that its filters take (eventTypes,
 * channels) and that have no delivery for it.
 *
 * A disabled endpoint is not subscribed (fan-out skips it, as Svix does;
 * pausing is the way to hold deliveries), so whatever arrived while it
 * was disabled has no delivery row for it. This module finds those
 * messages: /hookd/v1/endpoints counts them for a disabled endpoint (the
 * console shows the count), and replay-missing sends them. Messages made
 * before the endpoint itself are never counted as missed.
 *
 * The walk is over the messages database (app_id|msg_id, time order) in
 * slices: a caller examines at most max_scan records per call and resumes
 * where the last call stopped, so no read transaction lives long.
 *
 * Pure functions on a caller's read (or write) transaction; any thread.
 */
#ifndef HOOKD_MISSING_H
#define HOOKD_MISSING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "id.h"

struct store_txn;

/* What became of each message examined. */
enum missing_class {
    MISSING_FOUND,            /* missed: the filters take it, no delivery, payload kept */
    MISSING_DELIVERED,        /* has a delivery for the endpoint (any state) */
    MISSING_FILTERED,         /* the endpoint's filters do not take it */
    MISSING_EXPIRED,          /* missed, but its payload is gone (retention) */
    MISSING_UNREADABLE,       /* a record that does not read */
    MISSING_NCLASSES
};

struct missing_walk {
    char app[ID_MAX], ep[ID_MAX];
    char pos[ID_MAX + 2];     /* the next message id to look at is >= pos */
    char hi[ID_MAX];          /* messages ids below hi only */
    uint64_t counts[MISSING_NCLASSES];
    int done;
};

/*
 * Messages of app from since_ms up to (not including) until_ms (< 0:
 * no end) for endpoint ep.
 */
void missing_walk_init(struct missing_walk *w, const char *app, const char *ep,
                       int64_t since_ms, int64_t until_ms);

/*
 * Examine up to max_scan messages from where the walk stands, against the
 * endpoint record ep_rec (its filters and createdAt). found(msg_id, arg)
 * is called for each MISSING_FOUND; when it returns non-zero the walk
 * stops after that message (a batch is full). Returns 0 when more
 * remain, 1 when the walk is done, or a store error.
 */
int missing_walk_step(struct missing_walk *w, struct store_txn *t, json_t *ep_rec,
                      size_t max_scan, int (*found)(const char *msg_id, void *arg), void *arg);

/* Does msg still have no delivery for ep (writer re-check)? 1 yes, 0 no, < 0 error. */
int missing_still(struct store_txn *t, const char *msg_id, const char *ep_id);

#endif
