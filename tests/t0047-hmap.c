/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0047-hmap: the dispatcher's string map against a plain array model,
 * with keys shaped like its claim keys (one long shared prefix, so only
 * the tails differ) through rounds of inserts, replaces and deletes that
 * leave tombstones behind and make the table grow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "tap/tap.h"

#define NKEYS 3000

static char keys[NKEYS][96];
static int present[NKEYS];
static int values[NKEYS][2];   /* two cells per key: a replace must switch cells */

static void make_keys(void)
{
    for (int i = 0; i < NKEYS; i++)
        snprintf(keys[i], sizeof(keys[i]), "ep_2Qv8aaaaaaaaaaaaaaaaaaaaaaaaa/1764380000%03d/msg_%05d",
                 i % 997, i);
}

static int model_len(void)
{
    int n = 0;
    for (int i = 0; i < NKEYS; i++)
        n += present[i] != 0;
    return n;
}

/* Every key's lookup agrees with the model; returns the mismatches. */
static int mismatches(const struct hmap *m)
{
    int bad = 0;
    for (int i = 0; i < NKEYS; i++) {
        void *want = present[i] ? &values[i][present[i] - 1] : NULL;
        if (hmap_get(m, keys[i]) != want) {
            if (bad < 3)
                diag("key %d: map and model differ", i);
            bad++;
        }
    }
    return bad;
}

static int iterated(const struct hmap *m)
{
    const char *k;
    void *v;
    int n = 0;
    for (size_t i = 0; hmap_next(m, &i, &k, &v);) {
        int idx = atoi(strrchr(k, '_') + 1);
        n += idx >= 0 && idx < NKEYS && present[idx] && v == &values[idx][present[idx] - 1];
    }
    return n;
}

/* Linear probing slows down with long runs of taken slots: a weak hash makes them. */
static size_t longest_run(const struct hmap *m)
{
    size_t best = 0, run = 0;
    for (size_t i = 0; i < m->cap; i++) {
        run = m->slots[i].key ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    return best;
}

int main(void)
{
    struct hmap m;
    hmap_init(&m);
    make_keys();
    plan(13);

    is_int(hmap_get(&m, keys[0]) == NULL, 1, "an empty map finds nothing");
    for (int i = 0; i < NKEYS; i += 2) {
        hmap_put(&m, keys[i], &values[i][0]);
        present[i] = 1;
    }
    is_int(mismatches(&m), 0, "half the keys in: every lookup agrees");
    is_int((int)m.len, model_len(), "len counts the live entries");
    ok(longest_run(&m) < 48, "keys that differ only near their end spread over the table "
       "(longest run of taken slots %zu of %zu)", longest_run(&m), m.cap);

    void *prev = hmap_put(&m, keys[10], &values[10][1]);
    present[10] = 2;
    ok(prev == &values[10][0], "a replace returns the previous value");
    is_int((int)m.len, model_len(), "a replace adds no entry");

    /* churn: delete and insert in rounds, as claims come and go */
    srand(7);
    int del_ok = 1;
    for (int round = 0; round < 20000; round++) {
        int i = rand() % NKEYS;
        if (present[i]) {
            void *v = hmap_del(&m, keys[i]);
            del_ok &= v == &values[i][present[i] - 1];
            present[i] = 0;
        } else {
            hmap_put(&m, keys[i], &values[i][0]);
            present[i] = 1;
        }
    }
    ok(del_ok, "every delete returns the value it removes");
    is_int(mismatches(&m), 0, "after 20,000 inserts and deletes every lookup agrees");
    is_int((int)m.len, model_len(), "len still counts the live entries");
    is_int(iterated(&m), model_len(), "iteration visits each live entry once, with its value");
    ok(m.used * 10 < m.cap * 7, "tombstones and entries stay under 70 %% of the table");

    int missing = -1;
    for (int i = 0; i < NKEYS && missing < 0; i++)
        if (!present[i])
            missing = i;
    ok(missing < 0 || hmap_del(&m, keys[missing]) == NULL, "deleting an absent key gives NULL");

    hmap_release(&m);
    is_int((int)m.len + (int)m.cap, 0, "release empties the map");
    return done_testing();
}
