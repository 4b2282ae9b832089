/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_tokens.h - the application tokens dialog (ui_tokens.c): opened with
 * `t` on the Endpoints screen for the selected endpoint's application,
 * it lists that application's tokens (`a`: every application's) and
 * revokes the selected one after a y/n. Main thread only; no curses.
 */
#ifndef HOOKD_UI_TOKENS_H
#define HOOKD_UI_TOKENS_H

#include "ui_app.h"

/* Replace the token list from a GET /hookd/v1/tokens body. 0 or -1. */
int ui_model_tokens(struct ui_model *m, const char *body);
/* Free the token list (ui_model_release calls it). */
void ui_model_tokens_release(struct ui_model *m);

/* Open the dialog for app_id ("" or NULL: every application). */
int ui_tokens_open(struct ui_app *a, const char *app_id);
/* A key while the dialog is up; returns refresh flags. */
int ui_tokens_key(struct ui_app *a, int key);
/* Ask for the list when the dialog is up and it is due (or force). */
void ui_tokens_fetch(struct ui_app *a, int force, int64_t now_ms);
/* An answer to UI_RQ_TOKENS or UI_RQ_TOKREV; returns UI_DRAW or 0. */
int ui_tokens_on_resp(struct ui_app *a, struct ui_resp *r, int64_t now_ms);

#endif
