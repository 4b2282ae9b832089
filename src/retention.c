/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retention.c - the retention pass (retention.h says what it removes).
 *
 * The thread finds the records to change in a read transaction and hands
 * the writer only the keys (and, for payloads, the finished replacement
 * record), as a log entry (ENTRY_RETENTION, below): an intent costs the
 * writer one get and one put or a few deletes per record, never a JSON
 * parse of a payload, and it carries at most RETENTION_BATCH records.
 * The next batch is collected only once the previous one is durable,
 * after a short pause, so ingest never queues behind more than one of
 * them. Each read transaction looks at a bounded
 * slice of records, so none holds old pages for long.
 *
 * Attempts are keyed by time-ordered ids, so the old ones are one range
 * at the start of the database. Idempotency keys are hashes: each pass
 * reads every record's 8-byte expiry (cheap; their number is bounded by
 * the TTL). Application tokens (apptoken.h) are read the same way, from
 * their range of the meta database.
 *
 * Payloads are the costly part: messages are keyed app_id|msg_id, each
 * app's oldest first, but a message keeps its payload for its own
 * retentionDays (1 to 90) capped by payload-retention, so age alone does
 * not decide. The sweep walks the messages in key order; per app it
 *   - starts at the app's floor, the id below which every payload is
 *     known to be gone (kept in memory, learnt as the sweep passes
 *     expired records, so the expired prefix is read about once);
 *   - removes every payload older than payload-retention;
 *   - reads the messages younger than that but older than one day (the
 *     shortest retentionDays) to find those whose own period has run out;
 *   - jumps to the next app at the first message younger than that.
 * The middle band can be large (a day to 90 days of messages with the
 * default settings), so a pass reads at most SWEEP_BUDGET records there
 * that keep their payload and the next pass resumes where it stopped: a
 * short retentionDays may then take a few passes longer to apply. With
 * payload-retention of a day or less the band is empty.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "apptoken.h"
#include "clock.h"
#include "entry.h"
#include "entry_kinds.h"
#include "err.h"
#include "hmap.h"
#include "id.h"
#include "log.h"
#include "mem.h"
#include "msgrec.h"
#include "reapply.h"
#include "retention.h"
#include "store.h"
#include "thread.h"
#include "writer.h"

#define SLICE 10000             /* records one read transaction looks at */
#define SWEEP_BUDGET 100000     /* payload-keeping records the sweep reads per pass */
#define PAUSE_NS 1000000L       /* between batches: the writer's other intents go first */
#define DAY_MS (86400LL * 1000)
#define DEFAULT_DAYS 90         /* a message record without retentionDays */
#define KEY_MAX 64              /* longest key handled: app_id|msg_id is 62 */

enum kind { K_PAYLOAD, K_ATTEMPT, K_IDEM, K_TOKEN, K_COUNT };

static const char expired_mark[] = "{\"expired\":true";

struct item {
    uint8_t key[KEY_MAX];
    size_t klen;
    char *rec;                  /* payloads: the record without its payload */
    size_t rlen;
    char msg[ID_MAX], ep[ID_MAX];   /* attempts: the index keys' other ids */
};

/* One intent; the thread has at most one in the writer. */
struct batch {
    struct intent in;           /* first: the writer hands it back */
    struct retention *r;
    enum kind kind;
    int64_t now;
    size_t n, changed;          /* changed: set by apply */
    struct item items[RETENTION_BATCH];
};

/* "The next key to look at is >= key." */
struct pos {
    uint8_t key[KEY_MAX + 1];
    size_t len;
};

struct retention {
    struct retention_opts o;
    pthread_t thread;
    int started;

    pthread_mutex_t lock;       /* guards the fields down to stats */
    pthread_cond_t wake;
    int stopping;
    int answered, status;       /* the writer's answer to the batch */
    struct retention_stats stats;

    /* retention thread only */
    struct batch *b;
    struct pos pos[K_COUNT];    /* the payload sweep's persists across passes */
    char sweep_app[ID_MAX];     /* the app of the sweep's last record */
    int sweep_open;             /* every record of it the sweep saw had no payload */
    int64_t budget;
    struct hmap floors;         /* app_id -> heap msg id: no payload below it */
};

/* --- the writer's side ------------------------------------------------------- */

