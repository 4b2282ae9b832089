/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - every hookd option, defined once in options[].
 *
 * Like Redis's config.c, one table says everything about an option: its
 * name (which also gives the flag --NAME and the environment twin
 * HOOKD_NAME), its type, where it lives in struct config, its default,
 * how it is validated, its help line and whether SIGHUP may change it.
 * Parsing, validation, defaults, --help, the dump and reloading are all
 * loops over that table, so adding an option is adding one line.
 *
 * Defaults are strings parsed by the same code as user input, so a
 * default can never be a value the user could not type, and the dump
 * prints values in the same units the user writes them in.
 *
 * config_load() works on a copy of the struct and swaps it in only when
 * every layer was applied, so a failed load leaves the caller's values
 * untouched. Nothing here is global or mutable: the table is const.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "clusteropt.h"
#include "config.h"
#include "err.h"
#include "mem.h"

#define MAX_SCHEDULE 32

#define KIB (INT64_C(1) << 10)
#define MIB (INT64_C(1) << 20)
#define GIB (INT64_C(1) << 30)
#define TIB (INT64_C(1) << 40)

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

enum opt_type {
    OPT_STRING,   /* char *, heap */
    OPT_INT,      /* int, plain decimal */
    OPT_BOOL,     /* int 0 or 1: true/false, yes/no, on/off, 1/0 */
    OPT_INT64,    /* int64_t, plain decimal */
    OPT_SIZE,     /* int64_t bytes, "64MiB" */
    OPT_DURATION, /* int64_t ms, "10s" */
};

enum {
    OPT_RELOAD = 1 << 0, /* config_reload() copies it (SIGHUP) */
    OPT_SECRET = 1 << 1, /* never printed: dump shows "<set>" */
    OPT_NOFILE = 1 << 2, /* cannot be set from the config file itself */
    OPT_NULL = 1 << 3,   /* "" is stored as NULL */
};

/* Extra validation of a value already parsed to its type: 0 or
 * HOOKD_EINVAL with the reason (lowercase, no subject) in why. */
typedef int (*opt_check)(const char *value, char *why, size_t whylen);

struct opt_def {
    const char *name;
    enum opt_type type;
    size_t offset;
    const char *def;
    int64_t min, max;   /* numeric types only */
    opt_check check;
    const char *metavar;
    const char *help;
    unsigned flags;
};

static int check_listen(const char *v, char *why, size_t whylen);
static int check_listen_opt(const char *v, char *why, size_t whylen);
static int check_networks(const char *v, char *why, size_t whylen);
static int check_schedule(const char *v, char *why, size_t whylen);
static int check_sig_headers(const char *v, char *why, size_t whylen);
static int check_level(const char *v, char *why, size_t whylen);
static int check_format(const char *v, char *why, size_t whylen);
static int check_nonempty(const char *v, char *why, size_t whylen);
static int check_portal_url(const char *v, char *why, size_t whylen);

#define F(field) offsetof(struct config, field)

