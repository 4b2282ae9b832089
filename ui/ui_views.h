/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_views.h - drawing the console's screens. A view reads the state
 * (struct ui_app) and draws it through ui_term; it changes nothing, so
 * any screen can be redrawn at any time (a timer tick, a resize, an
 * answer from the server) with the same result. Main thread only.
 */
#ifndef HOOKD_UI_VIEWS_H
#define HOOKD_UI_VIEWS_H

#include "ui_app.h"

/* Draw the whole screen for a->rows x a->cols, including any modal. */
void ui_views_draw(const struct ui_app *a);

#endif
