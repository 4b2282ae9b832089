/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cboot.c - a store's way into a cluster's log (cboot.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nats/nats.h>

#include "cboot.h"
#include "clock.h"
#include "clog.h"
#include "cluster.h"
#include "cmeta.h"
#include "config.h"
#include "entry.h"
#include "entry_kinds.h"
#include "err.h"
#include "mem.h"
#include "reapply.h"
#include "store.h"

extern char **environ;

#define HDR_EXPECT "Nats-Expected-Last-Subject-Sequence"
#define HDR_MSG_ID "Nats-Msg-Id"
#define RECORD_HEAD 8

/* The log's first and last sequences. 0, or -1 with err. */
static int log_bounds(struct cluster *cl, const struct cluster_group *g, uint64_t *first,
                      uint64_t *last, char *err, size_t errlen)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, cluster_js(cl), g->stream, NULL, &jerr);
    if (s != NATS_OK) {
        snprintf(err, errlen, "cannot read the cluster's log (stream %s): %s", g->stream,
                 natsStatus_GetText(s));
        return -1;
    }
    *first = si->State.FirstSeq;
    *last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return 0;
}

/* The kind of the first entry of log message seq (0 when none), and the message. */
static int first_kind(struct cluster *cl, const struct cluster_group *g, uint64_t seq,
                      natsMsg **out, uint16_t *kind)
{
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    *kind = 0;
    if (js_GetMsg(&m, cluster_js(cl), g->stream, seq, NULL, &jerr) != NATS_OK)
        return -1;
    size_t off = 0, n;
    const void *e;
    if (clog_next_entry(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &off, &e, &n) == 1
        && n >= ENTRY_HEAD_LEN)
        *kind = (uint16_t)(((const uint8_t *)e)[3] << 8 | ((const uint8_t *)e)[4]);
    if (out)
        *out = m;
    else
        natsMsg_Destroy(m);
    return 0;
}

/* Records of the store's own data (not meta): a store that is more than empty. */
static int has_data(struct store_txn *t)
{
    int64_t n = 0;
    for (int db = DB_APPS; db < DB_COUNT; db++)
        if (store_entries(t, (enum store_db)db, &n) == 0 && n > 0)
            return 1;
    return 0;
}

int cboot_check(struct cluster *cl, const struct cluster_group *g, struct store *s, char *err,
                size_t errlen)
{
    struct store_txn *t;
    struct cmeta m;
    uint64_t first, last;
    int rc = store_read(s, &t), data = 0;
    if (rc == 0) {
        rc = cmeta_read(t, &m);
        data = has_data(t);
        store_abort(t);
    }
    if (rc) {
        snprintf(err, errlen, "cannot read this node's store: %s", hookd_strerror(rc));
        return -1;
    }
    if (log_bounds(cl, g, &first, &last, err, errlen))
        return 0;   /* the follower tries again, and the writer catches up, when it answers */
    if (m.seq < last && m.seq + 1 < first) {
        clog_gap_sentence(m.seq, first, err, errlen);
        return -1;
    }
    if (m.seq == 0 && data) {
        snprintf(err, errlen, "this store holds data but never applied the cluster's log: "
                 "a node starts from a hot backup of a running node (hookd cluster bootstrap); to move a "
                 "single node's store into a new cluster use hookd cluster import");
        return -1;
    }
    uint16_t kind = 0;
    if (m.seq == 0 && last >= 1 && first == 1 && first_kind(cl, g, 1, NULL, &kind) == 0
        && kind == ENTRY_IMPORT) {
        snprintf(err, errlen, "the cluster's log starts from an imported store (hookd cluster "
                 "import), which this store is not: bootstrap from a hot backup of an imported "
                 "store (hookd cluster bootstrap, or hookd backup on a running node), then start "
                 "this node on the copy");
        return -1;
    }
    return 0;
}

/* ---- the commands ---- */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hookd cluster import --cluster URL[,URL...] --data DIR\n"
        "       hookd cluster bootstrap --cluster URL[,URL...] --data DIR\n"
        "       hookd cluster log --cluster URL[,URL...] [--group G] [--from SEQ] [--count N]\n"
        "import makes a single node's store (stopped) the first store of a cluster whose\n"
        "log is empty: the log's first entry records it; other nodes start from a hot\n"
        "backup of it (hookd backup). bootstrap fetches a hot copy of each partition group's\n"
        "store of a live node into a new data directory over NATS (group N in DIR/group.N,\n"
        "group 0 in DIR). log prints the entries of partition group G's\n"
        "log (default 0), one a line.\n");
}

