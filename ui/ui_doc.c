/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_doc.c - the detail screen's document (see ui_doc.h).
 *
 * Attempts come first: an operator opens a delivery to learn why it
 * failed, so the status codes and the receiver's answer lead, and the
 * payload and headers follow. Response bodies that are JSON are
 * pretty-printed like the payload; long lines wrap rather than vanish
 * past the edge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "mem.h"
#include "ui_app.h"
#include "ui_doc.h"
#include "ui_fmt.h"

#define RESPONSE_HEAD 6

static void add(struct ui_doc *d, enum ui_doc_kind kind, enum ui_style style, const char *text)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
    }
    d->v[d->n++] = (struct ui_doc_line){ kind, style, xstrdup(text), -1 };
}

/* Add an escaped line, wrapped at width columns with a two-space indent. */
static void add_wrapped(struct ui_doc *d, const char *line, int width, enum ui_style style)
{
    struct buf b = BUF_INIT;
    const char *p = line;
    int first = 1;
    do {
        int room = width - 2 - (first ? 0 : 2);
        size_t k = ui_prefix(p, room < 8 ? 8 : room);
        if (k == 0 && *p)
            k = 1;
        buf_reset(&b);
        buf_adds(&b, first ? "  " : "    ");
        buf_add(&b, p, k);
        add(d, UI_DOC_TEXT, style, b.data);
        p += k;
        first = 0;
    } while (*p);
    buf_release(&b);
}

static void add_lines(struct ui_doc *d, char **lines, size_t max, int width)
{
    for (size_t i = 0; lines && lines[i] && i < max; i++)
        add_wrapped(d, lines[i], width, UI_S_NORMAL);
}

static void attempt_row(struct buf *b, const struct ui_app *a, size_t i)
{
    const struct ui_attempt *t = &a->m.detail.att[i];
    char num[24], when[32], code[24], dur[32];
    snprintf(num, sizeof(num), "%zu", a->m.detail.natt - i);
    ui_fmt_clock(when, sizeof(when), t->ts, clock_now_ms());
    snprintf(code, sizeof(code), t->status_code ? "%ld" : "-", t->status_code);
    ui_fmt_ms(dur, sizeof(dur), (double)t->duration_ms);
    buf_reset(b);
    buf_adds(b, "  ");
    ui_fit(b, num, 3, 1);
    buf_adds(b, "  ");
    ui_fit(b, when, 11, 0);
    ui_fit(b, t->trigger == 1 ? "manual" : "scheduled", 10, 0);
    ui_fit(b, code, 5, 1);
    buf_adds(b, "  ");
    ui_fit(b, dur, 8, 1);
    buf_adds(b, "   ");
    ui_fit(b, t->response, a->cols - (int)b->len - 1, 0);
}

static char **response_lines(const struct ui_attempt *t, int utf8, size_t *n)
{
    json_t *j = json_loads(t->response_raw, JSON_DECODE_ANY, NULL);
    char *pretty = json_is_object(j) || json_is_array(j)
                   ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    const char *text = pretty ? pretty : t->response_raw;
    char **lines = ui_lines(text, strlen(text), utf8, n);
    free(pretty);
    return lines;
}

