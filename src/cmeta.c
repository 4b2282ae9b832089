/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmeta.c - a store's records of the cluster's log (cmeta.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mbedtls/sha256.h>

#include "cmeta.h"
#include "entry.h"
#include "entry_kinds.h"
#include "err.h"
#include "reapply.h"
#include "store.h"
#include "writer.h"

static int get_text(struct store_txn *t, const char *key, char *out, size_t cap)
{
    const void *v;
    size_t n;
    int rc = store_get(t, DB_META, key, strlen(key), &v, &n);
    *out = 0;
    if (rc == HOOKD_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (n >= cap)
        return HOOKD_ECORRUPT;
    memcpy(out, v, n);
    out[n] = 0;
    return 0;
}

static int put_text(struct store_txn *t, const char *key, const char *text)
{
    return store_put(t, DB_META, key, strlen(key), text, strlen(text), 0);
}

int cmeta_read(struct store_txn *t, struct cmeta *out)
{
    memset(out, 0, sizeof(*out));
    int rc = store_meta_get_u64(t, WRITER_LOG_SEQ_KEY, &out->seq);
    if (rc == 0)
        rc = store_meta_get_u64(t, CMETA_EPOCH_KEY, &out->epoch);
    if (rc == 0)
        rc = store_meta_get_u64(t, CMETA_STALE_KEY, &out->stale);
    if (rc == 0)
        rc = get_text(t, CMETA_OWNER_KEY, out->owner, sizeof(out->owner));
    if (rc == 0)
        rc = get_text(t, CMETA_IMPORT_KEY, out->import, sizeof(out->import));
    return rc;
}

int cmeta_load(struct store *s, struct cmeta *out)
{
    struct store_txn *t;
    int rc = store_read(s, &t);
    if (rc)
        return rc;
    rc = cmeta_read(t, out);
    store_abort(t);
    return rc;
}

void cmeta_epoch_entry(struct entry_w *w, const char *node, uint64_t epoch, int64_t now_ms)
{
    entry_begin(w, ENTRY_EPOCH, now_ms);
    entry_put_str(w, node);
    entry_put_u64(w, epoch);
}

static int count_stale(struct store_txn *t)
{
    return store_counter_add(t, CMETA_STALE_KEY, 1);
}

int cmeta_epoch_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t)
{
    char node[CMETA_NODE_MAX], owner[CMETA_NODE_MAX];
    entry_get_strbuf(r, node, sizeof(node));
    uint64_t epoch = entry_get_u64(r), cur = 0;
    if (r->bad || !*node || !epoch)
        return HOOKD_EINVAL;
    int rc = store_meta_get_u64(t, CMETA_EPOCH_KEY, &cur);
    if (rc == 0)
        rc = get_text(t, CMETA_OWNER_KEY, owner, sizeof(owner));
    if (rc)
        return rc;
    if (epoch > cur) {
        rc = store_meta_put_u64(t, CMETA_EPOCH_KEY, epoch);
        return rc ? rc : put_text(t, CMETA_OWNER_KEY, node);
    }
    if (epoch == cur && strcmp(owner, node) == 0)
        return 0;   /* the same marker published again */
    return count_stale(t);
}

int cmeta_message_stale(struct store_txn *t, uint64_t epoch)
{
    uint64_t cur = 0;
    if (!epoch)
        return 0;
    int rc = store_meta_get_u64(t, CMETA_EPOCH_KEY, &cur);
    if (rc || epoch >= cur)
        return rc;
    rc = count_stale(t);
    return rc ? rc : 1;
}

/* ---- import ---- */

static int node_local(enum store_db db, const struct store_kv *kv)
{
    return db == DB_META && ((kv->klen == 5 && memcmp(kv->key, "probe", 5) == 0)
                             || (kv->klen > 8 && memcmp(kv->key, "cluster.", 8) == 0));
}

static void hash_len(mbedtls_sha256_context *h, size_t n)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(n >> (56 - 8 * i));
    mbedtls_sha256_update_ret(h, b, sizeof(b));
}

int cmeta_digest(struct store_txn *t, struct cmeta_import *out)
{
    mbedtls_sha256_context h;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    mbedtls_sha256_init(&h);
    mbedtls_sha256_starts_ret(&h, 0);
    for (int db = 0; rc == 0 && db < DB_COUNT; db++) {
        struct store_cursor *c;
        struct store_kv kv;
        uint8_t d = (uint8_t)db;
        mbedtls_sha256_update_ret(&h, &d, 1);
        if ((rc = store_cursor_open(t, (enum store_db)db, &c)) != 0)
            break;
        for (rc = store_cursor_first(c, &kv); rc == 0; rc = store_cursor_next(c, &kv)) {
            if (node_local((enum store_db)db, &kv))
                continue;
            hash_len(&h, kv.klen);
            mbedtls_sha256_update_ret(&h, kv.key, kv.klen);
            hash_len(&h, kv.vlen);
            mbedtls_sha256_update_ret(&h, kv.val, kv.vlen);
            out->records++;
            out->apps += db == DB_APPS;
            out->endpoints += db == DB_ENDPOINTS;
            out->messages += db == DB_MESSAGES;
        }
        store_cursor_close(c);
        if (rc == HOOKD_ENOTFOUND)
            rc = 0;
    }
    mbedtls_sha256_finish_ret(&h, out->digest);
    mbedtls_sha256_free(&h);
    return rc;
}

void cmeta_import_entry(struct entry_w *w, const struct cmeta_import *im, int64_t now_ms)
{
    entry_begin(w, ENTRY_IMPORT, now_ms);
    entry_put_bytes(w, im->digest, CMETA_DIGEST_LEN);
    entry_put_u64(w, im->records);
    entry_put_u64(w, im->apps);
    entry_put_u64(w, im->endpoints);
    entry_put_u64(w, im->messages);
}

static int read_import(struct entry_r *r, struct cmeta_import *im)
{
    size_t n = 0;
    const void *d = entry_get_bytes(r, &n);
    im->records = entry_get_u64(r);
    im->apps = entry_get_u64(r);
    im->endpoints = entry_get_u64(r);
    im->messages = entry_get_u64(r);
    if (r->bad || n != CMETA_DIGEST_LEN)
        return HOOKD_EINVAL;
    memcpy(im->digest, d, CMETA_DIGEST_LEN);
    return 0;
}

int cmeta_import_parse(const void *p, size_t n, struct cmeta_import *im)
{
    struct entry_r r;
    if (entry_open(&r, p, n) || r.head.kind != ENTRY_IMPORT || read_import(&r, im))
        return HOOKD_EINVAL;
    return entry_end(&r);
}

/* A store that meets the import has none of the imported data: it must start from a copy. */
int cmeta_import_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t)
{
    struct cmeta_import im;
    return read_import(r, &im) ? HOOKD_EINVAL : HOOKD_EBOOTSTRAP;
}

int cmeta_import_mark(struct store_txn *t, const struct cmeta_import *im, uint64_t seq)
{
    char hex[2 * CMETA_DIGEST_LEN + 1];
    for (int i = 0; i < CMETA_DIGEST_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", im->digest[i]);
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "digest", hex, "records",
                          (json_int_t)im->records, "apps", (json_int_t)im->apps, "endpoints",
                          (json_int_t)im->endpoints, "messages", (json_int_t)im->messages,
                          "seq", (json_int_t)seq);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return HOOKD_EINVAL;
    int rc = put_text(t, CMETA_IMPORT_KEY, text);
    free(text);
    return rc ? rc : store_meta_put_u64(t, WRITER_LOG_SEQ_KEY, seq);
}
