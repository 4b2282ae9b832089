/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_views.c - what every screen shares: the title line with the age of
 * its data, the footer of keys, the line for notes, the filter prompt,
 * the confirmation box and the help (see ui_views.h).
 *
 * Freshness is always on screen: "updated 0.4 s ago" while answers come,
 * "stale" in yellow when they stop, and "disconnected" in red with the
 * age of what is shown when the server is gone, so an operator never
 * mistakes old numbers for current ones.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "ui_fmt.h"
#include "ui_keys.h"
#include "ui_views.h"
#include "ui_views_int.h"

#define STALE_MS 5000

void uv_text(int y, int x, int w, enum ui_style st, const char *s, int right)
{
    struct buf b = BUF_INIT;
    ui_fit(&b, s, w, right);
    if (b.data)
        ui_term_put(y, x, st, b.data);
    buf_release(&b);
}

void uv_rule(const struct ui_app *a, int y, const char *title)
{
    ui_term_hline(y, 1, a->cols - 2, UI_S_SECTION);
    char t[300];
    snprintf(t, sizeof(t), " %s ", title);
    uv_text(y, 3, ui_width(t) < a->cols - 6 ? ui_width(t) : a->cols - 6, UI_S_SECTION, t, 0);
}

void uv_heads(const struct ui_app *a, int y, const char *text)
{
    ui_term_fill(y, 0, a->cols, UI_S_HEAD);
    uv_text(y, 0, a->cols, UI_S_HEAD, text, 0);
}

int uv_stale(const struct ui_app *a, const struct ui_res *res)
{
    return !a->connected || !res->fetched_ms || clock_mono_ms() - res->fetched_ms > STALE_MS;
}

/* The right end of the title line: how old the screen's data is. */
static void freshness(const struct ui_app *a, const struct ui_res *res, char *out, size_t n,
                      enum ui_style *st)
{
    char age[32];
    int64_t now = clock_mono_ms();
    ui_fmt_age(age, sizeof(age), res && res->fetched_ms ? now - res->fetched_ms : 0);
    *st = UI_S_DIM;
    if (a->auth_failed) {
        snprintf(out, n, "token refused (401)");
        *st = UI_S_FAIL;
    } else if (!a->connected) {
        ui_fmt_age(age, sizeof(age), now - a->down_since);
        snprintf(out, n, "disconnected %s, retrying", age);
        *st = UI_S_FAIL;
    } else if (res && res->live && res->state == UI_RES_OK) {
        snprintf(out, n, "live");
        *st = UI_S_OK;
    } else if (!res || !res->fetched_ms) {
        snprintf(out, n, res && res->state == UI_RES_UNAVAILABLE ? "not available" : "loading");
    } else if (uv_stale(a, res)) {
        snprintf(out, n, "stale: updated %s ago", age);
        *st = UI_S_WARN;
    } else {
        snprintf(out, n, "updated %s ago", age);
    }
}

void uv_title(const struct ui_app *a, const char *left, const struct ui_res *res)
{
    char right[160], fresh[128];
    enum ui_style st;
    freshness(a, res, fresh, sizeof(fresh), &st);
    /* a server started with --hold-deliveries sends nothing: say so on every screen */
    int hold = a->connected && a->m.stats.hold;
    snprintf(right, sizeof(right), "%s%s", hold ? "DELIVERIES HELD   " : "", fresh);
    if (hold && st != UI_S_FAIL)
        st = UI_S_WARN;
    int rw = ui_width(right) + 1;
    uv_text(0, 1, a->cols - rw - 4, UI_S_TITLE, left, 0);
    uv_text(0, a->cols - rw, rw, st, right, 0);
}

int uv_missing(const struct ui_app *a, int y, const struct ui_res *res, const char *what)
{
    char t[400];
    if (res->state == UI_RES_OK)
        return 0;
    if (res->state == UI_RES_NONE)
        snprintf(t, sizeof(t), "  loading %s...", what);
    else if (res->state == UI_RES_UNAVAILABLE)
        snprintf(t, sizeof(t), "  %s: not available on this server (HTTP %ld)", what, res->status);
    else if (res->status)
        snprintf(t, sizeof(t), "  %s: the server answered HTTP %ld %s", what, res->status,
                 res->error);
    else
        snprintf(t, sizeof(t), "  %s: %s", what, res->error);
    struct buf b = BUF_INIT;
    ui_escape(&b, t, strlen(t), a->m.utf8, 1);
    uv_text(y, 0, a->cols, res->state == UI_RES_NONE ? UI_S_DIM : UI_S_WARN, b.data, 0);
    buf_release(&b);
    return 1;
}

