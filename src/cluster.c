/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster.c - the NATS connection, the cluster's JetStream resources, and
 * `hookd cluster init|status` (cluster.h).
 *
 * init creates what is missing and checks what is there against what it
 * would create, so it can run again (after a crash half-way, or by a
 * second operator) and only ever refuses, never changes, a cluster set up
 * with other settings. The settings key is written last: while it is
 * absent the cluster counts as not initialized.
 *
 * status reads everything and changes nothing. Each server is asked for
 * its version directly (natsinfo.h), since the client library does not
 * expose it, and nats-server 2.9's acknowledgements are said to be what
 * they are (CLUSTER.md, "Durability of the acknowledgement").
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "cboot.h"
#include "cluster.h"
#include "part.h"
#include "cstats.h"
#include "clusteropt.h"
#include "config.h"
#include "err.h"
#include "lease.h"
#include "mem.h"
#include "natsinfo.h"

extern char **environ;

struct cluster {
    natsConnection *nc;
    jsCtx *js;
    int64_t timeout_ms;
};

/* The library's most precise account of the last failure on this thread. */
static const char *nats_why(natsStatus s)
{
    const char *t = nats_GetLastError(NULL);
    return t && *t ? t : natsStatus_GetText(s);
}

/* ---- naming ---- */

int cluster_stream_of(int partition, int partitions, int streams)
{
    return part_group(partition, partitions, streams);   /* a stream is a group's log */
}

void cluster_stream_name(int stream, char *out, size_t cap)
{
    snprintf(out, cap, "%s%d", CLUSTER_STREAM_PREFIX, stream);
}

void cluster_partition_subject(int partition, char *out, size_t cap)
{
    snprintf(out, cap, "%s%d", CLUSTER_SUBJECT_PREFIX, partition);
}

void cluster_group_names(int g, int partitions, int groups, struct cluster_group *out)
{
    out->index = g;
    cluster_stream_name(g, out->stream, sizeof(out->stream));
    cluster_partition_subject(part_first(g, partitions, groups), out->subject,
                              sizeof(out->subject));
    snprintf(out->key, sizeof(out->key), "group.%d", g);
}

/* ---- the connection ---- */

static natsStatus conn_options(natsOptions *no, const struct cluster_conn_opts *o, char **urls,
                               int n)
{
    natsStatus s = natsOptions_SetServers(no, (const char **)urls, n);
    if (s == NATS_OK && o->name)
        s = natsOptions_SetName(no, o->name);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(no, o->timeout_ms);
    /* once connected, reconnect forever, about a second apart */
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(no, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(no, 1000);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectJitter(no, 250, 1000);
    /* a dead server noticed in seconds, not the library's two minutes */
    if (s == NATS_OK)
        s = natsOptions_SetPingInterval(no, 5000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxPingsOut(no, 2);
    if (s == NATS_OK && strncmp(urls[0], "tls://", 6) == 0)
        s = natsOptions_SetSecure(no, true);
    if (s == NATS_OK && o->ca)
        s = natsOptions_LoadCATrustedCertificates(no, o->ca);
    if (s == NATS_OK && o->creds)
        s = natsOptions_SetUserCredentialsFromFiles(no, o->creds, NULL);
    if (s == NATS_OK && o->send_asap)
        s = natsOptions_SetSendAsap(no, true);
    return s;
}

int cluster_connect(struct cluster **out, const struct cluster_conn_opts *o,
                    char *err, size_t errlen)
{
    char why[256];
    if (!o->urls || !*o->urls || clusteropt_check_urls(o->urls, why, sizeof(why))) {
        snprintf(err, errlen, "--cluster needs NATS URLs like nats://127.0.0.1:4222%s%s",
                 o->urls && *o->urls ? ": " : "", o->urls && *o->urls ? why : "");
        return -1;
    }
    int n;
    char **urls = clusteropt_split_urls(o->urls, &n);
    natsOptions *no = NULL;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsOptions jo;
    natsStatus s = natsOptions_Create(&no);
    if (s == NATS_OK && (s = conn_options(no, o, urls, n)) != NATS_OK)
        snprintf(err, errlen, "NATS client options: %s", nats_why(s));
    else if (s == NATS_OK && (s = natsConnection_Connect(&nc, no)) != NATS_OK)
        snprintf(err, errlen, "cannot connect to any NATS server of %s: %s", o->urls,
                 nats_why(s));
    if (s == NATS_OK) {
        jsOptions_Init(&jo);
        jo.Wait = o->timeout_ms;
        if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
            snprintf(err, errlen, "JetStream context: %s", nats_why(s));
    }
    natsOptions_Destroy(no);
    clusteropt_free_urls(urls);
    if (s != NATS_OK) {
        natsConnection_Destroy(nc);
        return -1;
    }
    *out = xcalloc(1, sizeof(**out));
    (*out)->nc = nc;
    (*out)->js = js;
    (*out)->timeout_ms = o->timeout_ms;
    return 0;
}

void cluster_close(struct cluster *cl)
{
    if (!cl)
        return;
    jsCtx_Destroy(cl->js);
    natsConnection_Destroy(cl->nc);
    free(cl);
}

natsConnection *cluster_nats(struct cluster *cl)
{
    return cl->nc;
}

int cluster_reply_ok(const char *reply)
{
    static const char inbox[] = "_INBOX.";
    size_t len = reply ? strlen(reply) : 0;
    if (len <= sizeof(inbox) - 1 || len > 255 || strncmp(reply, inbox, sizeof(inbox) - 1) != 0)
        return 0;
    const char *tok = reply;
    for (const char *p = reply; ; p++) {
        if (*p == '.' || !*p) {
            /* no empty token, no wildcard token */
            if (p == tok || (p - tok == 1 && (*tok == '*' || *tok == '>')))
                return 0;
            if (!*p)
                return 1;
            tok = p + 1;
        } else if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
            return 0;
        }
    }
}

jsCtx *cluster_js(struct cluster *cl)
{
    return cl->js;
}

/* ---- settings ---- */

static char *settings_json(const struct cluster_settings *s)
{
    json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:I, s:I, s:s}", "format", s->format,
                          "partitions", s->partitions, "streams", s->streams,
                          "replicas", s->replicas, "log_retention_ms",
                          (json_int_t)s->log_retention_ms, "created_ms",
                          (json_int_t)s->created_ms, "created_by", s->created_by);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static int settings_parse(const char *text, int len, struct cluster_settings *s)
{
    json_t *o = json_loadb(text, (size_t)len, 0, NULL);
    json_int_t ret = 0, created = 0;
    const char *by = "";
    memset(s, 0, sizeof(*s));
    int rc = json_unpack(o, "{s:i, s:i, s:i, s:i, s:I, s?I, s?s}", "format", &s->format,
                         "partitions", &s->partitions, "streams", &s->streams,
                         "replicas", &s->replicas, "log_retention_ms", &ret,
                         "created_ms", &created, "created_by", &by);
    if (!rc) {
        s->log_retention_ms = ret;
        s->created_ms = created;
        snprintf(s->created_by, sizeof(s->created_by), "%s", by);
    }
    json_decref(o);
    return rc ? HOOKD_ECORRUPT : 0;
}

