/* SPDX-License-Identifier: Apache-2.0 */
/*
 * id.c - KSUID-ms identifiers (svix's KsuidMs, API.md 3.3).
 *
 * The 20 raw bytes are handled as five big-endian 32-bit limbs so that
 * base62 conversion is a short schoolbook division (encode) or
 * multiply-accumulate (decode) with 64-bit intermediates, and no heap.
 * 62^27 exceeds 2^160, so decode must reject the 27-character strings
 * whose value does not fit in 20 bytes rather than silently wrap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "err.h"
#include "id.h"

#define LIMBS (ID_RAW_LEN / 4)

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int b62_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 36;
    return -1;
}

static void raw_to_limbs(const uint8_t raw[ID_RAW_LEN], uint32_t l[LIMBS])
{
    for (int i = 0; i < LIMBS; i++)
        l[i] = (uint32_t)raw[4 * i] << 24 | (uint32_t)raw[4 * i + 1] << 16 |
               (uint32_t)raw[4 * i + 2] << 8 | raw[4 * i + 3];
}

static void limbs_to_raw(const uint32_t l[LIMBS], uint8_t raw[ID_RAW_LEN])
{
    for (int i = 0; i < LIMBS; i++) {
        raw[4 * i] = (uint8_t)(l[i] >> 24);
        raw[4 * i + 1] = (uint8_t)(l[i] >> 16);
        raw[4 * i + 2] = (uint8_t)(l[i] >> 8);
        raw[4 * i + 3] = (uint8_t)l[i];
    }
}

void id_encode(const uint8_t raw[ID_RAW_LEN], char out[ID_B62_LEN + 1])
{
    uint32_t l[LIMBS];

    raw_to_limbs(raw, l);
    /* 27 divisions always suffice and yield the '0' padding for free. */
    for (int pos = ID_B62_LEN - 1; pos >= 0; pos--) {
        uint64_t rem = 0;
        for (int i = 0; i < LIMBS; i++) {
            uint64_t cur = rem << 32 | l[i];
            l[i] = (uint32_t)(cur / 62);
            rem = cur % 62;
        }
        out[pos] = b62[rem];
    }
    out[ID_B62_LEN] = '\0';
}

int id_decode(const char *s, uint8_t raw[ID_RAW_LEN])
{
    uint32_t l[LIMBS] = {0};

    if (strnlen(s, ID_B62_LEN + 1) != ID_B62_LEN)
        return HOOKD_EINVAL;
    for (int pos = 0; pos < ID_B62_LEN; pos++) {
        int v = b62_val(s[pos]);
        if (v < 0)
            return HOOKD_EINVAL;
        uint64_t carry = (uint64_t)v;
        for (int i = LIMBS - 1; i >= 0; i--) {
            uint64_t cur = (uint64_t)l[i] * 62 + carry;
            l[i] = (uint32_t)cur;
            carry = cur >> 32;
        }
        if (carry)
            return HOOKD_EINVAL;
    }
    limbs_to_raw(l, raw);
    return 0;
}

void id_raw_from_ms(int64_t ms, const uint8_t payload[15], uint8_t raw[ID_RAW_LEN])
{
    /* Floor division keeps pre-1970 times monotonic; the u32 wraps like svix's. */
    int64_t sec = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        sec--;
        frac += 1000;
    }
    uint32_t ts = (uint32_t)(sec - ID_EPOCH);

    raw[0] = (uint8_t)(ts >> 24);
    raw[1] = (uint8_t)(ts >> 16);
    raw[2] = (uint8_t)(ts >> 8);
    raw[3] = (uint8_t)ts;
    raw[4] = (uint8_t)(frac >> 2);
    memcpy(raw + 5, payload, 15);
}

/* Prefixes are compile-time constants, so an oversized one is a bug. */
static size_t prefix_len(const char *prefix)
{
    size_t n = strlen(prefix);

    if (n > ID_MAX - ID_B62_LEN - 1) {
        fprintf(stderr, "hookd: id prefix '%s' is too long\n", prefix);
        abort();
    }
    return n;
}

void id_from(const char *prefix, int64_t ms, const uint8_t payload[15], char out[ID_MAX])
{
    uint8_t raw[ID_RAW_LEN];
    size_t n = prefix_len(prefix);

    id_raw_from_ms(ms, payload, raw);
    memcpy(out, prefix, n);
    id_encode(raw, out + n);
}

void id_new_at(const char *prefix, int64_t ms, char out[ID_MAX])
{
    uint8_t payload[15];

    id_random(payload, sizeof(payload));
    id_from(prefix, ms < 0 ? clock_now_ms() : ms, payload, out);
}

void id_new(const char *prefix, char out[ID_MAX])
{
    id_new_at(prefix, -1, out);
}

/* 1 when s is exactly 27 base62 characters. */
static int b62_whole(const char *s)
{
    for (int i = 0; i < ID_B62_LEN; i++)
        if (b62_val(s[i]) < 0)
            return 0;
    return s[ID_B62_LEN] == '\0';
}

