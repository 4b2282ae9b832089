/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0031-retry - the retry schedule: parsing, jitter bounds, the end of
 * the schedule, Retry-After clamping and status rules, and HTTP dates in
 * all three forms.
 */
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "retry.h"
#include "tap/tap.h"

#define DATE_S 784111777LL          /* 1994-11-06T08:49:37Z */
#define NOW (DATE_S * 1000 - 120000) /* two minutes before it */

static void test_parse(void)
{
    struct retry_schedule s;

    is_int(retry_parse("10s,100s,1000s", &s), 0, "parse the default schedule");
    is_int(s.n, 3, "three delays");
    ok(s.delay_ms[0] == 10000 && s.delay_ms[1] == 100000 && s.delay_ms[2] == 1000000,
       "delays in ms");
    is_int(retry_parse("5s, 5m,30m,2h,5h,10h,10h", &s), 0, "parse the svix schedule");
    is_int(s.n, 7, "seven delays");
    is_int(s.delay_ms[6], 36000000, "last is 10 h");

    s.n = 99;
    is_int(retry_parse("10s,,1000s", &s), HOOKD_EINVAL, "empty item rejected");
    is_int(retry_parse("ten", &s), HOOKD_EINVAL, "garbage rejected");
    is_int(retry_parse("", &s), HOOKD_EINVAL, "empty spec rejected");
    is_int(s.n, 99, "failed parse leaves the schedule alone");
}

static void test_delays(void)
{
    struct retry_schedule s;

    retry_parse("10s,100s,1000s", &s);
    is_int(retry_next_delay(&s, 1, 500, NULL, NOW, 0.0), 8000, "attempt 1, rnd 0: 0.8 x 10 s");
    is_int(retry_next_delay(&s, 2, 0, NULL, NOW, 0.0), 80000, "attempt 2, rnd 0: 0.8 x 100 s");
    is_int(retry_next_delay(&s, 3, 500, NULL, NOW, 0.5), 1000000, "attempt 3, rnd 0.5: 1000 s");
    int64_t d = retry_next_delay(&s, 1, 500, NULL, NOW, 0.999);
    ok(d > 11990 && d < 12000, "attempt 1, rnd 0.999: about 1.2 x 10 s (%lld)", (long long)d);
    is_int(retry_next_delay(&s, 4, 500, NULL, NOW, 0.5), -1, "attempt 4: schedule used up");
    is_int(retry_next_delay(&s, 100, 500, NULL, NOW, 0.5), -1, "attempt 100: used up");

    retry_parse("0s", &s);
    is_int(retry_next_delay(&s, 1, 500, NULL, NOW, 0.7), 0, "zero delay stays zero");
}

static void test_retry_after(void)
{
    struct retry_schedule s;

    retry_parse("10s,100s,1000s", &s);
    is_int(retry_next_delay(&s, 1, 503, "15", NOW, 0.0), 15000, "503 Retry-After 15 s honoured");
    is_int(retry_next_delay(&s, 1, 429, "15", NOW, 0.0), 15000, "429 Retry-After 15 s honoured");
    is_int(retry_next_delay(&s, 1, 503, "1", NOW, 0.0), 10000, "short Retry-After clamped up to base");
    is_int(retry_next_delay(&s, 1, 503, "0", NOW, 0.999), 11996,
           "short Retry-After keeps a later jittered delay");
    is_int(retry_next_delay(&s, 1, 503, "3600", NOW, 0.0), 20000,
           "long Retry-After clamped down to 2 x base");
    is_int(retry_next_delay(&s, 2, 429, "99999999999999999999", NOW, 0.0), 200000,
           "huge Retry-After clamped to 2 x base");
    is_int(retry_next_delay(&s, 1, 500, "15", NOW, 0.0), 8000, "Retry-After ignored on 500");
    is_int(retry_next_delay(&s, 1, 0, "15", NOW, 0.0), 8000, "Retry-After ignored on network error");
    is_int(retry_next_delay(&s, 1, 503, "soon", NOW, 0.0), 8000, "bad Retry-After ignored");
    is_int(retry_next_delay(&s, 1, 503, "Sun, 06 Nov 1994 08:49:52 GMT", DATE_S * 1000, 0.0),
           15000, "Retry-After HTTP date honoured");
    is_int(retry_next_delay(&s, 3, 503, "15", NOW, 0.0), 1000000,
           "Retry-After never shortens the schedule");
    is_int(retry_next_delay(&s, 4, 503, "15", NOW, 0.0), -1,
           "Retry-After does not extend the schedule");
}

