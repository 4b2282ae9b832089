/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dispatch.c - the dispatcher thread.
 *
 * The due index is keyed endpoint | due time | message, so an endpoint's
 * backlog is one ordered range. A refill of an endpoint walks its range
 * (from the start, or from where the last walk stopped when nothing can
 * have appeared before that: see refill): entries already claimed (queued
 * here or in flight) are skipped, entries due now are claimed until the
 * endpoint's window
 * (queued + in flight <= 2 x cap) is full, and the first entry due in
 * the future sets the endpoint's timer. Claimed entries stay in the index
 * until the outcome that removes them is committed, so a crash at any
 * point leaves them to be sent again: at-least-once, never lost.
 *
 * Work arrives as notes from the writer's commit hook (new due entries,
 * changed settings) and as finished jobs; both land in the inbox. The
 * loop: drain the inbox, refill the endpoints that need it, hand out
 * jobs round-robin, sleep until the next timer or note.
 */
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dispatch.h"
#include "err.h"
#include "feed.h"
#include "hmap.h"
#include "job.h"
#include "log.h"
#include "mem.h"
#include "msgrec.h"
#include "stats.h"
#include "store.h"
#include "thread.h"
#include "worker.h"

#define BACKOFF_MIN_MS 1000      /* outcomes not recorded: first pause (note_recorded) */
#define BACKOFF_MAX_MS 30000
#define FREED_BATCH 8            /* freed slots worth waking for at once (coalesce) */
#define FREED_WAIT_US 300        /* ... or this long after the first */
#define WORKER_RUN 16            /* consecutive jobs handed to one worker (send_one) */
#define SPARE_JOBS 256           /* finished jobs kept for reuse (job_alloc) */
#define SPARE_BUF (16 * 1024)    /* ... and the buffers of theirs they keep */
#define SHORT_MS 10000           /* sockets count as short this long after one lacked */

struct ep_state {
    char app_id[ID_MAX], ep_id[ID_MAX];
    int inflight;                /* handed to workers, transfer not yet ended (slots) */
    struct job *qhead, *qtail;   /* claimed, waiting for a slot */
    int qlen;
    int64_t next_due_ms;         /* earliest unclaimed future entry; INT64_MAX: none */
    int dirty;                   /* look at the due range again */
    int rescan;                  /* ... from its start: entries may have appeared anywhere */
    int64_t scanned_ms;          /* when the last walk from the start began */
    uint8_t resume[STORE_DUE_KEY_MAX];   /* where the last walk stopped: every entry */
    size_t resume_len;                   /* before it is claimed (0: none) */
    int full;                    /* last refill stopped at the window */
    int stale;                   /* reload the endpoint's settings */
    int held;                    /* disabled or paused: leave its entries where they are */
    int published;               /* inflight as last published (dispatch_ep_inflight) */
    int gone;                    /* deleted: drop its entries */
    int64_t backoff_until_ms;    /* outcomes failed to record: wait before sending again */
    int64_t backoff_ms;          /* the current wait; 0 while outcomes record */
    struct epconf *conf;         /* its settings as loaded; NULL until then, or gone */
    double rate;                 /* throttleRate, 0 = none */
    double tokens;
    int64_t tokens_ms;
};

struct dispatch {
    struct dispatch_opts o;
    pthread_t thread;
    int started;

    pthread_mutex_t lock;        /* guards the inbox and stopping */
    pthread_cond_t wake;
    char **notes;
    size_t nnotes, capnotes;
    struct job *finished;
    struct job **freed;          /* jobs whose transfer ended: each is still alive, since
                                    its done() comes after this entry (worker.c) */
    size_t nfreed, capfreed;
    int stopping;
    int hold;                    /* dispatch_release: nothing is claimed while set */
    int64_t connect_ms, timeout_ms;   /* dispatch_set_timeouts; taken by drain_inbox */
    struct dispatch_stats stats;
    struct hmap inflight;        /* ep_id -> (uintptr_t) in flight, only non-zero */
    int64_t nosock_logged_ms;    /* log_no_socket's last line (monotonic) */
    uint64_t nosock_unsaid;      /* deliveries it has not yet counted in a line */
    int64_t unrec_logged_ms;     /* log_unrecorded's last line (monotonic) */
    uint64_t unrec_unsaid;       /* outcomes it has not yet counted in a line */

    /* dispatcher thread only */
    int64_t short_until_ms;      /* a delivery found no socket: share them (fair_share) */
    int share;                   /* in flight per busy endpoint, while sockets are short */
    struct hmap eps;             /* "app_id|ep_id" -> struct ep_state */
    struct hmap claimed;         /* claim key -> struct job */
    unsigned next_worker;        /* jobs handed out: picks the worker */
    struct job *spare;           /* finished jobs to reuse, linked by next */
    size_t nspare;
};

void job_free(struct job *j)
{
    epconf_unref(j->conf);
    buf_release(&j->body);
    buf_release(&j->response);
    free(j);
}

/*
 * Jobs are reused: each delivery would otherwise allocate and zero a job
 * of two kilobytes, its body and its response, and free them all on
 * another thread than the one that allocated some of them, which cost
 * the dispatcher about a quarter of its time in malloc and free.
 */
