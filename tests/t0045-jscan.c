/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0045-jscan: the JSON fast path against jansson. Whenever
 * jscan_object() takes a text, jansson must load it (rejecting
 * duplicates) once its numbers are masked (jansson cannot hold 1e400),
 * with the same members at the offsets jscan reports, values as written;
 * checked on hand-written cases and on random texts, many of them
 * mutated into invalid JSON. The mask itself: numbers blanked in place,
 * the payload value found. Also the writing side: buf_add_jstr() always
 * gives a JSON string jansson loads back to the same text, with U+FFFD
 * for bytes that are not UTF-8. And the hot paths' printf stand-ins,
 * str_int() and str_copy().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jscan.h"
#include "mem.h"
#include "tap/tap.h"

/* jansson's reading of s[0..n) with every number masked to 0. */
static json_t *load_masked(const char *s, size_t n, size_t flags)
{
    char *m = malloc(n + 1);
    struct jscan_span sp;
    jscan_mask(s, n, 1, m, &sp);
    json_t *j = json_loadb(m, n, flags, NULL);
    free(m);
    return j;
}

static int is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Each member's key and value are where jscan says, as written. */
static int members_agree(const char *s, json_t *j, const struct jscan_member *m, int nm)
{
    for (int i = 0; i < nm; i++) {
        char *key = strndup(s + m[i].key, m[i].klen);
        json_t *want = json_object_get(j, key);
        json_t *got = load_masked(s + m[i].val, m[i].vlen, JSON_DECODE_ANY);
        int ok = want && got && json_equal(want, got) && m[i].vlen
                 && !is_space(s[m[i].val]) && !is_space(s[m[i].val + m[i].vlen - 1]);
        json_decref(got);
        free(key);
        if (!ok)
            return 0;
    }
    return 1;
}

/* 1 when jscan's verdict on s is safe: slow, or jansson's reading exactly. */
static int agrees(const char *s, int max_depth, int *fast)
{
    size_t n = strlen(s);
    struct jscan_member m[JSCAN_MAX_KEYS];
    int nm = jscan_object(s, n, max_depth, m);
    *fast = nm >= 0;
    int ok = 1;
    if (nm >= 0) {
        json_t *j = load_masked(s, n, JSON_REJECT_DUPLICATES);
        ok = j && json_is_object(j) && (int)json_object_size(j) == nm
             && members_agree(s, j, m, nm);
        if (!ok)
            diag("jscan took '%s', jansson %s", s, j ? "reads it otherwise" : "refuses it");
        json_decref(j);
    }
    return ok;
}

static void test_cases(void)
{
    static const char *fast[] = {
        "{}", " { } ", "{\"a\":1}", "{\"a\" : [1, -2, 0, true, false, null, \"x\"]}",
        "{\"a\":{\"b\":{\"c\":[]}},\"d\":\"q\\\"\\\\\\n\\t\\r\\b\\f\\/\"}\n",
        "{\"n\":123456789012345678,\"m\":-123456789012345678}",
        "{\"a\":1.5}", "{\"a\":1e3}", "{\"a\":-0}", "{\"a\":-0.0}", "{\"a\":1E+2}",
        "{\"a\":19.99}", "{\"a\":1e400}", "{\"a\":123456789012345678901234567890}",
        "{\"a\":-1.5e-7}",
    };
    static const char *slow[] = {
        "", "[]", "1", "{", "{\"a\":1", "{\"a\":1}x", "{\"a\":1,}", "{\"a\" 1}", "{a:1}",
        "{\"a\":1,\"a\":2}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}",
        "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":-}", "{\"a\":1.5.3}", "{\"a\":0x1}",
        "{\"a\":\"\\u0041\"}", "{\"\\n\":1}", "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\x01\"}",
        "{\"a\":tru}", "{\"a\":[1,]}", "{\"a\":[1 2]}", "{\"a\":\"x}", "{\"a\":1}{}",
        "{\"a\":{\"b\":1,\"b\":2}}", "{\"a\":\"\x7f\"}", "{\"a\":NaN}", "{\"a\":Infinity}",
    };
    int f;
    for (size_t i = 0; i < sizeof(fast) / sizeof(fast[0]); i++) {
        ok(agrees(fast[i], 32, &f) && f, "fast and as jansson reads it: %s", fast[i]);
    }
    for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
        ok(agrees(slow[i], 32, &f) && !f, "slow: %s", slow[i]);
    }
    ok(agrees("{\"a\":[[[1]]]}", 4, &f) && f, "depth 4 within a limit of 4");
    ok(agrees("{\"a\":[[[[1]]]]}", 4, &f) && !f, "depth 5 over a limit of 4");

    char members[] = "{ \"eventType\" : \"t.x\", \"payload\" : { \"k\" : [ 1.50 ] } }";
    struct jscan_member m[JSCAN_MAX_KEYS];
    int nm = jscan_object(members, strlen(members), 8, m);
    is_int(nm, 2, "two top-level members");
    ok(nm == 2 && m[1].klen == 7 && memcmp(members + m[1].key, "payload", 7) == 0, "second key");
    ok(nm == 2 && m[1].vlen == 18 && memcmp(members + m[1].val, "{ \"k\" : [ 1.50 ] }", 18) == 0,
       "second value is the text as written");
}

