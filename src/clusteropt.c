/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clusteropt.c - cluster mode's options (clusteropt.h).
 *
 * URLs are checked strictly, so that a typo fails at start with the option
 * named rather than later as a connection that never comes: the scheme,
 * host and port are required, and credentials belong in --nats-creds, not
 * in a URL that logs and `hookd cluster status` would print.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusteropt.h"
#include "config.h"
#include "err.h"
#include "mem.h"

static int fail(char *why, size_t whylen, const char *msg, const char *url)
{
    snprintf(why, whylen, "'%s': %s", url, msg);
    return HOOKD_EINVAL;
}

int clusteropt_parse_url(const char *url, struct clusteropt_url *out, char *why, size_t whylen)
{
    const char *p, *hend, *colon;
    memset(out, 0, sizeof(*out));
    if (strncmp(url, "nats://", 7) == 0)
        p = url + 7;
    else if (strncmp(url, "tls://", 6) == 0)
        p = url + 6, out->tls = 1;
    else
        return fail(why, whylen, "must start with nats:// or tls://", url);
    if (strchr(p, '@'))
        return fail(why, whylen, "no credentials in the URL (use --nats-creds FILE)", url);
    if (*p == '[') {
        hend = strchr(p, ']');
        struct in6_addr a6;
        size_t len = hend ? (size_t)(hend - p - 1) : 0;
        if (!hend || !len || len >= sizeof(out->host))
            return fail(why, whylen, "expected [IPV6]:PORT", url);
        memcpy(out->host, p + 1, len);
        if (inet_pton(AF_INET6, out->host, &a6) != 1)
            return fail(why, whylen, "not an IPv6 address in brackets", url);
        colon = hend + 1;
    } else {
        colon = strchr(p, ':');
        if (!colon || colon == p || (size_t)(colon - p) >= sizeof(out->host))
            return fail(why, whylen, "expected HOST:PORT after the scheme", url);
        for (const char *c = p; c < colon; c++)
            if (!isalnum((unsigned char)*c) && !strchr(".-_", *c))
                return fail(why, whylen, "bad character in the host name", url);
        memcpy(out->host, p, (size_t)(colon - p));
    }
    if (*colon != ':')
        return fail(why, whylen, "a port is required (HOST:PORT)", url);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || *end || port < 1 || port > 65535)
        return fail(why, whylen, "the port must be a number from 1 to 65535 (nothing after it)",
                    url);
    out->port = (int)port;
    return 0;
}

char **clusteropt_split_urls(const char *list, int *n)
{
    char **v = xcalloc(strlen(list) + 2, sizeof(char *)), *copy = xstrdup(list), *save = NULL;
    *n = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*t))
            t++;
        size_t len = strlen(t);
        while (len && isspace((unsigned char)t[len - 1]))
            len--;
        v[(*n)++] = xstrndup(t, len);
    }
    free(copy);
    return v;
}

void clusteropt_free_urls(char **urls)
{
    for (char **p = urls; p && *p; p++)
        free(*p);
    free(urls);
}

int clusteropt_check_urls(const char *list, char *why, size_t whylen)
{
    if (!*list)
        return 0;
    /* an empty item (",," or a trailing comma) is a typo, not a list */
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p), blank = 0;
        while (blank < len && isspace((unsigned char)p[blank]))
            blank++;
        if (blank == len) {
            snprintf(why, whylen, "an empty URL in the list");
            return HOOKD_EINVAL;
        }
        if (!end)
            break;
        p = end + 1;
    }
    int n, rc = 0, tls = -1;
    char **urls = clusteropt_split_urls(list, &n);
    if (n > CLUSTEROPT_MAX_URLS) {
        snprintf(why, whylen, "at most %d URLs", CLUSTEROPT_MAX_URLS);
        rc = HOOKD_EINVAL;
    }
    for (int i = 0; i < n && !rc; i++) {
        struct clusteropt_url u;
        rc = clusteropt_parse_url(urls[i], &u, why, whylen);
        if (!rc && tls >= 0 && u.tls != tls) {
            snprintf(why, whylen, "mixes nats:// and tls:// URLs (use one scheme)");
            rc = HOOKD_EINVAL;
        }
        tls = u.tls;
    }
    clusteropt_free_urls(urls);
    return rc;
}

int clusteropt_check_node_id(const char *id, char *why, size_t whylen)
{
    size_t len = strlen(id);
    if (len > CLUSTEROPT_NODE_ID_MAX) {
        snprintf(why, whylen, "at most %d characters", CLUSTEROPT_NODE_ID_MAX);
        return HOOKD_EINVAL;
    }
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            snprintf(why, whylen, "only letters, digits, '-' and '_'");
            return HOOKD_EINVAL;
        }
    return 0;
}

int clusteropt_check_role(const char *role, char *why, size_t whylen)
{
    if (!*role || strcmp(role, "auto") == 0 || strcmp(role, "owner") == 0
        || strcmp(role, "standby") == 0)
        return 0;
    snprintf(why, whylen, "must be auto, owner or standby");
    return HOOKD_EINVAL;
}

int clusteropt_serve_check(const struct config *c, char *err, size_t errlen)
{
    int role = c->cluster_role && c->cluster_role[0];
    if (!c->cluster || !c->cluster[0]) {
        if (!role)
            return 0;
        snprintf(err, errlen, "--cluster-role goes with --cluster (the NATS servers of the "
                 "cluster)");
        return 2;
    }
#ifndef HOOKD_CLUSTER
    snprintf(err, errlen, "%s", CLUSTEROPT_NOT_BUILT);
#else
    if (!c->node_id || !c->node_id[0])
        snprintf(err, errlen, "--cluster needs --node-id NAME (this node's name in the cluster)");
    else
        return 0;   /* no --cluster-role: auto, the lease chooses */
#endif
    return 2;
}
