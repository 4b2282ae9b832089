/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-body.c - every JSON request body decoder: the first byte picks a
 * route that takes a body ('A' the first), the rest is the body. The
 * request runs through the real dispatcher and handler (api_body's depth
 * check, the field validators of api_util.c, each resource's own checks,
 * ingest's jscan fast path and jansson slow path) and, when it gets that
 * far, the write is applied against the fixtures and rolled back.
 */
#include "harness.h"

static const struct {
    const char *method, *url;
} routes[] = {
    { "POST", "/api/v1/app" },
    { "POST", "/api/v1/app?get_if_exists=true" },
    { "PUT", "/api/v1/app/fz" },
    { "PATCH", "/api/v1/app/fz" },
    { "PUT", "/api/v1/app/new-app" },
    { "POST", "/api/v1/app/fz/endpoint" },
    { "PUT", "/api/v1/app/fz/endpoint/ep1" },
    { "PATCH", "/api/v1/app/fz/endpoint/ep1" },
    { "PUT", "/api/v1/app/fz/endpoint/new-ep" },
    { "POST", "/api/v1/app/fz/endpoint/ep1/secret/rotate" },
    { "PUT", "/api/v1/app/fz/endpoint/ep1/headers" },
    { "PATCH", "/api/v1/app/fz/endpoint/ep1/headers" },
    { "POST", "/api/v1/event-type" },
    { "PUT", "/api/v1/event-type/user.created" },
    { "PATCH", "/api/v1/event-type/user.created" },
    { "PUT", "/api/v1/event-type/new.type" },
    { "POST", "/api/v1/app/fz/msg" },
    { "POST", "/api/v1/app/fz/msg?with_content=false" },
    { "POST", "/api/v1/app/new-app/msg" },
    { "POST", "/api/v1/app/fz/endpoint/ep1/recover" },
    { "POST", "/api/v1/app/fz/msg/m1/endpoint/ep1/resend" },
    { "POST", "/hookd/v1/deliveries/replay" },
    { "POST", "/hookd/v1/app/fz/endpoint/ep1/pause" },
    { "POST", "/hookd/v1/app/fz/endpoint/ep1/resume" },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t i = (uint8_t)(data[0] - 'A') % NROUTES;
    fz_request(routes[i].method, routes[i].url, FZ_AUTH, data + 1, size - 1, 0);
    return 0;
}
