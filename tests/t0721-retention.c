/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0721-retention: the retention pass on records made with old times, so
 * the periods of days can be tested at once: a payload goes after
 * min(retentionDays, payload-retention), across apps, and the record
 * keeps everything else; old attempts go with both index entries;
 * expired idempotency records go; everything younger stays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "err.h"
#include "id.h"
#include "retention.h"
#include "store.h"
#include "tap/tap.h"
#include "writer.h"

#define DAY (86400LL * 1000)

static int64_t now;

struct msg {
    const char *name;
    int app;              /* 0 or 1 */
    int64_t age_ms;
    int days;
    int expect_gone;
    char id[ID_MAX];
};

static struct msg msgs[] = {
    { "10 days old, 90 days", 0, 10 * DAY, 90, 0, "" },
    { "10 days old, 5 days", 0, 10 * DAY - 1, 5, 1, "" },
    { "40 days old, 90 days (cap 30d)", 0, 40 * DAY, 90, 1, "" },
    { "2 hours old, 1 day", 0, 2 * 3600 * 1000, 1, 0, "" },
    { "3 days old, 1 day", 0, 3 * DAY, 1, 1, "" },
    { "other app: 40 days old", 1, 40 * DAY, 90, 1, "" },
    { "other app: 12 hours old, 1 day", 1, 12 * 3600 * 1000, 1, 0, "" },
    { "other app: 20 days old, 10 days", 1, 20 * DAY, 10, 1, "" },
};
#define NMSGS (sizeof(msgs) / sizeof(msgs[0]))

static char apps[2][ID_MAX];

static void put_msg(struct store_txn *t, struct msg *m)
{
    char key[2 * ID_MAX];
    int64_t ts = now - m->age_ms;
    id_new_at("msg_", ts, m->id);
    json_t *rec = json_pack("{s:s, s:s, s:n, s:n, s:{s:i}, s:i, s:I, s:s}", "id", m->id,
                            "eventType", "t", "eventId", "channels", "payload", "x", 1,
                            "retentionDays", m->days, "timestamp", (json_int_t)ts, "raw", "body");
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", apps[m->app], m->id);
    store_put_json(t, DB_MESSAGES, key, kl, rec);
    json_decref(rec);
}

static void put_attempt(struct store_txn *t, int64_t age_ms, char id[ID_MAX])
{
    char key[2 * ID_MAX];
    const char *msg = msgs[0].id, *ep = "ep_2QbHrMHJXkkX5yGW8sYHUPGLf2D";
    id_new_at("atmpt_", now - age_ms, id);
    json_t *rec = json_pack("{s:s, s:s, s:s}", "id", id, "msgId", msg, "endpointId", ep);
    store_put_json(t, DB_ATTEMPTS, id, strlen(id), rec);
    json_decref(rec);
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", ep, id);
    store_put(t, DB_ATT_BY_EP, key, kl, msg, strlen(msg), 0);
    kl = (size_t)snprintf(key, sizeof(key), "%s%s", msg, id);
    store_put(t, DB_ATT_BY_MSG, key, kl, ep, strlen(ep), 0);
}

static void put_idem(struct store_txn *t, char tag, int64_t expiry)
{
    uint8_t key[32], val[12] = { 0 };
    memset(key, tag, sizeof(key));
    for (int i = 7; i >= 0; i--, expiry >>= 8)
        val[i] = (uint8_t)expiry;
    store_put(t, DB_IDEMPOTENCY, key, sizeof(key), val, sizeof(val), 0);
}

static int exists(struct store *s, enum store_db db, const void *key, size_t klen)
{
    struct store_txn *t;
    const void *v;
    size_t n;
    store_read(s, &t);
    int rc = store_get(t, db, key, klen, &v, &n);
    store_abort(t);
    return rc == 0;
}

static json_t *get_msg(struct store *s, const struct msg *m)
{
    struct store_txn *t;
    char key[2 * ID_MAX];
    json_t *rec = NULL;
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", apps[m->app], m->id);
    store_read(s, &t);
    store_get_json(t, DB_MESSAGES, key, kl, &rec);
    store_abort(t);
    return rec;
}

