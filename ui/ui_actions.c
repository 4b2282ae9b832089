/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_actions.c - filters, the visible rows of each list, and the actions
 * that change things on the server (see ui_app.h).
 *
 * A filter is typed as words: "app=acme ep=billing type=invoice.* since=1h".
 * What the server can filter on exactly goes into the request; globs and
 * substrings (an endpoint named by part of its URL) are applied here too,
 * so the rows shown always match the filter as typed. Replaying "all
 * filtered" therefore sends the rows themselves when the whole list is
 * loaded, and the server-side filter only when there are more rows than
 * one page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "mem.h"
#include "ui_app.h"
#include "ui_fmt.h"
#include "ui_http.h"

static int set_word(char *dst, size_t n, const char *v, char *err, size_t errlen,
                    const char *key)
{
    if (!v[0] || strlen(v) >= n) {
        snprintf(err, errlen, "filter '%s' needs a value", key);
        return -1;
    }
    snprintf(dst, n, "%s", v);
    return 0;
}

static int parse_code(struct ui_filter *f, const char *op, const char *v, char *err,
                      size_t errlen)
{
    char *end;
    long c = strtol(v, &end, 10);
    if (*end || c < 0 || c > 999) {
        snprintf(err, errlen, "'%s' is not a status code", v);
        return -1;
    }
    if (!strcmp(op, ">=") || !strcmp(op, "="))
        f->code_min = (int)c;
    if (!strcmp(op, ">"))
        f->code_min = (int)c + 1;
    if (!strcmp(op, "<"))
        f->code_max = (int)c - 1;
    if (!strcmp(op, "<=") || !strcmp(op, "="))
        f->code_max = (int)c;
    return 0;
}

static int parse_term(struct ui_filter *f, const char *w, char *err, size_t errlen)
{
    size_t k = strcspn(w, "=<>");
    if (!w[k]) {
        if (!strcmp(w, "ok") || !strcmp(w, "fail") || !strcmp(w, "failed"))
            f->want_ok = w[0] == 'o' ? 1 : -1;
        else
            snprintf(f->text, sizeof(f->text), "%s", w);
        return 0;
    }
    char key[32], op[3] = { 0 };
    snprintf(key, sizeof(key), "%.*s", (int)(k < 31 ? k : 31), w);
    size_t o = strspn(w + k, "=<>");
    memcpy(op, w + k, o < 2 ? o : 2);
    const char *v = w + k + o;
    if ((!strcmp(key, "status") || !strcmp(key, "code")) && (strcmp(op, "=") || !strcmp(key, "code")
                                                           || (v[0] >= '0' && v[0] <= '9')))
        return parse_code(f, op, v, err, errlen);
    if (strcmp(op, "=") != 0) {
        snprintf(err, errlen, "'%s' takes '=' (like %s=value)", key, key);
        return -1;
    }
    if (!strcmp(key, "app"))
        return set_word(f->app, sizeof(f->app), v, err, errlen, key);
    if (!strcmp(key, "ep") || !strcmp(key, "endpoint"))
        return set_word(f->ep, sizeof(f->ep), v, err, errlen, key);
    if (!strcmp(key, "type") || !strcmp(key, "event"))
        return set_word(f->type, sizeof(f->type), v, err, errlen, key);
    if (!strcmp(key, "status"))
        return set_word(f->status, sizeof(f->status), v, err, errlen, key);
    if (!strcmp(key, "since")) {
        if (clock_parse_duration(v, &f->since_ms) == 0 && f->since_ms > 0)
            return 0;
        snprintf(err, errlen, "'since=%s' is not a duration (like 30m, 2h, 7d)", v);
        return -1;
    }
    snprintf(err, errlen, "unknown filter '%s' (try app=, ep=, type=, since=, status=)", key);
    return -1;
}

