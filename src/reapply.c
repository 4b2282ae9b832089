/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reapply.c - a store rebuilt from its log entries (reapply.h).
 *
 * Entries are applied 512 to a transaction, each in its own nested one,
 * as the writer applies a batch; the grouping is free to differ from the
 * writer's, since an entry's apply depends only on the store and itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "api_kinds.h"
#include "clock.h"
#include "cmeta.h"
#include "config.h"
#include "epcache.h"
#include "entry.h"
#include "entry_kinds.h"
#include "err.h"
#include "mem.h"
#include "outcome.h"
#include "reapply.h"
#include "retention.h"
#include "store.h"
#include "writer.h"
#include "task.h"

#define REAPPLY_BATCH 512

struct kind_def {
    const char *name;
    const struct api_kind *api;   /* an API write, applied by api_reapply */
    reapply_fn apply;             /* else this */
};

static const struct kind_def kinds[ENTRY_KIND_END] = {
    [ENTRY_APP_CREATE] = { "app.create", &api_kind_app_create, NULL },
    [ENTRY_APP_UPDATE] = { "app.update", &api_kind_app_update, NULL },
    [ENTRY_APP_DELETE] = { "app.delete", &api_kind_app_delete, NULL },
    [ENTRY_EP_CREATE] = { "endpoint.create", &api_kind_ep_create, NULL },
    [ENTRY_EP_UPDATE] = { "endpoint.update", &api_kind_ep_update, NULL },
    [ENTRY_EP_DELETE] = { "endpoint.delete", &api_kind_ep_delete, NULL },
    [ENTRY_EP_EDIT] = { "endpoint.edit", &api_kind_ep_edit, NULL },
    [ENTRY_ET_CREATE] = { "event_type.create", &api_kind_et_create, NULL },
    [ENTRY_ET_UPDATE] = { "event_type.update", &api_kind_et_update, NULL },
    [ENTRY_ET_DELETE] = { "event_type.delete", &api_kind_et_delete, NULL },
    [ENTRY_MSG_CREATE] = { "message.create", &api_kind_msg_create, NULL },
    [ENTRY_MSG_EXPUNGE] = { "message.expunge", &api_kind_msg_expunge, NULL },
    [ENTRY_ATT_EXPUNGE] = { "attempt.expunge", &api_kind_att_expunge, NULL },
    [ENTRY_RESEND] = { "message.resend", &api_kind_resend, NULL },
    [ENTRY_REPLAY] = { "deliveries.replay", &api_kind_replay, NULL },
    [ENTRY_EP_PAUSE] = { "endpoint.pause", &api_kind_ep_pause, NULL },
    [ENTRY_TOKEN_MINT] = { "token.mint", &api_kind_token_mint, NULL },
    [ENTRY_TOKEN_REVOKE] = { "token.revoke", &api_kind_token_revoke, NULL },
    [ENTRY_TOKEN_EXPIRE_ALL] = { "token.expire_all", &api_kind_token_expire_all, NULL },
    [ENTRY_OUTCOME] = { "delivery.outcome", NULL, outcome_reapply },
    [ENTRY_RETENTION] = { "retention.batch", NULL, retention_reapply },
    [ENTRY_RECOVER] = { "task.recover", NULL, task_recover_reapply },
    [ENTRY_TASK_RM] = { "task.replay_missing", NULL, task_rm_reapply },
    /*
     * Reserved: tasks live in memory (task.h) and no write puts their
     * state in the store, so nothing makes this kind yet; an entry of it
     * is refused as one this build cannot apply.
     */
    [ENTRY_TASK_STATE] = { "task.state", NULL, NULL },
    [ENTRY_EPOCH] = { "cluster.epoch", NULL, cmeta_epoch_reapply },
    [ENTRY_IMPORT] = { "cluster.import", NULL, cmeta_import_reapply },
};

int reapply_pair_get(struct store_txn *t, int db, const char *a, const char *b)
{
    char key[2 * ID_MAX];
    const void *v;
    size_t n, kl = (size_t)snprintf(key, sizeof(key), "%s%s", a, b);
    return store_get(t, (enum store_db)db, key, kl, &v, &n);
}

void reapply_queued(const struct reapply_env *env, const char *app, const char *ep, uint64_t n)
{
    if (!n)
        return;
    writer_touch(env->writer, app, ep, WRITER_NOTE_DUE);
    if (env->counted)
        *env->counted += n;
}

const char *reapply_kind_name(uint16_t kind)
{
    return kind < ENTRY_KIND_END && kinds[kind].name ? kinds[kind].name : "unknown";
}

int reapply_entry(const struct reapply_env *env, const void *p, size_t n, struct store_txn *t)
{
    struct entry_r r;
    if (entry_open(&r, p, n))
        return HOOKD_EINVAL;
    const struct kind_def *k = r.head.kind < ENTRY_KIND_END ? &kinds[r.head.kind] : NULL;
    if (!k || (!k->api && !k->apply) || (k->api && !env->api))
        return HOOKD_EINVAL;
    if (k->api)
        return api_reapply(env->api, k->api, &r, t);
    int rc = k->apply(env, &r, t);
    return rc ? rc : entry_end(&r);
}

