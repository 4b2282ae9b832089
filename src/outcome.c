/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outcome.c - the writer's half of a delivery: record what happened and
 * decide what happens next (API.md 4.4, 6).
 *
 * Attempt record (attempts database, JSON): id, msgId, endpointId, appId,
 * url, response, responseStatusCode, responseDurationMs, status (0 ok,
 * 2 failed), triggerType, timestamp (ms), and responseHeaders ([name,
 * value] pairs, bounded and redacted by the worker) when there were any.
 *
 * The counts the operations API reads without scanning (store.h) move
 * here too: the consumed due entry leaves the endpoint's backlog (and its
 * retrying count when it was a retry), a scheduled retry joins both, and
 * the meta "failed" counter follows deliveries into and out of state fail.
 *
 * Apply is a pure function of the entry and the store (entry.h): its time
 * is the entry's, the attempt id, the schedule and --disable-after come
 * in the entry (outcome_submit decides them), and the retry's jitter is
 * drawn from the entry's seed. On the serving node the apply reads the
 * job the entry was built from rather than decoding it (a copy of the
 * response less per delivery); hookd reapply decodes the entry into a job
 * of its own, and tests/t0208 proves the two give the same store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "entry.h"
#include "entry_kinds.h"
#include "epstats.h"
#include "err.h"
#include "job.h"
#include "mem.h"
#include "opwh.h"
#include "outcome.h"
#include "reapply.h"
#include "store.h"
#include "writer.h"

static int attempt_ok(int code)
{
    return code >= 200 && code < 300;
}

/* ,"responseHeaders":[["name","value"],...] from the worker's pairs. */
static void headers_json(struct buf *o, const struct job *j)
{
    if (!j->resp_hdrs_n)
        return;
    buf_adds(o, ",\"responseHeaders\":[");
    const char *p = j->resp_hdrs, *end = j->resp_hdrs + j->resp_hdrs_len;
    for (int i = 0; i < j->resp_hdrs_n && p < end; i++) {
        size_t nl = strlen(p), vl = strlen(p + nl + 1);
        buf_adds(o, i ? ",[\"" : "[\"");
        buf_add_jstr(o, p, nl);
        buf_adds(o, "\",\"");
        buf_add_jstr(o, p + nl + 1, vl);
        buf_adds(o, "\"]");
        p += nl + vl + 2;
    }
    buf_addc(o, ']');
}

/*
 * The record is written straight as text: building it with jansson cost
 * a tenth of a delivery's CPU. Response bytes that are not UTF-8 become
 * U+FFFD (buf_add_jstr), so the record always parses.
 */
static void attempt_json(struct buf *o, const struct job *j, const char *id, int ok)
{
    const char *const ids[][2] = { { "{\"id\":\"", id }, { "\",\"msgId\":\"", j->msg_id },
                                   { "\",\"endpointId\":\"", j->ep_id },
                                   { "\",\"appId\":\"", j->app_id } };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {   /* ids need no escaping */
        buf_adds(o, ids[i][0]);
        buf_adds(o, ids[i][1]);
    }
    buf_adds(o, "\",\"url\":\"");
    buf_add_jstr(o, j->url, strlen(j->url));
    buf_adds(o, "\",\"response\":\"");
    if (j->response.len)   /* an empty body may have no buffer at all */
        buf_add_jstr(o, j->response.data, j->response.len);
    buf_adds(o, "\",\"responseStatusCode\":");
    buf_add_int(o, j->status_code);
    buf_adds(o, ",\"responseDurationMs\":");
    buf_add_int(o, j->duration_ms);
    buf_adds(o, ok ? ",\"status\":0,\"triggerType\":" : ",\"status\":2,\"triggerType\":");
    buf_add_int(o, j->trigger);
    buf_adds(o, ",\"timestamp\":");
    buf_add_int(o, j->started_ms);
    headers_json(o, j);
    buf_addc(o, '}');
}

