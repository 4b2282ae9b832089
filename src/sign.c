/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign.c - Standard Webhooks HMAC-SHA256 signatures (API.md 6).
 *
 * The HMAC is fed in pieces (id, ".ts.", body) so a large payload is
 * hashed where it lies instead of being copied into a "<id>.<ts>.<body>"
 * buffer first. Key bytes live only on the stack of sign_key_init and are
 * wiped before it returns; what it keeps are the two SHA-256 states after
 * the padded key, as secret as the key itself, wiped by sign_key_free.
 *
 * Base64 input is checked here before mbedTLS sees it: mbedTLS tolerates
 * embedded whitespace and line breaks (it is a PEM decoder at heart), and
 * a secret with a stray space should be an error, not a different key.
 */
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

#include "err.h"
#include "id.h"
#include "mem.h"
#include "sign.h"

#define SECRET_PREFIX "whsec_"
#define SECRET_RAW_LEN 24
#define MAC_LEN 32

/* Standard alphabet, padded, length a multiple of 4, '=' only at the end. */
static int b64_valid(const char *s, size_t n)
{
    size_t pad = 0;

    if (n == 0 || n % 4 != 0)
        return 0;
    while (pad < 2 && s[n - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < n - pad; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return 0;
    }
    return 1;
}

int sign_key_decode(const char *secret, uint8_t key[SIGN_KEY_MAX])
{
    size_t plen = strlen(SECRET_PREFIX), n, olen = 0;

    if (strncmp(secret, SECRET_PREFIX, plen) == 0)
        secret += plen;
    n = strlen(secret);
    /* Checked before decoding so an oversized secret never touches key. */
    if (!b64_valid(secret, n) || n / 4 * 3 > SIGN_KEY_MAX + 2)
        return HOOKD_EINVAL;
    if (mbedtls_base64_decode(key, SIGN_KEY_MAX, &olen,
                              (const unsigned char *)secret, n) != 0 || olen == 0) {
        mbedtls_platform_zeroize(key, SIGN_KEY_MAX);
        return HOOKD_EINVAL;
    }
    return (int)olen;
}

#define BLOCK_LEN 64   /* SHA-256's block: HMAC pads the key to it */

static void sha_start(mbedtls_sha256_context *c, const uint8_t *pad)
{
    mbedtls_sha256_init(c);
    mbedtls_sha256_starts_ret(c, 0);
    mbedtls_sha256_update_ret(c, pad, BLOCK_LEN);
}

/*
 * HMAC (RFC 2104) with its two keyed blocks hashed once, here: every
 * delivery to the endpoint then starts from a copy of these states
 * instead of hashing the padded key twice again.
 */
int sign_key_init(struct sign_key *k, const char *secret)
{
    uint8_t key[SIGN_KEY_MAX], pad[2][BLOCK_LEN];
    int len = sign_key_decode(secret, key);
    if (len < 0)
        return len;
    if (len > BLOCK_LEN) {   /* a key longer than a block is hashed first */
        mbedtls_sha256_ret(key, (size_t)len, key, 0);
        len = 32;
    }
    memset(pad[0], 0x36, BLOCK_LEN);
    memset(pad[1], 0x5c, BLOCK_LEN);
    for (int i = 0; i < len; i++) {
        pad[0][i] ^= key[i];
        pad[1][i] ^= key[i];
    }
    sha_start(&k->inner, pad[0]);
    sha_start(&k->outer, pad[1]);
    mbedtls_platform_zeroize(key, sizeof(key));
    mbedtls_platform_zeroize(pad, sizeof(pad));
    return 0;
}

void sign_key_free(struct sign_key *k)
{
    mbedtls_sha256_free(&k->inner);   /* these wipe the keyed states */
    mbedtls_sha256_free(&k->outer);
}

int sign_entry_with(const struct sign_key *k, const char *msg_id, int64_t ts,
                    const void *body, size_t body_len, char out[SIGN_ENTRY_MAX])
{
    mbedtls_sha256_context c;
    unsigned char mac[MAC_LEN];
    char tsbuf[STR_INT_MAX + 2] = ".";
    size_t tslen = 1 + str_int(tsbuf + 1, ts);
    tsbuf[tslen++] = '.';
    size_t olen = 0;
    mbedtls_sha256_init(&c);
    mbedtls_sha256_clone(&c, &k->inner);
    mbedtls_sha256_update_ret(&c, (const unsigned char *)msg_id, strlen(msg_id));
    mbedtls_sha256_update_ret(&c, (const unsigned char *)tsbuf, tslen);
    if (body_len > 0)
        mbedtls_sha256_update_ret(&c, body, body_len);
    mbedtls_sha256_finish_ret(&c, mac);
    mbedtls_sha256_clone(&c, &k->outer);
    mbedtls_sha256_update_ret(&c, mac, MAC_LEN);
    mbedtls_sha256_finish_ret(&c, mac);
    mbedtls_sha256_free(&c);
    memcpy(out, "v1,", 3);
    int rc = mbedtls_base64_encode((unsigned char *)out + 3, SIGN_ENTRY_MAX - 3, &olen, mac,
                                   sizeof(mac)) == 0 ? 0 : HOOKD_EINVAL;
    mbedtls_platform_zeroize(mac, sizeof(mac));
    return rc;
}

int sign_entry(const char *secret, const char *msg_id, int64_t ts, const void *body,
               size_t body_len, char out[SIGN_ENTRY_MAX])
{
    struct sign_key k;
    int rc = sign_key_init(&k, secret);
    if (rc)
        return rc;
    rc = sign_entry_with(&k, msg_id, ts, body, body_len, out);
    sign_key_free(&k);
    return rc;
}

/*
 * cap is at least 64 by contract (the secret is 38 characters); a smaller
 * buffer gets an empty string rather than a truncated, valid-looking key.
 */
void sign_secret_new(char *out, size_t cap)
{
    uint8_t raw[SECRET_RAW_LEN];
    size_t plen = strlen(SECRET_PREFIX), olen = 0;

    if (cap == 0)
        return;
    out[0] = '\0';
    id_random(raw, sizeof(raw));
    if (cap > plen &&
        mbedtls_base64_encode((unsigned char *)out + plen, cap - plen, &olen,
                              raw, sizeof(raw)) == 0)
        memcpy(out, SECRET_PREFIX, plen);
    else
        out[0] = '\0';
    mbedtls_platform_zeroize(raw, sizeof(raw));
}
