/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_cmds.c - the commands of `hookd ctl`, one function each, in the
 * table at the end (which also gives `hookd ctl --help` its lines).
 *
 * Each command is one or a few calls of the public API: what it can do,
 * a script can do with curl, and the server applies the same checks.
 * Lists follow the API's iterators to the end (or to --limit rows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "ctl_int.h"

#define PAGE 250

/*
 * Every row of a paginated list from path (which has a '?'), up to max
 * rows (0: all) into one array (owned by the caller). CTL_OK or an error.
 */
static int fetch_all(struct ctl *c, const char *what, const char *path, long max, json_t **out)
{
    json_t *all = json_array();
    char *iter = NULL;
    int rc = CTL_OK;
    for (;;) {
        struct buf b;
        buf_init(&b);
        long want = max ? max - (long)json_array_size(all) : PAGE;
        buf_addf(&b, "%s&limit=%ld", path, want < PAGE ? want : PAGE);
        ctl_add_query(&b, "iterator", iter);
        json_t *page = NULL;
        rc = ctl_request(c, what, "GET", b.data, NULL, &page);
        buf_release(&b);
        if (rc)
            break;
        json_array_extend(all, json_object_get(page, "data"));
        const char *next = json_string_value(json_object_get(page, "iterator"));
        int done = json_is_true(json_object_get(page, "done")) || !next
                   || (max && (long)json_array_size(all) >= max);
        free(iter);
        iter = next ? xstrdup(next) : NULL;
        json_decref(page);
        if (done)
            break;
    }
    free(iter);
    if (rc)
        json_decref(all);
    else
        *out = all;
    return rc;
}

/* "/PREFIX/app/APP/endpoint/EP" plus suffix, the ids escaped. */
static char *ep_path(const char *prefix, const char *app, const char *ep, const char *suffix)
{
    struct buf b;
    buf_init(&b);
    buf_addf(&b, "%s/app/", prefix);
    ctl_add_escaped(&b, app);
    buf_adds(&b, "/endpoint/");
    ctl_add_escaped(&b, ep);
    buf_adds(&b, suffix);
    return buf_detach(&b, NULL);
}

/* An empty list says so on stderr, so stdout stays a table (or nothing). */
static int none(json_t *rows, const char *what)
{
    if (json_array_size(rows))
        return 0;
    fprintf(stderr, "no %s\n", what);
    return 1;
}

/* Cluster mode: the node asked, and every node of its view (docs/operations.md 8). */
static void status_cluster(json_t *cl)
{
    static const char *const head[] = { "NODE", "ROLE", "GROUP", "APPLIED", "LAG", "STATE",
                                        "HTTP" };
    json_t *nodes = json_object_get(cl, "nodes"), *n;
    struct ctl_table t;
    size_t i;
    printf("cluster: node %s, %s; owner %s; log at %lld\n", ctl_str(cl, "nodeId"),
           ctl_str(cl, "role"), ctl_str(cl, "owner"),
           (long long)json_integer_value(json_object_get(cl, "logSeq")));
    if (!json_array_size(nodes))
        return;
    ctl_table_init(&t, 7, head);
    json_array_foreach(nodes, i, n) {
        const char *role = ctl_str(n, "role");
        json_t *g = json_object_get(n, strcmp(role, "owner") == 0 ? "owns" : "follows");
        char id[96], seq[24], lag[24];
        snprintf(id, sizeof(id), "%s%s", ctl_str(n, "nodeId"),
                 json_is_true(json_object_get(n, "self")) ? " (this)" : "");
        snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(json_object_get(n, "seq")));
        snprintf(lag, sizeof(lag), "%lld", (long long)json_integer_value(
                     json_object_get(json_object_get(n, "lag"), "entries")));
        char groups[256] = "";
        size_t k;
        json_t *v;
        json_array_foreach(g, k, v)   /* every group it owns (or follows) */
            if (json_is_string(v) && strlen(groups) + json_string_length(v) + 2 < sizeof(groups))
                snprintf(groups + strlen(groups), sizeof(groups) - strlen(groups), "%s%s",
                         *groups ? "," : "", json_string_value(v));
        ctl_table_row(&t, id, role, *groups ? groups : "-", seq, lag,
                      json_is_true(json_object_get(n, "reachable")) ? "answers" : "UNREACHABLE",
                      ctl_str(n, "listen"));
    }
    ctl_table_print(&t);
    ctl_table_release(&t);
}

