/* SPDX-License-Identifier: Apache-2.0 */
/*
 * missing.c - the messages an endpoint missed (missing.h).
 *
 * A message record is read without a JSON parse where it can be: ingest
 * writes every record in one layout (msgrec.h) whose head holds the
 * eventType and the channels before the payload, and names there hold no
 * quote, so the head can be searched as text. A record in another shape
 * (an older build's, one with a raw body first) is parsed whole instead;
 * an expired one starts with {"expired":true and is known at once.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "missing.h"
#include "store.h"

#define HEAD_MAX 4096   /* id, type, eventId and ten channels fit well within */

static const char expired_mark[] = "{\"expired\":true";

/* A message's type and channels as read from its record. */
struct msg_head {
    char type[260];
    const char *chan;         /* the channels array text ("[...]"), or NULL: none */
    size_t chan_len;
    json_t *parsed;           /* set when the record had to be parsed */
};

/* memmem within the first n bytes. */
static const char *find(const char *s, size_t n, const char *what)
{
    size_t wl = strlen(what);
    for (size_t i = 0; i + wl <= n; i++)
        if (s[i] == what[0] && memcmp(s + i, what, wl) == 0)
            return s + i;
    return NULL;
}

/* The layout of msgrec.h: 0, or -1 when the record is in another shape. */
static int head_text(const char *rec, size_t n, struct msg_head *h)
{
    size_t hn = n < HEAD_MAX ? n : HEAD_MAX;
    const char *end = find(rec, hn, "\"payload\":");
    const char *ty = end ? find(rec, (size_t)(end - rec), "\"eventType\":\"") : NULL;
    if (!ty)
        return -1;
    ty += strlen("\"eventType\":\"");
    const char *q = memchr(ty, '"', (size_t)(end - ty));
    if (!q || (size_t)(q - ty) >= sizeof(h->type))
        return -1;
    memcpy(h->type, ty, (size_t)(q - ty));
    h->type[q - ty] = '\0';
    const char *ch = find(q, (size_t)(end - q), "\"channels\":");
    if (ch && ch[strlen("\"channels\":")] == '[') {
        h->chan = ch + strlen("\"channels\":");
        const char *close = memchr(h->chan, ']', (size_t)(end - h->chan));
        if (!close)
            return -1;
        h->chan_len = (size_t)(close - h->chan) + 1;
    }
    return 0;
}

/* The record parsed: for shapes head_text does not know. 1 expired, 0 read, -1 not. */
static int head_json(const char *rec, size_t n, struct msg_head *h)
{
    json_t *o = json_loadb(rec, n, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
    if (!o)
        return -1;
    h->parsed = o;
    if (json_is_true(json_object_get(o, "expired")) || !json_object_get(o, "payload"))
        return 1;
    snprintf(h->type, sizeof(h->type), "%s",
             json_string_value(json_object_get(o, "eventType")) ? json_string_value(json_object_get(o, "eventType")) : "");
    return 0;
}

/* Does the message carry channel name (len bytes)? */
static int has_channel(const struct msg_head *h, const char *name)
{
    if (h->parsed) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(h->parsed, "channels"), i, c)
            if (json_is_string(c) && strcmp(json_string_value(c), name) == 0)
                return 1;
        return 0;
    }
    char quoted[300];
    int ql = snprintf(quoted, sizeof(quoted), "\"%s\"", name);
    return h->chan && ql > 0 && (size_t)ql < sizeof(quoted)
           && find(h->chan, h->chan_len, quoted) != NULL;
}

static int name_in(json_t *arr, const char *name)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
        if (json_is_string(x) && strcmp(json_string_value(x), name) == 0)
            return 1;
    return 0;
}

/* The fan-out rule (api_ingest.c, ep_matches): type in eventTypes, a channel in channels. */
static int filters_take(json_t *ep_rec, const struct msg_head *h)
{
    json_t *types = json_object_get(ep_rec, "eventTypes");
    json_t *chans = json_object_get(ep_rec, "channels");
    if (json_is_array(types) && !name_in(types, h->type))
        return 0;
    if (!json_is_array(chans))
        return 1;
    size_t i;
    json_t *x;
    json_array_foreach(chans, i, x)
        if (json_is_string(x) && has_channel(h, json_string_value(x)))
            return 1;
    return 0;
}