static int put_attempt(struct job *j, int ok, struct store_txn *t, const char *id)
{
    char key[2 * ID_MAX];
    struct buf rec = BUF_INIT;
    /* one allocation for the usual record, not one per doubling from 64 bytes */
    buf_grow(&rec, 512 + 2 * (j->response.len + j->resp_hdrs_len + strlen(j->url)));
    attempt_json(&rec, j, id, ok);
    int rc = store_append(t, DB_ATTEMPTS, id, strlen(id), rec.data, rec.len, 0);
    buf_release(&rec);
    size_t kl = str_copy(key, sizeof(key), j->ep_id, id);
    if (!rc)
        rc = store_append(t, DB_ATT_BY_EP, key, kl, j->msg_id, strlen(j->msg_id), 0);
    kl = str_copy(key, sizeof(key), j->msg_id, id);
    if (!rc)
        rc = store_append(t, DB_ATT_BY_MSG, key, kl, j->ep_id, strlen(j->ep_id), 0);
    return rc;
}

/* Changes to the endpoint's backlog and retrying counts, applied with its health row. */
struct backlog_delta {
    int backlog, retrying;
};

/* The retry's due entry; an entry already at that key is left (it sends the pair anyway). */
static int schedule_retry(struct writer *w, struct job *j, struct store_txn *t,
                          int64_t at, struct backlog_delta *dl)
{
    uint8_t key[STORE_DUE_KEY_MAX], val[STORE_DUE_VAL_LEN];
    size_t kl = store_due_key(j->ep_id, at, j->msg_id, key, sizeof(key));
    store_due_val(j->app_id, TRIGGER_RETRY, val);
    writer_touch(w, j->app_id, j->ep_id, WRITER_NOTE_DUE);
    int rc = store_put(t, DB_DUE, key, kl, val, sizeof(val), 1);
    if (rc == HOOKD_EEXIST)
        return 0;
    if (!rc) {
        dl->backlog++;
        dl->retrying++;
    }
    return rc;
}

/* Keep meta "failed" equal to the number of rows in state fail. */
static int count_failed(struct job *j, struct store_txn *t, int before, int after)
{
    if ((before == DSTATE_FAIL) == (after == DSTATE_FAIL))
        return 0;
    j->final_fail = after == DSTATE_FAIL;
    return store_counter_add(t, "failed", after == DSTATE_FAIL ? 1 : -1);
}

/* Next state of the delivery row after this attempt. */
static int update_delivery(struct writer *w, struct job *j, int ok,
                           struct store_txn *t, int64_t now, struct backlog_delta *dl,
                           int *was)
{
    char key[2 * ID_MAX];
    size_t kl = str_copy(key, sizeof(key), j->msg_id, j->ep_id);
    struct store_delivery d = { .state = DSTATE_PENDING };
    const void *v;
    size_t n;
    if (store_get(t, DB_DELIVERIES, key, kl, &v, &n) == 0)
        store_delivery_decode(v, n, &d);
    int before = *was = d.state;
    memcpy(d.app_id, j->app_id, sizeof(d.app_id) - 1);
    d.app_id[sizeof(d.app_id) - 1] = '\0';
    d.attempts++;
    j->attempt = d.attempts;
    d.last_code = (uint16_t)j->status_code;
    d.updated_ms = now;
    int rc = 0;
    if (ok) {
        d.state = DSTATE_SUCCESS;
        d.next_ms = 0;
    } else if (j->trigger == 1) {  /* manual: one attempt, never retried */
        if (d.state != DSTATE_SENDING && d.state != DSTATE_SUCCESS)
            d.state = DSTATE_FAIL;
    } else {
        /* the jitter: drawn from the entry, so a re-apply draws the same */
        double rnd = (double)(entry_draw(&j->intent.entry.head) >> 11) / 9007199254740992.0;
        static const struct retry_schedule none = { 0 };
        const struct retry_schedule *rs = j->schedule ? j->schedule : &none;
        int64_t delay = retry_next_delay(rs, d.attempts, j->status_code,
                                         j->retry_after[0] ? j->retry_after : NULL, now, rnd);
        d.state = delay < 0 ? DSTATE_FAIL : DSTATE_SENDING;
        /* saturated: a schedule's delays have no upper bound (config.c) */
        d.next_ms = delay < 0 ? 0 : now > 0 && delay > INT64_MAX - now ? INT64_MAX : now + delay;
        j->next_ms = d.next_ms;
        if (delay >= 0)
            rc = schedule_retry(w, j, t, d.next_ms, dl);
    }
    if (!rc)
        rc = count_failed(j, t, before, d.state);
    if (!rc)   /* a failure counts as sending when it scheduled a retry (epstats.h) */
        rc = epstats_add(t, j->ep_id, now, ok ? EPSTATS_SUCCESS
                                           : j->next_ms ? EPSTATS_SENDING : EPSTATS_FAIL);
    uint8_t val[STORE_DELIVERY_LEN];
    store_delivery_encode(&d, val);
    return rc ? rc : store_put(t, DB_DELIVERIES, key, kl, val, sizeof(val), 0);
}

