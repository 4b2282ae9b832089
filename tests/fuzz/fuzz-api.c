/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-api.c - whole requests: "METHOD URL" on the first line, then
 * "Name: value" header lines, an empty line and the body, run through
 * the dispatcher against the fixture store. This is the target for what
 * the others fix in place: authentication, idempotency keys, routing and
 * the handlers together.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fz_str(data, size);
    char *line_end = strchr(in, '\n');
    char *headers = line_end ? line_end + 1 : NULL;
    if (line_end)
        *line_end = '\0';
    char *sp = strchr(in, ' ');
    if (!sp || sp == in) {
        free(in);
        return 0;
    }
    *sp = '\0';
    const char *body = "";
    size_t blen = 0;
    char *sep = headers ? strstr(headers, "\n\n") : NULL;
    if (headers && headers[0] == '\n') {   /* no headers, then the body */
        body = headers + 1;
        blen = size - (size_t)(body - in);
        headers = NULL;
    } else if (sep) {
        *sep = '\0';
        body = sep + 2;
        blen = size - (size_t)(body - in);
    }
    fz_request(in, sp + 1, headers, body, blen, 0);
    free(in);
    return 0;
}
