/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_model.c - the overview's figures and the endpoint list (the lists
 * and the detail are in ui_model_lists.c).
 *
 * The server reports counters and short-window rates but keeps no
 * history, so the console builds its own: every stats snapshot adds a
 * per-second sample (counter delta over elapsed time) to a five-minute
 * series, and the sparklines draw those. A gap between snapshots (a slow
 * or absent server) repeats the average rate over the seconds missed, so
 * the time axis stays true.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "mem.h"
#include "ui_fmt.h"
#include "ui_json.h"
#include "ui_model.h"
#include "ui_tokens.h"

void ui_model_init(struct ui_model *m, int utf8)
{
    memset(m, 0, sizeof(*m));
    m->utf8 = utf8;
    m->feed = xcalloc(UI_FEED_MAX, sizeof(*m->feed));
    m->feed_res.live = 1;
}

static void endpoints_free(struct ui_endpoint *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].app_id);
        free(e[i].app_uid);
        free(e[i].id);
        free(e[i].url);
        free(e[i].last_error);
        free(e[i].disabled_reason);
    }
    free(e);
}

void ui_model_release(struct ui_model *m)
{
    endpoints_free(m->eps, m->neps);
    ui_model_failed_clear(m);
    free(m->failed);
    ui_model_feed_clear(m);
    free(m->feed);
    ui_detail_release(&m->detail);
    ui_model_tokens_release(m);
    memset(m, 0, sizeof(*m));
}

void ui_res_ok(struct ui_res *r, int64_t mono_ms)
{
    r->state = UI_RES_OK;
    r->fetched_ms = mono_ms;
    r->status = 200;
    r->error[0] = '\0';
}

void ui_res_fail(struct ui_res *r, long status, const char *error)
{
    /* a missing route (an older server), not a missing thing */
    int no_route = (status == 404 || status == 405)
                   && (!error || !error[0] || strncmp(error, "no route", 8) == 0);
    r->state = no_route ? UI_RES_UNAVAILABLE : UI_RES_ERROR;
    r->status = status;
    snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
}

void ui_series_push(struct ui_series *s, double v)
{
    if (s->n == UI_HIST) {
        memmove(s->v, s->v + 1, (UI_HIST - 1) * sizeof(double));
        s->n--;
    }
    s->v[s->n++] = v;
}

void ui_series_seed(struct ui_series *s, const double *v, int n)
{
    int take = n - s->n;   /* the history's newest seconds are the ones s has */
    if (take > UI_HIST - s->n)
        take = UI_HIST - s->n;
    if (take <= 0)
        return;
    memmove(s->v + take, s->v, (size_t)s->n * sizeof(double));
    memcpy(s->v, v + (n - s->n - take), (size_t)take * sizeof(double));
    s->n += take;
}

static int seed_from(struct ui_series *s, json_t *a)
{
    double v[UI_HIST];
    size_t n = json_array_size(a);
    if (!json_is_array(a) || n > UI_HIST)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(a, i);
        if (!json_is_number(x))
            return -1;
        v[i] = json_number_value(x);
    }
    ui_series_seed(s, v, (int)n);
    return 0;
}

int ui_model_history(struct ui_model *m, const char *body)
{
    json_t *o = json_loads(body, 0, NULL);
    struct ui_series in = m->rates.ingest, ok = m->rates.ok, fail = m->rates.fail;
    int rc = json_is_object(o) && seed_from(&in, json_object_get(o, "ingest")) == 0
             && seed_from(&ok, json_object_get(o, "success")) == 0
             && seed_from(&fail, json_object_get(o, "failure")) == 0 ? 0 : -1;
    json_decref(o);
    if (rc == 0) {   /* all three or none, so the lines stay aligned */
        m->rates.ingest = in;
        m->rates.ok = ok;
        m->rates.fail = fail;
    }
    return rc;
}

static double per_s(double now, double before, double dt)
{
    return now >= before ? (now - before) / dt : 0;   /* a restart resets counters */
}

