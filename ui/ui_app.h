/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_app.h - the console's state and controller: which screen is up,
 * cursors, filters, marks, the modal in front (help, confirmation,
 * prompt), the connection, and the requests in flight. It decides what to
 * fetch when, applies the answers to the model, and performs the server
 * actions (replay, pause, resume, enable) the key table asks for.
 *
 * No curses: views read a struct ui_app, key actions (ui_keys.c) change
 * it. Main thread only.
 */
#ifndef HOOKD_UI_APP_H
#define HOOKD_UI_APP_H

#include <stddef.h>
#include <stdint.h>

#include "ui_model.h"

struct ui_http;
struct ui_resp;

enum ui_screen { UI_SCR_OVERVIEW, UI_SCR_ENDPOINTS, UI_SCR_FAILED, UI_SCR_FEED, UI_SCR_DETAIL,
                 UI_SCR_N };
enum ui_modal { UI_MODAL_NONE, UI_MODAL_HELP, UI_MODAL_CONFIRM, UI_MODAL_PROMPT,
                UI_MODAL_TOKENS /* application tokens (ui_tokens.h) */ };
enum ui_confirm { UI_CF_REPLAY_MARKED, UI_CF_REPLAY_FILTER, UI_CF_REPLAY_ONE, UI_CF_DISABLE,
                  UI_CF_MISSING };
enum ui_sort { UI_SORT_FAILURE, UI_SORT_BACKLOG, UI_SORT_APP, UI_SORT_URL, UI_SORT_LAST,
               UI_SORT_N };

/* Requests by purpose; the latest id of each is remembered. */
enum ui_rq { UI_RQ_STATS, UI_RQ_EPS, UI_RQ_FAILED, UI_RQ_MSG, UI_RQ_ATT, UI_RQ_HDRS,
             UI_RQ_HIST, UI_RQ_REPLAY, UI_RQ_EPACT, UI_RQ_DRY, UI_RQ_MISSING,
             UI_RQ_TOKENS, UI_RQ_TOKREV, UI_RQ_N };

/* What a key action needs next: a redraw, fresh data, or the end. */
enum {
    UI_DRAW = 1 << 0,
    UI_FETCH_STATS = 1 << 1,
    UI_FETCH_EPS = 1 << 2,
    UI_FETCH_FAILED = 1 << 3,
    UI_FETCH_DETAIL = 1 << 4,
    UI_QUIT = 1 << 5,
    UI_FETCH_TOKENS = 1 << 6,
};

/* A list filter as typed after '/': "app=acme ep=billing type=invoice.* since=1h". */
struct ui_filter {
    char app[128], ep[256], type[128], text[128], status[16];
    int64_t since_ms;      /* 0: no window */
    int code_min, code_max;/* feed: status>=400 and the like; 0: none */
    int want_ok;           /* feed: 1 only successes, -1 only failures, 0 both */
};

struct ui_cursor {
    int cur, top;
};

struct ui_app {
    struct ui_model m;
    struct ui_http *http;
    char url[256], token[256], data_dir[1024];
    int from_dir;                        /* url/token came from data_dir: re-read them */

    enum ui_screen screen, back;         /* back: where Esc leaves the detail for */
    enum ui_modal modal;
    int rows, cols;

    struct ui_cursor ep_cur, failed_cur, feed_cur, detail_cur;
    enum ui_sort ep_sort;
    char ep_filter_text[256], failed_filter_text[256], feed_filter_text[256];
    struct ui_filter ep_filter, failed_filter, feed_filter;
    size_t *ep_vis, *failed_vis, *feed_vis;   /* model indices in display order */
    size_t nep_vis, nfailed_vis, nfeed_vis;
    char keep_ep[64], keep_msg[64], keep_dep[64];   /* rows under the cursors, by id */
    int feed_paused;
    int64_t feed_paused_seq;             /* newest item shown while paused */
    int detail_att;                      /* selected attempt */
    int detail_full;                     /* the whole response, not its head */

    enum ui_confirm confirm;
    char confirm_text[512];
    char confirm_counts[256];            /* a replay's dry run: what the server would send */
    char confirm_ep[128];                /* UI_CF_DISABLE, UI_CF_MISSING: which endpoint */
    int confirm_automark;                /* r marked the cursor row: unmark on "no" */
    char prompt[256];
    size_t prompt_len;
    int prompt_screen;                   /* whose filter the prompt edits */
    char prompt_error[200];              /* why the prompt's filter was refused; "" once fixed */