int cluster_read_settings(struct cluster *cl, struct cluster_settings *s,
                          char *err, size_t errlen)
{
    kvStore *kv = NULL;
    kvEntry *e = NULL;
    natsStatus st = js_KeyValue(&kv, cl->js, CLUSTER_BUCKET_SETTINGS);
    if (st == NATS_NOT_FOUND)
        return HOOKD_ENOTFOUND;
    if (st == NATS_OK)
        st = kvStore_Get(&e, kv, CLUSTER_SETTINGS_KEY);
    int rc = 0;
    if (st == NATS_NOT_FOUND) {
        rc = HOOKD_ENOTFOUND;
    } else if (st != NATS_OK) {
        snprintf(err, errlen, "cannot read the cluster's settings: %s", nats_why(st));
        rc = -1;
    } else if (settings_parse(kvEntry_ValueString(e), kvEntry_ValueLen(e), s)) {
        snprintf(err, errlen, "the cluster's settings (%s/%s) are not hookd's JSON",
                 CLUSTER_BUCKET_SETTINGS, CLUSTER_SETTINGS_KEY);
        rc = -1;
    }
    kvEntry_Destroy(e);
    kvStore_Destroy(kv);
    return rc;
}

static void fmt_ms(int64_t ms, char *out, size_t cap)
{
    if (ms % (24 * 3600 * 1000) == 0)
        snprintf(out, cap, "%" PRId64 "d", ms / (24 * 3600 * 1000));
    else if (ms % (3600 * 1000) == 0)
        snprintf(out, cap, "%" PRId64 "h", ms / (3600 * 1000));
    else if (ms % 1000 == 0)
        snprintf(out, cap, "%" PRId64 "s", ms / 1000);
    else
        snprintf(out, cap, "%" PRId64 "ms", ms);
}

static void fmt_settings(const struct cluster_settings *s, char *out, size_t cap)
{
    char ret[32];
    fmt_ms(s->log_retention_ms, ret, sizeof(ret));
    snprintf(out, cap, "partitions %d, streams %d, replicas %d, log retention %s, format %d",
             s->partitions, s->streams, s->replicas, ret, s->format);
}

static int same_settings(const struct cluster_settings *a, const struct cluster_settings *b)
{
    return a->format == b->format && a->partitions == b->partitions && a->streams == b->streams
           && a->replicas == b->replicas && a->log_retention_ms == b->log_retention_ms;
}

/* ---- resources ---- */

/* One stream's configuration as init makes it; subjects freed by the caller. */
static void stream_config(jsStreamConfig *sc, const struct cluster_settings *s, int stream,
                          int64_t max_msg_size, char *name, char *desc, size_t cap,
                          char ***subjects)
{
    int first = -1, last = -1;
    for (int p = 0; p < s->partitions; p++)
        if (cluster_stream_of(p, s->partitions, s->streams) == stream) {
            if (first < 0)
                first = p;
            last = p;
        }
    cluster_stream_name(stream, name, cap);
    snprintf(desc, cap, "hookd partition log, partitions %d-%d of %d", first, last,
             s->partitions);
    *subjects = xcalloc((size_t)(last - first + 1), sizeof(char *));
    for (int p = first; p <= last; p++) {
        char subj[64];
        cluster_partition_subject(p, subj, sizeof(subj));
        (*subjects)[p - first] = xstrdup(subj);
    }
    jsStreamConfig_Init(sc);
    sc->Name = name;
    sc->Description = desc;
    sc->Subjects = (const char **)*subjects;
    sc->SubjectsLen = last - first + 1;
    sc->Retention = js_LimitsPolicy;
    sc->Discard = js_DiscardOld;
    sc->Storage = js_FileStorage;
    sc->Replicas = s->replicas;
    sc->MaxAge = s->log_retention_ms * 1000000;   /* nanoseconds */
    sc->MaxMsgSize = (int32_t)max_msg_size;
    sc->Duplicates = (int64_t)CLUSTER_DEDUP_WINDOW_MS * 1000000;
    sc->DenyDelete = true;   /* a log: entries leave by age only */
}

/* What differs between an existing stream and the one init wants ("" if nothing). */
static void stream_diff(const jsStreamConfig *have, const jsStreamConfig *want, char *out,
                        size_t cap)
{
    int same_subjects = have->SubjectsLen == want->SubjectsLen;
    for (int i = 0; same_subjects && i < want->SubjectsLen; i++)
        same_subjects = strcmp(have->Subjects[i], want->Subjects[i]) == 0;
    out[0] = '\0';
    if (!same_subjects)
        snprintf(out, cap, "subjects (other partitions)");
    else if (have->Replicas != want->Replicas)
        snprintf(out, cap, "replicas %" PRId64 ", not %" PRId64, have->Replicas, want->Replicas);
    else if (have->Retention != want->Retention || have->Discard != want->Discard)
        snprintf(out, cap, "retention or discard policy");
    else if (have->Storage != want->Storage)
        snprintf(out, cap, "storage (memory, not file)");
    else if (have->MaxAge != want->MaxAge)
        snprintf(out, cap, "max_age %" PRId64 "s, not %" PRId64 "s", have->MaxAge / 1000000000,
                 want->MaxAge / 1000000000);
    else if (have->MaxMsgSize != want->MaxMsgSize)
        snprintf(out, cap, "max_msg_size %d, not %d (max-body changed?)", (int)have->MaxMsgSize,
                 (int)want->MaxMsgSize);
    else if (have->Duplicates != want->Duplicates)
        snprintf(out, cap, "duplicate window");
}

