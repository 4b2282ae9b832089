/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_metrics.c - GET /metrics: Prometheus text exposition format 0.0.4
 * (API.md 9; the names and their meaning are in docs/operations.md 5).
 *
 * A scrape costs what a stats call costs: counters and histograms come
 * from memory (stats.h, writer_get_stats), the durable gauges from one
 * health row per endpoint (api_gauges), never from a scan of the log.
 *
 * Labels are bounded, since every label value is a series Prometheus
 * keeps: no message ids, fixed sets of classes, and endpoint ids only
 * while there are at most metrics-endpoint-cap endpoints. The output holds
 * nothing but metric names, fixed label values, the version and endpoint
 * ids: no token, secret, URL or header can reach it.
 *
 * Fractions (seconds from ms or us) are written from integers with exact
 * decimals, so le bounds and sums never show float noise like 0.1000001.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "mem.h"
#include "proc.h"
#include "stats.h"
#include "writer.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What a histogram is: cumulative counts per bound, then +Inf. */
struct hist {
    const char *name, *help;
    const uint64_t *le;       /* nb - 1 bounds, in units of 10^-digits */
    const uint64_t *cum;      /* nb cumulative counts; the last is the count */
    size_t nb;
    uint64_t sum;             /* in units of 10^-digits */
    int digits;               /* 0: plain numbers; 3: ms as seconds; 6: us as seconds */
};

/* One endpoint's series, kept while the endpoints fit under the cap. */
struct ep_series {
    char id[ID_MAX];
    uint32_t backlog, failures;
};

struct ep_rows {
    struct ep_series *v;
    size_t n, alloc, cap;
};

/* v * 10^-digits as an exact decimal: 2500 with 3 digits is "2.5". */
static void put_scaled(struct buf *b, uint64_t v, int digits)
{
    uint64_t div = 1;
    for (int i = 0; i < digits; i++)
        div *= 10;
    uint64_t frac = v % div;
    buf_addf(b, "%llu", (unsigned long long)(v / div));
    if (!frac)
        return;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    buf_addf(b, ".%0*llu", digits, (unsigned long long)frac);
}

/* A label value with \, " and newline escaped. */
static void put_label(struct buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            buf_addc(b, '\\');
        if (*v == '\n')
            buf_adds(b, "\\n");
        else
            buf_addc(b, *v);
    }
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(struct buf *b, const char *name, const char *help, long long v)
{
    head(b, name, "gauge", help);
    buf_addf(b, "%s %lld\n", name, v);
}

static void put_hist(struct buf *b, const struct hist *h)
{
    head(b, h->name, "histogram", h->help);
    for (size_t i = 0; i < h->nb; i++) {
        buf_addf(b, "%s_bucket{le=\"", h->name);
        if (i + 1 < h->nb)
            put_scaled(b, h->le[i], h->digits);
        else
            buf_adds(b, "+Inf");
        buf_addf(b, "\"} %llu\n", (unsigned long long)h->cum[i]);
    }
    buf_addf(b, "%s_sum ", h->name);
    put_scaled(b, h->sum, h->digits);
    buf_addf(b, "\n%s_count %llu\n", h->name, (unsigned long long)h->cum[h->nb - 1]);
}

/* Per-bucket counts to cumulative ones, in place. */
static void cumulate(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        v[i] += v[i - 1];
}

static void put_attempts(struct buf *b, const struct stats_counters *c)
{
    static const char *const cls[STATS_CLASSES] = { "2xx", "3xx", "4xx", "5xx", "network" };
    head(b, "hookd_attempts_total", "counter",
         "Delivery attempts by outcome and response status class (network: no response).");
    for (int i = 0; i < STATS_CLASSES; i++)
        buf_addf(b, "hookd_attempts_total{outcome=\"%s\",class=\"%s\"} %llu\n",
                 i == STATS_2XX ? "success" : "failure", cls[i],
                 (unsigned long long)c->by_class[i]);
}

static void put_latency(struct buf *b, struct stats *s)
{
    struct stats_hist h = { 0 };
    uint64_t le[STATS_HIST_BUCKETS - 1];
    if (s)
        stats_get_hist(s, &h);
    for (int i = 0; i < STATS_HIST_BUCKETS - 1; i++)
        le[i] = (uint64_t)stats_hist_le[i];
    struct hist d = { "hookd_delivery_latency_seconds",
                      "From a message's timestamp to its successful delivery.", le,
                      h.cumulative, STATS_HIST_BUCKETS, h.sum_ms, 3 };
    put_hist(b, &d);
}