/* jscan_mask on s: the masked text and the payload span's text. */
static void mask_is(const char *s, int all, const char *want, const char *want_payload)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    struct jscan_span sp;
    jscan_mask(s, n, all, out, &sp);
    is_str(out, want, "mask%s: %s", all ? " (all)" : "", s);
    if (want_payload) {
        char *got = sp.found ? strndup(s + sp.at, sp.len) : strdup("(none)");
        is_str(got, want_payload, "payload span of %s", s);
        free(got);
    }
    free(out);
}

static void test_mask(void)
{
    mask_is("{\"payload\":{\"a\":1e400,\"b\":[19.99,-0]},\"payloadRetentionPeriod\":5}", 0,
            "{\"payload\":{\"a\":0    ,\"b\":[0    ,0 ]},\"payloadRetentionPeriod\":5}",
            "{\"a\":1e400,\"b\":[19.99,-0]}");
    mask_is("{ \"x\" : 12, \"payload\" :\n { \"s\" : \"1e5 \\\" 2\" } \n}", 0,
            "{ \"x\" : 12, \"payload\" :\n { \"s\" : \"1e5 \\\" 2\" } \n}",
            "{ \"s\" : \"1e5 \\\" 2\" }");
    mask_is("{\"a\":{\"payload\":1},\"payload\":{\"n\":1.0}}", 0,
            "{\"a\":{\"payload\":1},\"payload\":{\"n\":0  }}", "{\"n\":1.0}");
    mask_is("{\"payload\":{\"n\":01,\"m\":1.}}", 0, "{\"payload\":{\"n\":01,\"m\":1.}}", NULL);
    mask_is("{\"x\":[1,-2.5e3]}", 1, "{\"x\":[0,0     ]}", "(none)");
    mask_is("{\"p\\u0061yload\":{\"n\":1.5}}", 0, "{\"p\\u0061yload\":{\"n\":1.5}}", "(none)");
}

/*
 * Strings are scanned a word at a time: put each kind of byte that ends
 * a plain run at every offset of a long string (and just before its end),
 * and the verdict and output must still match jansson's.
 */
static void test_word_scan(void)
{
    static const char specials[] = { '"', '\\', 0x01, 0x1f, 0x7f, (char)0x80, (char)0xc3, 'n' };
    int bad = 0, fast = 0, total = 0;
    for (size_t k = 0; k < sizeof(specials); k++)
        for (int len = 1; len <= 40; len++)
            for (int at = 0; at < len; at++) {
                char text[64] = "{\"a\":\"";
                size_t n = strlen(text);
                for (int i = 0; i < len; i++)
                    text[n + i] = (char)('a' + i % 26);
                text[n + at] = specials[k];
                if (specials[k] == '\\' && at + 1 < len)
                    text[n + at + 1] = 'n';   /* a valid escape */
                memcpy(text + n + len, "\"}", 3);
                int f;
                bad += !agrees(text, 8, &f);
                fast += f;
                total++;
            }
    is_int(bad, 0, "word-at-a-time scan agrees with jansson (%d strings, %d fast)", total, fast);
    ok(fast > 0 && fast < total, "some of them fast, some slow");
}