static struct job *job_alloc(struct dispatch *d)
{
    struct job *j = d->spare;
    if (!j)
        return xcalloc(1, sizeof(*j));
    d->spare = j->next;
    d->nspare--;
    struct buf body = j->body, response = j->response;
    memset(j, 0, offsetof(struct job, JOB_SCRATCH));   /* the worker writes the rest first */
    buf_reset(&body);
    buf_reset(&response);
    j->body = body;
    j->response = response;
    return j;
}

static void job_recycle(struct dispatch *d, struct job *j)
{
    if (d->nspare == SPARE_JOBS) {
        job_free(j);
        return;
    }
    epconf_unref(j->conf);
    j->conf = NULL;
    if (j->body.cap > SPARE_BUF)
        buf_release(&j->body);
    if (j->response.cap > SPARE_BUF)
        buf_release(&j->response);
    j->next = d->spare;
    d->spare = j;
    d->nspare++;
}

/*
 * "ep_id/due_ms/msg_id": the claims map's key for a due entry. Built by
 * hand: refill makes one for every entry it walks past.
 */
static void claim_key_of(const char *ep, int64_t ms, const char *msg, char *out, size_t cap)
{
    char num[STR_INT_MAX + 2] = "/";
    size_t n = 1 + str_int(num + 1, ms < 0 ? 0 : ms);
    num[n++] = '/';
    num[n] = '\0';
    size_t at = str_copy(out, cap, ep, num);
    str_copy(out + at, cap - at, msg, NULL);
}

static void claim_key(const struct job *j, char *out, size_t cap)
{
    claim_key_of(j->ep_id, j->due_ms, j->msg_id, out, cap);
}

/* --- inbox (writer thread pushes, dispatcher pops) --- */

void dispatch_on_commit(void *ctx, char *const *keys, size_t n)
{
    struct dispatch *d = ctx;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < n; i++) {
        if (d->nnotes == d->capnotes) {
            d->capnotes = d->capnotes ? 2 * d->capnotes : 64;
            d->notes = xrealloc(d->notes, d->capnotes * sizeof(char *));
        }
        d->notes[d->nnotes++] = xstrdup(keys[i]);
    }
    pthread_mutex_unlock(&d->lock);
    pthread_cond_signal(&d->wake);
}

static int job_apply(struct intent *in, struct store_txn *t)
{
    struct job *j = (struct job *)in;
    return outcome_apply(j->owner->o.outcome.writer, j, t);
}

int dispatch_submit_outcome(struct job *j)
{
    return outcome_submit(&j->owner->o.outcome, j);
}

static void feed_outcome(struct feed *f, const struct job *j, int ok)
{
    struct feed_item it = { .ts_ms = j->started_ms, .status_code = j->status_code, .ok = ok,
                            .trigger = j->trigger, .duration_ms = j->duration_ms };
    str_copy(it.msg_id, sizeof(it.msg_id), j->msg_id, NULL);
    str_copy(it.app_id, sizeof(it.app_id), j->app_id, NULL);
    str_copy(it.ep_id, sizeof(it.ep_id), j->ep_id, NULL);
    str_copy(it.event_type, sizeof(it.event_type), j->event_type, NULL);
    if (!ok)
        outcome_error_text(j->status_code, j->response.data, j->response.len, it.error,
                           sizeof(it.error));
    feed_push(f, &it);
}

/*
 * From done(), once the batch is durable: count what is now recorded.
 * Manual attempts stay out of the latency figures: a replay of an old
 * message measures the operator's delay, not the delivery path's.
 */
static void count_outcome(struct dispatch *d, const struct job *j)
{
    int ok = j->status_code >= 200 && j->status_code < 300;
    int64_t done_ms = j->started_ms + j->duration_ms;
    int64_t latency = ok && j->trigger == 0 && j->msg_ts_ms > 0 ? done_ms - j->msg_ts_ms : -1;
    if (d->o.stats) {
        stats_attempt(d->o.stats, j->ep_id, j->status_code, latency < 0 ? -1 : latency,
                      done_ms);
        if (j->final_fail)
            stats_final_fail(d->o.stats);
    }
    if (d->o.feed)
        feed_outcome(d->o.feed, j, ok);
}

#define LOG_ERROR_TEXT_MAX 240    /* bytes of a failed attempt's error text in its log line */

/* Overwrite every occurrence of the n bytes of v in s with '*'. */
static void mask(char *s, const char *v, size_t n)
{
    if (n < 4)
        return;   /* too short to be a secret, and masking it would garble the text */
    for (char *p = strstr(s, v); p; p = strstr(p + n, v))
        memset(p, '*', n);
}

/*
 * A receiver's answer may echo the request: mask the custom header
 * values, the endpoint's keys and anything shaped like a signature
 * ("v1," and base64) before the text reaches a log line.
 */
