/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed.h - the live feed: a ring of the latest attempt outcomes, numbered,
 * and long-poll waiters woken when newer ones arrive.
 *
 * The dispatcher pushes one item per durable outcome (writer's done path);
 * readers take the items after a sequence number they already saw. A
 * reader that found nothing can register a waiter instead of blocking a
 * thread: the feed's own thread calls it back once something newer than
 * its cursor exists, or its deadline passes, or the feed stops. Sequence
 * numbers start at 1 with every process; the ring keeps the last cap
 * items, so a reader that fell further behind silently skips ahead.
 *
 * Threads: feed_push, feed_read, feed_last_seq and feed_wait from any
 * thread; waiters' callbacks run on the feed's thread, never under its
 * lock (they may call feed_read).
 */
#ifndef HOOKD_FEED_H
#define HOOKD_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "id.h"

#define FEED_CAP_DEFAULT 10000
#define FEED_TYPE_MAX 257        /* event type names are at most 256 bytes */
#define FEED_ERROR_MAX 200

struct feed;

struct feed_item {
    uint64_t seq;                /* set by feed_push */
    int64_t ts_ms;               /* when the attempt started */
    char msg_id[ID_MAX], app_id[ID_MAX], ep_id[ID_MAX];
    char event_type[FEED_TYPE_MAX];
    int status_code;             /* 0: no HTTP response */
    int ok;
    int trigger;                 /* triggerType: 0 scheduled, 1 manual */
    int64_t duration_ms;
    char error[FEED_ERROR_MAX];  /* "" when ok; valid UTF-8 */
};

int feed_new(struct feed **out, size_t cap);
/* Start the thread that runs waiters' callbacks and deadlines. */
int feed_start(struct feed *f);
/* Call every waiter back, join the thread; later feed_wait calls return 1. */
void feed_stop(struct feed *f);
void feed_free(struct feed *f);

/* Append a copy of *it, numbering it (it->seq is set). */
void feed_push(struct feed *f, struct feed_item *it);
/* The newest sequence number (0 before the first item). */
uint64_t feed_last_seq(struct feed *f);
/*
 * Copy the items with seq > after, oldest first, at most max, into out;
 * returns how many. *last is the seq of the newest copied, else after.
 */
size_t feed_read(struct feed *f, uint64_t after, struct feed_item *out, size_t max,
                 uint64_t *last);

typedef void (*feed_ready_fn)(void *arg);
/*
 * Have ready(arg) called once, on the feed's thread, when an item newer
 * than after exists, when clock_mono_ms() reaches deadline_ms, or when the
 * feed stops. Returns 0 when registered, or 1 (and never calls ready) when
 * one of those already holds.
 */
int feed_wait(struct feed *f, uint64_t after, int64_t deadline_ms, feed_ready_fn ready,
              void *arg);

#endif