/* Create one stream or check the one there: 0 there, 1 created, -1 (said on stderr). */
static int ensure_stream(struct cluster *cl, const struct cluster_settings *s, int stream,
                         int64_t max_msg_size)
{
    jsStreamConfig sc;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    char name[128], desc[128], diff[128];
    char **subjects;
    int rc = 0;
    stream_config(&sc, s, stream, max_msg_size, name, desc, sizeof(desc), &subjects);
    natsStatus st = js_GetStreamInfo(&si, cl->js, name, NULL, &jerr);
    if (st == NATS_OK) {
        stream_diff(si->Config, &sc, diff, sizeof(diff));
        if (*diff) {
            fprintf(stderr, "hookd: stream %s exists with another configuration: %s\n", name,
                    diff);
            rc = -1;
        } else {
            printf("stream %s: exists (%s)\n", name, desc + strlen("hookd partition log, "));
        }
    } else if (st == NATS_NOT_FOUND) {
        jsStreamInfo_Destroy(si);
        si = NULL;
        st = js_AddStream(&si, cl->js, &sc, NULL, &jerr);
        if (st == NATS_OK) {
            printf("stream %s: created (%s, %d replicas)\n", name,
                   desc + strlen("hookd partition log, "), s->replicas);
            rc = 1;
        } else {
            fprintf(stderr, "hookd: cannot create stream %s: %s\n", name, nats_why(st));
            rc = -1;
        }
    } else {
        fprintf(stderr, "hookd: cannot look up stream %s: %s\n", name, nats_why(st));
        rc = -1;
    }
    jsStreamInfo_Destroy(si);
    for (int i = 0; i < sc.SubjectsLen; i++)
        free(subjects[i]);
    free(subjects);
    return rc;
}

struct bucket_def {
    const char *name;
    const char *desc;
    uint8_t history;
    int64_t ttl_ms;
};