int ui_filter_parse(struct ui_filter *f, const char *text, int64_t now_ms, char *err,
                    size_t errlen)
{
    struct ui_filter nf = { 0 };
    char *copy = xstrdup(text), *save = NULL;
    int rc = 0;
    for (char *w = strtok_r(copy, " \t", &save); w && !rc; w = strtok_r(NULL, " \t", &save))
        rc = parse_term(&nf, w, err, errlen);
    free(copy);
    (void)now_ms;
    if (!rc)
        *f = nf;
    return rc;
}

static int has(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

static int match_app(const struct ui_filter *f, const struct ui_model *m, const char *app_id)
{
    return !f->app[0] || ui_glob(f->app, app_id) || ui_glob(f->app, ui_model_app_label(m, app_id));
}

static int match_ep(const struct ui_filter *f, const struct ui_model *m, const char *ep_id)
{
    if (!f->ep[0] || strcmp(f->ep, ep_id) == 0)
        return 1;
    const struct ui_endpoint *e = ui_model_endpoint(m, ep_id);
    return !ui_model_endpoint(m, f->ep) && e && has(e->url, f->ep);
}

/* Free text against what a row shows besides ids: the app's name and the endpoint's URL. */
static int shown_match(const struct ui_filter *f, const struct ui_model *m, const char *app_id,
                       const char *ep_id)
{
    const struct ui_endpoint *e = ui_model_endpoint(m, ep_id);
    return has(app_id, f->text) || has(ui_model_app_label(m, app_id), f->text)
           || has(ep_id, f->text) || (e && has(e->url, f->text));
}

int ui_filter_delivery(const struct ui_filter *f, const struct ui_model *m,
                       const struct ui_delivery *d)
{
    if (!match_app(f, m, d->app_id) || !match_ep(f, m, d->ep_id))
        return 0;
    if (f->type[0] && !ui_glob(f->type, d->event_type))
        return 0;
    return !f->text[0] || has(d->msg_id, f->text) || has(d->event_type, f->text)
           || has(d->last_error, f->text) || shown_match(f, m, d->app_id, d->ep_id);
}

int ui_filter_feed(const struct ui_filter *f, const struct ui_model *m,
                   const struct ui_feed_item *it)
{
    if (!match_app(f, m, it->app_id) || !match_ep(f, m, it->ep_id))
        return 0;
    if ((f->type[0] && !ui_glob(f->type, it->event_type))
        || (f->code_min && it->status < f->code_min) || (f->code_max && it->status > f->code_max)
        || (f->want_ok == 1 && !it->ok) || (f->want_ok == -1 && it->ok)
        || (f->since_ms && it->ts < clock_now_ms() - f->since_ms))
        return 0;
    return !f->text[0] || has(it->msg_id, f->text) || has(it->event_type, f->text)
           || has(it->error, f->text) || shown_match(f, m, it->app_id, it->ep_id);
}

/* --- visible rows --- */

static int health_rank(const struct ui_endpoint *e)
{
    static const int rank[] = { [UI_H_OK] = 0, [UI_H_ERRORS] = 1, [UI_H_PAUSED] = 2,
                                [UI_H_RETRY] = 3, [UI_H_OFF] = 4, [UI_H_FAIL] = 5 };
    return rank[ui_endpoint_health(e)];
}

static int cmp_num(double a, double b)
{
    return a < b ? -1 : a > b;
}

static int ep_cmp(const void *x, const void *y, void *arg)
{
    const struct ui_app *a = arg;
    const struct ui_endpoint *p = &a->m.eps[*(const size_t *)x], *q = &a->m.eps[*(const size_t *)y];
    int c = 0;
    switch (a->ep_sort) {
    case UI_SORT_FAILURE:
        c = cmp_num(health_rank(q), health_rank(p));
        if (!c)
            c = cmp_num(ui_endpoint_ok_pct(p), ui_endpoint_ok_pct(q));
        break;
    case UI_SORT_BACKLOG: c = cmp_num(q->backlog, p->backlog); break;
    case UI_SORT_APP:
        c = strcmp(ui_model_app_label(&a->m, p->app_id), ui_model_app_label(&a->m, q->app_id));
        break;
    case UI_SORT_URL: c = strcmp(p->url, q->url); break;
    default: c = cmp_num((double)q->last_at, (double)p->last_at); break;
    }
    return c ? c : strcmp(p->id, q->id);
}

static int ep_visible(const struct ui_app *a, const struct ui_endpoint *e)
{
    const struct ui_filter *f = &a->ep_filter;
    const char *label = ui_model_app_label(&a->m, e->app_id);
    if (!match_app(f, &a->m, e->app_id) || (f->ep[0] && !has(e->url, f->ep)
                                             && strcmp(f->ep, e->id)))
        return 0;
    return !f->text[0] || has(e->url, f->text) || has(label, f->text) || has(e->id, f->text);
}

/* Keep the cursor on the same row id (or in range) after the rows changed. */
static void keep_cursor(struct ui_cursor *c, size_t n, long found)
{
    if (found >= 0)
        c->cur = (int)found;
    if (c->cur >= (int)n)
        c->cur = n ? (int)n - 1 : 0;
    if (c->cur < 0)
        c->cur = 0;
}

void ui_app_remember(struct ui_app *a)
{
    a->keep_ep[0] = a->keep_msg[0] = a->keep_dep[0] = '\0';
    if (a->ep_cur.cur < (int)a->nep_vis && a->ep_vis[a->ep_cur.cur] < a->m.neps)
        snprintf(a->keep_ep, sizeof(a->keep_ep), "%s", a->m.eps[a->ep_vis[a->ep_cur.cur]].id);
    if (a->failed_cur.cur < (int)a->nfailed_vis
        && a->failed_vis[a->failed_cur.cur] < a->m.nfailed) {
        const struct ui_delivery *d = &a->m.failed[a->failed_vis[a->failed_cur.cur]];
        snprintf(a->keep_msg, sizeof(a->keep_msg), "%s", d->msg_id);
        snprintf(a->keep_dep, sizeof(a->keep_dep), "%s", d->ep_id);
    }
}

static void refilter_eps(struct ui_app *a)
{
    free(a->ep_vis);
    a->ep_vis = xcalloc(a->m.neps, sizeof(size_t));
    a->nep_vis = 0;
    for (size_t i = 0; i < a->m.neps; i++)
        if (ep_visible(a, &a->m.eps[i]))
            a->ep_vis[a->nep_vis++] = i;
    qsort_r(a->ep_vis, a->nep_vis, sizeof(size_t), ep_cmp, a);
    long found = -1;
    for (size_t i = 0; a->keep_ep[0] && i < a->nep_vis && found < 0; i++)
        if (!strcmp(a->m.eps[a->ep_vis[i]].id, a->keep_ep))
            found = (long)i;
    keep_cursor(&a->ep_cur, a->nep_vis, found);
}

static void refilter_failed(struct ui_app *a)
{
    free(a->failed_vis);
    a->failed_vis = xcalloc(a->m.nfailed, sizeof(size_t));
    a->nfailed_vis = 0;
    long found = -1;
    for (size_t i = 0; i < a->m.nfailed; i++) {
        const struct ui_delivery *d = &a->m.failed[i];
        if (!ui_filter_delivery(&a->failed_filter, &a->m, d))
            continue;
        if (!strcmp(d->msg_id, a->keep_msg) && !strcmp(d->ep_id, a->keep_dep))
            found = (long)a->nfailed_vis;
        a->failed_vis[a->nfailed_vis++] = i;
    }
    keep_cursor(&a->failed_cur, a->nfailed_vis, found);
}

static void refilter_feed(struct ui_app *a)
{
    int follow = a->feed_cur.cur >= (int)a->nfeed_vis - 1;
    free(a->feed_vis);
    a->feed_vis = xcalloc(a->m.nfeed, sizeof(size_t));
    a->nfeed_vis = 0;
    for (size_t i = 0; i < a->m.nfeed; i++) {
        const struct ui_feed_item *it = ui_model_feed_at(&a->m, i);
        if (a->feed_paused && it->seq > a->feed_paused_seq)
            break;
        if (ui_filter_feed(&a->feed_filter, &a->m, it))
            a->feed_vis[a->nfeed_vis++] = i;
    }
    keep_cursor(&a->feed_cur, a->nfeed_vis, follow && a->nfeed_vis ? (long)a->nfeed_vis - 1 : -1);
}

void ui_app_refilter(struct ui_app *a)
{
    refilter_eps(a);
    refilter_failed(a);
    refilter_feed(a);
}

size_t ui_app_count_marked(const struct ui_app *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->m.nfailed; i++)
        n += a->m.failed[i].marked != 0;
    return n;
}

