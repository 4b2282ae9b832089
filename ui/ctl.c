/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl.c - `hookd ctl`: the command line, the requests and the output
 * shared by every command (the commands are in ctl_cmds.c).
 *
 * Options may stand anywhere on the line, before or after the command,
 * as with kubectl; each command says which it takes, and one it does not
 * take is a usage error rather than silently ignored, so that a filter
 * typed in the wrong place never widens a replay.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "ctl_int.h"
#include "ui_http.h"

enum { O_URL = 256, O_TOKEN, O_DATA, O_CA, O_JSON, O_APP, O_EP, O_EVT, O_STATUS, O_SINCE,
       O_UNTIL, O_LIMIT, O_DRY, O_HELP, O_EXPIRY, O_RO };

static const struct option opts[] = {
    { "url", 1, NULL, O_URL },           { "token", 1, NULL, O_TOKEN },
    { "data", 1, NULL, O_DATA },         { "ca-file", 1, NULL, O_CA },
    { "json", 0, NULL, O_JSON },         { "app", 1, NULL, O_APP },
    { "endpoint", 1, NULL, O_EP },       { "event-type", 1, NULL, O_EVT },
    { "status", 1, NULL, O_STATUS },     { "since", 1, NULL, O_SINCE },
    { "until", 1, NULL, O_UNTIL },       { "limit", 1, NULL, O_LIMIT },
    { "dry-run", 0, NULL, O_DRY },       { "help", 0, NULL, O_HELP },
    { "expiry", 1, NULL, O_EXPIRY },     { "read-only", 0, NULL, O_RO },
    { NULL, 0, NULL, 0 }
};

static void usage(FILE *out)
{
    fprintf(out, "usage: hookd ctl [--url URL] [--token TOKEN] [--data DIR] [--ca-file FILE] "
                 "[--json] COMMAND [ARGS]\n\ncommands:\n");
    for (const struct ctl_cmd *k = ctl_cmds; k->name; k++)
        fprintf(out, "  %s%s%s\n      %s\n", k->name, k->usage[0] ? " " : "", k->usage, k->help);
    fprintf(out, "\nThe server and token come from --url and --token, HOOKD_URL and\n"
                 "HOOKD_ADMIN_TOKEN, or the data directory (--data, HOOKD_DATA, ./hookd-data).\n"
                 "APP and ENDPOINT are ids or uids. --since and --until take a duration back\n"
                 "from now (90s, 15m, 2h, 7d) or an RFC 3339 time.\n"
                 "Exit status: 0 done, 1 the server refused the request, 2 usage,\n"
                 "3 no server or a refused token, 4 no such application, endpoint or token.\n");
}

/* Which options a command takes, by the letters of its usage line. */
static int takes(const struct ctl_cmd *k, const char *opt)
{
    char want[40];
    snprintf(want, sizeof(want), "--%s", opt);
    return strstr(k->usage, want) != NULL;
}

static int parse_limit(struct ctl *c, const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 10000) {
        fprintf(stderr, "hookd: ctl: --limit '%s' must be a number from 1 to 10000\n", v);
        return CTL_USAGE;
    }
    c->limit = n;
    return 0;
}

/* Options into c, positional words into c->args. 0, CTL_USAGE, or -1 for help. */
static int parse(struct ctl *c, int argc, char **argv, const char **url, const char **token,
                 const char **dir, const char **ca)
{
    int o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc + 1, argv - 1, "-", opts, NULL)) != -1) {
        switch (o) {
        case 1: c->args[c->nargs++] = optarg; break;
        case O_URL: *url = optarg; break;
        case O_TOKEN: *token = optarg; break;
        case O_DATA: *dir = optarg; break;
        case O_CA: *ca = optarg; break;
        case O_JSON: c->json = 1; break;
        case O_APP: c->app = optarg; break;
        case O_EP: c->endpoint = optarg; break;
        case O_EVT: c->event_type = optarg; break;
        case O_STATUS: c->status = optarg; break;
        case O_SINCE: c->since = optarg; break;
        case O_UNTIL: c->until = optarg; break;
        case O_LIMIT: if (parse_limit(c, optarg)) return CTL_USAGE; break;
        case O_DRY: c->dry_run = 1; break;
        case O_EXPIRY: c->expiry = optarg; break;
        case O_RO: c->read_only = 1; break;
        case O_HELP: return -1;
        default:
            fprintf(stderr, "hookd: ctl: unknown option or missing value in '%s'\n",
                    argv[optind - 2]);
            return CTL_USAGE;
        }
    }
    return 0;
}

