/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task.h - background tasks: work too long for one request or one write
 * transaction (Svix's "background task", API.md 4.7).
 *
 * A task is a step function called again and again on the task thread
 * until it says it is done; each call does one bounded piece (a read
 * transaction over a slice of records, then at most one writer intent
 * through task_write), so a task of millions of records neither holds a
 * read transaction for long nor makes the writer's transaction large,
 * and ingest gets the writer between its steps. Running tasks take turns
 * a step each. After each step the task's report() is called for the
 * figures GET /api/v1/background-task shows (its "data").
 *
 * Tasks live in memory: a restart forgets them, finished or not (a task
 * must therefore be safe to run again from the start, which is what the
 * caller is told to do). The newest TASK_KEEP are kept; older finished
 * ones are dropped. So a task's id, status and figures are never in the
 * store and no log entry carries them; only the writes of its steps are
 * log entries (entry.h), each with everything its apply needs decided by
 * the step (the messages to queue, the time).
 *
 * Threads: task_submit, task_get and task_list from any thread; step,
 * report and free_arg run on the task thread only (free_arg also on the
 * thread of task_free, once the task thread has stopped). Start after
 * writer_start(), stop before writer_stop(): a step may wait for the
 * writer.
 */
#ifndef HOOKD_TASK_H
#define HOOKD_TASK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "id.h"

struct entry_r;
struct entry_w;
struct reapply_env;
struct store;
struct store_txn;
struct writer;
struct tasks;

#define TASK_KEEP 1000

enum task_status { TASK_RUNNING, TASK_FINISHED, TASK_FAILED };

/*
 * What applies the entries steps write (task_write), on the writer
 * thread: reapply_entry (reapply.h) in the server, so an entry is
 * applied by the code `hookd reapply` runs for its kind; a test may give
 * its own.
 */
typedef int (*task_apply_fn)(const struct reapply_env *env, const void *entry, size_t len,
                             struct store_txn *t);

/* What the step functions get: the log, and the writer through task_write. */
struct task_env {
    struct store *store;
    struct writer *writer;
    struct tasks *tasks;
    task_apply_fn apply;
};

struct task_spec {
    const char *kind;         /* "endpoint.replay": a static string */
    /* One bounded piece: 0 more to do, 1 done, < 0 failed (a HOOKD_* code). */
    int (*step)(const struct task_env *env, void *arg);
    /* The figures so far, a new object (the task's "data"); NULL: {}. */
    json_t *(*report)(void *arg, int status);
    void (*free_arg)(void *arg);
    void *arg;                /* owned by the task from task_submit on */
};

int tasks_new(struct tasks **out, struct store *s, struct writer *w, task_apply_fn apply);
/* 0, or -errno when the thread cannot be made. */
int tasks_start(struct tasks *ts);
/* Finish the step under way, then stop and join; running tasks stay running. */
void tasks_stop(struct tasks *ts);
void tasks_free(struct tasks *ts);

/*
 * Queue a task made at now (its id, qtask_..., into id). The spec's arg
 * is the task's from here on, also on error (HOOKD_ESTOPPED once
 * tasks_stop began).
 */
int task_submit(struct tasks *ts, const struct task_spec *spec, int64_t now, char id[ID_MAX]);

/* BackgroundTaskOut of task id (a new object), or NULL when unknown. */
json_t *task_get(struct tasks *ts, const char *id);

/*
 * The tasks whose id is past iterator in the order asked (NULL: from
 * the newest or oldest end), at most limit, optionally only one status
 * (-1: any) and kind (NULL: any), as BackgroundTaskOut objects in a new
 * array; *more says whether more follow.
 */
json_t *task_list(struct tasks *ts, const char *iterator, int descending, int limit,
                  int status, const char *kind, int *more);

/* "running", "finished", "failed"; -1 for another name. */
int task_status_parse(const char *name);

/*
 * From a step: the write e, a log entry the step built (entry_begin with
 * its kind and the step's time, then the kind's fields), in one writer
 * intent (nested transaction) applied by env->apply, which finds the
 * apply of e's kind; waits until it is durable. e is the writer's from
 * here on and is left empty. *counted (NULL: not wanted) gets what the
 * apply counted (reapply_env.counted). Returns the apply's result, or
 * the commit's.
 */
int task_write(const struct task_env *env, struct entry_w *e, uint64_t *counted);

/*
 * The tasks' writes, defined beside their tasks and registered by kind in
 * reapply.c's table (so task_write and hookd reapply run the same code):
 *   ENTRY_RECOVER (api_attempt.c): app, endpoint, the messages a recover
 *     batch queues again;
 *   ENTRY_TASK_RM (api_task.c): app, endpoint, the messages a
 *     replay-missing batch found with no delivery.
 * Each queues one manual attempt per message at the entry's time.
 */
int task_recover_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t);
int task_rm_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t);

#endif