size_t ui_app_count_filtered(const struct ui_app *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nfailed_vis; i++)
        n += a->m.failed[a->failed_vis[i]].track != UI_T_OK;
    return n;
}

/* --- server actions --- */

static void submit_json(struct ui_app *a, enum ui_rq rq, const char *method, const char *path,
                        json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    ui_http_submit(a->http, (int)rq, method, path, text);
    free(text);
    json_decref(body);
}

/* commit: the replay is being sent (mark the row queued), else only counted. */
static void add_delivery(json_t *list, struct ui_delivery *d, int commit)
{
    json_array_append_new(list, json_pack("{s:s, s:s}", "msgId", d->msg_id,
                                          "endpointId", d->ep_id));
    if (!commit)
        return;
    d->track = UI_T_QUEUED;
    d->track_status = 0;
    d->marked = 0;
}

static json_t *marked_body(struct ui_app *a, int commit)
{
    json_t *list = json_array();
    for (size_t i = 0; i < a->m.nfailed; i++)
        if (a->m.failed[i].marked)
            add_delivery(list, &a->m.failed[i], commit);
    if (!json_array_size(list)) {
        json_decref(list);
        return NULL;
    }
    return json_pack("{s:o}", "deliveries", list);
}

int ui_app_replay_marked(struct ui_app *a)
{
    json_t *body = marked_body(a, 1);
    if (!body) {
        ui_app_note(a, 1, "no rows are marked (space marks a row)");
        return UI_DRAW;
    }
    submit_json(a, UI_RQ_REPLAY, "POST", "/hookd/v1/deliveries/replay", body);
    return UI_DRAW;
}

