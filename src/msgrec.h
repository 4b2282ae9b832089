/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msgrec.h - the stored message record's text, written and read back in
 * one place.
 *
 * Ingest writes every message record (store.h, "messages") in one layout:
 *
 *   {"id":"msg_…","eventType":"T","eventId":null|"E","channels":null|["C",…],
 *    [,"tags":["G",…]][,"deliverAt":MS]
 *    "payload":{…},"retentionDays":D,"timestamp":MS[,"raw":"…"]}
 *
 * tags (names) and deliverAt (a scheduled message's first due time) are
 * there only when the message has them.
 *
 * Names (T, E, C) are restricted to [A-Za-z0-9._-] by the API, so they
 * need no escaping and hold no quote. The payload is the text the
 * producer sent, byte for byte (jscan.h): numbers such as 1e400 or a
 * 30-digit integer that jansson cannot hold are kept as written. So
 * readers never give a record to jansson whole: msgrec_slice() finds the
 * payload as the bytes between the head and the fixed tail (the
 * dispatcher reads a record for every delivery without a byte of the
 * payload read), and msgrec_parse() gives jansson the rest. Records in
 * another shape (expired ones, those written by an older build) are not
 * recognised and are parsed whole; their payloads were written by
 * jansson.
 *
 * Pure functions on caller-owned memory; any thread.
 */
#ifndef HOOKD_MSGREC_H
#define HOOKD_MSGREC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mem.h"

/*
 * The fields both the record and the MessageOut answer start with, up to
 * and including "payload": (the id first, at MSGREC_ID_AT, so ingest can
 * renumber a message in place as it hands the message on).
 */
#define MSGREC_ID_AT 7   /* strlen("{\"id\":\"") */
void msgrec_head(struct buf *o, const char *msg_id, const char *type, const char *event_id,
                 const char *const *channels, size_t nchannels);
/*
 * The optional head fields: tags (names), and deliverAt as the text to
 * write (the record's integer ms, or the answer's quoted RFC 3339 time).
 */
struct msgrec_extra {
    const char *const *tags;
    size_t ntags;
    const char *deliver_at;   /* NULL: none */
};
void msgrec_head_ext(struct buf *o, const char *msg_id, const char *type, const char *event_id,
                     const char *const *channels, size_t nchannels,
                     const struct msgrec_extra *x);
/* The record after its payload; raw is a JSON string's text, or NULL. */
void msgrec_tail(struct buf *o, int64_t retention_days, int64_t ts_ms, const char *raw);

/* Where a record's parts are: offsets into the record, lengths in bytes. */
struct msgrec_view {
    size_t payload, payload_len;
    size_t type, type_len;     /* the eventType name, without quotes */
    size_t raw, raw_len;       /* "raw" as a JSON string with its quotes; len 0: none */
    int64_t ts_ms;
};

/* 0 when rec is in the layout above; -1 for anything else. */
int msgrec_slice(const char *rec, size_t n, struct msgrec_view *v);

/*
 * The record as a jansson object (caller decrefs), or NULL when it cannot
 * be read. A record in the layout above is parsed without its payload,
 * and "payload" then holds the payload's text as a JSON string (a stored
 * payload is always an object, so a string can only be this text), also
 * at rec[v->payload .. +v->payload_len). Any other record is parsed
 * whole, v->payload_len is then 0 and its payload (when it has one) is
 * an object. v may be NULL.
 */
json_t *msgrec_parse(const char *rec, size_t n, struct msgrec_view *v);

#endif
