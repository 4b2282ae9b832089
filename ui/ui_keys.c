/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_keys.c - the key table and its actions (see ui_keys.h).
 *
 * Keys go first to whatever is in front: the help closes on any key, a
 * confirmation takes y or n, the filter prompt edits its line. Otherwise
 * the table is searched in order for a binding of this screen. Actions
 * that talk to the server hand over to ui_app; the rest move cursors and
 * flip state.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "ui_doc.h"
#include "ui_fmt.h"
#include "ui_keys.h"
#include "ui_keys_int.h"
#include "ui_term.h"
#include "ui_tokens.h"

/* --- moving --- */

static struct ui_cursor *cursor(struct ui_app *a, int *n)
{
    switch (a->screen) {
    case UI_SCR_ENDPOINTS: *n = (int)a->nep_vis; return &a->ep_cur;
    case UI_SCR_FAILED: *n = (int)a->nfailed_vis; return &a->failed_cur;
    case UI_SCR_FEED: *n = (int)a->nfeed_vis; return &a->feed_cur;
    default: *n = 0; return NULL;
    }
}

/* Move a list cursor by delta (clamped) and scroll it into view. */
static int list_move(struct ui_app *a, int delta, int absolute)
{
    int n, rows = ui_app_list_rows(a);
    struct ui_cursor *c = cursor(a, &n);
    if (!c)
        return 0;
    int cur = absolute ? delta : c->cur + delta;
    c->cur = cur >= n ? n - 1 : cur;
    if (c->cur < 0)
        c->cur = 0;
    if (c->cur < c->top)
        c->top = c->cur;
    if (c->cur >= c->top + rows)
        c->top = c->cur - rows + 1;
    return UI_DRAW;
}

/* Scroll the detail document to top (clamped to its length). */
static int detail_scroll(struct ui_app *a, int top, int to_attempt)
{
    struct ui_doc d;
    ui_doc_build(&d, a, a->cols);
    int rows = ui_doc_rows(a), max = (int)d.n - rows;
    if (to_attempt && d.att_first >= 0) {
        int line = d.att_first + a->detail_att;
        top = a->detail_cur.top;
        if (line < top + 1)
            top = line - 2;   /* keep the column heads in sight */
        if (line >= top + rows)
            top = line - rows + 1;
    }
    a->detail_cur.top = top > max ? max : top;
    if (a->detail_cur.top < 0)
        a->detail_cur.top = 0;
    ui_doc_release(&d);
    return UI_DRAW;
}

static int detail_step(struct ui_app *a, int delta)
{
    int n = (int)a->m.detail.natt;
    if (n == 0)
        return detail_scroll(a, a->detail_cur.top + delta, 0);
    int att = a->detail_att + delta;
    a->detail_att = att < 0 ? 0 : att >= n ? n - 1 : att;
    return detail_scroll(a, 0, 1);
}

static int act_up(struct ui_app *a)
{
    return a->screen == UI_SCR_DETAIL ? detail_step(a, -1) : list_move(a, -1, 0);
}

static int act_down(struct ui_app *a)
{
    return a->screen == UI_SCR_DETAIL ? detail_step(a, 1) : list_move(a, 1, 0);
}

static int act_pgup(struct ui_app *a)
{
    if (a->screen == UI_SCR_DETAIL)
        return detail_scroll(a, a->detail_cur.top - ui_doc_rows(a) + 1, 0);
    return list_move(a, -(ui_app_list_rows(a) - 1), 0);
}

static int act_pgdn(struct ui_app *a)
{
    if (a->screen == UI_SCR_DETAIL)
        return detail_scroll(a, a->detail_cur.top + ui_doc_rows(a) - 1, 0);
    return list_move(a, ui_app_list_rows(a) - 1, 0);
}

static int act_home(struct ui_app *a)
{
    return a->screen == UI_SCR_DETAIL ? detail_scroll(a, 0, 0) : list_move(a, 0, 1);
}

static int act_end(struct ui_app *a)
{
    return a->screen == UI_SCR_DETAIL ? detail_scroll(a, 1 << 30, 0) : list_move(a, 1 << 30, 1);
}

