/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - the log: one LMDB environment with named databases.
 *
 * Every write goes through the single writer thread (writer.h); readers on
 * any thread open short read transactions and never hold them across I/O.
 * The store itself never logs: it returns HOOKD_* codes (err.h).
 *
 * Key and value layouts (schema version STORE_SCHEMA). Ids are the ASCII
 * strings of id.h (app_ 31 bytes, ep_ 30, msg_ 31, atmpt_ 33); "|" below
 * is plain concatenation, no separator byte unless shown. Integers in keys
 * are big-endian so that byte order is numeric order.
 *
 *   meta         "schema"                         u32 BE version
 *                "probe"                          u64 BE ms: the health check's test write
 *                "failed"                         u64 BE: deliveries rows in state fail
 *                                                 (store_counter_add, kept by outcome.c)
 *                "cluster.seq"                    u64 BE: cluster mode, the stream sequence
 *                                                 of the last log entry this store applied,
 *                                                 written in that entry's transaction
 *                "cluster.epoch", "cluster.owner", "cluster.stale", "cluster.import"
 *                                                 the log's epoch markers and import (cmeta.h)
 *                "tok|" SHA-256 (32), "tid|" id      application tokens (apptoken.h)
 *                "epstat:" ep_id ":" YYYYMMDD ":" kind   u64 BE: an endpoint's delivery
 *                                                 changes of one UTC day (epstats.h)
 *   apps         app_id                           JSON app record
 *   uids         kind(1) | parent_id | 0x00 | uid   id (ASCII)
 *                  kind 'a' app (parent ""), 'e' endpoint (parent app_id),
 *                  'm' message eventId (parent app_id)
 *   endpoints    app_id | ep_id                   JSON endpoint record
 *   event_types  name                             JSON event type record
 *   messages     app_id | msg_id                  JSON message record
 *   deliveries   msg_id | ep_id                   struct store_delivery, 53 bytes:
 *                                                 u8 version(1) | u8 state | u16 BE attempts
 *                                                 | u16 BE last_code | u64 BE next_ms
 *                                                 | u64 BE updated_ms | app_id (31)
 *   due          ep_id | u64 BE due_ms | msg_id   app_id (31) | u8 trigger (0 scheduled,
 *                                                 1 manual, 2 scheduled retry): per endpoint,
 *                                                 in time order, so the dispatcher reads one
 *                                                 endpoint's backlog in bounded slices
 *   attempts     attempt_id                       JSON attempt record (API.md 4.4 fields,
 *                                                 times in ms, plus appId)
 *   att_by_ep    ep_id | attempt_id               msg_id
 *   att_by_msg   msg_id | attempt_id              ep_id
 *   ep_health    ep_id                            struct store_health, 32 bytes:
 *                                                 u64 BE failing_since_ms (0 = healthy)
 *                                                 | u64 BE last_attempt_ms | u16 BE last_code
 *                                                 | u16 BE pad | u32 BE consecutive_failures
 *                                                 | u32 BE backlog (due entries)
 *                                                 | u32 BE retrying (those with trigger 2);
 *                                                 the two counts change in the transaction
 *                                                 that adds or removes the due entries, so
 *                                                 the stats need no scan of the due index
 *   idempotency  SHA-256(token, key, URI) (32)    u64 BE expiry_ms | u16 BE status
 *                                                 | response body
 *
 * JSON records keep times as integer ms since the epoch; the API layer
 * formats them as RFC 3339.
 *
 * Threads: struct store is shared by all threads after store_open(); a
 * store_txn belongs to the thread that began it.
 */
#ifndef HOOKD_STORE_H
#define HOOKD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define STORE_SCHEMA 1

enum store_db {
    DB_META,
    DB_APPS,
    DB_UIDS,
    DB_ENDPOINTS,
    DB_EVENT_TYPES,
    DB_MESSAGES,
    DB_DELIVERIES,
    DB_DUE,
    DB_ATTEMPTS,
    DB_ATT_BY_EP,
    DB_ATT_BY_MSG,
    DB_EP_HEALTH,
    DB_IDEMPOTENCY,
    DB_COUNT
};