static const struct opt_def options[] = {
    { "config", OPT_STRING, F(config_file), "", 0, 0, NULL, "FILE",
      "read options from FILE ('name = value' lines)", OPT_NOFILE | OPT_NULL },
    { "listen", OPT_STRING, F(listen), "127.0.0.1:8071", 0, 0, check_listen,
      "ADDR:PORT", "address to listen on; [::1]:8071 for IPv6", 0 },
    { "data", OPT_STRING, F(data_dir), "./hookd-data", 0, 0, check_nonempty,
      "DIR", "data directory (store, admin.token, listen)", 0 },
    { "tls-cert", OPT_STRING, F(tls_cert), "", 0, 0, NULL, "FILE",
      "serve HTTPS with this PEM certificate chain (needs --tls-key)", OPT_NULL },
    { "tls-key", OPT_STRING, F(tls_key), "", 0, 0, NULL, "FILE",
      "PEM private key of --tls-cert (unencrypted; keep it 0600)", OPT_NULL },
    { "workers", OPT_INT, F(workers), "0", 0, 1024, NULL,
      "N", "delivery workers; 0 = one per core", 0 },
    { "http-threads", OPT_INT, F(http_threads), "0", 0, 256, NULL,
      "N", "HTTP threads; 0 = one per core", 0 },
    { "allow-network", OPT_STRING, F(allow_network), "", 0, 0, check_networks,
      "CIDR[,CIDR]", "private destination ranges deliveries may reach", 0 },
    { "retry-schedule", OPT_STRING, F(retry_schedule), "10s,100s,1000s", 0, 0,
      check_schedule, "D[,D]", "delays between delivery attempts (max 32)",
      OPT_RELOAD },
    { "log-level", OPT_STRING, F(log_level), "info", 0, 0, check_level,
      "LEVEL", "debug, info, warn or error", OPT_RELOAD },
    { "log-format", OPT_STRING, F(log_format), "logfmt", 0, 0, check_format,
      "FORMAT", "logfmt or json", OPT_RELOAD },
    { "log-file", OPT_STRING, F(log_file), "", 0, 0, NULL,
      "FILE", "append the log to FILE; empty = stderr", OPT_RELOAD },
    { "log-requests", OPT_BOOL, F(log_requests), "true", 0, 1, NULL,
      "BOOL", "log one line per HTTP request (at info)", OPT_RELOAD },
    { "admin-token", OPT_STRING, F(admin_token), "", 0, 0, NULL, "TOKEN",
      "admin token; empty = read or create DIR/admin.token", OPT_SECRET },
    { "ingest-tokens", OPT_STRING, F(ingest_tokens), "", 0, 0, NULL,
      "TOKEN[,TOKEN]", "tokens that may only send events",
      OPT_SECRET | OPT_RELOAD },
    { "portal-url", OPT_STRING, F(portal_url), "", 0, 0, check_portal_url, "URL",
      "app-portal-access answers this URL, {token} replaced by the new token; empty = \"\"", 0 },
    { "metrics-listen", OPT_STRING, F(metrics_listen), "", 0, 0, check_listen_opt,
      "ADDR:PORT", "also serve GET /metrics here, without a token; empty = off", 0 },
    { "metrics-tokens", OPT_STRING, F(metrics_tokens), "", 0, 0, NULL,
      "TOKEN[,TOKEN]", "tokens that may only read GET /metrics",
      OPT_SECRET | OPT_RELOAD },
    { "max-body", OPT_SIZE, F(max_body), "1MiB", 1, GIB, NULL,
      "SIZE", "largest request body", 0 },
    { "max-json-depth", OPT_INT, F(max_json_depth), "64", 1, 1000, NULL,
      "N", "deepest JSON nesting accepted", 0 },
    { "max-headers", OPT_INT, F(max_headers), "100", 1, 10000, NULL,
      "N", "most request headers accepted", 0 },
    { "max-url", OPT_INT, F(max_url), "8192", 64, 1048576, NULL,
      "N", "longest request URL with its query, bytes", 0 },
    { "max-connections", OPT_INT, F(max_connections), "4096", 1, 1000000, NULL,
      "N", "most open client connections", 0 },
    { "max-connections-per-ip", OPT_INT, F(max_connections_per_ip), "1024", 0, 1000000, NULL,
      "N", "most open connections from one client address; 0 = no limit", 0 },
    { "idle-timeout", OPT_DURATION, F(idle_timeout_ms), "30s", SEC, HOUR, NULL,
      "DURATION", "close a client connection idle or without a request this long", 0 },
    { "header-timeout", OPT_DURATION, F(header_timeout_ms), "10s", SEC, HOUR, NULL,
      "DURATION", "close a connection whose request headers take longer to arrive", 0 },
    { "body-timeout", OPT_DURATION, F(body_timeout_ms), "30s", SEC, HOUR, NULL,
      "DURATION", "close a connection whose request body takes longer to arrive", 0 },
    { "map-size", OPT_SIZE, F(map_size), "4GiB", MIB, 16 * TIB, NULL,
      "SIZE", "largest size the store may grow to", 0 },
    { "groups", OPT_INT, F(groups), "1", 1, 64, NULL, "N",
      "partition groups (1-64): N stores and writers that commit in parallel; fixed when "
      "the data directory is first used", 0 },
    { "idempotency-ttl", OPT_DURATION, F(idempotency_ttl_ms), "12h",
      SEC, 365 * DAY, NULL, "DURATION", "how long idempotency-key answers are kept", 0 },
    { "payload-retention", OPT_DURATION, F(payload_retention_ms), "90d", 0, 3650 * DAY,
      NULL, "DURATION", "longest a message keeps its payload (0 = forever)", 0 },
    { "attempt-retention", OPT_DURATION, F(attempt_retention_ms), "90d", 0, 3650 * DAY,
      NULL, "DURATION", "how long attempt records are kept (0 = forever)", 0 },
    { "retention-interval", OPT_DURATION, F(retention_interval_ms), "1m", SEC, DAY,
      NULL, "DURATION", "time between retention passes", 0 },
    { "connect-timeout", OPT_DURATION, F(connect_timeout_ms), "5s",
      1, 10 * MIN, NULL, "DURATION", "delivery connect timeout", OPT_RELOAD },
    { "request-timeout", OPT_DURATION, F(request_timeout_ms), "15s",
      1, HOUR, NULL, "DURATION", "delivery whole-request timeout", OPT_RELOAD },
    { "commit-delay-us", OPT_INT64, F(commit_delay_us), "0", 0, 1000000, NULL,
      "N", "microseconds the writer waits to grow a batch", 0 },
    { "endpoint-concurrency", OPT_INT, F(endpoint_concurrency), "64", 1, 100000, NULL,
      "N", "deliveries in flight per endpoint at most", 0 },
    { "max-response", OPT_SIZE, F(max_response), "20000", 0, 16 * MIB, NULL,
      "SIZE", "receiver response bytes kept in an attempt record", 0 },
    { "entry-journal", OPT_STRING, F(entry_journal), "", 0, 0, NULL, "FILE",
      "append every log entry to FILE once durable, for hookd reapply (drills, tests)",
      OPT_NULL },
    { "hold-deliveries", OPT_BOOL, F(hold_deliveries), "false", 0, 1, NULL, "BOOL",
      "start with every delivery held: nothing is sent until POST /hookd/v1/deliveries/release "
      "(restore drills on a copy of the log)", 0 },
    { "disable-after", OPT_DURATION, F(disable_after_ms), "5d", 0, 365 * DAY, NULL,
      "DURATION", "disable an endpoint failing this long (0 = never)", 0 },
    { "signature-headers", OPT_STRING, F(signature_headers), "webhook", 0, 0,
      check_sig_headers, "FAMILY", "webhook, svix or both: which header family to send", 0 },
    { "ca-file", OPT_STRING, F(ca_file), "", 0, 0, NULL, "FILE",
      "PEM CA bundle deliveries trust besides the system's", OPT_NULL },
    { "shutdown-timeout", OPT_DURATION, F(shutdown_timeout_ms), "10s", 0, HOUR, NULL,
      "DURATION", "how long a stop waits for deliveries in flight", 0 },
    { "metrics-endpoint-cap", OPT_INT, F(metrics_endpoint_cap), "100", 0, 1000000, NULL,
      "N", "per-endpoint /metrics series only up to N endpoints", 0 },
    /* cluster mode (clusteropt.h, cluster.h); also read by hookd cluster init|status */
    { "cluster", OPT_STRING, F(cluster), "", 0, 0, clusteropt_check_urls, "URL[,URL]",
      "NATS servers of the cluster (nats://HOST:PORT); empty = a single node", 0 },
    { "node-id", OPT_STRING, F(node_id), "", 0, 0, clusteropt_check_node_id, "NAME",
      "this node's name in the cluster (letters, digits, - and _)", 0 },
    { "cluster-role", OPT_STRING, F(cluster_role), "", 0, 0, clusteropt_check_role,
      "ROLE", "auto (the default: the lease of the log chooses the owner, and a standby "
      "takes over when it dies), or owner or standby: a fixed role, for drills", 0 },
    { "nats-creds", OPT_STRING, F(nats_creds), "", 0, 0, NULL, "FILE",
      "NATS credentials file (user JWT and seed) for --cluster", OPT_NULL },
    { "nats-ca", OPT_STRING, F(nats_ca), "", 0, 0, NULL, "FILE",
      "PEM CA bundle that signed the NATS servers' certificates (tls:// URLs)", OPT_NULL },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* ---- small helpers ---- */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* hookd_strerror() for errno values is strerror(), which is capitalised. */
static void lower_strerror(int code, char *out, size_t n)
{
    snprintf(out, n, "%s", hookd_strerror(code));
    out[0] = (char)tolower((unsigned char)out[0]);
}

static const struct opt_def *opt_find(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strlen(options[i].name) == len &&
            memcmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

static void *field(struct config *c, const struct opt_def *o)
{
    return (char *)c + o->offset;
}

static const void *cfield(const struct config *c, const struct opt_def *o)
{
    return (const char *)c + o->offset;
}

/* "map-size" -> "HOOKD_MAP_SIZE" */
static void env_name(const struct opt_def *o, char *out, size_t n)
{
    size_t i = (size_t)snprintf(out, n, "HOOKD_");
    for (const char *p = o->name; *p && i + 1 < n; p++)
        out[i++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[i] = '\0';
}

static int parse_int64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!(isdigit((unsigned char)s[0]) ||
          (s[0] == '-' && isdigit((unsigned char)s[1]))))
        return HOOKD_EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return HOOKD_EINVAL;
    *out = v;
    return 0;
}

/* Largest unit that divides exactly, so the output parses back. */
static void fmt_size(int64_t v, char *out, size_t n)
{
    static const struct { int64_t unit; const char *name; } u[] = {
        { TIB, "TiB" }, { GIB, "GiB" }, { MIB, "MiB" }, { KIB, "KiB" },
    };
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
        if (v && v % u[i].unit == 0) {
            snprintf(out, n, "%" PRId64 "%s", v / u[i].unit, u[i].name);
            return;
        }
    snprintf(out, n, "%" PRId64, v);
}

static void fmt_duration(int64_t ms, char *out, size_t n)
{
    static const struct { int64_t unit; const char *name; } u[] = {
        { DAY, "d" }, { HOUR, "h" }, { MIN, "m" }, { SEC, "s" },
    };
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
        if (ms && ms % u[i].unit == 0) {
            snprintf(out, n, "%" PRId64 "%s", ms / u[i].unit, u[i].name);
            return;
        }
    snprintf(out, n, "%" PRId64 "ms", ms);
}

static void fmt_number(enum opt_type t, int64_t v, char *out, size_t n)
{
    if (t == OPT_SIZE)
        fmt_size(v, out, n);
    else if (t == OPT_DURATION)
        fmt_duration(v, out, n);
    else
        snprintf(out, n, "%" PRId64, v);
}

/* ---- public parsers ---- */

int config_parse_size(const char *s, int64_t *out)
{
    static const struct { const char *suffix; int64_t mult; } units[] = {
        { "", 1 }, { "K", KIB }, { "KiB", KIB }, { "M", MIB }, { "MiB", MIB },
        { "G", GIB }, { "GiB", GIB }, { "T", TIB }, { "TiB", TIB },
    };
    int64_t n = 0;
    const char *p = s;

    if (!isdigit((unsigned char)*p))
        return HOOKD_EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > (INT64_MAX - 9) / 10)
            return HOOKD_EINVAL;
        n = n * 10 + (*p - '0');
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(p, units[i].suffix) != 0)
            continue;
        if (n > INT64_MAX / units[i].mult)
            return HOOKD_EINVAL;
        *out = n * units[i].mult;
        return 0;
    }
    return HOOKD_EINVAL;
}

