/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-retry-after.c - Retry-After values (delta seconds or an HTTP date
 * in any of its three forms) through retry_after_parse() and
 * retry_next_delay().
 *
 * Promises checked: a parsed delay is between 0 and a year; a retry
 * delay for a 429/503 stays in [scheduled, 2 x scheduled].
 */
#include <stdlib.h>

#include "harness.h"
#include "retry.h"

#define YEAR_MS (365LL * 86400 * 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t nows[] = { 0, 1700000000000LL, 4102444800000LL, 253402300799000LL };
    char *v = fz_str(data, size);
    struct retry_schedule s = { 3, { 1000, 60000, 3600000 } };
    for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
        int64_t d = -1;
        if (retry_after_parse(v, nows[i], &d) == 0 && (d < 0 || d > YEAR_MS))
            fz_fail("Retry-After '%s' at %lld: delay %lld", v, (long long)nows[i], (long long)d);
        for (int attempt = 1; attempt <= 3; attempt++) {
            int64_t base = s.delay_ms[attempt - 1];
            int64_t n = retry_next_delay(&s, attempt, 503, v, nows[i], 0.5);
            if (n < base * 8 / 10 || n > 2 * base)
                fz_fail("Retry-After '%s': attempt %d delay %lld", v, attempt, (long long)n);
        }
    }
    free(v);
    return 0;
}