/*
 * A batch reaches the writer as a log entry (ENTRY_RETENTION): the kind
 * of record, how many, then per record its key and, for payloads, the
 * record as it stays; for attempts, the ids of its two index entries.
 * The entry's time is the pass's: records whose removal depends on time
 * (idempotency answers, tokens) are checked again against it alone. So
 * the thread decides what has outlived its period (the configured
 * periods never reach the apply) and the apply only carries it out,
 * from the entry, in the writer and in hookd reapply alike.
 */

/* An expired record starts with the mark, so no parse is needed to tell. */
static int expired(const void *rec, size_t len)
{
    size_t ml = sizeof(expired_mark) - 1;
    return len >= ml && memcmp(rec, expired_mark, ml) == 0;
}

static int apply_payload(struct store_txn *t, const void *key, size_t klen, const void *rec,
                         size_t rlen, size_t *changed)
{
    const void *v;
    size_t n;
    int rc = store_get(t, DB_MESSAGES, key, klen, &v, &n);
    if (rc == HOOKD_ENOTFOUND)
        return 0;
    if (rc || expired(v, n))
        return rc;   /* expired already */
    rc = store_put(t, DB_MESSAGES, key, klen, rec, rlen, 0);
    *changed += rc == 0;
    return rc;
}

static int del_quiet(struct store_txn *t, enum store_db db, const void *key, size_t klen)
{
    int rc = store_del(t, db, key, klen);
    return rc == HOOKD_ENOTFOUND ? 0 : rc;
}

static int apply_attempt(struct store_txn *t, const void *att, size_t alen, const char *msg,
                         const char *ep, size_t *changed)
{
    char key[KEY_MAX + ID_MAX];
    int rc = store_del(t, DB_ATTEMPTS, att, alen);
    if (rc && rc != HOOKD_ENOTFOUND)
        return rc;
    *changed += rc == 0;
    rc = 0;
    if (ep[0]) {
        size_t kl = (size_t)snprintf(key, sizeof(key), "%s%.*s", ep, (int)alen, (const char *)att);
        rc = del_quiet(t, DB_ATT_BY_EP, key, kl);
    }
    if (!rc && msg[0]) {
        size_t kl = (size_t)snprintf(key, sizeof(key), "%s%.*s", msg, (int)alen, (const char *)att);
        rc = del_quiet(t, DB_ATT_BY_MSG, key, kl);
    }
    return rc;
}

static int64_t be64(const void *p)
{
    const uint8_t *b = p;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | b[i];
    return (int64_t)x;
}

/* Deleted only when still expired: the key may have been used again since. */
static int apply_idem(struct store_txn *t, const void *key, size_t klen, int64_t now,
                      size_t *changed)
{
    const void *v;
    size_t n;
    int rc = store_get(t, DB_IDEMPOTENCY, key, klen, &v, &n);
    if (rc == HOOKD_ENOTFOUND || (!rc && n >= 8 && be64(v) >= now))
        return 0;
    rc = rc ? rc : store_del(t, DB_IDEMPOTENCY, key, klen);
    *changed += rc == 0;
    return rc;
}

/* An application token past its expiry: both its keys (apptoken.h). */
static int apply_token(struct store_txn *t, const void *key, int64_t now, size_t *changed)
{
    struct apptoken tk;
    const uint8_t *h = (const uint8_t *)key + 4;
    int rc = apptoken_find(t, h, &tk);
    if (rc == HOOKD_ENOTFOUND || (!rc && tk.expires_ms > now))
        return 0;
    rc = apptoken_del_hash(t, h);
    *changed += rc == 0;
    return rc == HOOKD_ENOTFOUND ? 0 : rc;
}

/* Items [from, from + n) of the batch as its entry (the writer frees the last one). */
static void batch_encode(struct batch *b, size_t from, size_t n)
{
    struct entry_w *e = &b->in.entry;
    entry_begin(e, ENTRY_RETENTION, b->now);
    entry_put_u64(e, (uint64_t)b->kind);
    entry_put_u64(e, n);
    for (size_t i = from; i < from + n; i++) {
        const struct item *it = &b->items[i];
        entry_put_bytes(e, it->key, it->klen);
        if (b->kind == K_PAYLOAD) {
            entry_put_bytes(e, it->rec, it->rlen);
        } else if (b->kind == K_ATTEMPT) {
            entry_put_str(e, it->msg);
            entry_put_str(e, it->ep);
        }
    }
}

