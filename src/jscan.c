/*
 * jscan.c - recursive descent over the fast-path subset of JSON (jscan.h).
 *
 * Every token of the subset prints in jansson exactly as it was written,
 * so the compact text is the input with whitespace dropped: the scanner
 * copies tokens to the output as it checks them. Whatever falls outside
 * the subset, valid JSON or not, ends the scan with -1; deciding which of
 * the two it was is jansson's job on the slow path.
 */
#include <stdint.h>
#include <string.h>

#include "jscan.h"

struct scan {
    const char *p, *end;
    char *base, *o;           /* output start and cursor */
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

/* Copy one expected byte; -1 when the input has another. */
static int expect(struct scan *s, char c)
{
    if (peek(s) != c)
        return -1;
    *s->o++ = *s->p++;
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

/* Escapes that jansson decodes and prints back the same; none in keys. */
static int scan_string(struct scan *s, int is_key)
{
    *s->o++ = *s->p++;
    for (;;) {
        const char *run = s->p;
        skip_plain(s);
        memcpy(s->o, run, (size_t)(s->p - run));   /* long runs: one copy */
        s->o += s->p - run;
        if (s->p == s->end)
            return -1;
        char c = *s->o++ = *s->p++;
        if (c == '"')
            return 0;
        if (c != '\\')
            return -1;    /* control bytes are errors, UTF-8 needs checking */
        if (is_key || s->p == s->end || !*s->p || !strchr("\"\\bfnrt", *s->p))
            return -1;
        *s->o++ = *s->p++;
    }
}

/* Integers only: jansson reprints reals (%.17g) and turns -0 into 0. */
static int scan_number(struct scan *s)
{
    const char *start = s->p;
    if (*s->p == '-')
        s->p++;
    const char *digits = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    size_t nd = (size_t)(s->p - digits);
    if (nd == 0 || nd > 18 || (digits[0] == '0' && (nd > 1 || digits > start)))
        return -1;
    int c = peek(s);
    if (c == '.' || c == 'e' || c == 'E')
        return -1;
    memcpy(s->o, start, (size_t)(s->p - start));
    s->o += s->p - start;
    return 0;
}

static int scan_literal(struct scan *s, const char *lit, size_t len)
{
    if ((size_t)(s->end - s->p) < len || memcmp(s->p, lit, len) != 0)
        return -1;
    memcpy(s->o, lit, len);
    s->o += len;
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
    *s->o++ = *s->p++;
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
        size_t at = (size_t)(s->o - s->base) + 1;
        if (scan_string(s, 1))
            return -1;
        k[nk].key = at;
        k[nk].klen = (size_t)(s->o - s->base) - 1 - at;
        if (is_dup(s, k, nk, at, k[nk].klen))
            return -1;
        skip_ws(s);
        if (expect(s, ':'))
            return -1;
        skip_ws(s);
        k[nk].val = (size_t)(s->o - s->base);
        if (scan_value(s))
            return -1;
        k[nk].vlen = (size_t)(s->o - s->base) - k[nk].val;
        nk++;
        more = next_element(s, '}');
    }
    s->depth--;
    return more < 0 ? -1 : nk;
}

int jscan_object(const char *text, size_t n, int max_depth, char *out, struct jscan_member *m)
{
    struct scan s = { text, text + n, out, out, 0,
                      max_depth < JSCAN_MAX_DEPTH ? max_depth : JSCAN_MAX_DEPTH };
    skip_ws(&s);
    if (peek(&s) != '{')
        return -1;
    int nm = scan_object(&s, m);
    skip_ws(&s);
    if (nm < 0 || s.p != s.end)
        return -1;
    *s.o = '\0';
    return nm;
}