const char *uv_health_word(enum ui_health h)
{
    static const char *const w[] = { "ok", "retry", "FAIL", "off", "paused", "errors" };
    return w[h];
}

enum ui_style uv_health_style(enum ui_health h)
{
    static const enum ui_style s[] = { UI_S_OK, UI_S_WARN, UI_S_FAIL, UI_S_FAIL, UI_S_WARN,
                                       UI_S_WARN };
    return s[h];
}

int uv_top(const struct ui_cursor *c, int n, int rows)
{
    int top = c->top;
    if (c->cur < top)
        top = c->cur;
    if (c->cur >= top + rows)
        top = c->cur - rows + 1;
    if (top > n - rows)
        top = n - rows;
    return top < 0 ? 0 : top;
}

const char *uv_short_url(const char *url)
{
    const char *s = strstr(url, "://");
    return s ? s + 3 : url;
}

/* --- footer, notes, modals --- */

struct fitem {
    const char *key, *label;
};

static int fwidth(const struct fitem *f)
{
    return ui_width(f->key) + ui_width(f->label) + 3;
}

/*
 * The footer: this screen's keys from the table, then the screens, help
 * and quit. When they do not fit, the screen list goes first, then this
 * screen's keys by importance (the table's footer rank, the last of a
 * rank first); help and quit always stay, and the help lists everything.
 */
static void footer(const struct ui_app *a)
{
    static const char *const tabs[] = { "Overview", "Endpoints", "Failed", "Feed" };
    static const char *const nums[] = { "1", "2", "3", "4" };
    struct fitem v[40];
    int rank[40], keep[40];
    int n = 0, total = 1, nscreen, first_tab;
    size_t nt;
    const struct ui_binding *t = ui_keys_table(&nt);
    for (size_t i = 0; i < nt && n < 30; i++)
        if (t[i].footer && (t[i].screens & UI_ON(a->screen)) && (!t[i].drill_only || a->drill)) {
            rank[n] = t[i].footer;
            v[n++] = (struct fitem){ t[i].name, t[i].label };
        }
    nscreen = n;
    first_tab = n;
    if (a->screen == UI_SCR_OVERVIEW)
        for (int i = 0; i < 4; i++)
            v[n++] = (struct fitem){ nums[i], tabs[i] };
    else
        v[n++] = (struct fitem){ "1-4", "Screens" };
    v[n++] = (struct fitem){ "?", "Help" };
    v[n++] = (struct fitem){ "q", "Quit" };
    for (int i = 0; i < n; i++) {
        keep[i] = 1;
        total += fwidth(&v[i]);
    }
    for (int i = first_tab; total > a->cols && i < n - 2; i++) {
        keep[i] = 0;
        total -= fwidth(&v[i]);
    }
    for (int r = 1; r <= 3 && total > a->cols; r++)
        for (int i = nscreen - 1; i >= 0 && total > a->cols; i--)
            if (rank[i] == r) {
                keep[i] = 0;
                total -= fwidth(&v[i]);
            }
    int y = a->rows - 1, x = 1;
    ui_term_fill(y, 0, a->cols, UI_S_BAR);
    for (int i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        ui_term_put(y, x, UI_S_KEY, v[i].key);
        ui_term_put(y, x + ui_width(v[i].key) + 1, UI_S_BAR, v[i].label);
        x += fwidth(&v[i]);
    }
}

