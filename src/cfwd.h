/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfwd.h - any node answers any request (cluster mode): a node that does
 * not own the log hands each API request to the owner over NATS
 * request/reply, and the owner runs it through the same dispatcher and
 * handlers as a request of its own connections.
 *
 * The wire, one NATS message each way on a connection of cfwd's own:
 *   request:  subject CFWD_SUBJECT_PREFIX<owner's node id>CFWD_SUBJECT_SUFFIX,
 *             reply subject <this process's inbox>.<correlation id>;
 *             headers Hookd-Method, Hookd-Path (decoded, normalised),
 *             Hookd-Query (percent-encoded, http_query_string), and the
 *             HTTP headers the API reads (Authorization, Idempotency-Key,
 *             Content-Type, svix-req-id); the body as the data.
 *   reply:    headers Hookd-Status, Content-Type, Retry-After; the body.
 * Anyone who may publish to a node's subject can send it a request, so
 * the receiving node answers only on an inbox reply subject
 * (cluster_reply_ok) and checks what the listener checks of a
 * connection's request (method, path, URI length, body size) before
 * running it.
 * The owner checks the token: a forwarding node refuses only what it
 * would refuse itself from its configured tokens (api_admit), and never
 * names the owner to the client.
 *
 * The forwarding side never holds an HTTP thread: the request is
 * suspended (http_suspend) and resumed by the reply's callback, or by
 * cfwd's timer at the deadline (CFWD_DEADLINE_MS, plus the wait of a
 * feed's long poll), whichever comes first. A try that nothing ran - no
 * owner known (a takeover under way), no responders (the owner's
 * connection or subscription is gone: it stopped or died), a not-owner
 * answer (the node refused it before running it), a publish that failed
 * - waits and is tried again every CFWD_RETRY_MS or so, the owner
 * resolved anew each time and this node's own subject once it owns,
 * under a fresh correlation id each try (a late answer to an earlier try
 * never counts for a later one); so a clean handoff (the owner stopped
 * with SIGTERM: its lease is released, another node owns within about a
 * second) shows its clients no error, only a slower answer. Only at the
 * deadline: 503 owner_unreachable with Retry-After. A try that was sent
 * and got no answer may have run: it is never sent again, and the
 * deadline answers it 503 (a write is then safe to retry with the same
 * idempotency key). A request larger than the NATS servers' max_payload:
 * 413 payload_too_large; an answer larger than it: 503
 * response_too_large.
 *
 * The owner's side runs each request on the subscription's thread as a
 * detached request (http_detached_run): reads are answered there, writes
 * go to the writer and are answered from its syncer, and the feed's long
 * poll from the feed's thread. What a node refuses before running it
 * (it does not own, or it stops: http_req.not_run) it answers with the
 * header Hookd-Not-Owner, and its sender tries again; any other answer,
 * a 503 cluster_unavailable included (its batch may be in the log),
 * goes to the client as it is.
 *
 * Built only with HOOKD_CLUSTER. Threads: cfwd_new, start, stop and free
 * by main's thread (through cnode.h); cfwd_forward from any HTTP thread
 * inside dispatch; cfwd_stats from any thread. nats.c's threads run the
 * subscriptions' callbacks, and one thread of cfwd's ("hookd-fwd") the
 * deadlines.
 */
#ifndef HOOKD_CFWD_H
#define HOOKD_CFWD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct api;
struct cluster_conn_opts;
struct http_req;
struct writer;

#define CFWD_SUBJECT_PREFIX "hookd.node."
#define CFWD_SUBJECT_SUFFIX ".http"
/*
 * Above two of the owner's log publishes (CLOG_TIMEOUT_MS each: a batch
 * waiting behind one that times out during a NATS election), so that
 * the owner's own 503 cluster_unavailable comes back before the deadline.
 */
#define CFWD_DEADLINE_MS 7000
/* A try that nothing ran is tried again after this (and the timer's next 100 ms tick). */
#define CFWD_RETRY_MS 150

struct cfwd_opts {
    const struct cluster_conn_opts *conn;   /* how to reach NATS (name: the node id) */
    const char *node_id;
    struct api *api;          /* forwarded requests run through api_dispatch with it (the
                                 front: it routes each to its group's API, which refuses it
                                 not-run unless this node owns that group) */
    struct writer *writer;
    int (*owns)(void *ctx, int group);   /* this node owns the group's log now */
    /* the group's node to forward to now, or "" when none is known (or it is this one) */
    void (*owner)(void *ctx, int group, char *out, size_t cap);
    void *ctx;
    int64_t deadline_ms;      /* 0: CFWD_DEADLINE_MS */
};

struct cfwd;

/* Connect (a NATS connection of its own). 0, or -1 with one sentence in err. */
int cfwd_new(struct cfwd **out, const struct cfwd_opts *o, char *err, size_t errlen);
/* Serve forwarded requests and accept replies; start the deadline timer. */
int cfwd_start(struct cfwd *f);
/*
 * Hand r (admitted, body complete) to the owner; from inside dispatch.
 * r is suspended and answered later, or answered at once (503, 413).
 */
void cfwd_forward(struct cfwd *f, struct http_req *r, int group);
/*
 * stats' cluster.forward: {sent, failed, served, refused, retried}: sent
 * counts tries sent (a request tried again counts each), retried the
 * tries after one that nothing ran; refused counts the requests this
 * node would not run: no inbox to answer on (dropped), or what its
 * listener refuses too (400 bad_forward or invalid_path, 413, 414).
 */
void cfwd_stats(struct cfwd *f, json_t *cluster);
/*
 * Before writer_stop(): serve nothing new (the requests received run, a
 * write refused not-owner: its sender tries again), answer every request
 * waiting here 503 (this node stops), and forward nothing more.
 */
void cfwd_stop(struct cfwd *f);
/* After writer_stop(): waits (bounded) for the answers still owed, then closes. */
void cfwd_free(struct cfwd *f);

#endif
