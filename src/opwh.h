/* SPDX-License-Identifier: Apache-2.0 */
/*
 * opwh.h - operational webhooks: Svix's events about the service itself
 * (endpoint.created, .updated, .deleted, .disabled, .enabled and
 * message.attempt.exhausted, .failing, .recovered), sent to the
 * operator's own endpoints (API.md 4.10).
 *
 * The operator's endpoints are the endpoints of one reserved application,
 * uid OPWH_APP_UID, made by the first POST to
 * /api/v1/operational-webhook/endpoint and hidden from the application
 * list. An event is an ordinary message of that application, written in
 * the same write transaction as the change it reports (an endpoint write,
 * an attempt's outcome), so an event is sent exactly when its change is
 * committed, survives a restart with it, and is delivered, signed,
 * retried, logged and replayable like any other message.
 *
 * Nothing is written when the reserved application does not exist, and
 * events about the reserved application's own endpoints and deliveries
 * are never made (no loop). Only a change of state makes an event, so an
 * ordinary attempt costs nothing here.
 *
 * Threads: every function with a txn runs on the writer thread, inside
 * an intent's apply; the rest are pure.
 */
#ifndef HOOKD_OPWH_H
#define HOOKD_OPWH_H

#include <stdint.h>

#include <jansson.h>

#include "id.h"

struct entry_head;
struct store_txn;
struct writer;

#define OPWH_APP_UID "_operational"

/*
 * Svix's rule (its worker): message.attempt.failing goes out with the
 * 4th failed attempt of a delivery when a retry follows, and
 * message.attempt.recovered with a success after at least that many.
 */
#define OPWH_FAILING_AFTER 4

/* Is name one of the eight operational event types? */
int opwh_is_event(const char *name);

/*
 * The reserved application's id into out: 0, HOOKD_ENOTFOUND when it
 * does not exist yet, or a store error.
 */
int opwh_app_id(struct store_txn *t, char out[ID_MAX]);

/*
 * Make the reserved application when it does not exist; its id into out.
 * 0 or a store error.
 */
int opwh_app_ensure(struct store_txn *t, struct entry_head *h, char out[ID_MAX]);

/*
 * An endpoint event (type "endpoint.*") about endpoint ep_id of app_id.
 * extra, when not NULL, holds fields added to the event's data after the
 * four ids (failSince, trigger); borrowed. 0 or a store error, which
 * fails the caller's intent: the change and its event go together.
 */
int opwh_endpoint_event(struct store_txn *t, struct writer *w, const char *type,
                        const char *app_id, const char *ep_id, json_t *extra,
                        struct entry_head *h);

/* The attempt an attempt event reports (Svix's lastAttempt). */
struct opwh_attempt {
    const char *id;
    int status_code;
    int64_t ms;
};

/* A message.attempt.* event about msg_id's delivery to ep_id. As above. */
int opwh_attempt_event(struct store_txn *t, struct writer *w, const char *type,
                       const char *app_id, const char *ep_id, const char *msg_id,
                       const struct opwh_attempt *last, struct entry_head *h);

/* A time as the events write it (RFC 3339), a new reference. Pure. */
json_t *opwh_time(int64_t ms);

#endif