/* --- screens --- */

static int go(struct ui_app *a, enum ui_screen s)
{
    a->screen = s;
    return UI_DRAW | (s == UI_SCR_FAILED ? UI_FETCH_FAILED : 0)
           | (s == UI_SCR_ENDPOINTS ? UI_FETCH_EPS : 0);
}

/* A screen key: a drill-down ends there, with the operator's filter back. */
static int go_screen(struct ui_app *a, enum ui_screen s)
{
    return ui_app_drill_leave(a) | go(a, s);
}

static int act_s1(struct ui_app *a) { return go_screen(a, UI_SCR_OVERVIEW); }
static int act_s2(struct ui_app *a) { return go_screen(a, UI_SCR_ENDPOINTS); }
static int act_s3(struct ui_app *a) { return go_screen(a, UI_SCR_FAILED); }
static int act_s4(struct ui_app *a) { return go_screen(a, UI_SCR_FEED); }

static int act_next(struct ui_app *a)
{
    return go_screen(a, a->screen >= UI_SCR_FEED ? UI_SCR_OVERVIEW : a->screen + 1);
}

static int act_prev(struct ui_app *a)
{
    return go_screen(a, a->screen == UI_SCR_OVERVIEW || a->screen == UI_SCR_DETAIL
                        ? UI_SCR_FEED : a->screen - 1);
}

/* Esc on the failed list: out of a drill-down, back where it started. */
static int act_drill_back(struct ui_app *a)
{
    if (!a->drill)
        return 0;
    enum ui_screen back = a->drill_back;
    return ui_app_drill_leave(a) | go(a, back);
}

static int act_back(struct ui_app *a)
{
    return go(a, a->back == UI_SCR_DETAIL ? UI_SCR_FAILED : a->back);
}

static int act_quit(struct ui_app *a) { return UI_QUIT; }

static int act_help(struct ui_app *a)
{
    a->modal = UI_MODAL_HELP;
    return UI_DRAW;
}

static int act_redraw(struct ui_app *a) { return UI_DRAW; }

static int act_filter(struct ui_app *a)
{
    const char *cur = a->screen == UI_SCR_ENDPOINTS ? a->ep_filter_text
                      : a->screen == UI_SCR_FEED ? a->feed_filter_text : a->failed_filter_text;
    snprintf(a->prompt, sizeof(a->prompt), "%s", cur);
    a->prompt_len = strlen(a->prompt);
    a->prompt_screen = a->screen;
    a->prompt_error[0] = '\0';
    a->modal = UI_MODAL_PROMPT;
    return UI_DRAW;
}

/* --- endpoints --- */

static const char *short_url(const char *url)
{
    const char *s = strstr(url, "://");
    return s ? s + 3 : url;
}

static const struct ui_endpoint *cur_ep(const struct ui_app *a)
{
    if (!a->nep_vis || a->ep_cur.cur >= (int)a->nep_vis)
        return NULL;
    return &a->m.eps[a->ep_vis[a->ep_cur.cur]];
}

static int act_pause(struct ui_app *a)
{
    const struct ui_endpoint *e = cur_ep(a);
    return e ? ui_app_pause_toggle(a, e) : 0;
}

static int act_enable(struct ui_app *a)
{
    const struct ui_endpoint *e = cur_ep(a);
    if (!e)
        return 0;
    if (e->disabled)
        return ui_app_enable(a, e, 1);
    a->confirm = UI_CF_DISABLE;
    a->confirm_counts[0] = '\0';
    snprintf(a->confirm_ep, sizeof(a->confirm_ep), "%s", e->id);
    snprintf(a->confirm_text, sizeof(a->confirm_text),
             "Disable %s? New messages then skip it (not held: M replays them); p pauses "
             "to hold them instead.",
             short_url(e->url));
    a->modal = UI_MODAL_CONFIRM;
    return UI_DRAW;
}

