/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.c - `hookd check`: the log's cross-database invariants.
 *
 * Everything runs in one read transaction, so the check judges one
 * snapshot the writer committed as a whole and may run beside a live
 * server (LMDB readers never block the writer). The due index is read
 * first into a set of (message, endpoint) pairs, so that each pending
 * delivery finds its due entry without a range scan per row. That set
 * grows with the backlog: check is an operator's tool run on demand, not
 * part of the server that DESIGN.md's bounded-memory promise is about.
 *
 * One exception to "pending has a due entry": when an endpoint is deleted
 * the dispatcher drops its due entries but the deliveries rows stay, so a
 * pending row whose endpoint is gone is counted as an orphan, not as a
 * violation.
 *
 * Repair (check_run with repair set) mends only what the attempt indexes
 * can lose without losing anything else: an attempt record that cannot be
 * decoded goes, an index entry whose attempt is missing, unreadable or of
 * another owner goes, and a readable attempt missing an index entry gets
 * it back. The fixes are collected during the read-only check and written
 * in one write transaction after it; the check then runs again and its
 * result is the exit status. Every other violation is left for an
 * operator (the data it concerns is not derivable from the rest).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "check.h"
#include "cmeta.h"
#include "err.h"
#include "hmap.h"
#include "id.h"
#include "mem.h"
#include "store.h"

#define SHOW_MAX 20      /* violations printed; the rest are only counted */
#define EP_LEN 30        /* "ep_" + 27 (id.h) */
#define MSG_LEN 31       /* "msg_" + 27 */
#define TEXT_MAX 256

enum check_id {
    CK_SCHEMA,
    CK_DUE_DELIVERY,
    CK_DUE_MESSAGE,
    CK_DELIVERY_MESSAGE,
    CK_PENDING_DUE,
    CK_ATTEMPT_INDEX,
    CK_INDEX_ATTEMPT,
    CK_UID_RECORD,
    CK_READ,
    CK_COUNT
};

static const char *const check_names[CK_COUNT] = {
    [CK_SCHEMA] = "schema version",
    [CK_DUE_DELIVERY] = "due entry -> delivery",
    [CK_DUE_MESSAGE] = "due entry -> message",
    [CK_DELIVERY_MESSAGE] = "delivery -> message",
    [CK_PENDING_DUE] = "pending/sending delivery -> due entry",
    [CK_ATTEMPT_INDEX] = "attempt -> att_by_ep and att_by_msg",
    [CK_INDEX_ATTEMPT] = "att_by_ep/att_by_msg -> attempt",
    [CK_UID_RECORD] = "uid -> record",
    [CK_READ] = "databases readable",
};

/* One repair: put key -> val into db, or delete key when val is NULL. */
struct fix {
    enum store_db db;
    void *key, *val;
    size_t klen, vlen;
};

struct check {
    struct store_txn *t;
    FILE *out;
    int repair;                    /* collect fixes */
    struct fix *fixes;
    size_t nfix, capfix;
    struct hmap due;               /* msg_id ep_id of every due entry */
    long long rows[DB_COUNT];
    long long checked[CK_COUNT];
    long long failed[CK_COUNT];
    long long states[8];           /* deliveries by enum store_dstate */
    long long orphans;             /* pending rows of deleted endpoints */
    long long total;
};

__attribute__((format(printf, 3, 4)))
static void violation(struct check *c, enum check_id ck, const char *fmt, ...)
{
    c->failed[ck]++;
    if (c->total++ >= SHOW_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->out, "violation: %s: ", check_names[ck]);
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    va_end(ap);
}

static void add_fix(struct check *c, enum store_db db, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
    if (!c->repair)
        return;
    if (c->nfix == c->capfix) {
        c->capfix = c->capfix ? 2 * c->capfix : 64;
        c->fixes = xrealloc(c->fixes, c->capfix * sizeof(*c->fixes));
    }
    struct fix *f = &c->fixes[c->nfix++];
    f->db = db;
    f->key = xmemdup(key, klen);
    f->klen = klen;
    f->val = val ? xmemdup(val, vlen) : NULL;
    f->vlen = vlen;
}

/* The index entry a|b -> want, put back. */
static void fix_index(struct check *c, enum store_db db, const char *a, const char *b,
                      const char *want)
{
    char key[2 * ID_MAX];
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", a, b);
    add_fix(c, db, key, kl, want, strlen(want));
}

