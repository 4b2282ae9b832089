/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_app.c - what to fetch when, and what the answers mean (see ui_app.h;
 * filters and server actions are in ui_actions.c).
 *
 * Each kind of snapshot has a timer and at most one request out: a new
 * request supersedes the old one, whose late answer is dropped by id.
 * The stats poll doubles as the heartbeat: when it gets no answer the
 * console shows "disconnected", keeps the last snapshots with their age,
 * polls only the stats until the server is back and, when it was started
 * beside the server, re-reads the data directory in case the server came
 * back on another port or with another token.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "mem.h"
#include "ui_app.h"
#include "ui_fmt.h"
#include "ui_http.h"
#include "ui_tokens.h"

#define STALE_REQ_MS 10000   /* an answer this late is given up on */

void ui_app_init(struct ui_app *a, struct ui_http *http, int utf8)
{
    memset(a, 0, sizeof(*a));
    ui_model_init(&a->m, utf8);
    a->http = http;
    a->connected = 1;
    snprintf(a->failed_filter.status, sizeof(a->failed_filter.status), "fail");
}

void ui_app_release(struct ui_app *a)
{
    ui_http_free(a->http);
    ui_model_release(&a->m);
    free(a->ep_vis);
    free(a->failed_vis);
    free(a->feed_vis);
    memset(a, 0, sizeof(*a));
}

void ui_app_note(struct ui_app *a, int bad, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->note, sizeof(a->note), fmt, ap);
    va_end(ap);
    a->note_bad = bad;
    a->note_until = clock_mono_ms() + (bad ? 8000 : 5000);
}

static void ask(struct ui_app *a, enum ui_rq rq, const char *method, const char *path,
                const char *body, int64_t now)
{
    a->want[rq] = ui_http_submit(a->http, (int)rq, method, path, body);
    a->asked[rq] = now;
}

/* Time for another of rq: none out (or given up on) and the period has passed. */
static int due(const struct ui_app *a, enum ui_rq rq, int64_t now, int64_t period)
{
    if (a->want[rq] && now - a->asked[rq] < STALE_REQ_MS)
        return 0;
    return !a->asked[rq] || now - a->asked[rq] >= period;
}

static void failed_path(const struct ui_app *a, struct buf *b)
{
    const struct ui_filter *f = &a->failed_filter;
    buf_adds(b, "/hookd/v1/deliveries?limit=250");
    if (f->status[0] && strcmp(f->status, "any") != 0) {
        buf_adds(b, "&status=");
        ui_url_escape(b, f->status);
    }
    const char *app = f->app;
    for (size_t i = 0; app[0] && i < a->m.neps; i++)
        if (strcmp(a->m.eps[i].app_uid, app) == 0)
            app = a->m.eps[i].app_id;   /* the server may know apps by id only */
    if (app[0] && !strpbrk(app, "*?[")) {
        buf_adds(b, "&app_id=");
        ui_url_escape(b, app);
    }
    if (f->ep[0] && ui_model_endpoint(&a->m, f->ep)) {
        buf_adds(b, "&endpoint_id=");
        ui_url_escape(b, f->ep);
    }
    if (f->type[0] && !strpbrk(f->type, "*?[")) {
        buf_adds(b, "&event_type=");
        ui_url_escape(b, f->type);
    }
    if (f->since_ms) {
        char ts[CLOCK_RFC3339_MAX];
        clock_format(clock_now_ms() - f->since_ms, ts);
        buf_adds(b, "&after=");
        ui_url_escape(b, ts);
    }
}

static void detail_paths(const struct ui_app *a, enum ui_rq rq, struct buf *b)
{
    const struct ui_detail *d = &a->m.detail;
    buf_adds(b, "/api/v1/app/");
    ui_url_escape(b, d->app_id);
    if (rq == UI_RQ_MSG) {
        buf_adds(b, "/msg/");
        ui_url_escape(b, d->msg_id);
    } else if (rq == UI_RQ_ATT) {
        buf_adds(b, "/attempt/msg/");
        ui_url_escape(b, d->msg_id);
        buf_adds(b, "?limit=250&endpoint_id=");
        ui_url_escape(b, d->ep_id);
    } else {
        buf_adds(b, "/endpoint/");
        ui_url_escape(b, d->ep_id);
        buf_adds(b, "/headers");
    }
}

