/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_view_tokens.c - the application tokens dialog (ui_tokens.h): a box
 * over the Endpoints screen with one row per token (id, application,
 * the token's first characters, access, expiry; under 90 columns the
 * application only when the list has every application's, the expiry
 * otherwise), the selected row highlighted, and its keys, or the revoke
 * question, at the bottom.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "ui_fmt.h"
#include "ui_views_int.h"

/* Room for the APP column (the title names the application when it is one). */
static int wide(int w)
{
    return w >= 84;
}

static void token_row(const struct ui_app *a, const struct ui_token *t, int y, int x, int w,
                      int selected)
{
    char exp[40], age[32], line[300];
    int64_t left = t->expires_at - clock_now_ms();
    ui_fmt_age(age, sizeof(age), left);
    snprintf(exp, sizeof(exp), t->expired || left <= 0 ? "expired" : "in %s", age);
    const char *app = t->app_uid[0] ? t->app_uid : ui_model_app_label(&a->m, t->app_id);
    if (wide(w))
        snprintf(line, sizeof(line), " %-31s %-12.12s %s...  %-9s %s", t->id, app, t->prefix,
                 t->access, exp);
    else if (!a->tok_app[0])   /* every application: which one matters more than when */
        snprintf(line, sizeof(line), " %-31s %-12.12s %s...  %s", t->id, app, t->prefix,
                 t->access);
    else
        snprintf(line, sizeof(line), " %-31s %s...  %-9s %s", t->id, t->prefix, t->access, exp);
    enum ui_style st = selected ? UI_S_CURSOR : t->expired ? UI_S_DIM : UI_S_NORMAL;
    ui_term_fill(y, x, w, st);
    uv_text(y, x, w, st, line, 0);
}

void uv_tokens_box(const struct ui_app *a)
{
    int w = a->cols - 4 < 100 ? a->cols - 4 : 100, h = a->rows - 6;
    int x = (a->cols - w) / 2, y = 3, rows = h - 6;
    for (int i = 0; i < h; i++)
        ui_term_fill(y + i, x, w, UI_S_NORMAL);
    ui_term_box(y, x, h, w, UI_S_SECTION);
    char title[160];
    snprintf(title, sizeof(title), " Application tokens of %s (%zu) ",
             a->tok_app[0] ? ui_model_app_label(&a->m, a->tok_app) : "every application",
             a->m.ntokens);
    uv_text(y, x + 2, w - 4, UI_S_SECTION, title, 0);
    uv_text(y + 1, x + 1, w - 2, UI_S_HEAD, wide(w - 2)
            ? " ID                              APP          TOKEN          ACCESS    EXPIRES"
            : !a->tok_app[0] ? " ID                              APP          TOKEN          ACCESS"
            : " ID                              TOKEN          ACCESS    EXPIRES", 0);
    if (!uv_missing(a, y + 2, &a->m.tokens_res, "tokens") && a->m.ntokens == 0)
        uv_text(y + 2, x + 2, w - 4, UI_S_DIM, "no tokens (POST /api/v1/auth/app-portal-access "
                "or hookd ctl token-create make them)", 0);
    int top = uv_top(&a->tok_cur, (int)a->m.ntokens, rows);
    for (int i = 0; i < rows && (size_t)(top + i) < a->m.ntokens; i++)
        token_row(a, &a->m.tokens[top + i], y + 2 + i, x + 1, w - 2, top + i == a->tok_cur.cur);
    char keys[200];
    if (a->tok_confirm && (size_t)a->tok_cur.cur < a->m.ntokens) {
        snprintf(keys, sizeof(keys), "Revoke %s? It is refused from then on.",
                 a->m.tokens[a->tok_cur.cur].id);
        uv_text(y + h - 3, x + 2, w - 4, UI_S_WARN, keys, 0);
        snprintf(keys, sizeof(keys), "y Yes   n No");
    } else {
        snprintf(keys, sizeof(keys), "Up/Down select   x Revoke   a %s   Esc Close",
                 a->tok_app[0] ? "Every application" : "This application");
    }
    uv_text(y + h - 2, x + 2, w - 4, UI_S_KEY, keys, 0);
}