/*
 * Nothing can be sent: the message's payload expired before this attempt
 * (retention.c), or the endpoint was deleted. A pending or sending
 * delivery ends as failed, without an attempt record; code, when not 0,
 * replaces its last status code to say why (STORE_CODE_*). Any other
 * state stays.
 */
static int end_delivery(struct job *j, struct store_txn *t, const struct backlog_delta *dl,
                        uint16_t code)
{
    char key[2 * ID_MAX];
    size_t kl = str_copy(key, sizeof(key), j->msg_id, j->ep_id);
    struct store_delivery d;
    const void *v;
    size_t n;
    int rc = store_get(t, DB_DELIVERIES, key, kl, &v, &n);
    if (rc == 0 && store_delivery_decode(v, n, &d) == 0
        && (d.state == DSTATE_PENDING || d.state == DSTATE_SENDING)) {
        uint8_t val[STORE_DELIVERY_LEN];
        int before = d.state;
        d.state = DSTATE_FAIL;
        d.next_ms = 0;
        d.updated_ms = j->intent.entry.head.now_ms;
        if (code)
            d.last_code = code;
        store_delivery_encode(&d, val);
        rc = count_failed(j, t, before, d.state);
        if (!rc)
            rc = epstats_add(t, j->ep_id, d.updated_ms, code == STORE_CODE_PAYLOAD_EXPUNGED
                                                        ? EPSTATS_CANCELED : EPSTATS_FAIL);
        if (!rc)
            rc = store_put(t, DB_DELIVERIES, key, kl, val, sizeof(val), 0);
    } else if (rc == HOOKD_ENOTFOUND) {
        rc = 0;
    }
    return rc ? rc : store_health_add(t, j->ep_id, dl->backlog, dl->retrying);
}

/* endpoint.disabled for the operator (opwh.h), Svix's trigger "automatic". */
static int disabled_event(struct writer *w, struct job *j,
                          struct store_txn *t, int64_t since, int64_t now)
{
    json_t *extra = json_pack("{s:o, s:s}", "failSince", opwh_time(since ? since : now),
                              "trigger", "automatic");
    int rc = opwh_endpoint_event(t, w, "endpoint.disabled", j->app_id, j->ep_id, extra,
                                 &j->intent.entry.head);
    json_decref(extra);
    return rc;
}

/* Sets j->disabled (reason) when the endpoint was enabled until now. */
static int disable_endpoint(struct writer *w, struct job *j, struct store_txn *t,
                            int64_t since, int64_t now)
{
    char key[2 * ID_MAX];
    size_t kl = str_copy(key, sizeof(key), j->app_id, j->ep_id);
    json_t *ep;
    int rc = store_get_json(t, DB_ENDPOINTS, key, kl, &ep);
    if (rc)
        return rc == HOOKD_ENOTFOUND ? 0 : rc;
    if (!json_is_true(json_object_get(ep, "disabled"))) {
        j->disabled = j->status_code == 410 ? 1 : 2;
        /* when and why, for the operator (API.md 9) and replay-missing's since */
        json_object_set_new(ep, "disabledAt", json_integer(now));
        json_object_set_new(ep, "disabledReason",
                            json_string(j->disabled == 1 ? "http_410" : "failures"));
    }
    json_object_set_new(ep, "disabled", json_true());
    json_object_set_new(ep, "updatedAt", json_integer(now));
    rc = store_put_json(t, DB_ENDPOINTS, key, kl, ep);
    json_decref(ep);
    writer_touch(w, j->app_id, j->ep_id, WRITER_NOTE_SETTINGS);
    return rc || !j->disabled ? rc : disabled_event(w, j, t, since, now);
}

static uint32_t add_count(uint32_t v, int d)
{
    int64_t x = (int64_t)v + d;
    return x < 0 ? 0 : (uint32_t)x;
}

