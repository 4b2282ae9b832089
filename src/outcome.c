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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "epstats.h"
#include "err.h"
#include "job.h"
#include "mem.h"
#include "opwh.h"
#include "outcome.h"
#include "store.h"
#include "writer.h"

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
    if (j->conf)
        buf_add_jstr(o, j->conf->url, strlen(j->conf->url));
    buf_adds(o, "\",\"response\":\"");
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

/*
 * The id carries the attempt's start, or follows the last id handed out
 * when that one is as late (id_seq_next): ids only grow,
 * so the attempts and att_by_ep tables append (store_append), as does
 * att_by_msg while messages are delivered in order. That keeps their
 * pages full: half the pages to write and to keep.
 */
static void attempt_id(struct outcome_opts *o, const struct job *j, char id[ID_MAX])
{
    id_seq_next(&o->attempt_ids, "atmpt_", j->started_ms, id);
}

static int put_attempt(struct outcome_opts *o, struct job *j, int ok, struct store_txn *t,
                       char id[ID_MAX])
{
    char key[2 * ID_MAX];
    attempt_id(o, j, id);
    struct buf rec = BUF_INIT;
    /* one allocation for the usual record, not one per doubling from 64 bytes */
    buf_grow(&rec, 512 + 2 * (j->response.len + j->resp_hdrs_len
                               + (j->conf ? strlen(j->conf->url) : 0)));
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
static int schedule_retry(const struct outcome_opts *o, struct job *j, struct store_txn *t,
                          int64_t at, struct backlog_delta *dl)
{
    uint8_t key[STORE_DUE_KEY_MAX], val[STORE_DUE_VAL_LEN];
    size_t kl = store_due_key(j->ep_id, at, j->msg_id, key, sizeof(key));
    store_due_val(j->app_id, TRIGGER_RETRY, val);
    writer_touch(o->writer, j->app_id, j->ep_id, WRITER_NOTE_DUE);
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
static int update_delivery(const struct outcome_opts *o, struct job *j, int ok,
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
        double rnd = (double)(clock_mono_us() % 1000003) / 1000003.0;
        const struct retry_schedule *rs = swap_get(&o->schedule);
        int64_t delay = retry_next_delay(rs, d.attempts, j->status_code,
                                         j->retry_after[0] ? j->retry_after : NULL, now, rnd);
        d.state = delay < 0 ? DSTATE_FAIL : DSTATE_SENDING;
        d.next_ms = delay < 0 ? 0 : now + delay;
        j->next_ms = d.next_ms;
        if (delay >= 0)
            rc = schedule_retry(o, j, t, d.next_ms, dl);
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
        d.updated_ms = clock_now_ms();
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
static int disabled_event(const struct outcome_opts *o, struct job *j,
                          struct store_txn *t, int64_t since, int64_t now)
{
    json_t *extra = json_pack("{s:o, s:s}", "failSince", opwh_time(since ? since : now),
                              "trigger", "automatic");
    int rc = opwh_endpoint_event(t, o->writer, "endpoint.disabled", j->app_id, j->ep_id, extra,
                                 &j->intent.entry.head);
    json_decref(extra);
    return rc;
}

/* Sets j->disabled (reason) when the endpoint was enabled until now. */
static int disable_endpoint(const struct outcome_opts *o, struct job *j, struct store_txn *t,
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
    writer_touch(o->writer, j->app_id, j->ep_id, WRITER_NOTE_SETTINGS);
    return rc || !j->disabled ? rc : disabled_event(o, j, t, since, now);
}

static uint32_t add_count(uint32_t v, int d)
{
    int64_t x = (int64_t)v + d;
    return x < 0 ? 0 : (uint32_t)x;
}

/* Health row; disables the endpoint on 410 or after a long run of failures. */
static int update_health(const struct outcome_opts *o, struct job *j, int ok,
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
    int too_long = !ok && o->disable_after_ms > 0
                   && now - h.failing_since_ms >= o->disable_after_ms;
    if (!rc && (j->status_code == 410 || too_long))
        rc = disable_endpoint(o, j, t, h.failing_since_ms, now);
    return rc;
}

/*
 * The operator's event for this attempt, when it changed the delivery's
 * state as Svix counts it (opwh.h): retries exhausted, the 4th failure
 * with a retry to come, or a success after at least that many failures.
 * Every other attempt returns before reading anything.
 */
static int attempt_event(const struct outcome_opts *o, struct job *j, int ok, int was,
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
    return opwh_attempt_event(t, o->writer, type, j->app_id, j->ep_id, j->msg_id, &last,
                              &j->intent.entry.head);
}

int outcome_apply(struct outcome_opts *o, struct job *j, struct store_txn *t)
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
    int ok = j->status_code >= 200 && j->status_code < 300;
    int64_t now = clock_now_ms();
    j->intent.entry.head.now_ms = now;   /* the operator's events' time (opwh.h) */
    char att[ID_MAX];
    int was = DSTATE_PENDING;
    rc = put_attempt(o, j, ok, t, att);
    if (!rc)
        rc = update_delivery(o, j, ok, t, now, &dl, &was);
    if (!rc)
        rc = update_health(o, j, ok, t, now, &dl);
    if (!rc)
        rc = attempt_event(o, j, ok, was, t, att, now);
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