/* Take --NAME VALUE / --NAME=VALUE out of argv into *value. */
static void take(int *argc, char **argv, const char *name, const char **value)
{
    size_t len = strlen(name);
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        int eq = strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, len) == 0 && a[2 + len] == '=';
        int sp = strncmp(a, "--", 2) == 0 && strcmp(a + 2, name) == 0 && i + 1 < *argc;
        if (!eq && !sp)
            continue;
        *value = eq ? a + 3 + len : argv[i + 1];
        int drop = eq ? 1 : 2;
        memmove(argv + i, argv + i + drop, (size_t)(*argc - i - drop) * sizeof(char *));
        *argc -= drop;
        return;
    }
}

static int number(const char *flag, const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || errno || *v == '-') {
        fprintf(stderr, "hookd: invalid value '%s' for option '--%s': expected a whole number\n",
                v, flag);
        return -1;
    }
    *out = n;
    return 0;
}

static int connect_to(struct cluster **cl, const struct config *c, const char *name,
                      struct cluster_settings *st)
{
    char err[1024];
    struct cluster_conn_opts o = { .urls = c->cluster, .name = name, .creds = c->nats_creds,
                                   .ca = c->nats_ca, .timeout_ms = 5000 };
    if (cluster_connect(cl, &o, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return 2;
    }
    int rc = cluster_read_settings(*cl, st, err, sizeof(err));
    if (rc == HOOKD_ENOTFOUND)
        fprintf(stderr, "hookd: the cluster at %s is not initialized (run hookd cluster init "
                "first)\n", c->cluster);
    else if (rc)
        fprintf(stderr, "hookd: %s\n", err);
    return rc ? 1 : 0;
}

/* `log`: each entry of each message from --from on. */
static int log_run(struct cluster *cl, const struct cluster_group *g, uint64_t from, uint64_t count)
{
    char err[512];
    uint64_t first, last;
    if (log_bounds(cl, g, &first, &last, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return 1;
    }
    printf("log %s: entries %" PRIu64 "..%" PRIu64 "\n", g->stream, first, last);
    if (from < first)
        from = first;
    for (uint64_t seq = from; seq <= last && count; seq++, count--) {
        natsMsg *m = NULL;
        jsErrCode jerr = 0;
        if (js_GetMsg(&m, cluster_js(cl), g->stream, seq, NULL, &jerr) != NATS_OK) {
            printf("%" PRIu64 " (gone)\n", seq);
            continue;
        }
        const char *node = NULL;
        natsMsgHeader_Get(m, CLOG_HDR_NODE, &node);
        uint64_t epoch = clog_msg_epoch(m);
        size_t off = 0, n;
        const void *e;
        int rc;
        while ((rc = clog_next_entry(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &off,
                                     &e, &n)) == 1) {
            struct entry_r r;
            if (entry_open(&r, e, n)) {
                printf("%" PRIu64 " damaged\n", seq);
                continue;
            }
            printf("%" PRIu64 " %s node=%s epoch=%" PRIu64, seq, reapply_kind_name(r.head.kind),
                   node ? node : "-", epoch);
            if (r.head.kind == ENTRY_EPOCH) {
                char who[CMETA_NODE_MAX];
                entry_get_strbuf(&r, who, sizeof(who));
                uint64_t ep = entry_get_u64(&r);
                printf(" marker=%s/%" PRIu64, r.bad ? "?" : who, ep);
            }
            putchar('\n');
        }
        if (rc)
            printf("%" PRIu64 " damaged\n", seq);
        natsMsg_Destroy(m);
    }
    return 0;
}

/* `purge-log` (tests): all but the last keep messages go, as the retention would take them. */
static int purge_run(struct cluster *cl, const struct cluster_group *g, uint64_t keep)
{
    jsOptions o;
    jsErrCode jerr = 0;
    jsOptions_Init(&o);
    o.Stream.Purge.Keep = keep;
    natsStatus s = js_PurgeStream(cluster_js(cl), g->stream, &o, &jerr);
    if (s != NATS_OK) {
        fprintf(stderr, "hookd: cannot purge %s: %s (JetStream error %d)\n", g->stream,
                natsStatus_GetText(s), (int)jerr);
        return 1;
    }
    printf("purged %s, keeping the last %" PRIu64 " messages\n", g->stream, keep);
    return 0;
}

/* ---- import ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The IMPORT entry as the log's first message, expecting none before it. 0 and *seq, or 1. */
static int publish_import(struct cluster *cl, const struct cluster_group *g,
                          const struct entry_w *w, uint64_t *seq)
{
    size_t len = RECORD_HEAD + w->len;
    uint8_t *buf = xmalloc(len);
    char id[2 * ENTRY_SEED_LEN + 1];
    put_be32(buf, (uint32_t)w->len);
    put_be32(buf + 4, entry_crc32(w->p, w->len));
    memcpy(buf + RECORD_HEAD, w->p, w->len);
    for (int i = 0; i < ENTRY_SEED_LEN; i++)
        snprintf(id + 2 * i, 3, "%02x", w->head.seed[i]);
    natsMsg *m = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus s = natsMsg_Create(&m, g->subject, NULL, (const char *)buf, (int)len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_MSG_ID, id);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, HDR_EXPECT, "0");
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, CLOG_HDR_NODE, "import");
    if (s == NATS_OK)
        s = js_PublishMsg(&pa, cluster_js(cl), m, NULL, &jerr);
    if (s == NATS_OK)
        *seq = pa->Sequence;
    else
        fprintf(stderr, "hookd: the cluster's log did not take the import entry: %s "
                "(JetStream error %d)\n", natsStatus_GetText(s), (int)jerr);
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(m);
    free(buf);
    return s == NATS_OK ? 0 : 1;
}