static void scrub(const struct job *j, char *s)
{
    for (char **h = j->conf ? j->conf->headers : NULL; h && *h; h++) {
        const char *v = strchr(*h, ':');
        if (v) {
            v += strspn(v + 1, " ") + 1;
            mask(s, v, strlen(v));
        }
    }
    for (int i = 0; j->conf && i < j->conf->nkeys; i++)
        mask(s, j->conf->keys[i].text, strlen(j->conf->keys[i].text));
    for (char *p = strstr(s, "v1,"); p; p = strstr(p + 3, "v1,")) {
        size_t n = strspn(p + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
        if (n >= 16)
            memset(p + 3, '*', n);
    }
}

/*
 * One line per recorded attempt: failures at info, successes at debug.
 * Never the url (it may carry credentials), headers or signatures.
 */
static void log_attempt(const struct job *j)
{
    int ok = j->status_code >= 200 && j->status_code < 300;
    enum log_level lvl = ok ? LOG_DEBUG : LOG_INFO;
    char code[16], dur[24], att[16], err[1024], next[CLOCK_RFC3339_MAX];
    const char *trig = j->trigger ? "manual" : "scheduled";
    if (!log_enabled(lvl))
        return;
    snprintf(code, sizeof(code), "%d", j->status_code);
    snprintf(dur, sizeof(dur), "%lld", (long long)j->duration_ms);
    snprintf(att, sizeof(att), "%d", j->attempt);
    if (ok) {
        log_debug("delivered", "message", j->msg_id, "endpoint", j->ep_id, "app", j->app_id,
                  "status", code, "duration_ms", dur, "attempt", att, "trigger", trig, NULL);
        return;
    }
    outcome_error_text(j->status_code, j->response.data, j->response.len, err, sizeof(err));
    scrub(j, err);   /* before the cut, so a value cut short is masked too */
    size_t cut = LOG_ERROR_TEXT_MAX;
    if (strlen(err) > cut) {
        while (cut > 0 && ((unsigned char)err[cut] & 0xC0) == 0x80)
            cut--;
        err[cut] = '\0';
    }
    if (j->next_ms)
        clock_format(j->next_ms, next);
    else
        snprintf(next, sizeof(next), "none");
    log_info("delivery failed", "message", j->msg_id, "endpoint", j->ep_id, "app", j->app_id,
             "status", code, "duration_ms", dur, "attempt", att, "trigger", trig,
             "error", err, "next_attempt", next, NULL);
}

/* done()'s status says the delivery found no socket (worker.c). */
static int no_socket(const struct job *j, int status)
{
    return j->no_socket && status == -j->no_socket;
}

/*
 * A delivery that found no descriptor for its socket sent nothing, so it
 * is put off like one whose outcome could not be written, with no
 * attempt recorded. When descriptors run out, thousands can fail within
 * a second: one line a second says how many.
 */
static void log_no_socket(struct dispatch *d, const struct job *j, int status)
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&d->lock);
    uint64_t n = ++d->nosock_unsaid;
    int say = !d->nosock_logged_ms || now - d->nosock_logged_ms >= 1000;
    if (say) {
        d->nosock_logged_ms = now;
        d->nosock_unsaid = 0;
    }
    pthread_mutex_unlock(&d->lock);
    if (!say)
        return;
    char count[24];
    snprintf(count, sizeof(count), "%llu", (unsigned long long)n);
    log_warn("deliveries postponed", "error", hookd_strerror(status), "count", count,
             "endpoint", j->ep_id,
             "detail", "no descriptor for a delivery's socket: nothing was sent, each is sent "
             "again after a pause; raise the open-file limit (LimitNOFILE)", NULL);
}

/*
 * An outcome the store did not take (full, or a failing disk): the
 * delivery stays due and its endpoint pauses (note_recorded), so it is
 * sent again later, not in a loop. When the store fails, every delivery
 * fails with it: one line a second says how many.
 */
static void log_unrecorded(struct dispatch *d, const struct job *j, int status)
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&d->lock);
    uint64_t n = ++d->unrec_unsaid;
    int say = !d->unrec_logged_ms || now - d->unrec_logged_ms >= 1000;
    if (say) {
        d->unrec_logged_ms = now;
        d->unrec_unsaid = 0;
    }
    pthread_mutex_unlock(&d->lock);
    if (!say)
        return;
    char count[24];
    snprintf(count, sizeof(count), "%llu", (unsigned long long)n);
    log_error(status == HOOKD_EFULL ? "store full" : "outcome not recorded", "error",
              hookd_strerror(status), "count", count, "message", j->msg_id, "endpoint", j->ep_id,
              "detail", "attempt not recorded: each such delivery is sent again after a pause "
              "of 1 s doubling to 30 s", NULL);
}

/* What an outcome's done() has to say: the attempt, a disabled endpoint, a failure. */
static void log_outcome(struct dispatch *d, const struct job *j, int status)
{
    if (no_socket(j, status))
        log_no_socket(d, j, status);
    else if (status && status != HOOKD_ESTOPPED)
        log_unrecorded(d, j, status);
    if (status)
        return;
    if (j->expired && j->final_fail)
        log_info("delivery failed", "message", j->msg_id, "endpoint", j->ep_id, "app", j->app_id,
                 "error", j->expunged ? "payload expunged before it was sent"
                                      : "payload expired (retention) before it was sent", NULL);
    if (j->missing || j->expired)
        return;
    log_attempt(j);
    if (j->disabled)
        log_warn("endpoint disabled", "endpoint", j->ep_id, "app", j->app_id, "reason",
                 j->disabled == 1 ? "410 gone" : "failing for longer than --disable-after",
                 NULL);
}