int config_parse_schedule(const char *s, int64_t *out, int max)
{
    int count = 0;
    const char *p = s;

    for (;;) {
        char item[64];
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int64_t ms;

        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (!len || len >= sizeof(item) || count >= max)
            return HOOKD_EINVAL;
        memcpy(item, p, len);
        item[len] = '\0';
        if (clock_parse_duration(item, &ms) < 0)
            return HOOKD_EINVAL;
        out[count++] = ms;
        if (!end)
            return count;
        p = end + 1;
    }
}

/* ---- validators: 0, or HOOKD_EINVAL and why ---- */

static int parse_port(const char *p, char *why, size_t whylen)
{
    int64_t port;

    if (parse_int64(p, &port) < 0 || port < 0 || port > 65535) {
        snprintf(why, whylen, "port must be a number from 0 to 65535 (0: any free port)");
        return HOOKD_EINVAL;
    }
    return 0;
}

/* An address as for listen, or empty (off). */
static int check_listen_opt(const char *v, char *why, size_t whylen)
{
    return v[0] ? check_listen(v, why, whylen) : 0;
}

static int check_listen(const char *v, char *why, size_t whylen)
{
    const char *colon;

    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        char host[INET6_ADDRSTRLEN + 1];
        struct in6_addr a6;
        size_t len = close ? (size_t)(close - v - 1) : 0;

        if (!close || close[1] != ':' || !len || len >= sizeof(host)) {
            snprintf(why, whylen, "expected [IPV6]:PORT, e.g. [::1]:8071");
            return HOOKD_EINVAL;
        }
        memcpy(host, v + 1, len);
        host[len] = '\0';
        if (inet_pton(AF_INET6, host, &a6) != 1) {
            snprintf(why, whylen, "'%s' is not an IPv6 address", host);
            return HOOKD_EINVAL;
        }
        return parse_port(close + 2, why, whylen);
    }
    colon = strrchr(v, ':');
    if (!colon || colon == v) {
        snprintf(why, whylen, "expected HOST:PORT, e.g. 127.0.0.1:8071");
        return HOOKD_EINVAL;
    }
    if (memchr(v, ':', (size_t)(colon - v))) {
        snprintf(why, whylen, "IPv6 addresses need brackets, e.g. [::1]:8071");
        return HOOKD_EINVAL;
    }
    for (const char *p = v; p < colon; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".-_", *p)) {
            snprintf(why, whylen, "bad character in host name");
            return HOOKD_EINVAL;
        }
    return parse_port(colon + 1, why, whylen);
}

