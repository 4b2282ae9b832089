/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_model_lists.c - the failed deliveries, the live feed and the detail
 * of one delivery (see ui_model.h).
 *
 * Replays are followed through the feed rather than by polling each
 * delivery: the console marks the rows it replays as queued, and the
 * attempt outcomes that stream in through /hookd/v1/feed turn them green
 * or red. A list refresh from the server drops rows that are no longer
 * failed, so a followed row the server stopped listing is kept, on top,
 * with its outcome, until the operator changes the filter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "jscan.h"
#include "mem.h"
#include "ui_fmt.h"
#include "ui_json.h"
#include "ui_model.h"

static void delivery_free(struct ui_delivery *d)
{
    free(d->msg_id);
    free(d->app_id);
    free(d->ep_id);
    free(d->event_type);
    free(d->status);
    free(d->last_error);
}

static void delivery_parse(struct ui_delivery *d, json_t *o, int utf8)
{
    memset(d, 0, sizeof(*d));
    d->msg_id = ui_json_dup(o, "msgId");
    d->app_id = ui_json_dup(o, "appId");
    d->ep_id = ui_json_dup(o, "endpointId");
    d->event_type = ui_json_esc(o, "eventType", utf8);
    json_t *st = json_object_get(o, "status");
    if (json_is_integer(st)) {
        static const char *const names[] = { "success", "pending", "fail", "sending", "held" };
        json_int_t k = json_integer_value(st);
        d->status = xstrdup(k >= 0 && k <= 4 ? names[k] : "?");
    } else {
        d->status = ui_json_esc(o, "status", utf8);
    }
    d->last_error = ui_json_esc(o, "lastError", utf8);
    d->attempts = (long)ui_json_num(o, 0, UI_NAMES("attempts", "attemptCount"));
    d->last_status = (long)ui_json_num(o, -1, UI_NAMES("lastStatusCode"));
    d->next_at = ui_json_time(o, "nextAttemptAt");
    d->updated_at = ui_json_time(o, "updatedAt");
    /* a scheduled message's delivery (deliverAt): pending, never tried, due later */
    if (strcmp(d->status, "pending") == 0 && d->attempts == 0 && d->next_at > clock_now_ms()) {
        free(d->status);
        d->status = xstrdup("scheduled");
    }
}

void ui_model_failed_clear(struct ui_model *m)
{
    for (size_t i = 0; i < m->nfailed; i++)
        delivery_free(&m->failed[i]);
    m->nfailed = 0;
    m->failed_done = 0;
}

static struct ui_delivery *find(struct ui_delivery *v, size_t n, const char *msg, const char *ep)
{
    for (size_t i = 0; i < n; i++)   /* rows moved out during a merge have no ids */
        if (v[i].msg_id && !strcmp(v[i].msg_id, msg) && !strcmp(v[i].ep_id, ep))
            return &v[i];
    return NULL;
}

struct ui_delivery *ui_model_find_failed(struct ui_model *m, const char *msg_id,
                                         const char *ep_id)
{
    return find(m->failed, m->nfailed, msg_id, ep_id);
}

int ui_model_failed(struct ui_model *m, const char *body)
{
    json_t *root = json_loads(body, 0, NULL), *list = ui_json_list(root);
    if (!list) {
        json_decref(root);
        return -1;
    }
    size_t n = json_array_size(list), k = 0;
    struct ui_delivery *fresh = xcalloc(n + m->nfailed, sizeof(*fresh));
    /* followed rows the server no longer lists stay on top */
    for (size_t i = 0; i < m->nfailed; i++) {
        struct ui_delivery *old = &m->failed[i];
        int listed = 0;
        for (size_t j = 0; j < n && !listed; j++) {
            json_t *o = json_array_get(list, j);
            const char *msg = ui_json_str(o, "msgId"), *ep = ui_json_str(o, "endpointId");
            listed = msg && ep && !strcmp(msg, old->msg_id) && !strcmp(ep, old->ep_id);
        }
        if (old->track != UI_T_NONE && !listed) {
            fresh[k++] = *old;
            memset(old, 0, sizeof(*old));
        }
    }
    for (size_t j = 0; j < n; j++) {
        struct ui_delivery *d = &fresh[k++];
        delivery_parse(d, json_array_get(list, j), m->utf8);
        struct ui_delivery *old = find(m->failed, m->nfailed, d->msg_id, d->ep_id);
        if (old) {
            d->marked = old->marked;
            d->track = old->track;
            d->track_status = old->track_status;
        }
    }
    m->failed_done = json_is_true(json_object_get(root, "done")) || json_is_array(root);
    json_decref(root);
    for (size_t i = 0; i < m->nfailed; i++)
        if (m->failed[i].msg_id)
            delivery_free(&m->failed[i]);
    free(m->failed);
    m->failed = fresh;
    m->nfailed = k;
    return 0;
}

