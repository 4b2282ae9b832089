/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jscan.c - recursive descent over the fast-path subset of JSON, and the
 * number mask (jscan.h).
 *
 * The scanner only reads: members are offsets into the caller's text, so
 * the payload a producer sent is kept byte for byte. Whatever falls
 * outside the subset, valid JSON or not, ends the scan with -1; deciding
 * which of the two it was is jansson's job on the slow path.
 */
#include <stdint.h>
#include <string.h>

#include "jscan.h"

struct scan {
    const char *p, *end;
    const char *base;         /* the text's start: offsets are from here */
    int depth, max_depth;
};

static int peek(const struct scan *s)
{
    return s->p < s->end ? (unsigned char)*s->p : -1;
}

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Take one expected byte; -1 when the input has another. */
static int expect(struct scan *s, char c)
{
    if (peek(s) != c)
        return -1;
    s->p++;
    return 0;
}

/* Printable ASCII but '"' and '\\': bytes a string copies as they are. */
static int plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Some byte of x is zero (exact as a yes or no; which byte may be off). */
static uint64_t has_zero(uint64_t x)
{
    return (x - ONES) & ~x & HIGHS;
}

/*
 * Some byte of the 8 in v is not plain(): a control byte, '"', '\\',
 * DEL or a byte >= 0x80. Payload strings are long runs of plain bytes,
 * and testing a word at a time finds the end of a run several times
 * faster than a byte at a time; the byte loop then finds where.
 */
static int word_special(uint64_t v)
{
    return ((v & HIGHS) | ((v - ONES * 0x20) & ~v & HIGHS) | has_zero(v ^ (ONES * '"'))
            | has_zero(v ^ (ONES * '\\')) | has_zero(v ^ (ONES * 0x7f))) != 0;
}

static void skip_plain(struct scan *s)
{
    uint64_t v;
    while (s->end - s->p >= 8 && (memcpy(&v, s->p, 8), !word_special(v)))
        s->p += 8;
    while (s->p < s->end && plain((unsigned char)*s->p))
        s->p++;
}

/* Escapes whose meaning needs no checking; none in keys (duplicates compare bytes). */
static int scan_string(struct scan *s, int is_key)
{
    s->p++;
    for (;;) {
        skip_plain(s);
        if (s->p == s->end)
            return -1;
        char c = *s->p++;
        if (c == '"')
            return 0;
        if (c != '\\')
            return -1;    /* control bytes are errors, UTF-8 needs checking */
        if (is_key || s->p == s->end || !*s->p || !strchr("\"\\/bfnrt", *s->p))
            return -1;
        s->p++;
    }
}

static const char *digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

size_t jscan_number_len(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && *q == '-')
        q++;
    if (q == end || *q < '0' || *q > '9')
        return 0;
    q = *q == '0' ? q + 1 : digits(q, end);
    if (q < end && *q == '.') {
        const char *f = digits(q + 1, end);
        if (f == q + 1)
            return 0;
        q = f;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        const char *e = q + 1;
        if (e < end && (*e == '+' || *e == '-'))
            e++;
        const char *x = digits(e, end);
        if (x == e)
            return 0;
        q = x;
    }
    return (size_t)(q - p);
}

/* Any number the grammar allows: it is kept as written, never reprinted. */
static int scan_number(struct scan *s)
{
    size_t n = jscan_number_len(s->p, s->end);
    s->p += n;
    return n ? 0 : -1;
}

static int scan_literal(struct scan *s, const char *lit, size_t len)
{
    if ((size_t)(s->end - s->p) < len || memcmp(s->p, lit, len) != 0)
        return -1;
    s->p += len;
    return 0;
}

static int scan_object(struct scan *s, struct jscan_member *top);
static int scan_array(struct scan *s);

static int scan_value(struct scan *s)
{
    switch (peek(s)) {
    case '{': return scan_object(s, NULL) < 0 ? -1 : 0;
    case '[': return scan_array(s);
    case '"': return scan_string(s, 0);
    case 't': return scan_literal(s, "true", 4);
    case 'f': return scan_literal(s, "false", 5);
    case 'n': return scan_literal(s, "null", 4);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return scan_number(s);
    }
    return -1;
}

/* After an element: ',' (1, more follow), the closing byte (0), else -1. */
static int next_element(struct scan *s, char close)
{
    skip_ws(s);
    if (expect(s, ',') == 0) {
        skip_ws(s);
        return 1;
    }
    return expect(s, close);
}

static int enter(struct scan *s)
{
    if (++s->depth > s->max_depth)
        return -1;
    s->p++;
    skip_ws(s);
    return 0;
}

static int scan_array(struct scan *s)
{
    if (enter(s))
        return -1;
    int more = expect(s, ']') ? 1 : 0;
    while (more == 1) {
        if (scan_value(s))
            return -1;
        more = next_element(s, ']');
    }
    s->depth--;
    return more;
}