/* One record of the entry; HOOKD_EINVAL when the entry is damaged. */
static int apply_one(struct entry_r *r, enum kind k, struct store_txn *t, size_t *changed)
{
    size_t klen, rlen = 0;
    const void *key = entry_get_bytes(r, &klen), *rec = NULL;
    char msg[ID_MAX] = "", ep[ID_MAX] = "";
    if (k == K_PAYLOAD) {
        rec = entry_get_bytes(r, &rlen);
    } else if (k == K_ATTEMPT) {
        entry_get_strbuf(r, msg, sizeof(msg));
        entry_get_strbuf(r, ep, sizeof(ep));
    }
    if (r->bad || klen > KEY_MAX || (k == K_TOKEN && klen != APPTOKEN_KEY_LEN))
        return HOOKD_EINVAL;
    int64_t now = r->head.now_ms;
    return k == K_PAYLOAD ? apply_payload(t, key, klen, rec, rlen, changed)
           : k == K_ATTEMPT ? apply_attempt(t, key, klen, msg, ep, changed)
           : k == K_TOKEN ? apply_token(t, key, now, changed)
           : apply_idem(t, key, klen, now, changed);
}

/* The fields of an ENTRY_RETENTION after its header; *changed counts. */
static int apply_entry(struct entry_r *r, struct store_txn *t, size_t *changed)
{
    uint64_t k = entry_get_u64(r), n = entry_get_u64(r);
    if (r->bad || k >= K_COUNT || n > RETENTION_BATCH)
        return HOOKD_EINVAL;
    int rc = 0;
    for (uint64_t i = 0; rc == 0 && i < n; i++)
        rc = apply_one(r, (enum kind)k, t, changed);
    return rc;
}

int retention_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t)
{
    size_t changed = 0;
    int rc = apply_entry(r, t, &changed);
    if (!rc && env->counted)
        *env->counted += changed;
    return rc;
}

static int batch_apply(struct intent *in, struct store_txn *t)
{
    struct batch *b = (struct batch *)in;
    struct entry_r r;
    b->changed = 0;
    int rc = entry_open(&r, in->entry.p, in->entry.len);
    rc = rc ? rc : apply_entry(&r, t, &b->changed);
    return rc ? rc : entry_end(&r);
}

static void batch_done(struct intent *in, int status)
{
    struct retention *r = ((struct batch *)in)->r;
    pthread_mutex_lock(&r->lock);
    r->answered = 1;
    r->status = status;
    pthread_mutex_unlock(&r->lock);
    pthread_cond_broadcast(&r->wake);
}

static void count(struct retention *r, enum kind k, size_t n)
{
    pthread_mutex_lock(&r->lock);
    if (k == K_PAYLOAD)
        r->stats.payloads += n;
    else if (k == K_ATTEMPT)
        r->stats.attempts += n;
    else if (k == K_TOKEN)
        r->stats.tokens += n;
    else
        r->stats.idempotency += n;
    pthread_mutex_unlock(&r->lock);
}

/* Hand items [from, from + n) to the writer and wait until they are durable. */
static int submit(struct retention *r, size_t from, size_t n)
{
    struct batch *b = r->b;
    batch_encode(b, from, n);
    pthread_mutex_lock(&r->lock);
    r->answered = 0;
    pthread_mutex_unlock(&r->lock);
    int rc = writer_submit(r->o.writer, &b->in);
    pthread_mutex_lock(&r->lock);
    while (!rc && !r->answered)
        pthread_cond_wait(&r->wake, &r->lock);
    rc = rc ? rc : r->status;
    pthread_mutex_unlock(&r->lock);
    if (!rc)
        count(r, b->kind, b->changed);
    return rc;
}

/*
 * Hand the batch to the writer, wait until it is durable, empty it.
 * Rewriting a record copies its pages before the old ones are freed, so
 * on a full map a whole batch may find no room while a smaller one does:
 * on HOOKD_EFULL the rest goes again in halves, down to one record per
 * commit, each commit freeing pages for the next.
 */
static int run_batch(struct retention *r)
{
    struct batch *b = r->b;
    int rc = 0;
    if (!b->n)
        return 0;
    for (size_t from = 0, step = b->n; from < b->n && !rc;) {
        size_t n = b->n - from < step ? b->n - from : step;
        rc = submit(r, from, n);
        if (rc == HOOKD_EFULL && n > 1) {
            step = n / 2;
            rc = 0;
        } else if (!rc) {
            from += n;
        }
    }
    for (size_t i = 0; i < b->n; i++)
        free(b->items[i].rec);
    b->n = 0;
    struct timespec pause = { 0, PAUSE_NS };
    nanosleep(&pause, NULL);
    return rc;
}