static void note_line(const struct ui_app *a)
{
    int y = a->rows - 2;
    struct buf b = BUF_INIT;
    if (a->modal == UI_MODAL_PROMPT) {
        buf_adds(&b, " Filter: ");
        ui_escape(&b, a->prompt, a->prompt_len, a->m.utf8, 1);
        buf_addc(&b, '_');
        const char *hint = "Enter apply  Esc cancel  C-u clear ";
        int hw = ui_width(hint);
        uv_text(y, 0, a->cols - hw, UI_S_BOLD, b.data, 0);
        uv_text(y, a->cols - hw, hw, UI_S_DIM, hint, 0);
        if (a->prompt_error[0]) {
            /* above the prompt, where the operator is typing; gone once the text parses */
            buf_reset(&b);
            buf_adds(&b, " not applied: ");
            ui_escape(&b, a->prompt_error, strlen(a->prompt_error), a->m.utf8, 1);
            ui_term_fill(y - 1, 0, a->cols, UI_S_NORMAL);
            uv_text(y - 1, 0, a->cols, UI_S_FAIL, b.data, 0);
        }
    } else if (a->note[0] && clock_mono_ms() < a->note_until) {
        buf_adds(&b, " ");
        ui_escape(&b, a->note, strlen(a->note), a->m.utf8, 1);
        uv_text(y, 0, a->cols, a->note_bad ? UI_S_FAIL : UI_S_OK, b.data, 0);
    }
    buf_release(&b);
}

/*
 * The question in a box, wrapped onto two lines when it is long, and under
 * it what the server's dry run counted, when it was asked.
 */
static void confirm_box(const struct ui_app *a)
{
    const char *keys = "y Yes   n No", *q = a->confirm_text, *c = a->confirm_counts;
    int counts = c[0] && a->confirm != UI_CF_DISABLE;
    int w = a->cols - 8 < 90 ? a->cols - 8 : 90, tw = ui_width(q), h = 5 + counts;
    size_t cut = strlen(q);
    if (counts && ui_width(c) > tw)
        tw = ui_width(c);
    if (tw > w - 4) {
        cut = ui_width(q) > w - 4 ? ui_prefix(q, w - 4) : cut;
        while (cut > 0 && q[cut] && q[cut] != ' ')
            cut--;
        h += q[cut] != '\0';
    } else if (tw + 6 > 40) {
        w = tw + 6;
    } else {
        w = 40;
    }
    int x = (a->cols - w) / 2, y = (a->rows - h) / 2, line = y + 1;
    for (int i = 0; i < h; i++)
        ui_term_fill(y + i, x, w, UI_S_NORMAL);
    ui_term_box(y, x, h, w, UI_S_WARN);
    char first[512];
    snprintf(first, sizeof(first), "%.*s", (int)cut, q);
    uv_text(line++, x + 2, w - 4, UI_S_BOLD, first, 0);
    if (q[cut])
        uv_text(line++, x + 2, w - 4, UI_S_BOLD, q + cut + (q[cut] == ' '), 0);
    if (counts)
        uv_text(line, x + 2, w - 4, UI_S_WARN, c, 0);
    uv_text(y + h - 2, x + (w - ui_width(keys)) / 2, ui_width(keys), UI_S_KEY, keys, 0);
}

/* What the words on each screen mean (the help's second part). */
static const char *const *screen_words(enum ui_screen s)
{
    /* each line fits the help box at 80 columns (72 columns of text) */
    static const char *const overview[] = {
        "latency: message to 2xx, scheduled attempts only; replays are not timed",
        "held: deliveries of paused or disabled endpoints",
        "failed (final): no retry left; press 3 to review them",
        "retrying: a retry is scheduled; with errors: failed in 5 min, none due",
        "Cluster (cluster mode): the nodes as the node asked sees them;",
        "  owner writes and delivers, standby applies its log; APPLIED: its last",
        "  log entry; LAG: entries (and time) behind the log; UNREACHABLE: no",
        "  answer for 3 s (its figures are the last it gave)",
        NULL };
    static const char *const endpoints[] = {
        "ok       delivering; no failure in the last 5 min",
        "errors   attempts failed in the last 5 min; no retry is scheduled",
        "retry    deliveries wait for a scheduled retry",
        "FAIL     3 failures in a row, or most attempts of the last 5 min",
        "off      disabled: new messages skip it (M sends what it missed)",
        "paused   deliveries held until resumed (p)",
        NULL };
    static const char *const failed[] = {
        "LAST     FAIL 503: the last answer; replaying: sent, no outcome yet",
        "         ok 200 or FAIL 500: how the replay went",
        "         not sent: the server skipped it (why: on the bottom line)",
        "TRIES    every attempt, scheduled and manual (replays)",
        "drill-down: pending (not tried yet), retrying, held (paused), ok 200",
        NULL };
    static const char *const feed[] = {
        "STATE    ok or FAIL: the attempt's outcome; TRIG manual: a replay",
        NULL };
    static const char *const detail[] = {
        "TRIGGER  scheduled (first try, retries) or manual (replay, resend)",
        NULL };
    switch (s) {
    case UI_SCR_OVERVIEW: return overview;
    case UI_SCR_ENDPOINTS: return endpoints;
    case UI_SCR_FAILED: return failed;
    case UI_SCR_FEED: return feed;
    default: return detail;
    }
}

