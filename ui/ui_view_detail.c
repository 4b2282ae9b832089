/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_view_detail.c - one delivery: which message went where, then a
 * scrolling window on the document of ui_doc.c (attempts, the selected
 * attempt's response, payload, headers).
 */
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "ui_doc.h"
#include "ui_fmt.h"
#include "ui_views_int.h"

static void detail_title(const struct ui_app *a)
{
    const struct ui_detail *d = &a->m.detail;
    const struct ui_endpoint *e = ui_model_endpoint(&a->m, d->ep_id);
    struct buf b = BUF_INIT, t = BUF_INIT;
    buf_addf(&b, "%s  %s  app %s  %s  %s", d->msg_id, d->event_type ? d->event_type : "",
             ui_model_app_label(&a->m, d->app_id), a->m.utf8 ? "\u2192" : "->",
             e ? uv_short_url(e->url) : d->ep_id);
    ui_escape(&t, b.data, b.len, a->m.utf8, 1);
    uv_title(a, t.data, &d->att_res);
    buf_release(&b);
    buf_release(&t);
}

void uv_detail(const struct ui_app *a)
{
    detail_title(a);
    struct ui_doc doc;
    ui_doc_build(&doc, a, a->cols);
    int rows = ui_doc_rows(a), top = a->detail_cur.top;
    if (top > (int)doc.n - rows)
        top = (int)doc.n - rows;
    if (top < 0)
        top = 0;
    for (int i = 0; i < rows && top + i < (int)doc.n; i++) {
        const struct ui_doc_line *l = &doc.v[top + i];
        int y = 1 + i;
        if (l->kind == UI_DOC_RULE) {
            uv_rule(a, y, l->text);
        } else if (l->kind == UI_DOC_HEAD) {
            ui_term_fill(y, 0, a->cols, UI_S_HEAD);
            uv_text(y, 0, a->cols, UI_S_HEAD, l->text, 0);
        } else if (l->kind == UI_DOC_ATTEMPT && l->attempt == a->detail_att) {
            ui_term_fill(y, 0, a->cols, UI_S_CURSOR);
            uv_text(y, 0, a->cols, UI_S_CURSOR, l->text, 0);
        } else {
            uv_text(y, 0, a->cols, l->style, l->text, 0);
        }
    }
    if (top + rows < (int)doc.n) {
        char more[64];
        snprintf(more, sizeof(more), " %d more lines, PgDn ", (int)doc.n - top - rows);
        uv_text(a->rows - 2, a->cols - ui_width(more) - 1, ui_width(more), UI_S_DIM, more, 0);
    }
    ui_doc_release(&doc);
}