void ui_rates_sample(struct ui_rates *r, int64_t now_ms, double in, double ok, double fail)
{
    if (r->last_ms) {
        double dt = (double)(now_ms - r->last_ms) / 1000;
        if (dt < 0.5)
            return;   /* too close to the last sample to mean anything */
        double ri = per_s(in, r->last_in, dt), ro = per_s(ok, r->last_ok, dt);
        double rf = per_s(fail, r->last_fail, dt);
        int slots = (int)(dt + 0.5);
        slots = slots < 1 ? 1 : slots > UI_HIST ? UI_HIST : slots;
        for (int i = 0; i < slots; i++) {
            ui_series_push(&r->ingest, ri);
            ui_series_push(&r->ok, ro);
            ui_series_push(&r->fail, rf);
        }
    }
    r->last_ms = now_ms;
    r->last_in = in;
    r->last_ok = ok;
    r->last_fail = fail;
}

/* Names under which a stats field may appear: flat, or in a group. */
#define F(name, group) UI_NAMES(name, group "." name)
#define RATE(kind, alt) UI_NAMES("rates." kind ".10s", "rates." kind ".s10", "rates." kind "10s", \
                                 "rates." alt ".10s", kind "Rate10s", "rates." kind ".1s")

static void stats_parse(struct ui_stats *s, json_t *o)
{
    const char *v = json_string_value(ui_json_find(o, UI_NAMES("version")));
    snprintf(s->version, sizeof(s->version), "%s", v ? v : "?");
    s->uptime_s = ui_json_num(o, -1, UI_NAMES("uptimeS", "uptime_s", "uptime"));
    s->ingested = ui_json_num(o, -1, F("messagesIngested", "counters"));
    s->succeeded = ui_json_num(o, -1, F("attemptsSucceeded", "counters"));
    s->failed = ui_json_num(o, -1, F("attemptsFailed", "counters"));
    s->failed_final = ui_json_num(o, -1, F("deliveriesFailedFinal", "counters"));
    s->failed_now = ui_json_num(o, -1, F("deliveriesFailed", "gauges"));
    s->pending = ui_json_num(o, -1, F("deliveriesPending", "gauges"));
    s->scheduled = ui_json_num(o, -1, F("deliveriesScheduled", "gauges"));
    s->held = ui_json_num(o, -1, F("deliveriesHeld", "gauges"));
    s->inflight = ui_json_num(o, -1, F("inflight", "gauges"));
    s->rate_ingest = ui_json_num(o, -1, RATE("ingest", "ingested"));
    s->rate_ok = ui_json_num(o, -1, RATE("success", "succeeded"));
    s->rate_fail = ui_json_num(o, -1, RATE("failure", "failed"));
    s->p50 = ui_json_num(o, -1, UI_NAMES("latency.p50", "latencyMs.p50", "p50"));
    s->p90 = ui_json_num(o, -1, UI_NAMES("latency.p90", "latencyMs.p90", "p90"));
    s->p99 = ui_json_num(o, -1, UI_NAMES("latency.p99", "latencyMs.p99", "p99"));
    s->max = ui_json_num(o, -1, UI_NAMES("latency.max", "latencyMs.max", "max"));
    s->db_bytes = ui_json_num(o, -1, F("dbBytes", "store"));
    s->map_bytes = ui_json_num(o, -1, F("mapBytes", "store"));
    s->readers = ui_json_num(o, -1, F("readers", "store"));
    s->hold = json_is_true(ui_json_find(o, UI_NAMES("deliveryHold")));
    s->stored = ui_json_num(o, -1, F("messagesStored", "store"));
    s->payload_ret_s = ui_json_num(o, -1, F("payloadRetentionS", "store"));
    const char *oldest = json_string_value(ui_json_find(o, F("oldestPayloadAt", "store")));
    if (!oldest || clock_parse(oldest, &s->oldest_payload_ms))
        s->oldest_payload_ms = 0;
}

