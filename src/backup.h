/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup.h - `hookd backup DIR`: a hot copy of a data directory that
 * `hookd serve --data DIR` can start from.
 */
#ifndef HOOKD_BACKUP_H
#define HOOKD_BACKUP_H

#include <stdio.h>

/*
 * Copy the log in src (compacted, see store_backup()) and its admin.token
 * into dst, which is created with mode 0700 and must not exist or be
 * empty. Safe beside a live server on src. Prints what it did to out and
 * any error, lowercase and naming the path, to err. Returns the exit
 * status: 0 done, 1 failed (a directory it created is removed again).
 * Main thread.
 */
int backup_run(const char *src, const char *dst, FILE *out, FILE *err);

#endif