/* One "ADDR" or "ADDR/PREFIX", IPv4 or IPv6. */
static int check_cidr(const char *s, size_t len)
{
    char addr[INET6_ADDRSTRLEN + 8];
    unsigned char bin[sizeof(struct in6_addr)];
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    int64_t prefix = -1, maxprefix;

    if (!alen || alen >= sizeof(addr) || len >= sizeof(addr))
        return HOOKD_EINVAL;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, bin) == 1)
        maxprefix = 32;
    else if (inet_pton(AF_INET6, addr, bin) == 1)
        maxprefix = 128;
    else
        return HOOKD_EINVAL;
    if (!slash)
        return 0;
    memcpy(addr, slash + 1, len - alen - 1);
    addr[len - alen - 1] = '\0';
    if (parse_int64(addr, &prefix) < 0 || prefix < 0 || prefix > maxprefix)
        return HOOKD_EINVAL;
    return 0;
}

static int check_networks(const char *v, char *why, size_t whylen)
{
    const char *p = v;

    if (!*v)
        return 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (check_cidr(p, len) < 0) {
            snprintf(why, whylen, "'%.*s' is not an address or CIDR range "
                     "like 127.0.0.0/8", (int)len, p);
            return HOOKD_EINVAL;
        }
        if (!end)
            return 0;
        p = end + 1;
    }
}

