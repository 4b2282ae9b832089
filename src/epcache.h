/* SPDX-License-Identifier: Apache-2.0 */
/*
 * epcache.h - the writer's memory of each application's endpoint filters.
 *
 * Fan-out needs, for every message, the filters of every endpoint of its
 * application (API.md 4.3). Decoding the endpoint records for each message
 * cost more than the rest of the writer's work, and they change rarely, so
 * the writer keeps the decoded filters per application. The cache is
 * emptied whenever store_settings_gen() moves (any write to apps or
 * endpoints, or the rollback of one), which errs towards reloading but
 * never serves a filter the store no longer has. At most EPCACHE_MAX_APPS
 * applications are kept; past that the cache starts over, so memory stays
 * bounded however many applications send.
 *
 * So it is a pure cache of the store: what epcache_get gives equals what
 * the transaction's endpoints hold, however the cache was filled, after a
 * rolled back batch (flat or nested) too. That is what lets message
 * ingest's apply fan out from it and still be a function of the store and
 * its entry alone (hookd reapply keeps a cache of its own).
 *
 * Threads: the writer thread only (the transactions are its own).
 */
#ifndef HOOKD_EPCACHE_H
#define HOOKD_EPCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "id.h"

struct store_txn;
struct epcache;

#define EPCACHE_MAX_APPS 4096

struct ep_filter {
    char id[ID_MAX];
    int disabled;
    int any_type;             /* eventTypes null or absent: every type */
    int any_channel;          /* channels null or absent: every message */
    char **types;             /* the eventTypes names (ntypes) */
    size_t ntypes;
    char **channels;          /* the channels names (nchannels) */
    size_t nchannels;
};

struct ep_list {
    size_t n;
    struct ep_filter *eps;    /* in key order */
};

struct epcache *epcache_new(void);
void epcache_free(struct epcache *c);

/*
 * The filters of app_id's endpoints as seen by t, read from the store on
 * a miss. *out stays valid until the next call. 0, or a store error
 * (HOOKD_ECORRUPT for a record that does not decode).
 */
int epcache_get(struct epcache *c, struct store_txn *t, const char *app_id,
                const struct ep_list **out);

#endif