/* Random JSON-ish text: mostly valid, with odd tokens and whitespace. */
struct buf_s {
    char *p;
    size_t n, cap;
};

static void put(struct buf_s *b, const char *s)
{
    size_t l = strlen(s);
    if (b->n + l + 1 > b->cap) {
        b->cap = (b->n + l + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, l + 1);
    b->n += l;
}

static void ws(struct buf_s *b)
{
    static const char *w[] = { "", "", "", " ", "\n", "\t ", "\r\n" };
    put(b, w[rand() % 7]);
}

static void gen_scalar(struct buf_s *b)
{
    static const char *v[] = {
        "0", "-1", "42", "-0", "1.0", "2e5", "007", "9223372036854775807", "123456789012345678",
        "1e400", "-0.0", "19.99", "1E+2", "123456789012345678901234567890", "1.", "-", ".5",
        "true", "false", "null", "\"\"", "\"abc\"", "\"a\\\"b\"", "\"\\n\\t\"", "\"\\u00e9\"",
        "\"\\/\"", "\"caf\xc3\xa9\"", "\"x y z\"", "\"k\"", "tru", "nul", "\"open",
    };
    put(b, v[rand() % (int)(sizeof(v) / sizeof(v[0]))]);
}

static void gen(struct buf_s *b, int depth)
{
    int kind = depth > 5 ? 2 : rand() % 3;
    static const char *keys[] = { "\"a\"", "\"b\"", "\"c\"", "\"\\n\"", "\"a b\"", "\"\"" };
    if (kind == 0) {
        put(b, "{");
        ws(b);
        for (int i = 0, n = rand() % 4; i < n; i++) {
            if (i)
                put(b, ","), ws(b);
            put(b, keys[rand() % 6]);
            ws(b);
            put(b, ":");
            ws(b);
            gen(b, depth + 1);
            ws(b);
        }
        put(b, "}");
    } else if (kind == 1) {
        put(b, "[");
        for (int i = 0, n = rand() % 4; i < n; i++) {
            if (i)
                put(b, ",");
            ws(b);
            gen(b, depth + 1);
            ws(b);
        }
        put(b, "]");
    } else {
        gen_scalar(b);
    }
}

static void test_random(void)
{
    struct buf_s b = { NULL, 0, 0 };
    int bad = 0, fast = 0, f;
    srand(40);
    for (int i = 0; i < 20000; i++) {
        b.n = 0;
        put(&b, "{\"x\":");
        gen(&b, 1);
        put(&b, "}");
        if (rand() % 4 == 0 && b.n > 2)  /* mutate one byte */
            b.p[rand() % (int)b.n] = "{}[],:\" -0ax\\"[rand() % 13];
        if (!agrees(b.p, 6, &f))
            bad++;
        fast += f;
    }
    is_int(bad, 0, "random texts: jscan never disagrees with jansson");
    ok(fast > 2000, "random texts: the fast path is taken often (%d)", fast);
    free(b.p);
}

/* buf_add_jstr(in, n) quoted must load as want (wn bytes). */
static int jstr_is(const char *in, size_t n, const char *want, size_t wn)
{
    struct buf b = BUF_INIT;
    buf_addc(&b, '"');
    buf_add_jstr(&b, in, n);
    buf_addc(&b, '"');
    json_t *j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    int ok = j && json_string_length(j) == wn && memcmp(json_string_value(j), want, wn) == 0;
    if (!ok)
        diag("buf_add_jstr gave '%.*s'", (int)b.len, b.data);
    json_decref(j);
    buf_release(&b);
    return ok;
}

static void test_jstr(void)
{
    ok(jstr_is("plain text", 10, "plain text", 10), "jstr: plain text as is");
    ok(jstr_is("q\"b\\n\nr\rt\t", 11, "q\"b\\n\nr\rt\t", 11), "jstr: escapes");
    ok(jstr_is("a\0b\x01\x7f", 5, "a\0b\x01\x7f", 5), "jstr: NUL and control bytes");
    ok(jstr_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
               "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14), "jstr: UTF-8 kept");
    ok(jstr_is("x\xff\xc3", 3, "x\xef\xbf\xbd\xef\xbf\xbd", 7), "jstr: invalid bytes become U+FFFD");
    ok(jstr_is("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9),
       "jstr: a UTF-16 surrogate is not UTF-8");
    ok(jstr_is("\xe2\x82", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6), "jstr: a cut sequence at the end");
    int bad = 0;
    unsigned char r[64];
    for (int i = 0; i < 2000; i++) {   /* random bytes always give a loadable string */
        size_t n = (size_t)(rand() % (int)sizeof(r));
        for (size_t k = 0; k < n; k++)
            r[k] = (unsigned char)rand();
        struct buf b = BUF_INIT;
        buf_addc(&b, '"');
        buf_add_jstr(&b, r, n);
        buf_addc(&b, '"');
        json_t *j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        bad += !json_is_string(j);
        json_decref(j);
        buf_release(&b);
    }
    is_int(bad, 0, "jstr: random bytes always load as a JSON string");
}

/* str_int and buf_add_int against printf, edges and a spread of magnitudes. */
static void test_int(void)
{
    const int64_t edge[] = { 0, 1, -1, 9, 10, -10, 99, 100, 1732838400, 1732838400123LL,
                             INT64_MAX, INT64_MIN, INT64_MIN + 1 };
    char got[STR_INT_MAX], want[32];
    int same = 1;
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]) + 4000; i++) {
        int64_t v = i < sizeof(edge) / sizeof(edge[0]) ? edge[i]
                    : (int64_t)((uint64_t)rand() << 33 ^ (uint64_t)rand()) >> (i % 60);
        size_t n = str_int(got, v);
        snprintf(want, sizeof(want), "%lld", (long long)v);
        if (strcmp(got, want) != 0 || n != strlen(want)) {
            diag("str_int(%s) gave '%s' (%zu)", want, got, n);
            same = 0;
            break;
        }
    }
    ok(same, "str_int writes what printf's %%lld does, edges and 4000 values");
    struct buf b = BUF_INIT;
    buf_adds(&b, "[");
    buf_add_int(&b, -42);
    buf_addc(&b, ',');
    buf_add_int(&b, INT64_MAX);
    buf_addc(&b, ']');
    is_str(b.data, "[-42,9223372036854775807]", "buf_add_int appends");
    buf_release(&b);
}

