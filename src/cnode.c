/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cnode.c - a serving node of a cluster (cnode.h).
 *
 * Entries from the log (a standby's whole life, an owner's catch-up) are
 * applied through an API of their own, marked replaying like hookd
 * reapply's: API writes re-applied compute their answer and drop it, and
 * are not held to the store's reserve, since they were admitted where
 * they were written.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "cfollow.h"
#include "clog.h"
#include "cluster.h"
#include "cnode.h"
#include "config.h"
#include "epcache.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "reapply.h"
#include "writer.h"

struct cnode {
    struct cluster *cl;
    struct api replay;         /* applies log entries (replaying) */
    struct reapply_env env;
    struct clog *clog;         /* owner */
    struct cfollow *follow;    /* standby */
    int standby;
};

static void owner_of(void *ctx, char *out, size_t cap)
{
    struct cnode *n = ctx;
    if (n->follow)
        cfollow_owner(n->follow, out, cap);
    else
        snprintf(out, cap, "%s", n->replay.cfg->node_id);
}

/* GET /hookd/v1/stats' cluster object, beyond role, nodeId and seq (api_ops.c). */
static void stats_of(void *ctx, json_t *out)
{
    struct cnode *n = ctx;
    char owner[80];
    owner_of(n, owner, sizeof(owner));
    json_object_set_new(out, "owner", *owner ? json_string(owner) : json_null());
    if (!n->clog)
        return;
    struct clog_stats s;
    clog_get_stats(n->clog, &s);
    json_object_set_new(out, "publish", json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "batches", (json_int_t)s.batches, "messages",
        (json_int_t)s.messages, "entries",
        (json_int_t)s.entries, "failures", (json_int_t)s.failures, "caughtUp",
        (json_int_t)s.caught_up, "avgUs",
        (json_int_t)(s.batches ? s.publish_us_total / s.batches : 0), "maxUs",
        (json_int_t)s.publish_us_max));
}

static int connect_checked(struct cnode *n, const struct config *c, char *err, size_t errlen)
{
    struct cluster_conn_opts o = { .urls = c->cluster, .name = c->node_id,
                                   .creds = c->nats_creds, .ca = c->nats_ca,
                                   .timeout_ms = 5000 };
    struct cluster_settings s;
    char why[512];
    if (cluster_connect(&n->cl, &o, err, errlen))
        return -1;
    int rc = cluster_read_settings(n->cl, &s, why, sizeof(why));
    if (rc == HOOKD_ENOTFOUND)
        snprintf(err, errlen, "the cluster at %s is not initialized (run hookd cluster init "
                 "--cluster ... first)", c->cluster);
    else if (rc)
        snprintf(err, errlen, "%s", why);
    return rc ? -1 : 0;
}

int cnode_new(struct cnode **out, const struct config *c, struct store *s, struct writer *w,
              struct api *api, char *err, size_t errlen)
{
    struct cnode *n = xcalloc(1, sizeof(*n));
    if (nats_Open(-1) != NATS_OK) {
        snprintf(err, errlen, "cannot start the NATS client library");
        free(n);
        return -1;
    }
    n->standby = strcmp(c->cluster_role, "standby") == 0;
    n->replay = (struct api){ .cfg = c, .store = s, .writer = w, .replaying = 1,
                              .fanout = epcache_new() };
    n->env = (struct reapply_env){ .store = s, .api = &n->replay, .writer = w };
    if (connect_checked(n, c, err, errlen))
        goto fail;
    if (n->standby) {
        struct cfollow_opts fo = { .cluster = n->cl, .store = s, .writer = w, .env = &n->env };
        cfollow_new(&n->follow, &fo);
    } else {
        struct clog_opts lo = { .cluster = n->cl, .store = s, .env = &n->env,
                                .node_id = c->node_id };
        if (clog_new(&n->clog, &lo, err, errlen))
            goto fail;
        writer_set_log(w, clog_publish, n->clog);
    }
    api->cluster_role = n->standby ? "standby" : "owner";
    api->cluster_standby = n->standby;
    api->cluster_owner = owner_of;
    api->cluster_stats = stats_of;
    api->cluster_ctx = n;
    *out = n;
    return 0;
fail:
    cnode_free(n);
    return -1;
}

int cnode_standby(const struct cnode *n)
{
    return n && n->standby;
}

int cnode_start(struct cnode *n)
{
    return n && n->follow ? cfollow_start(n->follow) : 0;
}

void cnode_stop(struct cnode *n)
{
    if (n && n->follow)
        cfollow_stop(n->follow);
}

void cnode_free(struct cnode *n)
{
    if (!n)
        return;
    cfollow_free(n->follow);
    clog_free(n->clog);
    cluster_close(n->cl);
    epcache_free(n->replay.fanout);
    free(n);
    nats_CloseAndWait(2000);
}