static int check_schedule(const char *v, char *why, size_t whylen)
{
    int64_t ms[MAX_SCHEDULE + 1];
    int n = config_parse_schedule(v, ms, MAX_SCHEDULE + 1);

    if (n < 0) {
        snprintf(why, whylen, "expected durations like 10s,100s,1000s");
        return HOOKD_EINVAL;
    }
    if (n > MAX_SCHEDULE) {
        snprintf(why, whylen, "at most %d delays", MAX_SCHEDULE);
        return HOOKD_EINVAL;
    }
    return 0;
}

static int check_word(const char *v, const char *const *words,
                      char *why, size_t whylen)
{
    const char *const *w;
    size_t used;

    for (w = words; *w; w++)
        if (strcmp(v, *w) == 0)
            return 0;
    used = (size_t)snprintf(why, whylen, "must be one of");
    for (w = words; *w && used < whylen; w++)
        used += (size_t)snprintf(why + used, whylen - used, "%s %s",
                                 w == words ? "" : ",", *w);
    return HOOKD_EINVAL;
}

static int check_level(const char *v, char *why, size_t whylen)
{
    static const char *const levels[] = { "debug", "info", "warn", "error", NULL };
    return check_word(v, levels, why, whylen);
}

static int check_format(const char *v, char *why, size_t whylen)
{
    static const char *const formats[] = { "logfmt", "json", NULL };
    return check_word(v, formats, why, whylen);
}

static int check_nonempty(const char *v, char *why, size_t whylen)
{
    if (*v)
        return 0;
    snprintf(why, whylen, "must not be empty");
    return HOOKD_EINVAL;
}

/* A link to hand a customer: http(s), with the token's place marked. */
static int check_portal_url(const char *v, char *why, size_t whylen)
{
    if (!*v)
        return 0;
    if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) {
        snprintf(why, whylen, "must start with https:// or http://");
        return HOOKD_EINVAL;
    }
    if (!strstr(v, "{token}")) {
        snprintf(why, whylen, "must contain '{token}', where the new token goes");
        return HOOKD_EINVAL;
    }
    return 0;
}

/* ---- setting one option ---- */

static int parse_bool(const char *value, int64_t *out, char *why, size_t whylen)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    snprintf(why, whylen, "expected true or false");
    return HOOKD_EINVAL;
}

static int parse_number(const struct opt_def *o, const char *value,
                        int64_t *out, char *why, size_t whylen)
{
    char lo[32], hi[32];
    int rc;

    if (o->type == OPT_SIZE)
        rc = config_parse_size(value, out);
    else if (o->type == OPT_DURATION)
        rc = clock_parse_duration(value, out);
    else
        rc = parse_int64(value, out);
    if (rc < 0) {
        snprintf(why, whylen, "%s",
                 o->type == OPT_SIZE ? "expected a size like 512KiB, 64MiB or 4GiB" :
                 o->type == OPT_DURATION ? "expected a duration like 250ms, 10s, 5m or 12h" :
                 "expected a whole number");
        return HOOKD_EINVAL;
    }
    if (*out < o->min || *out > o->max) {
        fmt_number(o->type, o->min, lo, sizeof(lo));
        fmt_number(o->type, o->max, hi, sizeof(hi));
        snprintf(why, whylen, "must be from %s to %s", lo, hi);
        return HOOKD_EINVAL;
    }
    return 0;
}

/*
 * Parse and validate value, then store it in c. On error writes
 * "invalid value 'V' for option 'NAME': WHY" (secrets' values omitted).
 */