/*
 * A log that is not empty: refused, unless it holds only this store's
 * own import (an import whose store was not marked: marked now). 0 to
 * mark at *seq, 1 refused (said).
 */
static int nonempty_log(struct cluster *cl, const struct cluster_group *g, uint64_t first,
                        uint64_t last,
                        const struct cmeta_import *im, uint64_t *seq)
{
    natsMsg *m = NULL;
    uint16_t kind = 0;
    struct cmeta_import had;
    if (first == 1 && last == 1 && first_kind(cl, g, 1, &m, &kind) == 0 && kind == ENTRY_IMPORT) {
        size_t off = 0, n;
        const void *e;
        int same = clog_next_entry(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &off,
                                   &e, &n) == 1
                   && cmeta_import_parse(e, n, &had) == 0
                   && memcmp(had.digest, im->digest, CMETA_DIGEST_LEN) == 0;
        natsMsg_Destroy(m);
        if (same) {
            *seq = 1;
            return 0;
        }
    } else if (m) {
        natsMsg_Destroy(m);
    }
    fprintf(stderr, "hookd: the cluster's log is not empty (entries %" PRIu64 "..%" PRIu64
            "): import needs a cluster whose log is empty (a new one, hookd cluster init); "
            "nothing was changed\n", first, last);
    return 1;
}

