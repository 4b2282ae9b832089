/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hmap.c - open addressing with linear probing and tombstones; the table
 * doubles at 70 % use (tombstones counted), which also purges tombstones.
 *
 * Each slot keeps its key's hash. The dispatcher's keys share long
 * prefixes (an endpoint id, then a due time), so a probe that compared
 * strings would read some forty equal bytes before it found the
 * difference; comparing the hashes first settles nearly every probe
 * that does not match in one instruction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "mem.h"

static char tomb;
#define HMAP_TOMB (&tomb)

/*
 * Eight bytes per multiply rather than one (FNV's way): the keys are
 * 60 to 90 bytes long, and the dispatcher hashes several per delivery.
 * The closing steps spread every input bit into the low bits the table
 * index takes.
 */
static uint64_t hash(const char *s)
{
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    size_t n = strlen(s);
    uint64_t h = n * k, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * k;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

void hmap_init(struct hmap *m)
{
    memset(m, 0, sizeof(*m));
}

void hmap_release(struct hmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != HMAP_TOMB)
            free(m->slots[i].key);
    free(m->slots);
    hmap_init(m);
}

static struct hmap_slot *find(const struct hmap *m, const char *key, uint64_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct hmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && s->key != HMAP_TOMB && strcmp(s->key, key) == 0)
            return s;
    }
}

void *hmap_get(const struct hmap *m, const char *key)
{
    struct hmap_slot *s = find(m, key, hash(key));
    return s ? s->val : NULL;
}

static void insert_fresh(struct hmap *m, char *key, uint64_t h, void *val)
{
    size_t i = h & (m->cap - 1);
    while (m->slots[i].key && m->slots[i].key != HMAP_TOMB)
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].key)
        m->used++;
    m->slots[i].key = key;
    m->slots[i].val = val;
    m->slots[i].hash = h;
    m->len++;
}

static void grow(struct hmap *m)
{
    struct hmap old = *m;
    m->cap = old.cap ? (old.len * 2 >= old.cap ? old.cap * 2 : old.cap) : 16;
    m->slots = xcalloc(m->cap, sizeof(*m->slots));
    m->len = m->used = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key && old.slots[i].key != HMAP_TOMB)
            insert_fresh(m, old.slots[i].key, old.slots[i].hash, old.slots[i].val);
    free(old.slots);
}

void *hmap_put(struct hmap *m, const char *key, void *val)
{
    uint64_t h = hash(key);
    struct hmap_slot *s = find(m, key, h);
    if (s) {
        void *prev = s->val;
        s->val = val;
        return prev;
    }
    if ((m->used + 1) * 10 >= m->cap * 7)
        grow(m);
    insert_fresh(m, xstrdup(key), h, val);
    return NULL;
}

void *hmap_del(struct hmap *m, const char *key)
{
    struct hmap_slot *s = find(m, key, hash(key));
    if (!s)
        return NULL;
    void *v = s->val;
    free(s->key);
    s->key = HMAP_TOMB;
    s->val = NULL;
    m->len--;
    return v;
}

int hmap_next(const struct hmap *m, size_t *i, const char **key, void **val)
{
    for (; *i < m->cap; (*i)++) {
        struct hmap_slot *s = &m->slots[*i];
        if (s->key && s->key != HMAP_TOMB) {
            *key = s->key;
            *val = s->val;
            (*i)++;
            return 1;
        }
    }
    return 0;
}
