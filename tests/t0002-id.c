/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0002-id: KSUID-ms encoding against the svix vectors (API.md 3.3),
 * round trips, time extraction, ordering and rejection of bad input.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "id.h"
#include "tap/tap.h"

static const int64_t T = 1700000000123LL;

static void test_vectors(void)
{
    uint8_t payload[15], raw[ID_RAW_LEN], back[ID_RAW_LEN];
    char s[ID_B62_LEN + 1];

    memset(payload, 0, sizeof(payload));
    id_raw_from_ms(T, payload, raw);
    id_encode(raw, s);
    is_str(s, "2YBXZIko2xmy0s5Rm9N5U7PhHgu", "ksuid-ms vector, payload zero");

    memset(payload, 0xff, sizeof(payload));
    id_raw_from_ms(T, payload, raw);
    id_encode(raw, s);
    is_str(s, "2YBXZImh2UIGzRJtoVgteTuU1dP", "ksuid-ms vector, payload 0xff");

    /*
     * svix-ksuid's to_base62 doc: Ksuid::new_raw(1643290698, payload)
     * where 1643290698 is already the raw (KSUID-epoch) u32 and payload is
     * the u128 45419194335837378647185401984346151808 big-endian.
     */
    static const uint8_t plain[ID_RAW_LEN] = {
        0x61, 0xf2, 0xa0, 0x4a, /* 1643290698 */
        0x22, 0x2b, 0x6b, 0x2c, 0x21, 0x7e, 0xf7, 0xc4,
        0x5b, 0xa6, 0x1b, 0xab, 0x9c, 0x96, 0xdb, 0x80,
    };
    id_encode(plain, s);
    is_str(s, "DyU8bFOBPZ4LjvsfN0qywt2LjmK", "plain ksuid vector encodes");
    is_int(id_decode("DyU8bFOBPZ4LjvsfN0qywt2LjmK", back), 0, "plain ksuid decodes");
    ok(memcmp(back, plain, ID_RAW_LEN) == 0, "plain ksuid decodes to its bytes");

    memset(raw, 0, sizeof(raw));
    id_encode(raw, s);
    is_str(s, "000000000000000000000000000", "zero is all '0'");
    memset(raw, 0xff, sizeof(raw));
    id_encode(raw, s);
    is_str(s, "aWgEPTl1tmebfsQzFP4bxwgy80V", "max is segment's max ksuid");
}

static void test_round_trip(void)
{
    uint8_t raw[ID_RAW_LEN], back[ID_RAW_LEN];
    char s[ID_B62_LEN + 1];
    int bad = 0;

    for (int i = 0; i < 10000; i++) {
        id_random(raw, sizeof(raw));
        id_encode(raw, s);
        if (strlen(s) != ID_B62_LEN || id_decode(s, back) != 0 ||
            memcmp(raw, back, ID_RAW_LEN) != 0)
            bad++;
    }
    is_int(bad, 0, "10000 random raw ids round trip");
}

static void test_time(void)
{
    char id[ID_MAX];
    int64_t ms = 0;
    int bad = 0;

    id_new_at("msg_", T, id);
    ok(id_is("msg_", id), "id_new_at gives msg_ + 27 chars");
    is_int((long long)strlen(id), 31, "msg_ id is 31 chars");
    is_int(id_time_ms("msg_", id, &ms), 0, "id_time_ms accepts it");
    is_int(ms, T - T % 4, "time has 4 ms resolution");
    is_int(id_time_ms("app_", id, &ms), HOOKD_EINVAL, "wrong prefix rejected");

    for (int64_t t = T; t < T + 3000; t += 7) {
        id_new_at("ep_", t, id);
        if (id_time_ms("ep_", id, &ms) != 0 || ms != t - t % 4)
            bad++;
    }
    is_int(bad, 0, "time survives over 3 s of ms values");

    int64_t before = clock_now_ms();
    id_new("atmpt_", id);
    int64_t after = clock_now_ms();
    is_int(id_time_ms("atmpt_", id, &ms), 0, "id_new id parses");
    ok(ms >= before - 4 && ms <= after, "id_new uses the current time");
}

