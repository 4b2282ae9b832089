/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-forward.c - a forwarded request as the owner decodes it (cfwd.h):
 * what anyone on the NATS servers may send to hookd.node.ID.http. The
 * input is the message's parts, one a line:
 *
 *   Hookd-Method
 *   Hookd-Path
 *   Hookd-Query        (an empty line: none)
 *   Name: value        (the forwarded headers, up to an empty line)
 *   ...
 *
 *   body               (the rest, as bytes)
 *
 * A missing line is a missing header. The request goes through
 * http_forward_refusal() as cfwd's on_request does, and when it may run,
 * through http_detached_req() and api_dispatch() as the owner runs it
 * (fz_request_parts, writes rolled back).
 *
 * Promises checked: a refusal is 400, 413 or 414 with a code and a
 * detail; what passes has a path starting with '/' without control bytes
 * and a method of capitals, and gets a JSON answer with a status in
 * 100..599 and never a 500 (harness.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "http.h"

/* The next line of *s (cut in place), or NULL at the end. */
static char *next_line(char **s)
{
    if (!*s)
        return NULL;
    char *line = *s, *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *s = nl + 1;
    } else {
        *s = NULL;
    }
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fz_str(data, size), *rest = in;
    /* fz_str keeps NUL bytes; a header value ends at the first, as libnats hands it */
    char *method = next_line(&rest), *path = next_line(&rest), *query = next_line(&rest);
    if (query && !*query)
        query = NULL;
    static const char *const names[] = {
        "Authorization", "Idempotency-Key", "Content-Type", "svix-req-id",
    };
    const char *values[4] = { 0 };
    size_t hlen = 0;
    char *hdrs = NULL, *line;
    while ((line = next_line(&rest)) && *line) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *v = colon + 1 + (colon[1] == ' ');
        for (size_t i = 0; i < 4; i++)
            if (strcasecmp(line, names[i]) == 0 && !values[i]) {
                values[i] = v;
                size_t add = strlen(names[i]) + strlen(v) + 3;
                hdrs = realloc(hdrs, hlen + add + 1);
                if (!hdrs)
                    abort();
                hlen += (size_t)snprintf(hdrs + hlen, add + 1, "%s: %s\n", names[i], v);
            }
    }
    const char *body = rest ? rest : "";
    size_t blen = rest ? size - (size_t)(rest - in) : 0;
    const char *code = NULL;
    char detail[160] = "";
    int status = http_forward_refusal(method, path, query, values, 4, blen, 8192, 1 << 20, &code,
                                      detail, sizeof(detail));
    if (status) {
        if ((status != 400 && status != 413 && status != 414) || !code || !*code || !*detail)
            fz_fail("refused with %d '%s' '%s'", status, code ? code : "(null)", detail);
    } else {
        if (!method || !path || path[0] != '/' || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                                                    != strlen(method))
            fz_fail("let through method '%s' path '%s'", method ? method : "(null)",
                    path ? path : "(null)");
        for (const char *p = path; *p; p++)
            if ((unsigned char)*p < 0x20)
                fz_fail("let through a path with a control byte");
        fz_request_parts(method, path, query, hdrs, body, blen, 0);
    }
    free(hdrs);
    free(in);
    return 0;
}
