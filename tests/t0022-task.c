/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0022-task: background tasks (task.h) on a real store and writer.
 * A task's steps run until it says done, each writing through the writer
 * a log entry that the apply given to tasks_new finds by its kind;
 * two tasks take turns; a failing step fails its task with the reason;
 * get and list (order, iterator, status and kind filters) show what the
 * steps reported; the registry keeps TASK_KEEP and drops the oldest
 * finished; a stopped registry refuses new tasks.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entry.h"
#include "err.h"
#include "mem.h"
#include "reapply.h"
#include "store.h"
#include "tap/tap.h"
#include "task.h"
#include "writer.h"

struct counter {
    char name[16];
    int steps, upto, fail_at;
    int *order;               /* shared log of which task stepped */
    int *norder;
    int tag;
};

#define KIND_TEST 0x7fff   /* not a kind of entry_kinds.h: this test's own */

/* The test's task_apply_fn: one entry of KIND_TEST puts "name-step" in apps. */
static int put_step(const struct reapply_env *env, const void *p, size_t len,
                    struct store_txn *t)
{
    struct entry_r r;
    char name[16], key[32];
    if (entry_open(&r, p, len) || r.head.kind != KIND_TEST)
        return HOOKD_EINVAL;
    entry_get_strbuf(&r, name, sizeof(name));
    int step = (int)entry_get_u64(&r);
    if (entry_end(&r))
        return HOOKD_EINVAL;
    int n = snprintf(key, sizeof(key), "%s-%d", name, step);
    if (env->counted)
        *env->counted += 1;
    return store_put(t, DB_APPS, key, (size_t)n, "v", 1, 0);
}

static int counter_step(const struct task_env *env, void *arg)
{
    struct counter *c = arg;
    struct entry_w e = { 0 };
    uint64_t counted = 0;
    if (c->order && *c->norder < 64)
        c->order[(*c->norder)++] = c->tag;
    if (c->fail_at && c->steps + 1 == c->fail_at)
        return HOOKD_ECORRUPT;
    entry_begin(&e, KIND_TEST, 0);
    entry_put_str(&e, c->name);
    entry_put_u64(&e, (uint64_t)c->steps);
    int rc = task_write(env, &e, &counted);
    if (rc)
        return rc;
    if (e.p || counted != 1)
        return HOOKD_EINVAL;   /* the entry is the writer's; the apply's count comes back */
    c->steps++;
    return c->steps >= c->upto;
}

static json_t *counter_report(void *arg, int status)
{
    struct counter *c = arg;
    return json_pack("{s:i}", "steps", c->steps);
}

static void counter_free(void *arg)
{
    free(arg);
}

