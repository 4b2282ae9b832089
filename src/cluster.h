/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster.h - cluster mode's NATS JetStream groundwork (docs/operations.md
 * "Cluster mode"; the design is CLUSTER.md): the connection to the NATS
 * servers, the JetStream resources a cluster runs on, and the commands
 * `hookd cluster init` and `hookd cluster status`.
 *
 * Built only when configure found libnats (HOOKD_CLUSTER); without it,
 * main.c answers every cluster command with CLUSTEROPT_NOT_BUILT.
 *
 * The resources, created by cluster_init (idempotently) and never by a
 * serving node:
 *   - KV bucket CLUSTER_BUCKET_SETTINGS, key "settings": the cluster's
 *     fixed settings (struct cluster_settings) as JSON; written last, so
 *     its presence means init completed.
 *   - KV bucket CLUSTER_BUCKET_NAMES: global names (apps, event types),
 *     unique by create-if-absent.
 *   - KV bucket CLUSTER_BUCKET_LEASES: partition leases; entries expire
 *     CLUSTER_LEASE_TTL_MS after their last write (on nats-server 2.9 a
 *     bucket's TTL is its stream's max_age, so every renewal is a write).
 *   - streams CLUSTER_STREAM_PREFIX0..S-1, the partition logs: append-only
 *     ("limits" retention, discard old, no deletes), file storage, R
 *     replicas, Nats-Msg-Id deduplication, max_age the log retention.
 *     Stream i holds the contiguous range of partitions p with
 *     cluster_stream_of(p) == i, on subjects CLUSTER_SUBJECT_PREFIX<p>,
 *     so that the streams' leaders spread over the NATS servers.
 *
 * Threads: a struct cluster is one NATS connection; nats.c's own threads
 * read it and reconnect it, and any thread may use the connection and the
 * JetStream context, as nats.c allows. cluster_close() by its owner only.
 */
#ifndef HOOKD_CLUSTER_H
#define HOOKD_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#define CLUSTER_FORMAT 1                    /* of the settings and the resources */
#define CLUSTER_BUCKET_SETTINGS "hookd_cluster"
#define CLUSTER_BUCKET_NAMES "hookd_names"
#define CLUSTER_BUCKET_LEASES "hookd_leases"
#define CLUSTER_SETTINGS_KEY "settings"
#define CLUSTER_STREAM_PREFIX "hookd_log_"
#define CLUSTER_SUBJECT_PREFIX "hookd.log."
#define CLUSTER_LEASE_TTL_MS 10000
#define CLUSTER_DEDUP_WINDOW_MS (2 * 60 * 1000)  /* Nats-Msg-Id duplicates caught within */
#define CLUSTER_ENTRY_OVERHEAD (64 * 1024)       /* a log entry beyond its request body */

#define CLUSTER_MAX_PARTITIONS 4096
#define CLUSTER_MAX_STREAMS 64                 /* a node holds every group: PART_GROUPS_MAX */

/* What init fixes for the cluster's life (the "settings" key). */
struct cluster_settings {
    int format;                 /* CLUSTER_FORMAT */
    int partitions;             /* P: partition = hash(app id) mod P */
    int streams;                /* S: partition logs, each a range of partitions */
    int replicas;               /* R of every stream and bucket */
    int64_t log_retention_ms;   /* the streams' max_age */
    int64_t created_ms;
    char created_by[64];        /* "hookd VERSION" */
};

/* How to reach the NATS servers. */
struct cluster_conn_opts {
    const char *urls;           /* --cluster: comma-separated, clusteropt_check_urls() */
    const char *name;           /* the connection's name: the node id, or the command */
    const char *creds;          /* --nats-creds FILE or NULL */
    const char *ca;             /* --nats-ca FILE or NULL */
    int64_t timeout_ms;         /* per server on connecting, and per JetStream request */
    int send_asap;              /* each publish goes out at once, unbuffered (request/reply) */
};

struct cluster;

/*
 * Connect to the first server of o->urls that answers (in random order,
 * as NATS clients do). Once connected the connection reconnects forever,
 * a bounded wait (about a second) between tries. 0, or -1 with one
 * sentence in err.
 */
int cluster_connect(struct cluster **out, const struct cluster_conn_opts *o,
                    char *err, size_t errlen);
void cluster_close(struct cluster *cl);
natsConnection *cluster_nats(struct cluster *cl);
jsCtx *cluster_js(struct cluster *cl);
/*
 * 1 when a node may answer a request on reply: an inbox ("_INBOX." and
 * literal tokens), as every NATS client's request/reply makes. Anyone who
 * may publish a request names the reply subject, and a node answers with
 * its own permissions: "$JS.API.STREAM.DELETE.hookd_log_0" or the log's
 * subject would have the node delete or corrupt the log. Pure.
 */
int cluster_reply_ok(const char *reply);

/*
 * The cluster's settings: 0, HOOKD_ENOTFOUND when it was never
 * initialized, or -1 with one sentence in err (no JetStream, no answer).
 */
int cluster_read_settings(struct cluster *cl, struct cluster_settings *s,
                          char *err, size_t errlen);

/* Which stream holds a partition: contiguous ranges of about P/S each. */
int cluster_stream_of(int partition, int partitions, int streams);
void cluster_stream_name(int stream, char *out, size_t cap);
void cluster_partition_subject(int partition, char *out, size_t cap);

/*
 * A partition group's names (part.h): group g's log is stream g, on the
 * subject of the stream's first partition (every entry of a group on one
 * subject, so the subject's sequence orders them), and its lease is key
 * "group.<g>". Group 0 of every cluster: hookd_log_0, hookd.log.0, group.0.
 */
struct cluster_group {
    int index;
    char stream[32];
    char subject[40];
    char key[24];
};
void cluster_group_names(int g, int partitions, int groups, struct cluster_group *out);

/*
 * `hookd cluster init|status [options]`; argv[0] is the subcommand. The
 * exit status: init 0 (created, or there with the same settings), 1
 * (refused or failed), 2 (usage, or no server reachable); status 0
 * (healthy), 1 (not initialized or degraded), 2 (usage, or unreachable).
 */
int cluster_main(int argc, char **argv);

#endif
