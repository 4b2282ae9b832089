/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.h - a delivery worker: one thread, one curl multi handle, many
 * transfers in flight.
 *
 * The dispatcher pushes jobs (worker_submit, any thread); the worker
 * thread adds them to its multi handle, signs and sends them, and when a
 * transfer ends fills the job's outcome and hands job->intent to the
 * writer. Connections are kept alive in the multi handle's cache, so
 * deliveries to one host reuse them. Curl handles never leave the thread.
 */
#ifndef HOOKD_WORKER_H
#define HOOKD_WORKER_H

#include <stddef.h>
#include <stdint.h>

struct job;
struct netpolicy;
struct writer;
struct worker;

struct worker_opts {
    struct writer *writer;
    const struct netpolicy *policy;
    size_t max_response;       /* response bytes kept in the attempt record */
    int svix_headers;          /* 0 webhook-*, 1 svix-*, 2 both */
    const char *ca_file;       /* extra CA bundle (PEM) or NULL; borrowed, outlives the worker */
    int fd_ceiling;            /* > 0: a delivery's socket must be a lower descriptor number */
};

int worker_new(struct worker **out, int id, const struct worker_opts *o);
int worker_start(struct worker *w);
/* Queue a job; the worker owns it from now on. Any thread. */
void worker_submit(struct worker *w, struct job *j);
/* Jobs queued or in flight (approximate; any thread). */
int worker_load(struct worker *w);
/*
 * Stop: transfers still running after deadline_ms are abandoned (their
 * due entries stay, so they are sent again after a restart); finished
 * ones are handed to the writer first. Joins the thread.
 */
void worker_stop(struct worker *w, int64_t deadline_ms);
void worker_free(struct worker *w);

#endif
