/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_keys_lists.c - what the keys do on the failed list, the live feed
 * and the detail, and inside a confirmation or the filter prompt.
 *
 * Nothing is replayed without a confirmation that says how many
 * deliveries and, when they share one, to which endpoint: a stray R on a
 * filtered list of thousands must not be one keystroke from a flood. The
 * confirmation also asks the server for a dry run of the same request and
 * shows its counts by status, so "16 already succeeded" is seen first.
 */
#include <stdio.h>
#include <string.h>

#include "ui_fmt.h"
#include "ui_keys_int.h"
#include "ui_term.h"

static struct ui_delivery *cur_row(struct ui_app *a)
{
    if (!a->nfailed_vis || a->failed_cur.cur >= (int)a->nfailed_vis)
        return NULL;
    return &a->m.failed[a->failed_vis[a->failed_cur.cur]];
}

int ui_act_mark(struct ui_app *a)
{
    struct ui_delivery *d = cur_row(a);
    if (!d)
        return 0;
    d->marked = !d->marked;
    if (a->failed_cur.cur + 1 < (int)a->nfailed_vis) {
        a->failed_cur.cur++;
        int rows = ui_app_list_rows(a);
        if (a->failed_cur.cur >= a->failed_cur.top + rows)
            a->failed_cur.top = a->failed_cur.cur - rows + 1;
    }
    return UI_DRAW;
}

int ui_act_mark_all(struct ui_app *a)
{
    int all = a->nfailed_vis > 0;
    for (size_t i = 0; i < a->nfailed_vis && all; i++)
        all = a->m.failed[a->failed_vis[i]].marked;
    for (size_t i = 0; i < a->nfailed_vis; i++) {
        struct ui_delivery *d = &a->m.failed[a->failed_vis[i]];
        d->marked = !all && d->track != UI_T_OK;
    }
    return UI_DRAW;
}

/* The endpoint URL (without scheme) all marked rows share, or NULL. */
static const char *common_dest(const struct ui_app *a, int marked_only)
{
    const char *ep = NULL;
    for (size_t i = 0; i < a->nfailed_vis; i++) {
        const struct ui_delivery *d = &a->m.failed[a->failed_vis[i]];
        if ((marked_only && !d->marked) || (!marked_only && d->track == UI_T_OK))
            continue;
        if (ep && strcmp(ep, d->ep_id))
            return NULL;
        ep = d->ep_id;
    }
    const struct ui_endpoint *e = ui_model_endpoint(&a->m, ep);
    if (!e)
        return NULL;
    const char *s = strstr(e->url, "://");
    return s ? s + 3 : e->url;
}

static int ask(struct ui_app *a, enum ui_confirm kind, size_t n, const char *what,
               const char *dest)
{
    a->confirm = kind;
    snprintf(a->confirm_text, sizeof(a->confirm_text), "Replay %zu %s deliver%s%s%s?", n, what,
             n == 1 ? "y" : "ies", dest ? " to " : "", dest ? dest : "");
    a->modal = UI_MODAL_CONFIRM;
    return ui_app_replay_count(a);
}

int ui_act_replay(struct ui_app *a)
{
    size_t n = ui_app_count_marked(a);
    int automark = n == 0;
    if (automark) {
        struct ui_delivery *d = cur_row(a);
        if (!d) {
            ui_app_note(a, 1, "nothing to replay");
            return UI_DRAW;
        }
        d->marked = 1;   /* no marks: r means the row under the cursor */
        n = 1;
    }
    int rc = ask(a, UI_CF_REPLAY_MARKED, n, "marked", common_dest(a, 1));
    a->confirm_automark = automark;
    return rc;
}

int ui_act_replay_all(struct ui_app *a)
{
    size_t n = ui_app_count_filtered(a);
    if (n == 0) {
        ui_app_note(a, 1, "nothing to replay");
        return UI_DRAW;
    }
    if (!a->m.failed_done && ui_app_filter_on_server(a)) {
        a->confirm = UI_CF_REPLAY_FILTER;
        snprintf(a->confirm_text, sizeof(a->confirm_text),
                 "Replay ALL deliveries matching the filter (more than the %zu shown)?", n);
        a->modal = UI_MODAL_CONFIRM;
        return ui_app_replay_count(a);
    }
    return ask(a, UI_CF_REPLAY_FILTER, n, "filtered", common_dest(a, 0));
}

int ui_act_clear_filter(struct ui_app *a)
{
    a->drill = 0;   /* cleared: the whole list, not the filter from before */
    a->prompt[0] = '\0';
    a->prompt_len = 0;
    a->prompt_screen = UI_SCR_FAILED;
    return ui_app_apply_filter(a);
}