static void job_done(struct intent *in, int status)
{
    struct job *j = (struct job *)in;
    struct dispatch *d = j->owner;
    j->unrecorded = status && status != HOOKD_ESTOPPED;
    log_outcome(d, j, status);
    if (d->o.stats && j->unrecorded)
        stats_postponed(d->o.stats, no_socket(j, status) ? STATS_PP_NO_SOCKET
                                    : status == HOOKD_EFULL ? STATS_PP_STORE_FULL
                                                            : STATS_PP_STORE_ERROR);
    if (!status && !j->missing && !j->expired)
        count_outcome(d, j);
    else if (!status && (j->expired || j->ep_gone) && j->final_fail && d->o.stats)
        stats_final_fail(d->o.stats);
    pthread_mutex_lock(&d->lock);
    j->next = d->finished;
    d->finished = j;
    pthread_mutex_unlock(&d->lock);
    pthread_cond_signal(&d->wake);
}

static struct ep_state *ep_get(struct dispatch *d, const char *key)
{
    struct ep_state *e = hmap_get(&d->eps, key);
    if (e || strlen(key) != 31 + 30)
        return e;
    e = xcalloc(1, sizeof(*e));
    snprintf(e->app_id, sizeof(e->app_id), "%.31s", key);
    snprintf(e->ep_id, sizeof(e->ep_id), "%s", key + 31);
    e->next_due_ms = INT64_MAX;
    e->dirty = e->stale = e->rescan = 1;
    hmap_put(&d->eps, key, e);
    return e;
}

/*
 * An outcome that could not be written (a full store), or a delivery that
 * found no socket, leaves its due entry in place, due now: without a
 * pause the endpoint would be sent the same deliveries again at once, in
 * a loop. So it waits, 1 s doubling to 30 s, until an outcome records
 * again. The deliveries in flight when the first one failed tend to fail
 * together, so failures during a pause do not double it again: a burst
 * of a hundred costs one pause of 1 s, not one of 30.
 */
static void note_recorded(struct ep_state *e, int recorded)
{
    if (recorded) {
        e->backoff_ms = 0;
        return;
    }
    if (e->backoff_until_ms > clock_now_ms())
        return;
    e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (e->backoff_ms > BACKOFF_MAX_MS)
        e->backoff_ms = BACKOFF_MAX_MS;
    e->backoff_until_ms = clock_now_ms() + e->backoff_ms;
}

void dispatch_transfer_done(struct dispatch *d, struct job *j)
{
    j->slot_freed = 1;
    pthread_mutex_lock(&d->lock);
    if (d->nfreed == d->capfreed) {
        d->capfreed = d->capfreed ? 2 * d->capfreed : 64;
        d->freed = xrealloc(d->freed, d->capfreed * sizeof(*d->freed));
    }
    d->freed[d->nfreed++] = j;
    int wake = d->nfreed == 1 || d->nfreed == FREED_BATCH;   /* see coalesce */
    pthread_mutex_unlock(&d->lock);
    if (wake)
        pthread_cond_signal(&d->wake);
}

static void free_slots(struct job **freed, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        freed[i]->ep->inflight--;
        freed[i]->ep->dirty = 1;
    }
    free(freed);
}

/* Drain the inbox: notes mark endpoints dirty, ended transfers free slots,
 * committed outcomes release claims. */
static void drain_inbox(struct dispatch *d)
{
    pthread_mutex_lock(&d->lock);
    char **notes = d->notes;
    struct job **freed = d->freed;
    size_t n = d->nnotes, nfreed = d->nfreed;
    struct job *fin = d->finished;
    d->notes = NULL;
    d->nnotes = d->capnotes = 0;
    d->freed = NULL;
    d->nfreed = d->capfreed = 0;
    d->finished = NULL;
    d->o.connect_timeout_ms = d->connect_ms;
    d->o.timeout_ms = d->timeout_ms;
    pthread_mutex_unlock(&d->lock);
    for (size_t i = 0; i < n; i++) {   /* a kind letter, then the endpoint key */
        struct ep_state *e = ep_get(d, notes[i] + 1);
        if (e) {
            e->dirty = e->rescan = 1;
            e->stale |= notes[i][0] == WRITER_NOTE_SETTINGS;
        }
        free(notes[i]);
    }
    free(notes);
    free_slots(freed, nfreed);   /* before the finished jobs: some of them are these */
    for (struct job *j = fin, *next; j; j = next) {
        next = j->next;
        char key[160];
        claim_key(j, key, sizeof(key));
        hmap_del(&d->claimed, key);
        struct ep_state *e = j->ep;
        if (!j->slot_freed)   /* never reached a worker, or abandoned */
            e->inflight--;
        e->dirty = 1;
        e->rescan |= j->unrecorded;   /* its due entry is still there, unclaimed now */
        if (j->unrecorded && j->no_socket)
            d->short_until_ms = clock_now_ms() + SHORT_MS;
        note_recorded(e, !j->unrecorded);
        job_recycle(d, j);
    }
}

/* --- endpoint settings --- */

static void settings_clear(struct ep_state *e)
{
    epconf_unref(e->conf);
    e->conf = NULL;
}

