/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_views_int.h - helpers shared by the view files: the title line with
 * the data's freshness, section rules, fitted text, health words and
 * colours, and the states of data not (yet) there. Internal to the views.
 */
#ifndef HOOKD_UI_VIEWS_INT_H
#define HOOKD_UI_VIEWS_INT_H

#include "ui_app.h"
#include "ui_term.h"

/* Text fitted to w columns at (y, x); right-aligned if right. */
void uv_text(int y, int x, int w, enum ui_style st, const char *s, int right);
/* A section rule across the screen: "─ title ─────". */
void uv_rule(const struct ui_app *a, int y, const char *title);
/* The title line: left text, then the freshness of res on the right. */
void uv_title(const struct ui_app *a, const char *left, const struct ui_res *res);
/* Data not there: "loading", "not available (HTTP 404)", or the error, at row y. */
int uv_missing(const struct ui_app *a, int y, const struct ui_res *res, const char *what);
/* Is res too old to trust (disconnected, or no fresh answer for a while)? */
int uv_stale(const struct ui_app *a, const struct ui_res *res);
/* Column headings line. */
void uv_heads(const struct ui_app *a, int y, const char *text);

const char *uv_health_word(enum ui_health h);
enum ui_style uv_health_style(enum ui_health h);
/* The first visible row of a list of n with cursor c in rows lines. */
int uv_top(const struct ui_cursor *c, int n, int rows);
/* "hooks.acme.io/billing" from "https://hooks.acme.io/billing". */
const char *uv_short_url(const char *url);

void uv_overview(const struct ui_app *a);
/* The overview's cluster panel at row y (ui_view_cluster.c), and the rows it takes (0: none). */
void uv_cluster(const struct ui_app *a, int y, enum ui_style st);
int uv_cluster_rows(const struct ui_app *a);
void uv_endpoints(const struct ui_app *a);
void uv_failed(const struct ui_app *a);
void uv_feed(const struct ui_app *a);
void uv_detail(const struct ui_app *a);
/* The application tokens dialog (ui_view_tokens.c). */
void uv_tokens_box(const struct ui_app *a);

#endif
