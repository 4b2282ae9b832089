/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_keys_int.h - actions of the failed list, the feed and the detail,
 * and the keys of the modals, shared between ui_keys.c (the table) and
 * ui_keys_lists.c. Internal to the key module.
 */
#ifndef HOOKD_UI_KEYS_INT_H
#define HOOKD_UI_KEYS_INT_H

#include "ui_app.h"

int ui_act_mark(struct ui_app *a);
int ui_act_mark_all(struct ui_app *a);
int ui_act_replay(struct ui_app *a);
int ui_act_replay_all(struct ui_app *a);
int ui_act_clear_filter(struct ui_app *a);
int ui_act_open(struct ui_app *a);
int ui_act_feed_pause(struct ui_app *a);
int ui_act_feed_clear(struct ui_app *a);
int ui_act_detail_replay(struct ui_app *a);
int ui_act_full(struct ui_app *a);

/* A key while a confirmation or the filter prompt is up. */
int ui_keys_confirm(struct ui_app *a, int key);
int ui_keys_prompt(struct ui_app *a, int key);

#endif