/* --- finding the records -------------------------------------------------------- */

static int pos_seek(struct store_cursor *c, const struct pos *p, struct store_kv *kv)
{
    return p->len ? store_cursor_seek(c, p->key, p->len, kv) : store_cursor_first(c, kv);
}

/* The smallest key after kv's. */
static void pos_after(struct pos *p, const struct store_kv *kv)
{
    p->len = kv->klen < KEY_MAX ? kv->klen : KEY_MAX;
    memcpy(p->key, kv->key, p->len);
    p->key[p->len++] = 0;
}

static struct item *add_item(struct retention *r, const struct store_kv *kv)
{
    struct item *it = &r->b->items[r->b->n++];
    memset(it, 0, sizeof(*it));
    memcpy(it->key, kv->key, kv->klen);
    it->klen = kv->klen;
    return it;
}

static void copy_id(char out[ID_MAX], const char *s)
{
    snprintf(out, ID_MAX, "%s", s && strlen(s) < ID_MAX ? s : "");
}

/* Attempts: the range of ids before the cutoff, from the start. */
static int collect_attempts(struct retention *r, struct store_cursor *c, int64_t now)
{
    char hi[ID_MAX];
    struct store_kv kv;
    id_bound("atmpt_", now - r->o.attempt_ms, 0, hi);
    size_t hl = strlen(hi);
    int rc = pos_seek(c, &r->pos[K_ATTEMPT], &kv);
    for (; rc == 0; rc = store_cursor_next(c, &kv)) {
        if (r->b->n == RETENTION_BATCH)
            return 0;
        int cmp = memcmp(kv.key, hi, kv.klen < hl ? kv.klen : hl);
        if (cmp > 0 || (cmp == 0 && kv.klen >= hl))
            return 1;
        pos_after(&r->pos[K_ATTEMPT], &kv);
        if (kv.klen > KEY_MAX)
            continue;
        struct item *it = add_item(r, &kv);
        json_t *rec = json_loadb(kv.val, kv.vlen, STORE_JSON_FLAGS, NULL);
        copy_id(it->msg, json_string_value(json_object_get(rec, "msgId")));
        copy_id(it->ep, json_string_value(json_object_get(rec, "endpointId")));
        json_decref(rec);
    }
    return rc == HOOKD_ENOTFOUND ? 1 : rc;
}

/* Idempotency: every record, in slices. */
static int collect_idem(struct retention *r, struct store_cursor *c, int64_t now)
{
    struct store_kv kv;
    size_t looked = 0;
    int rc = pos_seek(c, &r->pos[K_IDEM], &kv);
    for (; rc == 0; rc = store_cursor_next(c, &kv)) {
        if (r->b->n == RETENTION_BATCH || looked++ == SLICE)
            return 0;
        pos_after(&r->pos[K_IDEM], &kv);
        if (kv.klen <= KEY_MAX && kv.vlen >= 8 && be64(kv.val) < now)
            add_item(r, &kv);
    }
    return rc == HOOKD_ENOTFOUND ? 1 : rc;
}

/* Application tokens: the "tok|" keys of meta, each with its expiry first. */
static int collect_tokens(struct retention *r, struct store_cursor *c, int64_t now)
{
    struct store_kv kv;
    struct pos *p = &r->pos[K_TOKEN];
    if (!p->len) {
        p->len = 4;
        memcpy(p->key, APPTOKEN_KEY_PREFIX, 4);
    }
    int rc = pos_seek(c, p, &kv);
    for (; rc == 0; rc = store_cursor_next(c, &kv)) {
        if (kv.klen < 4 || memcmp(kv.key, APPTOKEN_KEY_PREFIX, 4) != 0)
            return 1;
        if (r->b->n == RETENTION_BATCH)
            return 0;
        pos_after(p, &kv);
        if (kv.klen == APPTOKEN_KEY_LEN && kv.vlen >= 8 && be64(kv.val) <= now)
            add_item(r, &kv);
    }
    return rc == HOOKD_ENOTFOUND ? 1 : rc;
}

/* --- the payload sweep ---------------------------------------------------------- */

