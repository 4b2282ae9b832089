/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clusteropt.h - cluster mode's options (--cluster, --node-id), checked the
 * same way whether or not this hookd has cluster mode: the option table
 * (config.c) knows them always, while the NATS client (cluster.c) is built
 * only when configure found libnats.
 *
 * Pure functions on strings; any thread.
 */
#ifndef HOOKD_CLUSTEROPT_H
#define HOOKD_CLUSTEROPT_H

#include <stddef.h>

struct config;

#define CLUSTEROPT_MAX_URLS 32
#define CLUSTEROPT_NODE_ID_MAX 64

/* What a hookd built with ./configure --without-cluster says, and exits 2. */
#define CLUSTEROPT_NOT_BUILT \
    "this hookd was built without cluster mode (configure --without-cluster)"

/* One NATS server URL, taken apart. */
struct clusteropt_url {
    char host[256];      /* a name or an address; IPv6 without its brackets */
    int port;
    int tls;             /* tls:// */
};

/*
 * A --cluster value: "" (off) or comma-separated nats://HOST:PORT or
 * tls://HOST:PORT URLs, all with the same scheme, at most
 * CLUSTEROPT_MAX_URLS; an IPv6 host in brackets. 0, or HOOKD_EINVAL with
 * the reason (lowercase, no subject) in why.
 */
int clusteropt_check_urls(const char *list, char *why, size_t whylen);

/* A --node-id value: "" (unset) or [A-Za-z0-9_-]{1,64}. */
int clusteropt_check_node_id(const char *id, char *why, size_t whylen);

/*
 * A --cluster-role value: "" (unset), "owner" or "standby". Roles are
 * static for now: the partition leases (CLUSTER.md) will choose the owner
 * and make this option unneeded.
 */
int clusteropt_check_role(const char *role, char *why, size_t whylen);

/*
 * The URLs of a list that clusteropt_check_urls() accepted, as a
 * NULL-terminated array of heap strings (spaces trimmed); *n their count.
 * Free with clusteropt_free_urls().
 */
char **clusteropt_split_urls(const char *list, int *n);
void clusteropt_free_urls(char **urls);

/* One URL taken apart: 0, or HOOKD_EINVAL with the reason in why. */
int clusteropt_parse_url(const char *url, struct clusteropt_url *out, char *why, size_t whylen);

/*
 * The cluster options of a serve configuration, taken together: 0 when
 * --cluster is unset or complete (--node-id and --cluster-role given);
 * else 2 with one sentence in err (--cluster without --node-id or
 * --cluster-role, --cluster-role without --cluster, or a hookd built
 * without cluster mode).
 */
int clusteropt_serve_check(const struct config *c, char *err, size_t errlen);

#endif