/* Parse v at NOW and compare to want ms, or expect rejection (want < 0). */
static void after_is(const char *v, long long want)
{
    int64_t ms = -7;
    int rc = retry_after_parse(v, NOW, &ms);

    if (want < 0)
        ok(rc == HOOKD_EINVAL && ms == -7, "reject '%s'", v);
    else
        ok(rc == 0 && ms == want, "'%s' is %lld ms (got rc %d, %lld)", v, want, rc,
           (long long)ms);
}

static void test_after_parse(void)
{
    after_is("0", 0);
    after_is("120", 120000);
    after_is(" 7 ", 7000);
    after_is("00042", 42000);
    after_is("99999999999999999999999", 365LL * 86400 * 1000);
    after_is("Sun, 06 Nov 1994 08:49:37 GMT", 120000);
    after_is("Sunday, 06-Nov-94 08:49:37 GMT", 120000);
    after_is("Sun Nov  6 08:49:37 1994", 120000);
    after_is("Sun Nov 06 08:49:37 1994", 120000);
    after_is("Sun, 06 Nov 1994 08:50:37 GMT", 180000);
    after_is("Mon, 07 Nov 1994 08:47:37 GMT", 86400000);
    after_is("Sun, 06 Nov 1994 08:47:37 GMT", 0);      /* past */
    after_is("Sat, 05 Nov 1994 08:49:37 GMT", 0);
    after_is("Thu, 01 Jan 1970 00:00:00 GMT", 0);
    after_is("Sunday, 06-Nov-94 08:40:00 GMT", 0);
    after_is("Sun Nov  6 08:00:00 1994", 0);

    after_is("", -1);
    after_is("   ", -1);
    after_is("-5", -1);
    after_is("+5", -1);
    after_is("1.5", -1);
    after_is("5s", -1);
    after_is("soon", -1);
    after_is("Sun, 06 Nov 1994 08:49:37", -1);
    after_is("Sun, 06 Nov 1994 08:49:37 UTC", -1);
    after_is("Sun, 6 Nov 1994 08:49:37 GMT", -1);
    after_is("Sun, 06 Foo 1994 08:49:37 GMT", -1);
    after_is("Sun, 31 Nov 1994 08:49:37 GMT", -1);
    after_is("Sun, 06 Nov 1994 24:49:37 GMT", -1);
    after_is("Sun, 06 Nov 1994 08:49:37 GMT x", -1);
    after_is("Xyz, 06 Nov 1994 08:49:37 GMT", -1);
    after_is("Sunday, 06 Nov 1994 08:49:37 GMT", -1);
    after_is("Sun, 06-Nov-94 08:49:37 GMT", -1);
    after_is("Sun Nov 6 08:49:37 1994", -1);
    after_is("2024-01-01T00:00:00Z", -1);
}

/* RFC 850 two-digit years land within 50 years ahead of now. */
static void test_two_digit_year(void)
{
    int64_t now = 1704067200000LL, ms = -1;   /* 2024-01-01 */

    ok(retry_after_parse("Friday, 01-Mar-24 00:00:00 GMT", now, &ms) == 0 &&
       ms == 1709251200000LL - now, "'24' is 2024");
    ok(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", now, &ms) == 0 && ms == 0,
       "'94' is 1994, in the past");
}

int main(void)
{
    test_parse();
    test_delays();
    test_retry_after();
    test_after_parse();
    test_two_digit_year();
    return done_testing();
}
