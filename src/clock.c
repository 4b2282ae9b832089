/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.c - milliseconds since the epoch, RFC 3339 and durations.
 *
 * Civil dates convert to and from day numbers with Howard Hinnant's
 * days_from_civil / civil_from_days algorithms: pure integer arithmetic in
 * the proleptic Gregorian calendar, so there is no timegm(), no TZ lookup,
 * no locale and no shared state, and any thread may call anything here.
 */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"

#define MS_PER_DAY 86400000LL
#define MS_MIN (-62167219200000LL)   /* 0000-01-01T00:00:00.000Z */
#define MS_MAX 253402300799999LL     /* 9999-12-31T23:59:59.999Z */

static int64_t clock_read(clockid_t id, int64_t unit_ns)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * (1000000000LL / unit_ns) + ts.tv_nsec / unit_ns;
}

int64_t clock_now_ms(void)
{
    return clock_read(CLOCK_REALTIME, 1000000);
}

int64_t clock_mono_ms(void)
{
    return clock_read(CLOCK_MONOTONIC, 1000000);
}

int64_t clock_mono_us(void)
{
    return clock_read(CLOCK_MONOTONIC, 1000);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d (m 1-12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* n decimal digits of v, zero-padded, at p; returns the end. */
static char *put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

static char *put_field(char *p, int64_t v, int n, char sep)
{
    p = put_digits(p, v, n);
    *p = sep;
    return p + 1;
}

/*
 * RFC 3339 has four-digit years only, so times outside 0000-9999 are
 * clamped: the output always parses back, and never overflows out.
 */
void clock_format(int64_t ms, char out[CLOCK_RFC3339_MAX])
{
    if (ms < MS_MIN)
        ms = MS_MIN;
    if (ms > MS_MAX)
        ms = MS_MAX;
    int64_t days = floor_div(ms, MS_PER_DAY);
    int64_t rest = ms - days * MS_PER_DAY;
    int64_t y;
    int m, d;
    char *p = out;

    civil_from_days(days, &y, &m, &d);
    p = put_field(p, y, 4, '-');
    p = put_field(p, m, 2, '-');
    p = put_field(p, d, 2, 'T');
    p = put_field(p, rest / 3600000, 2, ':');
    p = put_field(p, rest / 60000 % 60, 2, ':');
    p = put_field(p, rest / 1000 % 60, 2, '.');
    p = put_field(p, rest % 1000, 3, 'Z');
    *p = '\0';
}

/* Exactly n digits at *p into *v; advances *p. */
static int digits(const char **p, int n, int *v)
{
    int x = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

static int expect(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* "YYYY-MM-DD" into days since the epoch. */
static int parse_date(const char **p, int64_t *days)
{
    int y, m, d;

    if (digits(p, 4, &y) || expect(p, '-') || digits(p, 2, &m) ||
        expect(p, '-') || digits(p, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    *days = days_from_civil(y, m, d);
    return 0;
}

/* "HH:MM:SS[.fff...]" into ms since midnight; 0-9 fraction digits. */
static int parse_time(const char **p, int64_t *ms)
{
    int h, mi, s, frac = 0, n = 0;

    if (digits(p, 2, &h) || expect(p, ':') || digits(p, 2, &mi) ||
        expect(p, ':') || digits(p, 2, &s))
        return -1;
    if (h > 23 || mi > 59 || s > 60)
        return -1;
    if (**p == '.') {
        (*p)++;
        for (; (*p)[0] >= '0' && (*p)[0] <= '9'; (*p)++, n++)
            if (n < 3)
                frac = frac * 10 + ((*p)[0] - '0');
        if (n < 1 || n > 9)
            return -1;
        for (int i = n; i < 3; i++)
            frac *= 10;
    }
    /* A leap second (:60) lands on the next minute's first second. */
    *ms = ((int64_t)h * 3600 + mi * 60 + s) * 1000 + frac;
    return 0;
}

/* "Z" or "+HH:MM" / "-HH:MM" into ms east of UTC. */
static int parse_offset(const char **p, int64_t *off)
{
    char sign = **p;
    int h, m;

    if (sign == 'Z' || sign == 'z') {
        (*p)++;
        *off = 0;
        return 0;
    }
    if (sign != '+' && sign != '-')
        return -1;
    (*p)++;
    if (digits(p, 2, &h) || expect(p, ':') || digits(p, 2, &m) || h > 23 || m > 59)
        return -1;
    *off = ((int64_t)h * 60 + m) * 60000 * (sign == '-' ? -1 : 1);
    return 0;
}

int clock_parse(const char *s, int64_t *ms)
{
    const char *p = s;
    int64_t days, tod, off;

    if (parse_date(&p, &days) < 0)
        return HOOKD_EINVAL;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return HOOKD_EINVAL;
    p++;
    if (parse_time(&p, &tod) < 0 || parse_offset(&p, &off) < 0 || *p != '\0')
        return HOOKD_EINVAL;
    *ms = days * MS_PER_DAY + tod - off;
    return 0;
}

static int64_t unit_ms(const char *u)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {
        {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000},
        {"h", 3600000}, {"d", MS_PER_DAY},
    };

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(units[i].name, u) == 0)
            return units[i].ms;
    return -1;
}

int clock_parse_duration(const char *s, int64_t *ms)
{
    int64_t n = 0, mult;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return HOOKD_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (INT64_MAX - 9) / 10)
            return HOOKD_EINVAL;
        n = n * 10 + (*p - '0');
    }
    mult = unit_ms(p);
    if (mult < 0 || n > INT64_MAX / mult)
        return HOOKD_EINVAL;
    *ms = n * mult;
    return 0;
}

void clock_deadline_us(clockid_t clk, int64_t us, struct timespec *ts)
{
    clock_gettime(clk, ts);
    ts->tv_sec += (time_t)(us / 1000000);
    ts->tv_nsec += (long)(us % 1000000) * 1000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void clock_deadline(clockid_t clk, int64_t ms, struct timespec *ts)
{
    clock_deadline_us(clk, ms * 1000, ts);
}
