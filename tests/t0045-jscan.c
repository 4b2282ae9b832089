/*
 * t0045-jscan: the JSON fast path against jansson. Whenever jscan_object()
 * takes a text, jansson must load it (rejecting duplicates) and print it
 * compactly as exactly jscan's output; checked on hand-written cases and
 * on random texts, many of them mutated into invalid JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jscan.h"
#include "tap/tap.h"

/* 1 when jscan's verdict on s is safe: slow, or jansson's output exactly. */
static int agrees(const char *s, int max_depth, int *fast)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    struct jscan_member m[JSCAN_MAX_KEYS];
    int nm = jscan_object(s, n, max_depth, out, m);
    *fast = nm >= 0;
    int ok = 1;
    if (nm >= 0) {
        json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
        char *d = j ? json_dumps(j, JSON_COMPACT) : NULL;
        ok = j && json_is_object(j) && (int)json_object_size(j) == nm && strcmp(d, out) == 0;
        if (!ok)
            diag("jscan took '%s' as '%s', jansson prints '%s'", s, out, d ? d : "(error)");
        free(d);
        json_decref(j);
    }
    free(out);
    return ok;
}

static void test_cases(void)
{
    static const char *fast[] = {
        "{}", " { } ", "{\"a\":1}", "{\"a\" : [1, -2, 0, true, false, null, \"x\"]}",
        "{\"a\":{\"b\":{\"c\":[]}},\"d\":\"q\\\"\\\\\\n\\t\\r\\b\\f\"}\n",
        "{\"n\":123456789012345678,\"m\":-123456789012345678}",
    };
    static const char *slow[] = {
        "", "[]", "1", "{", "{\"a\":1", "{\"a\":1}x", "{\"a\":1,}", "{\"a\" 1}", "{a:1}",
        "{\"a\":1,\"a\":2}", "{\"a\":1.5}", "{\"a\":1e3}", "{\"a\":-0}", "{\"a\":01}",
        "{\"a\":1234567890123456789}", "{\"a\":\"\\u0041\"}", "{\"a\":\"\\/\"}",
        "{\"\\n\":1}", "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\x01\"}", "{\"a\":tru}",
        "{\"a\":[1,]}", "{\"a\":[1 2]}", "{\"a\":\"x}", "{\"a\":1}{}", "{\"a\":-}",
        "{\"a\":{\"b\":1,\"b\":2}}", "{\"a\":\"\x7f\"}",
    };
    int f;
    for (size_t i = 0; i < sizeof(fast) / sizeof(fast[0]); i++) {
        ok(agrees(fast[i], 32, &f) && f, "fast and equal to jansson: %s", fast[i]);
    }
    for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
        ok(agrees(slow[i], 32, &f) && !f, "slow: %s", slow[i]);
    }
    ok(agrees("{\"a\":[[[1]]]}", 4, &f) && f, "depth 4 within a limit of 4");
    ok(agrees("{\"a\":[[[[1]]]]}", 4, &f) && !f, "depth 5 over a limit of 4");

    char members[] = "{ \"eventType\" : \"t.x\", \"payload\" : { \"k\" : [ 1 ] } }";
    char out[sizeof(members)];
    struct jscan_member m[JSCAN_MAX_KEYS];
    int nm = jscan_object(members, strlen(members), 8, out, m);
    is_int(nm, 2, "two top-level members");
    ok(nm == 2 && m[1].klen == 7 && memcmp(out + m[1].key, "payload", 7) == 0, "second key");
    ok(nm == 2 && m[1].vlen == 9 && memcmp(out + m[1].val, "{\"k\":[1]}", 9) == 0,
       "second value is compact");
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

int main(void)
{
    test_cases();
    test_random();
    return done_testing();
}
