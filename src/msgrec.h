/*
 * msgrec.h - the stored message record's text, written and read back in
 * one place.
 *
 * Ingest writes every message record (store.h, "messages") in one layout:
 *
 *   {"id":"msg_…","eventType":"T","eventId":null|"E","channels":null|["C",…],
 *    "payload":{…},"retentionDays":D,"timestamp":MS[,"raw":"…"]}
 *
 * Names (T, E, C) are restricted to [A-Za-z0-9._-] by the API, so they
 * need no escaping and hold no quote. The dispatcher reads a record for
 * every delivery; knowing the layout, it takes the payload as the bytes
 * between the head and the fixed tail instead of scanning a kilobyte of
 * JSON to find where the payload ends. Any record in another shape
 * (a raw payload, an expired one, one written by an older build) is not
 * recognised, and the reader parses it instead.
 *
 * Pure functions on caller-owned memory; any thread.
 */
#ifndef HOOKD_MSGREC_H
#define HOOKD_MSGREC_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/*
 * The fields both the record and the MessageOut answer start with, up to
 * and including "payload": (the id first, at MSGREC_ID_AT, so the writer
 * can renumber a message in place).
 */
#define MSGREC_ID_AT 7   /* strlen("{\"id\":\"") */
void msgrec_head(struct buf *o, const char *msg_id, const char *type, const char *event_id,
                 const char *const *channels, size_t nchannels);
/* The record after its payload; raw is a JSON string's text, or NULL. */
void msgrec_tail(struct buf *o, int64_t retention_days, int64_t ts_ms, const char *raw);

/* Where a record's parts are: offsets into the record, lengths in bytes. */
struct msgrec_view {
    size_t payload, payload_len;
    size_t type, type_len;     /* the eventType name, without quotes */
    int64_t ts_ms;
};

/* 0 when rec is in the layout above without "raw"; -1 for anything else. */
int msgrec_slice(const char *rec, size_t n, struct msgrec_view *v);

#endif
