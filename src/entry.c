/* SPDX-License-Identifier: Apache-2.0 */
/*
 * entry.c - the log entry format and journal files (entry.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "err.h"
#include "mem.h"

#define ENTRY_VERSION 1

static void put_raw(struct entry_w *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        w->p = xrealloc(w->p, cap);
        w->cap = cap;
    }
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void put_be(struct entry_w *w, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    put_raw(w, b, (size_t)bytes);
}

void entry_reserve(struct entry_w *w, size_t n)
{
    if (n > w->cap) {
        w->p = xrealloc(w->p, n);
        w->cap = n;
    }
}

void entry_begin(struct entry_w *w, uint16_t kind, int64_t now_ms)
{
    w->len = 0;
    w->head.kind = kind;
    w->head.now_ms = now_ms;
    w->head.drawn = 0;
    id_random(w->head.seed, sizeof(w->head.seed));
    put_raw(w, "HE", 2);
    put_be(w, ENTRY_VERSION, 1);
    put_be(w, kind, 2);
    put_be(w, (uint64_t)now_ms, 8);
    put_raw(w, w->head.seed, sizeof(w->head.seed));
}

void entry_put_u64(struct entry_w *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put_raw(w, b, n);
}

void entry_put_i64(struct entry_w *w, int64_t v)
{
    entry_put_u64(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void entry_put_bytes(struct entry_w *w, const void *p, size_t n)
{
    entry_put_u64(w, n);
    if (n)
        put_raw(w, p, n);
}

void entry_put_str(struct entry_w *w, const char *s)
{
    if (!s) {
        entry_put_u64(w, 0);
        return;
    }
    size_t n = strlen(s);
    entry_put_u64(w, n + 1);
    put_raw(w, s, n);
}

void entry_put_json(struct entry_w *w, const json_t *j)
{
    if (!j) {
        entry_put_u64(w, 0);
        return;
    }
    /* JSON_ENCODE_ANY: a field may be a bare string or number */
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    entry_put_str(w, s ? s : "null");
    free(s);
}

void entry_free(struct entry_w *w)
{
    free(w->p);
    w->p = NULL;
    w->len = w->cap = 0;
}

/* --- reading --- */

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

int entry_open(struct entry_r *r, const void *p, size_t n)
{
    const uint8_t *b = p;
    memset(r, 0, sizeof(*r));
    if (n < ENTRY_HEAD_LEN || b[0] != 'H' || b[1] != 'E' || b[2] != ENTRY_VERSION) {
        r->bad = 1;
        return HOOKD_EINVAL;
    }
    r->head.kind = (uint16_t)get_be(b + 3, 2);
    r->head.now_ms = (int64_t)get_be(b + 5, 8);
    memcpy(r->head.seed, b + 13, ENTRY_SEED_LEN);
    r->p = b;
    r->len = n;
    r->off = ENTRY_HEAD_LEN;
    return 0;
}

uint64_t entry_get_u64(struct entry_r *r)
{
    uint64_t v = 0;
    for (int shift = 0; !r->bad && shift < 64; shift += 7) {
        if (r->off >= r->len)
            break;
        uint8_t b = r->p[r->off++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

int64_t entry_get_i64(struct entry_r *r)
{
    uint64_t u = entry_get_u64(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

const void *entry_get_bytes(struct entry_r *r, size_t *n)
{
    uint64_t len = entry_get_u64(r);
    if (r->bad || len > r->len - r->off) {
        r->bad = 1;
        *n = 0;
        return "";
    }
    const void *p = r->p + r->off;
    r->off += (size_t)len;
    *n = (size_t)len;
    return p;
}

/* A length + 1 field: 0 absent (*absent set), else the bytes. */
static const char *get_opt(struct entry_r *r, size_t *n, int *absent)
{
    uint64_t len = entry_get_u64(r);
    *absent = len == 0;
    *n = 0;
    if (r->bad || *absent)
        return NULL;
    if (len - 1 > r->len - r->off) {
        r->bad = 1;
        return NULL;
    }
    const char *p = (const char *)r->p + r->off;
    r->off += (size_t)(len - 1);
    *n = (size_t)(len - 1);
    return p;
}

char *entry_get_str(struct entry_r *r)
{
    size_t n;
    int absent;
    const char *p = get_opt(r, &n, &absent);
    return p ? xstrndup(p, n) : NULL;
}

void entry_get_strbuf(struct entry_r *r, char *out, size_t cap)
{
    size_t n;
    int absent;
    const char *p = get_opt(r, &n, &absent);
    if (!p || n >= cap) {
        r->bad = 1;
        if (cap)
            out[0] = '\0';
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

json_t *entry_get_json(struct entry_r *r)
{
    size_t n;
    int absent;
    const char *p = get_opt(r, &n, &absent);
    if (!p)
        return NULL;
    json_t *j = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!j)
        r->bad = 1;
    return j;
}

int entry_end(struct entry_r *r)
{
    return r->bad || r->off != r->len ? HOOKD_EINVAL : 0;
}

/* --- values apply draws --- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t entry_draw(struct entry_head *h)
{
    uint64_t a = get_be(h->seed, 8), b = get_be(h->seed + 8, 8);
    uint64_t n = h->drawn++;
    return mix64(a ^ mix64(b + 0x9e3779b97f4a7c15ULL * (n + 1)));
}

void entry_draw_id(struct entry_head *h, const char *prefix, int64_t ms, char out[ID_MAX])
{
    uint8_t payload[16];
    uint64_t x = entry_draw(h), y = entry_draw(h);
    for (int i = 0; i < 8; i++) {
        payload[i] = (uint8_t)(x >> (56 - 8 * i));
        payload[8 + i] = (uint8_t)(y >> (56 - 8 * i));
    }
    id_from(prefix, ms < 0 ? h->now_ms : ms, payload, out);
}

/* --- journal files --- */

uint32_t entry_crc32(const void *p, size_t n)
{
    static uint32_t table[256];
    static int ready;   /* benign race: every thread computes the same table */
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    uint32_t c = 0xffffffffu;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ b[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

int entry_journal_put(FILE *f, const void *p, size_t n)
{
    uint8_t h[8];
    uint32_t crc = entry_crc32(p, n);
    for (int i = 0; i < 4; i++) {
        h[i] = (uint8_t)(n >> (24 - 8 * i));
        h[4 + i] = (uint8_t)(crc >> (24 - 8 * i));
    }
    if (fwrite(h, 1, 8, f) != 8 || fwrite(p, 1, n, f) != n)
        return HOOKD_ESTORE;
    return 0;
}

int entry_journal_get(FILE *f, uint8_t **buf, size_t *cap, size_t *n, long *at)
{
    uint8_t h[8];
    *at = ftell(f);
    size_t got = fread(h, 1, 8, f);
    if (got == 0 && feof(f))
        return 0;
    if (got != 8)
        return ferror(f) ? HOOKD_ESTORE : HOOKD_ECORRUPT;
    uint32_t len = (uint32_t)get_be(h, 4), crc = (uint32_t)get_be(h + 4, 4);
    if (len < ENTRY_HEAD_LEN || len > ENTRY_MAX_LEN)
        return HOOKD_ECORRUPT;
    if (*cap < len) {
        *buf = xrealloc(*buf, len);
        *cap = len;
    }
    if (fread(*buf, 1, len, f) != len)
        return ferror(f) ? HOOKD_ESTORE : HOOKD_ECORRUPT;
    if (entry_crc32(*buf, len) != crc)
        return HOOKD_ECORRUPT;
    *n = len;
    return 1;
}
