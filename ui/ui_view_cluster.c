/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_view_cluster.c - the overview's cluster panel, when the server runs
 * in cluster mode: every node of the server's view (GET /hookd/v1/stats
 * cluster.nodes: the node asked first), with its role, the partition
 * groups it owns or follows, the last log entry it applied, how far it
 * lags the log, whether it answers, and its HTTP address. The console
 * talks to one node; the panel is that node's view of the others.
 */
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "ui_fmt.h"
#include "ui_views_int.h"

#define STATE_W 17   /* "UNREACHABLE 59 s" */
#define HTTP_MIN 15  /* "127.0.0.1:65535": narrower, the column is left out */

/* Room for the HTTP column after the columns up to STATE (x columns wide)? */
static int http_fits(const struct ui_app *a, int x)
{
    return a->cols - (x + STATE_W + 1) - 1 >= HTTP_MIN;
}

/* The columns up to STATE, the same for the heads and the rows. */
static void columns(struct buf *b, const char *id, const char *role, const char *groups,
                    const char *seq, const char *lag)
{
    buf_adds(b, "  ");
    ui_fit(b, id, 16, 0);
    buf_addc(b, ' ');
    ui_fit(b, role, 8, 0);
    buf_addc(b, ' ');
    ui_fit(b, groups, 10, 0);
    buf_addc(b, ' ');
    ui_fit(b, seq, 9, 1);
    buf_addc(b, ' ');
    ui_fit(b, lag, 10, 1);
    buf_adds(b, "  ");
}

/* "12", "340 (8 s)" with its age when it has one, "-" when not said. */
static void lag_text(const struct ui_node *n, char *out, size_t len)
{
    char c[32], s[32];
    if (n->lag < 0) {
        snprintf(out, len, "-");
        return;
    }
    ui_fmt_count(c, sizeof(c), n->lag);
    if (n->lag > 0 && n->lag_s >= 1) {
        ui_fmt_age(s, sizeof(s), (int64_t)(n->lag_s * 1000));
        snprintf(out, len, "%s (%s)", c, s);
    } else {
        snprintf(out, len, "%s", c);
    }
}

/* "answers", or "UNREACHABLE 12 s" since it last answered. */
static void state_text(const struct ui_node *n, char *out, size_t len)
{
    char s[32];
    if (n->reachable) {
        snprintf(out, len, "answers");
        return;
    }
    if (n->silent_ms < 0) {
        snprintf(out, len, "UNREACHABLE");
        return;
    }
    ui_fmt_age(s, sizeof(s), (int64_t)n->silent_ms);
    snprintf(out, len, "UNREACHABLE %s", s);
}

static void node_row(const struct ui_app *a, int y, const struct ui_node *n, enum ui_style st)
{
    char id[80], seq[32], lag[80], state[48];
    struct buf b = BUF_INIT;
    snprintf(id, sizeof(id), "%s%s", n->id, n->self ? " (this)" : "");
    if (n->seq >= 0)
        snprintf(seq, sizeof(seq), "%.0f", n->seq);
    else
        snprintf(seq, sizeof(seq), "-");
    lag_text(n, lag, sizeof(lag));
    state_text(n, state, sizeof(state));
    columns(&b, id, n->role, n->groups[0] ? n->groups : "-", seq, lag);
    enum ui_style row = !n->reachable ? UI_S_FAIL : n->lag > 0 ? UI_S_WARN
                        : strcmp(n->role, "owner") == 0 ? UI_S_BOLD : st;
    uv_text(y, 0, a->cols, st == UI_S_DIM ? st : row, b.data, 0);
    int x = ui_width(b.data);
    uv_text(y, x, STATE_W, st == UI_S_DIM ? st : n->reachable ? UI_S_OK : UI_S_FAIL, state, 0);
    if (http_fits(a, x))
        uv_text(y, x + STATE_W + 1, a->cols - x - STATE_W - 2, st == UI_S_DIM ? st : UI_S_DIM,
            n->listen[0] ? n->listen : "-", 0);
    buf_release(&b);
}

int uv_cluster_rows(const struct ui_app *a)
{
    const struct ui_cluster *c = &a->m.stats.cluster;
    if (!c->on)
        return 0;
    return c->n ? 2 + (int)c->n + (c->more ? 1 : 0) : 2;
}

void uv_cluster(const struct ui_app *a, int y, enum ui_style st)
{
    const struct ui_cluster *c = &a->m.stats.cluster;
    char t[200], last[32] = "?";
    if (!c->on)
        return;
    if (c->log_seq >= 0)
        snprintf(last, sizeof(last), "%.0f", c->log_seq);
    snprintf(t, sizeof(t), "Cluster: log at %s, owner %s", last, c->owner[0] ? c->owner : "unknown");
    uv_rule(a, y, t);
    if (!c->n) {   /* a server that does not list its cluster's nodes */
        snprintf(t, sizeof(t), "this node %s is %s; the server lists no other node", c->node_id,
                 c->role);
        uv_text(y + 1, 2, a->cols - 4, st, t, 0);
        return;
    }
    struct buf h = BUF_INIT;
    columns(&h, "NODE", "ROLE", "GROUPS", "APPLIED", "LAG");
    int x = ui_width(h.data);
    ui_fit(&h, "STATE", STATE_W + 1, 0);
    if (http_fits(a, x))
        buf_adds(&h, "HTTP");
    uv_heads(a, y + 1, h.data);
    buf_release(&h);
    for (size_t i = 0; i < c->n; i++)
        node_row(a, y + 2 + (int)i, &c->nodes[i], st);
    if (c->more) {
        snprintf(t, sizeof(t), "and %zu more nodes (GET /hookd/v1/stats lists them all)", c->more);
        uv_text(y + 2 + (int)c->n, 2, a->cols - 4, UI_S_DIM, t, 0);
    }
}
