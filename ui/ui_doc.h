/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_doc.h - the detail screen as a document of lines: the attempts with
 * the selected one's response, the payload, the headers sent. Built from
 * the model for a given width, so that the view draws a window of it and
 * the key actions know how far there is to scroll and where the selected
 * attempt sits. No curses; main thread only.
 */
#ifndef HOOKD_UI_DOC_H
#define HOOKD_UI_DOC_H

#include <stddef.h>

#include "ui_term.h"

struct ui_app;

enum ui_doc_kind { UI_DOC_TEXT, UI_DOC_RULE, UI_DOC_HEAD, UI_DOC_ATTEMPT };

struct ui_doc_line {
    enum ui_doc_kind kind;
    enum ui_style style;
    char *text;             /* escaped; a rule's title */
    int attempt;            /* UI_DOC_ATTEMPT: its index */
};

struct ui_doc {
    struct ui_doc_line *v;
    size_t n, cap;
    int att_first;          /* line of attempt 0, -1 without attempts */
};

/* Build the detail document of a for text width cols. */
void ui_doc_build(struct ui_doc *doc, const struct ui_app *a, int cols);
void ui_doc_release(struct ui_doc *doc);

/* Rows of the screen the document scrolls in. */
int ui_doc_rows(const struct ui_app *a);

#endif