static int cmd_status(struct ctl *c)
{
    json_t *s = NULL;
    int rc = ctl_request(c, "stats", "GET", "/hookd/v1/stats", NULL, &s);
    if (rc)
        return rc;
    if (c->json) {
        ctl_print_json(s);
    } else {
        json_int_t up = json_integer_value(json_object_get(s, "uptimeS"));
        printf("hookd %s at %s, up %lld s\n", ctl_str(s, "version"), c->target.url,
               (long long)up);
        static const char *const rows[][2] = {
            { "messagesIngested", "messages ingested" }, { "attemptsSucceeded", "attempts succeeded" },
            { "attemptsFailed", "attempts failed" }, { "deliveriesPending", "deliveries pending" },
            { "deliveriesScheduled", "deliveries waiting for a retry" },
            { "deliveriesHeld", "deliveries held" }, { "deliveriesFailed", "deliveries failed" },
            { "inflight", "deliveries in flight" }, { "messagesStored", "messages stored" },
            { "dbBytes", "store bytes" }, { "mapBytes", "store map bytes" },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            json_t *v = json_object_get(s, rows[i][0]);
            if (json_is_integer(v))
                printf("  %-31s %lld\n", rows[i][1], (long long)json_integer_value(v));
        }
        if (json_is_object(json_object_get(s, "cluster")))
            status_cluster(json_object_get(s, "cluster"));
    }
    json_decref(s);
    return CTL_OK;
}

/* One list's table: what it lists, its header, how an API object becomes a row. */
struct listing {
    const char *what;   /* "applications": said on stderr when there are none */
    int cols;
    const char *head[8];
    void (*row)(struct ctl_table *t, json_t *o);
};

/* rows as JSON (--json) or as the listing's table; takes rows. */
static int show(const struct ctl *c, json_t *rows, const struct listing *l)
{
    if (c->json) {
        ctl_print_json(rows);
    } else if (!none(rows, l->what)) {
        struct ctl_table t;
        size_t i;
        json_t *o;
        ctl_table_init(&t, l->cols, l->head);
        json_array_foreach(rows, i, o)
            l->row(&t, o);
        ctl_table_print(&t);
        ctl_table_release(&t);
    }
    json_decref(rows);
    return CTL_OK;
}

static void app_row(struct ctl_table *t, json_t *a)
{
    ctl_table_row(t, ctl_str(a, "id"), ctl_str(a, "uid"), ctl_str(a, "name"),
                  ctl_str(a, "createdAt"));
}

static int cmd_apps(struct ctl *c)
{
    static const struct listing apps = { "applications", 4, { "ID", "UID", "NAME", "CREATED" },
                                         app_row };
    json_t *rows = NULL;
    int rc = fetch_all(c, "applications", "/api/v1/app?order=ascending", c->limit, &rows);
    return rc ? rc : show(c, rows, &apps);
}

/* One word for an endpoint's health: what an operator acts on first. */
static const char *ep_state(json_t *e)
{
    if (json_is_true(json_object_get(e, "disabled")))
        return "disabled";
    if (json_is_true(json_object_get(e, "paused")))
        return "paused";
    if (json_integer_value(json_object_get(e, "consecutiveFailures")) > 0)
        return "failing";
    return "ok";
}

/* Does row e belong to --app (an id or a uid)? */
static int of_app(const struct ctl *c, json_t *e)
{
    return !c->app || strcmp(ctl_str(e, "appId"), c->app) == 0
           || strcmp(ctl_str(e, "appUid"), c->app) == 0;
}

