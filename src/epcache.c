/* SPDX-License-Identifier: Apache-2.0 */
/*
 * epcache.c - endpoint filters per application, keyed by app id in an
 * hmap; see epcache.h for when entries are dropped and why that is safe.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "epcache.h"
#include "err.h"
#include "hmap.h"
#include "mem.h"
#include "store.h"

struct epcache {
    struct hmap apps;         /* app id -> struct ep_list */
    uint64_t gen;             /* store_settings_gen() the entries match */
};

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void list_free(struct ep_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free_names(l->eps[i].types, l->eps[i].ntypes);
        free_names(l->eps[i].channels, l->eps[i].nchannels);
    }
    free(l->eps);
    free(l);
}

static void clear(struct epcache *c)
{
    const char *k;
    void *v;
    for (size_t i = 0; hmap_next(&c->apps, &i, &k, &v);)
        list_free(v);
    hmap_release(&c->apps);
}

struct epcache *epcache_new(void)
{
    struct epcache *c = xcalloc(1, sizeof(*c));
    hmap_init(&c->apps);
    return c;
}

void epcache_free(struct epcache *c)
{
    if (!c)
        return;
    clear(c);
    free(c);
}

/* A names array of the record; *any when it is null or absent. */
static char **names(json_t *rec, const char *field, size_t *n, int *any)
{
    json_t *a = json_object_get(rec, field), *x;
    size_t i;
    char **v = NULL;
    *n = 0;
    *any = !json_is_array(a);
    if (*any)
        return NULL;
    v = xcalloc(json_array_size(a) + 1, sizeof(char *));
    json_array_foreach(a, i, x)
        if (json_is_string(x))
            v[(*n)++] = xstrdup(json_string_value(x));
    return v;
}

static int decode(const struct store_kv *kv, size_t al, struct ep_filter *f)
{
    json_t *rec = json_loadb(kv->val, kv->vlen, 0, NULL);
    if (!rec || kv->klen - al >= ID_MAX) {
        json_decref(rec);
        return HOOKD_ECORRUPT;
    }
    memcpy(f->id, (const char *)kv->key + al, kv->klen - al);
    f->id[kv->klen - al] = '\0';
    f->disabled = json_is_true(json_object_get(rec, "disabled"));
    f->types = names(rec, "eventTypes", &f->ntypes, &f->any_type);
    f->channels = names(rec, "channels", &f->nchannels, &f->any_channel);
    json_decref(rec);
    return 0;
}

/* Read app_id's endpoints (keys app_id|ep_id) into a new list. */
static int load(struct store_txn *t, const char *app_id, struct ep_list **out)
{
    struct store_cursor *cur;
    struct store_kv kv;
    size_t al = strlen(app_id), cap = 0;
    struct ep_list *l = xcalloc(1, sizeof(*l));
    int rc = store_cursor_open(t, DB_ENDPOINTS, &cur);
    if (rc)
        goto fail;
    for (rc = store_cursor_seek(cur, app_id, al, &kv);
         rc == 0 && kv.klen > al && memcmp(kv.key, app_id, al) == 0;
         rc = store_cursor_next(cur, &kv)) {
        if (l->n == cap) {
            cap = cap ? 2 * cap : 4;
            l->eps = xrealloc(l->eps, cap * sizeof(*l->eps));
        }
        memset(&l->eps[l->n], 0, sizeof(l->eps[0]));
        if ((rc = decode(&kv, al, &l->eps[l->n])))
            break;
        l->n++;
    }
    store_cursor_close(cur);
    if (rc == 0 || rc == HOOKD_ENOTFOUND) {
        *out = l;
        return 0;
    }
fail:
    list_free(l);
    return rc;
}

int epcache_get(struct epcache *c, struct store_txn *t, const char *app_id,
                const struct ep_list **out)
{
    uint64_t gen = store_settings_gen(t);
    if (gen != c->gen || c->apps.len >= EPCACHE_MAX_APPS) {
        clear(c);
        c->gen = gen;
    }
    struct ep_list *l = hmap_get(&c->apps, app_id);
    if (!l) {
        int rc = load(t, app_id, &l);
        if (rc)
            return rc;
        hmap_put(&c->apps, app_id, l);
    }
    *out = l;
    return 0;
}