/* The list's server-side filter as the replay body wants it. */
static json_t *filter_json(const struct ui_app *a)
{
    const struct ui_filter *f = &a->failed_filter;
    json_t *o = json_object();
    if (f->status[0] && strcmp(f->status, "any"))
        json_object_set_new(o, "status", json_string(f->status));
    if (f->app[0])
        json_object_set_new(o, "app_id", json_string(f->app));
    if (f->ep[0])
        json_object_set_new(o, "endpoint_id", json_string(f->ep));
    if (f->type[0])
        json_object_set_new(o, "event_type", json_string(f->type));
    if (f->since_ms) {
        char ts[CLOCK_RFC3339_MAX];
        clock_format(clock_now_ms() - f->since_ms, ts);
        json_object_set_new(o, "after", json_string(ts));
    }
    return o;
}

int ui_app_filter_on_server(const struct ui_app *a)
{
    const struct ui_filter *f = &a->failed_filter;
    return !f->text[0] && (!f->ep[0] || ui_model_endpoint(&a->m, f->ep))
           && !strpbrk(f->type, "*?[") && !strpbrk(f->app, "*?[");
}

static json_t *filtered_body(struct ui_app *a, int commit)
{
    json_t *list = json_array();
    for (size_t i = 0; i < a->nfailed_vis; i++) {
        struct ui_delivery *d = &a->m.failed[a->failed_vis[i]];
        if (d->track != UI_T_OK)
            add_delivery(list, d, commit);
    }
    if (a->m.failed_done || !ui_app_filter_on_server(a))
        return json_pack("{s:o}", "deliveries", list);
    json_decref(list);
    return json_pack("{s:o}", "filter", filter_json(a));
}

int ui_app_replay_filtered(struct ui_app *a)
{
    submit_json(a, UI_RQ_REPLAY, "POST", "/hookd/v1/deliveries/replay", filtered_body(a, 1));
    return UI_DRAW;
}