static void put_writer(struct buf *b, struct writer *w)
{
    struct writer_stats ws = { 0 };
    if (w)
        writer_get_stats(w, &ws);
    cumulate(ws.batch_hist, WRITER_BATCH_BUCKETS);
    cumulate(ws.commit_hist, WRITER_COMMIT_BUCKETS);
    struct hist batch = { "hookd_writer_batch_size",
                          "Requests applied per log transaction (group commit).",
                          writer_batch_le, ws.batch_hist, WRITER_BATCH_BUCKETS, ws.intents, 0 };
    struct hist commit = { "hookd_writer_commit_seconds",
                           "Time to apply and commit one batch, its data flush included.",
                           writer_commit_le_us, ws.commit_hist, WRITER_COMMIT_BUCKETS,
                           ws.commit_us_total, 6 };
    cumulate(ws.sync_hist, WRITER_COMMIT_BUCKETS);
    struct hist sync = { "hookd_writer_sync_seconds",
                         "Time of the syncer's own flushes, which answers wait for.",
                         writer_commit_le_us, ws.sync_hist, WRITER_COMMIT_BUCKETS,
                         ws.sync_us_total, 6 };
    put_hist(b, &batch);
    put_hist(b, &commit);
    put_hist(b, &sync);
    head(b, "hookd_writer_flat_reruns_total", "counter",
         "Batches applied without nested transactions that hit a failing request and ran again nested.");
    buf_addf(b, "hookd_writer_flat_reruns_total %llu\n", (unsigned long long)ws.flat_reruns);
    head(b, "hookd_writer_flushes_saved_total", "counter",
         "Commits made durable by the next commit's data flush instead of a flush of their own.");
    buf_addf(b, "hookd_writer_flushes_saved_total %llu\n", (unsigned long long)ws.flushes_saved);
    head(b, "hookd_writer_lazy_waits_total", "counter",
         "Batches of delivery outcomes that waited a few ms for more to share their commit.");
    buf_addf(b, "hookd_writer_lazy_waits_total %llu\n", (unsigned long long)ws.lazy_waits);
}

static void put_http(struct buf *b, struct stats *s)
{
    static const char *const cls[STATS_NETWORK] = { "2xx", "3xx", "4xx", "5xx" };
    uint64_t n[STATS_ROUTES][STATS_NETWORK] = { { 0 } };
    if (s)
        stats_get_http(s, n);
    head(b, "hookd_http_requests_total", "counter",
         "API requests answered, by route class and status class.");
    for (int r = 0; r < STATS_ROUTES; r++)
        for (int c = 0; c < STATS_NETWORK; c++)
            buf_addf(b, "hookd_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
                     stats_route_name[r], cls[c], (unsigned long long)n[r][c]);
    struct stats_http_now now = { 0 };
    if (s)
        stats_get_http_now(s, &now);
    gauge(b, "hookd_http_connections", "Client connections open.", now.connections);
    gauge(b, "hookd_http_requests_waiting",
          "Write requests handed to the log writer and not yet answered.", now.waiting);
}

static void put_counters(struct buf *b, struct api *a)
{
    struct stats_counters c = { 0 };
    if (a->stats)
        stats_get_counters(a->stats, &c);
    head(b, "hookd_messages_ingested_total", "counter", "Messages acknowledged (202).");
    buf_addf(b, "hookd_messages_ingested_total %llu\n", (unsigned long long)c.ingested);
    put_attempts(b, &c);
    head(b, "hookd_deliveries_postponed_total", "counter",
         "Deliveries put off without an attempt: their outcome could not be written "
         "(store_full: no room; store_error: the commit failed, a full disk say), or no file "
         "descriptor was free for their socket (no_socket).");
    for (int r = 0; r < STATS_PP_REASONS; r++)
        buf_addf(b, "hookd_deliveries_postponed_total{reason=\"%s\"} %llu\n",
                 stats_postpone_name[r], (unsigned long long)c.postponed[r]);
    put_http(b, a->stats);
    put_latency(b, a->stats);
    put_writer(b, a->writer);
}

