/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-time.c - the small parsers of values people type: RFC 3339 times
 * (clock_parse, the API's before/after), durations (clock_parse_duration),
 * sizes (config_parse_size) and retry schedules (retry_parse).
 *
 * Promises checked: a parsed time formats and parses back to itself
 * (to the ms) when it falls in years 0000-9999; durations and sizes are
 * never negative; a schedule has 1..RETRY_MAX non-negative delays.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "harness.h"
#include "retry.h"

#define MIN_MS (-62167219200000LL)    /* 0000-01-01T00:00:00Z */
#define MAX_MS (253402300799999LL)    /* 9999-12-31T23:59:59.999Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fz_str(data, size);
    int64_t ms, back;
    if (clock_parse(s, &ms) == 0 && ms >= MIN_MS && ms <= MAX_MS) {
        char out[CLOCK_RFC3339_MAX];
        clock_format(ms, out);
        if (clock_parse(out, &back) != 0 || back != ms)
            fz_fail("time '%s' = %lld formats as '%s', which parses to %lld", s,
                    (long long)ms, out, (long long)back);
    }
    if (clock_parse_duration(s, &ms) == 0 && ms < 0)
        fz_fail("duration '%s' = %lld", s, (long long)ms);
    if (config_parse_size(s, &ms) == 0 && ms < 0)
        fz_fail("size '%s' = %lld", s, (long long)ms);
    struct retry_schedule rs;
    if (retry_parse(s, &rs) == 0) {
        if (rs.n < 1 || rs.n > RETRY_MAX)
            fz_fail("schedule '%s': %d delays", s, rs.n);
        for (int i = 0; i < rs.n; i++)
            if (rs.delay_ms[i] < 0)
                fz_fail("schedule '%s': delay %d is %lld", s, i, (long long)rs.delay_ms[i]);
    }
    free(s);
    return 0;
}
