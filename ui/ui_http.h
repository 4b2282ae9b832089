/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_http.h - the console's HTTP client: libcurl on background threads,
 * so that no fetch ever blocks key handling.
 *
 * Threads: the console's main thread submits requests and polls
 * responses; a fetch thread performs submitted requests one at a time in
 * order; a feed thread long-polls GET /hookd/v1/feed while the feed is on.
 * Each thread keeps its own curl handle. Requests and responses pass
 * through two queues under one mutex: main pushes requests and the fetch
 * thread pops them; both background threads push responses and main pops
 * them. A response belongs to whoever popped it (free with ui_resp_free).
 */
#ifndef HOOKD_UI_HTTP_H
#define HOOKD_UI_HTTP_H

#include <stddef.h>

struct ui_http;

struct ui_resp {
    long id;            /* what ui_http_submit returned; 0 for the feed */
    int tag;            /* the caller's tag (UI_TAG_FEED for the feed) */
    long status;        /* HTTP status, 0 when no answer came (see error) */
    char *body;         /* NUL-terminated, never NULL */
    size_t len;
    char error[256];    /* transport error when status == 0 */
    int tls;            /* ... and TLS was why: UI_TLS_UNTRUSTED or UI_TLS_BAD_CA_FILE */
};

enum { UI_TLS_UNTRUSTED = 1, UI_TLS_BAD_CA_FILE = 2 };

#define UI_TAG_FEED (-1)

/*
 * Trust the PEM certificates in file, instead of the system's store, for
 * every https request from now on: a private CA, or a self-signed
 * server's own certificate. NULL goes back to the system's store. Call
 * before any request or thread starts (the setting is read unlocked).
 */
void ui_http_set_ca_file(const char *file);

/*
 * The User-Agent of every request from now on: a static string such as
 * UI_AGENT_CONSOLE (the server logs the console's reads at debug level,
 * knowing it by this). Call before any request or thread starts.
 */
void ui_http_set_agent(const char *ua);

#define UI_AGENT_CONSOLE "hookd-console/" HOOKD_VERSION
#define UI_AGENT_CTL "hookd-ctl/" HOOKD_VERSION

/* A handle for base url ("http://host:port") and bearer token (copied). */
struct ui_http *ui_http_new(const char *url, const char *token);
/* Stops the threads (aborting transfers in progress) and frees. */
void ui_http_free(struct ui_http *h);
/* Point later requests at another server (after a restart); copied. */
void ui_http_set_target(struct ui_http *h, const char *url, const char *token);

/* Start the fetch thread. 0 or a negated errno. */
int ui_http_start(struct ui_http *h);
/* Queue METHOD path (with query) and optional JSON body; returns its id. */
long ui_http_submit(struct ui_http *h, int tag, const char *method, const char *path,
                    const char *body);
/* Next finished response or NULL, never blocks. */
struct ui_resp *ui_http_poll(struct ui_http *h);
void ui_resp_free(struct ui_resp *r);

/*
 * Follow the feed from sequence after (0: from the oldest the server
 * keeps): the feed thread long-polls and delivers each answer as a
 * UI_TAG_FEED response; it backs off after errors. 0 or a negated errno.
 */
int ui_http_feed_start(struct ui_http *h, long long after);

/* One blocking request on the calling thread (start-up checks). */
struct ui_resp *ui_http_request(const char *url, const char *token, const char *method,
                                const char *path, const char *body, long timeout_ms);

#endif