/* Escaped text s into out[n], cut on a character's boundary when too long. */
static void copy_cut(char *out, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;   /* s[len] would start the next character: cut before it */
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

/* A string field escaped for the terminal into out[n]; "" when absent. */
static void esc_into(char *out, size_t n, json_t *o, const char *name, int utf8)
{
    char *v = ui_json_esc(o, name, utf8);
    copy_cut(out, n, v);
    free(v);
}

static void node_parse(struct ui_node *d, json_t *o, int utf8)
{
    const char *role = ui_json_str(o, "role");
    int owner = role && strcmp(role, "owner") == 0;
    json_t *g = json_object_get(o, owner ? "owns" : "follows");
    struct buf b = BUF_INIT;
    size_t i;
    json_t *v;
    esc_into(d->id, sizeof(d->id), o, "nodeId", utf8);
    snprintf(d->role, sizeof(d->role), "%s", !role ? "?" : owner ? "owner"
                                             : strcmp(role, "standby") == 0 ? "standby" : "?");
    json_array_foreach(g, i, v) {
        const char *name = json_string_value(v);
        if (name && strncmp(name, "group.", 6) == 0 && name[6])
            name += 6;   /* "0,3": the panel's column is narrow */
        if (name) {
            if (b.len)
                buf_addc(&b, ',');
            ui_escape(&b, name, strlen(name), utf8, 1);
        }
    }
    copy_cut(d->groups, sizeof(d->groups), b.len ? b.data : "");
    buf_release(&b);
    esc_into(d->listen, sizeof(d->listen), o, "listen", utf8);
    d->self = ui_json_bool(o, "self");
    d->reachable = ui_json_bool(o, "reachable");
    d->seq = ui_json_num(o, -1, UI_NAMES("seq"));
    d->lag = ui_json_num(o, -1, UI_NAMES("lag.entries"));
    d->lag_s = ui_json_num(o, -1, UI_NAMES("lag.seconds"));
    d->silent_ms = ui_json_num(o, -1, UI_NAMES("silentMs"));
}

/* The "cluster" object: this node's role, and the nodes when the server lists them. */
static void cluster_parse(struct ui_cluster *c, json_t *o, int utf8)
{
    memset(c, 0, sizeof(*c));
    if (!json_is_object(o))
        return;
    c->on = 1;
    esc_into(c->node_id, sizeof(c->node_id), o, "nodeId", utf8);
    esc_into(c->role, sizeof(c->role), o, "role", utf8);
    esc_into(c->owner, sizeof(c->owner), o, "owner", utf8);
    c->log_seq = ui_json_num(o, -1, UI_NAMES("logSeq"));
    json_t *nodes = json_object_get(o, "nodes");
    size_t n = json_array_size(nodes);
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(nodes, i);
        if (!json_is_object(x))
            continue;
        if (c->n == UI_NODES_MAX) {
            c->more++;
            continue;
        }
        node_parse(&c->nodes[c->n++], x, utf8);
    }
}