static int payload_gone(json_t *rec)
{
    return !json_object_get(rec, "payload") || json_is_true(json_object_get(rec, "expired"));
}

/* Has the message outlived min(retentionDays, payload-retention)? */
static int past_retention(const struct retention *r, json_t *rec, int64_t now)
{
    json_t *d = json_object_get(rec, "retentionDays");
    int64_t keep = (json_is_integer(d) ? json_integer_value(d) : DEFAULT_DAYS) * DAY_MS;
    if (keep > r->o.payload_ms)
        keep = r->o.payload_ms;
    return json_integer_value(json_object_get(rec, "timestamp")) + keep <= now;
}

/* The record as it stays: everything but payload and raw, marked expired first. */
static char *expired_record(json_t *rec, size_t *len)
{
    static const char *const keep[] = { "id", "eventType", "eventId", "channels", "tags",
                                        "deliverAt", "retentionDays", "timestamp" };
    json_t *o = json_object();
    json_object_set_new(o, "expired", json_true());
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        json_t *v = json_object_get(rec, keep[i]);
        if (v)
            json_object_set(o, keep[i], v);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    *len = s ? strlen(s) : 0;
    return s;
}

static void floor_set(struct retention *r, const char *app, const char *msg)
{
    char next[ID_MAX];
    id_after(msg, msg, next);
    free(hmap_put(&r->floors, app, xstrdup(next)));
}

/* One message record inside the band the sweep reads. */
static void examine(struct retention *r, const struct store_kv *kv, const char *app,
                    const char *msg, const char *old_hi, int64_t now)
{
    json_t *rec = msgrec_parse(kv->val, kv->vlen, NULL);   /* the payload is dropped anyway */
    if (!rec)
        return;   /* not ours to judge: hookd check reports unreadable records */
    if (payload_gone(rec)) {
        if (r->sweep_open)
            floor_set(r, app, msg);
    } else if (strcmp(msg, old_hi) < 0 || past_retention(r, rec, now)) {
        r->sweep_open = 0;
        struct item *it = add_item(r, kv);
        it->rec = expired_record(rec, &it->rlen);
        if (!it->rec)
            r->b->n--;
    } else {
        r->sweep_open = 0;
        r->budget--;
    }
    json_decref(rec);
}

/* app_id | msg_id into its two ids; -1 when the key is not one. */
static int split_key(const struct store_kv *kv, char app[ID_MAX], char msg[ID_MAX])
{
    const char *k = kv->key;
    const char *m = kv->klen < KEY_MAX ? memmem(k, kv->klen, "msg_", 4) : NULL;
    if (!m || m == k || (size_t)(m - k) >= ID_MAX || kv->klen - (size_t)(m - k) >= ID_MAX)
        return -1;
    snprintf(app, ID_MAX, "%.*s", (int)(m - k), k);
    snprintf(msg, ID_MAX, "%.*s", (int)(kv->klen - (size_t)(m - k)), m);
    return 0;
}

static int seek_in(struct store_cursor *c, const char *app, const char *msg, struct store_kv *kv)
{
    char key[2 * ID_MAX];
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", app, msg);
    return store_cursor_seek(c, key, kl, kv);
}

/*
 * A slice of the sweep. old_hi: payloads of older ids all go; band_hi:
 * younger ids all stay. 0 to go on, 1 at the end of the messages (the
 * sweep starts over next pass), 2 when the pass's budget is spent.
 */
static int collect_payloads(struct retention *r, struct store_cursor *c, const char *old_hi,
                            const char *band_hi, int64_t now)
{
    struct store_kv kv;
    size_t looked = 0;
    int rc = pos_seek(c, &r->pos[K_PAYLOAD], &kv);
    while (rc == 0) {
        char app[ID_MAX], msg[ID_MAX];
        if (r->b->n == RETENTION_BATCH || looked == SLICE || r->budget <= 0)
            return r->budget <= 0 ? 2 : 0;
        if (split_key(&kv, app, msg) == 0) {
            if (strcmp(app, r->sweep_app) != 0) {
                snprintf(r->sweep_app, sizeof(r->sweep_app), "%s", app);
                r->sweep_open = 1;
            }
            const char *floor = hmap_get(&r->floors, app);
            if (floor && strcmp(msg, floor) < 0) {
                r->sweep_open = 1;
                rc = seek_in(c, app, floor, &kv);
                continue;
            }
            if (strcmp(msg, band_hi) >= 0) {
                rc = seek_in(c, app, "\x7f", &kv);   /* after every id: the next app */
                continue;
            }
            looked++;
            examine(r, &kv, app, msg, old_hi, now);
        }
        pos_after(&r->pos[K_PAYLOAD], &kv);
        rc = store_cursor_next(c, &kv);
    }
    if (rc != HOOKD_ENOTFOUND)
        return rc;
    r->pos[K_PAYLOAD].len = 0;
    r->sweep_app[0] = '\0';
    return 1;
}

