/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0030-sign - Standard Webhooks signatures: the API.md 6 test vector with
 * and without the whsec_ prefix, secret decoding and rejection, fresh
 * secrets, an empty body, and sign_entry_with (its precomputed HMAC
 * states) against mbedTLS's own HMAC for keys shorter than, as long as
 * and longer than SHA-256's 64-byte block.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "err.h"
#include "sign.h"
#include "tap/tap.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define MSG_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TS 1614265330
#define BODY "{\"test\": 2432232314}"
#define WANT "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void test_vector(void)
{
    char out[SIGN_ENTRY_MAX];

    is_int(sign_entry(SECRET, MSG_ID, TS, BODY, strlen(BODY), out), 0, "sign the vector");
    is_str(out, WANT, "vector signature matches the SDK");

    memset(out, 0, sizeof(out));
    is_int(sign_entry(SECRET + 6, MSG_ID, TS, BODY, strlen(BODY), out), 0,
           "sign with a bare base64 secret");
    is_str(out, WANT, "bare secret gives the same signature");

    sign_entry(SECRET, MSG_ID, TS + 1, BODY, strlen(BODY), out);
    ok(strcmp(out, WANT) != 0, "another timestamp gives another signature");
    sign_entry(SECRET, MSG_ID, TS, BODY, strlen(BODY) - 1, out);
    ok(strcmp(out, WANT) != 0, "a shorter body gives another signature");
}

static void test_empty_body(void)
{
    char out[SIGN_ENTRY_MAX];

    /* Reference value from Python's hmac module. */
    is_int(sign_entry(SECRET, MSG_ID, TS, NULL, 0, out), 0, "empty body signs");
    is_str(out, "v1,v48jdbgvh29KJz2Qc+ghw8G6vG3nAKnujWBg8oM/62A=", "empty body signature");
    is_int(sign_entry(SECRET, MSG_ID, TS, "", 0, out), 0, "empty string body signs");
    is_str(out, "v1,v48jdbgvh29KJz2Qc+ghw8G6vG3nAKnujWBg8oM/62A=", "same as NULL body");
}

static void test_decode(void)
{
    uint8_t key[SIGN_KEY_MAX];
    char out[SIGN_ENTRY_MAX];
    char big[300];
    static const char *const bad[] = {
        "", "whsec_", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",   /* not a multiple of 4 */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w",                 /* bad character */
        "whsec_MfKQ9r8GKYqrTwjU PD8ILPZIo2LaLaSw",                /* embedded space */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
        "whsec_MfKQ9r8G=YqrTwjUPD8ILPZIo2LaLaSw",                 /* '=' in the middle */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w",                 /* url-safe alphabet */
        "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    };

    is_int(sign_key_decode(SECRET, key), 24, "vector secret decodes to 24 bytes");
    ok(key[0] == 0x31 && key[1] == 0xf2 && key[23] == 0xb0, "decoded key bytes");
    is_int(sign_key_decode("whsec_AAE=", key), 2, "padded secret decodes");
    ok(key[0] == 0 && key[1] == 1, "padded secret bytes");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        is_int(sign_key_decode(bad[i], key), HOOKD_EINVAL, "reject secret %zu", i);
    is_int(sign_entry("whsec_!!!!", MSG_ID, TS, BODY, strlen(BODY), out), HOOKD_EINVAL,
           "sign_entry rejects a bad secret");

    memset(big, 'A', 172);      /* 129 bytes: one over the limit */
    big[172] = '\0';
    is_int(sign_key_decode(big, key), HOOKD_EINVAL, "oversized key rejected");
    big[168] = '\0';            /* 126 bytes */
    is_int(sign_key_decode(big, key), 126, "126-byte key accepted");
    memcpy(big + 168, "AAA=", 5); /* 128 bytes */
    is_int(sign_key_decode(big, key), 128, "128-byte key accepted");
}

static void test_secret_new(void)
{
    char a[64], b[64], out[SIGN_ENTRY_MAX];
    uint8_t key[SIGN_KEY_MAX];

    sign_secret_new(a, sizeof(a));
    sign_secret_new(b, sizeof(b));
    ok(strncmp(a, "whsec_", 6) == 0, "new secret has the whsec_ prefix");
    is_int((long long)strlen(a), 38, "new secret is whsec_ + 32 base64 chars");
    is_int(sign_key_decode(a, key), 24, "new secret decodes to 24 bytes");
    ok(strcmp(a, b) != 0, "two new secrets differ");
    is_int(sign_entry(a, MSG_ID, TS, BODY, strlen(BODY), out), 0, "a new secret signs");
    sign_secret_new(a, 10);
    is_str(a, "", "too small a buffer gets an empty string");
}

/* The reference: mbedTLS's HMAC over "<id>.<ts>.<body>" in one piece. */
static void reference(const uint8_t *key, size_t kl, const char *body, char out[SIGN_ENTRY_MAX])
{
    char content[512];
    unsigned char mac[32];
    size_t olen = 0;
    int n = snprintf(content, sizeof(content), "%s.%d.%s", MSG_ID, TS, body);
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, kl,
                    (const unsigned char *)content, (size_t)n, mac);
    memcpy(out, "v1,", 3);
    mbedtls_base64_encode((unsigned char *)out + 3, SIGN_ENTRY_MAX - 3, &olen, mac, 32);
}

static void test_precomputed(void)
{
    static const size_t lens[] = { 1, 24, 63, 64, 65, 96, 128 };
    const char *bodies[] = { "", BODY, "{\"a\":\"0123456789012345678901234567890123456789"
                             "01234567890123456789012345678901234567890123456789\"}" };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t key[SIGN_KEY_MAX];
        char secret[256] = "whsec_", want[SIGN_ENTRY_MAX], got[SIGN_ENTRY_MAX];
        size_t olen = 0;
        for (size_t b = 0; b < lens[i]; b++)
            key[b] = (uint8_t)(b * 37 + i);
        mbedtls_base64_encode((unsigned char *)secret + 6, sizeof(secret) - 6, &olen, key,
                              lens[i]);
        struct sign_key k;
        is_int(sign_key_init(&k, secret), 0, "%zu-byte key precomputes", lens[i]);
        for (size_t b = 0; b < 3; b++) {
            reference(key, lens[i], bodies[b], want);
            sign_entry_with(&k, MSG_ID, TS, bodies[b], strlen(bodies[b]), got);
            is_str(got, want, "%zu-byte key, body %zu: same as mbedTLS's HMAC", lens[i], b);
        }
        sign_key_free(&k);
    }
    struct sign_key k;
    is_int(sign_key_init(&k, "whsec_!!!!"), HOOKD_EINVAL, "a bad secret gives no key");
}

int main(void)
{
    test_vector();
    test_empty_body();
    test_decode();
    test_secret_new();
    test_precomputed();
    return done_testing();
}
