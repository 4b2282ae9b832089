/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_view_lists.c - the three list screens: endpoints (2), failed
 * deliveries (3) and the live feed (4).
 *
 * Columns have fixed widths except the flexible ones (URLs, ids), which
 * share what the terminal has left, so the same screen reads at 80
 * columns and at 200. The row under the cursor is drawn in reverse; its
 * full error text goes to the note line, where it is not cut short.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "ui_fmt.h"
#include "ui_views_int.h"

#define MAXCOLS 10

struct col {
    const char *head;
    int w;           /* fixed width, or the flexible share when flex */
    int right, flex;
    int mid;         /* cut in the middle (URLs: their ends tell them apart) */
};

/* Resolve flexible widths so that the columns fill cols; x positions into xs. */
static void layout(struct col *c, int n, int cols, int *xs)
{
    int fixed = n - 1, shares = 0;
    for (int i = 0; i < n; i++) {
        fixed += c[i].flex ? 0 : c[i].w;
        shares += c[i].flex ? c[i].w : 0;
    }
    int room = cols - 1 - fixed, x = 1;
    for (int i = 0; i < n; i++) {
        if (c[i].flex)
            c[i].w = room > 0 ? room * c[i].w / shares : 0;
        xs[i] = x;
        x += c[i].w + 1;
    }
}

static void heads(const struct ui_app *a, int y, const struct col *c, int n, const int *xs)
{
    ui_term_fill(y, 0, a->cols, UI_S_HEAD);
    for (int i = 0; i < n; i++)
        uv_text(y, xs[i], c[i].w, UI_S_HEAD, c[i].head, c[i].right);
}

static void row(const struct ui_app *a, int y, const struct col *c, int n, const int *xs,
                char cells[][160], const enum ui_style *st, int cursor)
{
    if (cursor)
        ui_term_fill(y, 0, a->cols, UI_S_CURSOR);
    for (int i = 0; i < n; i++) {
        struct buf b = BUF_INIT;
        ui_escape(&b, cells[i], strlen(cells[i]), a->m.utf8, 1);
        if (c[i].mid) {
            struct buf f = BUF_INIT;
            ui_fit_mid(&f, b.data, c[i].w);
            if (f.data)
                ui_term_put(y, xs[i], cursor ? UI_S_CURSOR : st[i], f.data);
            buf_release(&f);
        } else {
            uv_text(y, xs[i], c[i].w, cursor ? UI_S_CURSOR : st[i], b.data, c[i].right);
        }
        buf_release(&b);
    }
}

/* The full error of the row under the cursor, on the note line. */
static void cursor_error(const struct ui_app *a, const char *label, const char *err)
{
    if (!err || !err[0])
        return;
    char t[600];
    snprintf(t, sizeof(t), " %s: %s", label, err);
    uv_text(a->rows - 2, 0, a->cols, UI_S_DIM, t, 0);
}

/* --- endpoints --- */

/* "by the operator 2 min ago; 5 messages missed (M replays them)", for a disabled endpoint. */
static void disabled_text(const struct ui_endpoint *e, char *out, size_t n)
{
    const char *r = e->disabled_reason;
    const char *why = !r || !r[0] ? "disabled" : strcmp(r, "operator") == 0 ? "by the operator"
                      : strcmp(r, "http_410") == 0 ? "by a 410 Gone"
                      : strcmp(r, "failures") == 0 ? "after failing too long" : r;
    char age[32] = "";
    size_t len;
    if (e->disabled_at)
        ui_fmt_age(age, sizeof(age), clock_now_ms() - e->disabled_at);
    len = (size_t)snprintf(out, n, "off %s%s%s", why, age[0] ? " " : "", age);
    if (age[0] && len < n)
        len += (size_t)snprintf(out + len, n - len, " ago");
    if (e->missed >= 0 && len < n)
        snprintf(out + len, n - len, "; %s%.0f missed (not held; M replays)",
                 e->missed_capped ? "over " : "", e->missed);
}

