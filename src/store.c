/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c - LMDB behind hookd's store interface.
 *
 * The environment is opened with MDB_NOTLS so that read transactions are
 * not tied to LMDB's per-thread reader slots (libmicrohttpd may run a
 * handler on any of its threads). It is opened without MDB_NOSYNC, so a
 * commit syncs its data pages before it writes the meta page that points
 * at them (the order that keeps the file consistent through a crash), but
 * with MDB_NOMETASYNC: the meta page is only written, and store_sync()
 * makes it durable. The writer thus starts its next batch while another
 * thread waits for that second flush, and answers 202 only after it.
 * Nested transactions give each intent of a group commit its own
 * all-or-nothing scope inside the batch.
 *
 * One writable store per data directory (lock_dir): LMDB lets several
 * processes write one environment, but two servers on it would each run
 * a writer and a dispatcher over the same log and deliver everything
 * twice. An flock, not a pid file alone, because the kernel drops it
 * when its process dies, even by SIGKILL: a crash leaves no stale lock.
 * It is taken on the directory, not on a file in it, so that removing a
 * file cannot let a second server in (flock and LMDB's own fcntl locks
 * on lock.mdb are independent of each other on Linux).
 *
 * MDB_NOMEMINIT: LMDB would otherwise clear the unused end of every page
 * it allocates before writing it out (about a tenth of the writer's
 * time). The bytes left there come from the writer's own heap, which
 * only ever holds records of this same store, so nothing reaches the
 * file that the file does not already contain.
 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "clock.h"
#include "err.h"
#include "mem.h"
#include "store.h"

static const char *const db_names[DB_COUNT] = {
    [DB_META] = "meta",
    [DB_APPS] = "apps",
    [DB_UIDS] = "uids",
    [DB_ENDPOINTS] = "endpoints",
    [DB_EVENT_TYPES] = "event_types",
    [DB_MESSAGES] = "messages",
    [DB_DELIVERIES] = "deliveries",
    [DB_DUE] = "due",
    [DB_ATTEMPTS] = "attempts",
    [DB_ATT_BY_EP] = "att_by_ep",
    [DB_ATT_BY_MSG] = "att_by_msg",
    [DB_EP_HEALTH] = "ep_health",
    [DB_IDEMPOTENCY] = "idempotency",
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[DB_COUNT];
    int64_t map_size;
    uint64_t settings_gen;    /* writer thread only (store_settings_gen) */
    /* writer thread: store_room's last measure, less what commits since were granted */
    int64_t room;
    int64_t room_at_ms;       /* when it was measured; 0: never */
    uint64_t room_measures;
    int lock_fd;              /* writable: holds dir's flock; -1 otherwise */
    /* store_health: any thread reads, the writer's thread and the syncer write */
    _Atomic int64_t fail_ms;  /* a commit or sync failed then, none succeeded since; 0: none */
    _Atomic int fail_rc;      /* ... with this error */
    _Atomic int64_t refused;  /* bytes store_room last refused, none granted since; 0: none */
    _Atomic int64_t probe_ms; /* when store_health last asked for a probe write */
};

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    struct store_txn *parent;
    int settings_dirty;       /* wrote apps or endpoints */
    int room_known;           /* top-level write: room is set (store_room) */
    int room_fresh;           /* ... measured in this transaction, not taken from the store */
    int64_t room;             /* bytes growth may still take before the reserve */
    int64_t room_at_ms;       /* when room was measured */
    int64_t granted;          /* by store_room() in this transaction */
};

struct store_cursor {
    struct store_txn *t;
    enum store_db db;
    MDB_cursor *cur;
};

static int map_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return 0;
    case MDB_NOTFOUND: return HOOKD_ENOTFOUND;
    case MDB_KEYEXIST: return HOOKD_EEXIST;
    case MDB_MAP_FULL: return HOOKD_EFULL;
    case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID:
    case MDB_VERSION_MISMATCH: return HOOKD_ECORRUPT;
    }
    if (rc > 0)
        return -rc;  /* an errno */
    return HOOKD_ESTORE;
}

