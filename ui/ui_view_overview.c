/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_view_overview.c - screen 1: is delivery healthy? Throughput with
 * five minutes of sparkline, latency, the work queued, endpoint health at
 * a glance, in cluster mode the nodes (ui_view_cluster.c), and the store.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "ui_fmt.h"
#include "ui_views_int.h"

/* The rate to print: the server's 10 s figure, else our last 10 s. */
static double rate_now(double server, const struct ui_series *s)
{
    if (server >= 0)
        return server;
    double sum = 0;
    int k = s->n < 10 ? s->n : 10;
    for (int i = s->n - k; i < s->n; i++)
        sum += s->v[i];
    return k ? sum / k : 0;
}

static void spark(const struct ui_app *a, int y, int x, int w, const struct ui_series *s,
                  enum ui_style st)
{
    static const char *const uni[] = { "\u2581", "\u2582", "\u2583", "\u2584", "\u2585",
                                       "\u2586", "\u2587", "\u2588" };
    static const char ascii[] = "_.-:=+*#";
    int levels[400];
    if (w > 400)
        w = 400;
    if (w <= 0)
        return;
    ui_sparkline(s->v, s->n, w, levels);
    struct buf b = BUF_INIT;
    for (int i = 0; i < w; i++) {
        if (levels[i] < 0)
            buf_addc(&b, ' ');
        else if (a->m.utf8)
            buf_adds(&b, uni[levels[i]]);
        else
            buf_addc(&b, ascii[levels[i]]);
    }
    ui_term_put(y, x, st, b.data);
    buf_release(&b);
}

static void throughput(const struct ui_app *a, int y, int stale)
{
    const struct ui_stats *s = &a->m.stats;
    const struct ui_rates *r = &a->m.rates;
    const char *names[] = { "ingest", "delivered", "failed" };
    const struct ui_series *series[] = { &r->ingest, &r->ok, &r->fail };
    double now[] = { rate_now(s->rate_ingest, &r->ingest), rate_now(s->rate_ok, &r->ok),
                     rate_now(s->rate_fail, &r->fail) };
    uv_rule(a, y, "Throughput (per second, last 5 min)");
    for (int i = 0; i < 3; i++) {
        char v[32];
        ui_fmt_rate(v, sizeof(v), now[i]);
        enum ui_style st = stale ? UI_S_DIM : i == 2 && now[i] > 0 ? UI_S_FAIL
                                            : i == 1 ? UI_S_OK : UI_S_NORMAL;
        uv_text(y + 1 + i, 2, 10, UI_S_NORMAL, names[i], 0);
        uv_text(y + 1 + i, 12, 10, st, v, 1);
        spark(a, y + 1 + i, 24, a->cols - 26, series[i], stale ? UI_S_DIM : st);
    }
}

static void figure(int y, int x, int w, const char *label, const char *value, enum ui_style st)
{
    uv_text(y, x, w - 8, UI_S_NORMAL, label, 0);
    uv_text(y, x + w - 8, 7, st, value, 1);
}

static void latency_and_work(const struct ui_app *a, int y, enum ui_style st)
{
    const struct ui_stats *s = &a->m.stats;
    char t[160], p[4][24], v[32];
    uv_rule(a, y, "Delivery latency (message to 2xx, scheduled attempts, last 60 s)");
    ui_fmt_ms(p[0], sizeof(p[0]), s->p50);
    ui_fmt_ms(p[1], sizeof(p[1]), s->p90);
    ui_fmt_ms(p[2], sizeof(p[2]), s->p99);
    ui_fmt_ms(p[3], sizeof(p[3]), s->max);
    if (s->p50 < 0 && s->max < 0)
        snprintf(t, sizeof(t), "no scheduled attempt succeeded in the last 60 s%s",
                 s->rate_ok > 0 ? " (replays are not timed)" : "");
    else
        snprintf(t, sizeof(t), "p50 %-10s  p90 %-10s  p99 %-10s  max %s", p[0], p[1], p[2],
                 p[3]);
    uv_text(y + 1, 2, a->cols - 4, st, t, 0);
    uv_rule(a, y + 2, "Work");
    int w = (a->cols - 4) / 3;
    ui_fmt_count(v, sizeof(v), s->inflight);
    figure(y + 3, 2, w, "in flight", v, st);
    ui_fmt_count(v, sizeof(v), s->pending);
    figure(y + 3, 2 + w, w, "pending", v, st);
    ui_fmt_count(v, sizeof(v), s->scheduled);
    figure(y + 3, 2 + 2 * w, w, "scheduled retries", v, st);
    ui_fmt_count(v, sizeof(v), s->held);
    figure(y + 4, 2, w, "held (paused/off)", v, s->held > 0 ? UI_S_WARN : st);
    double failed = s->failed_now >= 0 ? s->failed_now : s->failed_final;
    ui_fmt_count(v, sizeof(v), failed);
    figure(y + 4, 2 + w, w, "failed (final)", v, failed > 0 ? UI_S_FAIL : st);
    uv_text(y + 4, 2 + 2 * w + 2, w - 2, UI_S_DIM, failed > 0 ? "press 3 to review" : "", 0);
}

