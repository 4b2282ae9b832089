/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmeta.h - what a store records of the cluster's log besides its
 * entries' writes (cluster mode; CLUSTER.md, docs/operations.md 8): the
 * owners' epoch markers and an imported start, as meta records that
 * every node derives from the log alone, so an owner's store and its
 * standby's compare equal. Built in every hookd: `hookd reapply` and the
 * fuzzer apply these kinds too, and nothing here needs NATS.
 *
 * meta records (store.h):
 *   CMETA_EPOCH_KEY  u64 BE: the epoch of the last owner marker applied
 *   CMETA_OWNER_KEY  the node id of that marker (text)
 *   CMETA_STALE_KEY  u64 BE: log messages and markers of an older epoch
 *                    that came after a newer marker, skipped (the stream's
 *                    expected-sequence check should never let one in)
 *   CMETA_IMPORT_KEY JSON {"digest", "records", "apps", "endpoints",
 *                    "messages", "seq"}: the store was imported into the
 *                    cluster (hookd cluster import) as log entry seq
 *
 * Entries:
 *   ENTRY_EPOCH (25): node id (str), epoch (u64). A new owner publishes
 *     one before its first write and owns once its store applied it.
 *     Apply: a newer epoch becomes the store's epoch and owner; the same
 *     marker again (a publish retried) changes nothing; an older one is
 *     counted in CMETA_STALE_KEY and changes nothing else.
 *   ENTRY_IMPORT (26): digest (32 bytes, cmeta_digest), records, apps,
 *     endpoints, messages (u64 each). The first entry of a log that starts
 *     from an imported store. Its data is the imported store, not the
 *     entry: a store never applies it (HOOKD_EBOOTSTRAP); the imported
 *     store is marked as having applied it, and every other node starts
 *     from a hot backup of a store that did.
 *
 * Threads: the caller's, owning t. No state.
 */
#ifndef HOOKD_CMETA_H
#define HOOKD_CMETA_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"

struct entry_r;
struct reapply_env;
struct store;
struct store_txn;

#define CMETA_EPOCH_KEY "cluster.epoch"
#define CMETA_OWNER_KEY "cluster.owner"
#define CMETA_STALE_KEY "cluster.stale"
#define CMETA_IMPORT_KEY "cluster.import"
#define CMETA_NODE_MAX 80
#define CMETA_DIGEST_LEN 32

/* A store's view of the log (cluster.seq from writer.h included). */
struct cmeta {
    uint64_t seq, epoch, stale;
    char owner[CMETA_NODE_MAX];   /* "" before any marker */
    char import[512];             /* CMETA_IMPORT_KEY's JSON, "" when not imported */
};
int cmeta_read(struct store_txn *t, struct cmeta *out);
/* The same from a store, in a read transaction of its own. */
int cmeta_load(struct store *s, struct cmeta *out);

/* An EPOCH entry for node's ownership of epoch. */
void cmeta_epoch_entry(struct entry_w *w, const char *node, uint64_t epoch, int64_t now_ms);
int cmeta_epoch_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t);

/*
 * A log message stamped with epoch (0: no stamp, a static owner's) about
 * to be applied: 1 when a newer marker came before it (it is skipped and
 * counted), 0 when it applies, or a store error.
 */
int cmeta_message_stale(struct store_txn *t, uint64_t epoch);

/* What an IMPORT entry says of a store. */
struct cmeta_import {
    uint8_t digest[CMETA_DIGEST_LEN];
    uint64_t records, apps, endpoints, messages;
};
/*
 * SHA-256 of every record of the store as of t (each database in order,
 * each key and value with its length), leaving out the node-local and
 * cluster meta records ("probe", "cluster.*"), so the digest of an
 * imported store stays what it was before the import marked it.
 */
int cmeta_digest(struct store_txn *t, struct cmeta_import *out);
void cmeta_import_entry(struct entry_w *w, const struct cmeta_import *im, int64_t now_ms);
/* 0 and *im from an IMPORT entry's bytes, or HOOKD_EINVAL. */
int cmeta_import_parse(const void *p, size_t n, struct cmeta_import *im);
int cmeta_import_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t);
/* Mark t's store as the import of log entry seq: CMETA_IMPORT_KEY and cluster.seq. */
int cmeta_import_mark(struct store_txn *t, const struct cmeta_import *im, uint64_t seq);

#endif
