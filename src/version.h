/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version.h - `hookd version`: hookd's version and the libraries it runs
 * with, for bug reports.
 */
#ifndef HOOKD_VERSION_H
#define HOOKD_VERSION_H

#include <stdio.h>

/*
 * "hookd X.Y.Z" on the first line (scripts read that one), then one line
 * per library, "NAME VERSION", as reported by the loaded library itself
 * where it can say so. Any thread.
 */
void version_print(FILE *out);

#endif
