/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0020-store: the log's store layer: put/get, ordered scans in both
 * directions, nested transactions, the schema check, delivery encoding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "id.h"
#include "store.h"
#include "tap/tap.h"

static char dir[] = "/tmp/hookd-t0020-XXXXXX";

static int collect(const struct store_kv *kv, void *arg)
{
    char *out = arg;
    strncat(out, kv->key, kv->klen);
    strcat(out, ",");
    return 0;
}

static void put_s(struct store_txn *t, const char *k, const char *v)
{
    store_put(t, DB_APPS, k, strlen(k), v, strlen(v), 0);
}

static void test_basic(struct store *s)
{
    struct store_txn *t;
    is_int(store_write(s, &t), 0, "write txn begins");
    put_s(t, "b", "2");
    put_s(t, "a", "1");
    put_s(t, "c", "3");
    put_s(t, "d", "4");
    is_int(store_put(t, DB_APPS, "a", 1, "x", 1, 1), HOOKD_EEXIST, "noclobber refuses a taken key");
    is_int(store_commit(t), 0, "commit");

    store_read(s, &t);
    const void *v;
    size_t n;
    ok(store_get(t, DB_APPS, "c", 1, &v, &n) == 0 && n == 1 && memcmp(v, "3", 1) == 0, "get c");
    is_int(store_get(t, DB_APPS, "zz", 2, &v, &n), HOOKD_ENOTFOUND, "missing key");
    char out[64] = "";
    store_scan(t, DB_APPS, "b", 1, "d", 1, 0, collect, out);
    is_str(out, "b,c,", "ascending scan is [lo, hi)");
    out[0] = '\0';
    store_scan(t, DB_APPS, "b", 1, "d", 1, 1, collect, out);
    is_str(out, "c,b,", "descending scan is [lo, hi) reversed");
    out[0] = '\0';
    store_scan(t, DB_APPS, NULL, 0, NULL, 0, 1, collect, out);
    is_str(out, "d,c,b,a,", "unbounded descending scan");
    store_abort(t);
}

static void test_nested(struct store *s)
{
    struct store_txn *t, *n1, *n2;
    store_write(s, &t);
    store_nested(t, &n1);
    put_s(n1, "kept", "1");
    is_int(store_commit(n1), 0, "nested commit");
    store_nested(t, &n2);
    put_s(n2, "dropped", "1");
    store_abort(n2);
    is_int(store_commit(t), 0, "outer commit");
    store_read(s, &t);
    const void *v;
    size_t n;
    is_int(store_get(t, DB_APPS, "kept", 4, &v, &n), 0, "committed nested write is there");
    is_int(store_get(t, DB_APPS, "dropped", 7, &v, &n), HOOKD_ENOTFOUND,
           "aborted nested write left nothing");
    store_abort(t);
}

/* Appends fill pages; a key that is not the last falls back to a put. */
static void test_append(struct store *s)
{
    struct store_txn *t;
    const void *v;
    size_t n;
    store_write(s, &t);
    is_int(store_append(t, DB_MESSAGES, "k2", 2, "b", 1, 1), 0, "append the last key");
    is_int(store_append(t, DB_MESSAGES, "k1", 2, "a", 1, 1), 0, "append an earlier key");
    is_int(store_append(t, DB_MESSAGES, "k2", 2, "c", 1, 1), HOOKD_EEXIST,
           "append keeps noclobber");
    ok(store_get(t, DB_MESSAGES, "k1", 2, &v, &n) == 0 && n == 1 && *(const char *)v == 'a',
       "the earlier key was stored");
    is_int(store_commit(t), 0, "appends commit");
    is_int(store_sync(s), 0, "sync after commit");
}

/* The settings generation moves with apps/endpoints writes and their rollback. */
static void test_settings_gen(struct store *s)
{
    struct store_txn *t, *n1;
    store_write(s, &t);
    uint64_t g0 = store_settings_gen(t);
    put_s(t, "x", "1");   /* an app */
    uint64_t g1 = store_settings_gen(t);
    ok(g1 != g0, "an apps write moves the generation");
    store_put(t, DB_MESSAGES, "m", 1, "1", 1, 0);
    ok(store_settings_gen(t) == g1, "a messages write does not");
    store_nested(t, &n1);
    store_put(n1, DB_ENDPOINTS, "e", 1, "{}", 2, 0);
    uint64_t g2 = store_settings_gen(t);
    store_abort(n1);
    ok(store_settings_gen(t) != g2, "rolling back an endpoints write moves it again");
    uint64_t g3 = store_settings_gen(t);
    store_abort(t);   /* the batch held the apps write */
    store_write(s, &t);
    ok(store_settings_gen(t) != g3, "aborting a batch that wrote apps moves it");
    store_abort(t);
}