static int opt_set(struct config *c, const struct opt_def *o,
                   const char *value, char *err, size_t errlen)
{
    char why[160] = "";
    int64_t n = 0;
    int rc;

    if (o->type == OPT_STRING)
        rc = o->check ? o->check(value, why, sizeof(why)) : 0;
    else if (o->type == OPT_BOOL)
        rc = parse_bool(value, &n, why, sizeof(why));
    else
        rc = parse_number(o, value, &n, why, sizeof(why));
    if (rc < 0) {
        if (o->flags & OPT_SECRET)
            seterr(err, errlen, "invalid value for option '%s': %s",
                   o->name, why);
        else
            seterr(err, errlen, "invalid value '%s' for option '%s': %s",
                   value, o->name, why);
        return rc;
    }
    switch (o->type) {
    case OPT_STRING: {
        char **s = field(c, o);
        free(*s);
        *s = (o->flags & OPT_NULL) && !*value ? NULL : xstrdup(value);
        break;
    }
    case OPT_INT:
    case OPT_BOOL:
        *(int *)field(c, o) = (int)n;
        break;
    default:
        *(int64_t *)field(c, o) = n;
        break;
    }
    return 0;
}

/* Copy one option's value from src to dst (dst's old string freed). */
static void opt_copy(struct config *dst, const struct config *src,
                     const struct opt_def *o)
{
    switch (o->type) {
    case OPT_STRING: {
        char **d = field(dst, o);
        char *const *s = cfield(src, o);
        free(*d);
        *d = *s ? xstrdup(*s) : NULL;
        break;
    }
    case OPT_INT:
    case OPT_BOOL:
        *(int *)field(dst, o) = *(const int *)cfield(src, o);
        break;
    default:
        *(int64_t *)field(dst, o) = *(const int64_t *)cfield(src, o);
        break;
    }
}

/* ---- lifecycle ---- */

void config_init(struct config *c)
{
    char err[256];

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NOPTIONS; i++)
        if (opt_set(c, &options[i], options[i].def, err, sizeof(err)) < 0) {
            /* A bad default is a bug in the table, not a user error. */
            fprintf(stderr, "hookd: bad built-in default: %s\n", err);
            abort();
        }
}

void config_release(struct config *c)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].type == OPT_STRING) {
            char **s = field(c, &options[i]);
            free(*s);
            *s = NULL;
        }
}

void config_reload(struct config *dst, const struct config *src)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].flags & OPT_RELOAD)
            opt_copy(dst, src, &options[i]);
}

/* ---- the config file layer ---- */

/*
 * Split one line into name and value, in place. Returns 1 for an option
 * line, 0 for a blank or comment line, HOOKD_EINVAL (why set) otherwise.
 * The value may be in double quotes (kept verbatim, no escapes); outside
 * quotes, '#' after whitespace starts a comment.
 */
static int split_line(char *line, char **name, char **value, const char **why)
{
    char *p = line, *end;

    while (isspace((unsigned char)*p))
        p++;
    if (!*p || *p == '#')
        return 0;
    *name = p;
    while (*p && *p != '=' && !isspace((unsigned char)*p))
        p++;
    end = p;
    while (isspace((unsigned char)*p))
        p++;
    if (*p != '=' || end == *name) {
        *why = "expected 'name = value'";
        return HOOKD_EINVAL;
    }
    *end = '\0';
    for (p++; isspace((unsigned char)*p); p++)
        ;
    *value = p;
    if (*p == '"') {
        char *close = strchr(++p, '"');
        if (!close) {
            *why = "missing closing '\"'";
            return HOOKD_EINVAL;
        }
        *value = p;
        *close = '\0';
        for (p = close + 1; isspace((unsigned char)*p); p++)
            ;
        if (*p && *p != '#') {
            *why = "unexpected text after closing '\"'";
            return HOOKD_EINVAL;
        }
        return 1;
    }
    for (; *p; p++)
        if (*p == '#' && p > *value && isspace((unsigned char)p[-1]))
            break;
    *p = '\0';
    while (p > *value && isspace((unsigned char)p[-1]))
        *--p = '\0';
    return 1;
}

static int apply_line(struct config *c, char *line, const char *path,
                      int lineno, char *err, size_t errlen)
{
    const struct opt_def *o;
    const char *why = NULL;
    char *name, *value, msg[512];
    int rc = split_line(line, &name, &value, &why);

    if (rc <= 0) {
        if (rc < 0)
            seterr(err, errlen, "config file '%s' line %d: %s",
                   path, lineno, why);
        return rc;
    }
    o = opt_find(name, strlen(name));
    if (!o) {
        seterr(err, errlen, "config file '%s' line %d: unknown option '%s'",
               path, lineno, name);
        return HOOKD_EINVAL;
    }
    if (o->flags & OPT_NOFILE) {
        seterr(err, errlen, "config file '%s' line %d: option '%s' cannot "
               "be set in a config file", path, lineno, name);
        return HOOKD_EINVAL;
    }
    if ((rc = opt_set(c, o, value, msg, sizeof(msg))) < 0)
        seterr(err, errlen, "config file '%s' line %d: %s",
               path, lineno, msg);
    return rc;
}