static void put_gauges(struct buf *b, struct api *a, const struct api_gauges *g)
{
    struct dispatch_stats ds = { 0 };
    int held = api_dispatch_stats(a, &ds);
    head(b, "hookd_deliveries", "gauge",
         "Deliveries waiting (pending, scheduled retry, held by a paused or disabled "
         "endpoint) or failed for good.");
    buf_addf(b, "hookd_deliveries{state=\"pending\"} %lld\n", (long long)g->pending);
    buf_addf(b, "hookd_deliveries{state=\"scheduled\"} %lld\n", (long long)g->scheduled);
    buf_addf(b, "hookd_deliveries{state=\"held\"} %lld\n", (long long)g->held);
    buf_addf(b, "hookd_deliveries{state=\"failed\"} %lld\n", (long long)g->failed);
    gauge(b, "hookd_inflight", "Deliveries being sent right now.", ds.inflight);
    gauge(b, "hookd_delivery_hold",
          "1 while every delivery is held (--hold-deliveries, until POST "
          "/hookd/v1/deliveries/release), else 0.",
          held);
    gauge(b, "hookd_messages_stored", "Message records in the log, with or without their payload.",
          (long long)g->messages);
    gauge(b, "hookd_due_backlog", "Due entries: deliveries waiting for an attempt.",
          (long long)(g->pending + g->scheduled + g->held));
}

static void put_store(struct buf *b, const struct store_info *si)
{
    gauge(b, "hookd_store_bytes", "Bytes of the log in use.", si->used_bytes);
    gauge(b, "hookd_store_free_bytes", "Of hookd_store_bytes, pages free for reuse.",
          si->free_bytes);
    gauge(b, "hookd_store_map_bytes", "The map size: the most hookd_store_bytes may reach.",
          si->map_bytes);
    gauge(b, "hookd_store_readers", "Read transaction slots of the log in use.", si->readers);
}

/* The process collector's standard names, so stock dashboards and alerts
 * on descriptors and memory work unchanged; left out when /proc fails. */
