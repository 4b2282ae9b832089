/* SPDX-License-Identifier: Apache-2.0 */
/*
 * confcheck.h - `hookd check-config` (and `hookd serve --check-config`):
 * validate the effective configuration without starting anything, like
 * `nginx -t`, and the one-line summary of it that the start-up log and
 * the check both print.
 *
 * The options themselves are checked by config_load; this adds what only
 * the files on this machine can tell: the TLS certificate and key load
 * and match, the delivery CA bundle parses, the allow-list compiles, and
 * the data directory and log file can be used by this user. Nothing is
 * created, bound or opened for writing. Any thread; no shared state.
 */
#ifndef HOOKD_CONFCHECK_H
#define HOOKD_CONFCHECK_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/*
 * Every problem of c, one lowercase line each on err; then, with none, the
 * summary and "configuration ok" on out. 0 when usable, 2 otherwise (the
 * status of a configuration error).
 */
int confcheck_run(const struct config *c, FILE *out, FILE *err);

/*
 * "config=FILE listen=ADDR data=DIR workers=N allow_network=CIDRS
 * retry_schedule=LIST" into out (cap bytes, always terminated): what an
 * operator must be able to confirm from the journal. ncpu resolves
 * workers = 0 (one per core).
 */
void confcheck_summary(const struct config *c, int ncpu, char *out, size_t cap);

#endif