static const struct bucket_def buckets[] = {
    { CLUSTER_BUCKET_SETTINGS, "hookd cluster settings", 5, 0 },
    { CLUSTER_BUCKET_NAMES, "hookd global names (apps, event types)", 1, 0 },
    { CLUSTER_BUCKET_LEASES, "hookd partition leases", 1, CLUSTER_LEASE_TTL_MS },
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* Create one KV bucket or check the one there: 0 there, 1 created, -1 (said on stderr). */
static int ensure_bucket(struct cluster *cl, const struct bucket_def *b, int replicas)
{
    char stream[96], ttl[40] = "no ttl", d[32];
    jsStreamInfo *si = NULL;
    snprintf(stream, sizeof(stream), "KV_%s", b->name);
    if (b->ttl_ms) {
        fmt_ms(b->ttl_ms, d, sizeof(d));
        snprintf(ttl, sizeof(ttl), "ttl %s", d);
    }
    natsStatus st = js_GetStreamInfo(&si, cl->js, stream, NULL, NULL);
    int rc = 0;
    if (st == NATS_OK) {
        const jsStreamConfig *c = si->Config;
        if (c->Replicas != replicas || c->MaxAge != b->ttl_ms * 1000000
            || c->MaxMsgsPerSubject != b->history) {
            fprintf(stderr, "hookd: KV bucket %s exists with another configuration "
                    "(replicas %" PRId64 ", history %" PRId64 ", max_age %" PRId64 "ms)\n",
                    b->name, c->Replicas, c->MaxMsgsPerSubject, c->MaxAge / 1000000);
            rc = -1;
        } else {
            printf("bucket %s: exists (%s)\n", b->name, ttl);
        }
    } else if (st == NATS_NOT_FOUND) {
        kvConfig kc;
        kvStore *kv = NULL;
        kvConfig_Init(&kc);
        kc.Bucket = b->name;
        kc.Description = b->desc;
        kc.History = b->history;
        kc.TTL = b->ttl_ms * 1000000;   /* nats.c passes it on as max_age, nanoseconds */
        kc.StorageType = js_FileStorage;
        kc.Replicas = replicas;
        st = js_CreateKeyValue(&kv, cl->js, &kc);
        if (st == NATS_OK) {
            printf("bucket %s: created (%d replicas, %s)\n", b->name, replicas, ttl);
            rc = 1;
        } else {
            fprintf(stderr, "hookd: cannot create KV bucket %s: %s\n", b->name, nats_why(st));
            rc = -1;
        }
        kvStore_Destroy(kv);
    } else {
        fprintf(stderr, "hookd: cannot look up KV bucket %s: %s\n", b->name, nats_why(st));
        rc = -1;
    }
    jsStreamInfo_Destroy(si);
    return rc;
}

/* Write the settings key if absent: 0 written, 1 there already, -1 failed. */
static int write_settings(struct cluster *cl, const struct cluster_settings *s)
{
    kvStore *kv = NULL;
    uint64_t rev = 0;
    char *text = settings_json(s);
    natsStatus st = js_KeyValue(&kv, cl->js, CLUSTER_BUCKET_SETTINGS);
    if (st == NATS_OK)
        st = kvStore_CreateString(&rev, kv, CLUSTER_SETTINGS_KEY, text);
    int rc = 0;
    if (st != NATS_OK) {
        /* create-if-absent lost to another init: the caller compares */
        kvEntry *e = NULL;
        if (kv && kvStore_Get(&e, kv, CLUSTER_SETTINGS_KEY) == NATS_OK) {
            rc = 1;
        } else {
            fprintf(stderr, "hookd: cannot write the cluster's settings: %s\n", nats_why(st));
            rc = -1;
        }
        kvEntry_Destroy(e);
    }
    free(text);
    kvStore_Destroy(kv);
    return rc;
}

/* JetStream must answer before anything else is asked: 0, or -1 (said). */
static int check_jetstream(struct cluster *cl)
{
    jsAccountInfo *ai = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_GetAccountInfo(&ai, cl->js, NULL, &jerr);
    jsAccountInfo_Destroy(ai);
    if (st == NATS_OK)
        return 0;
    fprintf(stderr, "hookd: JetStream does not answer: %s%s\n", nats_why(st),
            jerr == JSNotEnabledErr || st == NATS_NO_RESPONDERS
            ? " (enable jetstream in every nats-server's configuration)" : "");
    return -1;
}

struct init_args {
    struct cluster_settings want;
    int64_t max_msg_size;
};

static int init_run(struct cluster *cl, struct init_args *a)
{
    struct cluster_settings have;
    char err[512], line[256];
    if (check_jetstream(cl))
        return 1;
    int64_t max_payload = natsConnection_GetMaxPayload(cl->nc);
    if (max_payload < a->max_msg_size) {
        fprintf(stderr, "hookd: the NATS server's max_payload is %" PRId64 " bytes; hookd needs "
                "%" PRId64 " (max-body plus %d KiB for a log entry's envelope): set max_payload "
                "to at least that in every nats-server's configuration (it may be up to 64MB), "
                "or lower max-body\n", max_payload, a->max_msg_size, CLUSTER_ENTRY_OVERHEAD / 1024);
        return 1;
    }
    int rc = cluster_read_settings(cl, &have, err, sizeof(err));
    if (rc && rc != HOOKD_ENOTFOUND) {
        fprintf(stderr, "hookd: %s\n", err);
        return 1;
    }
    if (rc == 0 && !same_settings(&have, &a->want)) {
        char want[256];
        fmt_settings(&have, line, sizeof(line));
        fmt_settings(&a->want, want, sizeof(want));
        fprintf(stderr, "hookd: the cluster was initialized with %s; this init asks for %s. "
                "These settings cannot change on an existing cluster: run init with the "
                "first ones, or set up a new cluster.\n", line, want);
        return 1;
    }
    int bad = 0, created = 0;
    for (size_t i = 0; i < NBUCKETS + (size_t)a->want.streams; i++) {
        int e = i < NBUCKETS ? ensure_bucket(cl, &buckets[i], a->want.replicas)
                             : ensure_stream(cl, &a->want, (int)(i - NBUCKETS), a->max_msg_size);
        bad |= e < 0;
        created |= e > 0;
    }
    if (bad)
        return 1;
    if (rc == 0) {
        fmt_settings(&have, line, sizeof(line));
        printf("settings: exist (%s)\n", line);
        printf("cluster already initialized; %s\n",
               created ? "what was missing is created again" : "nothing changed");
        return 0;
    }
    int w = write_settings(cl, &a->want);
    if (w < 0)
        return 1;
    if (w == 1)   /* another init wrote them meanwhile */
        return init_run(cl, a);
    fmt_settings(&a->want, line, sizeof(line));
    printf("settings: created (%s)\n", line);
    printf("cluster initialized\n");
    return 0;
}

/* ---- status ---- */

struct health {
    int degraded;
    char why[1024];
};

static void degrade(struct health *h, const char *fmt, const char *what)
{
    size_t len = strlen(h->why);
    h->degraded = 1;
    if (len + 3 < sizeof(h->why))
        snprintf(h->why + len, sizeof(h->why) - len, "%s", len ? "; " : "");
    len = strlen(h->why);
    snprintf(h->why + len, sizeof(h->why) - len, fmt, what);
}

/* URLs to ask: --cluster's, then those the servers told the client about. */
static char **server_urls(struct cluster *cl, const char *list, int *n)
{
    char **given = clusteropt_split_urls(list, n), **found = NULL;
    int nfound = 0;
    if (natsConnection_GetDiscoveredServers(cl->nc, &found, &nfound) != NATS_OK)
        nfound = 0;
    char **all = xcalloc((size_t)(*n + nfound + 1), sizeof(char *));
    int k = 0;
    for (int i = 0; i < *n; i++)
        all[k++] = given[i];
    for (int i = 0; i < nfound; i++) {
        const char *hostport = strstr(found[i], "://");
        hostport = hostport ? hostport + 3 : found[i];
        int dup = 0;
        for (int j = 0; j < k && !dup; j++) {
            const char *h = strstr(all[j], "://");
            dup = strcmp(h ? h + 3 : all[j], hostport) == 0;
        }
        if (!dup)
            all[k++] = xstrdup(found[i]);
        free(found[i]);
    }
    free(found);
    free(given);   /* its strings moved into all */
    *n = k;
    return all;
}

/* Ask every server its version; warn on 2.9 (CLUSTER.md). */
static void status_servers(struct cluster *cl, const char *list, struct health *h)
{
    char connected[256] = "", why[256], old[512] = "", newer[512] = "";
    int n;
    natsConnection_GetConnectedUrl(cl->nc, connected, sizeof(connected));
    char **urls = server_urls(cl, list, &n);
    printf("servers (connected to %s):\n", connected);
    for (int i = 0; i < n; i++) {
        struct clusteropt_url u;
        struct natsinfo info;
        if (clusteropt_parse_url(urls[i], &u, why, sizeof(why)) == 0
            && natsinfo_probe(u.host, u.port, (int)cl->timeout_ms, &info, why, sizeof(why)) == 0) {
            printf("  %-24s %-10s nats-server %s%s%s\n", urls[i], info.server_name, info.version,
                   info.jetstream ? ", jetstream" : ", NO JETSTREAM",
                   info.cluster[0] ? "" : ", not in a cluster");
            if (!info.jetstream)
                degrade(h, "%s has no JetStream", urls[i]);
            char *to = natsinfo_version_at_least(info.version, 2, 10) ? newer : old;
            size_t len = strlen(to);
            snprintf(to + len, 512 - len, "%s%s %s", len ? ", " : "", info.server_name,
                     info.version);
        } else {
            printf("  %-24s unreachable: %s\n", urls[i], why);
            degrade(h, "%s unreachable", urls[i]);
        }
    }
    clusteropt_free_urls(urls);
    if (old[0])
        printf("WARNING: nats-server before 2.10 (%s) acknowledges a write once a majority of the "
               "servers hold it in memory, and writes it to disk (fsync) only every two minutes: "
               "a power cut on a majority of the NATS machines at once can lose entries hookd "
               "acknowledged (202). nats-server 2.10 or later with `jetstream { sync_interval: "
               "always }` fsyncs before it acknowledges.\n", old);
    if (newer[0])
        printf("note: nats-server %s: whether `jetstream { sync_interval: always }` is set cannot "
               "be seen by a client; without it acknowledged entries reach disk only within two "
               "minutes. Check each server's configuration.\n", newer);
}

static void fmt_bytes(uint64_t v, char *out, size_t cap)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;
    double d = (double)v;
    while (d >= 1024 && u < 4)
        d /= 1024, u++;
    snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", d, unit[u]);
}

