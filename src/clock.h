/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.h - time in hookd: int64 milliseconds since the Unix epoch (UTC),
 * formatted and parsed as RFC 3339 (API.md 3.5). Thread-safe, no globals.
 */
#ifndef HOOKD_CLOCK_H
#define HOOKD_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_RFC3339_MAX 32

/* Wall-clock now in ms (CLOCK_REALTIME). */
int64_t clock_now_ms(void);
/* Monotonic ms for measuring durations and deadlines (CLOCK_MONOTONIC). */
int64_t clock_mono_ms(void);
/* Monotonic microseconds, for latency figures. */
int64_t clock_mono_us(void);

/* The absolute time ms from now on clock clk, for pthread_cond_timedwait. */
void clock_deadline(clockid_t clk, int64_t ms, struct timespec *ts);
/* The same for us microseconds from now. */
void clock_deadline_us(clockid_t clk, int64_t us, struct timespec *ts);

/* "2024-05-01T12:34:56.123Z" (always ms precision, always Z). */
void clock_format(int64_t ms, char out[CLOCK_RFC3339_MAX]);

/*
 * Parse RFC 3339: date 'T' (or 't' or ' ') time, 0-9 fractional digits
 * (kept to ms, truncated), 'Z'/'z' or +HH:MM / -HH:MM. 0 or HOOKD_EINVAL.
 */
int clock_parse(const char *s, int64_t *ms);

/*
 * Parse a duration like "10s", "250ms", "5m", "2h", "7d" or a bare number
 * of seconds into ms. 0 or HOOKD_EINVAL.
 */
int clock_parse_duration(const char *s, int64_t *ms);

#endif