/* Health row; disables the endpoint on 410 or after a long run of failures. */
static int update_health(struct writer *w, struct job *j, int ok,
                         struct store_txn *t, int64_t now, const struct backlog_delta *dl)
{
    struct store_health h = { 0 };
    const void *v;
    size_t n;
    if (store_get(t, DB_EP_HEALTH, j->ep_id, strlen(j->ep_id), &v, &n) == 0)
        store_health_decode(v, n, &h);
    h.last_attempt_ms = now;
    h.last_code = (uint16_t)j->status_code;
    h.consecutive_failures = ok ? 0 : h.consecutive_failures + 1;
    h.failing_since_ms = ok ? 0 : h.failing_since_ms ? h.failing_since_ms : now;
    h.backlog = add_count(h.backlog, dl->backlog);
    h.retrying = add_count(h.retrying, dl->retrying);
    uint8_t val[STORE_HEALTH_LEN];
    store_health_encode(&h, val);
    int rc = store_put(t, DB_EP_HEALTH, j->ep_id, strlen(j->ep_id), val, sizeof(val), 0);
    int too_long = !ok && j->disable_after_ms > 0
                   && now - h.failing_since_ms >= j->disable_after_ms;
    if (!rc && (j->status_code == 410 || too_long))
        rc = disable_endpoint(w, j, t, h.failing_since_ms, now);
    return rc;
}

/*
 * The operator's event for this attempt, when it changed the delivery's
 * state as Svix counts it (opwh.h): retries exhausted, the 4th failure
 * with a retry to come, or a success after at least that many failures.
 * Every other attempt returns before reading anything.
 */
static int attempt_event(struct writer *w, struct job *j, int ok, int was,
                         struct store_txn *t, const char *att, int64_t now)
{
    const char *type = NULL;
    if (ok && j->attempt > OPWH_FAILING_AFTER && was != DSTATE_SUCCESS)
        type = "message.attempt.recovered";
    else if (!ok && j->final_fail && j->trigger != TRIGGER_MANUAL)
        type = "message.attempt.exhausted";
    else if (!ok && j->next_ms && j->attempt == OPWH_FAILING_AFTER)
        type = "message.attempt.failing";
    if (!type)
        return 0;
    struct opwh_attempt last = { att, j->status_code, j->started_ms };
    return opwh_attempt_event(t, w, type, j->app_id, j->ep_id, j->msg_id, &last,
                              &j->intent.entry.head);
}

int outcome_apply(struct writer *w, struct job *j, struct store_txn *t)
{
    int rc = store_del(t, DB_DUE, j->due_key, j->due_klen);
    int consumed = rc == 0;
    struct backlog_delta dl = { -consumed, consumed && j->retry ? -1 : 0 };
    if (rc == HOOKD_ENOTFOUND)
        rc = 0;
    j->final_fail = j->disabled = j->attempt = 0;
    j->next_ms = 0;
    if (!rc && j->ep_gone)
        return consumed ? end_delivery(j, t, &dl, STORE_CODE_ENDPOINT_DELETED) : 0;
    if (!rc && j->expired)
        return consumed ? end_delivery(j, t, &dl, j->expunged ? STORE_CODE_PAYLOAD_EXPUNGED : 0)
                        : 0;
    if (rc || j->missing)
        return rc || !consumed ? rc : store_health_add(t, j->ep_id, dl.backlog, dl.retrying);
    int ok = attempt_ok(j->status_code);
    int64_t now = j->intent.entry.head.now_ms;
    int was = DSTATE_PENDING;
    rc = put_attempt(j, ok, t, j->att_id);
    if (!rc)
        rc = update_delivery(w, j, ok, t, now, &dl, &was);
    if (!rc)
        rc = update_health(w, j, ok, t, now, &dl);
    if (!rc)
        rc = attempt_event(w, j, ok, was, t, j->att_id, now);
    return rc;
}

/* --- the entry (outcome.h: outcome_submit) --- */

enum {
    OUTCOME_F_MISSING = 1,      /* job->missing */
    OUTCOME_F_EP_GONE = 2,
    OUTCOME_F_EXPIRED = 4,
    OUTCOME_F_EXPUNGED = 8,
    OUTCOME_F_RETRY = 16,       /* the due entry was a scheduled retry */
    OUTCOME_F_MANUAL = 32,      /* triggerType 1 */
    OUTCOME_F_ALL = 63
};

static int has_attempt(const struct job *j)
{
    return !j->missing && !j->ep_gone && !j->expired;
}