static void wait_passes(struct retention *r, uint64_t n)
{
    struct retention_stats st;
    for (int i = 0; i < 500; i++) {
        retention_get_stats(r, &st);
        if (st.passes >= n)
            return;
        usleep(10000);
    }
}

int main(void)
{
    char dir[] = "/tmp/hookd-t0721.XXXXXX", old_att[ID_MAX], new_att[ID_MAX], key[2 * ID_MAX];
    struct store *s;
    struct store_txn *t;
    struct writer *w;
    struct retention *r;
    plan(NMSGS * 2 + 9);
    if (!mkdtemp(dir) || store_open(&s, dir, 64 << 20, 0)) {
        printf("Bail out! cannot open a store in a temporary directory\n");
        return 1;
    }
    now = clock_now_ms();
    id_new("app_", apps[0]);
    id_new("app_", apps[1]);
    store_write(s, &t);
    for (size_t i = 0; i < NMSGS; i++)
        put_msg(t, &msgs[i]);
    put_attempt(t, 100 * DAY, old_att);
    put_attempt(t, 1 * DAY, new_att);
    put_idem(t, 'a', now - 1000);
    put_idem(t, 'b', now + 3600 * 1000);
    ok(store_commit(t) == 0, "records with old times written");

    writer_new(&w, s, 0);
    writer_start(w);
    struct retention_opts o = { .store = s, .writer = w, .interval_ms = 20,
                                .payload_ms = 30 * DAY, .attempt_ms = 90 * DAY };
    retention_new(&r, &o);
    ok(retention_start(r) == 0, "retention thread started");
    wait_passes(r, 3);
    retention_stop(r);
    struct retention_stats st;
    retention_get_stats(r, &st);
    ok(st.passes >= 3, "several passes ran (%llu)", (unsigned long long)st.passes);
    ok(st.payloads == 5, "5 payloads removed, once each (%llu)", (unsigned long long)st.payloads);

    for (size_t i = 0; i < NMSGS; i++) {
        json_t *rec = get_msg(s, &msgs[i]);
        int gone = rec && !json_object_get(rec, "payload") && !json_object_get(rec, "raw")
                   && json_is_true(json_object_get(rec, "expired"));
        ok(gone == msgs[i].expect_gone, "%s: payload %s", msgs[i].name,
           msgs[i].expect_gone ? "removed" : "kept");
        ok(rec && json_integer_value(json_object_get(rec, "retentionDays")) == msgs[i].days
           && strcmp(json_string_value(json_object_get(rec, "id")) ?: "", msgs[i].id) == 0,
           "%s: id and retentionDays kept", msgs[i].name);
        json_decref(rec);
    }

    ok(!exists(s, DB_ATTEMPTS, old_att, strlen(old_att)), "the 100-day-old attempt is gone");
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", msgs[0].id, old_att);
    int idx_gone = !exists(s, DB_ATT_BY_MSG, key, kl);
    kl = (size_t)snprintf(key, sizeof(key), "%s%s", "ep_2QbHrMHJXkkX5yGW8sYHUPGLf2D", old_att);
    ok(idx_gone && !exists(s, DB_ATT_BY_EP, key, kl), "and both its index entries");
    ok(exists(s, DB_ATTEMPTS, new_att, strlen(new_att)), "the 1-day-old attempt stays");
    uint8_t ka[32], kb[32];
    memset(ka, 'a', 32);
    memset(kb, 'b', 32);
    ok(!exists(s, DB_IDEMPOTENCY, ka, 32) && exists(s, DB_IDEMPOTENCY, kb, 32),
       "the expired idempotency record is gone, the live one stays");
    ok(st.attempts == 1 && st.idempotency == 1, "stats: 1 attempt, 1 idempotency record");

    retention_free(r);
    writer_stop(w);
    writer_free(w);
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return done_testing();
}