const char *ui_skip_words(const char *why)
{
    static const char *const words[][2] = {
        { "endpoint_disabled", "endpoint disabled" }, { "missing_payload", "payload expired" },
        { "endpoint", "endpoint gone" }, { "message", "message gone" },
        { "delivery", "no such delivery" }, { "gone", "deleted meanwhile" },
    };
    for (size_t i = 0; why && i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(why, words[i][0]) == 0)
            return words[i][1];
    return why && why[0] ? why : "gone, disabled or expired";
}

size_t ui_model_replay_answer(struct ui_model *m, const char *body)
{
    json_t *o = json_loads(body, 0, NULL), *list = json_object_get(o, "skippedDeliveries");
    size_t n = 0, i;
    json_t *it;
    json_array_foreach(list, i, it) {
        const char *msg = ui_json_str(it, "msgId"), *ep = ui_json_str(it, "endpointId");
        const char *why = ui_json_str(it, "reason");
        struct ui_delivery *d = msg && ep ? find(m->failed, m->nfailed, msg, ep) : NULL;
        if (!d || d->track != UI_T_QUEUED)
            continue;
        d->track = UI_T_SKIPPED;
        snprintf(d->track_why, sizeof(d->track_why), "%s", why ? why : "");
        n++;
    }
    json_t *queued = json_object_get(o, "queued");
    for (i = 0; json_is_integer(queued) && !json_integer_value(queued) && i < m->nfailed; i++)
        if (m->failed[i].track == UI_T_QUEUED) {
            m->failed[i].track = UI_T_SKIPPED;
            m->failed[i].track_why[0] = '\0';
            n++;
        }
    json_decref(o);
    return n;
}

/* --- live feed --- */

static void feed_item_free(struct ui_feed_item *f)
{
    free(f->msg_id);
    free(f->app_id);
    free(f->ep_id);
    free(f->event_type);
    free(f->error);
    memset(f, 0, sizeof(*f));
}

void ui_model_feed_clear(struct ui_model *m)
{
    for (size_t i = 0; i < m->nfeed; i++)
        feed_item_free(&m->feed[(m->feed_head + i) % UI_FEED_MAX]);
    m->nfeed = 0;
    m->feed_head = 0;
}

const struct ui_feed_item *ui_model_feed_at(const struct ui_model *m, size_t i)
{
    return &m->feed[(m->feed_head + i) % UI_FEED_MAX];
}

static void feed_item_parse(struct ui_feed_item *f, json_t *o, int utf8)
{
    f->seq = (int64_t)ui_json_num(o, 0, UI_NAMES("seq"));
    f->ts = ui_json_time(o, "timestamp");
    f->msg_id = ui_json_dup(o, "msgId");
    f->app_id = ui_json_dup(o, "appId");
    f->ep_id = ui_json_dup(o, "endpointId");
    f->event_type = ui_json_esc(o, "eventType", utf8);
    f->error = ui_json_esc(o, "error", utf8);
    f->status = (long)ui_json_num(o, 0, UI_NAMES("statusCode", "responseStatusCode"));
    f->duration_ms = (long)ui_json_num(o, 0, UI_NAMES("durationMs", "responseDurationMs"));
    f->ok = ui_json_bool(o, "ok");
    json_t *tr = json_object_get(o, "triggerType");
    f->manual = json_is_string(tr) ? strcmp(json_string_value(tr), "manual") == 0
                                   : json_integer_value(tr) == 1;
}

/* An outcome for a row of the failed list changes the row's state. */
static void feed_track(struct ui_model *m, const struct ui_feed_item *f)
{
    struct ui_delivery *d = find(m->failed, m->nfailed, f->msg_id, f->ep_id);
    if (!d || (!f->ok && d->track == UI_T_NONE))
        return;
    if (d->track != UI_T_NONE) {
        /* a replayed row the server no longer lists keeps its old count: count the
         * manual attempt here (a listed row's count comes back with the next refresh) */
        d->attempts++;
        d->last_status = f->status;
    }
    d->track = f->ok ? UI_T_OK : UI_T_FAIL;
    d->track_status = f->status;
}

int ui_model_feed(struct ui_model *m, const char *body)
{
    json_t *root = json_loads(body, 0, NULL);
    json_t *items = json_object_get(root, "items");
    if (!json_is_array(items)) {
        json_decref(root);
        return -1;
    }
    size_t n = json_array_size(items);
    for (size_t i = 0; i < n; i++) {
        struct ui_feed_item *f;
        if (m->nfeed == UI_FEED_MAX) {
            f = &m->feed[m->feed_head];
            feed_item_free(f);
            m->feed_head = (m->feed_head + 1) % UI_FEED_MAX;
        } else {
            f = &m->feed[(m->feed_head + m->nfeed++) % UI_FEED_MAX];
        }
        feed_item_parse(f, json_array_get(items, i), m->utf8);
        feed_track(m, f);
    }
    json_t *seq = json_object_get(root, "seq");
    if (json_is_integer(seq))
        m->feed_seq = json_integer_value(seq);
    json_decref(root);
    return (int)n;
}

/* --- detail --- */

static void attempts_free(struct ui_detail *d)
{
    for (size_t i = 0; i < d->natt; i++) {
        free(d->att[i].id);
        free(d->att[i].url);
        free(d->att[i].response);
        free(d->att[i].response_raw);
        ui_lines_free(d->att[i].headers);
    }
    free(d->att);
    d->att = NULL;
    d->natt = 0;
}

