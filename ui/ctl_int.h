/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_int.h - what ctl.c (options, requests, output) shares with
 * ctl_cmds.c (one function per command). Not for other modules.
 */
#ifndef HOOKD_CTL_INT_H
#define HOOKD_CTL_INT_H

#include <jansson.h>

#include "mem.h"
#include "ui_target.h"

/* The parsed command line: global options and the command's own. */
struct ctl {
    struct ui_target target;
    int json;                  /* --json: the server's JSON instead of a table */
    int dry_run;               /* --dry-run */
    const char *app, *endpoint, *event_type, *status;   /* filters, NULL if not given */
    const char *since, *until; /* durations ("2h") or RFC 3339 times */
    long limit;                /* --limit, 0: the command's default */
    const char *expiry;        /* --expiry: a token's life ("1h"), NULL if not given */
    int read_only;             /* --read-only */
    char **args;               /* positional arguments after the command */
    int nargs;
};

struct ctl_cmd {
    const char *name;
    int (*run)(struct ctl *c);
    int min_args, max_args;
    const char *usage;         /* arguments and options after the name */
    const char *help;          /* one line */
};

extern const struct ctl_cmd ctl_cmds[];

/*
 * One request; on 2xx returns CTL_OK with *out the parsed body (owned by
 * the caller; json null for an empty body). Otherwise prints the server's
 * error ("hookd: ctl: WHAT: detail") and returns CTL_FAILED,
 * CTL_NOT_FOUND or CTL_NO_SERVER. body may be NULL.
 */
int ctl_request(struct ctl *c, const char *what, const char *method, const char *path,
                json_t *body, json_t **out);

/* Append s to b percent-encoded as one path segment or query value. */
void ctl_add_escaped(struct buf *b, const char *s);
/* Append "&name=value" (value escaped) when value is set. */
void ctl_add_query(struct buf *b, const char *name, const char *value);

/*
 * A --since or --until value as an RFC 3339 time: a duration ("90s",
 * "15m", "2h", "7d") counts back from now; a time is checked and kept.
 * 0, or CTL_USAGE with a message naming the option.
 */
int ctl_time_arg(const char *opt, const char *v, char out[32]);

/* Print JSON to stdout, indented, with a final newline. */
void ctl_print_json(json_t *v);

/*
 * A table printed with columns as wide as their widest cell (the last
 * column is not padded). Cells are copied; control bytes in them are
 * shown as '?', so a hostile field cannot drive the terminal.
 */
struct ctl_table {
    int cols, cur;  /* cur: the column being filled */
    size_t rows, alloc;
    char **cells;   /* rows * cols, row 0 the header */
};
void ctl_table_init(struct ctl_table *t, int cols, const char *const *head);  /* cols names */
void ctl_table_row(struct ctl_table *t, ...);              /* cols strings, NULL shown as "-" */
void ctl_table_print(const struct ctl_table *t);
void ctl_table_release(struct ctl_table *t);

/* A string field, or "-" when absent or null (borrowed). */
const char *ctl_str(json_t *o, const char *name);

#endif
