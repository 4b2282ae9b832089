/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compare.c - `hookd check --compare A B`: two logs, record for record.
 *
 * A merge walk: for each database one cursor per log, both in LMDB's key
 * order (memcmp, then the shorter key first: store.c sets no custom
 * comparator), and always the smaller key moves on. A key on one side only
 * is "only in A" or "only in B"; a key on both sides is equal or differs
 * by its value bytes. Memory stays bounded whatever the size of the logs:
 * nothing is kept but the counts and the few differences printed, and a
 * value is parsed (as JSON, for a hint) only when its difference is shown.
 *
 * Each log is read in one read transaction, so each side is one snapshot
 * even beside a live server. Both directories are checked (data.mdb there
 * and whole, store_verify_file) before either is opened, so a bad argument
 * leaves nothing behind in the other (LMDB creates lock.mdb on open). The
 * same log named twice is opened once: LMDB forbids one process to open
 * an environment twice, since closing one would drop the other's locks.
 *
 * "Equal" means byte for byte, including JSON field order: a re-applied
 * store must be the same store, not an equivalent one. The hint for a
 * differing JSON record says when only the bytes differ.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "compare.h"
#include "err.h"
#include "store.h"

#define SHOW_PER_DB 10   /* differences printed per database ... */
#define SHOW_MAX 50      /* ... and in all; the rest are only counted */
#define TEXT_MAX 400     /* a printed key, escapes included */

/*
 * Records that are one node's own and never compared: the only such
 * records today. Everything else in store.h must come out the same from a
 * deterministic re-apply and is compared, in particular:
 *   meta "schema"        written once by store_open, the same version;
 *   meta "failed"        a count kept by the outcomes that apply applies;
 *   meta "tok|", "tid|"  application tokens, created by intents;
 *   meta "epstat:..."    per-day counts of delivery changes: the day is
 *                        the change's time, which the entry carries;
 *   ep_health            times and counts of attempt outcomes and of the
 *                        due entries they add and remove;
 *   idempotency          the stored response and its expiry, decided
 *                        before the entry is written.
 * Files beside data.mdb (hookd.lock, lock.mdb, listen, admin.token) are
 * not records and are not read. A per-node record added later (say the
 * sequence a node has applied up to, if it differs between an owner and
 * its standby) belongs in this table, with its reason.
 */
static const struct compare_local {
    enum store_db db;
    const char *key;
    int prefix;              /* 1: every key starting with key */
    const char *why;
} compare_locals[] = {
    { DB_META, "probe", 0,
      "the health check's test write, at this node's clock" },
};
#define N_LOCALS (sizeof(compare_locals) / sizeof(compare_locals[0]))

struct db_counts {
    long long in_a, in_b, equal, only_a, only_b, differ, skipped, shown;
};

struct compare {
    struct store_txn *ta, *tb;
    const struct compare_ignore *ignore;
    size_t nignore;
    FILE *out;
    struct db_counts n[DB_COUNT];
    long long total, shown;
};

/* --- keys ------------------------------------------------------------------ */

/* A key as text: bytes outside ASCII graphics (and backslash) as \xNN, cut with "...". */
static const char *key_text(const void *key, size_t n, char out[TEXT_MAX])
{
    const unsigned char *k = key;
    size_t o = 0, i;
    for (i = 0; i < n && o + 8 < TEXT_MAX; i++) {
        if (k[i] > 0x20 && k[i] < 0x7f && k[i] != '\\')
            out[o++] = (char)k[i];
        else
            o += (size_t)snprintf(out + o, TEXT_MAX - o, "\\x%02x", k[i]);
    }
    if (i < n)
        o += (size_t)snprintf(out + o, TEXT_MAX - o, "...");
    out[o] = '\0';
    return out;
}

/* LMDB's default order: memcmp over the common length, then the shorter first. */
static int key_cmp(const struct store_kv *a, const struct store_kv *b)
{
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int d = n ? memcmp(a->key, b->key, n) : 0;
    if (d)
        return d;
    return a->klen < b->klen ? -1 : a->klen > b->klen;
}

static int has_prefix(const struct store_kv *kv, const void *p, size_t n)
{
    return n == 0 || (kv->klen >= n && memcmp(kv->key, p, n) == 0);
}