static int check_schema(struct store *s, MDB_txn *txn, int readonly)
{
    MDB_val k = { 6, "schema" }, v;
    int rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
    if (rc == MDB_NOTFOUND) {
        if (readonly)
            return HOOKD_ESCHEMA;
        uint8_t be[4] = { 0, 0, 0, STORE_SCHEMA };
        v.mv_size = 4;
        v.mv_data = be;
        return map_err(mdb_put(txn, s->dbi[DB_META], &k, &v, 0));
    }
    if (rc)
        return map_err(rc);
    if (v.mv_size != 4)
        return HOOKD_ECORRUPT;
    const uint8_t *p = v.mv_data;
    uint32_t ver = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return ver == STORE_SCHEMA ? 0 : HOOKD_ESCHEMA;
}

static int open_dbs(struct store *s, int readonly)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, readonly ? MDB_RDONLY : 0, &txn);
    if (rc)
        return map_err(rc);
    for (int i = 0; i < DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, db_names[i], readonly ? 0 : MDB_CREATE, &s->dbi[i]);
        if (rc) {
            mdb_txn_abort(txn);
            return rc == MDB_NOTFOUND ? HOOKD_ESCHEMA : map_err(rc);
        }
    }
    rc = check_schema(s, txn, readonly);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return map_err(mdb_txn_commit(txn));
}

static void lock_path(const char *dir, char *path, size_t cap)
{
    snprintf(path, cap, "%s/hookd.lock", dir);
}

