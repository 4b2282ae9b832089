/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task.c - background tasks (task.h says what they promise).
 *
 * The registry is an array in submission order, which is id order (ids
 * carry their time and are handed out increasing here), so a list page is
 * a binary search for the iterator and a walk. One lock guards it; the
 * task thread takes the lock only to pick the next running task and to
 * store what a step reported, never while a step runs. Steps of different
 * tasks alternate, so a task over millions of records does not keep a
 * small one waiting.
 *
 * task_write hands a step's write to the writer as the log entry the step
 * built; the writer applies it with the task_apply_fn given to tasks_new
 * (reapply_entry), so the apply is chosen by the entry's kind and is the
 * one hookd reapply runs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "mem.h"
#include "reapply.h"
#include "task.h"
#include "thread.h"
#include "writer.h"

#define STEP_PAUSE_NS 1000000L   /* between steps: the writer's other intents go first */

struct task {
    char id[ID_MAX];
    struct task_spec spec;
    enum task_status status;
    json_t *data;             /* the last report; owned, replaced under the lock */
    char error[128];          /* failed: why */
    int64_t updated_ms;
};

struct tasks {
    struct task_env env;
    pthread_t thread;
    int started;

    pthread_mutex_t lock;     /* guards everything below */
    pthread_cond_t wake;
    int stopping;
    struct task **v;          /* in id order */
    size_t n, cap;
    size_t next;              /* round-robin position of the task thread */
    char last_id[ID_MAX];
};

static const char *const status_names[] = { "running", "finished", "failed" };

int task_status_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

static void task_free_one(struct task *t)
{
    if (t->spec.free_arg)
        t->spec.free_arg(t->spec.arg);
    json_decref(t->data);
    free(t);
}

/* --- the registry --- */

/* Drop the oldest finished tasks past TASK_KEEP (lock held). */
static void trim(struct tasks *ts)
{
    size_t w = 0, excess = ts->n > TASK_KEEP ? ts->n - TASK_KEEP : 0;
    for (size_t i = 0; i < ts->n; i++) {
        struct task *t = ts->v[i];
        if (excess && t->status != TASK_RUNNING) {
            excess--;
            task_free_one(t);
            if (ts->next > w)
                ts->next--;
            continue;
        }
        ts->v[w++] = t;
    }
    ts->n = w;
}

int task_submit(struct tasks *ts, const struct task_spec *spec, int64_t now, char id[ID_MAX])
{
    struct task *t = xcalloc(1, sizeof(*t));
    t->spec = *spec;
    t->status = TASK_RUNNING;
    t->updated_ms = now;
    t->data = spec->report ? spec->report(spec->arg, 0) : NULL;
    pthread_mutex_lock(&ts->lock);
    if (ts->stopping) {
        pthread_mutex_unlock(&ts->lock);
        task_free_one(t);
        return HOOKD_ESTOPPED;
    }
    char fresh[ID_MAX];
    /* not a log write: the registry is this process's memory (task.h) */
    id_new_at("qtask_", now, fresh);
    id_after(fresh, ts->last_id, t->id);   /* increasing: the array stays in id order */
    memcpy(ts->last_id, t->id, sizeof(t->id));
    memcpy(id, t->id, sizeof(t->id));
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? 2 * ts->cap : 16;
        ts->v = xrealloc(ts->v, ts->cap * sizeof(*ts->v));
    }
    ts->v[ts->n++] = t;
    trim(ts);
    pthread_mutex_unlock(&ts->lock);
    pthread_cond_signal(&ts->wake);
    return 0;
}

/* BackgroundTaskOut (lock held). */
static json_t *task_out(const struct task *t)
{
    char ts[CLOCK_RFC3339_MAX];
    json_t *data = t->data ? json_deep_copy(t->data) : json_object();
    if (t->status == TASK_FAILED && t->error[0] && !json_object_get(data, "error"))
        json_object_set_new(data, "error", json_string(t->error));
    clock_format(t->updated_ms, ts);
    return json_pack("{s:s, s:s, s:s, s:o, s:s}", "id", t->id, "status",
                     status_names[t->status], "task", t->spec.kind, "data", data,
                     "updatedAt", ts);
}

