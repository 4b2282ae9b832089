/* SPDX-License-Identifier: Apache-2.0 */
/*
 * job.h - one delivery attempt in flight: a message to an endpoint.
 *
 * Lifecycle and ownership: the dispatcher creates a job when it claims a
 * due entry (dispatch.c), fills the request from the message and endpoint
 * records, and hands it to one worker; the worker owns it while the HTTP
 * request runs (worker.c), fills the outcome and submits job->intent to
 * the writer with its log entry (outcome_submit); the writer applies the
 * outcome (outcome.c) and its done()
 * returns the job to the dispatcher, which releases the claim and frees
 * it. So exactly one thread owns a job at any moment.
 */
#ifndef HOOKD_JOB_H
#define HOOKD_JOB_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "epconf.h"
#include "id.h"
#include "mem.h"
#include "retry.h"
#include "store.h"
#include "writer.h"

struct dispatch;
struct ep_state;
struct netpolicy;

#define JOB_HDRS_MAX 32     /* response headers recorded per attempt ... */
#define JOB_HDRS_BYTES 4096 /* ... in this many bytes of names and values in all */
#define JOB_TYPE_MAX 257   /* an eventType name (256, the API's limit) and its NUL */

struct job {
    struct intent intent;          /* the outcome, for the writer */
    struct dispatch *owner;
    struct ep_state *ep;           /* the owner's state of the endpoint: read and written
                                      by the dispatcher thread only, which never frees it
                                      while the dispatcher runs */

    /* what to deliver (set by the dispatcher) */
    char app_id[ID_MAX], ep_id[ID_MAX], msg_id[ID_MAX];
    uint8_t due_key[STORE_DUE_KEY_MAX];
    size_t due_klen;
    int64_t due_ms;
    int trigger;                   /* triggerType: 0 scheduled, 1 manual */
    int retry;                     /* the due entry is a scheduled retry (trigger byte 2) */
    struct epconf *conf;           /* the endpoint's settings: a reference (epconf.h) */
    char event_type[JOB_TYPE_MAX];
    struct buf body;               /* the payload as sent */
    int64_t connect_timeout_ms, timeout_ms;
    int64_t msg_ts_ms;             /* message timestamp, for latency */
    int missing;                   /* message or endpoint gone: drop the due entry */
    int ep_gone;                   /* the endpoint was deleted: end a waiting delivery as
                                      failed, "endpoint deleted" (outcome.c) */
    int expired;                   /* the message's payload expired: end the delivery as
                                      failed, without an attempt (outcome.c) */
    int expunged;                  /* ... because it was expunged (DELETE .../content) */

    /* what happened (set by the worker) */
    int64_t started_ms;            /* wall clock at the start of the attempt */
    int64_t duration_ms;
    int status_code;               /* 0: no HTTP response */
    struct buf response;           /* truncated body, or the error text */
    char retry_after[64];
    size_t resp_hdrs_len;          /* bytes of resp_hdrs in use (zeroed with the job) */
    int resp_hdrs_n;               /* response headers kept, at most JOB_HDRS_MAX */
    int refused;                   /* SSRF policy said no */

    /* decided by outcome_submit, carried in the entry, read by the apply */
    char att_id[ID_MAX];           /* the attempt's id */
    const char *url;               /* conf->url (on reapply: the entry's copy) */
    const struct retry_schedule *schedule;   /* NULL: none carried (not needed) */
    int64_t disable_after_ms;

    int no_socket;                 /* errno: no descriptor (or memory) for a socket */
    int final_fail;                /* set by the outcome: this attempt final-failed the delivery */
    int unrecorded;                /* set by done(): the outcome could not be written */
    int attempt;                   /* set by the outcome: the delivery's attempt number */
    int64_t next_ms;               /* set by the outcome: when the retry is due; 0 none */
    int disabled;                  /* set by the outcome: it disabled the endpoint
                                      (1: 410 Gone, 2: failing for --disable-after) */
    size_t resp_cap;               /* response bytes to keep */
    const struct netpolicy *policy;
    int fd_ceiling;                /* the worker's (worker_opts) */
    void *easy;                    /* struct easy, the transfer's handle (worker.c) */

    int slot_freed;                /* dispatch_transfer_done was called */
    struct job *next, *prev;       /* queue links (owner's) */

    /*
     * Scratch the worker writes before it reads. It stays last: a job the
     * dispatcher reuses is zeroed up to here only (offsetof JOB_SCRATCH).
     */
    struct curl_slist sig_nodes[6];   /* the signature headers, in front of conf->tail */
    char sig_text[2 * (20 + ID_MAX + 20 + 24 + 20 + EPCONF_MAX_KEYS * SIGN_ENTRY_MAX)];
    char curl_error[256];          /* CURLOPT_ERRORBUFFER, CURL_ERROR_SIZE */
    /* the receiver's response headers as "name\0value\0" pairs, names in
     * lower case, sensitive values redacted (worker.c); read up to resp_hdrs_len */
    char resp_hdrs[JOB_HDRS_BYTES];
};

#define JOB_SCRATCH sig_nodes

void job_free(struct job *j);

#endif