/* str_copy() cuts and terminates exactly as snprintf("%s%s") does. */
static void test_copy(void)
{
    const char *a[] = { "", "a", "ep_2Qv8aaaaaaaaaaaaaaaaaaaaaaaa", "0123456789abcdef" };
    const char *b[] = { NULL, "", "z", "/msg_2Qv8bbbbbbbbbbbbbbbbbbbbbbbbb" };
    int same = 1;
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            for (size_t cap = 0; cap < 72 && same; cap++) {
                char got[80], want[80];
                memset(got, '#', sizeof(got));
                size_t n = str_copy(got, cap, a[i], b[j]);
                int wn = cap ? snprintf(want, cap, "%s%s", a[i], b[j] ? b[j] : "") : 0;
                size_t wlen = cap ? ((size_t)wn < cap ? (size_t)wn : cap - 1) : 0;
                /* and nothing written at or past dst[cap] */
                same = n == wlen && (cap == 0 || strcmp(got, want) == 0) && got[cap] == '#';
                if (!same)
                    diag("str_copy('%s', '%s', %zu) gave %zu", a[i], b[j] ? b[j] : "(null)",
                         cap, n);
            }
    ok(same, "str_copy cuts, terminates and counts as snprintf(\"%%s%%s\") does");
}

int main(void)
{
    test_int();
    test_copy();
    test_cases();
    test_mask();
    test_word_scan();
    test_random();
    test_jstr();
    return done_testing();
}
