/* SPDX-License-Identifier: Apache-2.0 */
/*
 * entry.h - log entries: each write to the store as bytes that carry
 * everything decided before the writer applies it.
 *
 * Every intent (writer.h) carries an entry, built by its submitter before
 * writer_submit(): the kind, the time the write happens at, 16 random
 * bytes (the seed), then the kind's own fields in a fixed order. Apply
 * reads nothing else but the store: no clock, no random source, no
 * configuration, no memory of earlier batches. Whatever apply must make
 * up (ids of the records it creates, a retry's jitter) it derives from the
 * seed (entry_draw_id, entry_draw). So the same entries applied in the
 * same order to the same store give the same store, byte for byte: a
 * node re-applies them (hookd reapply, and in cluster mode a standby
 * applies the owner's log), and `hookd check --compare` proves it.
 *
 * Format: "HE", version byte, kind (u16 BE), time (i64 BE ms), seed (16
 * bytes), then fields. A field is a varint (LEB128) number, or a varint
 * length plus that many bytes; strings and JSON texts that may be absent
 * are written with length + 1, 0 meaning absent. A journal file is a run
 * of records: length (u32 BE), CRC-32 of the entry (u32 BE), the entry.
 *
 * Threads: an entry_w belongs to whoever builds it, then to its intent
 * (read by apply on the writer thread, then by the syncer). An entry_r
 * is a cursor for one thread. The functions keep no state of their own.
 */
#ifndef HOOKD_ENTRY_H
#define HOOKD_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "id.h"

typedef struct json_t json_t;

#define ENTRY_SEED_LEN 16
#define ENTRY_HEAD_LEN (3 + 2 + 8 + ENTRY_SEED_LEN)
/* A journal record longer than this is damage, not an entry. */
#define ENTRY_MAX_LEN (256u << 20)

/*
 * The header, and apply's count of values drawn from it (the writer sets
 * drawn to 0 before each apply, so a flat batch run again draws the same).
 */
struct entry_head {
    uint16_t kind;              /* enum entry_kind (entry_kinds.h) */
    int64_t now_ms;             /* the write's time: every time apply records */
    uint8_t seed[ENTRY_SEED_LEN];
    uint32_t drawn;
};

/* An entry being built: entry_begin(), fields, then it is handed on. */
struct entry_w {
    struct entry_head head;
    uint8_t *p;                 /* heap; NULL until entry_begin() */
    size_t len, cap;
};

/* Start w (any previous content is freed): the kind at now_ms, a fresh seed. */
void entry_begin(struct entry_w *w, uint16_t kind, int64_t now_ms);
/*
 * Room for n bytes in all, so an entry whose size the builder can tell
 * (a request body, a response) grows by one allocation, not by doubling.
 */
void entry_reserve(struct entry_w *w, size_t n);
void entry_put_u64(struct entry_w *w, uint64_t v);
void entry_put_i64(struct entry_w *w, int64_t v);          /* zigzag */
void entry_put_bytes(struct entry_w *w, const void *p, size_t n);
void entry_put_str(struct entry_w *w, const char *s);       /* NULL kept as absent */
void entry_put_json(struct entry_w *w, const json_t *j);    /* NULL kept as absent */
void entry_free(struct entry_w *w);

/* A cursor over an entry's fields. Any failure sets bad and yields 0/NULL. */
struct entry_r {
    struct entry_head head;
    const uint8_t *p;
    size_t len, off;
    int bad;
};

/* Read the header of p[0..n); HOOKD_EINVAL when it is not an entry. */
int entry_open(struct entry_r *r, const void *p, size_t n);
uint64_t entry_get_u64(struct entry_r *r);
int64_t entry_get_i64(struct entry_r *r);
/* Points into the entry; *n its length. */
const void *entry_get_bytes(struct entry_r *r, size_t *n);
char *entry_get_str(struct entry_r *r);        /* heap copy, or NULL when absent */
/* Copies into out (cap bytes, NUL added); bad when absent or too long. */
void entry_get_strbuf(struct entry_r *r, char *out, size_t cap);
json_t *entry_get_json(struct entry_r *r);     /* new reference, or NULL when absent */
/* 0 when every field was read and all were whole; HOOKD_EINVAL otherwise. */
int entry_end(struct entry_r *r);

/*
 * Values apply makes up, derived from the seed and a count (h->drawn, which
 * each call advances): the same entry applied again draws the same.
 */
uint64_t entry_draw(struct entry_head *h);
/* An id of prefix for time ms (ms < 0: the entry's time) with drawn bytes. */
void entry_draw_id(struct entry_head *h, const char *prefix, int64_t ms, char out[ID_MAX]);

/* --- journal files --- */

uint32_t entry_crc32(const void *p, size_t n);

/* Append one record to f (no flush). 0, or HOOKD_ESTORE (errno set). */
int entry_journal_put(FILE *f, const void *p, size_t n);
/*
 * Read the next record of f into *buf (realloc'd, *cap its size): 1 read
 * (*n its length), 0 at a clean end, HOOKD_ECORRUPT on a torn or damaged
 * record (*at its offset), HOOKD_ESTORE on a read error.
 */
int entry_journal_get(FILE *f, uint8_t **buf, size_t *cap, size_t *n, long *at);

#endif
