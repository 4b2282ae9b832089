/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_list.c - the ListResponse envelope over sorted keys (API.md 3.7).
 *
 * Keys are prefix|id and ids sort by time, so a page is one ordered cursor
 * scan: forward pages continue after the iterator in the list's order,
 * an iterator of "-id" pages backwards (scan the other way, then reverse).
 * limit + 1 rows are fetched to know whether the page is the last.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "err.h"
#include "mem.h"

struct collect {
    const struct api_page *p;
    size_t plen;
    int want;            /* limit + 1 */
    json_t *rows;
    char **ids;          /* ids of the collected rows */
    int n;
    size_t seen;         /* keys examined */
    char *cut;           /* id of the key max_scan stopped at, or NULL */
};

static int collect_row(const struct store_kv *kv, void *arg)
{
    struct collect *c = arg;
    json_t *row = c->p->row(kv, c->p->arg);
    c->seen++;
    if (!row && c->p->max_scan && c->seen >= c->p->max_scan) {
        c->cut = xstrndup((const char *)kv->key + c->plen, kv->klen - c->plen);
        return 1;
    }
    if (!row)
        return 0;
    json_array_append_new(c->rows, row);
    c->ids[c->n++] = xstrndup((const char *)kv->key + c->plen, kv->klen - c->plen);
    return c->n >= c->want;
}

static int parse_limit(struct http_req *r, int *limit)
{
    const char *v = http_query(r, "limit");
    *limit = 50;
    if (!v)
        return 0;
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == '\0' || *end || x < 1 || x > 250) {
        http_verror(r, "query.limit", "value_error.number.not_le",
                    "limit must be an integer between 1 and 250");
        return -1;
    }
    *limit = (int)x;
    return 0;
}

static int parse_order(struct http_req *r, const struct api_page *p, int *descending)
{
    const char *v = http_query(r, "order");
    *descending = p->descending;
    if (!v || p->fixed_order)
        return 0;
    if (strcmp(v, "ascending") == 0)
        *descending = 0;
    else if (strcmp(v, "descending") == 0)
        *descending = 1;
    else {
        http_verror(r, "query.order", "type_error.enum", "order must be ascending or descending");
        return -1;
    }
    return 0;
}

static void key_of(struct buf *b, const char *prefix, const char *id)
{
    buf_reset(b);
    buf_adds(b, prefix);
    if (id)
        buf_adds(b, id);
}

static int key_less(const struct buf *a, const struct buf *b)
{
    int c = memcmp(a->data, b->data, a->len < b->len ? a->len : b->len);
    return c < 0 || (c == 0 && a->len < b->len);
}

/* The [lo, hi) key range for a scan from iterator it in direction desc. */
static void range(const struct api_page *p, const char *it, int desc, struct buf *lo,
                  struct buf *hi, int *has_hi)
{
    key_of(lo, p->prefix, p->lo_id);
    *has_hi = p->hi_id || p->prefix[0];
    if (p->hi_id)
        key_of(hi, p->prefix, p->hi_id);
    else
        key_of(hi, p->prefix, "\x7f");
    if (!it)
        return;
    struct buf k = BUF_INIT;
    key_of(&k, p->prefix, it);
    if (desc) {           /* rows strictly below the iterator */
        if (!*has_hi || key_less(&k, hi)) {
            key_of(hi, p->prefix, it);
            *has_hi = 1;
        }
    } else {              /* rows strictly above it: append a 0 byte */
        buf_addc(&k, '\0');
        if (key_less(lo, &k)) {
            buf_reset(lo);
            buf_add(lo, k.data, k.len);
        }
    }
    buf_release(&k);
}

static void reverse_rows(struct collect *c)
{
    json_t *rev = json_array();
    for (int i = c->n - 1; i >= 0; i--)
        json_array_append(rev, json_array_get(c->rows, (size_t)i));
    json_decref(c->rows);
    c->rows = rev;
    for (int i = 0, j = c->n - 1; i < j; i++, j--) {
        char *t = c->ids[i];
        c->ids[i] = c->ids[j];
        c->ids[j] = t;
    }
}