/* M: send a disabled endpoint the messages it missed, after a confirmation. */
static int act_missing(struct ui_app *a)
{
    const struct ui_endpoint *e = cur_ep(a);
    if (!e)
        return 0;
    if (!e->disabled || !e->disabled_at) {
        ui_app_note(a, 1, "%s", e->disabled ? "the server does not say since when it is disabled"
                                            : "only a disabled endpoint misses messages");
        return UI_DRAW;
    }
    a->confirm = UI_CF_MISSING;
    a->confirm_counts[0] = '\0';
    snprintf(a->confirm_ep, sizeof(a->confirm_ep), "%s", e->id);
    snprintf(a->confirm_text, sizeof(a->confirm_text),
             "Send %s the %s%.0f messages it missed while disabled? They wait until you enable "
             "it (e).", short_url(e->url), e->missed_capped ? "over " : "",
             e->missed < 0 ? 0 : e->missed);
    a->modal = UI_MODAL_CONFIRM;
    return UI_DRAW;
}

static int act_sort(struct ui_app *a)
{
    ui_app_remember(a);
    a->ep_sort = (a->ep_sort + 1) % UI_SORT_N;
    ui_app_refilter(a);
    return UI_DRAW;
}

static int act_ep_deliveries(struct ui_app *a)
{
    const struct ui_endpoint *e = cur_ep(a);
    if (!e)
        return 0;
    return ui_app_drill(a, e);
}

/* t: the application tokens of the endpoint's application (ui_tokens.h) */
static int act_tokens(struct ui_app *a)
{
    const struct ui_endpoint *e = cur_ep(a);
    snprintf(a->tok_home, sizeof(a->tok_home), "%s", e ? e->app_id : "");
    return ui_tokens_open(a, a->tok_home);
}

/* --- the table --- */

#define S(x) UI_ON(UI_SCR_##x)