/* The fields before the attempt id, and the job's copies of what it decided. */
static void encode(struct outcome_opts *o, struct job *j, struct entry_w *w)
{
    uint64_t f = (j->missing ? OUTCOME_F_MISSING : 0) | (j->ep_gone ? OUTCOME_F_EP_GONE : 0)
                 | (j->expired ? OUTCOME_F_EXPIRED : 0) | (j->expunged ? OUTCOME_F_EXPUNGED : 0)
                 | (j->retry ? OUTCOME_F_RETRY : 0) | (j->trigger ? OUTCOME_F_MANUAL : 0);
    entry_put_u64(w, f);
    entry_put_str(w, j->app_id);
    entry_put_str(w, j->ep_id);
    entry_put_str(w, j->msg_id);
    entry_put_bytes(w, j->due_key, j->due_klen);
    j->schedule = NULL;
    j->disable_after_ms = 0;
    if (!has_attempt(j))
        return;
    j->url = j->conf ? j->conf->url : "";
    entry_put_str(w, j->url);
    entry_put_i64(w, j->started_ms);
    entry_put_i64(w, j->duration_ms);
    entry_put_i64(w, j->status_code);
    entry_put_bytes(w, j->response.data, j->response.len);
    entry_put_u64(w, (uint64_t)j->resp_hdrs_n);
    entry_put_bytes(w, j->resp_hdrs, j->resp_hdrs_len);
    if (attempt_ok(j->status_code))
        return;   /* what follows only a failure reads */
    j->disable_after_ms = o->disable_after_ms;
    entry_put_i64(w, j->disable_after_ms);
    if (j->trigger)
        return;   /* a manual attempt is never retried */
    /* this moment's schedule: it stays valid until the process ends (swap.h) */
    j->schedule = swap_get(&o->schedule);
    entry_put_str(w, j->retry_after);
    entry_put_u64(w, (uint64_t)j->schedule->n);
    for (int i = 0; i < j->schedule->n; i++)
        entry_put_i64(w, j->schedule->delay_ms[i]);
}

void outcome_init(struct outcome_opts *o)
{
    pthread_mutex_init(&o->lock, NULL);
    memset(&o->attempt_ids, 0, sizeof(o->attempt_ids));
}

void outcome_fini(struct outcome_opts *o)
{
    pthread_mutex_destroy(&o->lock);
}

int outcome_submit(struct outcome_opts *o, struct job *j)
{
    struct entry_w *w = &j->intent.entry;
    /* ids, url, schedule and the like fit in 1 KiB beside the response */
    entry_reserve(w, j->response.len + (size_t)j->resp_hdrs_len + 1024);
    entry_begin(w, ENTRY_OUTCOME, clock_now_ms());
    encode(o, j, w);
    if (!has_attempt(j))
        return writer_submit(o->writer, &j->intent);
    /*
     * The id carries the attempt's start, or follows the last id handed
     * out when that one is as late (id_seq_next). Drawn and queued under
     * one lock, ids grow in the order the writer applies them (its queue
     * is FIFO), so the attempts and att_by_ep tables append
     * (store_append), as does att_by_msg while messages are delivered in
     * order: full pages, half the pages to write and to keep.
     */
    pthread_mutex_lock(&o->lock);
    id_seq_next(&o->attempt_ids, "atmpt_", j->started_ms, j->att_id);
    entry_put_str(w, j->att_id);
    int rc = writer_submit(o->writer, &j->intent);
    pthread_mutex_unlock(&o->lock);
    return rc;
}

/* Pairs of "name\0value\0", n of them, that fill exactly len bytes. */
static int headers_whole(const char *p, size_t len, int n)
{
    size_t at = 0;
    for (int i = 0; i < 2 * n; i++) {
        const char *z = at < len ? memchr(p + at, '\0', len - at) : NULL;
        if (!z)
            return 0;
        at = (size_t)(z - p) + 1;
    }
    return at == len;
}

/* Strings that must be there, into fixed buffers. */
static void get_id(struct entry_r *r, char out[ID_MAX])
{
    entry_get_strbuf(r, out, ID_MAX);
}

