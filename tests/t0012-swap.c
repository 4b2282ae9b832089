/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0012-swap: replaceable values: readers see the newest, replaced ones
 * stay valid until release, and release frees each exactly once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "mem.h"
#include "swap.h"
#include "tap/tap.h"

static int freed;

static void count_free(void *p)
{
    freed++;
    free(p);
}

static int *num(int v)
{
    int *p = xmalloc(sizeof(*p));
    *p = v;
    return p;
}

static void test_basics(void)
{
    struct swap s;

    swap_init(&s, num(1));
    int *first = swap_get(&s);
    is_int(*first, 1, "the initial value");
    swap_set(&s, num(2));
    is_int(*(int *)swap_get(&s), 2, "set publishes the new value");
    is_int(*first, 1, "a replaced value stays readable");
    swap_set(&s, num(3));
    swap_set(&s, NULL);
    ok(swap_get(&s) == NULL, "NULL can be published");
    freed = 0;
    swap_release(&s, count_free);
    is_int(freed, 3, "release frees the current and every replaced value once");
    ok(swap_get(&s) == NULL, "released: empty");

    struct swap z = { 0 };
    swap_release(&z, count_free);
    ok(1, "a zeroed swap releases cleanly");
}

/* Readers racing a setter only ever see whole values it published. */
struct race {
    struct swap s;
    atomic_int done;
    atomic_int bad;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->done)) {
        int *v = swap_get(&r->s);
        if (!v || *v < 0 || *v > 1000 || v[1] != -*v)
            r->bad++;
    }
    return NULL;
}

static void test_race(void)
{
    struct race r;
    pthread_t t[2];
    int *v = xmalloc(2 * sizeof(int));

    v[0] = v[1] = 0;
    swap_init(&r.s, v);
    atomic_init(&r.done, 0);
    atomic_init(&r.bad, 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, reader, &r);
    for (int i = 1; i <= 1000; i++) {
        int *n = xmalloc(2 * sizeof(int));
        n[0] = i;
        n[1] = -i;
        swap_set(&r.s, n);
    }
    atomic_store(&r.done, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    is_int(atomic_load(&r.bad), 0, "concurrent readers see only whole published values");
    is_int(*(int *)swap_get(&r.s), 1000, "the last value wins");
    swap_release(&r.s, NULL);
}

int main(void)
{
    test_basics();
    test_race();
    return done_testing();
}