static int status_account(struct cluster *cl, struct health *h)
{
    jsAccountInfo *ai = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_GetAccountInfo(&ai, cl->js, NULL, &jerr);
    if (st != NATS_OK) {
        printf("jetstream: no answer: %s\n", nats_why(st));
        degrade(h, "%s", "JetStream does not answer (no meta leader, or not enabled)");
        return -1;
    }
    char mem[32], store[32];
    fmt_bytes(ai->Memory, mem, sizeof(mem));
    fmt_bytes(ai->Store, store, sizeof(store));
    printf("jetstream: account uses %s memory, %s storage; %" PRId64 " streams, %" PRId64
           " consumers\n", mem, store, ai->Streams, ai->Consumers);
    jsAccountInfo_Destroy(ai);
    return 0;
}

/* A replica not heard from for this long is as good as gone (Raft heartbeats every second or so). */
#define PEER_SILENT_NS (INT64_C(5) * 1000000000)

/* One stream's line: its leader and each replica, or why there is none. */
static void status_stream(struct cluster *cl, const char *name, const char *label,
                          int want_replicas, struct health *h)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_GetStreamInfo(&si, cl->js, name, NULL, &jerr);
    if (st == NATS_NOT_FOUND) {
        printf("  %-14s MISSING (run hookd cluster init again)\n", label);
        degrade(h, "%s missing", label);
        return;
    }
    if (st != NATS_OK) {
        printf("  %-14s no answer: %s (no leader?)\n", label, nats_why(st));
        degrade(h, "%s does not answer", label);
        return;
    }
    const jsClusterInfo *ci = si->Cluster;
    const char *leader = ci && ci->Leader && *ci->Leader ? ci->Leader : NULL;
    char size[32], line[512];
    fmt_bytes(si->State.Bytes, size, sizeof(size));
    int n = snprintf(line, sizeof(line), "  %-14s replicas %" PRId64 ", leader %s", label,
                     si->Config->Replicas, leader ? leader : "NONE");
    for (int i = 0; ci && i < ci->ReplicasLen && n > 0 && (size_t)n < sizeof(line); i++) {
        const jsPeerInfo *p = ci->Replicas[i];
        /* a killed server stays "current" a while; its silence tells first */
        int silent = p->Active > PEER_SILENT_NS;
        n += snprintf(line + n, sizeof(line) - (size_t)n, ", %s %s", p->Name,
                      p->Offline ? "OFFLINE" : silent ? "SILENT" : p->Current ? "current"
                      : "behind");
        if (silent && !p->Offline && n > 0 && (size_t)n < sizeof(line))
            n += snprintf(line + n, sizeof(line) - (size_t)n, " (%" PRId64 "s)",
                          p->Active / 1000000000);
        if (p->Offline || silent || !p->Current)
            degrade(h, "%s has a replica offline or behind", label);
        if (!p->Offline && p->Lag && n > 0 && (size_t)n < sizeof(line))
            n += snprintf(line + n, sizeof(line) - (size_t)n, " (lag %" PRIu64 ")", p->Lag);
    }
    printf("%s; entries %" PRIu64 ", %s\n", line, si->State.Msgs, size);
    if (!leader)
        degrade(h, "%s has no leader", label);
    if (si->Config->Replicas != want_replicas)
        degrade(h, "%s has the wrong number of replicas", label);
    if (si->Config->MaxMsgSize > natsConnection_GetMaxPayload(cl->nc))
        degrade(h, "%s takes entries larger than the server's max_payload", label);
    jsStreamInfo_Destroy(si);
}

/*
 * Every lease held: key, holder, epoch, and how long ago the holder last
 * renewed it, from the entry's time as the server stamped it (shown to
 * people only; the lease module never compares another node's clock).
 */
