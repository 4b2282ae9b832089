/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lmdb-del.c - delete one key from a named database of a hookd log, so
 * that tests can break an invariant on purpose (hookd check must see it).
 *
 *   lmdb-del DIR DB KEY            delete exactly KEY
 *   lmdb-del --prefix DIR DB KEY   delete the first key that starts with KEY
 *
 * KEY is text, or hex after "hex:" (keys with big-endian numbers). Prints
 * the deleted key in hex; exits 1 when no key matched, 2 on other errors.
 * Never run it on a data directory a server is using.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

static size_t parse_key(const char *arg, unsigned char *out, size_t cap)
{
    if (strncmp(arg, "hex:", 4) != 0) {
        size_t n = strlen(arg);
        if (n > cap)
            return 0;
        memcpy(out, arg, n);
        return n;
    }
    size_t n = 0;
    for (const char *p = arg + 4; p[0] && p[1] && n < cap; p += 2) {
        unsigned v;
        if (sscanf(p, "%2x", &v) != 1)
            return 0;
        out[n++] = (unsigned char)v;
    }
    return n;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "lmdb-del: %s: %s\n", what, mdb_strerror(rc));
    return 2;
}

/* Position the cursor on the key to delete; MDB_NOTFOUND when none. */
static int find(MDB_cursor *c, int prefix, MDB_val *k)
{
    MDB_val want = *k, v;
    int rc = mdb_cursor_get(c, k, &v, prefix ? MDB_SET_RANGE : MDB_SET_KEY);
    if (rc == 0 && prefix
        && (k->mv_size < want.mv_size || memcmp(k->mv_data, want.mv_data, want.mv_size)))
        rc = MDB_NOTFOUND;
    return rc;
}

int main(int argc, char **argv)
{
    int prefix = argc > 1 && strcmp(argv[1], "--prefix") == 0;
    unsigned char key[512];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    if (argc != 4 + prefix) {
        fprintf(stderr, "usage: lmdb-del [--prefix] DIR DB KEY\n");
        return 2;
    }
    argv += prefix;
    MDB_val k = { parse_key(argv[3], key, sizeof(key)), key };
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 32);
    if (rc || (rc = mdb_env_open(env, argv[1], 0, 0600)))
        return fail(argv[1], rc);
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
        return fail("begin", rc);
    if ((rc = mdb_dbi_open(txn, argv[2], 0, &dbi)))
        return fail(argv[2], rc);
    if ((rc = mdb_cursor_open(txn, dbi, &cur)))
        return fail("cursor", rc);
    rc = find(cur, prefix, &k);
    if (rc == MDB_NOTFOUND) {
        fprintf(stderr, "lmdb-del: no such key in '%s'\n", argv[2]);
        return 1;
    }
    if (rc)
        return fail("get", rc);
    for (size_t i = 0; i < k.mv_size; i++)
        printf("%02x", ((unsigned char *)k.mv_data)[i]);
    printf("\n");
    if ((rc = mdb_cursor_del(cur, 0)))
        return fail("del", rc);
    mdb_cursor_close(cur);
    if ((rc = mdb_txn_commit(txn)))
        return fail("commit", rc);
    mdb_env_close(env);
    return 0;
}