static void fetch_detail(struct ui_app *a, int force, int64_t now)
{
    struct buf b = BUF_INIT;
    if (!a->m.detail.msg_id)
        return;
    static const enum ui_rq rqs[] = { UI_RQ_MSG, UI_RQ_ATT, UI_RQ_HDRS };
    static const int64_t period[] = { 60000, 2000, 60000 };
    for (size_t i = 0; i < 3; i++) {
        if (!force && !due(a, rqs[i], now, period[i]))
            continue;
        buf_reset(&b);
        detail_paths(a, rqs[i], &b);
        ask(a, rqs[i], "GET", b.data, NULL, now);
    }
    buf_release(&b);
}

void ui_app_fetch(struct ui_app *a, int flags, int64_t now)
{
    if ((flags & UI_FETCH_STATS) || due(a, UI_RQ_STATS, now, 1000))
        ask(a, UI_RQ_STATS, "GET", "/hookd/v1/stats", NULL, now);
    if (!a->connected)
        return;   /* the stats poll finds out when the server is back */
    if (!a->hist_done && due(a, UI_RQ_HIST, now, 5000))
        ask(a, UI_RQ_HIST, "GET", "/hookd/v1/stats/history", NULL, now);
    if ((flags & UI_FETCH_EPS) || due(a, UI_RQ_EPS, now, 2000))
        ask(a, UI_RQ_EPS, "GET", "/hookd/v1/endpoints", NULL, now);
    int on_failed = a->screen == UI_SCR_FAILED;
    if ((flags & UI_FETCH_FAILED) || (on_failed && due(a, UI_RQ_FAILED, now, 2000))) {
        struct buf b = BUF_INIT;
        failed_path(a, &b);
        ask(a, UI_RQ_FAILED, "GET", b.data, NULL, now);
        buf_release(&b);
    }
    if ((flags & UI_FETCH_DETAIL) || a->screen == UI_SCR_DETAIL)
        fetch_detail(a, (flags & UI_FETCH_DETAIL) != 0, now);
    ui_tokens_fetch(a, (flags & UI_FETCH_TOKENS) != 0, now);
}

int ui_read_dir_line(const char *dir, const char *name, char *out, size_t n)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *ok = fgets(out, (int)n, f);
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return ok && out[0] ? 0 : -1;
}

/* The server went away: perhaps it is back elsewhere (a new port or token). */
static void retarget(struct ui_app *a)
{
    char listen[200], token[256], url[256];
    if (!a->from_dir || ui_read_dir_line(a->data_dir, "listen", listen, sizeof(listen)))
        return;
    /* DIR/listen is "host:port", or "https://host:port" when the server uses TLS */
    snprintf(url, sizeof(url), "%s%s", strstr(listen, "://") ? "" : "http://", listen);
    if (ui_read_dir_line(a->data_dir, "admin.token", token, sizeof(token)))
        snprintf(token, sizeof(token), "%s", a->token);
    if (strcmp(url, a->url) == 0 && strcmp(token, a->token) == 0)
        return;
    snprintf(a->url, sizeof(a->url), "%s", url);
    snprintf(a->token, sizeof(a->token), "%s", token);
    ui_http_set_target(a->http, a->url, a->token);
}