static void status_leases(struct cluster *cl)
{
    kvStore *kv = NULL;
    kvKeysList keys = { 0 };
    kvWatchOptions wo;
    kvWatchOptions_Init(&wo);
    wo.Timeout = cl->timeout_ms;
    natsStatus st = js_KeyValue(&kv, cl->js, CLUSTER_BUCKET_LEASES);
    if (st == NATS_OK)
        st = kvStore_Keys(&keys, kv, &wo);
    if (st != NATS_OK && st != NATS_NOT_FOUND) {
        printf("leases: cannot read: %s\n", nats_why(st));
        kvStore_Destroy(kv);
        return;
    }
    printf("leases:%s\n", keys.Count ? "" : " none held");
    for (int i = 0; i < keys.Count; i++) {
        kvEntry *e = NULL;
        if (kvStore_Get(&e, kv, keys.Keys[i]) != NATS_OK)
            continue;   /* expired or released since the listing */
        json_t *o = json_loadb(kvEntry_ValueString(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
        const char *node = NULL;
        json_int_t epoch = 0;
        int64_t age = clock_now_ms() - kvEntry_Created(e) / 1000000;
        if (o && !json_unpack(o, "{s:s, s:I}", "node", &node, "epoch", &epoch))
            printf("  %-14s holder %s, epoch %" PRId64 ", renewed %.1f s ago\n", keys.Keys[i],
                   node, (int64_t)epoch, (double)(age < 0 ? 0 : age) / 1000);
        else
            printf("  %-14s not hookd's lease JSON (revision %" PRIu64 ")\n", keys.Keys[i],
                   kvEntry_Revision(e));
        json_decref(o);
        kvEntry_Destroy(e);
    }
    kvKeysList_Destroy(&keys);
    kvStore_Destroy(kv);
}

/*
 * The hookd nodes serving the cluster, as they answer one stats request
 * (cstats.h) within half a second: role, group, applied sequence and
 * their own lag, HTTP address, uptime and version. Shown only: a node
 * that does not answer changes no exit status (status knows no list of
 * the nodes that should be there).
 */
static void status_nodes(struct cluster *cl)
{
    json_t *nodes = cstats_ask(cl->nc, 500);
    if (!nodes) {
        printf("nodes: cannot ask them\n");
        return;
    }
    printf("nodes: %zu answered within 0.5 s\n", json_array_size(nodes));
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) {
        const char *id = json_string_value(json_object_get(n, "nodeId"));
        const char *role = json_string_value(json_object_get(n, "role"));
        const char *listen = json_string_value(json_object_get(n, "listen"));
        const char *version = json_string_value(json_object_get(n, "version"));
        json_t *groups = json_object_get(n, role && strcmp(role, "owner") == 0 ? "owns" : "follows");
        json_int_t seq = json_integer_value(json_object_get(n, "seq"));
        json_int_t last = json_integer_value(json_object_get(n, "logSeq"));
        char list[256] = "";
        size_t k;
        json_t *v;
        json_array_foreach(groups, k, v)   /* every group it owns (or follows) */
            if (json_is_string(v) && strlen(list) + json_string_length(v) + 2 < sizeof(list))
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                         *list ? "," : "", json_string_value(v));
        printf("  %-14s %-8s %-8s seq %" PRId64 ", lag %" PRId64 ", http %s, up %" PRId64
               " s, hookd %s\n", id ? id : "?", role ? role : "?",
               *list ? list : "-", (int64_t)seq,
               (int64_t)(last > seq ? last - seq : 0), listen ? listen : "-",
               (int64_t)json_integer_value(json_object_get(n, "uptimeS")),
               version ? version : "?");
    }
    json_decref(nodes);
}

static int status_run(struct cluster *cl, const char *list)
{
    struct health h = { 0 };
    struct cluster_settings s;
    char err[512], line[256];
    status_servers(cl, list, &h);
    if (status_account(cl, &h)) {
        printf("status: degraded: %s\n", h.why);
        return 1;
    }
    int rc = cluster_read_settings(cl, &s, err, sizeof(err));
    if (rc == HOOKD_ENOTFOUND) {
        printf("settings: none\nstatus: not initialized (run hookd cluster init)\n");
        return 1;
    }
    if (rc) {
        printf("settings: %s\nstatus: degraded\n", err);
        return 1;
    }
    time_t t = (time_t)(s.created_ms / 1000);
    struct tm tm;
    char when[32];
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fmt_settings(&s, line, sizeof(line));
    printf("settings: %s; created %s by %s\n", line, when, s.created_by);
    printf("streams:\n");
    for (int i = 0; i < s.streams; i++) {
        char name[64];
        cluster_stream_name(i, name, sizeof(name));
        status_stream(cl, name, name, s.replicas, &h);
    }
    printf("buckets:\n");
    for (size_t i = 0; i < NBUCKETS; i++) {
        char stream[96];
        snprintf(stream, sizeof(stream), "KV_%s", buckets[i].name);
        status_stream(cl, stream, buckets[i].name, s.replicas, &h);
    }
    status_leases(cl);
    status_nodes(cl);
    if (h.degraded) {
        printf("status: degraded: %s\n", h.why);
        return 1;
    }
    printf("status: healthy\n");
    return 0;
}

/* ---- where: an app's partition, group and owner ---- */