static const struct ui_binding table[] = {
    { S(FAILED), ' ', 0, ui_act_mark, "space", "Mark", 2, "mark or unmark the row", 0 },
    { S(FAILED), 'a', 0, ui_act_mark_all, "a", "Mark all", 1,
      "mark all rows shown (again: none)", 0 },
    { S(FAILED), 'r', 0, ui_act_replay, "r", "Replay", 3,
      "replay the marked rows (none marked: this row)", 0 },
    { S(FAILED), 'R', 0, ui_act_replay_all, "R", "Replay all", 2,
      "replay every delivery the filter shows", 0 },
    { S(ENDPOINTS), 'p', 0, act_pause, "p", "Pause/resume", 3,
      "pause (hold deliveries) or resume the endpoint", 0 },
    { S(ENDPOINTS), 'e', 0, act_enable, "e", "Enable/disable", 2,
      "enable, or disable after a confirmation", 0 },
    /* not in the footer (room): a disabled endpoint's row says "M replays" */
    { S(ENDPOINTS), 'M', 0, act_missing, "M", "Replay missed", 0,
      "send a disabled endpoint what it missed, after a confirmation", 0 },
    { S(ENDPOINTS), 't', 0, act_tokens, "t", "Tokens", 0,
      "the application's tokens: list them, revoke one (x)", 0 },
    { S(ENDPOINTS), 's', 0, act_sort, "s", "Sort", 1,
      "sort by health, backlog, app, url, last attempt", 0 },
    { S(FEED), ' ', 0, ui_act_feed_pause, "space", "Pause", 3, "pause or follow the feed", 0 },
    { S(DETAIL), 'r', 0, ui_act_detail_replay, "r", "Replay", 3, "replay this delivery", 0 },
    { S(DETAIL), UI_KEY_ENTER, 0, ui_act_full, "Enter", "Full response", 2,
      "show the whole response, or its head", 0 },
    { S(DETAIL), UI_KEY_ESC, UI_KEY_BACKSPACE, act_back, "Esc", "Back", 3,
      "back to the list (also Backspace)", 0 },
    { S(DETAIL), UI_KEY_LEFT, 'h', act_back, "Left/h", "Back", 0, "back to the list", 0 },
    { S(FAILED), UI_KEY_ESC, UI_KEY_BACKSPACE, act_drill_back, "Esc", "Back", 3,
      "back to the endpoints, your filter restored (also 1-4)", 1 },
    { S(ENDPOINTS) | S(FAILED) | S(FEED), '/', 0, act_filter, "/", "Filter", 3,
      "filter the list (see below)", 0 },
    { S(FAILED), 'c', 0, ui_act_clear_filter, "c", "Clear filter", 0,
      "clear the filter and the replay states", 0 },
    { S(FEED), 'c', 0, ui_act_feed_clear, "c", "Clear", 2, "clear the feed", 0 },
    { S(ENDPOINTS), UI_KEY_ENTER, 0, act_ep_deliveries, "Enter", "Deliveries", 3,
      "this endpoint's deliveries, any status (Esc comes back)", 0 },
    { S(FAILED) | S(FEED), UI_KEY_ENTER, 0, ui_act_open, "Enter", "Detail", 3,
      "payload, attempts, response headers and body of the delivery", 0 },
    { UI_ON_LISTS, UI_KEY_UP, 'k', act_up, "Up/k", "Up", 0,
      "previous row (detail: attempt)", 0 },
    { UI_ON_LISTS, UI_KEY_DOWN, 'j', act_down, "Down/j", "Down", 0,
      "next row (detail: attempt)", 0 },
    { UI_ON_LISTS, UI_KEY_PGUP, UI_CTRL('b'), act_pgup, "PgUp", "Page up", 0,
      "a page up (also C-b)", 0 },
    { UI_ON_LISTS, UI_KEY_PGDN, UI_CTRL('f'), act_pgdn, "PgDn", "Page down", 0,
      "a page down (also C-f)", 0 },
    { UI_ON_LISTS, UI_KEY_HOME, 'g', act_home, "Home/g", "First", 0, "first row", 0 },
    { UI_ON_LISTS, UI_KEY_END, 'G', act_end, "End/G", "Last", 0, "last row", 0 },
    { UI_ON_ALL, '1', 0, act_s1, "1", "Overview", 0, "overview", 0 },
    { UI_ON_ALL, '2', 0, act_s2, "2", "Endpoints", 0, "endpoints", 0 },
    { UI_ON_ALL, '3', 0, act_s3, "3", "Failed", 0, "failed deliveries", 0 },
    { UI_ON_ALL, '4', 0, act_s4, "4", "Feed", 0, "live feed", 0 },
    { UI_ON_ALL, UI_KEY_TAB, 0, act_next, "Tab", "Next", 0, "next screen", 0 },
    { UI_ON_ALL, UI_KEY_BTAB, 0, act_prev, "S-Tab", "Previous", 0, "previous screen", 0 },
    { UI_ON_ALL, UI_CTRL('l'), 0, act_redraw, "C-l", "Redraw", 0, "redraw the screen", 0 },
    { UI_ON_ALL, '?', UI_KEY_F1, act_help, "?", "Help", 0, "this help (also F1)", 0 },
    { UI_ON_ALL, 'q', 0, act_quit, "q", "Quit", 0, "quit", 0 },
};

#undef S

const struct ui_binding *ui_keys_table(size_t *n)
{
    *n = sizeof(table) / sizeof(table[0]);
    return table;
}

int ui_keys_handle(struct ui_app *a, int key)
{
    if (key == UI_KEY_NONE)
        return 0;
    if (key == UI_KEY_RESIZE)
        return UI_DRAW;
    switch (a->modal) {
    case UI_MODAL_HELP:
        a->modal = UI_MODAL_NONE;
        return UI_DRAW;
    case UI_MODAL_CONFIRM:
        return ui_keys_confirm(a, key);
    case UI_MODAL_PROMPT:
        return ui_keys_prompt(a, key);
    case UI_MODAL_TOKENS:
        return ui_tokens_key(a, key);
    default:
        break;
    }
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct ui_binding *b = &table[i];
        if (b->drill_only && !a->drill)
            continue;
        if ((b->screens & UI_ON(a->screen)) && (key == b->key || (b->key2 && key == b->key2)))
            return b->fn(a);
    }
    return 0;
}