static int skipped(const struct compare *c, enum store_db db, const struct store_kv *kv)
{
    for (size_t i = 0; i < N_LOCALS; i++) {
        const struct compare_local *l = &compare_locals[i];
        size_t n = strlen(l->key);
        if (l->db == db && has_prefix(kv, l->key, n) && (l->prefix || kv->klen == n))
            return 1;
    }
    for (size_t i = 0; i < c->nignore; i++)
        if (c->ignore[i].db == db && has_prefix(kv, c->ignore[i].prefix, c->ignore[i].plen))
            return 1;
    return 0;
}

/* --- differences ------------------------------------------------------------- */

/*
 * The top-level fields that differ, in A's field order and then B's own:
 * "url", "x" (only in B), at most 4 named, into buf. Returns how many.
 */
static int field_diffs(json_t *a, json_t *b, char *buf, size_t cap)
{
    json_t *side[2] = { a, b }, *v;
    const char *name;
    size_t o = 0;
    int found = 0;
    buf[0] = '\0';
    for (int s = 0; s < 2; s++) {
        json_object_foreach(side[s], name, v) {
            json_t *w = json_object_get(side[!s], name);
            if (w && (s == 1 || json_equal(v, w)))
                continue;   /* equal, or B's field that the first pass judged */
            if (++found > 4) {
                if (o < cap)
                    snprintf(buf + o, cap - o, ", ...");
                return found;
            }
            if (o < cap)
                o += (size_t)snprintf(buf + o, cap - o, "%s\"%.40s\"%s", found > 1 ? ", " : "",
                                      name, w ? "" : s ? " (only in B)" : " (only in A)");
        }
    }
    return found;
}

/* What tells the two values apart, in a few words, into buf. */
static void value_hint(const struct store_kv *a, const struct store_kv *b, char *buf, size_t cap)
{
    char fields[200];
    int o = snprintf(buf, cap, "A %zu bytes, B %zu bytes; ", a->vlen, b->vlen);
    size_t left = cap - (size_t)o;
    json_t *ja = json_loadb(a->val, a->vlen, STORE_JSON_FLAGS, NULL);
    json_t *jb = ja ? json_loadb(b->val, b->vlen, STORE_JSON_FLAGS, NULL) : NULL;
    if (json_is_object(ja) && json_is_object(jb)) {
        if (field_diffs(ja, jb, fields, sizeof(fields)))
            snprintf(buf + o, left, "fields differ: %s", fields);
        else
            snprintf(buf + o, left, "the same JSON, other bytes (field order or spacing)");
    } else {
        size_t n = a->vlen < b->vlen ? a->vlen : b->vlen, i = 0;
        const unsigned char *p = a->val, *q = b->val;
        while (i < n && p[i] == q[i])
            i++;
        snprintf(buf + o, left, "first difference at byte %zu", i);
    }
    json_decref(ja);
    json_decref(jb);
}

enum diff_kind { ONLY_A, ONLY_B, DIFFER };

static void difference(struct compare *c, enum store_db db, enum diff_kind kind,
                       const struct store_kv *a, const struct store_kv *b)
{
    struct db_counts *n = &c->n[db];
    char text[TEXT_MAX], hint[256];
    c->total++;
    *(kind == ONLY_A ? &n->only_a : kind == ONLY_B ? &n->only_b : &n->differ) += 1;
    if (n->shown >= SHOW_PER_DB || c->shown >= SHOW_MAX)
        return;
    n->shown++;
    c->shown++;
    const struct store_kv *kv = kind == ONLY_B ? b : a;
    fprintf(c->out, "difference: %s '%s': ", store_db_name(db), key_text(kv->key, kv->klen, text));
    if (kind == DIFFER) {
        value_hint(a, b, hint, sizeof(hint));
        fprintf(c->out, "values differ (%s)\n", hint);
    } else {
        fprintf(c->out, "only in %s (%zu bytes)\n", kind == ONLY_A ? "A" : "B", kv->vlen);
    }
}

/* --- the walk ------------------------------------------------------------------ */

/* One log's cursor over db; more is 0 past the end. */
struct side {
    struct store_cursor *cur;
    struct store_kv kv;
    int more;
    long long *count;
};

static int side_step(struct side *s, int first)
{
    int rc = first ? store_cursor_first(s->cur, &s->kv) : store_cursor_next(s->cur, &s->kv);
    s->more = rc == 0;
    if (rc == 0)
        (*s->count)++;
    return rc == HOOKD_ENOTFOUND ? 0 : rc;
}