int ui_act_open(struct ui_app *a)
{
    if (a->screen == UI_SCR_FEED) {
        if (!a->nfeed_vis || a->feed_cur.cur >= (int)a->nfeed_vis)
            return 0;
        const struct ui_feed_item *it = ui_model_feed_at(&a->m, a->feed_vis[a->feed_cur.cur]);
        return ui_app_open_detail(a, it->app_id, it->msg_id, it->ep_id);
    }
    struct ui_delivery *d = cur_row(a);
    return d ? ui_app_open_detail(a, d->app_id, d->msg_id, d->ep_id) : 0;
}

int ui_act_feed_pause(struct ui_app *a)
{
    ui_app_remember(a);
    a->feed_paused = !a->feed_paused;
    a->feed_paused_seq = a->m.nfeed ? ui_model_feed_at(&a->m, a->m.nfeed - 1)->seq : 0;
    ui_app_refilter(a);
    return UI_DRAW;
}

int ui_act_feed_clear(struct ui_app *a)
{
    ui_app_remember(a);
    ui_model_feed_clear(&a->m);
    a->feed_cur.cur = a->feed_cur.top = 0;
    ui_app_refilter(a);
    return UI_DRAW;
}

int ui_act_detail_replay(struct ui_app *a)
{
    if (!a->m.detail.msg_id)
        return 0;
    const struct ui_endpoint *e = ui_model_endpoint(&a->m, a->m.detail.ep_id);
    const char *s = e ? strstr(e->url, "://") : NULL;
    return ask(a, UI_CF_REPLAY_ONE, 1, "this", e ? (s ? s + 3 : e->url) : NULL);
}

int ui_act_full(struct ui_app *a)
{
    a->detail_full = !a->detail_full;
    return UI_DRAW;
}

int ui_keys_confirm(struct ui_app *a, int key)
{
    if (key == 'n' || key == 'N' || key == UI_KEY_ESC || key == 'q') {
        a->modal = UI_MODAL_NONE;
        for (size_t i = 0; a->confirm_automark && i < a->m.nfailed; i++)
            a->m.failed[i].marked = 0;
        a->confirm_automark = 0;
        ui_app_note(a, 0, "nothing was replayed or changed");
        return UI_DRAW;
    }
    if (key != 'y' && key != 'Y' && key != UI_KEY_ENTER)
        return 0;
    a->modal = UI_MODAL_NONE;
    a->confirm_automark = 0;
    switch (a->confirm) {
    case UI_CF_REPLAY_MARKED: return ui_app_replay_marked(a);
    case UI_CF_REPLAY_FILTER: return ui_app_replay_filtered(a);
    case UI_CF_REPLAY_ONE: return ui_app_replay_detail(a);
    case UI_CF_DISABLE: {
        const struct ui_endpoint *e = ui_model_endpoint(&a->m, a->confirm_ep);
        return e ? ui_app_enable(a, e, 0) : UI_DRAW;
    }
    case UI_CF_MISSING: {
        const struct ui_endpoint *e = ui_model_endpoint(&a->m, a->confirm_ep);
        return e ? ui_app_replay_missing(a, e) : UI_DRAW;
    }
    }
    return UI_DRAW;
}

/* Drop the last character (a whole UTF-8 sequence). */
static void prompt_backspace(struct ui_app *a)
{
    while (a->prompt_len > 0) {
        unsigned char c = (unsigned char)a->prompt[--a->prompt_len];
        if ((c & 0xc0) != 0x80)
            break;
    }
    a->prompt[a->prompt_len] = '\0';
}

int ui_keys_prompt(struct ui_app *a, int key)
{
    if (key == UI_KEY_ESC) {
        a->modal = UI_MODAL_NONE;
        a->prompt_error[0] = '\0';
        return UI_DRAW;
    } else if (key == UI_KEY_ENTER) {
        return ui_app_apply_filter(a);
    } else if (key == UI_KEY_BACKSPACE) {
        prompt_backspace(a);
    } else if (key == UI_CTRL('u')) {
        a->prompt_len = 0;
        a->prompt[0] = '\0';
    } else if (key == UI_CTRL('w')) {
        while (a->prompt_len > 0 && a->prompt[a->prompt_len - 1] == ' ')
            a->prompt_len--;
        while (a->prompt_len > 0 && a->prompt[a->prompt_len - 1] != ' ')
            a->prompt_len--;
        a->prompt[a->prompt_len] = '\0';
    } else if (key >= 32 && key < 256 && key != 127 && a->prompt_len + 1 < sizeof(a->prompt)) {
        a->prompt[a->prompt_len++] = (char)key;
        a->prompt[a->prompt_len] = '\0';
    } else {
        return 0;
    }
    ui_app_check_prompt(a);
    return UI_DRAW;
}