static json_t *minus(const char *id)
{
    char *s = xmalloc(strlen(id) + 2);
    s[0] = '-';
    strcpy(s + 1, id);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static void set_iterators(json_t *out, const struct collect *c, int backwards)
{
    json_object_set_new(out, "iterator", c->n ? json_string(c->ids[c->n - 1]) : json_null());
    json_object_set_new(out, "prevIterator", c->n ? minus(c->ids[0]) : json_null());
    if (!c->cut)
        return;
    /* max_scan stopped the scan: go on from the last key it examined, in its direction */
    if (backwards)
        json_object_set_new(out, "prevIterator", minus(c->cut));
    else
        json_object_set_new(out, "iterator", json_string(c->cut));
}

/* One store's rows of the page, in scan order: up to limit + 1, and its cut. */
static int collect_page(struct store_txn *t, const struct api_page *p, const char *it,
                        int scan_desc, int limit, struct collect *c)
{
    int has_hi;
    struct buf lo = BUF_INIT, hi = BUF_INIT;
    range(p, it, scan_desc, &lo, &hi, &has_hi);
    memset(c, 0, sizeof(*c));
    c->p = p;
    c->plen = strlen(p->prefix);
    c->want = limit + 1;
    c->rows = json_array();
    c->ids = xcalloc((size_t)limit + 1, sizeof(char *));
    int rc = store_scan(t, p->db, lo.data, lo.len, has_hi ? hi.data : NULL, hi.len, scan_desc,
                        collect_row, c);
    buf_release(&lo);
    buf_release(&hi);
    return rc;
}

static void collect_release(struct collect *c)
{
    json_decref(c->rows);
    for (int i = 0; i < c->n; i++)
        free(c->ids[i]);
    free(c->ids);
    free(c->cut);
}

/* Does id a come before id b in the scan's order? */
static int before(const char *a, const char *b, int scan_desc)
{
    int d = strcmp(a, b);
    return scan_desc ? d > 0 : d < 0;
}

/*
 * The first cut in scan order of the stores that were cut (max_scan):
 * beyond it, a store's rows are unknown, so the merge stops there.
 */
static const char *first_cut(const struct collect *cs, int n, int scan_desc)
{
    const char *cut = NULL;
    for (int i = 0; i < n; i++)
        if (cs[i].cut && (!cut || before(cs[i].cut, cut, scan_desc)))
            cut = cs[i].cut;
    return cut;
}

/*
 * The rows of n stores' pages merged in scan order into out, up to
 * out->want (limit + 1), stopping at the first cut: exactly the page one
 * store holding them all would give, its ids being unique.
 */
static void merge_pages(struct collect *cs, int n, int scan_desc, struct collect *out)
{
    int *at = xcalloc((size_t)n, sizeof(int));
    const char *cut = first_cut(cs, n, scan_desc);
    while (out->n < out->want) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (at[i] < cs[i].n
                && (best < 0 || before(cs[i].ids[at[i]], cs[best].ids[at[best]], scan_desc)))
                best = i;
        if (best < 0 || (cut && before(cut, cs[best].ids[at[best]], scan_desc)))
            break;
        json_array_append(out->rows, json_array_get(cs[best].rows, (size_t)at[best]));
        out->ids[out->n++] = xstrdup(cs[best].ids[at[best]++]);
    }
    if (cut && out->n < out->want)
        out->cut = xstrdup(cut);
    free(at);
}

void api_list_groups(struct http_req *r, struct store_txn *const *ts,
                     const struct api_page *const *ps, int n)
{
    int limit, desc;
    if (parse_limit(r, &limit) || parse_order(r, ps[0], &desc))
        return;
    const char *it = http_query(r, "iterator");
    int backwards = it && it[0] == '-';
    if (it && (backwards ? it[1] == '\0' : it[0] == '\0'))
        it = NULL;
    if (backwards && it)
        it++;
    int scan_desc = backwards ? !desc : desc, rc = 0;
    struct collect *cs = xcalloc((size_t)n, sizeof(*cs));
    for (int i = 0; i < n; i++) {
        int x = collect_page(ts[i], ps[i], it, scan_desc, limit, &cs[i]);
        if (x < 0 && !rc)
            rc = x;
    }
    struct collect c = { .p = ps[0], .want = limit + 1, .rows = json_array() };
    c.ids = xcalloc((size_t)limit + 1, sizeof(char *));
    merge_pages(cs, n, scan_desc, &c);
    for (int i = 0; i < n; i++)
        collect_release(&cs[i]);
    free(cs);
    int done = c.n <= limit && !c.cut;
    if (c.n > limit) {   /* drop the look-ahead row */
        json_array_remove(c.rows, (size_t)limit);
        free(c.ids[--c.n]);
    }
    if (backwards)
        reverse_rows(&c);
    if (rc < 0) {
        api_store_error(r, rc);
    } else {
        json_t *out = json_pack("{s:o, s:b}", "data", c.rows, "done", done);
        c.rows = NULL;
        set_iterators(out, &c, backwards);
        if (ps[0]->splice)
            api_splice_reply(r, 200, out, ps[0]->splice);
        else
            http_reply_json(r, 200, out);
    }
    collect_release(&c);
}

void api_list(struct http_req *r, struct store_txn *t, const struct api_page *p)
{
    api_list_groups(r, &t, &p, 1);
}