/* The stats answer is the heartbeat. */
static void on_stats(struct ui_app *a, struct ui_resp *r, int64_t now)
{
    if (r->status == 0) {
        if (a->connected)
            a->down_since = now;
        a->connected = 0;
        snprintf(a->down_error, sizeof(a->down_error), "%s", r->error);
        retarget(a);
        return;
    }
    if (!a->connected)
        a->asked[UI_RQ_EPS] = a->asked[UI_RQ_FAILED] = 0;   /* catch up at once */
    a->connected = 1;
    a->auth_failed = r->status == 401;
    if (r->status == 401)
        retarget(a);
    if (r->status == 200 && ui_model_stats(&a->m, r->body, now) == 0)
        ui_res_ok(&a->m.stats_res, now);
    else
        ui_res_fail(&a->m.stats_res, r->status, r->status == 200 ? "unreadable answer" : NULL);
}

/* Apply a snapshot answer with parser fn to resource res. */
static void on_snapshot(struct ui_app *a, struct ui_resp *r, struct ui_res *res,
                        int (*fn)(struct ui_model *, const char *), int64_t now)
{
    if (r->status == 200 && fn(&a->m, r->body) == 0) {
        ui_res_ok(res, now);
        return;
    }
    char *detail = ui_model_error_detail(r->body);
    ui_res_fail(res, r->status, r->status == 0 ? r->error
                                : detail ? detail : r->status == 200 ? "unreadable answer" : "");
    free(detail);
}

static void on_feed(struct ui_app *a, struct ui_resp *r, int64_t now)
{
    if (r->status == 200 && ui_model_feed(&a->m, r->body) >= 0) {
        ui_res_ok(&a->m.feed_res, now);
        return;
    }
    ui_res_fail(&a->m.feed_res, r->status, r->status ? NULL : r->error);
}

/* Replay and endpoint actions: say how it went, refresh what changed. */
static void on_action(struct ui_app *a, struct ui_resp *r, enum ui_rq rq, int64_t now)
{
    int good = r->status >= 200 && r->status < 300;
    if (good && rq == UI_RQ_REPLAY) {
        json_t *o = json_loads(r->body, 0, NULL);
        const char *detail = json_string_value(json_object_get(o, "detail"));
        long long n = json_integer_value(json_object_get(o, "queued"));
        size_t skipped = ui_model_replay_answer(&a->m, r->body);
        json_t *first = json_array_get(json_object_get(o, "skippedDeliveries"), 0);
        if (skipped)
            ui_app_note(a, 1, "replay queued for %lld deliver%s; %zu not sent: %s", n,
                        n == 1 ? "y" : "ies", skipped,
                        ui_skip_words(json_string_value(json_object_get(first, "reason"))));
        else
            ui_app_note(a, 0, "replay queued for %lld deliver%s%s%s", n, n == 1 ? "y" : "ies",
                        detail ? "; " : "", detail ? detail : "");
        json_decref(o);
        a->asked[UI_RQ_FAILED] = a->asked[UI_RQ_ATT] = 0;
    } else if (good && rq == UI_RQ_MISSING) {
        json_t *o = json_loads(r->body, 0, NULL);
        const char *id = json_string_value(json_object_get(o, "id"));
        ui_app_note(a, 0, "replay of the missed messages started (task %s); they are sent once "
                    "the endpoint is enabled", id ? id : "?");
        json_decref(o);
        a->asked[UI_RQ_EPS] = 0;
    } else if (good) {
        a->asked[UI_RQ_EPS] = 0;
        if (a->act_done[0])
            ui_app_note(a, 0, "%s", a->act_done);
        a->act_done[0] = '\0';
    } else {
        char *detail = ui_model_error_detail(r->body);
        ui_app_note(a, 1, "%s failed: %s", rq == UI_RQ_REPLAY ? "replay" : "the change",
                    r->status == 0 ? r->error : detail ? detail : "server error");
        free(detail);
        for (size_t i = 0; rq == UI_RQ_REPLAY && i < a->m.nfailed; i++)
            if (a->m.failed[i].track == UI_T_QUEUED)
                a->m.failed[i].track = UI_T_NONE;
    }
    (void)now;
}