/* One entry in a nested transaction of t, so a failure leaves no trace. */
static int apply_nested(const struct reapply_env *env, const void *p, size_t n,
                        struct store_txn *t)
{
    struct store_txn *nested;
    int rc = store_nested(t, &nested);
    if (rc)
        return rc;
    rc = reapply_entry(env, p, n, nested);
    if (rc) {
        store_abort(nested);
        return rc;
    }
    return store_commit(nested);
}

struct run {
    const struct reapply_env *env;
    FILE *in, *out, *err;
    const char *path;
    uint64_t applied, per_kind[ENTRY_KIND_END + 1];
};

/* Commit the open transaction, if any; 0 or the commit's error (said). */
static int flush_txn(struct run *x, struct store_txn **t)
{
    int rc = *t ? store_commit(*t) : 0;
    *t = NULL;
    if (rc)
        fprintf(x->err, "hookd: reapply: commit failed: %s\n", hookd_strerror(rc));
    return rc;
}

/* Entry after entry until the journal ends; 0 or 1 as reapply_run. */
static int run_journal(struct run *x)
{
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, pending = 0;
    long at = 0;
    struct store_txn *t = NULL;
    int rc, status = 0;
    while (!status && (rc = entry_journal_get(x->in, &buf, &cap, &n, &at)) == 1) {
        uint16_t kind = (uint16_t)(buf[3] << 8 | buf[4]);   /* n >= ENTRY_HEAD_LEN */
        if (!t && (rc = store_write(x->env->store, &t))) {
            fprintf(x->err, "hookd: reapply: cannot begin a write: %s\n", hookd_strerror(rc));
            status = 1;
        } else if ((rc = apply_nested(x->env, buf, n, t))) {
            fprintf(x->err, "hookd: reapply: entry %llu (%s, at byte %ld of '%s') failed: %s\n",
                    (unsigned long long)x->applied + 1, reapply_kind_name(kind), at, x->path,
                    hookd_strerror(rc));
            status = 1;
        } else {
            x->applied++;
            x->per_kind[kind < ENTRY_KIND_END ? kind : ENTRY_KIND_END]++;
            if (++pending == REAPPLY_BATCH) {
                pending = 0;
                status = flush_txn(x, &t) ? 1 : 0;
            }
        }
    }
    if (!status && rc < 0) {
        fprintf(x->err, "hookd: reapply: '%s' at byte %ld: %s; %llu entries before it applied\n",
                x->path, at, rc == HOOKD_ECORRUPT ? "a damaged or torn record" : "a read error",
                (unsigned long long)x->applied);
        status = 1;
    }
    if (flush_txn(x, &t))
        status = 1;
    free(buf);
    return status;
}

static void summary(const struct run *x, int64_t took_ms)
{
    fprintf(x->out, "reapply: %llu entries applied from '%s' in %lld ms\n",
            (unsigned long long)x->applied, x->path, (long long)took_ms);
    for (int k = 0; k <= ENTRY_KIND_END; k++)
        if (x->per_kind[k])
            fprintf(x->out, "  %-22s %llu\n", k < ENTRY_KIND_END ? reapply_kind_name((uint16_t)k)
                                                                 : "unknown",
                    (unsigned long long)x->per_kind[k]);
}

int reapply_run(const struct config *c, const char *path, FILE *out, FILE *err)
{
    const char *dir = c->data_dir;
    char file[4096];
    struct stat st;
    snprintf(file, sizeof(file), "%s/data.mdb", dir);
    if (stat(file, &st) == 0) {
        fprintf(err, "hookd: reapply builds a new store, and '%s' already holds one; "
                     "give it an empty or new --data directory\n", dir);
        return 2;
    }
    FILE *in = fopen(path, "rb");
    if (!in) {
        fprintf(err, "hookd: reapply: cannot open the journal '%s': %s\n", path, strerror(errno));
        return 2;
    }
    if (mkdir(dir, 0700) && errno != EEXIST) {
        fprintf(err, "hookd: reapply: cannot create '%s': %s\n", dir, strerror(errno));
        fclose(in);
        return 2;
    }
    struct store *s;
    int rc = store_open(&s, dir, c->map_size, 0);
    if (rc) {
        char why[640];
        fprintf(err, "hookd: reapply: cannot open a store in '%s': %s\n", dir,
                store_open_why(dir, rc, why, sizeof(why)));
        fclose(in);
        return 2;
    }
    /* cfg and fanout only as the API's code expects them set: no apply reads them */
    struct api api = { .cfg = c, .store = s, .replaying = 1, .fanout = epcache_new() };
    struct reapply_env env = { .store = s, .api = &api };
    struct run x = { .env = &env, .in = in, .out = out, .err = err, .path = path };
    int64_t t0 = clock_mono_ms();
    int status = run_journal(&x);
    if (store_sync(s) && !status) {
        fprintf(err, "hookd: reapply: the store in '%s' cannot be flushed\n", dir);
        status = 1;
    }
    summary(&x, clock_mono_ms() - t0);
    epcache_free(api.fanout);
    store_close(s);
    fclose(in);
    return status;
}