static void test_bounds_and_order(void)
{
    char lo[ID_MAX], hi[ID_MAX], id[ID_MAX], prev[ID_MAX];
    int bad = 0;

    id_bound("msg_", T, 0, lo);
    id_bound("msg_", T, 1, hi);
    is_str(lo, "msg_2YBXZIko2xmy0s5Rm9N5U7PhHgu", "low bound is the zero payload");
    is_str(hi, "msg_2YBXZImh2UIGzRJtoVgteTuU1dP", "high bound is the 0xff payload");
    for (int i = 0; i < 1000; i++) {
        id_new_at("msg_", T, id);
        if (!(strcmp(lo, id) <= 0 && strcmp(id, hi) <= 0))
            bad++;
    }
    is_int(bad, 0, "ids at a ms lie within its bounds");

    bad = 0;
    id_bound("msg_", T - 4, 1, prev);
    for (int64_t t = T; t < T + 100000; t += 4) {
        id_new_at("msg_", t, id);
        if (strcmp(prev, id) >= 0)
            bad++;
        strcpy(prev, id);
    }
    is_int(bad, 0, "ids at increasing 4 ms steps sort increasing");

    id_new_at("msg_", 1400000000000LL, lo);
    id_new_at("msg_", 4294967295000LL + 1400000000000LL - 1000, hi);
    ok(strcmp(lo, hi) < 0, "ksuid epoch sorts before the end of the u32 range");
}

static void test_invalid(void)
{
    uint8_t raw[ID_RAW_LEN], keep[ID_RAW_LEN];
    int64_t ms = 42;

    memset(raw, 0xab, sizeof(raw));
    memcpy(keep, raw, sizeof(raw));
    is_int(id_decode("", raw), HOOKD_EINVAL, "empty rejected");
    is_int(id_decode("2YBXZIko2xmy0s5Rm9N5U7PhHg", raw), HOOKD_EINVAL, "26 chars rejected");
    is_int(id_decode("2YBXZIko2xmy0s5Rm9N5U7PhHgu0", raw), HOOKD_EINVAL,
           "28 chars rejected");
    is_int(id_decode("2YBXZIko2xmy0s5Rm9N5U7PhHg-", raw), HOOKD_EINVAL,
           "bad char rejected");
    is_int(id_decode("2YBXZIko2xmy0s5Rm9N5U7 PhHg", raw), HOOKD_EINVAL, "space rejected");
    is_int(id_decode("zzzzzzzzzzzzzzzzzzzzzzzzzzz", raw), HOOKD_EINVAL, "overflow rejected");
    is_int(id_decode("aWgEPTl1tmebfsQzFP4bxwgy80W", raw), HOOKD_EINVAL,
           "max + 1 rejected");
    ok(memcmp(raw, keep, sizeof(raw)) == 0, "raw untouched on failure");
    is_int(id_decode("aWgEPTl1tmebfsQzFP4bxwgy80V", raw), 0, "max accepted");

    is_int(id_time_ms("msg_", "msg_zzzzzzzzzzzzzzzzzzzzzzzzzzz", &ms), HOOKD_EINVAL,
           "id_time_ms rejects overflow");
    is_int(id_time_ms("msg_", "msg_short", &ms), HOOKD_EINVAL, "id_time_ms rejects short");
    is_int(ms, 42, "ms untouched on failure");

    ok(id_is("app_", "app_2YBXZIko2xmy0s5Rm9N5U7PhHgu"), "id_is accepts a good id");
    ok(!id_is("ep_", "app_2YBXZIko2xmy0s5Rm9N5U7PhHgu"), "id_is checks the prefix");
    ok(!id_is("app_", "app_2YBXZIko2xmy0s5Rm9N5U7PhHg"), "id_is rejects 26 chars");
    ok(!id_is("app_", "app_2YBXZIko2xmy0s5Rm9N5U7PhHgu1"), "id_is rejects 28 chars");
    ok(!id_is("app_", "app_2YBXZIko2xmy0s5Rm9N5U7PhH_u"), "id_is rejects a bad char");
    ok(!id_is("app_", "2YBXZIko2xmy0s5Rm9N5U7PhHguxxxx"), "id_is rejects no prefix");
    ok(id_is("", "2YBXZIko2xmy0s5Rm9N5U7PhHgu"), "id_is with empty prefix");
}

