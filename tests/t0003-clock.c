/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0003-clock: RFC 3339 formatting and parsing, durations, and the clocks.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "tap/tap.h"

static void test_format(void)
{
    char s[CLOCK_RFC3339_MAX];

    clock_format(0, s);
    is_str(s, "1970-01-01T00:00:00.000Z", "format epoch");
    clock_format(1700000000123LL, s);
    is_str(s, "2023-11-14T22:13:20.123Z", "format 1700000000123");
    clock_format(1709164800000LL, s);
    is_str(s, "2024-02-29T00:00:00.000Z", "format leap day");
    clock_format(-1, s);
    is_str(s, "1969-12-31T23:59:59.999Z", "format before the epoch");
    clock_format(253402300799999LL, s);
    is_str(s, "9999-12-31T23:59:59.999Z", "format the last 4-digit year");
    clock_format(951782400000LL, s);
    is_str(s, "2000-02-29T00:00:00.000Z", "format 2000 leap day");
    clock_format(INT64_MAX, s);
    is_str(s, "9999-12-31T23:59:59.999Z", "far future clamps to year 9999");
    clock_format(INT64_MIN, s);
    is_str(s, "0000-01-01T00:00:00.000Z", "far past clamps to year 0");
}

/* Parse s and compare to want, or expect rejection when want is absent. */
static void parse_is(const char *s, long long want)
{
    int64_t ms = -7;
    int rc = clock_parse(s, &ms);

    if (!is_int(rc, 0, "parse '%s'", s))
        return;
    is_int(ms, want, "value of '%s'", s);
}

static void parse_bad(const char *s)
{
    int64_t ms = -7;

    is_int(clock_parse(s, &ms), HOOKD_EINVAL, "reject '%s'", s);
}

static void test_parse(void)
{
    parse_is("2023-11-14T22:13:20.123Z", 1700000000123LL);
    parse_is("2023-11-14T22:13:20Z", 1700000000000LL);
    parse_is("2023-11-14T22:13:20.123456789Z", 1700000000123LL);
    parse_is("2023-11-14T22:13:20.1Z", 1700000000100LL);
    parse_is("2023-11-14T22:13:20.999999Z", 1700000000999LL);
    parse_is("2023-11-14t22:13:20.123z", 1700000000123LL);
    parse_is("2023-11-14 22:13:20.123Z", 1700000000123LL);
    parse_is("2023-11-15T00:13:20.123+02:00", 1700000000123LL);
    parse_is("2023-11-14T16:43:20.123-05:30", 1700000000123LL);
    parse_is("2023-11-14T22:13:20.123+00:00", 1700000000123LL);
    parse_is("2023-11-14T22:13:20.123-00:00", 1700000000123LL);
    parse_is("1970-01-01T00:00:00Z", 0);
    parse_is("1969-12-31T23:59:59.999Z", -1);
    parse_is("2024-02-29T00:00:00Z", 1709164800000LL);
    parse_is("2000-02-29T00:00:00Z", 951782400000LL);
    parse_is("2016-12-31T23:59:60Z", 1483228800000LL);

    parse_bad("2023-02-29T00:00:00Z");
    parse_bad("1900-02-29T00:00:00Z");
    parse_bad("2023-04-31T00:00:00Z");
    parse_bad("2023-13-01T00:00:00Z");
    parse_bad("2023-00-01T00:00:00Z");
    parse_bad("2023-01-00T00:00:00Z");
    parse_bad("2023-01-01T24:00:00Z");
    parse_bad("2023-01-01T00:60:00Z");
    parse_bad("2023-01-01T00:00:61Z");
    parse_bad("2023-01-01T00:00:00");
    parse_bad("2023-01-01T00:00:00.Z");
    parse_bad("2023-01-01T00:00:00.1234567890Z");
    parse_bad("2023-01-01T00:00:00Zjunk");
    parse_bad("2023-01-01T00:00:00+0200");
    parse_bad("2023-01-01T00:00:00+24:00");
    parse_bad("2023-01-01T00:00:00+02:60");
    parse_bad("2023-01-01X00:00:00Z");
    parse_bad("2023-1-01T00:00:00Z");
    parse_bad("23-01-01T00:00:00Z");
    parse_bad("2023-01-01");
    parse_bad("1700000000");
    parse_bad("");
    parse_bad("garbage");
}