static void load_settings(struct dispatch *d, struct ep_state *e, struct store_txn *t)
{
    char key[2 * ID_MAX];
    size_t kl = str_copy(key, sizeof(key), e->app_id, e->ep_id);
    json_t *ep;
    settings_clear(e);
    int rc = store_get_json(t, DB_ENDPOINTS, key, kl, &ep);
    e->gone = rc == HOOKD_ENOTFOUND;
    e->held = 0;
    e->stale = rc && !e->gone;   /* a read error: try again next round, send nothing */
    if (rc)
        return;
    e->held = json_is_true(json_object_get(ep, "disabled"))
              || json_is_true(json_object_get(ep, "paused"));
    e->conf = epconf_from(ep);
    json_t *rate = json_object_get(ep, "throttleRate");
    e->rate = json_is_integer(rate) ? (double)json_integer_value(rate) : 0;
    json_decref(ep);
}

/* --- claiming due entries --- */

static struct job *job_new(struct dispatch *d, struct ep_state *e, const struct store_kv *kv,
                           const char *msg_id, int64_t due_ms)
{
    struct job *j = job_alloc(d);
    j->owner = d;
    j->ep = e;
    j->intent.apply = job_apply;
    j->intent.done = job_done;
    j->intent.flat = 1;   /* outcome_apply resets what it sets on the job */
    j->intent.lazy = 1;   /* by its commit, the transfer is over and its slot free */
    str_copy(j->app_id, sizeof(j->app_id), e->app_id, NULL);
    str_copy(j->ep_id, sizeof(j->ep_id), e->ep_id, NULL);
    str_copy(j->msg_id, sizeof(j->msg_id), msg_id, NULL);
    memcpy(j->due_key, kv->key, kv->klen);
    j->due_klen = kv->klen;
    j->due_ms = due_ms;
    int trigger = kv->vlen == STORE_DUE_VAL_LEN ? ((const uint8_t *)kv->val)[31] : 0;
    j->trigger = trigger == TRIGGER_MANUAL;
    j->retry = trigger == TRIGGER_RETRY;
    j->missing = j->ep_gone = e->gone;
    return j;
}

static void enqueue(struct ep_state *e, struct job *j)
{
    j->next = NULL;
    if (e->qtail)
        e->qtail->next = j;
    else
        e->qhead = j;
    e->qtail = j;
    e->qlen++;
}

/*
 * Walk the endpoint's due range and claim what is due now (see top).
 * Entries before where the last walk stopped are all claimed, unless
 * something put new ones there: the commit notes say so (rescan), and a
 * walk from the start at least once a second covers anything else. So a
 * refill after a transfer ends reads only the entries it may claim,
 * instead of walking past every claim in flight each time.
 */
static void refill(struct dispatch *d, struct ep_state *e, struct store_txn *t, int64_t now)
{
    struct store_cursor *c;
    struct store_kv kv;
    uint8_t start[STORE_DUE_KEY_MAX];
    size_t el = strlen(e->ep_id), sl = store_due_key(e->ep_id, 0, "", start, sizeof(start));
    int window = 2 * d->o.ep_concurrency;
    int resume = !e->rescan && e->resume_len && now - e->scanned_ms < 1000;
    e->dirty = e->full = 0;
    e->next_due_ms = INT64_MAX;
    if (e->held || store_cursor_open(t, DB_DUE, &c))
        return;
    if (!resume) {
        e->rescan = 0;
        e->scanned_ms = now;
    }
    int rc = resume ? store_cursor_seek(c, e->resume, e->resume_len, &kv)
                    : store_cursor_seek(c, start, sl, &kv);
    for (; rc == 0; rc = store_cursor_next(c, &kv)) {
        char ep[ID_MAX], msg[ID_MAX], ck[160];
        int64_t ms;
        if (kv.klen < el || memcmp(kv.key, e->ep_id, el) != 0
            || store_due_parse(kv.key, kv.klen, ep, &ms, msg))
            break;
        if (kv.klen <= sizeof(e->resume)) {   /* stop or not, nothing before it is free */
            memcpy(e->resume, kv.key, kv.klen);
            e->resume_len = kv.klen;
        }
        if (ms > now) {
            e->next_due_ms = ms;
            break;
        }
        claim_key_of(ep, ms, msg, ck, sizeof(ck));
        if (hmap_get(&d->claimed, ck))
            continue;
        if (e->qlen + e->inflight >= window) {
            e->full = 1;
            break;
        }
        struct job *j = job_new(d, e, &kv, msg, ms);
        hmap_put(&d->claimed, ck, j);
        enqueue(e, j);
    }
    store_cursor_close(c);
}

/* --- handing out jobs --- */

/*
 * Fast path: a record in ingest's layout (msgrec.h) gives its payload as
 * a slice, without a byte of it read. -1: take the slow path (a raw
 * payload, an expired record, an older layout...).
 */
static int load_fast(struct job *j, const char *v, size_t n)
{
    struct msgrec_view mv;
    if (msgrec_slice(v, n, &mv) || mv.raw_len)
        return -1;
    buf_add(&j->body, v + mv.payload, mv.payload_len);
    size_t tl = mv.type_len < sizeof(j->event_type) ? mv.type_len : sizeof(j->event_type) - 1;
    memcpy(j->event_type, v + mv.type, tl);
    j->event_type[tl] = '\0';
    j->msg_ts_ms = mv.ts_ms;
    return 0;
}

