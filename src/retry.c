/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retry.c - the retry schedule, jitter and Retry-After (API.md 6).
 *
 * Jitter is +-20 % of the scheduled delay so that a receiver that fails a
 * burst of deliveries at once does not get the retries back as a burst.
 * Retry-After only ever moves a retry within [scheduled, 2 x scheduled]:
 * a receiver can ask us to back off, but not to hammer it sooner than the
 * schedule says, nor to park a delivery for a week.
 *
 * HTTP dates are parsed by hand (month and day names compared against our
 * own tables) rather than with strptime(), whose %a and %b follow the
 * process locale; the civil date then goes through clock_parse(), which
 * owns calendar arithmetic and validation. Everything here is pure and
 * thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "err.h"
#include "retry.h"

#define MAX_DELAY_S (365LL * 86400)  /* cap on any Retry-After we honour */

int retry_parse(const char *spec, struct retry_schedule *out)
{
    int64_t ms[RETRY_MAX];
    int n = config_parse_schedule(spec, ms, RETRY_MAX);

    if (n < 0)
        return HOOKD_EINVAL;
    out->n = n;
    memcpy(out->delay_ms, ms, (size_t)n * sizeof(ms[0]));
    return 0;
}

/*
 * attempts < 1 is a caller bug; it is treated as 1 so the delivery still
 * gets its retries instead of being final-failed.
 */
int64_t retry_next_delay(const struct retry_schedule *s, int attempts, int status,
                         const char *retry_after, int64_t now_ms, double rnd)
{
    int64_t base, lo, hi, d, ra;

    if (attempts < 1)
        attempts = 1;
    if (attempts > s->n)
        return -1;
    base = s->delay_ms[attempts - 1];
    if (base < 0)
        base = 0;
    if (base > INT64_MAX / 2)
        base = INT64_MAX / 2;
    if (!(rnd >= 0.0))          /* also catches NaN */
        rnd = 0.0;
    if (rnd > 1.0)
        rnd = 1.0;
    d = (int64_t)((double)base * (0.8 + 0.4 * rnd));
    if ((status == 429 || status == 503) && retry_after &&
        retry_after_parse(retry_after, now_ms, &ra) == 0) {
        lo = base;
        hi = 2 * base;
        if (ra > hi)
            ra = hi;
        if (ra > d)
            d = ra;
        d = d < lo ? lo : d > hi ? hi : d;
    }
    return d;
}

/* ---- HTTP-date (RFC 9110 5.6.7) ---- */

struct hdate {
    int year, mon, day, hour, min, sec;
};