/* The holder's pid, for another server's error; the lock does not depend on it. */
static void note_pid(const char *dir)
{
    char path[4096], pid[24];
    lock_path(dir, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    ssize_t wrote = write(fd, pid, (size_t)n);
    (void)wrote;
    close(fd);
}

/*
 * Take dir's lock for this process, waiting out a holder that is exiting.
 * The lock is on the directory itself: a file in it could be removed and
 * created again while its holder runs, and then a second server would lock
 * the new file; the directory cannot go while the log is in it.
 */
static int lock_dir(struct store *s, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int64_t until = clock_mono_us() + STORE_LOCK_WAIT_MS * 1000LL;
    while (flock(fd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        if (e != EWOULDBLOCK || clock_mono_us() >= until) {
            close(fd);
            return e == EWOULDBLOCK ? HOOKD_EBUSY : -e;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    note_pid(dir);
    s->lock_fd = fd;
    return 0;
}

/* The pid /proc/locks gives for an flock on dir's inode; 0 when none. */
static long lock_holder_proc(const char *dir)
{
    struct stat st;
    char line[256], kind[16];
    long pid, found = 0;
    unsigned maj, min;
    unsigned long ino;
    FILE *f = stat(dir, &st) ? NULL : fopen("/proc/locks", "re");
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof(line), f))
        if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", kind, &pid, &maj, &min, &ino) == 5
            && strcmp(kind, "FLOCK") == 0 && maj == major(st.st_dev) && min == minor(st.st_dev)
            && ino == st.st_ino)
            found = pid;
    fclose(f);
    return found;
}

long store_lock_holder(const char *dir)
{
    char path[4096], text[24] = "";
    long pid = lock_holder_proc(dir);
    if (pid > 0)
        return pid;
    lock_path(dir, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    return n > 0 ? strtol(text, NULL, 10) : 0;
}

/*
 * LMDB's two meta pages, read with plain pread before the file is mapped:
 * a map over a file shorter than the pages its meta names dies of SIGBUS
 * on the first touch past the end, and LMDB takes an empty file for a new
 * environment. The layout is LMDB's own (mdb.c, MDB_page and MDB_meta on
 * a 64-bit build): a 16-byte page header, then magic, version, address,
 * map size, the free and main databases' descriptors (the free one's
 * first word holds the page size), the last page number and the txnid.
 */
#define META_MAGIC 0xBEEFC0DEu
#define META_OFF 16
#define META_LEN 136
#define META_PSIZE (24)
#define META_LAST_PG (120)
#define META_TXNID (128)

struct meta {
    uint32_t psize;
    uint64_t last_pg, txnid;
};

static int meta_read(int fd, off_t at, struct meta *m)
{
    uint8_t b[META_OFF + META_LEN];
    uint32_t magic, version, psize;
    if (pread(fd, b, sizeof(b), at) != (ssize_t)sizeof(b))
        return -1;
    memcpy(&magic, b + META_OFF, 4);
    memcpy(&version, b + META_OFF + 4, 4);
    memcpy(&psize, b + META_OFF + META_PSIZE, 4);
    memcpy(&m->last_pg, b + META_OFF + META_LAST_PG, 8);
    memcpy(&m->txnid, b + META_OFF + META_TXNID, 8);
    m->psize = psize;
    if (magic != META_MAGIC || version != 1 || psize < 512 || psize > 65536
        || (psize & (psize - 1)))
        return -1;
    return 0;
}

/*
 * One look at the file: 0 fine, 1 damaged or caught mid-write (look
 * again), 2 empty, or a negated errno.
 */
static int verify_once(int fd, const char *path, char *why, size_t cap)
{
    struct meta m0, m1;
    struct stat st;
    if (fstat(fd, &st))
        return -errno;
    if (st.st_size == 0) {
        snprintf(why, cap, "'%s' is empty (0 bytes): the log it held is gone; restore the data "
                 "directory from a backup (or, if it never held a log, remove the file)", path);
        return 2;
    }
    if (meta_read(fd, 0, &m0) || meta_read(fd, m0.psize, &m1) || m0.psize != m1.psize) {
        snprintf(why, cap, "'%s' (%lld bytes) is not an LMDB file or its header is damaged; "
                 "restore the data directory from a backup", path, (long long)st.st_size);
        return 1;
    }
    const struct meta *m = m1.txnid > m0.txnid ? &m1 : &m0;
    off_t need = (off_t)(m->last_pg + 1) * m->psize;
    if (fstat(fd, &st))   /* after the metas: the pages they name were written before them */
        return -errno;
    if (st.st_size < need) {
        snprintf(why, cap, "'%s' is %lld bytes but its log needs %lld (%lld bytes short): the "
                 "file was truncated; restore the data directory from a backup", path,
                 (long long)st.st_size, (long long)need, (long long)(need - st.st_size));
        return 1;
    }
    return 0;
}

int store_verify_file(const char *dir, char *why, size_t cap)
{
    char path[4096];
    if (sizeof(size_t) != 8)
        return 0;   /* the layout above is a 64-bit build's */
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    int rc = 1;
    /* a live server may be writing a meta page as it is read: a few looks */
    for (int i = 0; i < 5 && rc == 1; i++) {
        if (i) {
            struct timespec ts = { 0, 20 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        rc = verify_once(fd, path, why, cap);
    }
    close(fd);
    if (rc < 0)
        snprintf(why, cap, "cannot read '%s': %s", path, strerror(-rc));
    return rc > 0 ? HOOKD_ECORRUPT : rc;
}

int store_open(struct store **out, const char *dir, int64_t map_size, int readonly)
{
    struct store *s = xcalloc(1, sizeof(*s));
    int rc;
    s->lock_fd = -1;
    if (!readonly && mkdir(dir, 0700) && errno != EEXIST) {
        rc = -errno;
        goto free_store;
    }
    if (!readonly && (rc = lock_dir(s, dir)))
        goto free_store;
    char why[512];
    if ((rc = store_verify_file(dir, why, sizeof(why))))
        goto free_store;
    rc = map_err(mdb_env_create(&s->env));
    if (rc)
        goto free_store;
    mdb_env_set_maxdbs(s->env, DB_COUNT + 2);
    mdb_env_set_maxreaders(s->env, 1024);
    rc = map_err(mdb_env_set_mapsize(s->env, (size_t)map_size));
    if (rc)
        goto close_env;
    unsigned flags = MDB_NOTLS | MDB_NOMETASYNC | MDB_NOMEMINIT | (readonly ? MDB_RDONLY : 0);
    rc = map_err(mdb_env_open(s->env, dir, flags, 0600));
    if (rc)
        goto close_env;
    s->map_size = map_size;
    rc = open_dbs(s, readonly);
    if (rc)
        goto close_env;
    *out = s;
    return 0;
close_env:
    mdb_env_close(s->env);
free_store:
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
    return rc;
}

const char *store_open_strerror(int rc)
{
    if (rc == HOOKD_ECORRUPT)
        return "data.mdb is damaged or is not an LMDB file; restore the directory from a backup";
    return hookd_strerror(rc);
}

const char *store_open_why(const char *dir, int rc, char *buf, size_t cap)
{
    if (rc == HOOKD_ECORRUPT && store_verify_file(dir, buf, cap) != 0)
        return buf;
    return store_open_strerror(rc);
}

void store_close(struct store *s)
{
    if (!s)
        return;
    mdb_env_close(s->env);
    if (s->lock_fd >= 0)
        close(s->lock_fd);   /* lets the next server in */
    free(s);
}

static int txn_begin(struct store *s, struct store_txn *parent, unsigned flags,
                     struct store_txn **out)
{
    struct store_txn *t = xcalloc(1, sizeof(*t));
    int rc = mdb_txn_begin(s->env, parent ? parent->txn : NULL, flags, &t->txn);
    if (rc) {
        free(t);
        return map_err(rc);
    }
    t->s = s;
    t->parent = parent;
    *out = t;
    return 0;
}

/*
 * A write to apps or endpoints moves the generation on at once, and so
 * does dropping a transaction that made one (abort, failed commit): a
 * cache filled from the rolled-back state is then stale too.
 */
static void settings_touched(struct store_txn *t, enum store_db db)
{
    if (db == DB_APPS || db == DB_ENDPOINTS) {
        t->settings_dirty = 1;
        t->s->settings_gen++;
    }
}

static void txn_end(struct store_txn *t, int committed)
{
    if (t->settings_dirty && committed && t->parent)
        t->parent->settings_dirty = 1;
    else if (t->settings_dirty && !committed)
        t->s->settings_gen++;
    free(t);
}

/* A write that reached the disk, or one that did not: store_health reports the latter. */
static void note_write(struct store *s, int rc)
{
    if (rc == 0) {
        atomic_store(&s->fail_ms, 0);
        return;
    }
    atomic_store(&s->fail_rc, rc);
    int64_t none = 0;
    atomic_compare_exchange_strong(&s->fail_ms, &none, clock_now_ms());
}

int store_sync(struct store *s)
{
    int rc = map_err(mdb_env_sync(s->env, 1));
    if (rc)
        note_write(s, rc);
    return rc;
}

uint64_t store_last_txnid(struct store *s)
{
    MDB_envinfo info;
    return mdb_env_info(s->env, &info) == 0 ? (uint64_t)info.me_last_txnid : 0;
}

uint64_t store_settings_gen(struct store_txn *t)
{
    return t->s->settings_gen;
}

int store_read(struct store *s, struct store_txn **out)
{
    return txn_begin(s, NULL, MDB_RDONLY, out);
}

int store_write(struct store *s, struct store_txn **out)
{
    return txn_begin(s, NULL, 0, out);
}

int store_nested(struct store_txn *parent, struct store_txn **out)
{
    return txn_begin(parent->s, parent, 0, out);
}

int store_commit(struct store_txn *t)
{
    int rc = map_err(mdb_txn_commit(t->txn));
    if (!t->parent)
        note_write(t->s, rc);
    if (rc == 0 && !t->parent && t->room_known) {   /* the room its grants left */
        t->s->room = t->room;
        t->s->room_at_ms = t->room_at_ms;
    }
    txn_end(t, rc == 0);
    return rc;
}

void store_abort(struct store_txn *t)
{
    if (!t)
        return;
    mdb_txn_abort(t->txn);
    txn_end(t, 0);
}

int store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const void **val, size_t *vlen)
{
    MDB_val k = { klen, (void *)key }, v;
    int rc = mdb_get(t->txn, t->s->dbi[db], &k, &v);
    if (rc)
        return map_err(rc);
    *val = v.mv_data;
    *vlen = v.mv_size;
    return 0;
}

int store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const void *val, size_t vlen, int noclobber)
{
    MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
    settings_touched(t, db);
    return map_err(mdb_put(t->txn, t->s->dbi[db], &k, &v, noclobber ? MDB_NOOVERWRITE : 0));
}

int store_append(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                 const void *val, size_t vlen, int noclobber)
{
    MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
    settings_touched(t, db);
    int rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, MDB_APPEND);
    if (rc != MDB_KEYEXIST)
        return map_err(rc);
    return store_put(t, db, key, klen, val, vlen, noclobber);   /* not the last key */
}

int store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen)
{
    MDB_val k = { klen, (void *)key };
    settings_touched(t, db);
    return map_err(mdb_del(t->txn, t->s->dbi[db], &k, NULL));
}

