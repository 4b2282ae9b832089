/* SPDX-License-Identifier: Apache-2.0 */
/*
 * natsinfo.h - what a NATS server says about itself: the INFO line every
 * nats-server sends first on a new client connection (in plain text, also
 * on a tls:// port, before the TLS handshake). The NATS client library
 * keeps the connected server's INFO to itself, so `hookd cluster status`
 * asks each server this way for its version.
 *
 * Blocking, with a bounded wait; no state; any thread.
 */
#ifndef HOOKD_NATSINFO_H
#define HOOKD_NATSINFO_H

#include <stddef.h>
#include <stdint.h>

struct natsinfo {
    char server_id[64];
    char server_name[128];
    char version[32];           /* "2.9.10" */
    char cluster[128];          /* the cluster's name; "" outside a cluster */
    int jetstream;              /* JetStream enabled on this server */
    int tls_required;
    int64_t max_payload;        /* largest message the server takes, bytes */
};

/*
 * Connect to host:port, read the INFO line, close. 0, or -1 with the
 * reason (lowercase) in err; at most about timeout_ms in all per address.
 */
int natsinfo_probe(const char *host, int port, int timeout_ms, struct natsinfo *out,
                   char *err, size_t errlen);

/* 1 when version ("2.10.3") is major.minor or later; 0 otherwise or unparsable. */
int natsinfo_version_at_least(const char *version, int major, int minor);

#endif