/* The payload, when it is sent rather than raw, is one jansson printed (msgrec.h). */
static int load_slow(struct job *j, const char *v, size_t n)
{
    json_t *m = msgrec_parse(v, n, NULL);
    if (!m)
        return HOOKD_ECORRUPT;
    if (!json_object_get(m, "payload") || json_is_true(json_object_get(m, "expired"))) {
        j->expired = 1;
        j->expunged = json_is_true(json_object_get(m, "expunged"));
        json_decref(m);
        return 0;
    }
    const char *raw = json_string_value(json_object_get(m, "raw"));
    char *dumped = raw ? NULL : json_dumps(json_object_get(m, "payload"), JSON_COMPACT);
    buf_adds(&j->body, raw ? raw : dumped ? dumped : "{}");
    free(dumped);
    str_copy(j->event_type, sizeof(j->event_type),
             json_string_value(json_object_get(m, "eventType")) ?: "", NULL);
    j->msg_ts_ms = json_integer_value(json_object_get(m, "timestamp"));
    json_decref(m);
    return 0;
}

/* Fill j from the message record; 0, or HOOKD_ENOTFOUND when it is gone. */
static int load_message(struct job *j, struct store_txn *t)
{
    char key[2 * ID_MAX];
    size_t kl = str_copy(key, sizeof(key), j->app_id, j->msg_id);
    const void *v;
    size_t n;
    int rc = store_get(t, DB_MESSAGES, key, kl, &v, &n);
    if (rc)
        return rc;
    return load_fast(j, v, n) == 0 ? 0 : load_slow(j, v, n);
}

static void fill_endpoint(struct dispatch *d, struct ep_state *e, struct job *j)
{
    j->conf = epconf_ref(e->conf);
    j->connect_timeout_ms = e->conf->connect_timeout_ms > 0 ? e->conf->connect_timeout_ms
                                                            : d->o.connect_timeout_ms;
    j->timeout_ms = e->conf->timeout_ms > 0 ? e->conf->timeout_ms : d->o.timeout_ms;
}

static struct job *dequeue(struct ep_state *e)
{
    struct job *j = e->qhead;
    e->qhead = j->next;
    if (!e->qhead)
        e->qtail = NULL;
    e->qlen--;
    j->next = NULL;
    return j;
}

/* Token bucket of one: at most throttleRate starts per second. */
static int take_token(struct ep_state *e, int64_t now)
{
    if (e->rate <= 0)
        return 1;
    e->tokens += (double)(now - e->tokens_ms) * e->rate / 1000.0;
    e->tokens_ms = now;
    if (e->tokens > 1)
        e->tokens = 1;
    if (e->tokens < 1)
        return 0;
    e->tokens -= 1;
    return 1;
}

static int64_t token_time(const struct ep_state *e)
{
    return e->tokens_ms + (int64_t)((1 - e->tokens) * 1000.0 / e->rate) + 1;
}

static void send_one(struct dispatch *d, struct ep_state *e, struct store_txn *t, int64_t now)
{
    struct job *j = dequeue(e);
    e->inflight++;
    j->missing |= e->gone;   /* deleted after the claim: it has no url any more */
    j->ep_gone |= e->gone;
    if (!j->missing && load_message(j, t) != 0)
        j->missing = 1;
    if (j->missing || j->expired) {   /* nothing to send: only the outcome's bookkeeping */
        if (dispatch_submit_outcome(j))
            job_done(&j->intent, HOOKD_ESTOPPED);
        return;
    }
    fill_endpoint(d, e, j);
    /* runs of WORKER_RUN jobs: one wake-up of a sleeping worker per run, not per job */
    struct worker *w = d->o.workers[(d->next_worker++ / WORKER_RUN) % d->o.nworkers];
    worker_submit(w, j);
}

/*
 * While sockets are short, no endpoint starts a delivery above an equal
 * share of those in flight among the endpoints with work. Otherwise the
 * slow receivers, which hold most sockets and have the longest queues,
 * take back each socket as it frees up, and an endpoint that answers at
 * once waits behind them: promise 3 (DESIGN.md) would break on a machine
 * with thousands of hanging receivers. The share is set once a round;
 * 0 when sockets are not short.
 */
static void fair_share(struct dispatch *d, int64_t now)
{
    d->share = 0;
    if (now >= d->short_until_ms)
        return;
    long inflight = 0, busy = 0;
    const char *k;
    void *v;
    for (size_t i = 0; hmap_next(&d->eps, &i, &k, &v);) {
        const struct ep_state *e = v;
        inflight += e->inflight;
        busy += e->inflight > 0 || e->qlen > 0;
    }
    /* + 1: an endpoint alone (or all at the share) may still grow, one a round */
    d->share = busy ? (int)(inflight / busy) + 1 : 0;
}

/* Jobs claimed before a pause stay queued (and claimed) until the resume. */
static int can_send(struct dispatch *d, struct ep_state *e, int64_t now)
{
    if (!e->qlen || e->inflight >= d->o.ep_concurrency || (d->share && e->inflight >= d->share)
        || (e->held && !e->gone)
        || (!e->conf && !e->gone) || e->backoff_until_ms > now)
        return 0;
    return e->gone || take_token(e, now);
}