/* --- the oldest payload ---------------------------------------------------------- */

/*
 * Per app, the first message at or after its floor that is not expired,
 * then on to the next app: a seek per app, and a few reads where the
 * floor lags. The oldest of those, 0 when there is none, or -1 when
 * OLDEST_STEPS reads did not reach the end: after a restart the floors
 * are not known yet, and the expired prefix of a large log is long; the
 * first payload sweep learns them.
 */
#define OLDEST_STEPS 200000

static int64_t find_oldest(struct retention *r)
{
    struct store_txn *t;
    struct store_cursor *c = NULL;
    struct store_kv kv;
    int64_t oldest = 0;
    if (store_read(r->o.store, &t))
        return -1;
    int rc = store_cursor_open(t, DB_MESSAGES, &c);
    if (!rc)
        rc = store_cursor_first(c, &kv);
    for (size_t steps = 0; rc == 0 && steps < OLDEST_STEPS; steps++) {
        char app[ID_MAX], msg[ID_MAX];
        int64_t ms;
        if (split_key(&kv, app, msg) == 0) {
            const char *floor = hmap_get(&r->floors, app);
            if (floor && strcmp(msg, floor) < 0) {
                rc = seek_in(c, app, floor, &kv);
                continue;
            }
            if (!expired(kv.val, kv.vlen)) {
                if (id_time_ms("msg_", msg, &ms) == 0 && (!oldest || ms < oldest))
                    oldest = ms;
                rc = seek_in(c, app, "\x7f", &kv);   /* after every id: the next app */
                continue;
            }
        }
        rc = store_cursor_next(c, &kv);
    }
    if (c)
        store_cursor_close(c);
    store_abort(t);
    return rc == HOOKD_ENOTFOUND ? oldest : -1;   /* rc 0: cut short by the budget */
}

/* Publish what find_oldest() found; a look cut short keeps the last figure. */
static void note_oldest(struct retention *r)
{
    int64_t ms = find_oldest(r);
    if (ms < 0)
        return;
    pthread_mutex_lock(&r->lock);
    r->stats.oldest_payload_ms = ms;
    pthread_mutex_unlock(&r->lock);
}

/* --- the pass ------------------------------------------------------------------- */

