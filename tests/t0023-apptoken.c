/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0023-apptoken: application tokens in the log (apptoken.h): a token
 * made and stored is found by its hash with its application, expiry and
 * capabilities; its plaintext is nowhere in the store; it goes by hash
 * or by id with both its keys; a later expiry is brought forward, never
 * pushed back; the capability names round-trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apptoken.h"
#include "err.h"
#include "id.h"
#include "store.h"
#include "tap/tap.h"

static char dir[] = "/tmp/hookd-t0023-XXXXXX";

struct made {
    char token[APPTOKEN_MAX];
    uint8_t hash[32];
    struct apptoken tk;
};

static void make(struct store *s, struct made *m, const char *app, int64_t exp, unsigned caps)
{
    struct store_txn *t;
    apptoken_new(1700000000000LL, m->token, m->tk.id);
    apptoken_hash(m->token, m->hash);
    id_new("app_", m->tk.app_id);
    memcpy(m->tk.app_id + 4, app, strlen(app) < 27 ? strlen(app) : 27);
    m->tk.expires_ms = exp;
    m->tk.caps = caps;
    json_t *rec = json_pack("{s:s, s:s}", "id", m->tk.id, "appId", m->tk.app_id);
    store_write(s, &t);
    is_int(apptoken_put(t, m->hash, &m->tk, rec), 0, "put %s", m->tk.id);
    is_int(store_commit(t), 0, "commit");
    json_decref(rec);
}

static int count_range(struct store_txn *t, const char *prefix)
{
    int n = 0;
    struct store_cursor *c;
    struct store_kv kv;
    size_t pl = strlen(prefix);
    store_cursor_open(t, DB_META, &c);
    for (int rc = store_cursor_seek(c, prefix, pl, &kv); rc == 0; rc = store_cursor_next(c, &kv))
        if (kv.klen >= pl && memcmp(kv.key, prefix, pl) == 0)
            n++;
    store_cursor_close(c);
    return n;
}

static int in_store(struct store *s, const char *needle)
{
    struct store_txn *t;
    struct store_cursor *c;
    struct store_kv kv;
    int found = 0;
    store_read(s, &t);
    store_cursor_open(t, DB_META, &c);
    for (int rc = store_cursor_first(c, &kv); rc == 0; rc = store_cursor_next(c, &kv))
        found |= memmem(kv.val, kv.vlen, needle, strlen(needle)) != NULL
                 || memmem(kv.key, kv.klen, needle, strlen(needle)) != NULL;
    store_cursor_close(c);
    store_abort(t);
    return found;
}

int main(void)
{
    struct store *s;
    struct store_txn *t;
    struct apptoken got;
    struct made a, b;
    if (!mkdtemp(dir))
        return 1;
    is_int(store_open(&s, dir, 16 << 20, 0), 0, "store opens");
    ok(apptoken_shaped("appsk_x") && !apptoken_shaped("hk_x") && !apptoken_shaped("app"),
       "shaped: the appsk_ prefix only");

    make(s, &a, "AAAA", 5000, APPTOK_VIEW);
    make(s, &b, "BBBB", 9000, APPTOK_ALL);
    ok(strncmp(a.token, "appsk_", 6) == 0 && strlen(a.token) == 33, "a token: appsk_ + 27");
    ok(strcmp(a.token, b.token) != 0, "two tokens differ");
    ok(id_is("tok_", a.tk.id), "its id is tok_ + 27");

    store_read(s, &t);
    is_int(apptoken_find(t, a.hash, &got), 0, "found by its hash");
    is_str(got.id, a.tk.id, "with its id");
    is_str(got.app_id, a.tk.app_id, "its application");
    ok(got.expires_ms == 5000 && got.caps == APPTOK_VIEW, "its expiry and capabilities");
    uint8_t other[32];
    apptoken_hash("appsk_nope", other);
    is_int(apptoken_find(t, other, &got), HOOKD_ENOTFOUND, "an unknown token is not found");
    is_int(count_range(t, APPTOKEN_KEY_PREFIX), 2, "two hash keys");
    is_int(count_range(t, APPTOKEN_ID_PREFIX), 2, "two id keys");
    store_abort(t);
    ok(!in_store(s, a.token) && !in_store(s, b.token), "no plaintext in the store");
    ok(in_store(s, a.tk.id), "the id is");

    store_write(s, &t);
    is_int(apptoken_expire(t, b.tk.id, 7000), 0, "expire b sooner");
    is_int(apptoken_expire(t, b.tk.id, 8000), 0, "a later expiry is no change");
    is_int(apptoken_find(t, b.hash, &got), 0, "b still found");
    is_int(got.expires_ms, 7000, "at the sooner expiry");
    is_int(apptoken_del_id(t, a.tk.id), 0, "a removed by id");
    is_int(apptoken_del_id(t, a.tk.id), HOOKD_ENOTFOUND, "twice: not found");
    is_int(apptoken_find(t, a.hash, &got), HOOKD_ENOTFOUND, "a's hash key went with it");
    is_int(apptoken_del_hash(t, b.hash), 0, "b removed by hash");
    is_int(count_range(t, APPTOKEN_KEY_PREFIX) + count_range(t, APPTOKEN_ID_PREFIX), 0,
           "no key left");
    is_int(store_commit(t), 0, "commit");

    is_str(apptoken_cap_name(APPTOK_MANAGE_ENDPOINT), "ManageEndpoint", "a capability's name");
    is_int(apptoken_cap_parse("ViewEndpointSecret"), APPTOK_VIEW_SECRET, "and back");
    is_int(apptoken_cap_parse("Fly"), 0, "an unknown name is 0");
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd))
        diag("cleanup failed");
    return done_testing();
}
