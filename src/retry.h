/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retry.h - when to try a failed delivery again (API.md 6).
 *
 * The schedule is a list of delays (ms) after the first attempt; attempt
 * n (1-based) that fails is retried after schedule[n-1] with +-20 %
 * jitter, unless the schedule is used up (final failure). A Retry-After
 * header (delta seconds or an HTTP date) on a 429 or 503 is honoured,
 * clamped to [scheduled delay, 2 x scheduled delay]. Pure functions.
 */
#ifndef HOOKD_RETRY_H
#define HOOKD_RETRY_H

#include <stdint.h>

#define RETRY_MAX 32

struct retry_schedule {
    int n;
    int64_t delay_ms[RETRY_MAX];
};

/* Parse "10s,100s,1000s" (see config_parse_schedule). 0 or HOOKD_EINVAL. */
int retry_parse(const char *spec, struct retry_schedule *out);

/*
 * Delay before the next try after failed attempt number attempts (1-based),
 * or -1 when the schedule is used up. status is the HTTP status (0 for a
 * network error), retry_after the header value or NULL, now_ms the wall
 * clock (for HTTP dates), rnd a uniform random value in [0, 1).
 */
int64_t retry_next_delay(const struct retry_schedule *s, int attempts, int status,
                         const char *retry_after, int64_t now_ms, double rnd);

/*
 * Parse a Retry-After value: delta seconds or an IMF-fixdate / RFC 850 /
 * asctime HTTP date. Delay in ms (>= 0) or HOOKD_EINVAL.
 */
int retry_after_parse(const char *v, int64_t now_ms, int64_t *delay_ms);

#endif