/* Apply each line of a config file's text; a NUL byte ends its line. */
static int apply_text(struct config *c, const char *text, size_t len, const char *path,
                      char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    int lineno = 0, rc = 0;

    while (p < end && rc >= 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = xstrndup(p, n);

        rc = apply_line(c, line, path, ++lineno, err, errlen);
        free(line);
        p += n + (nl != NULL);
    }
    return rc < 0 ? rc : 0;
}

static int load_file(struct config *c, const char *path,
                     char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct buf text = BUF_INIT;
    char chunk[4096], reason[128];
    size_t n;
    int rc;

    if (!f) {
        rc = -errno;
        lower_strerror(rc, reason, sizeof(reason));
        seterr(err, errlen, "cannot open config file '%s': %s", path, reason);
        return rc;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&text, chunk, n);
    if (ferror(f)) {
        rc = -EIO;
        seterr(err, errlen, "cannot read config file '%s': i/o error", path);
    } else {
        rc = apply_text(c, text.data ? text.data : "", text.len, path, err, errlen);
    }
    buf_release(&text);
    fclose(f);
    return rc;
}

int config_load_text(struct config *c, const char *text, size_t len, const char *path,
                     char *err, size_t errlen)
{
    struct config t;
    int rc;

    memset(&t, 0, sizeof(t));
    for (size_t i = 0; i < NOPTIONS; i++)
        opt_copy(&t, c, &options[i]);
    rc = apply_text(&t, text, len, path, err, errlen);
    if (rc < 0) {
        config_release(&t);
        return rc;
    }
    config_release(c);
    *c = t;
    return 0;
}

/* ---- the environment layer ---- */

static const char *env_get(char **envp, const char *name)
{
    size_t len = strlen(name);

    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

/*
 * HOOKD_* variables that match no option are ignored: other commands
 * (the console) and wrappers have their own.
 */
static int load_env(struct config *c, char **envp, char *err, size_t errlen)
{
    char name[64], msg[512];

    for (size_t i = 0; i < NOPTIONS; i++) {
        const char *v;
        int rc;

        env_name(&options[i], name, sizeof(name));
        if (!(v = env_get(envp, name)))
            continue;
        if ((rc = opt_set(c, &options[i], v, msg, sizeof(msg))) < 0) {
            seterr(err, errlen, "environment variable %s: %s", name, msg);
            return rc;
        }
    }
    return 0;
}

/* ---- the flags layer ---- */

struct flag {
    const struct opt_def *opt;
    const char *value;
};

/*
 * Parse argv into (option, value) pairs without applying them, so that
 * --config is known before the file layer. Returns the number of pairs,
 * 0 with *help set for --help, or HOOKD_EINVAL.
 */
static int parse_flags(int argc, char **argv, struct flag *flags, int *help,
                       char *err, size_t errlen)
{
    int n = 0;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq;
        const struct opt_def *o;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *help = 1;
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0) {
            seterr(err, errlen, "unexpected argument '%s' "
                   "(see hookd serve --help)", arg);
            return HOOKD_EINVAL;
        }
        eq = strchr(arg, '=');
        o = opt_find(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
        if (!o) {
            seterr(err, errlen, "unknown option '%.*s' (see hookd serve --help)",
                   eq ? (int)(eq - arg) : (int)strlen(arg), arg);
            return HOOKD_EINVAL;
        }
        if (!eq && o->type == OPT_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
            flags[n].opt = o;   /* a bare boolean flag: --hold-deliveries */
            flags[n++].value = "true";
            continue;
        }
        if (!eq && i + 1 >= argc) {
            seterr(err, errlen, "option '--%s' needs a value (%s)",
                   o->name, o->metavar);
            return HOOKD_EINVAL;
        }
        flags[n].opt = o;
        flags[n++].value = eq ? eq + 1 : argv[++i];
    }
    return n;
}

static int apply_layers(struct config *c, int argc, char **argv, char **envp,
                        int *help, char *err, size_t errlen)
{
    struct flag *flags = xcalloc((size_t)argc + 1, sizeof(*flags));
    const char *file;
    int n, rc = 0;

    n = parse_flags(argc, argv, flags, help, err, errlen);
    if (n < 0 || *help) {
        rc = n < 0 ? n : 0;
        goto out_free;
    }
    file = env_get(envp, "HOOKD_CONFIG");
    for (int i = 0; i < n; i++)
        if (strcmp(flags[i].opt->name, "config") == 0)
            file = flags[i].value;
    if (file && *file && (rc = load_file(c, file, err, errlen)) < 0)
        goto out_free;
    if ((rc = load_env(c, envp, err, errlen)) < 0)
        goto out_free;
    for (int i = 0; i < n; i++)
        if ((rc = opt_set(c, flags[i].opt, flags[i].value, err, errlen)) < 0)
            goto out_free;
out_free:
    free(flags);
    return rc;
}

