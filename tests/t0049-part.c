/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0049-part: partitions and partition groups. The hash is pinned to
 * known FNV-1a values (every node and version must agree on an app's
 * home); groups are contiguous ranges that cover every partition once,
 * each starting at part_first; and app keys spread over the groups, also
 * keys that differ only in their last byte.
 */
#include <stdio.h>
#include <string.h>

#include "part.h"
#include "tap/tap.h"

static void pinned_hash(void)
{
    ok(part_hash("") == 0xcbf29ce484222325ULL, "the empty key hashes to FNV-1a's offset basis");
    ok(part_hash("a") == 0xaf63dc4c8601ec8cULL, "'a' hashes to FNV-1a 64's known value");
    ok(part_hash("foobar") == 0x85944171f73967e8ULL, "'foobar' hashes to FNV-1a 64's known value");
    ok(part_of("foobar", 64) == (int)(0x2c22194922d1672bULL % 64),
       "part_of is the hash, through MurmurHash3's finalizer, mod P");
    ok(part_of("anything", 1) == 0 && part_app_group("anything", 64, 1) == 0,
       "one partition or one group: everything is in 0");
}

/* Every partition in exactly one group; groups contiguous, starting at part_first. */
static int ranges_ok(int partitions, int groups)
{
    int prev = 0;
    for (int p = 0; p < partitions; p++) {
        int g = part_group(p, partitions, groups);
        if (g < 0 || g >= groups || g < prev || g > prev + 1)
            return 0;
        if ((p == 0 || g != prev) && part_first(g, partitions, groups) != p)
            return 0;
        prev = g;
    }
    return prev == groups - 1;
}

static void ranges(void)
{
    int bad = 0, tried = 0;
    for (int parts = 1; parts <= 256; parts++)
        for (int groups = 1; groups <= parts && groups <= PART_GROUPS_MAX; groups++, tried++)
            bad += !ranges_ok(parts, groups);
    ok(bad == 0, "groups are contiguous, cover every partition, start at part_first "
       "(%d shapes, %d bad)", tried, bad);
    ok(part_first(1, 64, 4) == 16 && part_first(3, 64, 4) == 48 && part_first(2, 10, 3) == 7,
       "first partitions of known shapes");
}

static void spread(void)
{
    int count[4] = { 0 };
    char key[32];
    for (int i = 0; i < 4000; i++) {
        snprintf(key, sizeof(key), "app_%d", i);
        count[part_app_group(key, 64, 4)]++;
    }
    int lo = count[0], hi = count[0];
    for (int g = 1; g < 4; g++) {
        lo = count[g] < lo ? count[g] : lo;
        hi = count[g] > hi ? count[g] : hi;
    }
    ok(lo > 800 && hi < 1200, "4000 app keys over 4 groups: %d to %d each", lo, hi);
    int seen[4] = { 0 }, groups = 0;
    for (int i = 1; i <= 9; i++) {
        snprintf(key, sizeof(key), "shop-%d", i);
        seen[part_app_group(key, 64, 4)] = 1;
    }
    for (int g = 0; g < 4; g++)
        groups += seen[g];
    ok(groups == 4, "shop-1 to shop-9 reach all 4 groups (%d)", groups);
}

int main(void)
{
    pinned_hash();
    ranges();
    spread();
    return done_testing();
}