static json_t *detail_body(const struct ui_app *a)
{
    const struct ui_detail *d = &a->m.detail;
    return json_pack("{s:[{s:s, s:s}]}", "deliveries", "msgId", d->msg_id, "endpointId",
                     d->ep_id);
}

int ui_app_replay_detail(struct ui_app *a)
{
    const struct ui_detail *d = &a->m.detail;
    if (!d->msg_id)
        return 0;
    struct ui_delivery *row = ui_model_find_failed(&a->m, d->msg_id, d->ep_id);
    if (row)
        row->track = UI_T_QUEUED;
    submit_json(a, UI_RQ_REPLAY, "POST", "/hookd/v1/deliveries/replay", detail_body(a));
    ui_app_note(a, 0, "replaying %s", d->msg_id);
    return UI_DRAW;
}

int ui_app_replay_count(struct ui_app *a)
{
    json_t *body = NULL;
    switch (a->confirm) {
    case UI_CF_REPLAY_MARKED: body = marked_body(a, 0); break;
    case UI_CF_REPLAY_FILTER: body = filtered_body(a, 0); break;
    case UI_CF_REPLAY_ONE: body = a->m.detail.msg_id ? detail_body(a) : NULL; break;
    default: break;
    }
    a->confirm_counts[0] = '\0';
    if (!body)
        return UI_DRAW;
    snprintf(a->confirm_counts, sizeof(a->confirm_counts), "asking the server what it would send...");
    json_object_set_new(body, "dryRun", json_true());
    char *text = json_dumps(body, JSON_COMPACT);
    a->want[UI_RQ_DRY] = ui_http_submit(a->http, (int)UI_RQ_DRY, "POST",
                                        "/hookd/v1/deliveries/replay", text);
    free(text);
    json_decref(body);
    return UI_DRAW;
}

static void ep_path(struct buf *b, const char *prefix, const struct ui_endpoint *e,
                    const char *suffix)
{
    buf_adds(b, prefix);
    ui_url_escape(b, e->app_id);
    buf_adds(b, "/endpoint/");
    ui_url_escape(b, e->id);
    buf_adds(b, suffix);
}

int ui_app_pause_toggle(struct ui_app *a, const struct ui_endpoint *e)
{
    struct buf b = BUF_INIT;
    ep_path(&b, "/hookd/v1/app/", e, e->paused ? "/resume" : "/pause");
    submit_json(a, UI_RQ_EPACT, "POST", b.data, NULL);
    ui_app_note(a, 0, "%s %s ...", e->paused ? "resuming" : "pausing", e->url);
    snprintf(a->act_done, sizeof(a->act_done), e->paused ? "resumed %s: deliveries flow again"
             : "paused %s: its deliveries are held until you resume it (p)", e->url);
    buf_release(&b);
    return UI_DRAW;
}

int ui_app_enable(struct ui_app *a, const struct ui_endpoint *e, int enable)
{
    struct buf b = BUF_INIT;
    ep_path(&b, "/api/v1/app/", e, "");
    submit_json(a, UI_RQ_EPACT, "PATCH", b.data, json_pack("{s:b}", "disabled", !enable));
    ui_app_note(a, 0, "%s %s ...", enable ? "enabling" : "disabling", e->url);
    snprintf(a->act_done, sizeof(a->act_done), enable ? "enabled %s"
             : "disabled %s: new messages skip it (M sends what it missed)", e->url);
    buf_release(&b);
    return UI_DRAW;
}

int ui_app_replay_missing(struct ui_app *a, const struct ui_endpoint *e)
{
    struct buf b = BUF_INIT;
    char since[CLOCK_RFC3339_MAX];
    clock_format(e->disabled_at, since);
    ep_path(&b, "/api/v1/app/", e, "/replay-missing");
    submit_json(a, UI_RQ_MISSING, "POST", b.data, json_pack("{s:s}", "since", since));
    ui_app_note(a, 0, "asking for what %s missed", e->url);
    buf_release(&b);
    return UI_DRAW;
}