static void endpoints_line(const struct ui_app *a, int y)
{
    int n[UI_H_N] = { 0 };
    for (size_t i = 0; i < a->m.neps; i++)
        n[ui_endpoint_health(&a->m.eps[i])]++;
    uv_rule(a, y, "Endpoints");
    if (uv_missing(a, y + 1, &a->m.ep_res, "endpoints"))
        return;
    /* in the order of urgency, each word as the help explains it */
    static const enum ui_health order[] = { UI_H_OK, UI_H_ERRORS, UI_H_RETRY, UI_H_FAIL,
                                            UI_H_OFF, UI_H_PAUSED };
    static const char *const words[] = { [UI_H_OK] = "healthy", [UI_H_ERRORS] = "with errors",
                                         [UI_H_RETRY] = "retrying", [UI_H_FAIL] = "failing",
                                         [UI_H_OFF] = "disabled", [UI_H_PAUSED] = "paused" };
    int x = 2, gap = a->cols >= 100 ? 3 : 2;
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        enum ui_health h = order[k];
        char t[48];
        snprintf(t, sizeof(t), "%d %s", n[h], words[h]);
        uv_text(y + 1, x, ui_width(t), n[h] ? uv_health_style(h) : UI_S_DIM, t, 0);
        x += ui_width(t) + gap;
    }
    if (x + 20 < a->cols - 2)
        uv_text(y + 1, a->cols - 22, 20, UI_S_DIM, "press 2 for the list", 1);
}

/*
 * "   messages 12.4 M   oldest payload 29 d (kept 30 d)", without the
 * oldest when the server does not say, or "" from a server without the
 * figures; with short set, "oldest" stands for "oldest payload".
 */
static void stored_text(const struct ui_stats *s, int short_form, char *out, size_t n)
{
    char count[32], age[32], kept[32] = "", oldest[64] = "";
    out[0] = '\0';
    if (s->stored < 0)
        return;
    ui_fmt_count(count, sizeof(count), s->stored);
    if (s->payload_ret_s == 0)
        snprintf(kept, sizeof(kept), "for good");
    else if (s->payload_ret_s > 0)
        ui_fmt_age(kept, sizeof(kept), (int64_t)(s->payload_ret_s * 1000));
    if (s->oldest_payload_ms > 0) {
        ui_fmt_age(age, sizeof(age), clock_now_ms() - s->oldest_payload_ms);
        snprintf(oldest, sizeof(oldest), "   oldest%s %s", short_form ? "" : " payload", age);
    }
    if (!kept[0])
        snprintf(out, n, "   messages %s%s", count, oldest);
    else
        snprintf(out, n, "   messages %s%s (%skept %s)", count, oldest,
                 oldest[0] ? "" : "payloads ", kept);
}

/* "log 1.8 GiB of 64.0 GiB map (2%)" and what is stored, in a shorter
 * form where the long one would not fit in width columns. */
static void log_text(const struct ui_stats *s, int width, char *out, size_t n)
{
    char db[32], map[32], stored[160];
    ui_fmt_bytes(db, sizeof(db), s->db_bytes);
    ui_fmt_bytes(map, sizeof(map), s->map_bytes);
    for (int short_form = 0; short_form < 2; short_form++) {
        stored_text(s, short_form, stored, sizeof(stored));
        if (s->map_bytes > 0)
            snprintf(out, n, short_form ? "log %s/%s (%.0f%%)%s" : "log %s of %s map (%.0f%%)%s",
                     db, map, 100 * s->db_bytes / s->map_bytes, stored);
        else
            snprintf(out, n, "log %s%s", s->db_bytes >= 0 ? db : "-", stored);
        if (ui_width(out) <= width)
            return;
    }
}