static void ep_cells(const struct ui_app *a, const struct ui_endpoint *e, char cells[][160],
                     enum ui_style *st)
{
    enum ui_health h = ui_endpoint_health(e);
    double pct = ui_endpoint_ok_pct(e);
    char when[32], age[32];
    snprintf(cells[0], 160, "%s", uv_health_word(h));
    snprintf(cells[1], 160, "%s", ui_model_app_label(&a->m, e->app_id));
    snprintf(cells[2], 160, "%s", uv_short_url(e->url));
    snprintf(cells[3], 160, pct < 0 ? "-" : "%.1f", pct);
    ui_fmt_count(cells[4], 160, e->backlog);
    ui_fmt_count(cells[5], 160, e->inflight);
    ui_fmt_age(age, sizeof(age), clock_now_ms() - e->last_at);
    snprintf(when, sizeof(when), e->last_status > 0 ? "%ld" : "-", e->last_status);
    snprintf(cells[6], 160, e->last_at ? "%s %s ago" : "-", when, age);
    snprintf(cells[7], 160, "%s", e->last_error);
    if (e->disabled)
        disabled_text(e, cells[7], 160);
    for (int i = 0; i < 8; i++)
        st[i] = i == 0 ? uv_health_style(h) : UI_S_NORMAL;
    st[3] = pct >= 0 && pct < 95 ? UI_S_WARN : UI_S_NORMAL;
    st[7] = UI_S_FAIL;
}

void uv_endpoints(const struct ui_app *a)
{
    static const char *const sorts[] = { "health", "backlog", "app", "url", "last attempt" };
    char t[600];
    snprintf(t, sizeof(t), "Endpoints (%zu)   sort: %s   filter: %s", a->nep_vis,
             sorts[a->ep_sort], a->ep_filter_text[0] ? a->ep_filter_text : "none");
    uv_title(a, t, &a->m.ep_res);
    /* narrow terminals: tighter fixed columns, so the error keeps a column of its own */
    int wide = a->cols >= 100;
    struct col c[] = { { "STATE", 6, 0, 0, 0 }, { "APP", wide ? 12 : 8, 0, 0, 0 },
                       { "ENDPOINT", wide ? 2 : 3, 0, 1, 1 }, { "OK%5m", wide ? 6 : 5, 1, 0, 0 },
                       { wide ? "BACKLOG" : "BACKLG", wide ? 8 : 6, 1, 0, 0 },
                       { "INFLT", 5, 1, 0, 0 }, { "LAST", wide ? 14 : 13, 0, 0, 0 },
                       { "ERROR", wide ? 1 : 2, 0, 1, 0 } };
    int n = 8, xs[MAXCOLS], rows = ui_app_list_rows(a);
    layout(c, n, a->cols, xs);
    heads(a, 1, c, n, xs);
    if (!a->m.ep_res.fetched_ms && uv_missing(a, 2, &a->m.ep_res, "endpoints (/hookd/v1/endpoints)"))
        return;
    if (!a->nep_vis)
        uv_text(2, 0, a->cols, UI_S_DIM, a->m.neps ? "  no endpoint matches the filter"
                                                   : "  no endpoints yet", 0);
    int top = uv_top(&a->ep_cur, (int)a->nep_vis, rows);
    for (int i = 0; i < rows && top + i < (int)a->nep_vis; i++) {
        char cells[8][160];
        enum ui_style st[8];
        const struct ui_endpoint *e = &a->m.eps[a->ep_vis[top + i]];
        ep_cells(a, e, cells, st);
        row(a, 2 + i, c, n, xs, cells, st, top + i == a->ep_cur.cur);
        if (top + i == a->ep_cur.cur && e->disabled) {
            char off[200];
            disabled_text(e, off, sizeof(off));
            cursor_error(a, "disabled", off + 4);
        } else if (top + i == a->ep_cur.cur) {
            cursor_error(a, "last error", e->last_error);
        }
    }
}

/* --- failed deliveries --- */

static void last_cell(const struct ui_delivery *d, char *out, enum ui_style *st)
{
    *st = UI_S_FAIL;
    if (d->track == UI_T_QUEUED) {
        snprintf(out, 160, "replaying");
        *st = UI_S_WARN;
    } else if (d->track == UI_T_SKIPPED) {
        snprintf(out, 160, "not sent");
    } else if (d->track == UI_T_OK) {
        snprintf(out, 160, "ok %ld", d->track_status);
        *st = UI_S_OK;
    } else if (d->track == UI_T_FAIL) {
        snprintf(out, 160, "FAIL %ld", d->track_status);
    } else if (strcmp(d->status, "success") == 0) {
        snprintf(out, 160, d->last_status > 0 ? "ok %ld" : "ok", d->last_status);
        *st = UI_S_OK;
    } else if (strcmp(d->status, "fail") != 0) {
        /* the list's "sending" is a delivery whose retry is scheduled */
        snprintf(out, 160, "%s", strcmp(d->status, "sending") == 0 ? "retrying" : d->status);
        *st = UI_S_WARN;
    } else if (d->last_status > 0) {
        snprintf(out, 160, "FAIL %ld", d->last_status);
    } else {
        snprintf(out, 160, "%s", d->last_error[0] ? d->last_error : "FAIL");
    }
}