/* Round-robin: one job per endpoint per pass until nobody can send. */
static void hand_out(struct dispatch *d, struct store_txn *t, int64_t now)
{
    int progress = 1;
    while (progress) {
        progress = 0;
        const char *k;
        void *v;
        for (size_t i = 0; hmap_next(&d->eps, &i, &k, &v);) {
            struct ep_state *e = v;
            if (can_send(d, e, now)) {
                send_one(d, e, t, now);
                progress = 1;
            }
        }
    }
}

/* --- the loop --- */

static int needs_refill(const struct ep_state *e, int64_t now)
{
    if (e->backoff_until_ms > now)
        return 0;
    return e->dirty || e->stale || (!e->full && e->next_due_ms <= now);
}

/* Refill what needs it, hand out; returns when to look again (ms). */
static int64_t round_once(struct dispatch *d)
{
    int64_t now = clock_now_ms(), next = now + 1000;
    struct store_txn *t;
    if (store_read(d->o.store, &t))
        return now + 100;
    const char *k;
    void *v;
    for (size_t i = 0; hmap_next(&d->eps, &i, &k, &v);) {
        struct ep_state *e = v;
        if (e->stale)
            load_settings(d, e, t);
        if (needs_refill(e, now))
            refill(d, e, t, now);
    }
    fair_share(d, now);
    hand_out(d, t, now);
    store_abort(t);
    for (size_t i = 0; hmap_next(&d->eps, &i, &k, &v);) {
        struct ep_state *e = v;
        if (e->next_due_ms < next && !e->full)
            next = e->next_due_ms;
        if (e->backoff_until_ms > now && e->backoff_until_ms < next)
            next = e->backoff_until_ms;
        if (e->qlen && e->rate > 0 && e->inflight < d->o.ep_concurrency && token_time(e) < next)
            next = token_time(e);
    }
    return next;
}

/*
 * Publish the totals and, for dispatch_ep_inflight, the in-flight count
 * of each endpoint whose count changed since the last round, so a round
 * costs one map update per changed endpoint, not a new map.
 */
static void update_stats(struct dispatch *d)
{
    struct dispatch_stats st = { 0 };
    const char *k;
    void *v;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; hmap_next(&d->eps, &i, &k, &v);) {
        struct ep_state *e = v;
        st.endpoints++;
        st.inflight += e->inflight;
        st.queued += e->qlen;
        if (e->inflight == e->published)
            continue;
        if (e->inflight > 0)
            hmap_put(&d->inflight, e->ep_id, (void *)(uintptr_t)e->inflight);
        else
            hmap_del(&d->inflight, e->ep_id);
        e->published = e->inflight;
    }
    d->stats = st;
    pthread_mutex_unlock(&d->lock);
}

static void sleep_until(struct dispatch *d, int64_t at)
{
    int64_t wait = at - clock_now_ms();
    if (wait <= 0)
        return;
    struct timespec ts;
    clock_deadline(CLOCK_REALTIME, wait, &ts);
    pthread_mutex_lock(&d->lock);
    if (!d->stopping && !d->nnotes && !d->finished && !d->nfreed)
        pthread_cond_timedwait(&d->wake, &d->lock, &ts);
    pthread_mutex_unlock(&d->lock);
}

static int stopping(struct dispatch *d)
{
    pthread_mutex_lock(&d->lock);
    int s = d->stopping;
    pthread_mutex_unlock(&d->lock);
    return s;
}

/*
 * Endpoints deleted with a backlog that a stop cut short of draining: the
 * due index still holds their entries. One seek per endpoint with
 * entries (the range of each is skipped whole); each one found gets a
 * state, loads as gone, and its entries end as failed ("endpoint
 * deleted") in the usual windows, so no restart leaves them pending.
 */
static void load_orphans(struct dispatch *d, struct store_txn *t)
{
    struct store_cursor *c;
    struct store_kv kv;
    if (store_cursor_open(t, DB_DUE, &c))
        return;
    int rc = store_cursor_first(c, &kv);
    while (rc == 0) {
        char ep[ID_MAX], msg[ID_MAX], key[2 * ID_MAX];
        uint8_t next[ID_MAX + 1];
        int64_t ms;
        const void *v;
        size_t n, el;
        if (store_due_parse(kv.key, kv.klen, ep, &ms, msg) || kv.vlen != STORE_DUE_VAL_LEN)
            break;
        size_t kl = (size_t)snprintf(key, sizeof(key), "%.31s%s", (const char *)kv.val, ep);
        if (store_get(t, DB_ENDPOINTS, key, kl, &v, &n) == HOOKD_ENOTFOUND)
            ep_get(d, key);
        el = strlen(ep);
        memcpy(next, ep, el);
        next[el] = 0xff;   /* past every time of this endpoint */
        rc = store_cursor_seek(c, next, el + 1, &kv);
    }
    store_cursor_close(c);
}

/* Every endpoint in the log gets a state at start-up: the due index
 * may hold work from before a restart. */