void ui_detail_release(struct ui_detail *d)
{
    free(d->app_id);
    free(d->msg_id);
    free(d->ep_id);
    free(d->event_type);
    free(d->event_id);
    ui_lines_free(d->payload);
    ui_lines_free(d->headers);
    attempts_free(d);
    memset(d, 0, sizeof(*d));
}

void ui_detail_open(struct ui_detail *d, const char *app_id, const char *msg_id,
                    const char *ep_id)
{
    ui_detail_release(d);
    d->app_id = xstrdup(app_id);
    d->msg_id = xstrdup(msg_id);
    d->ep_id = xstrdup(ep_id);
}

int ui_model_detail_msg(struct ui_model *m, const char *body)
{
    struct ui_detail *d = &m->detail;
    json_t *o = json_loads(body, 0, NULL);
    struct jscan_span sp = { 0 };
    if (!o) {   /* a payload number jansson cannot hold (1e400): shown as sent */
        size_t n = strlen(body);
        char *masked = xmalloc(n + 1);
        jscan_mask(body, n, 0, masked, &sp);
        o = json_loads(masked, 0, NULL);
        free(masked);
    }
    if (!json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    free(d->event_type);
    free(d->event_id);
    d->event_type = ui_json_esc(o, "eventType", m->utf8);
    d->event_id = ui_json_esc(o, "eventId", m->utf8);
    d->ts = ui_json_time(o, "timestamp");
    json_t *p = json_object_get(o, "payload");
    char *text = sp.found ? xstrndup(body + sp.at, sp.len)
                 : p ? json_dumps(p, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
                 : NULL;
    ui_lines_free(d->payload);
    d->payload = ui_lines(text ? text : "(no payload)", strlen(text ? text : "(no payload)"),
                          m->utf8, &d->npayload);
    free(text);
    json_decref(o);
    return 0;
}

static void attempt_parse(struct ui_attempt *a, json_t *o, int utf8)
{
    a->id = ui_json_dup(o, "id");
    a->url = ui_json_esc(o, "url", utf8);
    a->response = ui_json_esc(o, "response", utf8);
    a->response_raw = ui_json_dup(o, "response");
    a->status_code = (long)ui_json_num(o, 0, UI_NAMES("responseStatusCode"));
    a->duration_ms = (long)ui_json_num(o, -1, UI_NAMES("responseDurationMs"));
    a->status = (long)ui_json_num(o, 2, UI_NAMES("status"));
    a->trigger = (long)ui_json_num(o, 0, UI_NAMES("triggerType"));
    a->ts = ui_json_time(o, "timestamp");
    json_t *h = json_object_get(o, "responseHeaders"), *pair;
    struct buf text = BUF_INIT;
    size_t i;
    json_array_foreach(h, i, pair) {
        const char *k = json_string_value(json_array_get(pair, 0));
        const char *v = json_string_value(json_array_get(pair, 1));
        if (k)
            buf_addf(&text, "%s%s: %s", text.len ? "\n" : "", k, v ? v : "");
    }
    a->headers = text.len ? ui_lines(text.data, text.len, utf8, &a->nheaders) : NULL;
    buf_release(&text);
}

int ui_model_detail_attempts(struct ui_model *m, const char *body)
{
    struct ui_detail *d = &m->detail;
    /* a response may hold NUL (API.md 4.4): \u0000 in the JSON */
    json_t *root = json_loads(body, JSON_ALLOW_NUL, NULL), *list = ui_json_list(root);
    if (!list) {
        json_decref(root);
        return -1;
    }
    attempts_free(d);
    d->natt = json_array_size(list);
    d->att = xcalloc(d->natt, sizeof(*d->att));
    for (size_t i = 0; i < d->natt; i++)
        attempt_parse(&d->att[i], json_array_get(list, i), m->utf8);
    json_decref(root);
    return 0;
}

int ui_model_detail_headers(struct ui_model *m, const char *body)
{
    struct ui_detail *d = &m->detail;
    json_t *o = json_loads(body, 0, NULL), *h = json_object_get(o, "headers");
    json_t *sens = json_object_get(o, "sensitive");
    if (!json_is_object(h)) {
        json_decref(o);
        return -1;
    }
    struct buf text = BUF_INIT;
    const char *name;
    json_t *v;
    json_object_foreach(h, name, v)
        buf_addf(&text, "%s: %s\n", name, json_is_string(v) ? json_string_value(v) : "");
    size_t i;
    json_array_foreach(sens, i, v)
        buf_addf(&text, "%s: (sensitive, not shown)\n", json_is_string(v) ? json_string_value(v) : "?");
    if (text.len)
        text.data[--text.len] = '\0';
    ui_lines_free(d->headers);
    d->headers = text.len ? ui_lines(text.data, text.len, m->utf8, &d->nheaders) : NULL;
    if (!text.len)
        d->nheaders = 0;
    buf_release(&text);
    json_decref(o);
    return 0;
}