static void put_proc(struct buf *b)
{
    struct proc_sample p;
    if (proc_sample(&p))
        return;
    head(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
    buf_addf(b, "process_cpu_seconds_total %.2f\n", p.cpu_seconds);
    gauge(b, "process_open_fds", "Open file descriptors.", p.open_fds);
    if (p.max_fds >= 0)
        gauge(b, "process_max_fds", "The open-file limit (soft RLIMIT_NOFILE).", p.max_fds);
    gauge(b, "process_resident_memory_bytes", "Resident memory in bytes.", p.rss_bytes);
    gauge(b, "process_virtual_memory_bytes", "Virtual memory in bytes.", p.vsize_bytes);
    gauge(b, "process_threads", "Threads of this process.", p.threads);
    head(b, "process_start_time_seconds", "gauge", "Start time since the Unix epoch, in seconds.");
    buf_addf(b, "process_start_time_seconds %.2f\n", p.start_time_s);
}

static void put_process(struct buf *b, struct api *a)
{
    int64_t up = clock_now_ms() - a->started_ms;
    head(b, "hookd_uptime_seconds", "gauge", "Seconds since this process started.");
    buf_adds(b, "hookd_uptime_seconds ");
    put_scaled(b, (uint64_t)(up > 0 ? up : 0), 3);
    buf_addc(b, '\n');
    put_proc(b);
    head(b, "hookd_build_info", "gauge", "Always 1; the version is in its label.");
    buf_adds(b, "hookd_build_info{version=\"");
    put_label(b, HOOKD_VERSION);
    buf_adds(b, "\"} 1\n");
}

/* api_gauges' each: keep endpoint rows while they fit under the cap. */
static void ep_collect(void *arg, const char *ep_id, const struct store_health *h)
{
    struct ep_rows *x = arg;
    if (x->n >= x->cap)
        return;
    if (x->n == x->alloc) {
        x->alloc = x->alloc ? 2 * x->alloc : 16;
        x->v = xrealloc(x->v, x->alloc * sizeof(*x->v));
    }
    struct ep_series *e = &x->v[x->n++];
    snprintf(e->id, sizeof(e->id), "%s", ep_id);
    e->backlog = h->backlog;
    e->failures = h->consecutive_failures;
}

static void put_ep_family(struct buf *b, const struct ep_rows *x, const char *name,
                          const char *help, int failures)
{
    head(b, name, "gauge", help);
    for (size_t i = 0; i < x->n; i++) {
        buf_addf(b, "%s{endpoint_id=\"", name);
        put_label(b, x->v[i].id);
        buf_addf(b, "\"} %lu\n",
                 (unsigned long)(failures ? x->v[i].failures : x->v[i].backlog));
    }
}

static void put_endpoints(struct buf *b, const struct ep_rows *x, int64_t endpoints)
{
    if (endpoints > (int64_t)x->cap) {
        buf_addf(b, "# endpoint series omitted: %lld endpoints > cap %zu\n",
                 (long long)endpoints, x->cap);
        return;
    }
    if (!x->n)
        return;
    put_ep_family(b, x, "hookd_endpoint_backlog", "Due entries of one endpoint.", 0);
    put_ep_family(b, x, "hookd_endpoint_consecutive_failures",
                  "Failed attempts of one endpoint since its last success.", 1);
}

/* One gauge of every node of the cluster's view, by node id. */
static void put_node_family(struct buf *b, json_t *nodes, const char *name, const char *help,
                            const char *key)
{
    size_t i;
    json_t *n;
    head(b, name, "gauge", help);
    json_array_foreach(nodes, i, n) {
        const char *id = json_string_value(json_object_get(n, "nodeId"));
        const char *role = json_string_value(json_object_get(n, "role"));   /* NULL: not a string */
        json_int_t v;
        if (strcmp(key, "up") == 0)
            v = json_is_true(json_object_get(n, "reachable"));
        else if (strcmp(key, "owner") == 0)
            v = role && strcmp(role, "owner") == 0;
        else if (strcmp(key, "lag") == 0)
            v = json_integer_value(json_object_get(json_object_get(n, "lag"), "entries"));
        else
            v = json_integer_value(json_object_get(n, key));
        buf_addf(b, "%s{node=\"", name);
        put_label(b, id ? id : "");
        buf_addf(b, "\"} %lld\n", (long long)v);
    }
}

/*
 * Cluster mode: this node's role and the view of every node (cstats.h),
 * labelled by node id; the nodes are few (CSTATS_MAX_NODES at most).
 */
static void put_cluster(struct buf *b, struct api *a)
{
    const char *role = atomic_load(&a->cluster_role);
    if (!role)
        return;
    gauge(b, "hookd_cluster_role", "This node's role: 1 owner, 0 standby.",
          strcmp(role, "owner") == 0);
    if (!a->cluster_stats)
        return;
    json_t *c = json_object();
    a->cluster_stats(a->cluster_ctx, c);
    json_t *nodes = json_object_get(c, "nodes"), *t = json_object_get(c, "totals");
    if (json_is_array(nodes)) {
        json_int_t all = json_integer_value(json_object_get(t, "nodes"));
        json_int_t up = json_integer_value(json_object_get(t, "reachable"));
        head(b, "hookd_cluster_nodes", "gauge", "Nodes in this node's view, by state.");
        buf_addf(b, "hookd_cluster_nodes{state=\"reachable\"} %lld\n"
                 "hookd_cluster_nodes{state=\"unreachable\"} %lld\n", (long long)up,
                 (long long)(all - up));
        gauge(b, "hookd_cluster_log_seq", "The log's last sequence, as this node last read it.",
              (long long)json_integer_value(json_object_get(c, "logSeq")));
        put_node_family(b, nodes, "hookd_cluster_node_up",
                        "1 while the node answers the cluster's stats requests.", "up");
        put_node_family(b, nodes, "hookd_cluster_node_owner",
                        "1 while the node owns a partition group.", "owner");
        put_node_family(b, nodes, "hookd_cluster_applied_seq",
                        "The last log entry the node applied, as it last said.", "seq");
        put_node_family(b, nodes, "hookd_cluster_lag_entries",
                        "Log entries the node has yet to apply.", "lag");
    }
    json_decref(c);
}

void api_metrics(struct api *a, struct http_req *r, char **p)
{
    struct ep_rows eps = { .cap = (size_t)(a->cfg ? a->cfg->metrics_endpoint_cap : 0) };
    struct api_gauges g = { .each = ep_collect, .arg = &eps };
    struct store_info si;
    struct buf b = BUF_INIT;
    int rc = api_gauges(a, &g);
    if (!rc)
        rc = api_store_info(a, &si);
    if (rc) {
        free(eps.v);
        api_store_error(r, rc);
        return;
    }
    put_counters(&b, a);
    put_gauges(&b, a, &g);
    put_store(&b, &si);
    put_process(&b, a);
    put_endpoints(&b, &eps, g.endpoints);
    put_cluster(&b, a);
    free(eps.v);
    size_t len;
    char *text = buf_detach(&b, &len);
    http_reply(r, 200, text, len);
    r->content_type = CONTENT_TYPE;
}