static void endpoint_row(struct ctl_table *t, json_t *e)
{
    char backlog[24], fails[24], last[24];
    snprintf(backlog, sizeof(backlog), "%lld",
             (long long)json_integer_value(json_object_get(e, "backlog")));
    snprintf(fails, sizeof(fails), "%lld/%lld",
             (long long)json_integer_value(json_object_get(e, "failures5m")),
             (long long)(json_integer_value(json_object_get(e, "failures5m"))
                         + json_integer_value(json_object_get(e, "successes5m"))));
    json_int_t code = json_integer_value(json_object_get(e, "lastStatusCode"));
    if (code > 0)
        snprintf(last, sizeof(last), "%lld", (long long)code);
    else
        snprintf(last, sizeof(last), "%s", json_is_string(json_object_get(e, "lastError"))
                                               ? "error" : "-");
    const char *app = ctl_str(e, "appUid");
    ctl_table_row(t, strcmp(app, "-") ? app : ctl_str(e, "appId"), ctl_str(e, "endpointId"),
                  ep_state(e), backlog, fails, last, ctl_str(e, "url"));
}

/* --app names an application that exists (else a 404 and CTL_NOT_FOUND). */
static int app_exists(struct ctl *c)
{
    if (!c->app)
        return CTL_OK;
    struct buf b;
    buf_init(&b);
    buf_adds(&b, "/api/v1/app/");
    ctl_add_escaped(&b, c->app);
    json_t *a = NULL;
    int rc = ctl_request(c, "application", "GET", b.data, NULL, &a);
    buf_release(&b);
    json_decref(a);
    return rc;
}

static int cmd_endpoints(struct ctl *c)
{
    static const struct listing eps = {
        "endpoints", 7, { "APP", "ENDPOINT", "STATE", "BACKLOG", "FAILED/5M", "LAST", "URL" },
        endpoint_row
    };
    json_t *rows = NULL;
    int rc = app_exists(c);
    if (!rc)
        rc = fetch_all(c, "endpoints", "/hookd/v1/endpoints?", 0, &rows);
    if (rc)
        return rc;
    json_t *kept = json_array(), *e;
    size_t i;
    json_array_foreach(rows, i, e)
        if (of_app(c, e))
            json_array_append(kept, e);
    json_decref(rows);
    return show(c, kept, &eps);
}

/* The shared filters of failed and replay as query arguments or a JSON object. */
static int filters(struct ctl *c, struct buf *q, json_t *f)
{
    char since[32] = "", until[32] = "";
    if ((c->since && ctl_time_arg("since", c->since, since))
        || (c->until && ctl_time_arg("until", c->until, until)))
        return CTL_USAGE;
    const char *names[] = { "app_id", "endpoint_id", "event_type", "status", "after", "before" };
    const char *vals[] = { c->app, c->endpoint, c->event_type, c->status,
                           since[0] ? since : NULL, until[0] ? until : NULL };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (q)
            ctl_add_query(q, names[i], vals[i]);
        if (f && vals[i])
            json_object_set_new(f, names[i], json_string(vals[i]));
    }
    return 0;
}

static void failed_row(struct ctl_table *t, json_t *d)
{
    char tries[24], code[24];
    snprintf(tries, sizeof(tries), "%lld",
             (long long)json_integer_value(json_object_get(d, "attempts")));
    json_int_t sc = json_integer_value(json_object_get(d, "lastStatusCode"));
    snprintf(code, sizeof(code), sc > 0 ? "%lld" : "-", (long long)sc);
    ctl_table_row(t, ctl_str(d, "msgId"), ctl_str(d, "endpointId"), ctl_str(d, "eventType"),
                  tries, code, ctl_str(d, "updatedAt"), ctl_str(d, "lastError"));
}

static int cmd_failed(struct ctl *c)
{
    static const struct listing failed = {
        "failed deliveries", 7,
        { "MESSAGE", "ENDPOINT", "EVENT", "TRIES", "CODE", "UPDATED", "ERROR" }, failed_row
    };
    struct buf q;
    buf_init(&q);
    buf_adds(&q, "/hookd/v1/deliveries?status=fail");
    int rc = filters(c, &q, NULL);
    json_t *rows = NULL;
    if (!rc)
        rc = app_exists(c);
    if (!rc)
        rc = fetch_all(c, "failed deliveries", q.data, c->limit ? c->limit : 100, &rows);
    buf_release(&q);
    return rc ? rc : show(c, rows, &failed);
}