/* The holder of lease key as its value says ("" when none): 0, or -1 when the bucket cannot be read. */
static int lease_holder(struct cluster *cl, const char *key, char *out, size_t cap)
{
    kvStore *kv = NULL;
    kvEntry *e = NULL;
    *out = 0;
    natsStatus st = js_KeyValue(&kv, cl->js, CLUSTER_BUCKET_LEASES);
    if (st == NATS_OK)
        st = kvStore_Get(&e, kv, key);
    if (st == NATS_OK) {
        json_t *o = json_loadb(kvEntry_ValueString(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
        const char *node = json_string_value(json_object_get(o, "node"));
        snprintf(out, cap, "%s", node ? node : "");
        json_decref(o);
    }
    kvEntry_Destroy(e);
    kvStore_Destroy(kv);
    return st == NATS_OK || st == NATS_NOT_FOUND ? 0 : -1;
}

/*
 * `where --app KEY`: the app's partition and group (part.h: the same for
 * its id and its uid), the group's log, and the node that owns it now.
 */
static int where_run(struct cluster *cl, const char *app)
{
    struct cluster_settings s;
    struct cluster_group g;
    char err[512], owner[96];
    int rc = cluster_read_settings(cl, &s, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "hookd: %s\n", rc == HOOKD_ENOTFOUND ? "the cluster is not initialized"
                : err);
        return 1;
    }
    int p = part_of(app, s.partitions);
    cluster_group_names(part_group(p, s.partitions, s.streams), s.partitions, s.streams, &g);
    if (lease_holder(cl, g.key, owner, sizeof(owner)))
        snprintf(owner, sizeof(owner), "unknown (cannot read the leases)");
    printf("app %s: partition %d of %d, group %d (log %s, lease %s), owner %s\n", app, p,
           s.partitions, g.index, g.stream, g.key, *owner ? owner : "none");
    return 0;
}

/* ---- the command ---- */

static void cluster_usage(FILE *out)
{
    fprintf(out,
        "usage: hookd cluster init --cluster URL[,URL...] [--partitions P] [--replicas R]\n"
        "                          [--streams S] [--log-retention DURATION]\n"
        "       hookd cluster status --cluster URL[,URL...]\n"
        "       hookd cluster import --cluster URL[,URL...] --data DIR\n"
        "       hookd cluster bootstrap --cluster URL[,URL...] --data DIR [--admin-token T]\n"
        "       hookd cluster log --cluster URL[,URL...] [--group G] [--from SEQ] [--count N]\n"
        "       hookd cluster where --cluster URL[,URL...] --app ID_OR_UID\n"
        "\n"
        "init creates the cluster's JetStream resources on the NATS servers (KV buckets\n"
        "hookd_cluster, hookd_names, hookd_leases; streams hookd_log_0..S-1); run again\n"
        "with the same settings it changes nothing, with others it refuses.\n"
        "  --partitions P          partitions, fixed for the cluster's life (default 64)\n"
        "  --replicas R            copies of every stream and bucket (default 3)\n"
        "  --streams S             partition logs, each a range of partitions (default 4)\n"
        "  --log-retention D       how long the logs keep entries (default 7d)\n"
        "status prints the servers and their versions, the streams' leaders and\n"
        "replicas, and the settings: exit 0 healthy, 1 not initialized or degraded,\n"
        "2 unreachable.\n"
        "import makes a stopped single node's store the first store of a cluster whose\n"
        "log is empty (start other nodes on hot backups of it: hookd backup); log prints\n"
        "the log's entries, one a line (sequence, kind, node, epoch); bootstrap fetches\n"
        "a hot copy of a live node's store over NATS into a new --data directory; it\n"
        "needs the cluster's admin token (--admin-token, HOOKD_ADMIN_TOKEN or the config).\n"
        "where prints an app's partition and partition group (the same for its id and\n"
        "its uid) and the node that owns the group now.\n"
        "All also take serve's --cluster, --nats-creds, --nats-ca, --node-id, --max-body\n"
        "and --config (the same config file and HOOKD_* variables as serve).\n");
}

struct own_flag {
    const char *name;
    const char *value;
};

/* Take init's own flags out of argv (into flags); the rest, in order, into rest. */
static int take_flags(int argc, char **argv, struct own_flag *flags, int nflags, char **rest,
                      int *nrest)
{
    *nrest = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int taken = 0;
        for (int f = 0; f < nflags && !taken; f++) {
            size_t len = strlen(flags[f].name);
            if (strncmp(a, "--", 2) || strncmp(a + 2, flags[f].name, len))
                continue;
            if (a[2 + len] == '=') {
                flags[f].value = a + 3 + len, taken = 1;
            } else if (!a[2 + len]) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "hookd: option '--%s' needs a value\n", flags[f].name);
                    return -1;
                }
                flags[f].value = argv[++i], taken = 1;
            }
        }
        if (!taken)
            rest[(*nrest)++] = argv[i];
    }
    return 0;
}

static int parse_count(const char *flag, const char *v, int lo, int hi, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        fprintf(stderr, "hookd: invalid value '%s' for option '--%s': must be a whole number "
                "from %d to %d\n", v, flag, lo, hi);
        return -1;
    }
    *out = (int)n;
    return 0;
}

static int init_args(struct own_flag *f, const struct config *c, struct init_args *a)
{
    memset(a, 0, sizeof(*a));
    a->want.format = CLUSTER_FORMAT;
    if (parse_count("partitions", f[0].value, 1, CLUSTER_MAX_PARTITIONS, &a->want.partitions)
        || parse_count("replicas", f[1].value, 1, 5, &a->want.replicas)
        || parse_count("streams", f[2].value, 1, CLUSTER_MAX_STREAMS, &a->want.streams))
        return -1;
    if (a->want.streams > a->want.partitions) {
        fprintf(stderr, "hookd: --streams %d is more than --partitions %d: each stream holds "
                "at least one partition\n", a->want.streams, a->want.partitions);
        return -1;
    }
    if (clock_parse_duration(f[3].value, &a->want.log_retention_ms) < 0
        || a->want.log_retention_ms < 60 * 1000) {
        fprintf(stderr, "hookd: invalid value '%s' for option '--log-retention': expected a "
                "duration of at least a minute, like 7d or 36h\n", f[3].value);
        return -1;
    }
    a->want.created_ms = clock_now_ms();
    snprintf(a->want.created_by, sizeof(a->want.created_by), "hookd %s", HOOKD_VERSION);
    a->max_msg_size = c->max_body + CLUSTER_ENTRY_OVERHEAD;
    if (a->max_msg_size > INT32_MAX) {
        fprintf(stderr, "hookd: max-body is too large for a NATS message\n");
        return -1;
    }
    return 0;
}

