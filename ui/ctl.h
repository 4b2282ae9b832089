/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl.h - `hookd ctl`: everyday operations from the command line, over
 * the same HTTP API the console uses (/api/v1 and /hookd/v1), for
 * operators without curl and jq and for scripts (--json).
 *
 * Exit statuses, one meaning each, so scripts can branch on them:
 *   0  done (a list may be empty)
 *   1  the server refused or failed the request (its error is printed)
 *   2  usage: unknown command, option or value
 *   3  no server: unreachable, no address, no token or a refused token
 *   4  not found: no such application, endpoint or token
 *
 * Single-threaded: one blocking request at a time (ui_http_request).
 * The internals shared by ctl.c and ctl_cmds.c are in ctl_int.h.
 */
#ifndef HOOKD_CTL_H
#define HOOKD_CTL_H

enum { CTL_OK = 0, CTL_FAILED = 1, CTL_USAGE = 2, CTL_NO_SERVER = 3, CTL_NOT_FOUND = 4 };

/* Run `hookd ctl` with the arguments after "ctl"; returns the exit status. */
int ctl_main(int argc, char **argv);

#endif
