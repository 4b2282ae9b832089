/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_opwh.c - the operator's endpoints for operational webhooks
 * (/api/v1/operational-webhook/endpoint, API.md 4.10), as the Svix client's
 * operationalWebhookEndpoint calls them.
 *
 * They are the endpoints of the reserved application (opwh.h), so each
 * route is the endpoint route of that application: the same validation,
 * records, secrets, headers and status codes. The application is made by
 * the first create; until then the list is empty and a named endpoint is
 * not found.
 */
#include <string.h>

#include "api.h"
#include "err.h"
#include "mem.h"
#include "opwh.h"

/* The endpoint routes' parameters: the reserved app, then the path's endpoint. */
struct op_params {
    char app[sizeof(OPWH_APP_UID)];
    char *p[API_MAX_PARAMS];
};

static char **op_params(struct op_params *q, char **p)
{
    memcpy(q->app, OPWH_APP_UID, sizeof(OPWH_APP_UID));
    memset(q->p, 0, sizeof(q->p));
    q->p[0] = q->app;
    q->p[1] = p ? p[0] : NULL;
    return q->p;
}

void api_opwh_list(struct api *a, struct http_req *r, char **p)
{
    struct op_params q;
    struct store_txn *t = api_read(a, r);
    char id[ID_MAX];
    if (!t)
        return;
    int rc = opwh_app_id(t, id);
    store_abort(t);
    if (rc == HOOKD_ENOTFOUND) {
        static const char empty[] = "{\"data\":[],\"iterator\":null,\"prevIterator\":null,"
                                    "\"done\":true}";
        http_reply(r, 200, xstrdup(empty), sizeof(empty) - 1);
        return;
    }
    if (rc) {
        api_store_error(r, rc);
        return;
    }
    api_ep_list(a, r, op_params(&q, NULL));
}

/* Each route below is the reserved application's endpoint route. */
#define OPWH_ROUTE(name, target)                                   \
    void name(struct api *a, struct http_req *r, char **p)         \
    {                                                              \
        struct op_params q;                                        \
        target(a, r, op_params(&q, p));                            \
    }

OPWH_ROUTE(api_opwh_create, api_ep_create)
OPWH_ROUTE(api_opwh_get, api_ep_get)
OPWH_ROUTE(api_opwh_put, api_ep_put)
OPWH_ROUTE(api_opwh_delete, api_ep_delete)
OPWH_ROUTE(api_opwh_secret_get, api_ep_secret_get)
OPWH_ROUTE(api_opwh_secret_rotate, api_ep_secret_rotate)
OPWH_ROUTE(api_opwh_headers_get, api_ep_headers_get)
OPWH_ROUTE(api_opwh_headers_put, api_ep_headers_put)
