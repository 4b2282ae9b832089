/* SPDX-License-Identifier: Apache-2.0 */
/*
 * epstats.h - per-endpoint delivery counters by UTC day, for Svix's
 * GET .../endpoint/{ep}/stats (API.md 4.8), kept by the writer in the
 * transaction that changes a delivery's state, so that the answer is a
 * read of at most a few hundred counters, never a scan of the log.
 *
 * Layout (store.h, meta): "epstat:" ep_id ":" YYYYMMDD ":" kind, a u64
 * BE count (store_counter_add), YYYYMMDD the UTC day of the change, kind
 * one letter of enum epstats_kind. What is counted, per day:
 *   pending   deliveries queued (a message's fan-out, a resend, recover
 *             or replay)
 *   sending   failed attempts after which a retry is scheduled
 *   success   successful attempts
 *   fail      deliveries that ended failed (retries exhausted, a failed
 *             manual attempt, the payload expired, the endpoint deleted)
 *   canceled  waiting deliveries ended because their payload was expunged
 * The rows of an endpoint go with it (epstats_del).
 *
 * Threads: epstats_add and epstats_del on the writer thread only (inside
 * an apply); epstats_sum on any thread with a read transaction.
 */
#ifndef HOOKD_EPSTATS_H
#define HOOKD_EPSTATS_H

#include <stdint.h>

struct store_txn;

enum epstats_kind { EPSTATS_SUCCESS, EPSTATS_PENDING, EPSTATS_FAIL, EPSTATS_SENDING,
                    EPSTATS_CANCELED, EPSTATS_KINDS };

/* Count one change of kind for ep_id on the UTC day of ms. 0 or a store error. */
int epstats_add(struct store_txn *t, const char *ep_id, int64_t ms, enum epstats_kind kind);
/* The sums over the UTC days from since_ms's to until_ms's, both included. */
int epstats_sum(struct store_txn *t, const char *ep_id, int64_t since_ms, int64_t until_ms,
                int64_t out[EPSTATS_KINDS]);
/* Drop every counter of ep_id (its endpoint is deleted). */
int epstats_del(struct store_txn *t, const char *ep_id);

#endif
