/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign.h - Standard Webhooks signatures (API.md 6), HMAC-SHA256 through
 * mbedTLS.
 *
 * A secret is "whsec_" + base64 of the key bytes (the prefix is optional
 * on input). The signed content is "<msg_id>.<timestamp>.<body>", and an
 * entry of the signature header is "v1,<base64 HMAC>". Functions are
 * safe from any thread; nothing here logs, and only a struct sign_key
 * keeps (derived) key material, for its owner.
 */
#ifndef HOOKD_SIGN_H
#define HOOKD_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/sha256.h>

#define SIGN_KEY_MAX 128      /* longest decoded key, bytes */
#define SIGN_ENTRY_MAX 64     /* "v1," + 44 base64 chars + NUL fits */

/* Decode "whsec_<base64>" (or bare base64) into key; length or HOOKD_EINVAL. */
int sign_key_decode(const char *secret, uint8_t key[SIGN_KEY_MAX]);

/* "v1,<base64(HMAC-SHA256(key, id.ts.body))>" into out. 0 or HOOKD_EINVAL. */
int sign_entry(const char *secret, const char *msg_id, int64_t ts, const void *body,
               size_t body_len, char out[SIGN_ENTRY_MAX]);

/*
 * A decoded key ready to sign with: HMAC's inner and outer SHA-256 states
 * after the padded key. Owned by whoever called sign_key_init; read-only
 * afterwards, so any number of threads may sign with it at once.
 */
struct sign_key {
    mbedtls_sha256_context inner, outer;
};

/* Decode secret and precompute; 0 or HOOKD_EINVAL. */
int sign_key_init(struct sign_key *k, const char *secret);
/* Wipe and free what sign_key_init made. */
void sign_key_free(struct sign_key *k);
/* sign_entry with a key made once: what a delivery calls. */
int sign_entry_with(const struct sign_key *k, const char *msg_id, int64_t ts,
                    const void *body, size_t body_len, char out[SIGN_ENTRY_MAX]);
/* A new secret: "whsec_" + base64 of 24 random bytes, into out (>= 64 bytes). */
void sign_secret_new(char *out, size_t cap);

#endif
