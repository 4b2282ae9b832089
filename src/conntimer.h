/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conntimer.h - deadlines on client connections that libmicrohttpd leaves
 * unenforced.
 *
 * libmicrohttpd 0.9.x has one timeout, and it measures gaps: any byte
 * received starts it again. A client that sends its request one byte a
 * second (slow-loris) never trips it and holds its connection for as long
 * as it likes. This module gives each connection two deadlines that bytes
 * do not move:
 *
 *   - waiting: from accept (or the end of the previous response) until a
 *     request's headers are complete, at most idle_ms;
 *   - headers: from the request line until the end of the headers, at most
 *     header_ms;
 *   - body: from the end of the headers until the whole body is in, at most
 *     body_ms (a request without a body ends this at once).
 *
 * A connection past its deadline is shut down (shutdown(2) on its socket)
 * by the timer's own thread; libmicrohttpd then sees the end of the stream
 * and closes it on its own thread, the one that owns it. A connection
 * that has waited over a second for its request while request bytes sit
 * unread in its socket is woken instead (conntimer.c says why). Nothing runs
 * while a request is being answered, so suspended requests (writes
 * waiting for a commit, the feed's long poll) are untouched; a request
 * refused from its headers keeps its body deadline until its answer is
 * out, so a client that never reads it cannot hold the connection.
 *
 * Threads: conntimer_open/close take the timer's lock (once per
 * connection); the per-request calls are lock-free and must come from the
 * thread that serves the connection (libmicrohttpd's callbacks do).
 * conntimer_close() must run before the socket is closed, which
 * libmicrohttpd's MHD_CONNECTION_NOTIFY_CLOSED guarantees, so the timer
 * never shuts down a file descriptor number that was reused.
 */
#ifndef HOOKD_CONNTIMER_H
#define HOOKD_CONNTIMER_H

#include <stdint.h>

struct conntimer;
struct conntimer_conn;

/* A timer with these limits (ms, > 0); the caller owns *out. */
int conntimer_new(struct conntimer **out, int64_t idle_ms, int64_t header_ms, int64_t body_ms);
/* Start the thread that enforces deadlines; 0 or -errno. */
int conntimer_start(struct conntimer *t);
/* Stop that thread; connections may still open and close afterwards. */
void conntimer_stop(struct conntimer *t);
/* Free t; every connection must have been closed. NULL is a no-op. */
void conntimer_free(struct conntimer *t);

/* A new connection on socket fd, now waiting for its first request. */
struct conntimer_conn *conntimer_open(struct conntimer *t, int fd);
/* Its request line has arrived: the headers must follow within header_ms. */
void conntimer_request_line(struct conntimer_conn *c);
/* The request's headers are complete: its body must follow within body_ms. */
void conntimer_headers_done(struct conntimer_conn *c);
/* The request's body is complete: no deadline while it is served. */
void conntimer_body_done(struct conntimer_conn *c);
/* The answer is sent: waiting for the next request again. */
void conntimer_request_done(struct conntimer_conn *c);
/* The connection is closing (before its socket is); frees c. NULL is a no-op. */
void conntimer_close(struct conntimer *t, struct conntimer_conn *c);

/* Connections woken so far because a request sat unread (any thread). */
uint64_t conntimer_woken(struct conntimer *t);

#endif
