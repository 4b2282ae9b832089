/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_keys.h - the key table: which key does what on which screen. Each
 * action changes the console's state (ui_app) and returns what needs
 * refreshing (UI_DRAW, UI_FETCH_*, UI_QUIT); none of them draws. The
 * footer and the help screen are generated from the same table, so a key
 * cannot work without being documented. Main thread only; no curses.
 */
#ifndef HOOKD_UI_KEYS_H
#define HOOKD_UI_KEYS_H

#include "ui_app.h"

#define UI_ON(s) (1u << (s))
#define UI_ON_ALL ((1u << UI_SCR_N) - 1)
#define UI_ON_LISTS (UI_ON(UI_SCR_ENDPOINTS) | UI_ON(UI_SCR_FAILED) | UI_ON(UI_SCR_FEED) \
                     | UI_ON(UI_SCR_DETAIL))

struct ui_binding {
    unsigned screens;          /* UI_ON(...) mask */
    int key, key2;             /* the key and an alternative (0: none) */
    int (*fn)(struct ui_app *a);
    const char *name;          /* the key as shown: "space", "PgDn" */
    const char *label;         /* what it does, in a word or two (footer) */
    int footer;                /* shown in the footer: 3 kept longest when narrow, 1 dropped
                                  first; 0 not shown (the help lists it) */
    const char *help;          /* the longer line of the help screen */
    int drill_only;            /* only in a drill-down (Enter on an endpoint) */
};

/* The table, in help order; *n gets its length. */
const struct ui_binding *ui_keys_table(size_t *n);

/* Handle one key (UI_KEY_* or a character); returns refresh flags. */
int ui_keys_handle(struct ui_app *a, int key);

#endif