/* Index of the first task whose id is >= id (lock held). */
static size_t lower_bound(const struct tasks *ts, const char *id)
{
    size_t lo = 0, hi = ts->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ts->v[mid]->id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

json_t *task_get(struct tasks *ts, const char *id)
{
    json_t *o = NULL;
    pthread_mutex_lock(&ts->lock);
    size_t i = lower_bound(ts, id);
    if (i < ts->n && strcmp(ts->v[i]->id, id) == 0)
        o = task_out(ts->v[i]);
    pthread_mutex_unlock(&ts->lock);
    return o;
}

static int task_wanted(const struct task *t, int status, const char *kind)
{
    return (status < 0 || (int)t->status == status) && (!kind || strcmp(t->spec.kind, kind) == 0);
}

json_t *task_list(struct tasks *ts, const char *iterator, int descending, int limit,
                  int status, const char *kind, int *more)
{
    json_t *out = json_array();
    *more = 0;
    pthread_mutex_lock(&ts->lock);
    /* i walks [0, n) upwards, or downwards as n - 1 - j */
    size_t start = 0;
    if (iterator) {
        size_t b = lower_bound(ts, iterator);
        if (!descending)
            start = b < ts->n && strcmp(ts->v[b]->id, iterator) == 0 ? b + 1 : b;
        else
            start = ts->n - b;
    }
    for (size_t j = start; j < ts->n; j++) {
        const struct task *t = ts->v[descending ? ts->n - 1 - j : j];
        if (!task_wanted(t, status, kind))
            continue;
        if ((int)json_array_size(out) == limit) {
            *more = 1;
            break;
        }
        json_array_append_new(out, task_out(t));
    }
    pthread_mutex_unlock(&ts->lock);
    return out;
}

/* --- the thread --- */

/* The next running task after the last one stepped, or NULL (lock held). */
static struct task *pick(struct tasks *ts)
{
    for (size_t k = 0; k < ts->n; k++) {
        size_t i = (ts->next + k) % ts->n;
        if (ts->v[i]->status == TASK_RUNNING) {
            ts->next = i + 1;
            return ts->v[i];
        }
    }
    return NULL;
}

static void step_once(struct tasks *ts, struct task *t)
{
    int rc = t->spec.step(&ts->env, t->spec.arg);
    enum task_status st = rc < 0 ? TASK_FAILED : rc > 0 ? TASK_FINISHED : TASK_RUNNING;
    json_t *data = t->spec.report ? t->spec.report(t->spec.arg, rc) : NULL;
    pthread_mutex_lock(&ts->lock);
    json_decref(t->data);
    t->data = data;
    t->status = st;
    t->updated_ms = clock_now_ms();
    if (st == TASK_FAILED)
        snprintf(t->error, sizeof(t->error), "%s", hookd_strerror(rc));
    pthread_mutex_unlock(&ts->lock);
}

static void *tasks_main(void *arg)
{
    struct tasks *ts = arg;
    struct timespec pause = { 0, STEP_PAUSE_NS };
    pthread_mutex_lock(&ts->lock);
    while (!ts->stopping) {
        struct task *t = pick(ts);
        if (!t) {
            pthread_cond_wait(&ts->wake, &ts->lock);
            continue;
        }
        pthread_mutex_unlock(&ts->lock);   /* t is not freed while running: trim keeps it */
        step_once(ts, t);
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&ts->lock);
    }
    pthread_mutex_unlock(&ts->lock);
    return NULL;
}

/* --- task_write: one intent, waited for --- */

struct task_intent {
    struct intent in;         /* first: the writer hands it back */
    const struct task_env *env;
    uint64_t counted;         /* writer thread until done() */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int answered, status;
};

/* The entry's kind decides the apply: the same call hookd reapply makes. */
static int ti_apply(struct intent *in, struct store_txn *t)
{
    struct task_intent *x = (struct task_intent *)in;
    struct reapply_env renv = { .store = x->env->store, .writer = x->env->writer,
                                .counted = &x->counted };
    x->counted = 0;   /* a failed apply's count is dropped with its writes */
    return x->env->apply(&renv, in->entry.p, in->entry.len, t);
}

static void ti_done(struct intent *in, int status)
{
    struct task_intent *x = (struct task_intent *)in;
    pthread_mutex_lock(&x->lock);
    x->answered = 1;
    x->status = status;
    pthread_cond_signal(&x->cond);
    pthread_mutex_unlock(&x->lock);
}

int task_write(const struct task_env *env, struct entry_w *e, uint64_t *counted)
{
    struct task_intent x = { .in = { .apply = ti_apply, .done = ti_done, .entry = *e },
                             .env = env };
    memset(e, 0, sizeof(*e));   /* the writer's from here on */
    pthread_mutex_init(&x.lock, NULL);
    pthread_cond_init(&x.cond, NULL);
    int rc = writer_submit(env->writer, &x.in);
    pthread_mutex_lock(&x.lock);
    while (!rc && !x.answered)
        pthread_cond_wait(&x.cond, &x.lock);
    pthread_mutex_unlock(&x.lock);
    pthread_cond_destroy(&x.cond);
    pthread_mutex_destroy(&x.lock);
    rc = rc ? rc : x.status;
    if (counted)
        *counted = rc ? 0 : x.counted;
    return rc;
}

/* --- lifecycle --- */

int tasks_new(struct tasks **out, struct store *s, struct writer *w, task_apply_fn apply)
{
    struct tasks *ts = xcalloc(1, sizeof(*ts));
    ts->env.store = s;
    ts->env.writer = w;
    ts->env.apply = apply;
    ts->env.tasks = ts;
    pthread_mutex_init(&ts->lock, NULL);
    pthread_cond_init(&ts->wake, NULL);
    *out = ts;
    return 0;
}

int tasks_start(struct tasks *ts)
{
    int rc = thread_start(&ts->thread, "hookd-tasks", tasks_main, ts);
    if (!rc)
        ts->started = 1;
    return rc;
}

void tasks_stop(struct tasks *ts)
{
    if (!ts)
        return;
    pthread_mutex_lock(&ts->lock);
    ts->stopping = 1;
    pthread_mutex_unlock(&ts->lock);
    pthread_cond_broadcast(&ts->wake);
    if (ts->started)
        pthread_join(ts->thread, NULL);
    ts->started = 0;
}

void tasks_free(struct tasks *ts)
{
    if (!ts)
        return;
    for (size_t i = 0; i < ts->n; i++)
        task_free_one(ts->v[i]);
    free(ts->v);
    pthread_mutex_destroy(&ts->lock);
    pthread_cond_destroy(&ts->wake);
    free(ts);
}