static void test_round_trip(void)
{
    char s[CLOCK_RFC3339_MAX];
    int bad = 0;

    srand(12345);
    for (int i = 0; i < 100000; i++) {
        /* Years 0000 through 9999, both sides of the epoch. */
        int64_t ms = (int64_t)(((uint64_t)rand() << 31 | (uint64_t)rand()) %
                               315537897600000ULL) - 62167219200000LL;
        int64_t back = 0;
        clock_format(ms, s);
        if (clock_parse(s, &back) != 0 || back != ms) {
            if (bad++ < 5)
                diag("round trip of %lld gave '%s' -> %lld", (long long)ms, s,
                     (long long)back);
        }
    }
    is_int(bad, 0, "100000 random times round trip");

    clock_format(-62167219200000LL, s);
    is_str(s, "0000-01-01T00:00:00.000Z", "year 0 formats");
}

static void test_timegm_agrees(void)
{
    char s[CLOCK_RFC3339_MAX];
    int bad = 0;

    /* Every day from 1900 to 2200 at noon, against the C library. */
    for (int64_t d = -25567; d < 84000; d++) {
        int64_t ms = d * 86400000LL + 43200123;
        time_t t = (time_t)((ms - 123) / 1000);
        struct tm tm;
        char want[CLOCK_RFC3339_MAX];
        gmtime_r(&t, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S.123Z", &tm);
        clock_format(ms, s);
        if (strcmp(s, want) != 0 && bad++ < 3)
            diag("'%s' but gmtime_r says '%s'", s, want);
    }
    is_int(bad, 0, "format agrees with gmtime_r over 300 years");
}

static void dur_is(const char *s, long long want)
{
    int64_t ms = -7;

    if (is_int(clock_parse_duration(s, &ms), 0, "duration '%s'", s))
        is_int(ms, want, "value of duration '%s'", s);
}

static void dur_bad(const char *s)
{
    int64_t ms = -7;

    is_int(clock_parse_duration(s, &ms), HOOKD_EINVAL, "reject duration '%s'", s);
    is_int(ms, -7, "ms untouched for '%s'", s);
}

static void test_duration(void)
{
    dur_is("10s", 10000);
    dur_is("250ms", 250);
    dur_is("5m", 300000);
    dur_is("2h", 7200000);
    dur_is("7d", 604800000);
    dur_is("30", 30000);
    dur_is("0", 0);
    dur_is("0ms", 0);

    dur_bad("");
    dur_bad("s");
    dur_bad("-5s");
    dur_bad("+5s");
    dur_bad("5x");
    dur_bad("5 s");
    dur_bad(" 5s");
    dur_bad("5S");
    dur_bad("1.5s");
    dur_bad("5sec");
    dur_bad("99999999999999999999");
    dur_bad("9999999999999999d");
}

static void test_clocks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = clock_now_ms();
    int64_t libc = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

    ok(now >= libc && now - libc < 1000, "clock_now_ms is the real-time clock");
    int64_t a = clock_mono_ms(), b = clock_mono_ms();
    ok(b >= a, "clock_mono_ms does not go backwards");
    int64_t us = clock_mono_us();
    ok(us / 1000 >= b && us / 1000 - b < 1000, "clock_mono_us agrees with mono_ms");
}

int main(void)
{
    test_format();
    test_parse();
    test_round_trip();
    test_timegm_agrees();
    test_duration();
    test_clocks();
    return done_testing();
}