int store_get_json(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                   json_t **out)
{
    const void *v;
    size_t vlen;
    int rc = store_get(t, db, key, klen, &v, &vlen);
    if (rc)
        return rc;
    json_t *j = json_loadb(v, vlen, STORE_JSON_FLAGS, NULL);
    if (!j)
        return HOOKD_ECORRUPT;
    *out = j;
    return 0;
}

int store_put_json(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                   const json_t *rec)
{
    char *s = json_dumps(rec, JSON_COMPACT);
    if (!s)
        return HOOKD_EINVAL;
    int rc = store_put(t, db, key, klen, s, strlen(s), 0);
    free(s);
    return rc;
}

int store_cursor_open(struct store_txn *t, enum store_db db, struct store_cursor **out)
{
    struct store_cursor *c = xmalloc(sizeof(*c));
    int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c->cur);
    if (rc) {
        free(c);
        return map_err(rc);
    }
    c->t = t;
    c->db = db;
    *out = c;
    return 0;
}

void store_cursor_close(struct store_cursor *c)
{
    if (!c)
        return;
    mdb_cursor_close(c->cur);
    free(c);
}

static int cursor_op(struct store_cursor *c, MDB_val *k, MDB_cursor_op op, struct store_kv *kv)
{
    MDB_val v;
    int rc = mdb_cursor_get(c->cur, k, &v, op);
    if (rc)
        return map_err(rc);
    kv->key = k->mv_data;
    kv->klen = k->mv_size;
    kv->val = v.mv_data;
    kv->vlen = v.mv_size;
    return 0;
}

