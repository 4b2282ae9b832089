/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msgrec.c - the message record's layout (msgrec.h).
 *
 * The reader checks the head field by field and the tail backwards from
 * the end. Both are short and fully known, so the payload is exactly what
 * lies between them: no byte of it is read here.
 */
#include <string.h>

#include "msgrec.h"

void msgrec_head(struct buf *o, const char *msg_id, const char *type, const char *event_id,
                 const char *const *channels, size_t nchannels)
{
    struct msgrec_extra none = { 0 };
    msgrec_head_ext(o, msg_id, type, event_id, channels, nchannels, &none);
}

static void names(struct buf *o, const char *key, const char *const *v, size_t n)
{
    buf_adds(o, key);
    for (size_t i = 0; i < n; i++) {
        buf_adds(o, i ? ",\"" : "\"");
        buf_adds(o, v[i]);
        buf_addc(o, '"');
    }
    buf_addc(o, ']');
}

void msgrec_head_ext(struct buf *o, const char *msg_id, const char *type, const char *event_id,
                     const char *const *channels, size_t nchannels,
                     const struct msgrec_extra *x)
{
    buf_adds(o, "{\"id\":\"");
    buf_adds(o, msg_id);
    buf_adds(o, "\",\"eventType\":\"");
    buf_adds(o, type);
    if (event_id && event_id[0]) {
        buf_adds(o, "\",\"eventId\":\"");
        buf_adds(o, event_id);
        buf_adds(o, "\",");
    } else {
        buf_adds(o, "\",\"eventId\":null,");
    }
    if (nchannels)
        names(o, "\"channels\":[", channels, nchannels);
    else
        buf_adds(o, "\"channels\":null");
    if (x->ntags)
        names(o, ",\"tags\":[", x->tags, x->ntags);
    if (x->deliver_at) {
        buf_adds(o, ",\"deliverAt\":");
        buf_adds(o, x->deliver_at);
    }
    buf_adds(o, ",\"payload\":");
}

void msgrec_tail(struct buf *o, int64_t retention_days, int64_t ts_ms, const char *raw)
{
    buf_adds(o, ",\"retentionDays\":");
    buf_add_int(o, retention_days);
    buf_adds(o, ",\"timestamp\":");
    buf_add_int(o, ts_ms);
    if (raw) {
        buf_adds(o, ",\"raw\":");
        buf_adds(o, raw);
    }
    buf_addc(o, '}');
}

/* --- reading ----------------------------------------------------------------- */

struct cur {
    const char *base, *p, *end;
};

static int lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

static int name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
           || ch == '-' || ch == '_' || ch == '.';
}

/* "name": a non-empty run of name characters between quotes. */
static int quoted_name(struct cur *c, size_t *at, size_t *len)
{
    if (lit(c, "\""))
        return -1;
    const char *start = c->p;
    while (c->p < c->end && name_char(*c->p))
        c->p++;
    if (at)
        *at = (size_t)(start - c->base);
    if (len)
        *len = (size_t)(c->p - start);
    return c->p == start ? -1 : lit(c, "\"");
}

/* A non-empty array of quoted names. */
static int name_list(struct cur *c)
{
    if (lit(c, "["))
        return -1;
    do {
        if (quoted_name(c, NULL, NULL))
            return -1;
    } while (lit(c, ",") == 0);
    return lit(c, "]");
}

/* The optional fields after channels: tags, then deliverAt (ms, or a quoted time). */
static int head_extra(struct cur *c)
{
    if (lit(c, ",\"tags\":") == 0 && name_list(c))
        return -1;
    if (lit(c, ",\"deliverAt\":"))
        return 0;
    const char *start = c->p;
    int quoted = lit(c, "\"") == 0;
    while (c->p < c->end && ((*c->p >= '0' && *c->p <= '9')
                             || (quoted && strchr("-:.TZ+", *c->p) && *c->p)))
        c->p++;
    if (quoted && lit(c, "\""))
        return -1;
    return c->p == start ? -1 : 0;
}