static struct counter *counter_new(const char *name, int upto)
{
    struct counter *c = xcalloc(1, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->upto = upto;
    return c;
}

static int submit(struct tasks *ts, struct counter *c, const char *kind, char id[ID_MAX])
{
    struct task_spec spec = { .kind = kind, .step = counter_step, .report = counter_report,
                              .free_arg = counter_free, .arg = c };
    return task_submit(ts, &spec, -1, id);
}

/* Poll task id until it leaves running (at most 10 s); its BackgroundTaskOut. */
static json_t *wait_task(struct tasks *ts, const char *id)
{
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    for (int i = 0; i < 1000; i++) {
        json_t *o = task_get(ts, id);
        if (o && strcmp(json_string_value(json_object_get(o, "status")), "running") != 0)
            return o;
        json_decref(o);
        nanosleep(&pause, NULL);
    }
    return task_get(ts, id);
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void test_run(struct store *s, struct tasks *ts)
{
    int order[64], norder = 0;
    char a[ID_MAX], b[ID_MAX];
    struct counter *ca = counter_new("a", 5), *cb = counter_new("b", 5);
    ca->order = cb->order = order;
    ca->norder = cb->norder = &norder;
    ca->tag = 1;
    cb->tag = 2;
    is_int(submit(ts, ca, "test.count", a), 0, "a task is submitted");
    is_int(submit(ts, cb, "test.count", b), 0, "and a second one");
    ok(strncmp(a, "qtask_", 6) == 0 && strcmp(a, b) < 0, "qtask_ ids, increasing (%s, %s)", a, b);
    json_t *oa = wait_task(ts, a), *ob = wait_task(ts, b);
    is_str(str(oa, "status"), "finished", "the first finishes");
    is_str(str(ob, "status"), "finished", "so does the second");
    is_int(json_integer_value(json_object_get(json_object_get(oa, "data"), "steps")), 5,
           "its data is what its last report said");
    is_str(str(oa, "task"), "test.count", "its kind");
    int switches = 0;
    for (int i = 1; i < norder; i++)
        switches += order[i] != order[i - 1];
    ok(switches >= 2, "the two took turns (%d switches in %d steps)", switches, norder);
    json_decref(oa);
    json_decref(ob);

    struct store_txn *t;
    const void *v;
    size_t n;
    store_read(s, &t);
    int found = 0;
    for (int i = 0; i < 5; i++) {
        char key[16];
        int kl = snprintf(key, sizeof(key), "a-%d", i);
        found += store_get(t, DB_APPS, key, (size_t)kl, &v, &n) == 0;
    }
    store_abort(t);
    is_int(found, 5, "every step's write is in the store");
}

static void test_fail_and_list(struct tasks *ts)
{
    char f[ID_MAX], g[ID_MAX];
    struct counter *cf = counter_new("f", 5);
    cf->fail_at = 2;
    submit(ts, cf, "test.fail", f);
    json_t *o = wait_task(ts, f);
    is_str(str(o, "status"), "failed", "a step that fails fails its task");
    ok(strlen(str(json_object_get(o, "data"), "error")) > 0, "with the reason in data.error (%s)",
       str(json_object_get(o, "data"), "error"));
    json_decref(o);
    submit(ts, counter_new("g", 1), "test.count", g);
    json_decref(wait_task(ts, g));

    int more;
    json_t *l = task_list(ts, NULL, 1, 2, -1, NULL, &more);
    is_int((long long)json_array_size(l), 2, "list: a page of two");
    ok(more, "and more follow");
    is_str(str(json_array_get(l, 0), "id"), g, "newest first");
    char it[ID_MAX];
    snprintf(it, sizeof(it), "%s", str(json_array_get(l, 1), "id"));
    json_decref(l);
    l = task_list(ts, it, 1, 10, -1, NULL, &more);
    is_int((long long)json_array_size(l), 2, "the iterator gives the two older ones");
    ok(!more, "and no more");
    json_decref(l);
    l = task_list(ts, NULL, 0, 1, -1, NULL, &more);
    ok(strcmp(str(json_array_get(l, 0), "id"), g) != 0, "ascending starts at the oldest");
    json_decref(l);
    l = task_list(ts, NULL, 1, 10, task_status_parse("failed"), NULL, &more);
    is_int((long long)json_array_size(l), 1, "status=failed: one");
    json_decref(l);
    l = task_list(ts, NULL, 1, 10, -1, "test.fail", &more);
    is_str(str(json_array_get(l, 0), "id"), f, "task=test.fail: that one");
    json_decref(l);
    ok(task_get(ts, "qtask_nothere") == NULL, "an unknown id is NULL");
    is_int(task_status_parse("paused"), -1, "an unknown status name is -1");
}

static void test_keep(struct tasks *ts)
{
    char id[ID_MAX], first[ID_MAX] = "";
    for (int i = 0; i < TASK_KEEP + 10; i++) {
        submit(ts, counter_new("k", 1), "test.keep", id);
        if (!first[0])
            snprintf(first, sizeof(first), "%s", id);
    }
    json_decref(wait_task(ts, id));
    int more;
    json_t *l = task_list(ts, NULL, 1, 250, -1, "test.keep", &more);
    ok(json_array_size(l) == 250 && more, "many tasks list in pages");
    json_decref(l);
    /* submit one more: the oldest finished beyond TASK_KEEP go */
    submit(ts, counter_new("k", 1), "test.keep", id);
    json_decref(wait_task(ts, id));
    json_t *o = task_get(ts, first);
    ok(o == NULL, "past TASK_KEEP the oldest finished task is dropped");
    json_decref(o);
}

int main(void)
{
    char dir[] = "/tmp/hookd-t0022-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct store *s;
    struct writer *w;
    struct tasks *ts;
    is_int(store_open(&s, dir, 64 << 20, 0), 0, "store opens");
    writer_new(&w, s, 0);
    writer_start(w);
    tasks_new(&ts, s, w, put_step);
    is_int(tasks_start(ts), 0, "the task thread starts");
    test_run(s, ts);
    test_fail_and_list(ts);
    test_keep(ts);
    tasks_stop(ts);
    char id[ID_MAX];
    is_int(submit(ts, counter_new("z", 1), "test.late", id), HOOKD_ESTOPPED,
           "a stopped registry refuses new tasks");
    tasks_free(ts);
    writer_stop(w);
    writer_free(w);
    store_close(s);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd))
        diag("cleanup failed");
    return done_testing();
}
