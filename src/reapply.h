/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reapply.h - `hookd reapply`: build a store from a journal of log entries
 * (entry.h, writer_set_journal), applying each with the same code the
 * writer ran when it was first written.
 *
 * The same entries in the same order give the same store, record for
 * record (`hookd check --compare`): this is how a single node proves its
 * writes deterministic, and what a cluster standby does with its owner's
 * log.
 */
#ifndef HOOKD_REAPPLY_H
#define HOOKD_REAPPLY_H

#include <stdint.h>
#include <stdio.h>

struct api;
struct config;
struct entry_r;
struct store;
struct store_txn;
struct writer;

/*
 * What a kind's apply may use besides the entry and the transaction.
 * The same applies run in the writer for the background writes (task.h's
 * task_write, retention's batches): there writer is set, so the
 * dispatcher hears of the due entries a write made (writer_touch), and
 * api is NULL. Nothing here may change what an apply writes.
 */
struct reapply_env {
    struct store *store;
    struct api *api;           /* hookd reapply: writer NULL, replaying set; else NULL */
    struct writer *writer;     /* for writer_touch; NULL in hookd reapply */
    uint64_t *counted;         /* NULL, or an apply adds the records it changed here */
};

/*
 * A kind of entry that is not an API write (those are api_kinds.h): its
 * apply reads the fields after the header from r and writes in t.
 */
typedef int (*reapply_fn)(const struct reapply_env *env, struct entry_r *r,
                          struct store_txn *t);

/*
 * For the batch kinds that queue manual attempts (recover, replay-missing):
 * the record of db under key a+b: 0 there, HOOKD_ENOTFOUND, or a store
 * error; and, once a batch queued n, the dispatcher's note and the count.
 */
int reapply_pair_get(struct store_txn *t, int db, const char *a, const char *b);
void reapply_queued(const struct reapply_env *env, const char *app, const char *ep, uint64_t n);

/* The name of a kind, for messages ("app.create"); "unknown" when none. */
const char *reapply_kind_name(uint16_t kind);

/*
 * Apply one entry (p, n) in t. HOOKD_EINVAL when it is damaged, of a
 * kind this build does not know, or an API write while env->api is NULL;
 * otherwise the apply's own result. Any thread that owns t (the writer's,
 * for task_write).
 */
int reapply_entry(const struct reapply_env *env, const void *p, size_t n, struct store_txn *t);

/*
 * hookd reapply: apply every entry of the journal file at path, in order,
 * into a new store in c->data_dir (refused when it already has one). Prints a
 * summary to out, problems to err. 0 all applied; 1 an entry failed or
 * the journal is damaged (what was applied before it is kept); 2 the
 * store or the journal cannot be opened.
 */
int reapply_run(const struct config *c, const char *path, FILE *out, FILE *err);

#endif
