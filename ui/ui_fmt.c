/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_fmt.c - formatting for the console (see ui_fmt.h).
 *
 * The console prints bytes that come from strangers: payloads, receiver
 * responses, error texts. A terminal obeys escape sequences, so nothing
 * reaches the screen before ui_escape() has turned every control
 * character and every byte that is not valid UTF-8 into a visible \xNN.
 * The other helpers then only measure and cut text that is known clean.
 */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "ui_fmt.h"

void ui_fmt_count(char *out, size_t n, double v)
{
    if (v < 0 || isnan(v)) {
        snprintf(out, n, "-");
        return;
    }
    if (v >= 1e7) {
        const char *unit = v >= 1e9 ? "G" : "M";
        snprintf(out, n, "%.1f %s", v >= 1e9 ? v / 1e9 : v / 1e6, unit);
        return;
    }
    char digits[32], tmp[48];
    snprintf(digits, sizeof(digits), "%.0f", v);
    size_t len = strlen(digits), k = 0;
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            tmp[k++] = ',';
        tmp[k++] = digits[i];
    }
    tmp[k] = '\0';
    snprintf(out, n, "%s", tmp);
}

void ui_fmt_rate(char *out, size_t n, double per_s)
{
    char c[32];
    if (per_s > 0 && per_s < 9.95)
        snprintf(c, sizeof(c), "%.1f", per_s);
    else
        ui_fmt_count(c, sizeof(c), per_s < 0 ? 0 : per_s);
    snprintf(out, n, "%s/s", c);
}

void ui_fmt_ms(char *out, size_t n, double ms)
{
    if (ms < 0 || isnan(ms))
        snprintf(out, n, "-");
    else if (ms < 9.95)
        snprintf(out, n, "%.1f ms", ms);
    else if (ms < 999.5)
        snprintf(out, n, "%.0f ms", ms);
    else if (ms < 59950)
        snprintf(out, n, "%.1f s", ms / 1000);
    else
        snprintf(out, n, "%d m %02d s", (int)(ms / 60000), (int)(ms / 1000) % 60);
}

void ui_fmt_bytes(char *out, size_t n, double bytes)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
    if (bytes < 1024) {
        snprintf(out, n, "%.0f B", bytes < 0 ? 0 : bytes);
        return;
    }
    int u = -1;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(out, n, bytes < 9.95 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

void ui_fmt_uptime(char *out, size_t n, double seconds)
{
    long s = seconds < 0 ? 0 : (long)seconds;
    long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
    if (s < 60)
        snprintf(out, n, "%ld s", s);
    else if (s < 3600)
        snprintf(out, n, "%02ld:%02ld", m, s % 60);
    else if (d == 0)
        snprintf(out, n, "%02ld:%02ld:%02ld", h, m, s % 60);
    else
        snprintf(out, n, "%ldd %02ld:%02ld", d, h, m);
}

void ui_fmt_age(char *out, size_t n, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (ms < 9950)
        snprintf(out, n, "%.1f s", (double)ms / 1000);
    else if (ms < 120000)
        snprintf(out, n, "%lld s", (long long)(ms / 1000));
    else if (ms < 7200000)
        snprintf(out, n, "%lld min", (long long)(ms / 60000));
    else if (ms < 172800000)
        snprintf(out, n, "%lld h", (long long)(ms / 3600000));
    else
        snprintf(out, n, "%lld d", (long long)(ms / 86400000));
}

void ui_fmt_clock(char *out, size_t n, int64_t wall_ms, int64_t now_ms)
{
    if (wall_ms <= 0) {
        snprintf(out, n, "-");
        return;
    }
    time_t t = (time_t)(wall_ms / 1000), now = (time_t)(now_ms / 1000);
    struct tm tm, tn;
    localtime_r(&t, &tm);
    localtime_r(&now, &tn);
    if (tm.tm_year == tn.tm_year && tm.tm_yday == tn.tm_yday)
        strftime(out, n, "%H:%M:%S", &tm);
    else
        strftime(out, n, "%m-%d %H:%M", &tm);
}

void ui_fmt_clock_ms(char *out, size_t n, int64_t wall_ms)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    char hms[16];
    localtime_r(&t, &tm);
    strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03d", hms, (int)(wall_ms % 1000));
}

/* Decode one UTF-8 sequence strictly; returns its length or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t len, unsigned *cp)
{
    size_t need;
    unsigned c = s[0], min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0)
        need = 2, c &= 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        need = 3, c &= 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        need = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    if (len < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return need;
}

/* Code points a terminal would act on or hide rather than show. */
static int invisible(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0xad
           || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e)
           || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff
           || (cp >= 0xfff9 && cp <= 0xfffb) || wcwidth((wchar_t)cp) < 0;
}

static void add_hex(struct buf *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_addf(out, "\\x%02X", p[i]);
}

