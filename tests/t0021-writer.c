/*
 * t0021-writer: group commit. Intents from several threads are applied in
 * arrival order per producer, many share one commit, and a failing intent
 * rolls back only itself: in nested transactions, and again with flat
 * intents, whose failing batches the writer rolls back and reruns.
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
    char round;              /* key prefix: 'n' nested, 'f' flat */
    int producer, seq;
    int fail;
    int status;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *remaining;
};

static int last_seq[PRODUCERS];
static int order_ok = 1;
static int applied_twice;    /* applies beyond one per intent (flat reruns) */

static int apply_item(struct intent *in, struct store_txn *t)
{
    struct item *it = (struct item *)in;
    char key[32];
    int n = snprintf(key, sizeof(key), "%cp%d-%05d", it->round, it->producer, it->seq);
    if (it->seq <= last_seq[it->producer])
        applied_twice++;     /* a rerun starts the batch again */
    else if (it->seq != last_seq[it->producer] + 1)
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

/* One round of PRODUCERS x PER intents, every 100th failing. */
static void run_round(struct store *s, char round)
{
    struct writer *w;
    writer_new(&w, s, 0);
    is_int(writer_start(w), 0, "%c: writer starts", round);
    memset(last_seq, 0, sizeof(last_seq));
    order_ok = 1;
    applied_twice = 0;

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
            it->in.flat = round == 'f';
            it->round = round;
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

    ok(order_ok, "%c: each producer's intents applied in submission order", round);
    int failed = 0, bad_status = 0;
    for (int i = 0; i < PRODUCERS * PER; i++) {
        failed += items[i].status != 0;
        bad_status += (items[i].status != 0) != items[i].fail;
    }
    is_int(failed, PRODUCERS * PER / 100, "%c: only the failing intents report failure", round);
    is_int(bad_status, 0, "%c: every status matches its intent", round);

    struct writer_stats st;
    writer_get_stats(w, &st);
    is_int((long long)st.intents, PRODUCERS * PER, "%c: writer counted every intent", round);
    ok(st.batches < st.intents, "%c: intents shared commits (%llu batches for %llu intents)",
       round, (unsigned long long)st.batches, (unsigned long long)st.intents);
    if (round == 'f') {
        ok(st.flat_reruns > 0 && st.flat_reruns <= PRODUCERS * PER / 100,
           "f: each failing batch ran again, nested (%llu reruns)",
           (unsigned long long)st.flat_reruns);
        ok(applied_twice > 0, "f: rerun batches applied their intents again (%d)", applied_twice);
    } else {
        is_int((long long)st.flat_reruns, 0, "n: nested batches never rerun");
        is_int(applied_twice, 0, "n: every intent applied once");
    }

    struct store_txn *t;
    store_read(s, &t);
    const void *v;
    size_t n;
    char key[16];
    int missing = 0, leftover = 0;
    for (int i = 0; i < PRODUCERS * PER; i++) {
        int kl = snprintf(key, sizeof(key), "%cp%d-%05d", round, items[i].producer, items[i].seq);
        int rc = store_get(t, DB_APPS, key, (size_t)kl, &v, &n);
        missing += !items[i].fail && rc != 0;
        leftover += items[i].fail && rc != HOOKD_ENOTFOUND;
    }
    store_abort(t);
    is_int(missing, 0, "%c: every applied intent is stored", round);
    is_int(leftover, 0, "%c: failed intents left nothing behind", round);

    writer_stop(w);
    struct item late = { .in = { .apply = apply_item, .done = done_item } };
    is_int(writer_submit(w, &late.in), HOOKD_ESTOPPED, "%c: a stopped writer refuses intents",
           round);
    writer_free(w);
    free(items);
}

int main(void)
{
    char dir[] = "/tmp/hookd-t0021-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct store *s;
    is_int(store_open(&s, dir, 64 << 20, 0), 0, "store opens");
    run_round(s, 'n');
    run_round(s, 'f');
    store_close(s);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd))
        diag("cleanup failed");
    return done_testing();
}