/* The smaller key of the two (d: A's key against B's) is the record judged. */
static void judge(struct compare *c, enum store_db db, int d, const struct store_kv *a,
                  const struct store_kv *b)
{
    if (skipped(c, db, d > 0 ? b : a))
        c->n[db].skipped++;
    else if (d < 0)
        difference(c, db, ONLY_A, a, NULL);
    else if (d > 0)
        difference(c, db, ONLY_B, NULL, b);
    else if (a->vlen == b->vlen && (a->vlen == 0 || memcmp(a->val, b->val, a->vlen) == 0))
        c->n[db].equal++;
    else
        difference(c, db, DIFFER, a, b);
}

/* Merge-walk db on both sides. 0, or a read error and which side (*side_b). */
static int walk_db(struct compare *c, enum store_db db, int *side_b)
{
    struct db_counts *n = &c->n[db];
    struct side a = { .count = &n->in_a }, b = { .count = &n->in_b };
    *side_b = 0;
    int rc = store_cursor_open(c->ta, db, &a.cur);
    if (rc)
        return rc;
    if ((rc = store_cursor_open(c->tb, db, &b.cur))) {
        *side_b = 1;
        goto close_a;
    }
    if ((rc = side_step(&a, 1)))
        goto close_b;
    if ((rc = side_step(&b, 1))) {
        *side_b = 1;
        goto close_b;
    }
    while (a.more || b.more) {
        int d = !a.more ? 1 : !b.more ? -1 : key_cmp(&a.kv, &b.kv);
        judge(c, db, d, &a.kv, &b.kv);
        if (d <= 0 && (rc = side_step(&a, 0))) {
            *side_b = 0;
            break;
        }
        if (d >= 0 && (rc = side_step(&b, 0))) {
            *side_b = 1;
            break;
        }
    }
close_b:
    store_cursor_close(b.cur);
close_a:
    store_cursor_close(a.cur);
    return rc;
}

static void report(const struct compare *c)
{
    FILE *o = c->out;
    long long records = 0, skips = 0;
    fprintf(o, "%-12s %10s %10s %10s %10s %10s %10s %10s\n", "database", "in A", "in B", "equal",
            "only A", "only B", "differ", "skipped");
    for (int i = 0; i < DB_COUNT; i++) {
        const struct db_counts *n = &c->n[i];
        fprintf(o, "%-12s %10lld %10lld %10lld %10lld %10lld %10lld %10lld\n",
                store_db_name((enum store_db)i), n->in_a, n->in_b, n->equal, n->only_a, n->only_b,
                n->differ, n->skipped);
        records += n->equal;
        skips += n->skipped;
    }
    if (c->total == 0)
        fprintf(o, "result: identical (%lld records equal, %lld node-local skipped)\n", records,
                skips);
    else if (c->total > c->shown)
        fprintf(o, "result: %lld differences (the first %lld are shown)\n", c->total, c->shown);
    else
        fprintf(o, "result: %lld differences\n", c->total);
}

/* --- opening ------------------------------------------------------------------- */

/* Is there a whole log in dir? 0 (st: its data.mdb), or 2 with the reason said. */
static int preflight(const char *dir, struct stat *st, FILE *err)
{
    char path[4096], why[640];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if (stat(path, st)) {
        struct stat d;
        int e = errno;
        fprintf(err, "hookd: cannot open the log in '%s': %s\n", dir,
                stat(dir, &d) ? "no such directory"
                : e == ENOENT ? "no data.mdb there (not a data directory?)" : strerror(e));
        return 2;
    }
    int rc = store_verify_file(dir, why, sizeof(why));
    if (rc) {
        fprintf(err, "hookd: cannot open the log in '%s': %s\n", dir, why);
        return 2;
    }
    return 0;
}

static int open_log(const char *dir, struct store **s, FILE *err)
{
    char why[640];
    int rc = store_open(s, dir, 0, 1);   /* map size 0: the environment's own */
    if (rc == HOOKD_ESCHEMA)
        fprintf(err, "hookd: cannot open the log in '%s': it holds no hookd log of schema %d\n",
                dir, STORE_SCHEMA);
    else if (rc)
        fprintf(err, "hookd: cannot open the log in '%s': %s\n", dir,
                store_open_why(dir, rc, why, sizeof(why)));
    return rc ? 2 : 0;
}

static int read_txn(struct store *s, const char *dir, struct store_txn **t, FILE *err)
{
    int rc = store_read(s, t);
    if (rc)
        fprintf(err, "hookd: cannot read the log in '%s': %s\n", dir, hookd_strerror(rc));
    return rc ? 2 : 0;
}