int store_cursor_seek(struct store_cursor *c, const void *key, size_t klen, struct store_kv *kv)
{
    MDB_val k = { klen, (void *)key };
    return cursor_op(c, &k, MDB_SET_RANGE, kv);
}

int store_cursor_first(struct store_cursor *c, struct store_kv *kv)
{
    MDB_val k;
    return cursor_op(c, &k, MDB_FIRST, kv);
}

int store_cursor_last(struct store_cursor *c, struct store_kv *kv)
{
    MDB_val k;
    return cursor_op(c, &k, MDB_LAST, kv);
}

int store_cursor_next(struct store_cursor *c, struct store_kv *kv)
{
    MDB_val k;
    return cursor_op(c, &k, MDB_NEXT, kv);
}

int store_cursor_prev(struct store_cursor *c, struct store_kv *kv)
{
    MDB_val k;
    return cursor_op(c, &k, MDB_PREV, kv);
}

int store_cursor_del(struct store_cursor *c)
{
    settings_touched(c->t, c->db);
    return map_err(mdb_cursor_del(c->cur, 0));
}

static int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Descending start: the last key < hi, or the last key overall. */
static int seek_below(struct store_cursor *c, const void *hi, size_t hilen, struct store_kv *kv)
{
    if (!hi)
        return store_cursor_last(c, kv);
    int rc = store_cursor_seek(c, hi, hilen, kv);
    if (rc == HOOKD_ENOTFOUND)
        return store_cursor_last(c, kv);
    if (rc)
        return rc;
    return store_cursor_prev(c, kv);
}

int store_scan(struct store_txn *t, enum store_db db, const void *lo, size_t lolen,
               const void *hi, size_t hilen, int descending, store_scan_fn fn, void *arg)
{
    struct store_cursor *c;
    struct store_kv kv;
    int rc = store_cursor_open(t, db, &c);
    if (rc)
        return rc;
    if (descending)
        rc = seek_below(c, hi, hilen, &kv);
    else
        rc = lo && lolen ? store_cursor_seek(c, lo, lolen, &kv) : store_cursor_first(c, &kv);
    while (rc == 0) {
        if (hi && key_cmp(kv.key, kv.klen, hi, hilen) >= 0)
            break;
        if (lo && key_cmp(kv.key, kv.klen, lo, lolen) < 0)
            break;
        rc = fn(&kv, arg);
        if (rc)
            goto out;
        rc = descending ? store_cursor_prev(c, &kv) : store_cursor_next(c, &kv);
    }
    rc = rc == HOOKD_ENOTFOUND ? 0 : rc;
out:
    store_cursor_close(c);
    return rc;
}