static void test_delivery_codec(void)
{
    struct store_delivery d = { .state = DSTATE_SENDING, .attempts = 3, .last_code = 503,
                                .next_ms = 1700000000123LL, .updated_ms = 1700000000000LL };
    strcpy(d.app_id, "app_2YBXZIko2xmy0s5Rm9N5U7PhHgu");
    uint8_t buf[STORE_DELIVERY_LEN];
    struct store_delivery e;
    store_delivery_encode(&d, buf);
    is_int(store_delivery_decode(buf, sizeof(buf), &e), 0, "delivery decodes");
    ok(e.state == d.state && e.attempts == 3 && e.last_code == 503 && e.next_ms == d.next_ms
       && e.updated_ms == d.updated_ms, "delivery fields round-trip");
    is_str(e.app_id, d.app_id, "delivery app id round-trips");
    is_int(store_delivery_decode(buf, 10, &e), HOOKD_ECORRUPT, "short record is corrupt");

    const char *ep = "ep_2YBXZIko2xmy0s5Rm9N5U7PhHgu", *m1 = "msg_2YBXZIko2xmy0s5Rm9N5U7PhHgu",
               *m0 = "msg_000000000000000000000000000";
    uint8_t k1[STORE_DUE_KEY_MAX], k2[STORE_DUE_KEY_MAX];
    size_t l1 = store_due_key(ep, 1000, m1, k1, sizeof(k1));
    size_t l2 = store_due_key(ep, 1001, m0, k2, sizeof(k2));
    ok(l1 == 30 + 8 + 31 && l2 == l1 && memcmp(k1, k2, l1) < 0,
       "an endpoint's due keys sort by time before message id");
    char pe[ID_MAX], pm[ID_MAX];
    int64_t ms;
    ok(store_due_parse(k1, l1, pe, &ms, pm) == 0 && ms == 1000 && strcmp(pe, ep) == 0
       && strcmp(pm, m1) == 0, "due key parses back");
    struct store_health h = { 5, 6, 410, 7, 8, 9 }, h2;
    uint8_t hb[STORE_HEALTH_LEN];
    store_health_encode(&h, hb);
    ok(store_health_decode(hb, sizeof(hb), &h2) == 0 && h2.failing_since_ms == 5
       && h2.last_attempt_ms == 6 && h2.last_code == 410 && h2.consecutive_failures == 7
       && h2.backlog == 8 && h2.retrying == 9, "endpoint health round-trips");
    ok(store_health_decode(hb, 24, &h2) == 0 && h2.consecutive_failures == 7 && h2.backlog == 0
       && h2.retrying == 0, "a 24-byte row from before the backlog counts reads as 0");
}

/* The counts the operations API reads instead of scanning (store.h). */
static void test_counts(struct store *s)
{
    struct store_txn *t;
    struct store_health h = { 0 };
    const void *v;
    size_t n;
    int64_t x = -1;
    store_write(s, &t);
    is_int(store_health_add(t, "ep_gone", -1, -1), 0, "a negative delta on no row is fine");
    is_int(store_get(t, DB_EP_HEALTH, "ep_gone", 7, &v, &n), HOOKD_ENOTFOUND,
           "and does not create the row");
    store_health_add(t, "ep_a", 3, 0);
    store_health_add(t, "ep_a", 1, 1);
    store_health_add(t, "ep_a", -5, -2);
    store_health_add(t, "ep_a", 2, 1);
    ok(store_get(t, DB_EP_HEALTH, "ep_a", 4, &v, &n) == 0 && store_health_decode(v, n, &h) == 0
       && h.backlog == 2 && h.retrying == 1, "backlog and retrying add up, clamped at 0");
    is_int(store_counter_get(t, "failed", &x), 0, "an absent counter reads");
    is_int(x, 0, "as 0");
    store_counter_add(t, "failed", 2);
    store_counter_add(t, "failed", -1);
    store_counter_get(t, "failed", &x);
    is_int(x, 1, "counters add");
    store_counter_add(t, "failed", -5);
    store_counter_get(t, "failed", &x);
    is_int(x, 0, "and stop at 0");
    store_abort(t);
}

static void test_schema(void)
{
    struct store *s;
    struct store_txn *t;
    store_open(&s, dir, 16 << 20, 0);
    store_write(s, &t);
    uint8_t v[4] = { 0, 0, 0, 99 };
    store_put(t, DB_META, "schema", 6, v, 4, 0);
    store_commit(t);
    store_close(s);
    is_int(store_open(&s, dir, 16 << 20, 0), HOOKD_ESCHEMA, "a store of another schema is refused");
    is_int(store_open(&s, "/tmp/hookd-t0020-does-not-exist", 16 << 20, 1), -2,
           "read-only open of a missing store fails with ENOENT");
}

/* One record of 4 KiB under key i, in a commit of its own, if store_room allows. */
static int put_room(struct store *s, int i)
{
    static char val[4096];
    char key[16];
    struct store_txn *t;
    int rc = store_write(s, &t);
    if (rc)
        return rc;
    snprintf(key, sizeof(key), "r%05d", i);
    rc = store_room(t, 2 * sizeof(val));
    if (!rc)
        rc = store_put(t, DB_MESSAGES, key, strlen(key), val, sizeof(val), 0);
    if (rc) {
        store_abort(t);
        return rc;
    }
    return store_commit(t);
}

