/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compare.h - `hookd check --compare A B`: are two logs the same, record
 * for record?
 *
 * Cluster mode (docs/DESIGN.md) rests on deterministic apply: a node that
 * re-applies its own log entries into an empty store must get the same
 * store. This module is the judge of "the same": it walks every named
 * database of store.h on both sides in key order and reports what differs.
 * Records that are legitimately one node's own (compare.c has the one
 * table, printed by compare_local_help) are left out of the comparison.
 *
 * Main thread of a command; the module prints to the FILEs it is given
 * and never writes to either log.
 */
#ifndef HOOKD_COMPARE_H
#define HOOKD_COMPARE_H

#include <stddef.h>
#include <stdio.h>

#include "store.h"

/* A record range left out: every key of db that starts with prefix. */
struct compare_ignore {
    enum store_db db;
    unsigned char prefix[256];
    size_t plen;             /* 0: the whole database */
};

/*
 * Parse an operator's "DB[:KEYPREFIX]" (--ignore). KEYPREFIX is text in
 * which \xNN stands for one byte and \\ for a backslash, as compare
 * prints keys, so a printed key can be pasted back. 0, or -1 with why
 * written to err.
 */
int compare_ignore_parse(const char *arg, struct compare_ignore *out, char *err, size_t cap);

/*
 * Open the logs in dir_a and dir_b read-only (beside a live server is
 * fine; both are verified before either is mapped, so a damaged one
 * leaves the other untouched), compare every database in one read
 * transaction per log, and print the counts per database and the first
 * differences to out. ignore (n entries, may be NULL) adds to the
 * node-local records skipped. Returns the exit status: 0 identical,
 * 1 differences found, 2 when a log cannot be opened or read (the reason,
 * naming the directory, printed to err).
 */
int compare_run(const char *dir_a, const char *dir_b, const struct compare_ignore *ignore,
                size_t n, FILE *out, FILE *err);

/* Print the node-local records that are never compared, one a line, indented. */
void compare_local_help(FILE *out);

#endif
