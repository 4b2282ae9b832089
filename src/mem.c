/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static void (*oom_hook)(void);

void mem_set_oom_hook(void (*hook)(void))
{
    oom_hook = hook;
}

static void oom(size_t n)
{
    if (oom_hook)
        oom_hook();
    fprintf(stderr, "hookd: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        oom(count * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void *xmemdup(const void *p, size_t n)
{
    void *q = xmalloc(n);
    memcpy(q, p, n);
    return q;
}

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_release(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_grow(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    buf_grow(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

/*
 * Format into a stack buffer first: most lines fit, and the size it
 * reports makes the second pass exact. (vsnprintf(NULL, 0, ...) would do
 * the measuring too, but gcc's -Wformat-truncation flags it under
 * -fsanitize builds.)
 */
void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(small, sizeof(small), fmt, cp);
    va_end(cp);
    if (n < 0)
        return;
    buf_grow(b, (size_t)n);
    if ((size_t)n < sizeof(small))
        memcpy(b->data + b->len, small, (size_t)n + 1);
    else
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void buf_add_int(struct buf *b, int64_t v)
{
    char d[STR_INT_MAX];
    buf_add(b, d, str_int(d, v));
}

char *buf_detach(struct buf *b, size_t *len)
{
    if (!b->data)
        buf_grow(b, 0), b->data[0] = '\0';
    char *s = b->data;
    if (len)
        *len = b->len;
    buf_init(b);
    return s;
}

size_t utf8_seq(const void *s, size_t n)
{
    const unsigned char *p = s;
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
        return 0;   /* overlong, or a UTF-16 surrogate */
    if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
        return 0;   /* overlong, or beyond U+10FFFF */
    return len;
}

/* Plain bytes are copied in runs; only what needs escaping goes one by one. */
void buf_add_jstr(struct buf *b, const void *s, size_t n)
{
    const unsigned char *p = s, *end = p + n;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            p++;
        buf_add(b, run, (size_t)(p - run));
        if (p == end)
            break;
        size_t len;
        switch (*p) {
        case '"': buf_add(b, "\\\"", 2); p++; continue;
        case '\\': buf_add(b, "\\\\", 2); p++; continue;
        case '\n': buf_add(b, "\\n", 2); p++; continue;
        case '\r': buf_add(b, "\\r", 2); p++; continue;
        case '\t': buf_add(b, "\\t", 2); p++; continue;
        }
        if (*p < 0x20 || *p == 0x7f) {
            buf_addf(b, "\\u%04x", *p++);
        } else if ((len = utf8_seq(p, (size_t)(end - p))) == 0) {
            buf_add(b, "\xef\xbf\xbd", 3);   /* U+FFFD */
            p++;
        } else {
            buf_add(b, p, len);
            p += len;
        }
    }
}

size_t str_copy(char *dst, size_t cap, const char *src, const char *src2)
{
    if (cap == 0)
        return 0;
    /* libc's strnlen and memmove read words, not bytes: ids are 30 bytes */
    size_t n = strnlen(src, cap - 1);
    memmove(dst, src, n);
    if (src2) {
        size_t m = strnlen(src2, cap - 1 - n);
        memmove(dst + n, src2, m);
        n += m;
    }
    dst[n] = '\0';
    return n;
}

size_t str_int(char out[STR_INT_MAX], int64_t v)
{
    char rev[STR_INT_MAX];
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    size_t n = 0, len = 0;
    do
        rev[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = rev[--n];
    out[len] = '\0';
    return len;
}
