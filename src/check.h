/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.h - `hookd check`: verify the invariants between the log's
 * databases (store.h) and report what was found.
 *
 * The checks: the schema version; every due entry has a deliveries row
 * and its message; every deliveries row has its message; every pending
 * or sending delivery has a due entry; every attempt has both index
 * entries and every index entry names an existing attempt of the same
 * endpoint and message; every uids entry names an existing record.
 */
#ifndef HOOKD_CHECK_H
#define HOOKD_CHECK_H

#include <stdio.h>

/*
 * Open the log in dir read-only (beside a live server is fine), run every
 * check in one read transaction and print the row counts per database,
 * the counts per check and the first violations to out. Returns the exit
 * status: 0 clean, 1 at least one violation, 2 when the log cannot be
 * opened (the reason is printed to err). Main thread; never writes
 * unless repair is set.
 *
 * repair: open the log for writing (so no server may hold it: the open
 * fails with a message naming its pid), remove attempt records that cannot
 * be decoded and index entries that name no readable attempt of their
 * owner, restore the index entries of readable attempts, then check again
 * and return that second result. Other violations are reported, not
 * changed.
 */
int check_run(const char *dir, int repair, FILE *out, FILE *err);

#endif