static const char *const month_names[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const day_short[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const day_long[7] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};

/* ASCII-only case-insensitive prefix match; advances *p on success. */
static int match_word(const char **p, const char *w)
{
    size_t i;

    for (i = 0; w[i]; i++) {
        char c = (*p)[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        char x = w[i] >= 'a' && w[i] <= 'z' ? (char)(w[i] - 'a' + 'A') : w[i];
        if (c != x)
            return 0;
    }
    *p += i;
    return 1;
}

/* Index of the word of table that *p starts with, or -1. */
static int match_table(const char **p, const char *const *table, int n)
{
    for (int i = 0; i < n; i++)
        if (match_word(p, table[i]))
            return i;
    return -1;
}

static int lit(const char **p, const char *s)
{
    size_t n = strlen(s);

    if (strncmp(*p, s, n) != 0)
        return -1;
    *p += n;
    return 0;
}

/* " GMT", in any case like the names. */
static int gmt(const char **p)
{
    return match_word(p, " GMT") ? 0 : -1;
}

/* Exactly n digits. */
static int num(const char **p, int n, int *v)
{
    int x = 0;

    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

static int month(const char **p, int *mon)
{
    int m = match_table(p, month_names, 12);

    if (m < 0)
        return -1;
    *mon = m + 1;
    return 0;
}

/* "HH:MM:SS" */
static int time_of_day(const char **p, struct hdate *t)
{
    return num(p, 2, &t->hour) || lit(p, ":") || num(p, 2, &t->min) ||
           lit(p, ":") || num(p, 2, &t->sec) ? -1 : 0;
}

/* IMF-fixdate after "Sun, ": "06 Nov 1994 08:49:37 GMT" */
static int imf_fixdate(const char *p, struct hdate *t)
{
    if (num(&p, 2, &t->day) || lit(&p, " ") || month(&p, &t->mon) || lit(&p, " ") ||
        num(&p, 4, &t->year) || lit(&p, " ") || time_of_day(&p, t) || gmt(&p))
        return -1;
    return *p ? -1 : 0;
}

/*
 * RFC 850 after "Sunday, ": "06-Nov-94 08:49:37 GMT". A two-digit year is
 * the one in the century that puts it no more than 50 years ahead of now
 * (RFC 9110 5.6.7).
 */
static int rfc850(const char *p, int now_year, struct hdate *t)
{
    int yy;

    if (num(&p, 2, &t->day) || lit(&p, "-") || month(&p, &t->mon) || lit(&p, "-") ||
        num(&p, 2, &yy) || lit(&p, " ") || time_of_day(&p, t) || gmt(&p) || *p)
        return -1;
    t->year = now_year - now_year % 100 + yy;
    if (t->year > now_year + 50)
        t->year -= 100;
    return 0;
}

/* asctime after "Sun ": "Nov  6 08:49:37 1994" (day space- or 0-padded). */
static int asctime_date(const char *p, struct hdate *t)
{
    if (month(&p, &t->mon) || lit(&p, " "))
        return -1;
    if (*p == ' ') {
        p++;
        if (num(&p, 1, &t->day))
            return -1;
    } else if (num(&p, 2, &t->day)) {
        return -1;
    }
    if (lit(&p, " ") || time_of_day(&p, t) || lit(&p, " ") || num(&p, 4, &t->year))
        return -1;
    return *p ? -1 : 0;
}

static int http_date(const char *p, int64_t now_ms, int64_t *ms)
{
    struct hdate t = {0, 0, 0, 0, 0, 0};
    char iso[CLOCK_RFC3339_MAX];
    int rc = -1;

    if (match_table(&p, day_long, 7) >= 0) {
        if (lit(&p, ", ") == 0) {
            clock_format(now_ms, iso);
            rc = rfc850(p, (iso[0] - '0') * 1000 + (iso[1] - '0') * 100 +
                               (iso[2] - '0') * 10 + (iso[3] - '0'), &t);
        }
    } else if (match_table(&p, day_short, 7) >= 0) {
        if (lit(&p, ", ") == 0)
            rc = imf_fixdate(p, &t);
        else if (lit(&p, " ") == 0)
            rc = asctime_date(p, &t);
    }
    if (rc < 0 || t.year < 0 || t.year > 9999)
        return HOOKD_EINVAL;
    snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ",
             t.year, t.mon, t.day, t.hour, t.min, t.sec);
    return clock_parse(iso, ms);
}

int retry_after_parse(const char *v, int64_t now_ms, int64_t *delay_ms)
{
    char tmp[64];
    size_t n;
    int64_t secs = 0, at;

    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(tmp))
        return HOOKD_EINVAL;
    memcpy(tmp, v, n);
    tmp[n] = '\0';

    if (tmp[0] >= '0' && tmp[0] <= '9') {
        for (const char *p = tmp; *p; p++) {
            if (*p < '0' || *p > '9')
                return HOOKD_EINVAL;
            if (secs < MAX_DELAY_S)
                secs = secs * 10 + (*p - '0');
        }
        *delay_ms = (secs < MAX_DELAY_S ? secs : MAX_DELAY_S) * 1000;
        return 0;
    }
    if (http_date(tmp, now_ms, &at) < 0)
        return HOOKD_EINVAL;
    at -= now_ms;
    *delay_ms = at < 0 ? 0 : at > MAX_DELAY_S * 1000 ? MAX_DELAY_S * 1000 : at;
    return 0;
}
