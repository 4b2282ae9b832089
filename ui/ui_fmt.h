/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_fmt.h - the console's formatting helpers: numbers, durations, sizes,
 * ages and clock times as an operator reads them, fitting text into a
 * column, escaping untrusted bytes, and sparkline levels.
 *
 * Pure functions without curses or globals (wcwidth() follows the
 * locale the caller set). Any thread may call them. Functions that take
 * (char *out, size_t n) always NUL-terminate and truncate to n.
 */
#ifndef HOOKD_UI_FMT_H
#define HOOKD_UI_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* Counts with thousands separators: 1204 -> "1,204"; from 10 M on "12.4 M". */
void ui_fmt_count(char *out, size_t n, double v);
/* Rates per second: "1,204/s", "6/s", "0.4/s", "0/s". */
void ui_fmt_rate(char *out, size_t n, double per_s);
/* Milliseconds: "0.4 ms", "3.1 ms", "31 ms", "1.2 s", "15.0 s", "2 m 05 s". */
void ui_fmt_ms(char *out, size_t n, double ms);
/* Bytes in binary units: "512 B", "1.5 KiB", "1.8 GiB". */
void ui_fmt_bytes(char *out, size_t n, double bytes);
/* Uptime: "42 s", "12:04", "04:12:09", "3d 04:12". */
void ui_fmt_uptime(char *out, size_t n, double seconds);
/* An age: "0.4 s", "12 s", "5 min", "2 h", "3 d". Negative reads as 0. */
void ui_fmt_age(char *out, size_t n, int64_t ms);
/* Local wall time: "12:04:31" for today, "05-01 12:04" for older, "-" for 0. */
void ui_fmt_clock(char *out, size_t n, int64_t wall_ms, int64_t now_ms);
/* Local wall time with milliseconds: "12:04:31.114". */
void ui_fmt_clock_ms(char *out, size_t n, int64_t wall_ms);

/*
 * Escape untrusted bytes for the terminal: control characters (C0, DEL,
 * C1), invalid or overlong UTF-8, and invisible format characters (bidi
 * overrides, zero-width marks) become \xNN per byte. With utf8 == 0 every
 * non-ASCII byte is escaped too. Tabs become \x09 unless tab_to_space.
 * Appends to out.
 */
void ui_escape(struct buf *out, const char *s, size_t len, int utf8, int tab_to_space);

/* Display width in columns of already escaped (valid, printable) UTF-8. */
int ui_width(const char *s);

/* Bytes of escaped s that fit in width columns. */
size_t ui_prefix(const char *s, int width);

/*
 * Append s to out in exactly width columns: padded with spaces, or cut
 * with ".." when it does not fit. right != 0 aligns right. s must be
 * escaped already. width <= 0 appends nothing.
 */
void ui_fit(struct buf *out, const char *s, int width, int right);

/*
 * Like ui_fit (left-aligned), but a string too long is cut in the middle:
 * "127.0..1/x/status/500", so URLs that share a host stay apart.
 */
void ui_fit_mid(struct buf *out, const char *s, int width);

/* Split text into lines (\n, \r\n), expand tabs, escape each line.
 * Returns a NULL-terminated array of heap strings; free with ui_lines_free. */
char **ui_lines(const char *s, size_t len, int utf8, size_t *count);
void ui_lines_free(char **lines);

/*
 * Sparkline levels for the newest samples of v[0..n) (oldest first) in
 * width columns: one sample per column while they fit, else the mean of
 * ceil(n / width) samples per column, newest at the right. Levels run
 * 0..7 scaled to the largest column (0 for a zero rate); columns without
 * data are -1. Returns the number of columns that carry data.
 */
int ui_sparkline(const double *v, int n, int width, int *levels);

/* Does text match a shell-style glob (fnmatch) or, without '*?[', equal it? */
int ui_glob(const char *pattern, const char *text);

/* Append s percent-encoded for a URL path segment or query value. */
void ui_url_escape(struct buf *out, const char *s);

#endif