/*
 * A store far from its reserve reuses the room the last batch left
 * instead of walking the free list each batch: here the free list holds
 * a record per commit, since a reader keeps an old snapshot open. Near
 * the reserve, or before a refusal, the room is measured again.
 */
static void test_room_kept(void)
{
    static char kdir[] = "/tmp/hookd-t0020k-XXXXXX";
    struct store *s;
    struct store_txn *reader, *t;
    if (!mkdtemp(kdir))
        return;
    is_int(store_open(&s, kdir, 512LL << 20, 0), 0, "a 512 MiB store opens");
    is_int(put_room(s, 0), 0, "a first record");
    is_int(store_read(s, &reader), 0, "a reader holds the snapshot");
    uint64_t before = store_room_measures(s);
    int i, rc = 0;
    for (i = 1; i <= 300 && rc == 0; i++)
        rc = put_room(s, i);
    is_int(rc, 0, "300 batches granted");
    uint64_t measures = store_room_measures(s) - before;
    ok(measures <= 3, "the room was measured %llu times for them, not once per batch",
       (unsigned long long)measures);
    store_abort(reader);

    is_int(store_write(s, &t), 0, "write txn");
    before = store_room_measures(s);
    int64_t big = 500LL << 20;   /* less than the map, more than it has outside the reserve */
    is_int(store_room(t, (size_t)big), HOOKD_EFULL, "a grant past the room is refused");
    ok(store_room_measures(s) - before == 1, "after measuring afresh");
    is_int(store_room(t, 64 << 20), 0, "a smaller one is granted");
    store_abort(t);
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", kdir);
    if (system(cmd))
        diag("cleanup failed");
}

/* The reserve: ingest stops short of a full map; what it leaves still takes writes. */
static void test_room(void)
{
    static char rdir[] = "/tmp/hookd-t0020r-XXXXXX";
    struct store *s;
    struct store_txn *t;
    struct store_info si;
    int i, rc = 0;
    is_int((int)(store_reserve(1 << 20) >> 10), 512, "reserve of a 1 MiB map: half of it");
    ok(store_reserve(4LL << 30) == (4LL << 30) / 20, "reserve of 4 GiB: 5 %%");
    ok(store_reserve(64LL << 40) == STORE_RESERVE_MAX, "reserve of a huge map: capped");
    if (!mkdtemp(rdir))
        return;
    is_int(store_open(&s, rdir, 2 << 20, 0), 0, "a 2 MiB store opens");
    for (i = 0; i < 1000 && (rc = put_room(s, i)) == 0; i++)
        ;
    is_int(rc, HOOKD_EFULL, "store_room refuses before the map is full");
    ok(i > 100, "after most of the map is used (%d records)", i);
    ok(store_info(s, &si) == 0 && si.map_bytes - (si.used_bytes - si.free_bytes) >= 256 << 10,
       "the reserve is left free");
    is_int(store_write(s, &t), 0, "write txn");
    rc = 0;
    for (int j = 0; j < 40 && !rc; j++) {
        char key[16];
        snprintf(key, sizeof(key), "x%05d", j);
        rc = store_put(t, DB_MESSAGES, key, strlen(key), "outcome", 7, 0);
    }
    if (rc)
        store_abort(t);
    is_int(rc ? rc : store_commit(t), 0, "other writes still fit in the reserve");
    is_int(store_write(s, &t), 0, "write txn");
    for (int j = 0; j < i / 2 && !rc; j++) {
        char key[16];
        snprintf(key, sizeof(key), "r%05d", j);
        rc = store_del(t, DB_MESSAGES, key, strlen(key));
    }
    if (rc)
        store_abort(t);
    is_int(rc ? rc : store_commit(t), 0, "deletes fit too");
    ok(store_info(s, &si) == 0 && si.free_bytes > 0, "freed pages are counted free");
    is_int(put_room(s, 5000), 0, "and store_room grants new records again");
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", rdir);
    if (system(cmd))
        diag("cleanup failed");
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    struct store *s;
    is_int(store_open(&s, dir, 16 << 20, 0), 0, "store opens");
    test_basic(s);
    test_nested(s);
    test_counts(s);
    test_append(s);
    test_settings_gen(s);
    struct store_info info;
    ok(store_info(s, &info) == 0 && info.map_bytes == 16 << 20 && info.used_bytes > 0,
       "store info reports map and use");
    store_close(s);
    is_int(store_open(&s, dir, 16 << 20, 1), 0, "reopens read-only");
    store_close(s);
    test_delivery_codec();
    test_schema();
    test_room();
    test_room_kept();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd))
        diag("cleanup failed");
    return done_testing();
}
