/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_target.h - which server a client command talks to, and whether it is
 * there: shared by `hookd console` and `hookd ctl`.
 *
 * The address and token come from flags, then the environment
 * (HOOKD_URL, HOOKD_ADMIN_TOKEN, HOOKD_DATA), then the server's data
 * directory (DIR/listen and DIR/admin.token, default ./hookd-data), so a
 * client run beside the server needs no arguments. Single-threaded
 * helpers, called before any other request is made.
 */
#ifndef HOOKD_UI_TARGET_H
#define HOOKD_UI_TARGET_H

struct ui_target {
    char url[256], token[256], dir[1024], ca_file[1024];
    int from_dir;   /* the url came from DIR/listen (a restart may move it) */
};

/*
 * Fill t from the given values (NULL or "" when not given on the command
 * line), the environment and the data directory. Never fails: what is
 * still missing is reported by ui_target_check.
 */
void ui_target_resolve(struct ui_target *t, const char *url, const char *token,
                       const char *dir, const char *ca_file);

/*
 * Is the server there, and does it take the token? 0, or a non-zero
 * status with a message on stderr that says what to do: UI_TARGET_NO_SERVER
 * (no address, unreachable, untrusted certificate) or UI_TARGET_BAD_TOKEN
 * (no token, or refused). `who` prefixes the messages ("hookd").
 */
int ui_target_check(const struct ui_target *t);

enum { UI_TARGET_NO_SERVER = 1, UI_TARGET_BAD_TOKEN = 2 };

#endif
