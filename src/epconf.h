/* SPDX-License-Identifier: Apache-2.0 */
/*
 * epconf.h - an endpoint's delivery settings in the form a delivery uses
 * them: the url, the signing keys decoded with their HMAC states
 * precomputed (sign.h), and the custom headers as a ready curl header
 * list. Made once each time the dispatcher loads the endpoint's record,
 * instead of once per delivery.
 *
 * Ownership and threads: the dispatcher makes one (epconf_from) and holds
 * a reference in its endpoint state; every job it hands out holds one
 * more. Immutable once made, so workers read it without locks while
 * their transfer runs. References are atomic: the last epconf_unref
 * frees it, on whichever thread that is.
 */
#ifndef HOOKD_EPCONF_H
#define HOOKD_EPCONF_H

#include <stdatomic.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "sign.h"

#define EPCONF_MAX_KEYS 12   /* the current secret and up to 11 rotated ones */

struct epconf_key {
    struct sign_key k;
    int64_t expires_ms;      /* 0: the current secret, no end */
    char *text;              /* the secret as stored: masked out of log lines */
};

struct epconf {
    atomic_int refs;
    char *url;
    char *url_refused;       /* why the url's host is a literal trick (netpolicy_check_url),
                                checked once here; NULL when it is not */
    struct epconf_key keys[EPCONF_MAX_KEYS];
    int nkeys;               /* current first; secrets that fail to decode are left out */
    char **headers;          /* custom "Name: value" lines, NULL-terminated */
    /*
     * What every request of this endpoint sends after the signature
     * headers: the custom headers, then content-type, user-agent and an
     * empty Expect (no 100-continue round trip). Nodes live here; a job
     * links its own signature nodes in front of them.
     */
    struct curl_slist *tail;
    struct curl_slist *nodes;   /* the custom headers' nodes (array) */
    int64_t connect_timeout_ms; /* the endpoint's own deadlines (API.md 9); 0: the */
    int64_t timeout_ms;         /* server's --connect-timeout, --request-timeout */
};

/*
 * Is name (any case) a header hookd writes itself on every delivery, or
 * one that would change the request's framing or target? The signature
 * families (webhook-id/-timestamp/-signature and their svix-*
 * spellings), host, content-length, transfer-encoding, content-type,
 * connection and expect: a second copy of any of them gives the receiver
 * two ids, two signatures or an ambiguous request. The API refuses them
 * on every route that sets headers; epconf_from leaves them out of
 * records written before it did. Pure; any thread.
 */
int epconf_header_reserved(const char *name);

/* From an endpoint record (its url, secret, oldSecrets and headers). */
struct epconf *epconf_from(json_t *ep);
struct epconf *epconf_ref(struct epconf *c);
/* Drop a reference; safe on NULL. */
void epconf_unref(struct epconf *c);

#endif
