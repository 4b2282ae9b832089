/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outcome.h - turning a finished attempt into log records (writer thread).
 *
 * One outcome writes: the attempt record and its two index entries, the
 * delivery row (attempts, last code, state), the removal of the due entry
 * the attempt came from, the next due entry when a retry is scheduled,
 * the endpoint's health row (with its backlog counts), the meta "failed"
 * counter when the delivery enters or leaves state fail, and on 410 Gone or a long enough run of
 * failures the endpoint's disabled flag, and the operator's event when the
 * attempt changed a state Svix reports (opwh.h). A delivery whose message lost its
 * payload to retention (job->expired) gets no attempt: the due entry goes
 * and the row ends in state fail. All in the nested transaction of
 * one intent, so an outcome is recorded whole or not at all.
 */
#ifndef HOOKD_OUTCOME_H
#define HOOKD_OUTCOME_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "id.h"
#include "retry.h"
#include "swap.h"

struct entry_r;
struct job;
struct reapply_env;
struct store_txn;
struct writer;

struct outcome_opts {
    struct swap schedule;          /* struct retry_schedule; SIGHUP may replace it */
    int64_t disable_after_ms;      /* failing this long disables the endpoint; 0 = never */
    struct writer *writer;         /* where outcome_submit hands outcomes; for writer_touch */
    /*
     * Attempt ids, decided on the submitting side (any worker thread)
     * under lock, which also covers writer_submit: so each id is greater
     * than the one before it in the writer's queue, which applies in
     * queue order, and the attempt tables append and fill their pages
     * instead of splitting them in half. outcome_init / outcome_fini.
     */
    pthread_mutex_t lock;
    struct id_seq attempt_ids;
};

void outcome_init(struct outcome_opts *o);
void outcome_fini(struct outcome_opts *o);

/*
 * Build j's log entry (ENTRY_OUTCOME, entry.h) from what the dispatcher
 * and the worker set, with everything its apply needs decided now: the
 * time (now), the attempt id, the retry schedule and --disable-after of
 * this moment (only when the attempt failed and may be retried or
 * disable the endpoint), then hand it to o's writer. Returns
 * writer_submit()'s result: on failure the caller still owns j (and
 * calls its done()). Any thread; the one that owns j.
 *
 * Entry fields: flags (OUTCOME_F_*), app, endpoint and message ids, the
 * due key; when there was an attempt (no missing, ep_gone or expired
 * flag): url, started_ms, duration_ms, status code, response body
 * (bytes), response headers (count, bytes), then, when it failed,
 * disable-after, and when it also was not manual, Retry-After and the
 * schedule (count, delays); last, the attempt id. The flags carry the
 * job's missing, ep_gone, expired, expunged, retry and manual trigger.
 */
int outcome_submit(struct outcome_opts *o, struct job *j);

/*
 * Apply j's outcome in t: the job's fields as outcome_submit encoded
 * them, its entry's head (time, draws), and the store; nothing else.
 * w is for writer_touch only (NULL on reapply). Writer thread only.
 */
int outcome_apply(struct writer *w, struct job *j, struct store_txn *t);

/* hookd reapply's apply of ENTRY_OUTCOME (reapply.h). HOOKD_EINVAL when damaged. */
int outcome_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t);

/*
 * A failed attempt in one line for operators (feed, lists): the error
 * text when there was no response (code 0), else "HTTP <code>" and the
 * start of the body. Cut to cap bytes on a UTF-8 boundary; invalid UTF-8
 * in the body is dropped. Pure; any thread.
 */
void outcome_error_text(int code, const char *resp, size_t len, char *out, size_t cap);


#endif