void ui_escape(struct buf *out, const char *s, size_t len, int utf8, int tab_to_space)
{
    const unsigned char *p = (const unsigned char *)s;
    buf_add(out, "", 0);   /* allocated and terminated even when s is empty */
    size_t i = 0;
    while (i < len) {
        unsigned cp;
        size_t k = utf8_decode(p + i, len - i, &cp);
        if (k == 0) {
            add_hex(out, p + i, 1);
            i++;
            continue;
        }
        if (cp == '\t' && tab_to_space)
            buf_addc(out, ' ');
        else if (invisible(cp) || (cp >= 0x80 && !utf8))
            add_hex(out, p + i, k);
        else
            buf_add(out, p + i, k);
        i += k;
    }
}

/* Columns of one code point of escaped text (unknown widths count 1). */
static int cp_width(unsigned cp)
{
    if (cp < 0x80)
        return 1;
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : w;
}

int ui_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    int w = 0;
    while (i < len) {
        unsigned cp;
        size_t k = utf8_decode(p + i, len - i, &cp);
        w += k ? cp_width(cp) : 1;
        i += k ? k : 1;
    }
    return w;
}

/* Bytes of s that fit in width columns. */
static size_t prefix_fitting(const char *s, int width, int *used)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    int w = 0;
    while (i < len) {
        unsigned cp;
        size_t k = utf8_decode(p + i, len - i, &cp);
        int cw = k ? cp_width(cp) : 1;
        if (w + cw > width)
            break;
        w += cw;
        i += k ? k : 1;
    }
    *used = w;
    return i;
}

size_t ui_prefix(const char *s, int width)
{
    int used;
    return prefix_fitting(s, width, &used);
}

static void pad(struct buf *out, int n)
{
    for (int i = 0; i < n; i++)
        buf_addc(out, ' ');
}

void ui_fit(struct buf *out, const char *s, int width, int right)
{
    if (width <= 0)
        return;
    int w = ui_width(s);
    if (w <= width) {
        if (right)
            pad(out, width - w);
        buf_adds(out, s);
        if (!right)
            pad(out, width - w);
        return;
    }
    int dots = width >= 4 ? 2 : 0, used;
    size_t k = prefix_fitting(s, width - dots, &used);
    buf_add(out, s, k);
    buf_add(out, "..", (size_t)dots);
    pad(out, width - dots - used);
}

void ui_fit_mid(struct buf *out, const char *s, int width)
{
    int w = ui_width(s);
    if (width < 8 || w <= width) {
        ui_fit(out, s, width, 0);
        return;
    }
    /* the head names the host, the tail (the longer part) tells the rows apart */
    int head = (width - 2) / 3, used;
    size_t k = prefix_fitting(s, head, &used);
    buf_add(out, s, k);
    buf_adds(out, "..");
    int room = width - 2 - used, rest = w;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    while (i < len && rest > room) {
        unsigned cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        rest -= n ? cp_width(cp) : 1;
        i += n ? n : 1;
    }
    buf_adds(out, s + i);
    pad(out, room - rest);
}

char **ui_lines(const char *s, size_t len, int utf8, size_t *count)
{
    size_t n = 1, k = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    char **v = xcalloc(n + 1, sizeof(char *));
    struct buf line = BUF_INIT;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '\n')
            continue;
        size_t end = i;
        if (end > start && s[end - 1] == '\r')
            end--;
        buf_reset(&line);
        size_t seg = start;
        for (size_t j = start; j <= end; j++) {
            if (j < end && s[j] != '\t')
                continue;
            ui_escape(&line, s + seg, j - seg, utf8, 0);
            if (j < end)
                pad(&line, 4 - ui_width(line.data) % 4);
            seg = j + 1;
        }
        v[k++] = xstrdup(line.data ? line.data : "");
        start = i + 1;
    }
    buf_release(&line);
    if (count)
        *count = k;
    return v;
}

void ui_lines_free(char **lines)
{
    for (char **p = lines; p && *p; p++)
        free(*p);
    free(lines);
}

int ui_sparkline(const double *v, int n, int width, int *levels)
{
    if (width <= 0)
        return 0;
    int per = n <= width ? 1 : (n + width - 1) / width;
    int cols = (n + per - 1) / per;
    double col[width], max = 0;
    if (cols > width)
        cols = width;
    for (int c = 0; c < cols; c++) {
        int end = n - c * per, beg = end - per < 0 ? 0 : end - per;
        double sum = 0;
        for (int i = beg; i < end; i++)
            sum += v[i] > 0 ? v[i] : 0;
        col[width - 1 - c] = sum / (end - beg);
        if (col[width - 1 - c] > max)
            max = col[width - 1 - c];
    }
    for (int c = 0; c < width; c++) {
        if (c < width - cols)
            levels[c] = -1;
        else if (max <= 0 || col[c] <= 0)
            levels[c] = 0;
        else
            levels[c] = 1 + (int)(col[c] / max * 6 + 0.5);
    }
    return cols;
}

int ui_glob(const char *pattern, const char *text)
{
    if (!strpbrk(pattern, "*?["))
        return strcmp(pattern, text) == 0;
    return fnmatch(pattern, text, 0) == 0;
}

void ui_url_escape(struct buf *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
            || strchr("-._~", *p))
            buf_addc(out, (char)*p);
        else
            buf_addf(out, "%%%02X", *p);
    }
}
