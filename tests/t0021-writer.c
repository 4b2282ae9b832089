/*
 * t0021-writer: group commit. Intents from several threads are applied in
 * arrival order per producer, many share one commit, and a failing intent
 * rolls back only itself.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "tap/tap.h"
#include "writer.h"

#define PRODUCERS 4
#define PER 500

struct item {
    struct intent in;
    int producer, seq;
    int fail;
    int status;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *remaining;
};

static int last_seq[PRODUCERS];
static int order_ok = 1;

static int apply_item(struct intent *in, struct store_txn *t)
{
    struct item *it = (struct item *)in;
    char key[32];
    int n = snprintf(key, sizeof(key), "p%d-%05d", it->producer, it->seq);
    if (it->seq != last_seq[it->producer] + 1)
        order_ok = 0;
    last_seq[it->producer] = it->seq;
    int rc = store_put(t, DB_APPS, key, (size_t)n, "v", 1, 0);
    return rc ? rc : (it->fail ? HOOKD_EINVAL : 0);
}

static void done_item(struct intent *in, int status)
{
    struct item *it = (struct item *)in;
    pthread_mutex_lock(it->mu);
    it->status = status;
    if (--*it->remaining == 0)
        pthread_cond_signal(it->cv);
    pthread_mutex_unlock(it->mu);
}

struct producer {
    struct writer *w;
    struct item *items;
    int id;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < PER; i++)
        writer_submit(p->w, &p->items[i].in);
    return NULL;
}

int main(void)
{
    char dir[] = "/tmp/hookd-t0021-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct store *s;
    struct writer *w;
    is_int(store_open(&s, dir, 64 << 20, 0), 0, "store opens");
    writer_new(&w, s, 0);
    is_int(writer_start(w), 0, "writer starts");

    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int remaining = PRODUCERS * PER;
    struct item *items = calloc(PRODUCERS * PER, sizeof(*items));
    struct producer prod[PRODUCERS];
    pthread_t th[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        for (int i = 0; i < PER; i++) {
            struct item *it = &items[p * PER + i];
            it->in.apply = apply_item;
            it->in.done = done_item;
            it->producer = p;
            it->seq = i + 1;
            it->fail = (i % 100) == 7;
            it->mu = &mu;
            it->cv = &cv;
            it->remaining = &remaining;
        }
        prod[p] = (struct producer){ w, &items[p * PER], p };
        pthread_create(&th[p], NULL, produce, &prod[p]);
    }
    for (int p = 0; p < PRODUCERS; p++)
        pthread_join(th[p], NULL);
    pthread_mutex_lock(&mu);
    while (remaining)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    ok(order_ok, "each producer's intents applied in submission order");
    int failed = 0, bad_status = 0;
    for (int i = 0; i < PRODUCERS * PER; i++) {
        failed += items[i].status != 0;
        bad_status += (items[i].status != 0) != items[i].fail;
    }
    is_int(failed, PRODUCERS * PER / 100, "only the failing intents report failure");
    is_int(bad_status, 0, "every status matches its intent");

    struct writer_stats st;
    writer_get_stats(w, &st);
    is_int((long long)st.intents, PRODUCERS * PER, "writer counted every intent");
    ok(st.batches < st.intents, "intents shared commits (%llu batches for %llu intents)",
       (unsigned long long)st.batches, (unsigned long long)st.intents);

    struct store_txn *t;
    store_read(s, &t);
    const void *v;
    size_t n;
    is_int(store_get(t, DB_APPS, "p0-00001", 8, &v, &n), 0, "applied intent is stored");
    is_int(store_get(t, DB_APPS, "p0-00008", 8, &v, &n), HOOKD_ENOTFOUND,
           "failed intent left nothing behind");
    store_abort(t);

    writer_stop(w);
    struct item late = { .in = { apply_item, done_item, NULL } };
    is_int(writer_submit(w, &late.in), HOOKD_ESTOPPED, "a stopped writer refuses intents");
    writer_free(w);
    store_close(s);
    free(items);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd))
        diag("cleanup failed");
    return done_testing();
}
