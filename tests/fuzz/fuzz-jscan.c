/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-jscan.c - ingest's JSON scanners against jansson.
 *
 * jscan.h promises that jscan_object() says yes only to text that
 * json_loadb(JSON_REJECT_DUPLICATES) accepts as an object once its
 * numbers are masked (jscan_mask: jansson cannot hold 1e400), with each
 * member's key and value where it says, the value as written. And that
 * the mask keeps the length, and changes nothing jansson would read
 * but numbers: a text jansson takes whole is taken masked too. This
 * checks all of that, at the default depth and at a shallow one.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "jscan.h"
#include "mem.h"

static json_t *load_masked(const char *s, size_t n, size_t flags)
{
    char *m = xmalloc(n + 1);
    struct jscan_span sp;
    jscan_mask(s, n, 1, m, &sp);
    if (strlen(m) != n && !memchr(s, '\0', n))
        fz_fail("jscan_mask changed the length: %zu to %zu", n, strlen(m));
    json_t *j = json_loadb(m, n, flags, NULL);
    free(m);
    return j;
}

static void check_members(const char *s, json_t *j, const struct jscan_member *m, int nm,
                          size_t size)
{
    for (int i = 0; i < nm; i++) {
        if (m[i].key + m[i].klen > size || m[i].val + m[i].vlen > size || !m[i].vlen)
            fz_fail("jscan: member %d out of bounds", i);
        char *key = xstrndup(s + m[i].key, m[i].klen);
        json_t *want = json_object_get(j, key);
        json_t *got = load_masked(s + m[i].val, m[i].vlen, JSON_DECODE_ANY);
        if (!want || !got || !json_equal(want, got))
            fz_fail("jscan: member '%s' value '%.*s' is not jansson's", key, (int)m[i].vlen,
                    s + m[i].val);
        json_decref(got);
        free(key);
    }
}

static void check(const uint8_t *data, size_t size, int max_depth)
{
    const char *s = (const char *)data;
    struct jscan_member m[JSCAN_MAX_KEYS];
    json_t *whole = json_loadb(s, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *masked = load_masked(s, size, JSON_REJECT_DUPLICATES);
    if (whole && !masked)
        fz_fail("jansson takes the text but not its masked copy: %.*s", (int)size, s);
    json_decref(whole);
    int nm = jscan_object(s, size, max_depth, m);
    if (nm >= 0) {
        if (nm > JSCAN_MAX_KEYS)
            fz_fail("jscan: %d members", nm);
        if (!json_is_object(masked))
            fz_fail("jscan accepted what jansson rejects: %.*s", (int)size, s);
        if ((size_t)nm != json_object_size(masked))
            fz_fail("jscan: %d members, jansson %zu", nm, json_object_size(masked));
        check_members(s, masked, m, nm, size);
    }
    json_decref(masked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, 64);
    check(data, size, 2);
    return 0;
}