size_t store_uid_key(char kind, const char *parent, const char *uid, char *out, size_t cap)
{
    size_t plen = strlen(parent), ulen = strlen(uid);
    size_t n = 1 + plen + 1 + ulen;
    if (n > cap)
        return 0;
    out[0] = kind;
    memcpy(out + 1, parent, plen);
    out[1 + plen] = '\0';
    memcpy(out + 2 + plen, uid, ulen);
    return n;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

void store_delivery_encode(const struct store_delivery *d, uint8_t out[STORE_DELIVERY_LEN])
{
    out[0] = 1;
    out[1] = d->state;
    put_be(out + 2, d->attempts, 2);
    put_be(out + 4, d->last_code, 2);
    put_be(out + 6, (uint64_t)d->next_ms, 8);
    put_be(out + 14, (uint64_t)d->updated_ms, 8);
    memset(out + 22, 0, 31);
    memcpy(out + 22, d->app_id, strnlen(d->app_id, 31));
}

int store_delivery_decode(const void *p, size_t n, struct store_delivery *d)
{
    const uint8_t *b = p;
    if (n != STORE_DELIVERY_LEN || b[0] != 1)
        return HOOKD_ECORRUPT;
    d->state = b[1];
    d->attempts = (uint16_t)get_be(b + 2, 2);
    d->last_code = (uint16_t)get_be(b + 4, 2);
    d->next_ms = (int64_t)get_be(b + 6, 8);
    d->updated_ms = (int64_t)get_be(b + 14, 8);
    memcpy(d->app_id, b + 22, 31);
    d->app_id[31] = '\0';
    return 0;
}

size_t store_due_key(const char *ep_id, int64_t ms, const char *msg_id, uint8_t *out, size_t cap)
{
    size_t el = strlen(ep_id), ml = strlen(msg_id);
    if (el + 8 + ml > cap)
        return 0;
    memcpy(out, ep_id, el);
    put_be(out + el, (uint64_t)ms, 8);
    memcpy(out + el + 8, msg_id, ml);
    return el + 8 + ml;
}

/* ep ids are "ep_" + 27 chars, message ids "msg_" + 27 (id.h). */
int store_due_parse(const void *key, size_t klen, char *ep, int64_t *ms, char *msg)
{
    const uint8_t *k = key;
    const size_t el = 30, ml = 31;
    if (klen != el + 8 + ml)
        return HOOKD_ECORRUPT;
    memcpy(ep, k, el);
    ep[el] = '\0';
    *ms = (int64_t)get_be(k + el, 8);
    memcpy(msg, k + el + 8, ml);
    msg[ml] = '\0';
    return 0;
}

void store_due_val(const char *app_id, int trigger, uint8_t out[STORE_DUE_VAL_LEN])
{
    memset(out, 0, STORE_DUE_VAL_LEN);
    memcpy(out, app_id, strnlen(app_id, 31));
    out[31] = (uint8_t)trigger;
}

void store_health_encode(const struct store_health *h, uint8_t out[STORE_HEALTH_LEN])
{
    put_be(out, (uint64_t)h->failing_since_ms, 8);
    put_be(out + 8, (uint64_t)h->last_attempt_ms, 8);
    put_be(out + 16, h->last_code, 2);
    put_be(out + 18, 0, 2);
    put_be(out + 20, h->consecutive_failures, 4);
    put_be(out + 24, h->backlog, 4);
    put_be(out + 28, h->retrying, 4);
}

int store_health_decode(const void *p, size_t n, struct store_health *h)
{
    const uint8_t *b = p;
    if (n != STORE_HEALTH_LEN && n != 24)
        return HOOKD_ECORRUPT;
    h->failing_since_ms = (int64_t)get_be(b, 8);
    h->last_attempt_ms = (int64_t)get_be(b + 8, 8);
    h->last_code = (uint16_t)get_be(b + 16, 2);
    h->consecutive_failures = (uint32_t)get_be(b + 20, 4);
    h->backlog = n == STORE_HEALTH_LEN ? (uint32_t)get_be(b + 24, 4) : 0;
    h->retrying = n == STORE_HEALTH_LEN ? (uint32_t)get_be(b + 28, 4) : 0;
    return 0;
}

static uint32_t add_clamped(uint32_t v, int d)
{
    int64_t x = (int64_t)v + d;
    return x < 0 ? 0 : x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

int store_health_add(struct store_txn *t, const char *ep_id, int backlog, int retrying)
{
    struct store_health h = { 0 };
    uint8_t val[STORE_HEALTH_LEN];
    const void *v;
    size_t n, kl = strlen(ep_id);
    int rc = store_get(t, DB_EP_HEALTH, ep_id, kl, &v, &n);
    if (rc == HOOKD_ENOTFOUND && backlog <= 0 && retrying <= 0)
        return 0;
    if (rc == 0)
        rc = store_health_decode(v, n, &h);
    if (rc && rc != HOOKD_ENOTFOUND)
        return rc;
    h.backlog = add_clamped(h.backlog, backlog);
    h.retrying = add_clamped(h.retrying, retrying);
    store_health_encode(&h, val);
    return store_put(t, DB_EP_HEALTH, ep_id, kl, val, sizeof(val), 0);
}

int store_entries(struct store_txn *t, enum store_db db, int64_t *out)
{
    MDB_stat st;
    int rc = mdb_stat(t->txn, t->s->dbi[db], &st);
    *out = rc ? 0 : (int64_t)st.ms_entries;
    return map_err(rc);
}

int store_counter_get(struct store_txn *t, const char *name, int64_t *out)
{
    const void *v;
    size_t n;
    int rc = store_get(t, DB_META, name, strlen(name), &v, &n);
    *out = 0;
    if (rc == HOOKD_ENOTFOUND)
        return 0;
    if (!rc && n != 8)
        rc = HOOKD_ECORRUPT;
    if (!rc)
        *out = (int64_t)get_be(v, 8);
    return rc;
}

int store_counter_add(struct store_txn *t, const char *name, int64_t delta)
{
    int64_t x;
    uint8_t val[8];
    int rc = store_counter_get(t, name, &x);
    if (rc)
        return rc;
    x = x + delta < 0 ? 0 : x + delta;
    put_be(val, (uint64_t)x, 8);
    return store_put(t, DB_META, name, strlen(name), val, sizeof(val), 0);
}

int store_meta_get_u64(struct store_txn *t, const char *name, uint64_t *out)
{
    int64_t v;
    int rc = store_counter_get(t, name, &v);
    *out = rc ? 0 : (uint64_t)v;
    return rc;
}

int store_meta_put_u64(struct store_txn *t, const char *name, uint64_t v)
{
    uint8_t val[8];
    put_be(val, v, 8);
    return store_put(t, DB_META, name, strlen(name), val, sizeof(val), 0);
}

/*
 * Pages on LMDB's free list as of the last commit, summed from the free
 * database (each value is a page list whose first word is its length).
 * A read transaction of its own, which MDB_NOTLS allows beside the
 * writer's write transaction on the writer thread.
 */
static int free_pages(struct store *s, int64_t *out)
{
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    int64_t n = 0;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return map_err(rc);
    rc = mdb_cursor_open(txn, 0, &c);
    while (!rc && (rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
        size_t len;
        if (v.mv_size >= sizeof(len)) {
            memcpy(&len, v.mv_data, sizeof(len));
            n += (int64_t)len;
        }
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    if (!rc)
        *out = n;
    return map_err(rc);
}

int store_info(struct store *s, struct store_info *out)
{
    MDB_envinfo ei;
    MDB_stat st;
    int64_t nfree = 0;
    int rc = mdb_env_info(s->env, &ei);
    if (!rc)
        rc = mdb_env_stat(s->env, &st);
    if (rc)
        return map_err(rc);
    rc = free_pages(s, &nfree);
    if (rc)
        return rc;
    out->map_bytes = (int64_t)ei.me_mapsize;
    out->used_bytes = (int64_t)(ei.me_last_pgno + 1) * st.ms_psize;
    out->free_bytes = nfree * st.ms_psize;
    if (out->free_bytes > out->used_bytes)
        out->free_bytes = out->used_bytes;
    out->readers = (int)ei.me_numreaders;
    return 0;
}

int64_t store_reserve(int64_t map_bytes)
{
    int64_t r = map_bytes / 20;
    if (r < STORE_RESERVE_MIN)
        r = STORE_RESERVE_MIN;
    if (r > STORE_RESERVE_MAX)
        r = STORE_RESERVE_MAX;
    return r > map_bytes / 2 ? map_bytes / 2 : r;
}

/*
 * Each grant is subtracted from the room, so a batch of many messages
 * cannot jump the reserve by much; what the batch's other intents write
 * is not counted and comes out of the reserve. Measuring walks LMDB's
 * whole free list, which grows by a record per commit while a reader
 * holds an old snapshot (a backup, say), so a batch takes the room the
 * last committed one left while that is fresh (ROOM_TTL_MS) and far from
 * the reserve (ROOM_SLACK), and measures otherwise, or before it would
 * refuse a grant. A second of outcomes and frees not counted in between
 * moves the room by far less than the slack.
 */
#define ROOM_TTL_MS 1000
#define ROOM_SLACK (64LL << 20)

static int measure_room(struct store_txn *t)
{
    struct store_info si;
    int rc = store_info(t->s, &si);
    if (rc)
        return rc;
    t->room = si.map_bytes - store_reserve(si.map_bytes) - (si.used_bytes - si.free_bytes)
              - t->granted;
    t->room_at_ms = clock_mono_ms();
    t->room_fresh = 1;
    t->s->room_measures++;
    return 0;
}

int store_room(struct store_txn *t, size_t bytes)
{
    int rc = 0;
    while (t->parent)
        t = t->parent;
    if (!t->room_known) {
        struct store *s = t->s;
        if (s->room_at_ms && clock_mono_ms() - s->room_at_ms < ROOM_TTL_MS
            && s->room >= ROOM_SLACK) {
            t->room = s->room;
            t->room_at_ms = s->room_at_ms;
        } else {
            rc = measure_room(t);
        }
        t->room_known = rc == 0;
    }
    if (!rc && t->room < (int64_t)bytes && !t->room_fresh)
        rc = measure_room(t);
    if (rc)
        return rc;
    if (t->room < (int64_t)bytes) {
        atomic_store(&t->s->refused, (int64_t)bytes);
        return HOOKD_EFULL;
    }
    if (atomic_load(&t->s->refused))
        atomic_store(&t->s->refused, 0);
    t->room -= (int64_t)bytes;
    t->granted += (int64_t)bytes;
    return 0;
}

#define PROBE_EVERY_MS 1000

/* The room outside the reserve now, from a fresh measure. */
static int room_now(struct store *s, int64_t *room)
{
    struct store_info si;
    int rc = store_info(s, &si);
    if (!rc)
        *room = si.map_bytes - store_reserve(si.map_bytes) - (si.used_bytes - si.free_bytes);
    return rc;
}

int store_health(struct store *s, char *why, size_t cap, int *probe)
{
    int64_t since = atomic_load(&s->fail_ms), refused = atomic_load(&s->refused), room;
    *probe = 0;
    if (since) {
        int64_t now = clock_now_ms(), last = atomic_load(&s->probe_ms);
        if (now - last >= PROBE_EVERY_MS && atomic_compare_exchange_strong(&s->probe_ms, &last, now))
            *probe = 1;
        int rc = atomic_load(&s->fail_rc);
        snprintf(why, cap, "writes to the store fail (%s) since %lld ms ago", hookd_strerror(rc),
                 (long long)(now - since));
        return rc ? rc : HOOKD_ESTORE;
    }
    if (refused && room_now(s, &room) == 0 && room < refused) {
        snprintf(why, cap, "the store is full: new messages are refused (507) until retention "
                 "frees space or --map-size grows");
        return HOOKD_EFULL;
    }
    return 0;
}

uint64_t store_room_measures(struct store *s)
{
    return s->room_measures;
}

const char *store_db_name(enum store_db db)
{
    return (unsigned)db < DB_COUNT ? db_names[db] : "?";
}

/* The copy is synced before the backup counts as made. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

/*
 * A compacting copy runs inside one read transaction of its own, so a
 * live server keeps writing and the copy holds every commit made before
 * it began. Map size 0 takes the live environment's own.
 */
int store_copy(struct store *s, const char *dst_dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/data.mdb", dst_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600), rc;
    if (fd < 0)
        return -errno;
    rc = map_err(mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT));
    if (!rc && fsync(fd))
        rc = -errno;
    if (close(fd) && !rc)
        rc = -errno;
    if (!rc)
        rc = sync_dir(dst_dir);
    if (rc)
        unlink(path);
    return rc;
}

int store_backup(const char *src_dir, const char *dst_dir)
{
    struct store *s;
    int rc = store_open(&s, src_dir, 0, 1);
    if (rc)
        return rc;
    rc = store_copy(s, dst_dir);
    store_close(s);
    return rc;
}