static int import_run(struct cluster *cl, const struct cluster_group *g, struct store *s,
                      const char *dir)
{
    struct store_txn *t;
    struct cmeta m;
    struct cmeta_import im;
    uint64_t first, last, seq = 0;
    char err[512];
    int rc = store_read(s, &t);
    if (rc == 0) {
        rc = cmeta_read(t, &m);
        if (rc == 0)
            rc = cmeta_digest(t, &im);
        store_abort(t);
    }
    if (rc) {
        fprintf(stderr, "hookd: cannot read the store in '%s': %s\n", dir, hookd_strerror(rc));
        return 1;
    }
    if (m.seq || *m.import) {
        fprintf(stderr, "hookd: the store in '%s' already follows a cluster's log (it applied "
                "it up to entry %" PRIu64 "); import takes a single node's store\n", dir, m.seq);
        return 1;
    }
    if (log_bounds(cl, g, &first, &last, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return 1;
    }
    if (last && nonempty_log(cl, g, first, last, &im, &seq))
        return 1;
    if (!seq) {
        struct entry_w w = { 0 };
        cmeta_import_entry(&w, &im, clock_now_ms());
        rc = publish_import(cl, g, &w, &seq);
        entry_free(&w);
        if (rc)
            return 1;
    }
    if ((rc = store_write(s, &t)) == 0) {
        rc = cmeta_import_mark(t, &im, seq);
        rc = rc ? (store_abort(t), rc) : store_commit(t);
    }
    if (rc == 0)
        rc = store_sync(s);
    if (rc) {
        fprintf(stderr, "hookd: the log holds the import (entry %" PRIu64 ") but the store in "
                "'%s' could not record it: %s; run the same import again to record it\n", seq,
                dir, hookd_strerror(rc));
        return 1;
    }
    printf("imported '%s' into the cluster as log entry %" PRIu64 ": %" PRIu64 " records (%"
           PRIu64 " apps, %" PRIu64 " endpoints, %" PRIu64 " messages)\n", dir, seq, im.records,
           im.apps, im.endpoints, im.messages);
    printf("start a node on '%s'; start other nodes on hot backups of it (hookd backup)\n", dir);
    return 0;
}

static int import_main(struct config *c, struct cluster *cl, const struct cluster_settings *cs,
                       const struct cluster_group *g)
{
    if (cs->streams > 1) {   /* its apps belong to every group: the store would need cutting */
        fprintf(stderr, "hookd: import needs a cluster of one partition group (hookd cluster "
                "init --streams 1); this one has %d, and a single node's apps would belong to "
                "all of them; nothing was changed\n", cs->streams);
        return 1;
    }
    char path[4096];
    struct stat st;
    struct store *s;
    snprintf(path, sizeof(path), "%s/data.mdb", c->data_dir);
    if (stat(path, &st)) {
        fprintf(stderr, "hookd: no store to import in '%s': %s\n", c->data_dir, strerror(errno));
        return 1;
    }
    int rc = store_open(&s, c->data_dir, c->map_size, 0);
    if (rc) {
        char why[640];
        fprintf(stderr, "hookd: cannot open the store in '%s': %s%s\n", c->data_dir,
                store_open_why(c->data_dir, rc, why, sizeof(why)),
                rc == HOOKD_EBUSY ? " (stop its server first: import takes a stopped store)" : "");
        return 1;
    }
    rc = import_run(cl, g, s, c->data_dir);
    store_close(s);
    return rc;
}

int cboot_main(int argc, char **argv)
{
    const char *sub = argv[0], *from = "1", *count = "18446744073709551615", *keep = NULL,
               *group = "0";
    char **args = xcalloc((size_t)argc + 2, sizeof(char *)), err[512], name[64];
    int n = argc, help = 0, rc = 0;
    uint64_t vfrom = 0, vcount = 0, vkeep = 0, vgroup = 0;
    memcpy(args, argv, (size_t)argc * sizeof(char *));
    take(&n, args, "from", &from);
    take(&n, args, "count", &count);
    take(&n, args, "keep", &keep);
    take(&n, args, "group", &group);
    if (number("from", from, &vfrom) || number("count", count, &vcount)
        || number("group", group, &vgroup)
        || (keep && number("keep", keep, &vkeep)))
        rc = 2;
    if (rc == 0 && strcmp(sub, "purge-log") == 0 && !keep) {
        fprintf(stderr, "hookd: purge-log needs --keep N\n");
        rc = 2;
    }
    struct config c;
    config_init(&c);
    if (rc == 0 && config_load(&c, n - 1, args + 1, environ, &help, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        rc = 2;
    }
    if (rc == 0 && help) {
        usage(stdout);
        rc = -1;
    }
    if (rc == 0 && (!c.cluster || !*c.cluster)) {
        fprintf(stderr, "hookd: which NATS servers? give --cluster nats://HOST:PORT[,...]\n");
        rc = 2;
    }
    struct cluster *cl = NULL;
    struct cluster_settings st;
    struct cluster_group g;
    snprintf(name, sizeof(name), "hookd cluster %s", sub);
    if (rc == 0)
        rc = connect_to(&cl, &c, name, &st);
    if (rc == 0 && vgroup >= (uint64_t)st.streams) {
        fprintf(stderr, "hookd: --group %" PRIu64 ": the cluster has partition groups 0 to %d\n",
                vgroup, st.streams - 1);
        rc = 2;
    }
    if (rc == 0)
        cluster_group_names((int)vgroup, st.partitions, st.streams, &g);
    if (rc == 0) {
        if (strcmp(sub, "import") == 0)
            rc = import_main(&c, cl, &st, &g);
        else if (strcmp(sub, "bootstrap") == 0)
            rc = cboot_fetch(cl, st.streams, c.data_dir, c.admin_token);
        else if (strcmp(sub, "log") == 0)
            rc = log_run(cl, &g, vfrom, vcount);
        else
            rc = purge_run(cl, &g, vkeep);
    }
    cluster_close(cl);
    config_release(&c);
    free(args);
    return rc < 0 ? 0 : rc;
}