/* Keys carry no escapes here, so equal bytes are equal keys. */
static int is_dup(const struct scan *s, const struct jscan_member *k, int nk, size_t at,
                  size_t len)
{
    for (int i = 0; i < nk; i++)
        if (k[i].klen == len && memcmp(s->base + k[i].key, s->base + at, len) == 0)
            return 1;
    return 0;
}

/* The members' offsets go to top when given; returns their count or -1. */
static int scan_object(struct scan *s, struct jscan_member *top)
{
    struct jscan_member local[JSCAN_MAX_KEYS], *k = top ? top : local;
    int nk = 0;
    if (enter(s))
        return -1;
    int more = expect(s, '}') ? 1 : 0;
    while (more == 1) {
        if (peek(s) != '"' || nk == JSCAN_MAX_KEYS)
            return -1;
        size_t at = (size_t)(s->p - s->base) + 1;
        if (scan_string(s, 1))
            return -1;
        k[nk].key = at;
        k[nk].klen = (size_t)(s->p - s->base) - 1 - at;
        if (is_dup(s, k, nk, at, k[nk].klen))
            return -1;
        skip_ws(s);
        if (expect(s, ':'))
            return -1;
        skip_ws(s);
        k[nk].val = (size_t)(s->p - s->base);
        if (scan_value(s))
            return -1;
        k[nk].vlen = (size_t)(s->p - s->base) - k[nk].val;
        nk++;
        more = next_element(s, '}');
    }
    s->depth--;
    return more < 0 ? -1 : nk;
}

int jscan_object(const char *text, size_t n, int max_depth, struct jscan_member *m)
{
    struct scan s = { text, text + n, text, 0,
                      max_depth < JSCAN_MAX_DEPTH ? max_depth : JSCAN_MAX_DEPTH };
    skip_ws(&s);
    if (peek(&s) != '{')
        return -1;
    int nm = scan_object(&s, m);
    skip_ws(&s);
    if (nm < 0 || s.p != s.end)
        return -1;
    return nm;
}

/* --- the mask ------------------------------------------------------------------ */

struct mask {
    const char *s, *p, *end;
    char *o;
    int depth;
    int want_key;             /* depth 1, where a key comes next */
    int in_payload;           /* between the payload value's start and its end */
    struct jscan_span *payload;
};

static int is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* A string, copied as it is; a depth-1 key "payload" starts the payload value. */
static void mask_string(struct mask *m)
{
    const char *start = m->p++;
    while (m->p < m->end && *m->p != '"')
        m->p += *m->p == '\\' && m->p + 1 < m->end ? 2 : 1;
    if (m->p < m->end)
        m->p++;
    size_t len = (size_t)(m->p - start);
    memcpy(m->o, start, len);
    m->o += len;
    if (!m->want_key)
        return;
    m->want_key = 0;
    if (len != 9 || memcmp(start, "\"payload\"", 9) != 0 || m->payload->found)
        return;
    const char *q = m->p;
    while (q < m->end && is_ws(*q))
        q++;
    if (q == m->end || *q != ':')
        return;
    for (q++; q < m->end && is_ws(*q); q++)
        ;
    m->payload->found = 1;
    m->payload->at = (size_t)(q - m->s);
    m->in_payload = 1;
}

/* The run of number bytes at p: blanked when it is one valid number. */
static void mask_number(struct mask *m, int all)
{
    const char *start = m->p;
    while (m->p < m->end && strchr("0123456789+-.eE", *m->p) && *m->p)
        m->p++;
    size_t len = (size_t)(m->p - start);
    if ((all || m->in_payload) && jscan_number_len(start, m->p) == len) {
        *m->o = '0';
        memset(m->o + 1, ' ', len - 1);
    } else {
        memcpy(m->o, start, len);
    }
    m->o += len;
}

/* The payload value ends before the ',' or '}' that closes it at depth 1. */
static void payload_end(struct mask *m)
{
    const char *q = m->p;
    while (q > m->s + m->payload->at && is_ws(q[-1]))
        q--;
    m->payload->len = (size_t)(q - m->s) - m->payload->at;
    m->in_payload = 0;
}

void jscan_mask(const char *s, size_t n, int all, char *out, struct jscan_span *payload)
{
    struct mask m = { s, s, s + n, out, 0, 0, 0, payload };
    *payload = (struct jscan_span){ 0 };
    while (m.p < m.end) {
        char c = *m.p;
        if (c == '"') {
            mask_string(&m);
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            mask_number(&m, all);
            continue;
        }
        if (m.depth == 1 && (c == ',' || c == '}') && m.in_payload)
            payload_end(&m);
        if (c == '{' || c == '[')
            m.depth++;
        else if (c == '}' || c == ']')
            m.depth--;
        if ((c == '{' || c == ',') && m.depth == 1)
            m.want_key = 1;
        *m.o++ = *m.p++;
    }
    if (m.in_payload)
        payload_end(&m);
    *m.o = '\0';
}