int ui_model_stats(struct ui_model *m, const char *body, int64_t now_ms)
{
    json_t *o = json_loads(body, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    stats_parse(&m->stats, o);
    cluster_parse(&m->stats.cluster, json_object_get(o, "cluster"), m->utf8);
    json_decref(o);
    const struct ui_stats *s = &m->stats;
    if (s->ingested >= 0 && s->succeeded >= 0 && s->failed >= 0)
        ui_rates_sample(&m->rates, now_ms, s->ingested, s->succeeded, s->failed);
    return 0;
}

static void endpoint_parse(struct ui_endpoint *e, json_t *o, int utf8)
{
    e->app_id = ui_json_dup(o, "appId");
    e->app_uid = ui_json_dup(o, "appUid");
    e->id = json_object_get(o, "endpointId") ? ui_json_dup(o, "endpointId") : ui_json_dup(o, "id");
    e->url = ui_json_esc(o, "url", utf8);
    e->last_error = ui_json_esc(o, "lastError", utf8);
    e->disabled = ui_json_bool(o, "disabled");
    e->paused = ui_json_bool(o, "paused");
    e->disabled_reason = ui_json_dup(o, "disabledReason");
    e->disabled_at = ui_json_time(o, "disabledAt");
    e->missed = json_is_number(json_object_get(o, "missed")) ? ui_json_num(o, -1, UI_NAMES("missed"))
                                                             : -1;
    e->missed_capped = ui_json_bool(o, "missedCapped");
    e->backlog = ui_json_num(o, 0, UI_NAMES("backlog"));
    e->inflight = ui_json_num(o, 0, UI_NAMES("inflight"));
    e->ok5m = ui_json_num(o, 0, UI_NAMES("successes5m", "success5m", "succeeded5m", "ok5m",
                                         "successes", "last5m.successes", "last5m.success"));
    e->fail5m = ui_json_num(o, 0, UI_NAMES("failures5m", "failure5m", "failed5m", "fail5m",
                                           "failures", "last5m.failures", "last5m.failure"));
    e->consecutive = ui_json_num(o, 0, UI_NAMES("consecutiveFailures"));
    e->retrying = ui_json_num(o, -1, UI_NAMES("retrying"));
    e->last_status = (long)ui_json_num(o, -1, UI_NAMES("lastStatusCode"));
    e->last_at = ui_json_time(o, "lastAttemptAt");
}

int ui_model_endpoints(struct ui_model *m, const char *body)
{
    json_t *root = json_loads(body, 0, NULL), *list = ui_json_list(root);
    if (!list) {
        json_decref(root);
        return -1;
    }
    size_t n = json_array_size(list);
    struct ui_endpoint *e = xcalloc(n, sizeof(*e));
    for (size_t i = 0; i < n; i++)
        endpoint_parse(&e[i], json_array_get(list, i), m->utf8);
    json_decref(root);
    endpoints_free(m->eps, m->neps);
    m->eps = e;
    m->neps = n;
    return 0;
}

const struct ui_endpoint *ui_model_endpoint(const struct ui_model *m, const char *ep_id)
{
    for (size_t i = 0; ep_id && i < m->neps; i++)
        if (strcmp(m->eps[i].id, ep_id) == 0)
            return &m->eps[i];
    return NULL;
}

const char *ui_model_app_label(const struct ui_model *m, const char *app_id)
{
    for (size_t i = 0; app_id && i < m->neps; i++)
        if (strcmp(m->eps[i].app_id, app_id) == 0 && m->eps[i].app_uid[0])
            return m->eps[i].app_uid;
    return app_id ? app_id : "";
}

double ui_endpoint_ok_pct(const struct ui_endpoint *e)
{
    double total = e->ok5m + e->fail5m;
    return total > 0 ? 100.0 * e->ok5m / total : -1;
}

enum ui_health ui_endpoint_health(const struct ui_endpoint *e)
{
    if (e->disabled)
        return UI_H_OFF;
    if (e->paused)
        return UI_H_PAUSED;
    double pct = ui_endpoint_ok_pct(e);
    if (e->consecutive >= 3 || (e->consecutive > 0 && pct >= 0 && pct < 50))
        return UI_H_FAIL;
    /* a server that does not count retries: a failing last attempt stands for one */
    if (e->retrying > 0 || (e->retrying < 0 && e->consecutive > 0))
        return UI_H_RETRY;
    if (e->consecutive > 0 || e->fail5m > 0)
        return UI_H_ERRORS;
    return UI_H_OK;
}

char *ui_model_error_detail(const char *body)
{
    json_t *o = json_loads(body ? body : "", 0, NULL);
    const char *d = json_string_value(json_object_get(o, "detail"));
    char *out = d ? xstrdup(d) : NULL;
    json_decref(o);
    return out;
}