static void failed_cells(const struct ui_app *a, const struct ui_delivery *d, char cells[][160],
                         enum ui_style *st)
{
    const struct ui_endpoint *e = ui_model_endpoint(&a->m, d->ep_id);
    snprintf(cells[0], 160, "%s", d->marked ? "*" : "");
    ui_fmt_clock(cells[1], 160, d->updated_at, clock_now_ms());
    snprintf(cells[2], 160, "%s", ui_model_app_label(&a->m, d->app_id));
    snprintf(cells[3], 160, "%s", d->event_type);
    snprintf(cells[4], 160, "%s", d->msg_id);
    snprintf(cells[5], 160, "%s", e ? uv_short_url(e->url) : d->ep_id);
    snprintf(cells[6], 160, "%ld", d->attempts);
    for (int i = 0; i < 7; i++)
        st[i] = UI_S_NORMAL;
    st[0] = UI_S_MARK;
    last_cell(d, cells[7], &st[7]);
    if (d->marked)
        st[4] = UI_S_MARK;
}

static void failed_title(const struct ui_app *a)
{
    char t[600], count[32];
    const struct ui_filter *f = &a->failed_filter;
    const struct ui_endpoint *de = a->drill ? ui_model_endpoint(&a->m, a->drill_ep) : NULL;
    snprintf(count, sizeof(count), "%zu%s", a->nfailed_vis, a->m.failed_done ? "" : "+");
    if (a->drill)
        snprintf(t, sizeof(t), "Deliveries to %s (%s)   Esc: back", de ? uv_short_url(de->url)
                 : a->drill_ep, count);
    else if (strcmp(f->status, "fail") == 0)
        snprintf(t, sizeof(t), "Failed deliveries (%s)", count);
    else
        snprintf(t, sizeof(t), "Deliveries, status %s (%s)", f->status, count);
    size_t marked = ui_app_count_marked(a), len = strlen(t), ok = 0;
    for (size_t i = 0; i < a->nfailed_vis; i++)
        ok += a->m.failed[a->failed_vis[i]].track == UI_T_OK;
    if (ok) {
        snprintf(t + len, sizeof(t) - len, ", %zu replayed ok", ok);
        len = strlen(t);
    }
    if (!a->drill || strcmp(f->status, "any") || f->text[0] || f->app[0] || f->type[0]
        || f->since_ms)
        snprintf(t + len, sizeof(t) - len, "   filter: %s",
                 a->failed_filter_text[0] ? a->failed_filter_text : "none");
    if (marked) {
        len = strlen(t);
        snprintf(t + len, sizeof(t) - len, "   marked %zu", marked);
    }
    struct buf b = BUF_INIT;
    ui_escape(&b, t, strlen(t), a->m.utf8, 1);
    uv_title(a, b.data, &a->m.failed_res);
    buf_release(&b);
}