    /*
     * A drill-down: Enter on an endpoint shows its deliveries on the
     * failed screen. The operator's own filter waits in saved_* and comes
     * back when Esc (to drill_back) or a screen key leaves.
     */
    int drill;
    enum ui_screen drill_back;
    char drill_ep[128];
    char saved_filter_text[256];
    struct ui_filter saved_filter;
    char act_done[300];                  /* the note once an endpoint action succeeded */

    /* the tokens dialog (ui_tokens.h) */
    struct ui_cursor tok_cur;
    char tok_app[64];                    /* whose tokens: an app id, "" for all */
    char tok_home[64];                   /* the application it was opened for */
    int tok_confirm;                     /* "revoke?" is up */
    char tok_revoking[64];

    char note[256];                      /* a passing message in the footer */
    int note_bad;
    int64_t note_until;

    int connected;
    int hist_done;                       /* the server's rate history was asked for and came */
    int64_t down_since;
    char down_error[256];
    int auth_failed;

    long want[UI_RQ_N];                  /* latest request id per purpose, 0: none out */
    int64_t asked[UI_RQ_N];              /* when it was sent (monotonic ms) */
};

/* Set up state around a started http client (owned by the app from now on). */
/* Read DIR/name's first line (the server's listen or admin.token file); 0 or -1. */
int ui_read_dir_line(const char *dir, const char *name, char *out, size_t n);

void ui_app_init(struct ui_app *a, struct ui_http *http, int utf8);
void ui_app_release(struct ui_app *a);

/* Ask for what is due on the current screen (timers), plus what flags ask for. */
void ui_app_fetch(struct ui_app *a, int flags, int64_t now_ms);
/* Apply one response; returns UI_DRAW when the screen changed. */
int ui_app_on_resp(struct ui_app *a, struct ui_resp *r, int64_t now_ms);
/* Note which rows the cursors are on (by id) before the model changes. */
void ui_app_remember(struct ui_app *a);
/* Recompute the visible rows after data or filters changed, keeping the
 * cursors on the rows ui_app_remember() noted. */
void ui_app_refilter(struct ui_app *a);

/* Parse filter text; 0, or -1 with a reason in err. */
int ui_filter_parse(struct ui_filter *f, const char *text, int64_t now_ms, char *err,
                    size_t errlen);
int ui_filter_delivery(const struct ui_filter *f, const struct ui_model *m,
                       const struct ui_delivery *d);
int ui_filter_feed(const struct ui_filter *f, const struct ui_model *m,
                   const struct ui_feed_item *it);

/* Show a message in the footer for a few seconds. */
void ui_app_note(struct ui_app *a, int bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Server actions. Each returns the refresh flags it needs. */
int ui_app_replay_marked(struct ui_app *a);
int ui_app_replay_filtered(struct ui_app *a);
int ui_app_replay_detail(struct ui_app *a);
/*
 * Ask the server for a dry run of the replay the open confirmation is
 * about; its answer fills confirm_counts ("16 already succeeded").
 */
int ui_app_replay_count(struct ui_app *a);
int ui_app_pause_toggle(struct ui_app *a, const struct ui_endpoint *e);
int ui_app_enable(struct ui_app *a, const struct ui_endpoint *e, int enable);
/* Send a disabled endpoint what it missed since it was disabled (replay-missing). */
int ui_app_replay_missing(struct ui_app *a, const struct ui_endpoint *e);
int ui_app_open_detail(struct ui_app *a, const char *app_id, const char *msg_id,
                       const char *ep_id);
/* Apply the prompt text as the filter of prompt_screen; a bad one stays
 * in the prompt with the reason in prompt_error. */
int ui_app_apply_filter(struct ui_app *a);
/* Check the prompt text as it is typed: clears prompt_error once it parses. */
void ui_app_check_prompt(struct ui_app *a);
/* Show endpoint e's deliveries (any status) on the failed screen. */
int ui_app_drill(struct ui_app *a, const struct ui_endpoint *e);
/* Leave a drill-down: the operator's filter back, nothing else changed. */
int ui_app_drill_leave(struct ui_app *a);

/* Rows a list on the current screen may show (for paging). */
int ui_app_list_rows(const struct ui_app *a);
/* Can the server apply the whole failed-list filter (no globs, URL parts
 * or free text)? Then R replays by filter beyond the rows loaded. */
int ui_app_filter_on_server(const struct ui_app *a);
/* Failed deliveries that count for R (visible and not yet succeeded). */
size_t ui_app_count_filtered(const struct ui_app *a);
size_t ui_app_count_marked(const struct ui_app *a);

#endif
