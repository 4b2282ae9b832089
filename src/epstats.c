/* SPDX-License-Identifier: Apache-2.0 */
/*
 * epstats.c - per-endpoint delivery counters by UTC day (epstats.h).
 *
 * A day, not an hour: the counters live as long as their endpoint, and a
 * day bucket keeps that to five rows per endpoint per day while still
 * answering Svix's default window (28 days) from about 140 rows.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "epstats.h"
#include "err.h"
#include "id.h"
#include "store.h"

static const char kind_letter[EPSTATS_KINDS] = { 's', 'p', 'f', 'r', 'c' };

#define KEY_MAX (8 + ID_MAX + 20)

static void day_of(int64_t ms, char out[16])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 16, "%04d%02d%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100);
}

int epstats_add(struct store_txn *t, const char *ep_id, int64_t ms, enum epstats_kind kind)
{
    char key[KEY_MAX], day[16];
    day_of(ms, day);
    snprintf(key, sizeof(key), "epstat:%s:%s:%c", ep_id, day, kind_letter[kind]);
    return store_counter_add(t, key, 1);
}

struct sum {
    size_t plen;
    int64_t *out;
};

static int add_row(const struct store_kv *kv, void *arg)
{
    struct sum *s = arg;
    const char *k = kv->key;
    if (kv->klen != s->plen + 10 || kv->vlen != 8)
        return 0;
    const uint8_t *v = kv->val;
    int64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | v[i];
    for (int i = 0; i < EPSTATS_KINDS; i++)
        if (k[kv->klen - 1] == kind_letter[i])
            s->out[i] += x;
    return 0;
}

int epstats_sum(struct store_txn *t, const char *ep_id, int64_t since_ms, int64_t until_ms,
                int64_t out[EPSTATS_KINDS])
{
    char lo[KEY_MAX], hi[KEY_MAX], d1[16], d2[16];
    memset(out, 0, EPSTATS_KINDS * sizeof(out[0]));
    day_of(since_ms, d1);
    day_of(until_ms, d2);
    int pl = snprintf(lo, sizeof(lo), "epstat:%s:", ep_id);
    struct sum s = { (size_t)pl, out };
    size_t ll = (size_t)snprintf(lo + pl, sizeof(lo) - (size_t)pl, "%s", d1) + (size_t)pl;
    size_t hl = (size_t)snprintf(hi, sizeof(hi), "epstat:%s:%s;", ep_id, d2);
    int rc = store_scan(t, DB_META, lo, ll, hi, hl, 0, add_row, &s);
    return rc < 0 ? rc : 0;
}

int epstats_del(struct store_txn *t, const char *ep_id)
{
    char lo[KEY_MAX];
    size_t ll = (size_t)snprintf(lo, sizeof(lo), "epstat:%s:", ep_id);
    struct store_cursor *c;
    struct store_kv kv;
    int rc = store_cursor_open(t, DB_META, &c);
    if (rc)
        return rc;
    for (rc = store_cursor_seek(c, lo, ll, &kv); rc == 0; rc = store_cursor_next(c, &kv)) {
        if (kv.klen < ll || memcmp(kv.key, lo, ll) != 0)
            break;
        if ((rc = store_cursor_del(c)))
            break;
    }
    store_cursor_close(c);
    return rc == HOOKD_ENOTFOUND || rc == 0 ? 0 : rc;
}