int config_load(struct config *c, int argc, char **argv, char **envp,
                int *help, char *err, size_t errlen)
{
    struct config t;
    int rc;

    *help = 0;
    memset(&t, 0, sizeof(t));
    for (size_t i = 0; i < NOPTIONS; i++)
        opt_copy(&t, c, &options[i]);
    rc = apply_layers(&t, argc, argv, envp, help, err, errlen);
    if (rc < 0) {
        config_release(&t);
        return rc;
    }
    config_release(c);
    *c = t;
    return 0;
}

/* ---- printing ---- */

/* The value as the user would write it; NULL strings are "". */
static void opt_format(const struct config *c, const struct opt_def *o,
                       char *out, size_t n, const char **str)
{
    *str = NULL;
    switch (o->type) {
    case OPT_STRING: {
        const char *s = *(char *const *)cfield(c, o);
        *str = s ? s : "";
        break;
    }
    case OPT_INT:
        snprintf(out, n, "%d", *(const int *)cfield(c, o));
        break;
    case OPT_BOOL:
        snprintf(out, n, "%s", *(const int *)cfield(c, o) ? "true" : "false");
        break;
    default:
        fmt_number(o->type, *(const int64_t *)cfield(c, o), out, n);
        break;
    }
}

void config_changed(const struct config *a, const struct config *b, int reloadable,
                    char *out, size_t cap)
{
    size_t len = 0;
    if (cap)
        out[0] = '\0';
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct opt_def *o = &options[i];
        char na[64], nb[64];
        const char *sa, *sb;
        if (!(o->flags & OPT_RELOAD) != !reloadable)
            continue;
        opt_format(a, o, na, sizeof(na), &sa);
        opt_format(b, o, nb, sizeof(nb), &sb);
        if (strcmp(sa ? sa : na, sb ? sb : nb) == 0)
            continue;
        int n = snprintf(out + len, cap - len, "%s%s", len ? "," : "", o->name);
        if (n < 0 || (size_t)n >= cap - len) {
            out[len] = '\0';   /* whole names only */
            return;
        }
        len += (size_t)n;
    }
}

void config_usage(FILE *out)
{
    char left[64];
    int width = 0;

    for (size_t i = 0; i < NOPTIONS; i++) {
        int w = snprintf(left, sizeof(left), "--%s %s",
                         options[i].name, options[i].metavar);
        if (w > width)
            width = w;
    }
    fprintf(out, "usage: hookd serve [options]\n\noptions:\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct opt_def *o = &options[i];
        snprintf(left, sizeof(left), "--%s %s", o->name, o->metavar);
        fprintf(out, "  %-*s  %s", width, left, o->help);
        if (*o->def)
            fprintf(out, " (default: %s)", o->def);
        fprintf(out, "%s\n", o->flags & OPT_RELOAD ? " [reloadable]" : "");
    }
    fprintf(out, "  %-*s  %s\n", width, "--help", "show this help");
    fprintf(out,
        "\n"
        "Flags take '--name VALUE' or '--name=VALUE'. Every option can also\n"
        "be set in the environment as HOOKD_ and the name in upper case with\n"
        "'_' for '-' (--map-size: HOOKD_MAP_SIZE), or in the config file as\n"
        "'name = value' lines, with '#' comments and optional double quotes\n"
        "around the value. Later sources win: built-in defaults, then the\n"
        "config file (--config, else HOOKD_CONFIG), then HOOKD_* variables,\n"
        "then flags. [reloadable] options are re-read on SIGHUP.\n"
        "Sizes take K/KiB, M/MiB, G/GiB or T/TiB (all powers of 1024);\n"
        "durations take ms, s, m, h or d (a bare number is seconds).\n");
}

void config_dump(const struct config *c, FILE *out)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct opt_def *o = &options[i];
        char num[64];
        const char *s;

        opt_format(c, o, num, sizeof(num), &s);
        if (!s)
            fprintf(out, "%s = %s\n", o->name, num);
        else if ((o->flags & OPT_SECRET) && *s)
            fprintf(out, "%s = <set>\n", o->name);
        else if (!*s || strchr(s, '#') || isspace((unsigned char)s[0]) ||
                 isspace((unsigned char)s[strlen(s) - 1]))
            fprintf(out, "%s = \"%s\"\n", o->name, s);
        else
            fprintf(out, "%s = %s\n", o->name, s);
    }
}

static int check_sig_headers(const char *v, char *why, size_t whylen)
{
    if (strcmp(v, "webhook") == 0 || strcmp(v, "svix") == 0 || strcmp(v, "both") == 0)
        return 0;
    snprintf(why, whylen, "must be webhook, svix or both");
    return HOOKD_EINVAL;
}
