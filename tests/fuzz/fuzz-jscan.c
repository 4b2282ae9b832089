/*
 * fuzz-jscan.c - the ingest fast path's JSON scanner against jansson.
 *
 * jscan.h promises that jscan_object() says yes only to text that
 * json_loadb(JSON_REJECT_DUPLICATES) accepts as an object and that
 * json_dumps(JSON_COMPACT) prints back as exactly the compact text it
 * wrote, with each member's key and value where it says. This checks
 * all of that, at the default depth and at a shallow one.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "jscan.h"
#include "mem.h"

static void check(const uint8_t *data, size_t size, int max_depth)
{
    struct jscan_member m[JSCAN_MAX_KEYS];
    char *out = xmalloc(size + 1);
    int nm = jscan_object((const char *)data, size, max_depth, out, m);
    if (nm < 0) {
        free(out);
        return;
    }
    size_t olen = strlen(out);
    if (nm > JSCAN_MAX_KEYS || olen > size)
        fz_fail("jscan: %d members, %zu bytes out of %zu", nm, olen, size);
    json_error_t e;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(j))
        fz_fail("jscan accepted what jansson rejects (%s): %.*s", e.text, (int)size, data);
    char *dump = json_dumps(j, JSON_COMPACT);
    if (!dump || strcmp(dump, out) != 0)
        fz_fail("jscan text differs from jansson's:\n  jscan:   %s\n  jansson: %s", out,
                dump ? dump : "(null)");
    if ((size_t)nm != json_object_size(j))
        fz_fail("jscan: %d members, jansson %zu", nm, json_object_size(j));
    for (int i = 0; i < nm; i++) {
        if (m[i].key + m[i].klen > olen || m[i].val + m[i].vlen > olen)
            fz_fail("jscan: member %d out of bounds", i);
        char *key = xstrndup(out + m[i].key, m[i].klen);
        json_t *want = json_object_get(j, key);
        json_t *got = json_loadb(out + m[i].val, m[i].vlen, JSON_DECODE_ANY, &e);
        if (!want || !got || !json_equal(want, got))
            fz_fail("jscan: member '%s' value '%.*s' is not jansson's", key, (int)m[i].vlen,
                    out + m[i].val);
        json_decref(got);
        free(key);
    }
    free(dump);
    json_decref(j);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, 64);
    check(data, size, 2);
    return 0;
}
