/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apptoken.h - application tokens (API.md 4.11): bearer tokens that reach
 * one application only, until they expire, with a set of capabilities
 * (a read-only token has APPTOK_VIEW alone). The plaintext is shown once,
 * when the token is made; the log keeps its SHA-256.
 *
 * Two keys per token, in the meta database (beside "schema", "probe",
 * "failed"), so a token costs the admission of a request one get:
 *
 *   "tok|" SHA-256(token) (32)  u64 BE expires_ms | u8 caps | id (31) | app_id (31)
 *   "tid|" id                   JSON: id, appId, hash (hex), prefix (the
 *                               token's first APPTOKEN_SHOWN chars), caps,
 *                               sessionId, featureFlags, createdAt and
 *                               expiresAt (ms): the operators' list, in
 *                               time order (ids are KSUIDs "tok_...")
 *
 * Both keys come and go in one transaction. An expired token is refused
 * at once (its expiry is in the value) and its keys go with the next
 * retention pass (retention.c).
 *
 * Threads: apptoken_find on any thread inside its read transaction; the
 * writes on the writer thread. The rest is pure.
 */
#ifndef HOOKD_APPTOKEN_H
#define HOOKD_APPTOKEN_H

#include <stdint.h>

#include <jansson.h>

#include "id.h"
#include "store.h"

#define APPTOKEN_PREFIX "appsk_"
#define APPTOKEN_MAX 40         /* "appsk_" + 27 base62 chars + NUL fits */
#define APPTOKEN_SHOWN 10       /* chars of the plaintext the list shows */
#define APPTOKEN_KEY_PREFIX "tok|"
#define APPTOKEN_ID_PREFIX "tid|"
#define APPTOKEN_KEY_LEN 36     /* "tok|" + 32 */

/* Capabilities, Svix's AppPortalCapability names (apptoken_cap_name). */
enum {
    APPTOK_VIEW = 1 << 0,             /* ViewBase: reads, not the endpoint secret */
    APPTOK_VIEW_SECRET = 1 << 1,      /* ViewEndpointSecret */
    APPTOK_MANAGE_SECRET = 1 << 2,    /* ManageEndpointSecret: rotate (and view) */
    APPTOK_TRANSFORMATIONS = 1 << 3,  /* ManageTransformations: nothing to manage in hookd */
    APPTOK_CREATE_ATTEMPTS = 1 << 4,  /* CreateAttempts: resend, recover, replay-missing */
    APPTOK_MANAGE_ENDPOINT = 1 << 5,  /* ManageEndpoint: create, change, delete endpoints */
    APPTOK_ALL = (1 << 6) - 1
};

struct apptoken {
    char id[ID_MAX];
    char app_id[ID_MAX];
    int64_t expires_ms;
    unsigned caps;
};

/* Does s look like an application token (its prefix)? Cheap, no store. */
int apptoken_shaped(const char *s);
/* SHA-256 of the token's text. */
void apptoken_hash(const char *token, uint8_t out[32]);
/* A new plaintext token (160 random bits) and its id "tok_..." for time now_ms. */
void apptoken_new(int64_t now_ms, char token[APPTOKEN_MAX], char id[ID_MAX]);

/*
 * The token whose hash is h: 0 with *out set, HOOKD_ENOTFOUND (never
 * made, revoked, or removed once expired), HOOKD_ECORRUPT. An expired
 * token that is still stored is found: the caller compares expires_ms.
 */
int apptoken_find(struct store_txn *t, const uint8_t h[32], struct apptoken *out);
/* Writer: store a token (both keys); rec is the "tid|" JSON record. */
int apptoken_put(struct store_txn *t, const uint8_t h[32], const struct apptoken *tk,
                 json_t *rec);
/* Writer: remove the token of hash h (both keys). 0 or HOOKD_ENOTFOUND. */
int apptoken_del_hash(struct store_txn *t, const uint8_t h[32]);
/* Writer: remove the token with this id (both keys). 0 or HOOKD_ENOTFOUND. */
int apptoken_del_id(struct store_txn *t, const char *id);

/*
 * Writer: make the token with this id expire at until_ms unless it
 * expires sooner (both keys). 0 or HOOKD_ENOTFOUND.
 */
int apptoken_expire(struct store_txn *t, const char *id, int64_t until_ms);

/* The Svix name of one capability bit ("ViewBase"), or NULL. */
const char *apptoken_cap_name(unsigned bit);
/* The bit of a Svix capability name, 0 when unknown. */
unsigned apptoken_cap_parse(const char *name);

#endif
