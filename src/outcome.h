/*
 * outcome.h - turning a finished attempt into log records (writer thread).
 *
 * One outcome writes: the attempt record and its two index entries, the
 * delivery row (attempts, last code, state), the removal of the due entry
 * the attempt came from, the next due entry when a retry is scheduled,
 * the endpoint's health row, and on 410 Gone or a long enough run of
 * failures the endpoint's disabled flag. All in the nested transaction of
 * one intent, so an outcome is recorded whole or not at all.
 */
#ifndef HOOKD_OUTCOME_H
#define HOOKD_OUTCOME_H

#include <stdint.h>

#include "retry.h"

struct job;
struct store_txn;
struct writer;

struct outcome_opts {
    struct retry_schedule schedule;
    int64_t disable_after_ms;      /* failing this long disables the endpoint; 0 = never */
    struct writer *writer;         /* for writer_touch */
};

/* Apply j's outcome in t. Writer thread only. */
int outcome_apply(const struct outcome_opts *o, struct job *j, struct store_txn *t);


#endif
