/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_health.c - GET|HEAD /api/v1/health and /health/ping (API.md 4.6).
 * Health proves the store answers a read, so a wedged environment shows,
 * and that it takes writes (store_health): while commits fail (a full
 * disk) or the store is full, it answers 503 with the reason, so a load
 * balancer stops sending. While commits fail it also submits a small
 * write now and then, so that health comes back once the disk does even
 * when nothing else writes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "dispatch.h"
#include "mem.h"
#include "writer.h"

/*
 * The probe is this node's own write, not a log entry: its entry stays
 * empty (ENTRY_NONE, writer.h), so no journal and no other node sees it,
 * and its clock read is fine here. It only proves that this disk takes
 * a commit again; the meta key "probe" is node-local, and the store
 * comparison (hookd check --compare, tests/lib.sh reapply_same) skips it.
 */
static int probe_apply(struct intent *in, struct store_txn *t)
{
    uint8_t v[8];
    uint64_t now = (uint64_t)clock_now_ms();
    for (int i = 7; i >= 0; i--, now >>= 8)
        v[i] = (uint8_t)now;
    return store_put(t, DB_META, "probe", 5, v, sizeof(v), 0);
}

static void probe_done(struct intent *in, int status)
{
    free(in);
}

static void probe_submit(struct api *a)
{
    struct intent *in = xcalloc(1, sizeof(*in));
    in->apply = probe_apply;
    in->done = probe_done;
    if (!a->writer || writer_submit(a->writer, in))
        free(in);
}

static void reply_failing(struct http_req *r, const char *why)
{
    http_reply_json(r, 503, json_pack("{s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:s, s:s}", "database",
                                      "status", "error", "detail", why, "queue", "status", "ok",
                                      "cache", "status", "ok", "code", "store_failing",
                                      "detail", why));
}

/*
 * One group's store: 0 when it takes writes, else its answer is given
 * (500 when it cannot even be read, 503 while it fails) and -1.
 */
static int health_of(struct api *a, struct http_req *r)
{
    struct store_txn *t;
    int rc = store_read(a->store, &t);
    if (rc) {
        http_reply_json(r, 500, json_pack("{s:{s:s}, s:s}", "database", "status", "error",
                                          "error", "store read failed"));
        return -1;
    }
    store_abort(t);
    char why[256];
    int probe;
    if (store_health(a->store, why, sizeof(why), &probe)) {
        if (probe)
            probe_submit(a);
        reply_failing(r, why);
        return -1;
    }
    return 0;
}

/* Every partition group (group.h) must take writes for the node to be healthy. */
void api_health(struct api *a, struct http_req *r, char **p)
{
    if (strstr(r->path, "/ping")) {
        http_reply(r, 204, xstrdup(""), 0);
        return;
    }
    int held = 0;
    for (int g = 0; g < api_groups(a); g++) {
        struct api *ga = api_group(a, g);
        if (health_of(ga, r))
            return;
        /* held deliveries (--hold-deliveries) are not a failure: still 200, but said */
        held |= ga->dispatch && dispatch_held(ga->dispatch);
    }
    http_reply_json(r, 200, json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "database",
                                      "status", "ok", "queue", "status", "ok", "cache", "status",
                                      "ok", "deliveries", "status", held ? "held" : "ok"));
}