/* The attempt's fields; url and rs are the job's storage for them. */
static void decode_attempt(struct entry_r *r, struct job *j, char **url,
                           struct retry_schedule *rs)
{
    size_t n;
    *url = entry_get_str(r);
    j->url = *url ? *url : "";
    j->started_ms = entry_get_i64(r);
    j->duration_ms = entry_get_i64(r);
    int64_t code = entry_get_i64(r);
    const void *p = entry_get_bytes(r, &n);
    if (p && n)
        buf_add(&j->response, p, n);
    uint64_t hn = entry_get_u64(r);
    p = entry_get_bytes(r, &n);
    if (code < 0 || code > 999 || hn > JOB_HDRS_MAX || n > JOB_HDRS_BYTES
        || (n && !headers_whole(p, n, (int)hn)) || (!n && hn)) {
        r->bad = 1;
        return;
    }
    j->status_code = (int)code;
    j->resp_hdrs_n = (int)hn;
    j->resp_hdrs_len = n;
    if (n)
        memcpy(j->resp_hdrs, p, n);
    if (!r->bad && !attempt_ok(j->status_code)) {
        j->disable_after_ms = entry_get_i64(r);
        if (!j->trigger) {
            entry_get_strbuf(r, j->retry_after, sizeof(j->retry_after));
            uint64_t sn = entry_get_u64(r);
            if (sn > RETRY_MAX) {
                r->bad = 1;
                return;
            }
            rs->n = (int)sn;
            for (int i = 0; i < rs->n; i++)
                rs->delay_ms[i] = entry_get_i64(r);   /* retry_next_delay bounds each */
            j->schedule = rs;
        }
    }
    get_id(r, j->att_id);
}

/* r's fields into j (zeroed); bad set on r when they do not make an outcome. */
static void decode(struct entry_r *r, struct job *j, char **url, struct retry_schedule *rs)
{
    uint64_t f = entry_get_u64(r);
    if (f & ~(uint64_t)OUTCOME_F_ALL)
        r->bad = 1;
    j->missing = !!(f & OUTCOME_F_MISSING);
    j->ep_gone = !!(f & OUTCOME_F_EP_GONE);
    j->expired = !!(f & OUTCOME_F_EXPIRED);
    j->expunged = !!(f & OUTCOME_F_EXPUNGED);
    j->retry = !!(f & OUTCOME_F_RETRY);
    j->trigger = !!(f & OUTCOME_F_MANUAL);
    get_id(r, j->app_id);
    get_id(r, j->ep_id);
    get_id(r, j->msg_id);
    size_t n;
    const void *k = entry_get_bytes(r, &n);
    if (!n || n > sizeof(j->due_key)) {
        r->bad = 1;
        return;
    }
    memcpy(j->due_key, k, n);
    j->due_klen = n;
    if (!r->bad && has_attempt(j))
        decode_attempt(r, j, url, rs);
}

int outcome_reapply(const struct reapply_env *env, struct entry_r *r, struct store_txn *t)
{
    struct job *j = xcalloc(1, sizeof(*j));
    struct retry_schedule rs = { 0 };
    char *url = NULL;
    j->intent.entry.head = r->head;
    decode(r, j, &url, &rs);
    int rc = r->bad ? HOOKD_EINVAL : outcome_apply(NULL, j, t);
    buf_release(&j->response);
    free(url);
    free(j);
    return rc;
}

/* Length of the longest prefix of s[0..n) that is whole, valid UTF-8. */
static size_t utf8_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int len = s[i] < 0x80 ? 1 : (s[i] & 0xE0) == 0xC0 ? 2 : (s[i] & 0xF0) == 0xE0 ? 3
                  : (s[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || i + (size_t)len > n)
            break;
        for (int k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += (size_t)len;
    }
    return i;
}

void outcome_error_text(int code, const char *resp, size_t len, char *out, size_t cap)
{
    size_t n = code ? (size_t)snprintf(out, cap, "HTTP %d", code)
                    : (size_t)snprintf(out, cap, "%s", len ? "" : "no response");
    if (n >= cap || !resp || !len)
        return;
    if (code && n + 2 < cap) {
        memcpy(out + n, ": ", 2);
        n += 2;
    }
    size_t take = utf8_prefix((const unsigned char *)resp, len < cap - 1 - n ? len : cap - 1 - n);
    for (size_t i = 0; i < take; i++)   /* one line: control characters become spaces */
        out[n + i] = (unsigned char)resp[i] < 0x20 ? ' ' : resp[i];
    out[n + take] = '\0';
}