/*
 * The next base62 number after the 27 characters at s, in place: the
 * alphabet is in ASCII order and the width fixed, so this is the raw
 * value plus one without decoding and encoding 160 bits (id_after runs
 * for every message and every attempt the writer records). 0, with s
 * unchanged, when s holds the largest 20-byte value already.
 */
static int b62_increment(char *s)
{
    if (strcmp(s, ID_B62_MAX) >= 0)
        return 0;
    int pos = ID_B62_LEN - 1;
    for (; s[pos] == 'z'; pos--)   /* below the maximum, some digit is not 'z' */
        s[pos] = '0';
    s[pos] = s[pos] == '9' ? 'A' : s[pos] == 'Z' ? 'a' : (char)(s[pos] + 1);
    return 1;
}

void id_after(const char *id, const char *prev, char out[ID_MAX])
{
    size_t len = strlen(id), n = len - ID_B62_LEN;
    if (strcmp(id, prev) > 0 || strlen(prev) != len || !b62_whole(prev + n)) {
        memcpy(out, id, len + 1);
        return;
    }
    memcpy(out, prev, len + 1);
    if (!b62_increment(out + n))
        memcpy(out, id, len + 1);
}

/* The 5 time bytes of an id for ms (id_raw_from_ms) as one number. */
static int64_t tick_of(int64_t ms)
{
    uint8_t raw[ID_RAW_LEN], zero[15] = { 0 };
    int64_t t = 0;
    id_raw_from_ms(ms, zero, raw);
    for (int i = 0; i < 5; i++)
        t = t << 8 | raw[i];
    return t;
}

void id_seq_next(struct id_seq *q, const char *prefix, int64_t ms, char out[ID_MAX])
{
    int64_t tick = tick_of(ms);
    size_t n = strlen(q->last);
    if (n > ID_B62_LEN && tick <= q->tick && strncmp(q->last, prefix, n - ID_B62_LEN) == 0
        && b62_increment(q->last + n - ID_B62_LEN)) {
        memcpy(out, q->last, n + 1);
        return;
    }
    char fresh[ID_MAX];
    id_new_at(prefix, ms, fresh);
    id_after(fresh, q->last, out);
    memcpy(q->last, out, strlen(out) + 1);
    if (tick > q->tick)
        q->tick = tick;
}

void id_bound(const char *prefix, int64_t ms, int hi, char out[ID_MAX])
{
    uint8_t payload[15];

    /* Bounds are for range scans: clamp to what an id can hold instead of
     * letting the u32 wrap, so "after 2000-01-01" means "from the start". */
    const int64_t lo_ms = ID_EPOCH * 1000, hi_ms = (ID_EPOCH + 0xFFFFFFFFLL) * 1000 + 999;
    ms = ms < lo_ms ? lo_ms : ms > hi_ms ? hi_ms : ms;
    memset(payload, hi ? 0xff : 0x00, sizeof(payload));
    id_from(prefix, ms, payload, out);
}

int id_time_ms(const char *prefix, const char *s, int64_t *ms)
{
    uint8_t raw[ID_RAW_LEN];
    size_t n = strlen(prefix);

    if (strncmp(s, prefix, n) != 0 || id_decode(s + n, raw) < 0)
        return HOOKD_EINVAL;
    int64_t ts = (int64_t)((uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
                           (uint32_t)raw[2] << 8 | raw[3]);
    /* "% 1000" matches svix for foreign bytes above 249. */
    *ms = (ts + ID_EPOCH) * 1000 + (((int64_t)raw[4] << 2) % 1000);
    return 0;
}

int id_is(const char *prefix, const char *s)
{
    size_t n = strlen(prefix);

    if (strncmp(s, prefix, n) != 0)
        return 0;
    s += n;
    for (int i = 0; i < ID_B62_LEN; i++)
        if (b62_val(s[i]) < 0)
            return 0;
    return s[ID_B62_LEN] == '\0';
}

static void os_random(uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t got = getrandom(b, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "hookd: cannot read the OS random source: %s\n",
                    strerror(errno));
            abort();
        }
        b += got;
        n -= (size_t)got;
    }
}

/*
 * Small requests (an id's 15 bytes) are served from a per-thread pool
 * refilled from the kernel 512 bytes at a time: one system call per 34
 * ids instead of one each. The bytes are the kernel's either way; each
 * is handed out once and then wiped from the pool.
 */
#define POOL_BYTES 512
static __thread uint8_t pool[POOL_BYTES];
static __thread size_t pool_left;

void id_random(void *p, size_t n)
{
    if (n > POOL_BYTES / 8) {
        os_random(p, n);
        return;
    }
    if (pool_left < n) {
        os_random(pool, POOL_BYTES);
        pool_left = POOL_BYTES;
    }
    uint8_t *from = pool + POOL_BYTES - pool_left;
    memcpy(p, from, n);
    memset(from, 0, n);
    pool_left -= n;
}
