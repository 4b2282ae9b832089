/*
 * sign.c - Standard Webhooks HMAC-SHA256 signatures (API.md 6).
 *
 * The HMAC is fed in five pieces (id, '.', timestamp, '.', body) so a
 * large payload is hashed where it lies instead of being copied into a
 * "<id>.<ts>.<body>" buffer first. Key bytes live only on the stack of the
 * call that needs them and are wiped with mbedtls_platform_zeroize before
 * it returns, on every path; mbedtls_md_free wipes the HMAC context.
 *
 * Base64 input is checked here before mbedTLS sees it: mbedTLS tolerates
 * embedded whitespace and line breaks (it is a PEM decoder at heart), and
 * a secret with a stray space should be an error, not a different key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "err.h"
#include "id.h"
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

/* HMAC-SHA256 of "<msg_id>.<ts>.<body>" under key into mac. */
static int hmac_content(const uint8_t *key, size_t key_len, const char *msg_id,
                        int64_t ts, const void *body, size_t body_len,
                        unsigned char mac[MAC_LEN])
{
    mbedtls_md_context_t ctx;
    char tsbuf[24];
    int tslen = snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
    int rc;

    mbedtls_md_init(&ctx);
    rc = mbedtls_md_setup(&ctx, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_md_hmac_starts(&ctx, key, key_len);
    if (rc == 0)
        rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)msg_id, strlen(msg_id));
    if (rc == 0)
        rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)".", 1);
    if (rc == 0)
        rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)tsbuf, (size_t)tslen);
    if (rc == 0)
        rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)".", 1);
    if (rc == 0 && body_len > 0)
        rc = mbedtls_md_hmac_update(&ctx, body, body_len);
    if (rc == 0)
        rc = mbedtls_md_hmac_finish(&ctx, mac);
    mbedtls_md_free(&ctx);
    /* The only failures are allocation and bad input to mbedTLS. */
    return rc == 0 ? 0 : HOOKD_EINVAL;
}

int sign_entry(const char *secret, const char *msg_id, int64_t ts, const void *body,
               size_t body_len, char out[SIGN_ENTRY_MAX])
{
    uint8_t key[SIGN_KEY_MAX];
    unsigned char mac[MAC_LEN];
    size_t olen = 0;
    int rc, key_len = sign_key_decode(secret, key);

    if (key_len < 0)
        return key_len;
    rc = hmac_content(key, (size_t)key_len, msg_id, ts, body, body_len, mac);
    mbedtls_platform_zeroize(key, sizeof(key));
    if (rc < 0)
        goto wipe_mac;
    memcpy(out, "v1,", 3);
    if (mbedtls_base64_encode((unsigned char *)out + 3, SIGN_ENTRY_MAX - 3, &olen,
                              mac, sizeof(mac)) != 0)
        rc = HOOKD_EINVAL;
wipe_mac:
    mbedtls_platform_zeroize(mac, sizeof(mac));
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