struct store;
struct store_txn;
struct store_cursor;

struct store_kv {
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
};

/*
 * Open (creating if needed) the environment in dir with the given map
 * size. A store written by another schema version gives HOOKD_ESCHEMA.
 * readonly opens an existing store without creating anything.
 *
 * A writable store is the only one on dir: it holds an exclusive flock on
 * the directory itself until store_close (and writes its pid to
 * dir/hookd.lock, which only names it), and an open while another process
 * holds it waits up to STORE_LOCK_WAIT_MS (a server that is still exiting
 * lets go), then gives HOOKD_EBUSY. Read-only opens (check, backup) take
 * no lock and run beside the server.
 */
int store_open(struct store **out, const char *dir, int64_t map_size, int readonly);
void store_close(struct store *s);
/*
 * What a failed store_open means, for a message: a file LMDB cannot read
 * (damaged, or not a log at all) says so rather than naming a record.
 */
const char *store_open_strerror(int rc);
/*
 * The same for a failed store_open of dir, naming the file and what is
 * wrong with it when store_verify_file can tell (buf holds the text).
 */
const char *store_open_why(const char *dir, int rc, char *buf, size_t cap);
#define STORE_LOCK_WAIT_MS 2000
/*
 * Is dir/data.mdb whole enough to map? Reads LMDB's two meta pages with
 * plain reads (no map): HOOKD_ECORRUPT with why set to a message naming
 * the file, when it is empty, not an LMDB file, or shorter than the
 * pages its meta says the log uses (a map over it would die of SIGBUS);
 * 0 when it is fine or absent; a negated errno (why set) when it cannot
 * be read. store_open runs it first and fails the same way; commands
 * call it themselves to print why. Any thread.
 */
int store_verify_file(const char *dir, char *why, size_t cap);
/* The pid holding dir's lock (from /proc/locks, else dir/hookd.lock), or 0 when none is known. */
long store_lock_holder(const char *dir);

/* Short read-only transaction for the calling thread. */
int store_read(struct store *s, struct store_txn **out);
/* Write transaction: the writer thread only. */
int store_write(struct store *s, struct store_txn **out);
/* Nested write transaction inside parent (one intent of a batch). */
int store_nested(struct store_txn *parent, struct store_txn **out);
/*
 * Commit and free; HOOKD_EFULL when the map is full. A top-level write
 * returns with its data on disk and visible to new readers, but it is
 * durable (survives a crash) only after the next store_sync() or the next
 * top-level commit returns: acknowledge nothing before that.
 */
int store_commit(struct store_txn *t);
/* Make every commit so far durable (one flush). Any thread. */
int store_sync(struct store *s);
/*
 * Id of the last transaction committed to the file. A top-level commit
 * that moved it wrote and flushed its data pages, and that flush also
 * made the meta page of every earlier commit durable. Any thread.
 */
uint64_t store_last_txnid(struct store *s);
/* Abandon and free; safe on NULL. */
void store_abort(struct store_txn *t);

/*
 * Writer thread: a number that moves on whenever apps or endpoints may
 * have changed (a put or delete there, or the rollback of a transaction
 * that made one). What the writer derives from those records, such as
 * the fan-out filters, stays valid while the number stays the same.
 */
uint64_t store_settings_gen(struct store_txn *t);

int store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const void **val, size_t *vlen);
/* noclobber: HOOKD_EEXIST when the key is present. */
int store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const void *val, size_t vlen, int noclobber);
/*
 * store_put for a key that usually sorts after every key of db: it is
 * appended when it does, which fills pages instead of splitting them in
 * half (half the pages to write and keep), else put as usual.
 */
int store_append(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                 const void *val, size_t vlen, int noclobber);
/* HOOKD_ENOTFOUND when absent. */
int store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen);

/*
 * JSON record helpers: the caller owns *out (json_decref). Strings may
 * hold NUL (stored as \u0000, read with JSON_ALLOW_NUL): an attempt's
 * response is whatever bytes the receiver sent; read such a string with
 * json_string_length, not strlen. Read records with STORE_JSON_FLAGS.
 */
