/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-query.c - query parsing: the first byte picks a route ('A' the
 * first), the rest is its query string. Lists parse limit, iterator,
 * order, before/after (RFC 3339 through clock_parse) and their filters;
 * the single-record reads parse with_content and the like. Every handler
 * runs for real against the fixture store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mem.h"

static const struct {
    const char *method, *path;
} routes[] = {
    { "GET", "/api/v1/app" },
    { "GET", "/api/v1/app/fz" },
    { "GET", "/api/v1/app/fz/endpoint" },
    { "GET", "/api/v1/app/fz/endpoint/ep1" },
    { "GET", "/api/v1/app/fz/endpoint/ep1/secret" },
    { "GET", "/api/v1/app/fz/endpoint/ep1/headers" },
    { "GET", "/api/v1/app/fz/msg" },
    { "GET", "/api/v1/app/fz/msg/m1" },
    { "GET", "/api/v1/app/fz/attempt/endpoint/ep1" },
    { "GET", "/api/v1/app/fz/attempt/msg/m1" },
    { "GET", "/api/v1/app/fz/msg/m1/attempt/atmpt_2ZfdAxzcUe4zKdKsWBd4prdAQoU" },
    { "GET", "/api/v1/event-type" },
    { "GET", "/api/v1/event-type/user.created" },
    { "GET", "/api/v1/health" },
    { "GET", "/hookd/v1/endpoints" },
    { "GET", "/hookd/v1/deliveries" },
    { "GET", "/hookd/v1/stats" },
    { "POST", "/api/v1/app" },
    { "POST", "/api/v1/app/fz/msg" },
    { "DELETE", "/api/v1/app/fz/endpoint/ep2" },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t i = (uint8_t)(data[0] - 'A') % NROUTES;
    char *q = fz_str(data + 1, size - 1);
    size_t n = strlen(routes[i].path) + strlen(q) + 2;
    char *url = xmalloc(n);
    snprintf(url, n, "%s?%s", routes[i].path, q);
    const char *body = strcmp(routes[i].method, "POST") != 0 ? ""
                       : i == 17 ? "{\"name\":\"q\",\"uid\":\"fz\"}"
                                 : "{\"eventType\":\"user.created\",\"payload\":{\"q\":1}}";
    fz_request(routes[i].method, url, FZ_AUTH, body, strlen(body), 0);
    free(url);
    free(q);
    return 0;
}
