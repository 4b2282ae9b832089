/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_tokens.c - the application tokens dialog of the Endpoints screen
 * (`t`): the tokens of the selected endpoint's application from
 * GET /hookd/v1/tokens, and revoking one (DELETE /hookd/v1/tokens/{id})
 * after a y/n, all inside the dialog. The model part (parsing the list),
 * the keys while the dialog is up and the two requests live here; the
 * box is drawn by ui_view_tokens.c. Main thread only; no curses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mem.h"
#include "ui_fmt.h"
#include "ui_http.h"
#include "ui_json.h"
#include "ui_term.h"
#include "ui_tokens.h"

static void tokens_free(struct ui_model *m)
{
    for (size_t i = 0; i < m->ntokens; i++) {
        free(m->tokens[i].id);
        free(m->tokens[i].app_id);
        free(m->tokens[i].app_uid);
        free(m->tokens[i].prefix);
        free(m->tokens[i].access);
    }
    free(m->tokens);
    m->tokens = NULL;
    m->ntokens = 0;
}

void ui_model_tokens_release(struct ui_model *m)
{
    tokens_free(m);
}

static const char *access_word(json_t *o)
{
    if (ui_json_bool(o, "readOnly"))
        return "read-only";
    return json_array_size(json_object_get(o, "capabilities")) == 6 ? "full" : "limited";
}

int ui_model_tokens(struct ui_model *m, const char *body)
{
    json_t *root = json_loads(body, 0, NULL), *list = ui_json_list(root), *o;
    if (!list) {
        json_decref(root);
        return -1;
    }
    tokens_free(m);
    m->tokens = xcalloc(json_array_size(list) + 1, sizeof(*m->tokens));
    size_t i;
    json_array_foreach(list, i, o) {
        struct ui_token *t = &m->tokens[m->ntokens++];
        t->id = ui_json_dup(o, "id");
        t->app_id = ui_json_dup(o, "appId");
        t->app_uid = ui_json_esc(o, "appUid", m->utf8);
        t->prefix = ui_json_esc(o, "prefix", m->utf8);
        t->access = xstrdup(access_word(o));
        t->expired = ui_json_bool(o, "expired");
        t->created_at = ui_json_time(o, "createdAt");
        t->expires_at = ui_json_time(o, "expiresAt");
    }
    json_decref(root);
    return 0;
}

/* --- the controller's side --------------------------------------------------- */

void ui_tokens_fetch(struct ui_app *a, int force, int64_t now)
{
    if (a->modal != UI_MODAL_TOKENS)
        return;
    if (!force && a->want[UI_RQ_TOKENS] && now - a->asked[UI_RQ_TOKENS] < 10000)
        return;
    if (!force && a->asked[UI_RQ_TOKENS] && now - a->asked[UI_RQ_TOKENS] < 2000)
        return;
    struct buf b = BUF_INIT;
    buf_adds(&b, "/hookd/v1/tokens?limit=250");
    if (a->tok_app[0]) {
        buf_adds(&b, "&app_id=");
        ui_url_escape(&b, a->tok_app);
    }
    a->want[UI_RQ_TOKENS] = ui_http_submit(a->http, UI_RQ_TOKENS, "GET", b.data, NULL);
    a->asked[UI_RQ_TOKENS] = now;
    buf_release(&b);
}

int ui_tokens_open(struct ui_app *a, const char *app_id)
{
    snprintf(a->tok_app, sizeof(a->tok_app), "%s", app_id ? app_id : "");
    a->tok_cur.cur = a->tok_cur.top = 0;
    a->tok_confirm = 0;
    a->modal = UI_MODAL_TOKENS;
    tokens_free(&a->m);
    memset(&a->m.tokens_res, 0, sizeof(a->m.tokens_res));
    a->asked[UI_RQ_TOKENS] = 0;
    return UI_DRAW | UI_FETCH_TOKENS;
}

static const struct ui_token *cur_token(const struct ui_app *a)
{
    if (a->tok_cur.cur < 0 || (size_t)a->tok_cur.cur >= a->m.ntokens)
        return NULL;
    return &a->m.tokens[a->tok_cur.cur];
}

static int revoke(struct ui_app *a)
{
    const struct ui_token *t = cur_token(a);
    a->tok_confirm = 0;
    if (!t)
        return UI_DRAW;
    struct buf b = BUF_INIT;
    buf_adds(&b, "/hookd/v1/tokens/");
    ui_url_escape(&b, t->id);
    snprintf(a->tok_revoking, sizeof(a->tok_revoking), "%s", t->id);
    a->want[UI_RQ_TOKREV] = ui_http_submit(a->http, UI_RQ_TOKREV, "DELETE", b.data, NULL);
    buf_release(&b);
    return UI_DRAW;
}

int ui_tokens_key(struct ui_app *a, int key)
{
    int n = (int)a->m.ntokens;
    if (a->tok_confirm) {
        if (key == 'y' || key == 'Y')
            return revoke(a);
        a->tok_confirm = 0;
        return UI_DRAW;
    }
    switch (key) {
    case UI_KEY_UP: case 'k': a->tok_cur.cur--; break;
    case UI_KEY_DOWN: case 'j': a->tok_cur.cur++; break;
    case UI_KEY_HOME: case 'g': a->tok_cur.cur = 0; break;
    case UI_KEY_END: case 'G': a->tok_cur.cur = n - 1; break;
    case 'x': case 'd': case UI_KEY_DELETE:
        a->tok_confirm = cur_token(a) != NULL;
        return UI_DRAW;
    case 'a':   /* every application's tokens, or back to this one's */
        return ui_tokens_open(a, a->tok_app[0] ? "" : a->tok_home);
    case UI_KEY_ESC: case 'q': case 't':
        a->modal = UI_MODAL_NONE;
        return UI_DRAW;
    default:
        return 0;
    }
    if (a->tok_cur.cur >= n)
        a->tok_cur.cur = n - 1;
    if (a->tok_cur.cur < 0)
        a->tok_cur.cur = 0;
    return UI_DRAW;
}

int ui_tokens_on_resp(struct ui_app *a, struct ui_resp *r, int64_t now)
{
    enum ui_rq rq = (enum ui_rq)r->tag;
    if (r->id != a->want[rq])
        return 0;
    a->want[rq] = 0;
    if (rq == UI_RQ_TOKREV) {
        if (r->status == 204) {
            ui_app_note(a, 0, "token %s revoked: it is refused from now on", a->tok_revoking);
        } else {
            char *detail = ui_model_error_detail(r->body);
            ui_app_note(a, 1, "revoking %s failed: %s", a->tok_revoking,
                        r->status == 0 ? r->error : detail ? detail : "server error");
            free(detail);
        }
        ui_tokens_fetch(a, 1, now);
        return UI_DRAW;
    }
    if (r->status == 200 && ui_model_tokens(&a->m, r->body) == 0) {
        ui_res_ok(&a->m.tokens_res, now);
        if (a->tok_cur.cur >= (int)a->m.ntokens)
            a->tok_cur.cur = a->m.ntokens ? (int)a->m.ntokens - 1 : 0;
    } else {
        char *detail = ui_model_error_detail(r->body);
        ui_res_fail(&a->m.tokens_res, r->status, r->status == 0 ? r->error : detail);
        free(detail);
    }
    return UI_DRAW;
}