int missing_still(struct store_txn *t, const char *msg_id, const char *ep_id)
{
    char key[2 * ID_MAX];
    const void *v;
    size_t n, kl = (size_t)snprintf(key, sizeof(key), "%s%s", msg_id, ep_id);
    int rc = store_get(t, DB_DELIVERIES, key, kl, &v, &n);
    return rc == HOOKD_ENOTFOUND ? 1 : rc ? rc : 0;
}

static enum missing_class classify(struct store_txn *t, const char *ep, json_t *ep_rec,
                                   const char *msg, const char *rec, size_t n)
{
    struct msg_head h = { .chan = NULL };
    int expired = n >= sizeof(expired_mark) - 1
                  && memcmp(rec, expired_mark, sizeof(expired_mark) - 1) == 0;
    enum missing_class c;
    if (!expired && head_text(rec, n, &h) != 0) {
        int r = head_json(rec, n, &h);
        if (r < 0)
            return MISSING_UNREADABLE;
        expired = r == 1;
    }
    if (!expired && !filters_take(ep_rec, &h))
        c = MISSING_FILTERED;
    else if (missing_still(t, msg, ep) != 1)
        c = MISSING_DELIVERED;
    else
        c = expired ? MISSING_EXPIRED : MISSING_FOUND;
    json_decref(h.parsed);
    return c;
}

void missing_walk_init(struct missing_walk *w, const char *app, const char *ep,
                       int64_t since_ms, int64_t until_ms)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->app, sizeof(w->app), "%s", app);
    snprintf(w->ep, sizeof(w->ep), "%s", ep);
    id_bound("msg_", since_ms, 0, w->pos);
    if (until_ms >= 0)
        id_bound("msg_", until_ms, 0, w->hi);
}

/* Messages made before the endpoint are not its to miss. */
static void skip_before_endpoint(struct missing_walk *w, json_t *ep_rec)
{
    json_t *created = json_object_get(ep_rec, "createdAt");
    char lo[ID_MAX];
    if (!json_is_integer(created))
        return;
    id_bound("msg_", json_integer_value(created), 0, lo);
    if (strcmp(lo, w->pos) > 0)
        memcpy(w->pos, lo, sizeof(lo));
}

int missing_walk_step(struct missing_walk *w, struct store_txn *t, json_t *ep_rec,
                      size_t max_scan, int (*found)(const char *msg_id, void *arg), void *arg)
{
    struct store_cursor *c;
    struct store_kv kv;
    char key[2 * ID_MAX + 2], msg[ID_MAX];
    size_t al = strlen(w->app), seen = 0;
    int end = 0, full = 0;
    if (w->done)
        return 1;
    skip_before_endpoint(w, ep_rec);
    int rc = store_cursor_open(t, DB_MESSAGES, &c);
    if (rc)
        return rc;
    size_t kl = (size_t)snprintf(key, sizeof(key), "%s%s", w->app, w->pos);
    rc = store_cursor_seek(c, key, kl, &kv);
    while (rc == 0 && seen < max_scan && !full) {
        size_t ml = kv.klen - al;
        if (kv.klen <= al || memcmp(kv.key, w->app, al) != 0 || ml >= ID_MAX) {
            end = 1;   /* past the app's messages */
            break;
        }
        memcpy(msg, (const char *)kv.key + al, ml);
        msg[ml] = '\0';
        if (w->hi[0] && strcmp(msg, w->hi) >= 0) {
            end = 1;
            break;
        }
        seen++;
        enum missing_class cl = classify(t, w->ep, ep_rec, msg, kv.val, kv.vlen);
        w->counts[cl]++;
        snprintf(w->pos, sizeof(w->pos), "%s~", msg);   /* '~' sorts after every id char */
        full = cl == MISSING_FOUND && found && found(msg, arg);
        if (!full)
            rc = store_cursor_next(c, &kv);
    }
    store_cursor_close(c);
    if (rc == HOOKD_ENOTFOUND)
        end = 1;
    else if (rc < 0)
        return rc;
    w->done = end;
    return end;
}