/* Every option given must be one the command takes. */
static int check_options(const struct ctl *c, const struct ctl_cmd *k)
{
    static const char *const names[] = { "app", "endpoint", "event-type", "status",
                                         "since", "until", "limit", "dry-run", "expiry",
                                         "read-only" };
    const void *set[] = { c->app, c->endpoint, c->event_type, c->status, c->since, c->until,
                          c->limit ? "" : NULL, c->dry_run ? "" : NULL, c->expiry,
                          c->read_only ? "" : NULL };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (set[i] && !takes(k, names[i])) {
            fprintf(stderr, "hookd: ctl: '%s' does not take --%s (usage: hookd ctl %s %s)\n",
                    k->name, names[i], k->name, k->usage);
            return CTL_USAGE;
        }
    }
    return 0;
}

static const struct ctl_cmd *find_cmd(const char *name)
{
    for (const struct ctl_cmd *k = ctl_cmds; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static int prepare(struct ctl *c, const struct ctl_cmd **cmd)
{
    if (c->nargs == 0) {
        usage(stderr);
        return CTL_USAGE;
    }
    const struct ctl_cmd *k = find_cmd(c->args[0]);
    if (!k) {
        fprintf(stderr, "hookd: ctl: unknown command '%s' (hookd ctl --help lists them)\n",
                c->args[0]);
        return CTL_USAGE;
    }
    c->args++;
    c->nargs--;
    if (c->nargs < k->min_args || c->nargs > k->max_args) {
        fprintf(stderr, "hookd: ctl: usage: hookd ctl %s %s\n", k->name, k->usage);
        return CTL_USAGE;
    }
    *cmd = k;
    return check_options(c, k);
}

int ctl_main(int argc, char **argv)
{
    struct ctl c;
    memset(&c, 0, sizeof(c));
    c.args = xcalloc((size_t)argc + 1, sizeof(char *));
    char **args = c.args;
    const char *url = NULL, *token = NULL, *dir = NULL, *ca = NULL;
    const struct ctl_cmd *k = NULL;
    int rc = parse(&c, argc, argv, &url, &token, &dir, &ca);
    if (rc < 0) {
        usage(stdout);
        rc = CTL_OK;
    } else if (rc == 0 && (rc = prepare(&c, &k)) == 0) {
        ui_http_set_agent(UI_AGENT_CTL);
        ui_target_resolve(&c.target, url, token, dir, ca);
        rc = ui_target_check(&c.target) ? CTL_NO_SERVER : k->run(&c);
    }
    ui_http_set_ca_file(NULL);
    free(args);
    return rc;
}

/* "WHAT: HTTP 422: body.url: ..." from an HttpErrorOut or a validation error. */
static void print_error(const char *what, const struct ui_resp *r)
{
    json_t *root = json_loads(r->body, JSON_DECODE_ANY, NULL);
    json_t *d = root ? json_object_get(root, "detail") : NULL;
    fprintf(stderr, "hookd: ctl: %s: HTTP %ld", what, r->status);
    if (json_is_string(d)) {
        fprintf(stderr, ": %s", json_string_value(d));
    } else if (json_is_array(d)) {
        size_t i;
        json_t *e;
        json_array_foreach(d, i, e) {
            json_t *loc = json_object_get(e, "loc"), *part;
            size_t j;
            fprintf(stderr, "%s", i ? "; " : ": ");
            json_array_foreach(loc, j, part)
                if (json_is_string(part))
                    fprintf(stderr, "%s%s", j ? "." : "", json_string_value(part));
            fprintf(stderr, ": %s", ctl_str(e, "msg"));
        }
    }
    fputc('\n', stderr);
    json_decref(root);
}

int ctl_request(struct ctl *c, const char *what, const char *method, const char *path,
                json_t *body, json_t **out)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct ui_resp *r = ui_http_request(c->target.url, c->target.token, method, path, text,
                                        30000);
    free(text);
    int rc = CTL_OK;
    if (r->status == 0) {
        fprintf(stderr, "hookd: ctl: %s: no answer from '%s': %s\n", what, c->target.url,
                r->error);
        rc = CTL_NO_SERVER;
    } else if (r->status < 200 || r->status > 299) {
        print_error(what, r);
        rc = r->status == 404 ? CTL_NOT_FOUND : CTL_FAILED;
    } else {
        *out = r->len ? json_loads(r->body, JSON_DECODE_ANY, NULL) : json_null();
        if (!*out) {
            fprintf(stderr, "hookd: ctl: %s: the server's answer is not JSON\n", what);
            rc = CTL_FAILED;
        }
    }
    ui_resp_free(r);
    return rc;
}

void ctl_add_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || strchr("-._~", ch))
            buf_addc(b, (char)ch);
        else
            buf_addf(b, "%%%02X", ch);
    }
}

