/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.h - the one table of hookd's options (DESIGN.md "Configuration").
 *
 * Each option has a name, a type, a default, a validator, a help line and
 * a reloadable mark. Values are layered: built-in defaults < config file
 * < HOOKD_* environment < command-line flags. The config file is
 * "name = value" lines ('#' starts a comment); the environment twin of
 * option "map-size" is HOOKD_MAP_SIZE; the flag is --map-size VALUE or
 * --map-size=VALUE.
 *
 * A struct config is filled on the main thread at start-up and read-only
 * afterwards, so any thread may read it without locks, except the fields
 * of reloadable options: SIGHUP builds a fresh struct, hands the new
 * values to the modules that use them (each through its own setter) and
 * copies them into the live struct with config_reload(), so only the main
 * thread may read those fields there.
 */
#ifndef HOOKD_CONFIG_H
#define HOOKD_CONFIG_H

#include <stdint.h>
#include <stdio.h>

struct config {
    char *config_file;      /* --config: path or NULL */
    char *listen;           /* "127.0.0.1:8071"; "[::1]:8071" for IPv6 */
    char *data_dir;         /* "./hookd-data" */
    char *tls_cert;         /* PEM certificate chain path; NULL = plain HTTP */
    char *tls_key;          /* PEM private key path; set with tls_cert */
    int workers;            /* delivery workers; 0 = one per core */
    int http_threads;       /* HTTP threads; 0 = one per core */
    char *allow_network;    /* comma-separated CIDRs, "" = none */
    char *retry_schedule;   /* "10s,100s,1000s" */
    char *log_level;        /* debug | info | warn | error */
    char *log_format;       /* logfmt | json */
    char *log_file;         /* "" = stderr */
    int log_requests;       /* one info line per HTTP request */
    char *admin_token;      /* "" = read or create DIR/admin.token */
    char *ingest_tokens;    /* comma-separated ingest-scope tokens */
    char *metrics_tokens;   /* comma-separated metrics-scope tokens (GET /metrics only) */
    char *portal_url;       /* app-portal-access "url": template with {token}; "" = none */
    char *metrics_listen;   /* "" = off; else a second listener serving /metrics, no token */
    int64_t max_body;       /* request body limit, bytes */
    int max_json_depth;     /* JSON nesting limit */
    int max_headers;        /* request header count limit */
    int max_url;            /* request URL length limit, bytes */
    int max_connections;    /* listener connection limit */
    int max_connections_per_ip;     /* per client address; 0 = none */
    int64_t idle_timeout_ms;        /* idle connection, or waiting for the next request */
    int64_t header_timeout_ms;      /* request line to the end of the headers */
    int64_t body_timeout_ms;        /* end of the headers to the end of the body */
    int64_t map_size;       /* LMDB map size, bytes */
    int groups;             /* partition groups: stores and writers (group.h) */
    int64_t idempotency_ttl_ms;
    int64_t payload_retention_ms;   /* caps a message's retentionDays; 0 = keep payloads */
    int64_t attempt_retention_ms;   /* 0 = keep attempts */
    int64_t retention_interval_ms;  /* between retention passes */
    int64_t connect_timeout_ms;
    int64_t request_timeout_ms;
    int64_t commit_delay_us;/* writer: wait this long to grow a batch */
    int endpoint_concurrency;
    int64_t max_response;
    int64_t disable_after_ms;
    char *signature_headers;/* webhook | svix | both */
    char *ca_file;          /* extra CA bundle for deliveries; NULL = system CAs only */
    int64_t shutdown_timeout_ms;
    int metrics_endpoint_cap;   /* per-endpoint /metrics series up to this many endpoints */
    char *entry_journal;    /* --entry-journal: FILE or NULL (writer_set_journal) */
    int hold_deliveries;    /* start with every delivery held until the operator releases them */
    char *cluster;          /* NATS URLs, comma-separated; "" = single node (clusteropt.h) */
    char *node_id;          /* this node's name in the cluster; "" = unset */
    char *cluster_role;     /* owner or standby ("" = unset); leases will replace it */
    char *nats_creds;       /* NATS credentials file; NULL = none */
    char *nats_ca;          /* CA bundle for tls:// NATS URLs; NULL = the system's */
};

/* Fill every field with its built-in default (heap strings). */
void config_init(struct config *c);
void config_release(struct config *c);

/*
 * Apply the layers in order: the config file (from --config or
 * HOOKD_CONFIG, if any), the HOOKD_* variables of envp, then argv
 * (starting at argv[0], which must be the first option, not the command).
 * On error returns HOOKD_EINVAL (or -errno for an unreadable file) and
 * writes one lowercase sentence naming the option into err.
 * "--help" sets *help and returns 0.
 */
int config_load(struct config *c, int argc, char **argv, char **envp,
                int *help, char *err, size_t errlen);

/*
 * Apply the text of a config file (len bytes of "name = value" lines) to
 * c, as config_load()'s file layer does; path names the file in errors.
 * Like config_load(), c changes only when every line applies.
 */
int config_load_text(struct config *c, const char *text, size_t len, const char *path,
                     char *err, size_t errlen);

/* Print every option with its default and meaning (hookd serve --help). */
void config_usage(FILE *out);

/* Write "name = value" for every option (secrets shown as "<set>"). */
void config_dump(const struct config *c, FILE *out);

/*
 * Copy the options marked reloadable from src into dst. Caller provides
 * any locking its readers need.
 */
void config_reload(struct config *dst, const struct config *src);

/*
 * The names of the options whose values differ between a and b, comma
 * separated, into out (cap bytes; as many whole names as fit): those
 * marked reloadable when reloadable is non-zero, the others otherwise.
 * Only names are written, so secrets may be compared.
 */
void config_changed(const struct config *a, const struct config *b, int reloadable,
                    char *out, size_t cap);

/* Parse "10s,100s,1000s" into up to max ms values; count or HOOKD_EINVAL. */
int config_parse_schedule(const char *s, int64_t *out, int max);

/* Parse a size "64MiB", "1G", "1048576" into bytes; 0 or HOOKD_EINVAL. */
int config_parse_size(const char *s, int64_t *out);

#endif
