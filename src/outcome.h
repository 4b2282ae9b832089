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

#include <stddef.h>
#include <stdint.h>

#include "id.h"
#include "retry.h"
#include "swap.h"

struct job;
struct store_txn;
struct writer;

struct outcome_opts {
    struct swap schedule;          /* struct retry_schedule; SIGHUP may replace it */
    int64_t disable_after_ms;      /* failing this long disables the endpoint; 0 = never */
    struct writer *writer;         /* for writer_touch */
    /*
     * Writer thread only: attempt ids. Each new one is greater than the
     * last, so the attempt tables append and fill their pages instead of
     * splitting them in half.
     */
    struct id_seq attempt_ids;
};

/* Apply j's outcome in t. Writer thread only. */
int outcome_apply(struct outcome_opts *o, struct job *j, struct store_txn *t);

/*
 * A failed attempt in one line for operators (feed, lists): the error
 * text when there was no response (code 0), else "HTTP <code>" and the
 * start of the body. Cut to cap bytes on a UTF-8 boundary; invalid UTF-8
 * in the body is dropped. Pure; any thread.
 */
void outcome_error_text(int code, const char *resp, size_t len, char *out, size_t cap);


#endif
