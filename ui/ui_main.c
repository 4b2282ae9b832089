/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_main.c - `hookd console [--url URL] [--token TOKEN] [--data DIR]
 * [--ca-file FILE]`:
 * find the server, check it answers and takes the token, take the
 * terminal, and run the loop.
 *
 * The loop never waits on the network: it sends what is due, applies
 * whatever answers have arrived, redraws when something changed (and
 * twice a second regardless, so ages tick), then waits at most 100 ms
 * for a key. Problems found before the terminal is taken are printed
 * plainly on stderr with a non-zero exit; Ctrl-C, SIGTERM and SIGHUP only
 * set a flag, so every way out goes through ui_term_stop().
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "mem.h"
#include "ui.h"
#include "ui_app.h"
#include "ui_http.h"
#include "ui_keys.h"
#include "ui_target.h"
#include "ui_term.h"
#include "ui_views.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = sig;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: hookd console [--url URL] [--token TOKEN] [--data DIR] "
                 "[--ca-file FILE]\n"
                 "  --url URL      the server (default: DIR/listen, or $HOOKD_URL)\n"
                 "  --token TOKEN  the admin token (default: DIR/admin.token, or "
                 "$HOOKD_ADMIN_TOKEN)\n"
                 "  --data DIR     the server's data directory (default ./hookd-data, "
                 "or $HOOKD_DATA)\n"
                 "  --ca-file FILE trust these PEM certificates for an https server (a private\n"
                 "                 CA, or the server's own self-signed certificate)\n");
}

/* Flags, then the environment, then the data directory. 0, 1 (help) or 2. */
static int find_target(struct ui_target *t, int argc, char **argv)
{
    static const struct option opts[] = { { "url", 1, NULL, 'u' }, { "token", 1, NULL, 't' },
                                          { "data", 1, NULL, 'd' }, { "ca-file", 1, NULL, 'c' },
                                          { "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    const char *url = NULL, *token = NULL, *dir = NULL, *ca = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc + 1, argv - 1, "h", opts, NULL)) != -1) {
        if (c == 'u') url = optarg;
        else if (c == 't') token = optarg;
        else if (c == 'd') dir = optarg;
        else if (c == 'c') ca = optarg;
        else if (c == 'h') return 1;
        else {
            fprintf(stderr, "hookd: console: unknown option or missing value in '%s'\n",
                    argv[optind - 2]);
            return 2;
        }
    }
    ui_target_resolve(t, url, token, dir, ca);
    return 0;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void run(struct ui_app *a)
{
    int flags = UI_DRAW | UI_FETCH_STATS | UI_FETCH_EPS;
    int64_t last_draw = 0;
    while (!stop_requested) {
        int64_t now = clock_mono_ms();
        ui_term_size(&a->rows, &a->cols);
        ui_app_fetch(a, flags, now);
        flags &= UI_DRAW;
        struct ui_resp *r;
        while ((r = ui_http_poll(a->http))) {
            flags |= ui_app_on_resp(a, r, now);
            ui_resp_free(r);
        }
        if ((flags & UI_DRAW) || now - last_draw >= 500) {
            ui_views_draw(a);
            last_draw = now;
        }
        flags = ui_keys_handle(a, ui_term_key(100));
        if (flags & UI_QUIT)
            break;
    }
}

int ui_console_main(int argc, char **argv)
{
    struct ui_target t;
    int rc = find_target(&t, argc, argv);
    if (rc) {
        usage(rc == 1 ? stdout : stderr);
        return rc == 1 ? 0 : 2;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "hookd: the console needs a terminal\n");
        return 2;
    }
    ui_http_set_agent(UI_AGENT_CONSOLE);
    if (ui_target_check(&t))
        return 1;
    setlocale(LC_ALL, "");
    char err[256];
    if (ui_term_start(err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return 1;
    }
    mem_set_oom_hook(ui_term_stop);
    catch_signals();
    struct ui_http *h = ui_http_new(t.url, t.token);
    struct ui_app a;
    ui_app_init(&a, h, ui_term_utf8());
    snprintf(a.url, sizeof(a.url), "%s", t.url);
    snprintf(a.token, sizeof(a.token), "%s", t.token);
    snprintf(a.data_dir, sizeof(a.data_dir), "%s", t.dir);
    a.from_dir = t.from_dir;
    if (ui_http_start(h) == 0 && ui_http_feed_start(h, 0) == 0)
        run(&a);
    ui_term_stop();
    ui_app_release(&a);
    ui_http_set_ca_file(NULL);
    return stop_requested == SIGINT || !stop_requested ? 0 : 128 + stop_requested;
}