void uv_failed(const struct ui_app *a)
{
    failed_title(a);
    int wide = a->cols >= 100;
    struct col c[] = { { "", 1, 0, 0, 0 }, { "WHEN", 8, 0, 0, 0 },
                       { "APP", wide ? 10 : 8, 0, 0, 0 }, { "EVENT TYPE", wide ? 15 : 12, 0, 0, 0 },
                       { "MESSAGE", wide ? 4 : 2, 0, 1, 0 },
                       { "ENDPOINT", 5, 0, 1, 1 }, { "TRIES", 5, 1, 0, 0 },
                       { "LAST", wide ? 12 : 10, 0, 0, 0 } };
    int xs[MAXCOLS], rows = ui_app_list_rows(a);
    layout(c, 8, a->cols, xs);
    heads(a, 1, c, 8, xs);
    if (!a->m.failed_res.fetched_ms
        && uv_missing(a, 2, &a->m.failed_res, "deliveries (/hookd/v1/deliveries)"))
        return;
    if (!a->nfailed_vis)
        uv_text(2, 0, a->cols, UI_S_OK, "  nothing failed (with this filter)", 0);
    int top = uv_top(&a->failed_cur, (int)a->nfailed_vis, rows);
    for (int i = 0; i < rows && top + i < (int)a->nfailed_vis; i++) {
        char cells[8][160];
        enum ui_style st[8];
        const struct ui_delivery *d = &a->m.failed[a->failed_vis[top + i]];
        failed_cells(a, d, cells, st);
        row(a, 2 + i, c, 8, xs, cells, st, top + i == a->failed_cur.cur);
        if (top + i == a->failed_cur.cur && d->track == UI_T_SKIPPED)
            cursor_error(a, "not sent: the server skipped it", ui_skip_words(d->track_why));
        else if (top + i == a->failed_cur.cur)
            cursor_error(a, d->msg_id, d->last_error);
    }
}

/* --- live feed --- */

static void feed_cells(const struct ui_app *a, const struct ui_feed_item *it, char cells[][160],
                       enum ui_style *st)
{
    const struct ui_endpoint *e = ui_model_endpoint(&a->m, it->ep_id);
    ui_fmt_clock_ms(cells[0], 160, it->ts);
    snprintf(cells[1], 160, "%s", it->ok ? "ok" : "FAIL");
    snprintf(cells[2], 160, it->status ? "%ld" : "-", it->status);
    ui_fmt_ms(cells[3], 160, (double)it->duration_ms);
    snprintf(cells[4], 160, "%s", it->manual ? "manual" : "");
    snprintf(cells[5], 160, "%s", ui_model_app_label(&a->m, it->app_id));
    snprintf(cells[6], 160, "%s", it->event_type);
    snprintf(cells[7], 160, "%s", it->msg_id);
    snprintf(cells[8], 160, "%s", e ? uv_short_url(e->url) : it->ep_id);
    for (int i = 0; i < 9; i++)
        st[i] = UI_S_NORMAL;
    st[1] = st[2] = it->ok ? UI_S_OK : UI_S_FAIL;
}

void uv_feed(const struct ui_app *a)
{
    char t[400];
    snprintf(t, sizeof(t), "Live feed (%s)   filter: %s",
             a->feed_paused ? "PAUSED; space follows again" : "following; space pauses",
             a->feed_filter_text[0] ? a->feed_filter_text : "none");
    uv_title(a, t, &a->m.feed_res);
    int wide = a->cols >= 100;
    struct col c[] = { { "TIME", 12, 0, 0, 0 }, { "STATE", 5, 0, 0, 0 }, { "CODE", 4, 1, 0, 0 },
                       { "TOOK", 7, 1, 0, 0 }, { "TRIG", 6, 0, 0, 0 },
                       { "APP", wide ? 10 : 8, 0, 0, 0 }, { "EVENT TYPE", wide ? 14 : 12, 0, 0, 0 },
                       { "MESSAGE", 2, 0, 1, 0 }, { "ENDPOINT", wide ? 3 : 4, 0, 1, 1 } };
    int xs[MAXCOLS], rows = ui_app_list_rows(a);
    layout(c, 9, a->cols, xs);
    heads(a, 1, c, 9, xs);
    if (!a->m.feed_res.fetched_ms && uv_missing(a, 2, &a->m.feed_res, "feed (/hookd/v1/feed)"))
        return;
    if (!a->nfeed_vis)
        uv_text(2, 0, a->cols, UI_S_DIM, "  waiting for attempts...", 0);
    int top = uv_top(&a->feed_cur, (int)a->nfeed_vis, rows);
    for (int i = 0; i < rows && top + i < (int)a->nfeed_vis; i++) {
        char cells[9][160];
        enum ui_style st[9];
        const struct ui_feed_item *it = ui_model_feed_at(&a->m, a->feed_vis[top + i]);
        feed_cells(a, it, cells, st);
        row(a, 2 + i, c, 9, xs, cells, st, top + i == a->feed_cur.cur);
        if (top + i == a->feed_cur.cur)
            cursor_error(a, "error", it->error);
    }
}