static int walk_all(struct compare *c, const char *dir_a, const char *dir_b, FILE *err)
{
    for (int i = 0; i < DB_COUNT; i++) {
        int side_b = 0, rc = walk_db(c, (enum store_db)i, &side_b);
        if (rc) {
            fprintf(err, "hookd: cannot read database '%s' of the log in '%s': %s\n",
                    store_db_name((enum store_db)i), side_b ? dir_b : dir_a,
                    hookd_strerror(rc));
            return 2;
        }
    }
    report(c);
    return c->total ? 1 : 0;
}

int compare_run(const char *dir_a, const char *dir_b, const struct compare_ignore *ignore,
                size_t n, FILE *out, FILE *err)
{
    struct compare c = { .ignore = ignore, .nignore = ignore ? n : 0, .out = out };
    struct store *sa = NULL, *sb = NULL;
    struct stat fa, fb;
    if (preflight(dir_a, &fa, err) || preflight(dir_b, &fb, err))
        return 2;
    int same = fa.st_dev == fb.st_dev && fa.st_ino == fb.st_ino;
    int rc = open_log(dir_a, &sa, err);
    if (rc)
        return rc;
    if (same)
        sb = sa;
    else if ((rc = open_log(dir_b, &sb, err)))
        goto close_a;
    if ((rc = read_txn(sa, dir_a, &c.ta, err)))
        goto close_b;
    if ((rc = read_txn(sb, dir_b, &c.tb, err)))
        goto abort_a;
    fprintf(out, "comparing the log in '%s' (A) with the log in '%s' (B)%s\n", dir_a, dir_b,
            same ? ", the same file" : "");
    rc = walk_all(&c, dir_a, dir_b, err);
    store_abort(c.tb);
abort_a:
    store_abort(c.ta);
close_b:
    if (sb != sa)
        store_close(sb);
close_a:
    store_close(sa);
    return rc;
}

/* --- operators' options --------------------------------------------------------- */

static int hex_digit(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* KEYPREFIX text with \xNN and \\ into bytes; -1 on a bad escape or overflow. */
static int unescape(const char *s, struct compare_ignore *out)
{
    size_t n = 0;
    while (*s) {
        int hi, lo;
        if (n == sizeof(out->prefix))
            return -1;
        if (s[0] != '\\') {
            out->prefix[n++] = (unsigned char)*s++;
        } else if (s[1] == '\\') {
            out->prefix[n++] = '\\';
            s += 2;
        } else if (s[1] == 'x' && (hi = hex_digit(s[2])) >= 0 && (lo = hex_digit(s[3])) >= 0) {
            out->prefix[n++] = (unsigned char)(hi << 4 | lo);
            s += 4;
        } else {
            return -1;
        }
    }
    out->plen = n;
    return 0;
}

int compare_ignore_parse(const char *arg, struct compare_ignore *out, char *err, size_t cap)
{
    const char *colon = strchr(arg, ':');
    size_t nlen = colon ? (size_t)(colon - arg) : strlen(arg);
    struct compare_ignore ig = { 0 };
    int db = 0;
    while (db < DB_COUNT && (strlen(store_db_name((enum store_db)db)) != nlen
                             || strncmp(store_db_name((enum store_db)db), arg, nlen)))
        db++;
    if (db == DB_COUNT) {
        snprintf(err, cap, "--ignore '%s': no database '%.*s' (one of meta, apps, uids, "
                 "endpoints, event_types, messages, deliveries, due, attempts, att_by_ep, "
                 "att_by_msg, ep_health, idempotency)", arg, (int)nlen, arg);
        return -1;
    }
    ig.db = (enum store_db)db;
    if (colon && unescape(colon + 1, &ig)) {
        snprintf(err, cap, "--ignore '%s': the key prefix is longer than %zu bytes or has an "
                 "escape other than \\xNN or \\\\", arg, sizeof(ig.prefix));
        return -1;
    }
    *out = ig;
    return 0;
}

void compare_local_help(FILE *out)
{
    char text[TEXT_MAX];
    for (size_t i = 0; i < N_LOCALS; i++) {
        const struct compare_local *l = &compare_locals[i];
        fprintf(out, "                                  %s '%s'%s: %s\n", store_db_name(l->db),
                key_text(l->key, strlen(l->key), text), l->prefix ? "..." : "", l->why);
    }
}