void ctl_add_query(struct buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    buf_addf(b, "&%s=", name);
    ctl_add_escaped(b, value);
}

int ctl_time_arg(const char *opt, const char *v, char out[32])
{
    int64_t ms;
    if (clock_parse(v, &ms) == 0) {
        clock_format(ms, out);
        return 0;
    }
    if (clock_parse_duration(v, &ms) == 0 && ms >= 0) {
        clock_format(clock_now_ms() - ms, out);
        return 0;
    }
    fprintf(stderr, "hookd: ctl: --%s '%s' is neither a duration (90s, 15m, 2h, 7d) nor an "
                    "RFC 3339 time\n", opt, v);
    return CTL_USAGE;
}

void ctl_print_json(json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
    fputc('\n', stdout);
}

const char *ctl_str(json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s ? s : "-";
}

static void table_add(struct ctl_table *t, const char *cell)
{
    if (t->rows * (size_t)t->cols + (size_t)t->cols > t->alloc) {
        t->alloc = t->alloc ? t->alloc * 2 : (size_t)t->cols * 16;
        t->cells = xrealloc(t->cells, t->alloc * sizeof(char *));
    }
    char *s = xstrdup(cell ? cell : "-");
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    t->cells[t->rows * (size_t)t->cols + t->cur] = s;
}

void ctl_table_init(struct ctl_table *t, int cols, const char *const *head)
{
    memset(t, 0, sizeof(*t));
    t->cols = cols;
    for (t->cur = 0; t->cur < cols; t->cur++)
        table_add(t, head[t->cur]);
    t->rows++;
}

void ctl_table_row(struct ctl_table *t, ...)
{
    va_list ap;
    va_start(ap, t);
    for (t->cur = 0; t->cur < t->cols; t->cur++)
        table_add(t, va_arg(ap, const char *));
    t->rows++;
    va_end(ap);
}

void ctl_table_print(const struct ctl_table *t)
{
    size_t *w = xcalloc((size_t)t->cols, sizeof(size_t));
    for (size_t r = 0; r < t->rows; r++)
        for (int k = 0; k < t->cols; k++) {
            size_t n = strlen(t->cells[r * (size_t)t->cols + (size_t)k]);
            w[k] = n > w[k] ? n : w[k];
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (int k = 0; k < t->cols; k++) {
            const char *s = t->cells[r * (size_t)t->cols + (size_t)k];
            if (k == t->cols - 1)
                printf("%s\n", s);
            else
                printf("%-*s  ", (int)w[k], s);
        }
    }
    free(w);
}

void ctl_table_release(struct ctl_table *t)
{
    for (size_t i = 0; i < t->rows * (size_t)t->cols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}
