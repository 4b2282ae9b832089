/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lmdb-kv.c - read or overwrite one value in a named database of a hookd
 * log, so that tests can plant a record the API would refuse (one written
 * before a check existed).
 *
 *   lmdb-kv get DIR DB KEY    print the value of KEY
 *   lmdb-kv put DIR DB KEY    replace the value of KEY with stdin
 *   lmdb-kv set DIR DB KEY    the same, adding KEY when it is not there
 *
 * KEY is text. Exits 1 when KEY is not there, 2 on other errors. Never
 * run it on a data directory a server is using.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "lmdb-kv: %s: %s\n", what, mdb_strerror(rc));
    return rc == MDB_NOTFOUND ? 1 : 2;
}

static char *read_stdin(size_t *len)
{
    size_t cap = 4096, n = 0, got;
    char *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap)
            b = realloc(b, cap *= 2);
    }
    *len = n;
    return b;
}

int main(int argc, char **argv)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int set = argc == 5 && strcmp(argv[1], "set") == 0;
    int put = set || (argc == 5 && strcmp(argv[1], "put") == 0);
    if (argc != 5 || (!put && strcmp(argv[1], "get") != 0)) {
        fprintf(stderr, "usage: lmdb-kv get|put|set DIR DB KEY\n");
        return 2;
    }
    MDB_val k = { strlen(argv[4]), argv[4] }, v;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 32);
    if (rc || (rc = mdb_env_open(env, argv[2], put ? 0 : MDB_RDONLY, 0600)))
        return fail(argv[2], rc);
    if ((rc = mdb_txn_begin(env, NULL, put ? 0 : MDB_RDONLY, &txn)))
        return fail("begin", rc);
    if ((rc = mdb_dbi_open(txn, argv[3], 0, &dbi)))
        return fail(argv[3], rc);
    if (!set && (rc = mdb_get(txn, dbi, &k, &v)))
        return fail(argv[4], rc);
    if (!put) {
        fwrite(v.mv_data, 1, v.mv_size, stdout);
        mdb_txn_abort(txn);
    } else {
        size_t n;
        char *data = read_stdin(&n);
        if (!data)
            return 2;
        v.mv_size = n;
        v.mv_data = data;
        if ((rc = mdb_put(txn, dbi, &k, &v, 0)) || (rc = mdb_txn_commit(txn)))
            return fail("put", rc);
        free(data);
    }
    mdb_env_close(env);
    return 0;
}
