/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retention.h - the retention pass: old payloads, attempts and
 * idempotency answers leave the log in the background (DESIGN.md "The
 * log", issue 5).
 *
 * Every retention interval one pass:
 *   - rewrites each message whose payload outlived its retention without
 *     its payload and raw body, marked "expired": true (the rest of the
 *     record stays). A message keeps its payload for min(its
 *     retentionDays, payload-retention); payload-retention 0 keeps every
 *     payload. GET shows payload {"expired":true}, resend answers 400
 *     missing_payload, and a delivery still due for it ends as failed
 *     without an attempt (outcome.c);
 *   - deletes attempts older than attempt-retention (0 = keep) with their
 *     att_by_ep and att_by_msg entries;
 *   - deletes idempotency records past their expiry;
 *   - deletes application tokens past their expiry (apptoken.h).
 * The work reaches the log as writer intents of at most RETENTION_BATCH
 * records each (log entries that name the records: the thread decides,
 * the apply carries out), one at a time, so no intent holds the writer for long
 * and ingest waits behind at most one of them.
 *
 * Threads: retention_start() runs the pass on a thread of its own, which
 * reads the store in short read transactions and submits to the writer.
 * Start it after writer_start() and stop it before writer_stop(): a pass
 * waits for the writer to answer its intent.
 */
#ifndef HOOKD_RETENTION_H
#define HOOKD_RETENTION_H

#include <stdint.h>

#define RETENTION_BATCH 1000

struct entry_r;
struct reapply_env;
struct retention;
struct store;
struct store_txn;
struct writer;

struct retention_opts {
    struct store *store;
    struct writer *writer;
    int64_t interval_ms;      /* between passes */
    int64_t payload_ms;       /* cap on a message's retentionDays; 0 = keep payloads */
    int64_t attempt_ms;       /* attempts older than this go; 0 = keep attempts */
    /*
     * Or NULL. A pass runs only when it answers 1: a cluster node whose
     * role moves (cnode.h) prunes while it owns the log; as a standby
     * the owner's passes reach it through the log. Any thread.
     */
    int (*may_run)(void *ctx);
    void *may_run_ctx;
};

/* Records the passes changed since start-up (for logs and metrics). */
struct retention_stats {
    uint64_t passes;
    uint64_t payloads;        /* messages whose payload was removed */
    uint64_t attempts;        /* attempt records removed */
    uint64_t idempotency;     /* idempotency records removed */
    uint64_t tokens;          /* expired application tokens removed (apptoken.h) */
    /*
     * Time of the oldest message that still holds its payload, as the
     * last look found it (one at start, then one after each pass); 0 when
     * no message holds one.
     */
    int64_t oldest_payload_ms;
};

/* The options are copied; store and writer are borrowed. */
int retention_new(struct retention **out, const struct retention_opts *o);
/* 0, or -errno when the thread cannot be made. */
int retention_start(struct retention *r);
/* Finish the batch in the writer, then stop and join the thread. */
void retention_stop(struct retention *r);
void retention_free(struct retention *r);
/* Any thread. */
void retention_get_stats(struct retention *r, struct retention_stats *out);

/*
 * Apply an ENTRY_RETENTION (one batch: its records and the pass's time)
 * in t: the code the writer runs for the thread's batches, registered in
 * reapply.c. Records already gone, or an idempotency key or token used
 * again since (its expiry past the entry's time), are left alone.
 * HOOKD_EINVAL when the entry is damaged.
 */
int retention_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t);

#endif