static void test_after(void)
{
    char a[ID_MAX], b[ID_MAX], out[ID_MAX];
    id_new_at("msg_", T, a);
    id_new_at("msg_", T + 1000, b);
    id_after(b, a, out);
    is_str(out, b, "a later id is kept");
    id_after(a, b, out);
    ok(strcmp(out, b) > 0 && strlen(out) == strlen(b), "an earlier id becomes the previous plus one");
    id_after(a, "", out);
    is_str(out, a, "no previous id: the id itself");
    id_after("msg_000000000000000000000000009", "msg_00000000000000000000000000z", out);
    is_str(out, "msg_000000000000000000000000010", "plus one carries");
    id_after("msg_00000000000000000000000000A", "msg_000000000000000000000000009", out);
    is_str(out, "msg_00000000000000000000000000A", "9 steps to A");
    id_after("msg_000000000000000000000000000", "msg_00000000000000000000000000Z", out);
    is_str(out, "msg_00000000000000000000000000a", "Z steps to a");

    /* plus one on the string is plus one on the 160-bit value */
    uint8_t raw[ID_RAW_LEN], back[ID_RAW_LEN];
    int same = 1;
    for (int i = 0; i < 2000; i++) {
        id_random(raw, sizeof(raw));
        if (i % 4 == 0)   /* runs of 0xFF make the string carry */
            memset(raw + ID_RAW_LEN - 1 - i % 8, 0xff, 1 + i % 8);
        char prev[ID_MAX] = "atmpt_";
        id_encode(raw, prev + 6);
        id_after("atmpt_000000000000000000000000000", prev, out);
        int k = ID_RAW_LEN - 1;
        while (k >= 0 && ++raw[k] == 0)
            k--;
        if (id_decode(out + 6, back) != 0 || memcmp(raw, back, sizeof(raw)) != 0) {
            diag("after %s came %s", prev, out);
            same = 0;
            break;
        }
    }
    ok(same, "2000 random ids: the next id decodes to the raw value plus one");

    uint8_t top[ID_RAW_LEN];
    char max[ID_B62_LEN + 1];
    memset(top, 0xff, sizeof(top));
    id_encode(top, max);
    is_str(max, ID_B62_MAX, "ID_B62_MAX is the largest value");
    id_after("e_000000000000000000000000001", "e_" ID_B62_MAX, out);
    is_str(out, "e_000000000000000000000000001", "past the largest value: the id itself, no wrap");
}

/* 1 when b decodes to a's raw value plus one. */
static int next_of(const char *a, const char *b, size_t skip)
{
    uint8_t ra[ID_RAW_LEN], rb[ID_RAW_LEN];
    if (id_decode(a + skip, ra) || id_decode(b + skip, rb))
        return 0;
    int k = ID_RAW_LEN - 1;
    while (k >= 0 && ++ra[k] == 0)
        k--;
    return memcmp(ra, rb, sizeof(ra)) == 0;
}

static void test_seq(void)
{
    struct id_seq q = { 0 };
    const int64_t times[] = { T, T + 1, T - 5, T + 3, T + 100, T + 50, T + 104, T + 5000 };
    char prev[ID_MAX] = "", out[ID_MAX], lo[ID_MAX];
    int grows = 1, late = 1;
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        id_seq_next(&q, "atmpt_", times[i], out);
        id_bound("atmpt_", times[i], 0, lo);
        grows &= strcmp(out, prev) > 0;
        late &= strcmp(out, lo) >= 0;
        memcpy(prev, out, sizeof(prev));
    }
    ok(grows, "id_seq: ids grow while times go back and forth");
    ok(late, "id_seq: no id is earlier than the time it was made for");
    int64_t ms = 0;
    is_int(id_time_ms("atmpt_", out, &ms) == 0 ? ms : -1, (T + 5000) / 4 * 4,
           "id_seq: a later tick gives a fresh id of that tick");
    int steps = 1;
    id_seq_next(&q, "atmpt_", T + 5001, prev);
    for (int i = 0; i < 1000; i++) {
        id_seq_next(&q, "atmpt_", T + 5001, out);
        steps &= next_of(prev, out, 6);
        memcpy(prev, out, sizeof(prev));
    }
    ok(steps, "id_seq: 1000 ids within one tick are the last plus one each");
    id_seq_next(&q, "msg_", T + 5001, out);
    ok(strncmp(out, "msg_", 4) == 0 && id_is("msg_", out), "id_seq: another prefix starts afresh");
}

int main(void)
{
    test_after();
    test_seq();
    test_vectors();
    test_round_trip();
    test_time();
    test_bounds_and_order();
    test_invalid();
    return done_testing();
}