/* The help as lines: this screen's keys, what its words mean, then the rest. */
static size_t help_lines(const struct ui_app *a, const char **text, const char **key,
                         enum ui_style *st, size_t max)
{
    static const char *const tail[] = {
        "Moving: Up/k Down/j  PgUp/C-b PgDn/C-f  Home/g End/G",
        "Everywhere: 1-4 screens  Tab/S-Tab  C-l redraw  ? or F1 help  q quit",
        "Filters (/): app=UID|ID  ep=ID|part-of-URL  type=NAME|GLOB  since=2h",
        "  status=fail|pending|sending|held|success|any  feed: ok fail code>=500",
        "  other words match what a row shows: ids, app, URL, event type, error",
    };
    size_t n, k = 0;
    const struct ui_binding *t = ui_keys_table(&n);
    for (size_t i = 0; i < n && k < max; i++) {
        if (!(t[i].screens & UI_ON(a->screen)) || t[i].screens == UI_ON_ALL
            || (t[i].screens & UI_ON_LISTS) == UI_ON_LISTS || (t[i].drill_only && !a->drill))
            continue;
        key[k] = t[i].name;
        st[k] = UI_S_NORMAL;
        text[k++] = t[i].help;
    }
    for (const char *const *w = screen_words(a->screen); *w && k < max; w++) {
        key[k] = NULL;
        st[k] = UI_S_NORMAL;
        text[k++] = *w;
    }
    for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]) && k < max; i++) {
        key[k] = NULL;
        st[k] = i < 2 ? UI_S_NORMAL : UI_S_DIM;
        text[k++] = tail[i];
    }
    return k;
}

static void help_box(const struct ui_app *a)
{
    const char *text[64], *key[64];
    enum ui_style st[64];
    int w = a->cols - 4 < 96 ? a->cols - 4 : 96, h = a->rows - 2, x = (a->cols - w) / 2, y = 1;
    size_t n = help_lines(a, text, key, st, 64);
    for (int i = 0; i < h; i++)
        ui_term_fill(y + i, 0, a->cols, UI_S_NORMAL);
    ui_term_box(y, x, h, w, UI_S_SECTION);
    const char *title = " Keys and words on this screen ";
    uv_text(y, x + 2, ui_width(title), UI_S_SECTION, title, 0);
    int rows = h - 3;
    for (int i = 0; i < rows && i < (int)n; i++) {
        if (key[i]) {
            uv_text(y + 1 + i, x + 2, 9, UI_S_KEY, key[i], 0);
            uv_text(y + 1 + i, x + 12, w - 14, st[i], text[i], 0);
        } else {
            uv_text(y + 1 + i, x + 2, w - 4, st[i], text[i], 0);
        }
    }
    uv_text(y + h - 2, x + 2, w - 4, UI_S_BOLD, "press any key to close", 0);
}

void ui_views_draw(const struct ui_app *a)
{
    ui_term_erase();
    if (a->cols < 60 || a->rows < 14) {
        char t[96];
        snprintf(t, sizeof(t), "terminal too small (%dx%d): 80x24 or more, please", a->cols,
                 a->rows);
        uv_text(0, 0, a->cols, UI_S_WARN, t, 0);
        ui_term_flush();
        return;
    }
    switch (a->screen) {
    case UI_SCR_OVERVIEW: uv_overview(a); break;
    case UI_SCR_ENDPOINTS: uv_endpoints(a); break;
    case UI_SCR_FAILED: uv_failed(a); break;
    case UI_SCR_FEED: uv_feed(a); break;
    default: uv_detail(a); break;
    }
    note_line(a);
    footer(a);
    if (a->modal == UI_MODAL_CONFIRM)
        confirm_box(a);
    else if (a->modal == UI_MODAL_HELP)
        help_box(a);
    else if (a->modal == UI_MODAL_TOKENS)
        uv_tokens_box(a);
    ui_term_flush();
}
