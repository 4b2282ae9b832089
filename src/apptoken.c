/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apptoken.c - application tokens in the log (apptoken.h has the layout).
 *
 * The admission of a request reads only the "tok|" value, a fixed binary
 * row, so checking a token costs one get and no JSON. The "tid|" record
 * holds what only operators look at, and the hash, so that a revoke by id
 * finds the other key.
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>

#include "apptoken.h"
#include "err.h"

#define VAL_LEN (8 + 1 + 31 + 31)
#define ID_LEN 31    /* "tok_" + 27, and "app_" + 27 */

static const char *const cap_names[] = {
    "ViewBase", "ViewEndpointSecret", "ManageEndpointSecret", "ManageTransformations",
    "CreateAttempts", "ManageEndpoint",
};

int apptoken_shaped(const char *s)
{
    return strncmp(s, APPTOKEN_PREFIX, sizeof(APPTOKEN_PREFIX) - 1) == 0;
}

void apptoken_hash(const char *token, uint8_t out[32])
{
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)token,
               strlen(token), out);
}

void apptoken_new(int64_t now_ms, char token[APPTOKEN_MAX], char id[ID_MAX])
{
    uint8_t rnd[ID_RAW_LEN];
    char b62[ID_B62_LEN + 1];
    id_random(rnd, sizeof(rnd));
    id_encode(rnd, b62);
    memset(rnd, 0, sizeof(rnd));
    snprintf(token, APPTOKEN_MAX, "%s%s", APPTOKEN_PREFIX, b62);
    id_new_at("tok_", now_ms, id);
}

static void key_of(const uint8_t h[32], uint8_t key[APPTOKEN_KEY_LEN])
{
    memcpy(key, APPTOKEN_KEY_PREFIX, 4);
    memcpy(key + 4, h, 32);
}

static size_t id_key(const char *id, char *key, size_t cap)
{
    return (size_t)snprintf(key, cap, "%s%s", APPTOKEN_ID_PREFIX, id);
}

int apptoken_find(struct store_txn *t, const uint8_t h[32], struct apptoken *out)
{
    uint8_t key[APPTOKEN_KEY_LEN];
    const uint8_t *v;
    size_t n;
    key_of(h, key);
    int rc = store_get(t, DB_META, key, sizeof(key), (const void **)&v, &n);
    if (rc)
        return rc;
    if (n != VAL_LEN)
        return HOOKD_ECORRUPT;
    uint64_t exp = 0;
    for (int i = 0; i < 8; i++)
        exp = exp << 8 | v[i];
    out->expires_ms = (int64_t)exp;
    out->caps = v[8];
    memcpy(out->id, v + 9, ID_LEN);
    out->id[ID_LEN] = '\0';
    memcpy(out->app_id, v + 9 + ID_LEN, ID_LEN);
    out->app_id[ID_LEN] = '\0';
    return 0;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return HOOKD_ECORRUPT;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return HOOKD_ECORRUPT;
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return 0;
}

int apptoken_put(struct store_txn *t, const uint8_t h[32], const struct apptoken *tk,
                 json_t *rec)
{
    uint8_t key[APPTOKEN_KEY_LEN], v[VAL_LEN];
    char ikey[64], hx[65];
    if (strlen(tk->id) != ID_LEN || strlen(tk->app_id) != ID_LEN)
        return HOOKD_EINVAL;
    uint64_t exp = (uint64_t)tk->expires_ms;
    for (int i = 7; i >= 0; i--, exp >>= 8)
        v[i] = (uint8_t)exp;
    v[8] = (uint8_t)tk->caps;
    memcpy(v + 9, tk->id, ID_LEN);
    memcpy(v + 9 + ID_LEN, tk->app_id, ID_LEN);
    key_of(h, key);
    hex(h, 32, hx);
    json_object_set_new(rec, "hash", json_string(hx));
    int rc = store_put(t, DB_META, key, sizeof(key), v, sizeof(v), 1);
    if (!rc)
        rc = store_put_json(t, DB_META, ikey, id_key(tk->id, ikey, sizeof(ikey)), rec);
    return rc;
}

int apptoken_del_hash(struct store_txn *t, const uint8_t h[32])
{
    struct apptoken tk;
    uint8_t key[APPTOKEN_KEY_LEN];
    char ikey[64];
    int rc = apptoken_find(t, h, &tk);
    if (rc && rc != HOOKD_ECORRUPT)
        return rc;
    key_of(h, key);
    rc = store_del(t, DB_META, key, sizeof(key));
    if (!rc && tk.id[0]) {
        int r2 = store_del(t, DB_META, ikey, id_key(tk.id, ikey, sizeof(ikey)));
        rc = r2 == HOOKD_ENOTFOUND ? 0 : r2;
    }
    return rc;
}

/*
 * The id's record (*rec, the caller's) and the token's hash it holds, with
 * the record's key in ikey (*kl bytes). HOOKD_ENOTFOUND for an id that
 * cannot be one; a record without a readable hash is HOOKD_ECORRUPT, *rec
 * still set.
 */
static int by_id(struct store_txn *t, const char *id, char ikey[64], size_t *kl, json_t **rec,
                 uint8_t h[32])
{
    if (strlen(id) != ID_LEN)
        return HOOKD_ENOTFOUND;
    *kl = id_key(id, ikey, 64);
    int rc = store_get_json(t, DB_META, ikey, *kl, rec);
    if (rc)
        return rc;
    return unhex(json_string_value(json_object_get(*rec, "hash")), h, 32);
}

int apptoken_del_id(struct store_txn *t, const char *id)
{
    char ikey[64];
    uint8_t h[32], key[APPTOKEN_KEY_LEN];
    json_t *rec = NULL;
    size_t kl = 0;
    int rc = by_id(t, id, ikey, &kl, &rec, h);
    if (!rec)
        return rc;
    json_decref(rec);
    if (!rc) {
        key_of(h, key);
        rc = store_del(t, DB_META, key, sizeof(key));
        rc = rc == HOOKD_ENOTFOUND ? 0 : rc;
    }
    if (!rc || rc == HOOKD_ECORRUPT)
        rc = store_del(t, DB_META, ikey, kl);
    return rc;
}

int apptoken_expire(struct store_txn *t, const char *id, int64_t until_ms)
{
    char ikey[64];
    uint8_t h[32];
    struct apptoken tk;
    json_t *rec = NULL;
    size_t kl = 0;
    int rc = by_id(t, id, ikey, &kl, &rec, h);
    if (!rec)
        return rc;
    if (!rc)
        rc = apptoken_find(t, h, &tk);
    if (!rc && tk.expires_ms > until_ms) {
        uint8_t key[APPTOKEN_KEY_LEN];
        tk.expires_ms = until_ms;
        json_object_set_new(rec, "expiresAt", json_integer(until_ms));
        key_of(h, key);
        rc = store_del(t, DB_META, key, sizeof(key));
        if (!rc)
            rc = apptoken_put(t, h, &tk, rec);
    }
    json_decref(rec);
    return rc;
}

const char *apptoken_cap_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
        if (bit == 1u << i)
            return cap_names[i];
    return NULL;
}

unsigned apptoken_cap_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
        if (strcmp(name, cap_names[i]) == 0)
            return 1u << i;
    return 0;
}