/* Load serve's options from what remains of argv: 0, 2 on a usage error. */
static int load_config(struct config *c, int argc, char **argv)
{
    char err[512];
    int help = 0;
    if (config_load(c, argc, argv, environ, &help, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return 2;
    }
    if (help) {
        cluster_usage(stdout);
        return -1;
    }
    if (!c->cluster || !*c->cluster) {
        fprintf(stderr, "hookd: which NATS servers? give --cluster nats://HOST:PORT[,...] "
                "(or cluster = ... in the config file, or HOOKD_CLUSTER)\n");
        return 2;
    }
    return 0;
}

static int run(const char *sub, struct own_flag *flags, int nflags, int argc, char **argv)
{
    struct config c;
    struct init_args a;
    struct cluster *cl = NULL;
    char **rest = xcalloc((size_t)argc + 1, sizeof(char *)), err[1024], name[96];
    int nrest, rc;
    config_init(&c);
    if (take_flags(argc, argv, flags, nflags, rest, &nrest))
        rc = 2;
    else
        rc = load_config(&c, nrest, rest);
    int init = strcmp(sub, "init") == 0, where = strcmp(sub, "where") == 0;
    if (rc == 0 && init && init_args(flags, &c, &a))
        rc = 2;
    if (rc == 0 && where && (!flags[0].value || !*flags[0].value)) {
        fprintf(stderr, "hookd: which app? give --app ID_OR_UID\n");
        rc = 2;
    }
    if (rc == 0) {
        snprintf(name, sizeof(name), "%s%s", c.node_id && *c.node_id ? c.node_id : "hookd cluster ",
                 c.node_id && *c.node_id ? "" : sub);
        struct cluster_conn_opts o = { .urls = c.cluster, .name = name, .creds = c.nats_creds,
                                       .ca = c.nats_ca, .timeout_ms = init ? 5000 : 2000 };
        if (cluster_connect(&cl, &o, err, sizeof(err))) {
            fprintf(stderr, "hookd: %s\n", err);
            if (!init && !where)
                printf("status: unreachable\n");
            rc = 2;
        }
    }
    if (rc == 0)
        rc = init ? init_run(cl, &a) : where ? where_run(cl, flags[0].value)
                  : status_run(cl, c.cluster);
    cluster_close(cl);
    config_release(&c);
    free(rest);
    return rc < 0 ? 0 : rc;
}

/* ---- lease-probe: the lease module alone, for tests (not in the usage) ---- */

/* One line per event on stdout, stamped with the wall clock in ms (same host, for ordering). */
static void probe_say_at(int64_t ms, const char *fmt, uint64_t v, const char *text)
{
    flockfile(stdout);
    printf("%" PRId64 " ", ms);
    printf(fmt, text ? text : "", v);
    putchar('\n');
    fflush(stdout);
    funlockfile(stdout);
}

static void probe_say(const char *fmt, uint64_t v, const char *text)
{
    probe_say_at(clock_now_ms(), fmt, v, text);
}

static void probe_acquired(void *arg, uint64_t epoch)
{
    probe_say("acquired%s epoch=%" PRIu64, epoch, NULL);
}

static void probe_lost(void *arg, enum lease_loss why)
{
    probe_say("lost reason=%s", 0, lease_loss_name(why));
}

/* Hold or wait for a lease until --for runs out or SIGTERM/SIGINT, then release it. */
static int probe_run(struct cluster *cl, const char *node, const char *key, int secs,
                     sigset_t *sigs)
{
    struct lease *l = NULL;
    struct lease_cbs cbs = { .on_acquired = probe_acquired, .on_lost = probe_lost };
    char err[512];
    if (lease_start(&l, cl, node, key, &cbs, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return 1;
    }
    probe_say("started node=%s ttl=%" PRIu64, (uint64_t)lease_ttl_ms(l), node);
    /* a SIGSTOP/SIGCONT (the tests fence a holder so) interrupts the wait: wait again */
    int64_t until = clock_mono_ms() + (int64_t)secs * 1000;
    int sig = -1;
    for (int64_t left; sig < 0 && (left = until - clock_mono_ms()) > 0;) {
        struct timespec ts = { .tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000 };
        sig = sigtimedwait(sigs, NULL, &ts);
        if (sig < 0 && errno != EINTR)
            break;
    }
    /* stamped when it stops holding, before the delete another node may see at once */
    int64_t at = clock_now_ms();
    int rc = lease_release(l);
    probe_say_at(at, rc > 0 ? "released%s" : rc == 0 ? "stopped%s" : "release-failed%s", 0,
              sig > 0 ? " by signal" : "");
    lease_free(l);
    return rc < 0 ? 1 : 0;
}

static int probe_main(int argc, char **argv)
{
    struct own_flag flags[] = { { "key", "group.0" }, { "for", "60" } };
    struct config c;
    struct cluster *cl = NULL;
    char **rest = xcalloc((size_t)argc + 1, sizeof(char *)), err[1024];
    int nrest, secs = 0, rc;
    sigset_t sigs;
    /* blocked before any thread starts, so only sigtimedwait takes them */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    config_init(&c);
    rc = take_flags(argc, argv, flags, 2, rest, &nrest) ? 2 : load_config(&c, nrest, rest);
    if (rc == 0 && parse_count("for", flags[1].value, 1, 24 * 3600, &secs))
        rc = 2;
    if (rc == 0 && (!c.node_id || !*c.node_id)) {
        fprintf(stderr, "hookd: lease-probe needs --node-id\n");
        rc = 2;
    }
    if (rc == 0 && nats_Open(-1) != NATS_OK) {
        fprintf(stderr, "hookd: cannot start the NATS client library\n");
        rc = 1;
    }
    if (rc == 0) {
        struct cluster_conn_opts o = { .urls = c.cluster, .name = c.node_id, .creds = c.nats_creds,
                                       .ca = c.nats_ca, .timeout_ms = 2000 };
        if (cluster_connect(&cl, &o, err, sizeof(err))) {
            fprintf(stderr, "hookd: %s\n", err);
            rc = 2;
        } else {
            rc = probe_run(cl, c.node_id, flags[0].value, secs, &sigs);
        }
        cluster_close(cl);
        nats_CloseAndWait(2000);
    }
    config_release(&c);
    free(rest);
    return rc < 0 ? 2 : rc;
}

int cluster_main(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0
        || strcmp(argv[0], "help") == 0) {
        cluster_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    struct own_flag init_flags[] = {
        { "partitions", "64" }, { "replicas", "3" }, { "streams", "4" },
        { "log-retention", "7d" },
    };
    int rc;
    if (strcmp(argv[0], "lease-probe") == 0)
        return probe_main(argc - 1, argv + 1);
    if (nats_Open(-1) != NATS_OK) {
        fprintf(stderr, "hookd: cannot start the NATS client library\n");
        return 1;
    }
    if (strcmp(argv[0], "import") == 0 || strcmp(argv[0], "log") == 0
        || strcmp(argv[0], "bootstrap") == 0 || strcmp(argv[0], "purge-log") == 0) {
        rc = cboot_main(argc, argv);
    } else if (strcmp(argv[0], "init") == 0) {
        rc = run("init", init_flags, 4, argc - 1, argv + 1);
    } else if (strcmp(argv[0], "status") == 0) {
        rc = run("status", NULL, 0, argc - 1, argv + 1);
    } else if (strcmp(argv[0], "where") == 0) {
        struct own_flag app[] = { { "app", NULL } };
        rc = run("where", app, 1, argc - 1, argv + 1);
    } else {
        fprintf(stderr, "hookd: unknown cluster command '%s'\n", argv[0]);
        cluster_usage(stderr);
        rc = 2;
    }
    nats_CloseAndWait(2000);
    return rc;
}