static int stopping(struct retention *r)
{
    pthread_mutex_lock(&r->lock);
    int s = r->stopping;
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* One slice in a read transaction of its own: 0 more, > 0 done, < 0 error. */
static int collect(struct retention *r, enum kind k, int64_t now)
{
    static const enum store_db dbs[K_COUNT] = { DB_MESSAGES, DB_ATTEMPTS, DB_IDEMPOTENCY,
                                                DB_META };
    struct store_txn *t;
    struct store_cursor *c = NULL;
    int rc = store_read(r->o.store, &t);
    if (rc)
        return rc;
    rc = store_cursor_open(t, dbs[k], &c);
    if (!rc && k == K_PAYLOAD) {
        char old_hi[ID_MAX], band_hi[ID_MAX];
        int64_t band = r->o.payload_ms < DAY_MS ? r->o.payload_ms : DAY_MS;
        id_bound("msg_", now - r->o.payload_ms, 0, old_hi);
        id_bound("msg_", now - band, 0, band_hi);
        rc = collect_payloads(r, c, old_hi, band_hi, now);
    } else if (!rc) {
        rc = k == K_ATTEMPT ? collect_attempts(r, c, now)
             : k == K_TOKEN ? collect_tokens(r, c, now) : collect_idem(r, c, now);
    }
    if (c)
        store_cursor_close(c);
    store_abort(t);
    return rc;
}

/* Collect and apply batches of one kind until its range ends. */
static int run_kind(struct retention *r, enum kind k, int64_t now)
{
    int rc = 0, more = 1;
    r->b->kind = k;
    r->b->now = now;
    if (k != K_PAYLOAD)
        r->pos[k].len = 0;
    while (more && !rc && !stopping(r)) {
        rc = collect(r, k, now);
        more = rc == 0;
        int brc = run_batch(r);
        rc = rc < 0 ? rc : brc;
    }
    return rc;
}

static void run_pass(struct retention *r)
{
    struct retention_stats before;
    int64_t t0 = clock_mono_ms(), now = clock_now_ms();
    int rc = 0;
    retention_get_stats(r, &before);
    r->budget = SWEEP_BUDGET;
    if (r->o.payload_ms > 0)
        rc = run_kind(r, K_PAYLOAD, now);
    if (!rc && r->o.attempt_ms > 0)
        rc = run_kind(r, K_ATTEMPT, now);
    if (!rc)
        rc = run_kind(r, K_IDEM, now);
    if (!rc)
        rc = run_kind(r, K_TOKEN, now);
    note_oldest(r);
    pthread_mutex_lock(&r->lock);
    r->stats.passes++;
    struct retention_stats after = r->stats;
    pthread_mutex_unlock(&r->lock);
    if (rc && rc != HOOKD_ESTOPPED)
        log_warn("retention pass stopped early", "error", hookd_strerror(rc), NULL);
    if (after.payloads == before.payloads && after.attempts == before.attempts
        && after.idempotency == before.idempotency && after.tokens == before.tokens)
        return;
    char p[24], a[24], i[24], tk[24], ms[24];
    snprintf(p, sizeof(p), "%llu", (unsigned long long)(after.payloads - before.payloads));
    snprintf(a, sizeof(a), "%llu", (unsigned long long)(after.attempts - before.attempts));
    snprintf(i, sizeof(i), "%llu", (unsigned long long)(after.idempotency - before.idempotency));
    snprintf(tk, sizeof(tk), "%llu", (unsigned long long)(after.tokens - before.tokens));
    snprintf(ms, sizeof(ms), "%lld", (long long)(clock_mono_ms() - t0));
    log_info("retention pass", "payloads", p, "attempts", a, "idempotency", i, "tokens", tk,
             "ms", ms, NULL);
}

/* Sleep one interval; 1 when asked to stop. */
static int wait_interval(struct retention *r)
{
    struct timespec ts;
    clock_deadline(CLOCK_REALTIME, r->o.interval_ms, &ts);
    pthread_mutex_lock(&r->lock);
    while (!r->stopping && pthread_cond_timedwait(&r->wake, &r->lock, &ts) == 0)
        ;   /* woken by a batch answer or spuriously: the deadline stands */
    int s = r->stopping;
    pthread_mutex_unlock(&r->lock);
    return s;
}

static void *retention_main(void *arg)
{
    struct retention *r = arg;
    note_oldest(r);   /* so the figure is there before the first pass */
    while (!wait_interval(r))
        if (!r->o.may_run || r->o.may_run(r->o.may_run_ctx))
            run_pass(r);
    return NULL;
}

/* --- lifecycle ------------------------------------------------------------------ */

int retention_new(struct retention **out, const struct retention_opts *o)
{
    struct retention *r = xcalloc(1, sizeof(*r));
    r->o = *o;
    if (r->o.interval_ms < 1)
        r->o.interval_ms = 1;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    hmap_init(&r->floors);
    r->b = xcalloc(1, sizeof(*r->b));
    r->b->r = r;
    r->b->in.apply = batch_apply;
    r->b->in.done = batch_done;
    *out = r;
    return 0;
}

int retention_start(struct retention *r)
{
    int rc = thread_start(&r->thread, "hookd-retention", retention_main, r);
    if (rc)
        return rc;
    r->started = 1;
    return 0;
}

void retention_stop(struct retention *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    pthread_mutex_unlock(&r->lock);
    pthread_cond_broadcast(&r->wake);
    if (r->started)
        pthread_join(r->thread, NULL);
    r->started = 0;
}

void retention_free(struct retention *r)
{
    if (!r)
        return;
    const char *k;
    void *v;
    for (size_t i = 0; hmap_next(&r->floors, &i, &k, &v);)
        free(v);
    hmap_release(&r->floors);
    free(r->b);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    free(r);
}

void retention_get_stats(struct retention *r, struct retention_stats *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->stats;
    pthread_mutex_unlock(&r->lock);
}
