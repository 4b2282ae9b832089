/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-route.c - path normalisation and routing: "METHOD URL" (the first
 * space splits them) through http_detached_new() (normalise_path and the
 * query split) and api_route_match().
 *
 * Promises checked: a normalised path starts with the URL's first byte,
 * has no "//" and no trailing '/', and normalising it again changes
 * nothing; every route parameter is one non-empty segment.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "harness.h"
#include "http.h"

static void check_path(const char *url, const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || strstr(path, "//") || (n > 1 && path[n - 1] == '/'))
        fz_fail("url '%s' normalised to '%s'", url, path);
    if (url[0] && url[0] != '?' && path[0] != url[0])
        fz_fail("url '%s' normalised to '%s': first byte changed", url, path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fz_str(data, size), *sp = strchr(in, ' ');
    const char *method = sp ? in : "GET", *url = sp ? sp + 1 : in;
    if (sp)
        *sp = '\0';
    struct http_req *r = http_detached_new(NULL, method, url, NULL, NULL, 0);
    check_path(url, r->path);
    struct http_req *again = http_detached_new(NULL, method, r->path, NULL, NULL, 0);
    if (!strchr(r->path, '?') && strcmp(again->path, r->path) != 0)
        fz_fail("normalising '%s' again gave '%s'", r->path, again->path);
    http_detached_free(again);

    char *params[API_MAX_PARAMS];
    int i = api_route_match(r->method, r->path, params);
    if (i >= 0) {
        for (int k = 0; k < API_MAX_PARAMS; k++) {
            if (params[k] && (!params[k][0] || strchr(params[k], '/')))
                fz_fail("path '%s': parameter %d is '%s'", r->path, k, params[k]);
            free(params[k]);
        }
    } else if (i != API_NO_ROUTE && i != API_BAD_METHOD) {
        fz_fail("api_route_match returned %d", i);
    }
    http_detached_free(r);
    free(in);
    return 0;
}