/* What a replay did or would do, from the server's answer. */
static void print_replay(const struct ctl *c, json_t *r)
{
    json_t *by = json_object_get(r, "byStatus");
    json_t *n = json_object_get(r, c->dry_run ? "wouldQueue" : "queued");
    if (!json_is_integer(n))
        n = json_object_get(r, "queued");
    json_int_t count = json_integer_value(n);
    printf("%s %lld deliver%s\n", c->dry_run ? "would replay" : "replayed", (long long)count,
           count == 1 ? "y" : "ies");
    const char *k;
    json_t *v;
    json_object_foreach(by, k, v)
        printf("  %-10s %lld\n", k, (long long)json_integer_value(v));
}

static int cmd_replay(struct ctl *c)
{
    json_t *f = json_object(), *body = json_object(), *r = NULL;
    int rc = filters(c, NULL, f);
    json_object_set_new(body, "filter", f);
    if (c->dry_run)
        json_object_set_new(body, "dryRun", json_true());
    if (!rc)
        rc = ctl_request(c, "replay", "POST", "/hookd/v1/deliveries/replay", body, &r);
    json_decref(body);
    if (rc)
        return rc;
    if (c->json)
        ctl_print_json(r);
    else
        print_replay(c, r);
    json_decref(r);
    return CTL_OK;
}

/* pause, resume, enable, disable: one call, then what it did. */
static int endpoint_action(struct ctl *c, const char *verb, const char *done, const char *method,
                           char *path, json_t *body)
{
    json_t *r = NULL;
    int rc = ctl_request(c, verb, method, path, body, &r);
    free(path);
    json_decref(body);
    if (rc)
        return rc;
    if (c->json)
        ctl_print_json(r);
    else
        printf("endpoint '%s' of '%s' %s\n", c->args[1], c->args[0], done);
    json_decref(r);
    return CTL_OK;
}

static int cmd_pause(struct ctl *c)
{
    return endpoint_action(c, "pause", "paused: its deliveries are held", "POST",
                           ep_path("/hookd/v1", c->args[0], c->args[1], "/pause"), NULL);
}

static int cmd_resume(struct ctl *c)
{
    return endpoint_action(c, "resume", "resumed: its held deliveries are released", "POST",
                           ep_path("/hookd/v1", c->args[0], c->args[1], "/resume"), NULL);
}

static int cmd_enable(struct ctl *c)
{
    return endpoint_action(c, "enable", "enabled", "PATCH",
                           ep_path("/api/v1", c->args[0], c->args[1], ""),
                           json_pack("{s:b}", "disabled", 0));
}

static int cmd_disable(struct ctl *c)
{
    return endpoint_action(c, "disable", "disabled", "PATCH",
                           ep_path("/api/v1", c->args[0], c->args[1], ""),
                           json_pack("{s:b}", "disabled", 1));
}

/* Lift serve --hold-deliveries once a restored store has been checked. */
static int cmd_release(struct ctl *c)
{
    json_t *r = NULL;
    int rc = ctl_request(c, "release", "POST", "/hookd/v1/deliveries/release", NULL, &r);
    if (rc)
        return rc;
    if (c->json)
        ctl_print_json(r);
    else if (json_is_true(json_object_get(r, "released")))
        printf("deliveries released: hookd sends again\n");
    else
        printf("nothing was held\n");
    json_decref(r);
    return CTL_OK;
}

static void token_row(struct ctl_table *t, json_t *k)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s...", ctl_str(k, "prefix"));
    const char *access = json_is_true(json_object_get(k, "readOnly")) ? "read-only"
                         : json_array_size(json_object_get(k, "capabilities")) == 6 ? "full"
                         : "limited";
    const char *app = ctl_str(k, "appUid");
    ctl_table_row(t, ctl_str(k, "id"), strcmp(app, "-") ? app : ctl_str(k, "appId"), prefix,
                  access, ctl_str(k, "createdAt"),
                  json_is_true(json_object_get(k, "expired")) ? "expired"
                                                              : ctl_str(k, "expiresAt"));
}

/* Application tokens (API.md 4.11): list, make, revoke. */
static int cmd_tokens(struct ctl *c)
{
    static const struct listing tokens = {
        "application tokens", 6, { "ID", "APP", "TOKEN", "ACCESS", "CREATED", "EXPIRES" },
        token_row
    };
    struct buf q;
    buf_init(&q);
    buf_adds(&q, "/hookd/v1/tokens?");
    ctl_add_query(&q, "app_id", c->app);
    json_t *rows = NULL;
    int rc = fetch_all(c, "tokens", q.data, c->limit, &rows);
    buf_release(&q);
    return rc ? rc : show(c, rows, &tokens);
}

