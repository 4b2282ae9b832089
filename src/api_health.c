/*
 * api_health.c - GET|HEAD /api/v1/health and /health/ping (API.md 4.6).
 * Health proves the store answers a read, so a wedged environment shows.
 */
#include <string.h>

#include "api.h"
#include "dispatch.h"
#include "mem.h"

void api_health(struct api *a, struct http_req *r, char **p)
{
    if (strstr(r->path, "/ping")) {
        http_reply(r, 204, xstrdup(""), 0);
        return;
    }
    struct store_txn *t;
    int rc = store_read(a->store, &t);
    if (rc) {
        http_reply_json(r, 500, json_pack("{s:{s:s}, s:s}", "database", "status", "error",
                                          "error", "store read failed"));
        return;
    }
    store_abort(t);
    /* held deliveries (--hold-deliveries) are not a failure: still 200, but said */
    int held = a->dispatch && dispatch_held(a->dispatch);
    http_reply_json(r, 200, json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "database",
                                      "status", "ok", "queue", "status", "ok", "cache", "status",
                                      "ok", "deliveries", "status", held ? "held" : "ok"));
}
