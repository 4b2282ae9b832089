/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hmap.h - a string-keyed hash map (open addressing, linear probing).
 *
 * Keys are copied; values are borrowed pointers the caller owns. Not
 * thread-safe: each map belongs to one thread (the dispatcher's tables).
 */
#ifndef HOOKD_HMAP_H
#define HOOKD_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
    char *key;        /* NULL: empty; HMAP_TOMB: deleted */
    void *val;
    uint64_t hash;    /* of key: most probes end on a mismatch here, not in strcmp */
};

struct hmap {
    struct hmap_slot *slots;
    size_t cap;       /* power of two */
    size_t len;       /* live entries */
    size_t used;      /* live + tombstones */
};

void hmap_init(struct hmap *m);
/* Frees keys and the table, not the values. */
void hmap_release(struct hmap *m);
void *hmap_get(const struct hmap *m, const char *key);
/* Insert or replace; returns the previous value or NULL. */
void *hmap_put(struct hmap *m, const char *key, void *val);
/* Remove; returns the value or NULL. */
void *hmap_del(struct hmap *m, const char *key);

/* Iterate: for (size_t i = 0; hmap_next(m, &i, &k, &v);) ... */
int hmap_next(const struct hmap *m, size_t *i, const char **key, void **val);

#endif