static void add_attempts(struct ui_doc *d, const struct ui_app *a, int width)
{
    const struct ui_detail *dt = &a->m.detail;
    struct buf b = BUF_INIT;
    add(d, UI_DOC_RULE, UI_S_SECTION, "Attempts");
    if (dt->att_res.state != UI_RES_OK) {
        add(d, UI_DOC_TEXT, UI_S_DIM, dt->att_res.state == UI_RES_NONE ? "  loading..."
                                      : "  attempts not available");
    } else if (!dt->natt) {
        add(d, UI_DOC_TEXT, UI_S_DIM, "  no attempts yet");
    } else {
        add(d, UI_DOC_HEAD, UI_S_HEAD, "    #  WHEN       TRIGGER    CODE      TIME   RESPONSE / ERROR");
        d->att_first = (int)d->n;
        for (size_t i = 0; i < dt->natt; i++) {
            attempt_row(&b, a, i);
            add(d, UI_DOC_ATTEMPT, dt->att[i].status == 0 ? UI_S_OK : UI_S_FAIL, b.data);
            d->v[d->n - 1].attempt = (int)i;
        }
    }
    if (dt->natt && a->detail_att < (int)dt->natt) {
        const struct ui_attempt *t = &dt->att[a->detail_att];
        size_t n;
        char **lines = response_lines(t, a->m.utf8, &n);
        buf_reset(&b);
        buf_addf(&b, "Response of attempt #%zu  %s", dt->natt - (size_t)a->detail_att, t->url);
        add(d, UI_DOC_RULE, UI_S_SECTION, b.data);
        size_t before = d->n;
        add_lines(d, lines, n, width);
        size_t shown = d->n - before;
        if (!a->detail_full && shown > RESPONSE_HEAD) {   /* counted on screen, wrapped */
            while (d->n > before + RESPONSE_HEAD)
                free(d->v[--d->n].text);
            buf_reset(&b);
            buf_addf(&b, "  ... %zu more lines (Enter shows the whole response)",
                     shown - RESPONSE_HEAD);
            add(d, UI_DOC_TEXT, UI_S_DIM, b.data);
        }
        ui_lines_free(lines);
        buf_reset(&b);
        buf_addf(&b, "Response headers of attempt #%zu", dt->natt - (size_t)a->detail_att);
        add(d, UI_DOC_RULE, UI_S_SECTION, b.data);
        if (t->nheaders)
            add_lines(d, t->headers, t->nheaders, width);
        else
            add(d, UI_DOC_TEXT, UI_S_DIM, t->status_code ? "  none recorded (an older server)"
                                                         : "  none: no response came");
    }
    buf_release(&b);
}

static void add_headers(struct ui_doc *d, const struct ui_app *a, int width)
{
    const struct ui_detail *dt = &a->m.detail;
    struct buf b = BUF_INIT;
    add(d, UI_DOC_RULE, UI_S_SECTION, "Headers sent (hookd's set; signatures are not recorded)");
    int64_t ts = dt->natt ? dt->att[a->detail_att < (int)dt->natt ? a->detail_att : 0].ts : dt->ts;
    buf_addf(&b, "content-type: application/json\nuser-agent: hookd/%s\nwebhook-id: ",
             a->m.stats.version[0] ? a->m.stats.version : "?");
    ui_escape(&b, dt->msg_id, strlen(dt->msg_id), a->m.utf8, 1);
    buf_addf(&b, "\nwebhook-timestamp: %lld\nwebhook-signature: v1,...", (long long)(ts / 1000));
    size_t n;
    char **lines = ui_lines(b.data, b.len, 1, &n);
    add_lines(d, lines, n, width);
    add_lines(d, dt->headers, dt->nheaders, width);
    ui_lines_free(lines);
    buf_release(&b);
}

void ui_doc_build(struct ui_doc *d, const struct ui_app *a, int cols)
{
    memset(d, 0, sizeof(*d));
    d->att_first = -1;
    const struct ui_detail *dt = &a->m.detail;
    if (!dt->msg_id)
        return;
    add_attempts(d, a, cols);
    add(d, UI_DOC_RULE, UI_S_SECTION, "Payload");
    if (dt->msg_res.state == UI_RES_OK)
        add_lines(d, dt->payload, dt->npayload, cols);
    else
        add(d, UI_DOC_TEXT, UI_S_DIM, dt->msg_res.state == UI_RES_NONE ? "  loading..."
                                      : "  message not available");
    add_headers(d, a, cols);
}

void ui_doc_release(struct ui_doc *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].text);
    free(d->v);
    memset(d, 0, sizeof(*d));
}

int ui_doc_rows(const struct ui_app *a)
{
    int n = a->rows - 3;   /* title, note line, footer */
    return n < 1 ? 1 : n;
}