static int cmd_token_create(struct ctl *c)
{
    json_t *body = json_object(), *r = NULL;
    if (c->expiry) {
        int64_t ms;
        if (clock_parse_duration(c->expiry, &ms) || ms < 1000 || ms % 1000) {
            fprintf(stderr, "hookd: ctl: --expiry '%s' must be whole seconds, 1s to 7d "
                            "(90s, 15m, 2h, 7d)\n", c->expiry);
            json_decref(body);
            return CTL_USAGE;
        }
        json_object_set_new(body, "expiry", json_integer(ms / 1000));
    }
    if (c->read_only)
        json_object_set_new(body, "readOnly", json_true());
    struct buf b;
    buf_init(&b);
    buf_adds(&b, "/api/v1/auth/app-portal-access/");
    ctl_add_escaped(&b, c->args[0]);
    int rc = ctl_request(c, "token", "POST", b.data, body, &r);
    buf_release(&b);
    json_decref(body);
    if (rc)
        return rc;
    if (c->json) {
        ctl_print_json(r);
    } else {
        printf("%s\n", ctl_str(r, "token"));
        fprintf(stderr, "token %s for '%s'%s, expires %s%s%s\n"
                        "shown once: hookd keeps only its hash\n", ctl_str(r, "id"), c->args[0],
                c->read_only ? " (read-only)" : "", ctl_str(r, "expiresAt"),
                *json_string_value(json_object_get(r, "url")) ? "\nportal: " : "",
                *json_string_value(json_object_get(r, "url")) ? ctl_str(r, "url") : "");
    }
    json_decref(r);
    return CTL_OK;
}

static int cmd_token_revoke(struct ctl *c)
{
    struct buf b;
    buf_init(&b);
    buf_adds(&b, "/hookd/v1/tokens/");
    ctl_add_escaped(&b, c->args[0]);
    json_t *r = NULL;
    int rc = ctl_request(c, "token", "DELETE", b.data, NULL, &r);
    buf_release(&b);
    json_decref(r);
    if (!rc)
        printf("token '%s' revoked\n", c->args[0]);
    return rc;
}

#define FILTER_OPTS "[--app APP] [--endpoint EP] [--event-type T] [--since WHEN] [--until WHEN]"

const struct ctl_cmd ctl_cmds[] = {
    { "status", cmd_status, 0, 0, "", "the server's counters and gauges" },
    { "apps", cmd_apps, 0, 0, "[--limit N]", "list applications, oldest first" },
    { "endpoints", cmd_endpoints, 0, 0, "[--app APP]",
      "list endpoints with their state (ok, failing, paused, disabled) and backlog" },
    { "failed", cmd_failed, 0, 0, FILTER_OPTS " [--limit N]",
      "failed deliveries, newest first (100 unless --limit)" },
    { "replay", cmd_replay, 0, 0, FILTER_OPTS " [--status S] [--dry-run]",
      "send matching deliveries again (failed ones unless --status); --dry-run counts them" },
    { "pause", cmd_pause, 2, 2, "APP ENDPOINT", "hold an endpoint's deliveries" },
    { "resume", cmd_resume, 2, 2, "APP ENDPOINT", "release a paused endpoint's deliveries" },
    { "enable", cmd_enable, 2, 2, "APP ENDPOINT", "enable a disabled endpoint" },
    { "disable", cmd_disable, 2, 2, "APP ENDPOINT",
      "disable an endpoint (it gets no new messages; see replay-missing)" },
    { "release", cmd_release, 0, 0, "",
      "send again after serve --hold-deliveries (a restore drill checked)" },
    { "tokens", cmd_tokens, 0, 0, "[--app APP] [--limit N]",
      "application tokens, newest first (never the token itself)" },
    { "token-create", cmd_token_create, 1, 1, "APP [--expiry 7d] [--read-only]",
      "make a token for one application; prints it once (stdout), its id on stderr" },
    { "token-revoke", cmd_token_revoke, 1, 1, "ID", "revoke an application token by its id" },
    { NULL, NULL, 0, 0, NULL, NULL }
};