/* "would send 18: 2 failed, 16 already succeeded" from a replay's dry run. */
static void dry_counts(char *out, size_t n, const char *body)
{
    static const char *const names[][2] = {
        { "fail", "failed" }, { "success", "already succeeded" }, { "pending", "pending" },
        { "sending", "retrying" }, { "held", "held" },
    };
    json_t *o = json_loads(body, 0, NULL), *by = json_object_get(o, "byStatus");
    long long total = json_integer_value(json_object_get(o, "wouldQueue"));
    long long skipped = json_integer_value(json_object_get(o, "skipped"));
    size_t len = (size_t)snprintf(out, n, total ? "the server would send %lld:" :
                                  "the server would send nothing", total);
    const char *sep = " ";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && len < n; i++) {
        long long c = json_integer_value(json_object_get(by, names[i][0]));
        if (c) {
            len += (size_t)snprintf(out + len, n - len, "%s%lld %s", sep, c, names[i][1]);
            sep = ", ";
        }
    }
    if (skipped && len < n)
        snprintf(out + len, n - len, "; %lld cannot be sent", skipped);
    json_decref(o);
}

static void on_dry(struct ui_app *a, struct ui_resp *r)
{
    if (a->modal != UI_MODAL_CONFIRM || a->confirm == UI_CF_DISABLE)
        return;
    if (r->status == 200) {
        dry_counts(a->confirm_counts, sizeof(a->confirm_counts), r->body);
        return;
    }
    char *detail = ui_model_error_detail(r->body);
    snprintf(a->confirm_counts, sizeof(a->confirm_counts), "the server could not count them: %.200s",
             r->status == 0 ? r->error : detail ? detail : "server error");
    free(detail);
}

int ui_app_on_resp(struct ui_app *a, struct ui_resp *r, int64_t now)
{
    ui_app_remember(a);
    if (r->tag == UI_TAG_FEED) {
        on_feed(a, r, now);
        ui_app_refilter(a);
        return UI_DRAW;
    }
    enum ui_rq rq = (enum ui_rq)r->tag;
    if (rq == UI_RQ_TOKENS || rq == UI_RQ_TOKREV)
        return ui_tokens_on_resp(a, r, now);
    if (rq == UI_RQ_REPLAY || rq == UI_RQ_EPACT || rq == UI_RQ_MISSING) {
        on_action(a, r, rq, now);
        return UI_DRAW;
    }
    if (rq >= UI_RQ_N || r->id != a->want[rq])
        return 0;   /* superseded */
    if (rq == UI_RQ_DRY) {
        a->want[rq] = 0;
        on_dry(a, r);
        return UI_DRAW;
    }
    a->want[rq] = 0;
    struct ui_detail *d = &a->m.detail;
    switch (rq) {
    case UI_RQ_STATS: on_stats(a, r, now); break;
    case UI_RQ_EPS: on_snapshot(a, r, &a->m.ep_res, ui_model_endpoints, now); break;
    case UI_RQ_FAILED: on_snapshot(a, r, &a->m.failed_res, ui_model_failed, now); break;
    case UI_RQ_MSG: on_snapshot(a, r, &d->msg_res, ui_model_detail_msg, now); break;
    case UI_RQ_ATT: on_snapshot(a, r, &d->att_res, ui_model_detail_attempts, now); break;
    case UI_RQ_HIST:
        /* once: a server without the call (404) or a body we cannot read is not asked again */
        a->hist_done = r->status != 0;
        if (r->status == 200)
            ui_model_history(&a->m, r->body);
        break;
    case UI_RQ_HDRS: {
        struct ui_res ignored = { 0 };
        on_snapshot(a, r, &ignored, ui_model_detail_headers, now);
        break;
    }
    default: break;
    }
    ui_app_refilter(a);
    return UI_DRAW;
}

int ui_app_list_rows(const struct ui_app *a)
{
    /* title, column heads, note line, footer */
    int n = a->rows - 4;
    return n < 1 ? 1 : n;
}