static void store_line(const struct ui_app *a, int y, enum ui_style st)
{
    const struct ui_stats *s = &a->m.stats;
    char in[32], ok[32], failed[32], readers[32] = "", t[300];
    uv_rule(a, y, "Store and totals since start");
    log_text(s, a->cols - 4, t, sizeof(t));
    uv_text(y + 1, 2, a->cols - 4, st, t, 0);
    ui_fmt_count(in, sizeof(in), s->ingested);
    ui_fmt_count(ok, sizeof(ok), s->succeeded);
    ui_fmt_count(failed, sizeof(failed), s->failed);
    if (s->map_bytes > 0)
        snprintf(readers, sizeof(readers), "   readers %.0f", s->readers);
    snprintf(t, sizeof(t), "messages ingested %s   attempts ok %s   attempts failed %s%s", in, ok,
             failed, readers);
    uv_text(y + 2, 2, a->cols - 4, st, t, 0);
}

/* The newest failed attempts from the feed, in whatever rows are left. */
static void latest_failures(const struct ui_app *a, int y)
{
    int rows = a->rows - 2 - (y + 1);
    if (rows < 2)
        return;
    uv_rule(a, y, "Latest failed attempts   press 4 for the live feed");
    int k = 0;
    for (size_t i = a->m.nfeed; i-- > 0 && k < rows;) {
        const struct ui_feed_item *it = ui_model_feed_at(&a->m, i);
        if (it->ok)
            continue;
        const struct ui_endpoint *e = ui_model_endpoint(&a->m, it->ep_id);
        char when[32], code[16];
        struct buf b = BUF_INIT;
        ui_fmt_clock(when, sizeof(when), it->ts, clock_now_ms());
        snprintf(code, sizeof(code), it->status ? "%ld" : "-", it->status);
        int rest = a->cols - 46, urlw = rest * 3 / 5;
        ui_fit(&b, when, 9, 0);
        ui_fit(&b, code, 4, 1);
        buf_adds(&b, "  ");
        ui_fit(&b, ui_model_app_label(&a->m, it->app_id), 10, 0);
        buf_addc(&b, ' ');
        ui_fit(&b, it->event_type, 16, 0);
        buf_addc(&b, ' ');
        ui_fit_mid(&b, e ? uv_short_url(e->url) : it->ep_id, urlw);
        buf_addc(&b, ' ');
        ui_fit(&b, it->error, rest - urlw - 1, 0);
        uv_text(y + 1 + k++, 2, a->cols - 3, UI_S_NORMAL, b.data, 0);
        buf_release(&b);
    }
    if (!k)
        uv_text(y + 1, 2, a->cols - 4, UI_S_DIM, "none since the console started", 0);
}

void uv_overview(const struct ui_app *a)
{
    const struct ui_stats *s = &a->m.stats;
    char up[32], t[400];
    ui_fmt_uptime(up, sizeof(up), s->uptime_s);
    char node[160] = "";   /* in cluster mode, before the uptime: it matters more */
    if (s->cluster.on)
        snprintf(node, sizeof(node), "  node %s, %s", s->cluster.node_id, s->cluster.role);
    snprintf(t, sizeof(t), "hookd %s  %s%s  up %s", s->version[0] ? s->version : "?",
             uv_short_url(a->url), node, s->uptime_s >= 0 ? up : "?");
    uv_title(a, t, &a->m.stats_res);
    if (!a->m.stats_res.fetched_ms) {
        uv_missing(a, 2, &a->m.stats_res, "statistics (/hookd/v1/stats)");
        endpoints_line(a, 4);
        return;
    }
    int stale = uv_stale(a, &a->m.stats_res);
    enum ui_style st = stale ? UI_S_DIM : UI_S_NORMAL;
    throughput(a, 1, stale);
    latency_and_work(a, 5, st);
    endpoints_line(a, 10);
    int dy = uv_cluster_rows(a);   /* cluster mode: the nodes, below the endpoints */
    uv_cluster(a, 12, st);
    if (a->rows >= 19 + dy)
        store_line(a, 12 + dy, st);
    latest_failures(a, 15 + dy);
}