#define STORE_JSON_FLAGS JSON_ALLOW_NUL
int store_get_json(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                   json_t **out);
int store_put_json(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                   const json_t *rec);

/* Cursors: valid while their transaction lives; close before ending it. */
int store_cursor_open(struct store_txn *t, enum store_db db, struct store_cursor **out);
void store_cursor_close(struct store_cursor *c);
/* First key >= key; HOOKD_ENOTFOUND past the end. */
int store_cursor_seek(struct store_cursor *c, const void *key, size_t klen, struct store_kv *kv);
int store_cursor_first(struct store_cursor *c, struct store_kv *kv);
int store_cursor_last(struct store_cursor *c, struct store_kv *kv);
int store_cursor_next(struct store_cursor *c, struct store_kv *kv);
int store_cursor_prev(struct store_cursor *c, struct store_kv *kv);
/* Delete the entry under the cursor. */
int store_cursor_del(struct store_cursor *c);

/*
 * Ordered scan of keys k with lo <= k < hi (hi NULL: no upper bound),
 * ascending or descending, calling fn for each until it returns non-zero
 * (that value is returned) or the range ends (0).
 */
typedef int (*store_scan_fn)(const struct store_kv *kv, void *arg);
int store_scan(struct store_txn *t, enum store_db db, const void *lo, size_t lolen,
               const void *hi, size_t hilen, int descending, store_scan_fn fn, void *arg);

/* uids: build the key "kind | parent | 0x00 | uid" into out (returns length). */
size_t store_uid_key(char kind, const char *parent, const char *uid, char *out, size_t cap);

/* Delivery state of one message to one endpoint. */
enum store_dstate {
    DSTATE_PENDING = 1,   /* due, not yet attempted */
    DSTATE_SENDING = 3,   /* attempted, a retry is scheduled */
    DSTATE_SUCCESS = 0,
    DSTATE_FAIL = 2,      /* retries exhausted */
    DSTATE_HELD = 5       /* endpoint paused or disabled */
};

struct store_delivery {
    uint8_t state;        /* enum store_dstate */
    uint16_t attempts;
    uint16_t last_code;
    int64_t next_ms;      /* due time when pending/sending, else 0 */
    int64_t updated_ms;
    char app_id[32];
};

/*
 * last_code of a delivery that ended as failed because its endpoint was
 * deleted while it waited (outcome.c): no HTTP status is below 100.
 */
#define STORE_CODE_ENDPOINT_DELETED 1
/* ... or because its message's payload was expunged (DELETE .../msg/{msg}/content). */
#define STORE_CODE_PAYLOAD_EXPUNGED 2

#define STORE_DELIVERY_LEN 53
void store_delivery_encode(const struct store_delivery *d, uint8_t out[STORE_DELIVERY_LEN]);
int store_delivery_decode(const void *p, size_t n, struct store_delivery *d);

/* due key: ep_id | u64 BE ms | msg_id; returns length (0 when cap is short). */
#define STORE_DUE_KEY_MAX 80
size_t store_due_key(const char *ep_id, int64_t ms, const char *msg_id, uint8_t *out, size_t cap);
/* Split a due key; ep and msg receive NUL-terminated ids. 0 or HOOKD_ECORRUPT. */
int store_due_parse(const void *key, size_t klen, char *ep, int64_t *ms, char *msg);
/* due value: app_id | trigger. */
#define STORE_DUE_VAL_LEN 32
void store_due_val(const char *app_id, int trigger, uint8_t out[STORE_DUE_VAL_LEN]);

/* due value trigger bytes: the API's triggerType is 1 for manual, 0 otherwise. */
enum store_trigger { TRIGGER_SCHEDULED = 0, TRIGGER_MANUAL = 1, TRIGGER_RETRY = 2 };