static void load_endpoints(struct dispatch *d)
{
    struct store_txn *t;
    struct store_cursor *c;
    struct store_kv kv;
    if (store_read(d->o.store, &t))
        return;
    if (store_cursor_open(t, DB_ENDPOINTS, &c) == 0) {
        for (int rc = store_cursor_first(c, &kv); rc == 0; rc = store_cursor_next(c, &kv)) {
            char key[96];
            snprintf(key, sizeof(key), "%.*s", (int)kv.klen, (const char *)kv.key);
            ep_get(d, key);
        }
        store_cursor_close(c);
    }
    load_orphans(d, t);
    store_abort(t);
}

/*
 * Woken by freed slots alone: wait up to FREED_WAIT_US for FREED_BATCH of
 * them, or for anything else to arrive. A worker frees a slot per
 * transfer, and handing out one job per wake-up cost a context switch on
 * the dispatcher and on a worker for each delivery; a few hundred
 * microseconds of a backlogged endpoint's slot are cheaper. New work
 * (commit notes) and finished jobs are handled at once.
 */
static int few_freed_only(const struct dispatch *d)
{
    return !d->stopping && !d->nnotes && !d->finished && d->nfreed < FREED_BATCH;
}

static void coalesce(struct dispatch *d)
{
    struct timespec until;
    pthread_mutex_lock(&d->lock);
    if (d->nfreed > 0) {
        clock_deadline_us(CLOCK_REALTIME, FREED_WAIT_US, &until);
        while (few_freed_only(d) && pthread_cond_timedwait(&d->wake, &d->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&d->lock);
}

static void *dispatch_main(void *arg)
{
    struct dispatch *d = arg;
    load_endpoints(d);
    while (!stopping(d)) {
        coalesce(d);
        drain_inbox(d);
        /* held: the notes keep marking endpoints dirty, for the first round after */
        int64_t next = dispatch_held(d) ? clock_now_ms() + 1000 : round_once(d);
        update_stats(d);
        sleep_until(d, next);
    }
    return NULL;
}

int dispatch_new(struct dispatch **out, const struct dispatch_opts *o)
{
    struct dispatch *d = xcalloc(1, sizeof(*d));
    d->o = *o;
    if (d->o.ep_concurrency < 1)
        d->o.ep_concurrency = 1;
    d->hold = d->o.hold;
    d->connect_ms = d->o.connect_timeout_ms;
    d->timeout_ms = d->o.timeout_ms;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    outcome_init(&d->o.outcome);
    hmap_init(&d->eps);
    hmap_init(&d->claimed);
    hmap_init(&d->inflight);
    *out = d;
    return 0;
}

int dispatch_start(struct dispatch *d)
{
    int rc = thread_start(&d->thread, "hookd-dispatch", dispatch_main, d);
    if (rc)
        return rc;
    d->started = 1;
    return 0;
}

void dispatch_stop(struct dispatch *d)
{
    pthread_mutex_lock(&d->lock);
    d->stopping = 1;
    pthread_mutex_unlock(&d->lock);
    pthread_cond_broadcast(&d->wake);
    if (d->started)
        pthread_join(d->thread, NULL);
    d->started = 0;
}

/* After the workers and the writer have stopped: nothing refers to jobs. */
void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    drain_inbox(d);
    const char *k;
    void *v;
    for (size_t i = 0; hmap_next(&d->eps, &i, &k, &v);) {
        struct ep_state *e = v;
        while (e->qhead)
            job_free(dequeue(e));
        settings_clear(e);
        free(e);
    }
    while (d->spare) {
        struct job *j = d->spare;
        d->spare = j->next;
        job_free(j);
    }
    hmap_release(&d->eps);
    hmap_release(&d->claimed);
    hmap_release(&d->inflight);
    swap_release(&d->o.outcome.schedule, NULL);
    outcome_fini(&d->o.outcome);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->wake);
    free(d);
}

void dispatch_set_timeouts(struct dispatch *d, int64_t connect_timeout_ms, int64_t timeout_ms)
{
    pthread_mutex_lock(&d->lock);
    d->connect_ms = connect_timeout_ms;
    d->timeout_ms = timeout_ms;
    pthread_mutex_unlock(&d->lock);
}

void dispatch_set_schedule(struct dispatch *d, struct retry_schedule *s)
{
    swap_set(&d->o.outcome.schedule, s);
}

void dispatch_release(struct dispatch *d)
{
    pthread_mutex_lock(&d->lock);
    d->hold = 0;
    pthread_mutex_unlock(&d->lock);
    pthread_cond_signal(&d->wake);
}

void dispatch_hold(struct dispatch *d)
{
    pthread_mutex_lock(&d->lock);
    d->hold = 1;
    pthread_mutex_unlock(&d->lock);
}

int dispatch_held(struct dispatch *d)
{
    pthread_mutex_lock(&d->lock);
    int h = d->hold;
    pthread_mutex_unlock(&d->lock);
    return h;
}

void dispatch_get_stats(struct dispatch *d, struct dispatch_stats *out)
{
    pthread_mutex_lock(&d->lock);
    *out = d->stats;
    pthread_mutex_unlock(&d->lock);
}

int dispatch_ep_inflight(struct dispatch *d, const char *ep_id)
{
    pthread_mutex_lock(&d->lock);
    int n = (int)(uintptr_t)hmap_get(&d->inflight, ep_id);
    pthread_mutex_unlock(&d->lock);
    return n;
}
