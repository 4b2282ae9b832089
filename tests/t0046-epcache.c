/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0046-epcache: the writer's endpoint filter cache decodes the records,
 * and never serves filters after a write to endpoints or its rollback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epcache.h"
#include "store.h"
#include "tap/tap.h"

#define APP "app_2YBXZIko2xmy0s5Rm9N5U7PhHgu"
#define EP1 "ep_2YBXZIko2xmy0s5Rm9N5U7PhHg1"
#define EP2 "ep_2YBXZIko2xmy0s5Rm9N5U7PhHg2"

static char dir[] = "/tmp/hookd-t0046-XXXXXX";

static void put_ep(struct store_txn *t, const char *ep, const char *rec)
{
    char key[80];
    snprintf(key, sizeof(key), "%s%s", APP, ep);
    store_put(t, DB_ENDPOINTS, key, strlen(key), rec, strlen(rec), 0);
}

static size_t count(struct epcache *c, struct store_txn *t)
{
    const struct ep_list *l;
    return epcache_get(c, t, APP, &l) == 0 ? l->n : (size_t)-1;
}

int main(void)
{
    struct store *s;
    struct store_txn *t;
    const struct ep_list *l;
    if (!mkdtemp(dir) || store_open(&s, dir, 16 << 20, 0))
        return 1;
    struct epcache *c = epcache_new();

    store_write(s, &t);
    put_ep(t, EP1, "{\"disabled\":false,\"eventTypes\":[\"a.b\",\"c\"],\"channels\":null}");
    store_commit(t);
    store_write(s, &t);
    ok(epcache_get(c, t, APP, &l) == 0 && l->n == 1, "one endpoint loaded");
    ok(strcmp(l->eps[0].id, EP1) == 0, "its id comes from the key");
    ok(!l->eps[0].any_type && l->eps[0].ntypes == 2 && strcmp(l->eps[0].types[1], "c") == 0,
       "eventTypes decoded");
    ok(l->eps[0].any_channel && !l->eps[0].disabled, "null channels take every message");

    put_ep(t, EP2, "{\"disabled\":true,\"channels\":[\"eu\"]}");
    is_int((int)count(c, t), 2, "a write in the same transaction is seen");
    store_abort(t);
    store_write(s, &t);
    is_int((int)count(c, t), 1, "the rolled-back endpoint is gone");
    store_abort(t);

    store_write(s, &t);
    put_ep(t, EP2, "{\"disabled\":true,\"channels\":[\"eu\"]}");
    store_commit(t);
    store_write(s, &t);
    ok(epcache_get(c, t, APP, &l) == 0 && l->n == 2 && l->eps[1].disabled
       && !l->eps[1].any_channel && strcmp(l->eps[1].channels[0], "eu") == 0,
       "a committed endpoint is loaded with its filters");
    store_abort(t);

    epcache_free(c);
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd))
        diag("cleanup failed");
    return done_testing();
}