/* Up to and including "payload":; the view gets the eventType. */
static int head(struct cur *c, struct msgrec_view *v)
{
    if (lit(c, "{\"id\":") || quoted_name(c, NULL, NULL) || lit(c, ",\"eventType\":")
        || quoted_name(c, &v->type, &v->type_len) || lit(c, ",\"eventId\":"))
        return -1;
    if (lit(c, "null") && quoted_name(c, NULL, NULL))
        return -1;
    if (lit(c, ",\"channels\":"))
        return -1;
    if (lit(c, "null") && name_list(c))
        return -1;
    if (head_extra(c))
        return -1;
    return lit(c, ",\"payload\":");
}

/* Backwards: the text s ends at *end; move *end before it. */
static int lit_before(const char *from, const char **end, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(*end - from) < n || memcmp(*end - n, s, n) != 0)
        return -1;
    *end -= n;
    return 0;
}

/* Backwards: a non-negative integer of at most 18 digits ends at *end. */
static int int_before(const char *from, const char **end, int64_t *out)
{
    const char *q = *end;
    while (q > from && *end - q < 19 && q[-1] >= '0' && q[-1] <= '9')
        q--;
    if (q == *end || *end - q > 18)
        return -1;
    int64_t x = 0;
    for (const char *d = q; d < *end; d++)
        x = x * 10 + (*d - '0');
    *out = x;
    *end = q;
    return 0;
}

/*
 * Backwards: a JSON string ends at *end (its closing quote at end[-1]).
 * Inside it every quote is escaped, so its opening quote is the first
 * one, going back, preceded by an even number of backslashes.
 */
static int string_before(const char *from, const char **end)
{
    const char *q = *end - 1;
    if (q <= from || *q != '"')
        return -1;
    while (--q >= from) {
        if (*q != '"')
            continue;
        const char *b = q;
        while (b > from && b[-1] == '\\')
            b--;
        if ((q - b) % 2 == 0) {
            *end = q;
            return 0;
        }
    }
    return -1;
}

/* Backwards: an optional ,"raw":"…" before the closing brace. */
static int raw_before(const char *from, const char **end, struct msgrec_view *v)
{
    const char *e = *end, *s = e;
    v->raw = v->raw_len = 0;
    if (e - from < 2 || e[-1] != '"' || string_before(from, &s)
        || lit_before(from, &s, ",\"raw\":"))
        return 0;
    v->raw = (size_t)(s - from) + 7;   /* strlen(",\"raw\":") */
    v->raw_len = (size_t)(e - s) - 7;
    *end = s;
    return 0;
}

int msgrec_slice(const char *rec, size_t n, struct msgrec_view *v)
{
    struct cur c = { rec, rec, rec + n };
    int64_t days;
    if (head(&c, v))
        return -1;
    const char *end = rec + n;
    if (lit_before(c.p, &end, "}") || raw_before(c.p, &end, v))
        return -1;
    if (v->raw_len)
        v->raw += (size_t)(c.p - rec);
    if (int_before(c.p, &end, &v->ts_ms)
        || lit_before(c.p, &end, ",\"timestamp\":") || int_before(c.p, &end, &days)
        || lit_before(c.p, &end, ",\"retentionDays\":"))
        return -1;
    if (end - c.p < 2 || *c.p != '{' || end[-1] != '}')
        return -1;
    v->payload = (size_t)(c.p - rec);
    v->payload_len = (size_t)(end - c.p);
    return 0;
}

json_t *msgrec_parse(const char *rec, size_t n, struct msgrec_view *v)
{
    struct msgrec_view local;
    if (!v)
        v = &local;
    if (msgrec_slice(rec, n, v)) {
        *v = (struct msgrec_view){ 0 };
        return json_loadb(rec, n, 0, NULL);
    }
    size_t after = v->payload + v->payload_len;
    struct buf b = BUF_INIT;
    buf_grow(&b, n - v->payload_len + 3);
    buf_add(&b, rec, v->payload);
    buf_adds(&b, "{}");
    buf_add(&b, rec + after, n - after);
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    buf_release(&b);
    if (j)   /* jscan or jansson checked it as JSON, so it is UTF-8 */
        json_object_set_new(j, "payload", json_stringn_nocheck(rec + v->payload, v->payload_len));
    return j;
}