/* Endpoint health, updated with every attempt outcome. */
struct store_health {
    int64_t failing_since_ms;
    int64_t last_attempt_ms;
    uint16_t last_code;
    uint32_t consecutive_failures;
    uint32_t backlog;         /* due entries of the endpoint */
    uint32_t retrying;        /* of which scheduled retries (trigger 2) */
};
#define STORE_HEALTH_LEN 32
void store_health_encode(const struct store_health *h, uint8_t out[STORE_HEALTH_LEN]);
/* Also reads the 24-byte rows written before backlog existed (counts 0). */
int store_health_decode(const void *p, size_t n, struct store_health *h);
/*
 * Writer: add to an endpoint's backlog and retrying counts (clamped at 0).
 * A missing row is created for positive deltas only, so the due entries a
 * deleted endpoint leaves behind do not bring its row back.
 */
int store_health_add(struct store_txn *t, const char *ep_id, int backlog, int retrying);

/* How many records db holds, as of t (LMDB keeps the count: no scan). */
int store_entries(struct store_txn *t, enum store_db db, int64_t *out);

/* meta counters (u64 BE under name): add delta (clamped at 0) / read (0 when absent). */
int store_counter_add(struct store_txn *t, const char *name, int64_t delta);
int store_counter_get(struct store_txn *t, const char *name, int64_t *out);
/* A meta value (u64 BE) read (0 when absent) or set, like "cluster.seq". */
int store_meta_get_u64(struct store_txn *t, const char *name, uint64_t *out);
int store_meta_put_u64(struct store_txn *t, const char *name, uint64_t v);

/* Environment figures for stats and metrics. Any thread; reads the free list. */
struct store_info {
    int64_t map_bytes;    /* configured map size */
    int64_t used_bytes;   /* the file's high-water mark: pages ever used * page size */
    int64_t free_bytes;   /* of those, pages on the free list (reused before the file grows) */
    int readers;          /* reader slots in use */
};
int store_info(struct store *s, struct store_info *out);

/*
 * The reserve: the part of the map that new messages may not take, so
 * that once ingest is refused with HOOKD_EFULL, attempt outcomes,
 * retention and deletes (LMDB needs free pages to delete, too) still fit.
 * 5 % of the map, at least STORE_RESERVE_MIN and at most
 * STORE_RESERVE_MAX, never more than half the map.
 */
#define STORE_RESERVE_MIN (512LL << 10)
#define STORE_RESERVE_MAX (1LL << 30)
int64_t store_reserve(int64_t map_bytes);
/*
 * Writer, before a write that grows the log by about bytes (a new
 * message): 0 when the map has that much room left outside the reserve
 * (live pages, used_bytes - free_bytes, are what counts), else
 * HOOKD_EFULL, and the caller answers 507 while outcomes keep going.
 */
int store_room(struct store_txn *t, size_t bytes);
/*
 * Can the store take writes? 0 when it can; else an error code and why
 * (a sentence for the health check): a top-level commit or a sync failed
 * (a full disk, an I/O error) and none has succeeded since, or
 * store_room refused a write and a fresh measure still finds less room
 * than it asked for. While commits fail, *probe is set at most once a
 * second: the caller then submits a small write (meta "probe"), so that
 * the store is found healthy again once the disk takes writes even when
 * nothing else writes. Any thread.
 */
int store_health(struct store *s, char *why, size_t cap, int *probe);
/* Times store_room() walked the free list to measure the room (tests). Writer thread. */
uint64_t store_room_measures(struct store *s);

/* The database's name in the environment ("deliveries"); for reports. */
const char *store_db_name(enum store_db db);

/*
 * Hot backup: a compacted copy of the environment in src_dir, written to
 * dst_dir/data.mdb (dst_dir must exist; the file must not) and synced.
 * Opens src_dir read-only, so it may run beside a live server in another
 * process; the copy holds every commit made before the call. A partial
 * file is removed on error. Any thread; blocks for the whole copy.
 */
int store_backup(const char *src_dir, const char *dst_dir);
/*
 * The same copy of an environment this process has open (s), into
 * dst_dir/data.mdb (new). Any thread; blocks for the whole copy.
 */
int store_copy(struct store *s, const char *dst_dir);

#endif