/* A key as printable text: bytes outside ASCII graphics as \xNN. */
static const char *key_text(const void *key, size_t n, char out[TEXT_MAX])
{
    const unsigned char *k = key;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < TEXT_MAX; i++)
        o += (size_t)(k[i] > 0x20 && k[i] < 0x7f && k[i] != '\\'
                      ? snprintf(out + o, TEXT_MAX - o, "%c", k[i])
                      : snprintf(out + o, TEXT_MAX - o, "\\x%02x", k[i]));
    out[o] = '\0';
    return out;
}

/* Copy n bytes of an id into out; 0, or -1 when it cannot be one. */
static int take_id(const void *p, size_t n, char out[ID_MAX])
{
    if (n == 0 || n >= ID_MAX || memchr(p, '\0', n))
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static int exists2(struct check *c, enum store_db db, const char *a, const char *b)
{
    char key[2 * ID_MAX];
    const void *v;
    size_t n;
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", a, b);
    return store_get(c->t, db, key, kl, &v, &n) == 0;
}

static const char *str_of(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static void check_schema(struct check *c)
{
    const void *v;
    size_t n;
    c->checked[CK_SCHEMA]++;
    if (store_get(c->t, DB_META, "schema", 6, &v, &n) || n != 4) {
        violation(c, CK_SCHEMA, "meta 'schema': missing or malformed");
        return;
    }
    const uint8_t *p = v;
    uint32_t ver = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    fprintf(c->out, "schema: %u\n", ver);
    if (ver != STORE_SCHEMA)
        violation(c, CK_SCHEMA, "meta 'schema': version %u, this hookd reads %d", ver,
                  STORE_SCHEMA);
}

/* --- due, deliveries --------------------------------------------------------- */

static int due_row(const struct store_kv *kv, void *arg)
{
    struct check *c = arg;
    char ep[ID_MAX], msg[ID_MAX], app[ID_MAX], pair[2 * ID_MAX], text[TEXT_MAX];
    int64_t ms;
    c->rows[DB_DUE]++;
    c->checked[CK_DUE_DELIVERY]++;
    c->checked[CK_DUE_MESSAGE]++;
    if (store_due_parse(kv->key, kv->klen, ep, &ms, msg) || kv->vlen != STORE_DUE_VAL_LEN
        || take_id(kv->val, strnlen(kv->val, 31), app)) {
        violation(c, CK_DUE_DELIVERY, "due '%s': malformed entry",
                  key_text(kv->key, kv->klen, text));
        return 0;
    }
    if (!exists2(c, DB_DELIVERIES, msg, ep))
        violation(c, CK_DUE_DELIVERY, "due '%s|%lld|%s': deliveries row '%s|%s' not found", ep,
                  (long long)ms, msg, msg, ep);
    if (!exists2(c, DB_MESSAGES, app, msg))
        violation(c, CK_DUE_MESSAGE, "due '%s|%lld|%s': message '%s|%s' not found", ep,
                  (long long)ms, msg, app, msg);
    snprintf(pair, sizeof(pair), "%s%s", msg, ep);
    hmap_put(&c->due, pair, c);
    return 0;
}

static int known_state(int s)
{
    return s == DSTATE_PENDING || s == DSTATE_SENDING || s == DSTATE_SUCCESS
           || s == DSTATE_FAIL || s == DSTATE_HELD;
}

/* A pending or sending row needs a due entry, or it is never sent again. */
static void pending_has_due(struct check *c, const struct store_delivery *d, const char *msg,
                            const char *ep)
{
    char pair[2 * ID_MAX];
    snprintf(pair, sizeof(pair), "%s%s", msg, ep);
    c->checked[CK_PENDING_DUE]++;
    if (hmap_get(&c->due, pair))
        return;
    if (!exists2(c, DB_ENDPOINTS, d->app_id, ep))
        c->orphans++;
    else
        violation(c, CK_PENDING_DUE, "deliveries '%s|%s': %s, but no due entry for it", msg, ep,
                  d->state == DSTATE_PENDING ? "pending" : "sending");
}

static int delivery_row(const struct store_kv *kv, void *arg)
{
    struct check *c = arg;
    struct store_delivery d;
    char msg[ID_MAX], ep[ID_MAX], text[TEXT_MAX];
    c->rows[DB_DELIVERIES]++;
    c->checked[CK_DELIVERY_MESSAGE]++;
    if (kv->klen != MSG_LEN + EP_LEN || take_id(kv->key, MSG_LEN, msg)
        || take_id((const char *)kv->key + MSG_LEN, EP_LEN, ep)
        || store_delivery_decode(kv->val, kv->vlen, &d) || !known_state(d.state)) {
        violation(c, CK_DELIVERY_MESSAGE, "deliveries '%s': malformed row",
                  key_text(kv->key, kv->klen, text));
        return 0;
    }
    c->states[d.state]++;
    if (!exists2(c, DB_MESSAGES, d.app_id, msg))
        violation(c, CK_DELIVERY_MESSAGE, "deliveries '%s|%s': message '%s|%s' not found", msg,
                  ep, d.app_id, msg);
    if (d.state == DSTATE_PENDING || d.state == DSTATE_SENDING)
        pending_has_due(c, &d, msg, ep);
    return 0;
}

/* --- attempts and their two indexes ------------------------------------------ */

/* Does db hold a|b with the value want? */
static int index_holds(struct check *c, enum store_db db, const char *a, const char *b,
                       const char *want)
{
    char key[2 * ID_MAX];
    const void *v;
    size_t n;
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", a, b);
    return store_get(c->t, db, key, kl, &v, &n) == 0 && n == strlen(want)
           && memcmp(v, want, n) == 0;
}

static int attempt_row(const struct store_kv *kv, void *arg)
{
    struct check *c = arg;
    char id[ID_MAX], text[TEXT_MAX];
    c->rows[DB_ATTEMPTS]++;
    c->checked[CK_ATTEMPT_INDEX]++;
    json_t *rec = json_loadb(kv->val, kv->vlen, STORE_JSON_FLAGS, NULL);
    const char *msg = str_of(rec, "msgId"), *ep = str_of(rec, "endpointId");
    char m[ID_MAX], e[ID_MAX];
    if (!msg || !ep || take_id(kv->key, kv->klen, id) || take_id(msg, strlen(msg), m)
        || take_id(ep, strlen(ep), e)) {
        violation(c, CK_ATTEMPT_INDEX, "attempts '%s': record cannot be decoded",
                  key_text(kv->key, kv->klen, text));
        add_fix(c, DB_ATTEMPTS, kv->key, kv->klen, NULL, 0);
    } else {
        if (!index_holds(c, DB_ATT_BY_EP, ep, id, msg)) {
            violation(c, CK_ATTEMPT_INDEX, "attempts '%s': att_by_ep '%s|%s' -> '%s' not found",
                      id, ep, id, msg);
            fix_index(c, DB_ATT_BY_EP, ep, id, msg);
        }
        if (!index_holds(c, DB_ATT_BY_MSG, msg, id, ep)) {
            violation(c, CK_ATTEMPT_INDEX, "attempts '%s': att_by_msg '%s|%s' -> '%s' not found",
                      id, msg, id, ep);
            fix_index(c, DB_ATT_BY_MSG, msg, id, ep);
        }
    }
    json_decref(rec);
    return 0;
}

/* One of the two indexes: key owner | attempt_id, value the other id. */
struct index_scan {
    struct check *c;
    enum store_db db;
    size_t owner_len;
    const char *owner_field, *value_field;
};

static int index_row(const struct store_kv *kv, void *arg)
{
    struct index_scan *x = arg;
    struct check *c = x->c;
    const char *name = store_db_name(x->db);
    char owner[ID_MAX], att[ID_MAX], val[ID_MAX], text[TEXT_MAX];
    json_t *rec;
    c->rows[x->db]++;
    c->checked[CK_INDEX_ATTEMPT]++;
    if (kv->klen <= x->owner_len || take_id(kv->key, x->owner_len, owner)
        || take_id((const char *)kv->key + x->owner_len, kv->klen - x->owner_len, att)
        || take_id(kv->val, kv->vlen, val)) {
        violation(c, CK_INDEX_ATTEMPT, "%s '%s': malformed entry", name,
                  key_text(kv->key, kv->klen, text));
        add_fix(c, x->db, kv->key, kv->klen, NULL, 0);
        return 0;
    }
    int rc = store_get_json(c->t, DB_ATTEMPTS, att, strlen(att), &rec);
    if (rc) {
        violation(c, CK_INDEX_ATTEMPT, "%s '%s|%s': attempt '%s' %s", name, owner, att, att,
                  rc == HOOKD_ENOTFOUND ? "not found" : "cannot be decoded");
        add_fix(c, x->db, kv->key, kv->klen, NULL, 0);
        return 0;
    }
    const char *o = str_of(rec, x->owner_field), *v = str_of(rec, x->value_field);
    if (!o || !v || strcmp(o, owner) || strcmp(v, val)) {
        violation(c, CK_INDEX_ATTEMPT, "%s '%s|%s' -> '%s': attempt '%s' has %s '%s', %s '%s'",
                  name, owner, att, val, att, x->owner_field, o ? o : "", x->value_field,
                  v ? v : "");
        if (!o || strcmp(o, owner))   /* same owner: the attempt's own row puts it right */
            add_fix(c, x->db, kv->key, kv->klen, NULL, 0);
    }
    json_decref(rec);
    return 0;
}

/* --- uids ---------------------------------------------------------------------- */

static enum store_db uid_target(char kind)
{
    return kind == 'a' ? DB_APPS : kind == 'e' ? DB_ENDPOINTS : kind == 'm' ? DB_MESSAGES
                                                                            : DB_COUNT;
}

static int uid_row(const struct store_kv *kv, void *arg)
{
    struct check *c = arg;
    const char *k = kv->key;
    const char *nul = kv->klen > 1 ? memchr(k + 1, '\0', kv->klen - 1) : NULL;
    size_t plen = nul ? (size_t)(nul - k - 1) : 0;
    char parent[ID_MAX] = "", id[ID_MAX], text[TEXT_MAX];
    c->rows[DB_UIDS]++;
    c->checked[CK_UID_RECORD]++;
    key_text(kv->key, kv->klen, text);
    enum store_db db = kv->klen ? uid_target(k[0]) : DB_COUNT;
    if (!nul || db == DB_COUNT || (plen && take_id(k + 1, plen, parent))
        || (db == DB_APPS) != (plen == 0) || take_id(kv->val, kv->vlen, id)) {
        violation(c, CK_UID_RECORD, "uids '%s': malformed entry", text);
        return 0;
    }
    if (!exists2(c, db, parent, id))
        violation(c, CK_UID_RECORD, "uids '%s': %s '%s%s%s' not found", text,
                  store_db_name(db), parent, plen ? "|" : "", id);
    return 0;
}

/* --- the run ------------------------------------------------------------------- */

static int count_row(const struct store_kv *kv, void *arg)
{
    (*(long long *)arg)++;
    return 0;
}

static void scan(struct check *c, enum store_db db, store_scan_fn fn, void *arg)
{
    int rc = store_scan(c->t, db, NULL, 0, NULL, 0, 0, fn, arg);
    c->checked[CK_READ]++;
    if (rc)
        violation(c, CK_READ, "cannot read database '%s': %s", store_db_name(db),
                  hookd_strerror(rc));
}

static void run_checks(struct check *c)
{
    struct index_scan by_ep = { c, DB_ATT_BY_EP, EP_LEN, "endpointId", "msgId" };
    struct index_scan by_msg = { c, DB_ATT_BY_MSG, MSG_LEN, "msgId", "endpointId" };
    check_schema(c);
    scan(c, DB_DUE, due_row, c);          /* first: deliveries look up its pairs */
    scan(c, DB_DELIVERIES, delivery_row, c);
    scan(c, DB_ATTEMPTS, attempt_row, c);
    scan(c, DB_ATT_BY_EP, index_row, &by_ep);
    scan(c, DB_ATT_BY_MSG, index_row, &by_msg);
    scan(c, DB_UIDS, uid_row, c);
    static const enum store_db plain[] = { DB_META, DB_APPS, DB_ENDPOINTS, DB_EVENT_TYPES,
                                           DB_MESSAGES, DB_EP_HEALTH, DB_IDEMPOTENCY };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        scan(c, plain[i], count_row, &c->rows[plain[i]]);
}

static void report(const struct check *c)
{
    FILE *o = c->out;
    fprintf(o, "rows:\n");
    for (int i = 0; i < DB_COUNT; i++)
        fprintf(o, "  %-14s %12lld\n", store_db_name((enum store_db)i), c->rows[i]);
    fprintf(o, "deliveries: pending %lld, sending %lld, success %lld, fail %lld, held %lld\n",
            c->states[DSTATE_PENDING], c->states[DSTATE_SENDING], c->states[DSTATE_SUCCESS],
            c->states[DSTATE_FAIL], c->states[DSTATE_HELD]);
    if (c->orphans)
        fprintf(o, "note: %lld pending or sending deliveries of deleted endpoints have no "
                   "due entry\n", c->orphans);
    fprintf(o, "checks:\n");
    for (int i = 0; i < CK_COUNT; i++)
        fprintf(o, "  %-4s %-40s %12lld checked, %lld violations\n",
                c->failed[i] ? "FAIL" : "ok", check_names[i], c->checked[i], c->failed[i]);
    if (c->total == 0)
        fprintf(o, "result: ok, no violations\n");
    else if (c->total > SHOW_MAX)
        fprintf(o, "result: %lld violations (the first %d are shown)\n", c->total, SHOW_MAX);
    else
        fprintf(o, "result: %lld violations\n", c->total);
}

/* A store of another schema is a violation; an unreadable one is not a log. */
static int open_log(const char *dir, int repair, struct store **s, FILE *out, FILE *err)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if (stat(path, &st)) {
        fprintf(err, "hookd: cannot open the log in '%s': %s\n", dir,
                stat(dir, &st) ? "no such directory" : "no data.mdb there (not a data directory?)");
        return 2;
    }
    int rc = store_open(s, dir, 0, !repair);   /* map size 0: the environment's own */
    if (rc == HOOKD_ESCHEMA) {
        fprintf(out, "violation: %s: '%s' holds no hookd log of schema %d\n"
                "result: 1 violations\n", check_names[CK_SCHEMA], dir, STORE_SCHEMA);
        return 1;
    }
    if (rc == HOOKD_EBUSY) {
        long pid = store_lock_holder(dir);
        fprintf(err, "hookd: cannot repair the log in '%s': a server is using it", dir);
        if (pid > 0)
            fprintf(err, " (pid %ld)", pid);
        fprintf(err, "; stop it first (hookd check without --repair runs beside it)\n");
        return 2;
    }
    if (rc) {
        char why[640];
        fprintf(err, "hookd: cannot open the log in '%s': %s\n", dir,
                store_open_why(dir, rc, why, sizeof(why)));
        return 2;
    }
    return 0;
}

/* A cluster node's store: its place in the log and whose epoch it is in. */
static void cluster_line(struct check *c)
{
    struct cmeta m;
    if (cmeta_read(c->t, &m) || (!m.seq && !m.epoch && !*m.import))
        return;
    fprintf(c->out, "cluster: log applied up to entry %" PRIu64 ", epoch %" PRIu64 " (owner %s)"
            ", %" PRIu64 " stale entries skipped%s%s\n", m.seq, m.epoch, *m.owner ? m.owner : "none",
            m.stale, *m.import ? ", imported " : "", m.import);
}

/* One pass over the log: 0 clean, 1 violations, 2 unreadable (said). */
static int check_pass(struct check *c, struct store *s, const char *dir, FILE *err)
{
    int rc = store_read(s, &c->t);
    if (rc) {
        fprintf(err, "hookd: cannot read the log in '%s': %s\n", dir, hookd_strerror(rc));
        return 2;
    }
    fprintf(c->out, "checking the log in '%s'\n", dir);
    cluster_line(c);
    hmap_init(&c->due);
    run_checks(c);
    report(c);
    hmap_release(&c->due);
    store_abort(c->t);
    c->t = NULL;
    return c->total ? 1 : 0;
}

static void fixes_free(struct check *c)
{
    for (size_t i = 0; i < c->nfix; i++) {
        free(c->fixes[i].key);
        free(c->fixes[i].val);
    }
    free(c->fixes);
    c->fixes = NULL;
    c->nfix = c->capfix = 0;
}

/* Write the collected fixes in one transaction and make them durable. */
static int apply_fixes(struct check *c, struct store *s)
{
    struct store_txn *t;
    size_t puts = 0, dels = 0;
    int rc = store_write(s, &t);
    for (size_t i = 0; !rc && i < c->nfix; i++) {
        const struct fix *f = &c->fixes[i];
        if (f->val) {
            rc = store_put(t, f->db, f->key, f->klen, f->val, f->vlen, 0);
            puts += rc == 0;
        } else {
            rc = store_del(t, f->db, f->key, f->klen);
            rc = rc == HOOKD_ENOTFOUND ? 0 : rc;
            dels++;
        }
    }
    if (rc) {
        store_abort(t);
        return rc;
    }
    rc = store_commit(t);
    if (!rc)
        rc = store_sync(s);
    if (!rc)
        fprintf(c->out, "repaired: %zu entries removed, %zu index entries restored\n", dels,
                puts);
    return rc;
}

int check_run(const char *dir, int repair, FILE *out, FILE *err)
{
    struct check c = { .out = out, .repair = repair };
    struct store *s;
    int rc = open_log(dir, repair, &s, out, err);
    if (rc)
        return rc;
    rc = check_pass(&c, s, dir, err);
    if (rc == 1 && repair && c.nfix) {
        int wrc = apply_fixes(&c, s);
        fixes_free(&c);
        if (wrc) {
            fprintf(err, "hookd: cannot repair the log in '%s': %s\n", dir, hookd_strerror(wrc));
            store_close(s);
            return 2;
        }
        struct check again = { .out = out };
        rc = check_pass(&again, s, dir, err);
    } else if (rc == 1 && repair) {
        fprintf(out, "repaired: nothing (these violations are not repaired by hookd check)\n");
    }
    fixes_free(&c);
    store_close(s);
    return rc;
}
