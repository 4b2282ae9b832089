/* SPDX-License-Identifier: Apache-2.0 */
/*
 * id.h - KSUID-ms identifiers: prefix + 27 base62 characters (API.md 3.3).
 *
 * The 20 raw bytes are: big-endian u32 (unix seconds - 1400000000), one
 * byte of (millis % 1000) >> 2, then 15 random bytes. Encoded as one
 * big-endian base62 number (alphabet 0-9A-Za-z) left-padded with '0' to 27
 * characters, the strings sort in time order, which the store relies on for
 * cursors and time windows.
 *
 * All functions are pure and thread-safe; id_new() reads the OS random
 * source (getrandom) and the real-time clock.
 */
#ifndef HOOKD_ID_H
#define HOOKD_ID_H

#include <stddef.h>
#include <stdint.h>

#define ID_RAW_LEN 20
#define ID_B62_LEN 27
#define ID_MAX 40        /* longest prefix + 27 + NUL fits */
#define ID_EPOCH 1400000000LL
#define ID_B62_MAX "aWgEPTl1tmebfsQzFP4bxwgy80V"   /* 20 bytes of 0xFF, encoded */

/* Encode 20 raw bytes as 27 base62 chars into out (27 bytes + NUL). */
void id_encode(const uint8_t raw[ID_RAW_LEN], char out[ID_B62_LEN + 1]);

/* Decode 27 base62 chars; HOOKD_EINVAL on a bad char, length or overflow. */
int id_decode(const char *b62, uint8_t raw[ID_RAW_LEN]);

/* Build raw bytes for unix time ms with the given 15-byte payload. */
void id_raw_from_ms(int64_t ms, const uint8_t payload[15], uint8_t raw[ID_RAW_LEN]);

/* A fresh id "<prefix><27 chars>" for time ms (ms < 0: now) into out. */
void id_new_at(const char *prefix, int64_t ms, char out[ID_MAX]);
void id_new(const char *prefix, char out[ID_MAX]);
/* The id of prefix for time ms with the given 15 bytes (deterministic). */
void id_from(const char *prefix, int64_t ms, const uint8_t payload[15], char out[ID_MAX]);

/*
 * id itself when it sorts after prev, else prev plus one (prev: an id of
 * the same prefix, or "" for none). Ids handed out through this come in
 * order, so the store can append them; one may then be a few ms later
 * than the time it was made for.
 */
void id_after(const char *id, const char *prev, char out[ID_MAX]);
/*
 * Ids that only grow, for one thread (the writer's attempt ids). Each is
 * at least as late as the time it is made for; while times stay within
 * the last id's tick (the 4 ms an id's time field resolves), the next is
 * the last plus one: no random bytes, no 160-bit encoding. Zero it to
 * start.
 */
struct id_seq {
    char last[ID_MAX];
    int64_t tick;     /* time field of last, as a number */
};
void id_seq_next(struct id_seq *q, const char *prefix, int64_t ms, char out[ID_MAX]);

/*
 * The smallest (hi == 0) or largest (hi != 0) id of prefix for time ms:
 * payload all 0x00 or all 0xFF. Used as window bounds for before/after;
 * ms is clamped to the range an id can represent (2014 to 2150).
 */
void id_bound(const char *prefix, int64_t ms, int hi, char out[ID_MAX]);

/*
 * Unix time in ms embedded in an id with the given prefix (resolution
 * 4 ms). HOOKD_EINVAL when s is not prefix + 27 valid base62 characters.
 */
int id_time_ms(const char *prefix, const char *s, int64_t *ms);

/* 1 when s is prefix followed by exactly 27 base62 characters. */
int id_is(const char *prefix, const char *s);

/* Fill n bytes from the OS random source (small requests through a per-thread
 * pool of its bytes, see id.c); aborts if it is unavailable. */
void id_random(void *p, size_t n);

#endif