int ui_app_open_detail(struct ui_app *a, const char *app_id, const char *msg_id,
                       const char *ep_id)
{
    ui_detail_open(&a->m.detail, app_id, msg_id, ep_id);
    if (a->screen != UI_SCR_DETAIL)
        a->back = a->screen;
    a->screen = UI_SCR_DETAIL;
    a->detail_att = 0;
    a->detail_full = 0;
    a->detail_cur.top = 0;
    return UI_DRAW | UI_FETCH_DETAIL;
}

/* Make f (with its text) the failed list's filter and load the list again. */
static void set_failed_filter(struct ui_app *a, const struct ui_filter *f, const char *text)
{
    a->failed_filter = *f;
    if (!a->failed_filter.status[0])
        snprintf(a->failed_filter.status, sizeof(a->failed_filter.status), "fail");
    snprintf(a->failed_filter_text, sizeof(a->failed_filter_text), "%s", text);
    ui_model_failed_clear(&a->m);
    a->nfailed_vis = 0;
    a->m.failed_res.state = UI_RES_NONE;
    a->m.failed_res.fetched_ms = 0;
    a->failed_cur.cur = a->failed_cur.top = 0;
}

void ui_app_check_prompt(struct ui_app *a)
{
    struct ui_filter f;
    char err[200];
    if (!a->prompt_error[0])
        return;
    if (ui_filter_parse(&f, a->prompt, clock_now_ms(), err, sizeof(err)) == 0)
        a->prompt_error[0] = '\0';
    else
        snprintf(a->prompt_error, sizeof(a->prompt_error), "%s", err);
}

int ui_app_apply_filter(struct ui_app *a)
{
    struct ui_filter f;
    char err[200];
    if (ui_filter_parse(&f, a->prompt, clock_now_ms(), err, sizeof(err))) {
        /* the prompt stays open: the reason goes beside it, where the operator looks */
        snprintf(a->prompt_error, sizeof(a->prompt_error), "%s", err);
        return UI_DRAW;
    }
    a->prompt_error[0] = '\0';
    if (a->note_bad)
        a->note[0] = '\0';   /* an old complaint must not outlive its cause */
    a->modal = UI_MODAL_NONE;
    ui_app_remember(a);
    if (a->prompt_screen == UI_SCR_ENDPOINTS) {
        a->ep_filter = f;
        snprintf(a->ep_filter_text, sizeof(a->ep_filter_text), "%s", a->prompt);
    } else if (a->prompt_screen == UI_SCR_FEED) {
        a->feed_filter = f;
        snprintf(a->feed_filter_text, sizeof(a->feed_filter_text), "%s", a->prompt);
    } else {
        set_failed_filter(a, &f, a->prompt);
    }
    ui_app_refilter(a);
    return UI_DRAW | (a->prompt_screen == UI_SCR_FAILED ? UI_FETCH_FAILED : 0);
}

int ui_app_drill(struct ui_app *a, const struct ui_endpoint *e)
{
    if (!a->drill) {
        a->saved_filter = a->failed_filter;
        snprintf(a->saved_filter_text, sizeof(a->saved_filter_text), "%s",
                 a->failed_filter_text);
        a->drill_back = a->screen;
    }
    a->drill = 1;
    snprintf(a->drill_ep, sizeof(a->drill_ep), "%s", e->id);
    snprintf(a->prompt, sizeof(a->prompt), "ep=%s status=any", e->id);
    a->prompt_len = strlen(a->prompt);
    a->prompt_screen = UI_SCR_FAILED;
    a->screen = UI_SCR_FAILED;
    return ui_app_apply_filter(a);
}

int ui_app_drill_leave(struct ui_app *a)
{
    if (!a->drill)
        return 0;
    a->drill = 0;
    ui_app_remember(a);
    set_failed_filter(a, &a->saved_filter, a->saved_filter_text);
    ui_app_refilter(a);
    return UI_DRAW | UI_FETCH_FAILED;
}
