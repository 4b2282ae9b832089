/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swap.h - a pointer to a read-only value that a reload may replace while
 * other threads read it (the SIGHUP options: ingest tokens, the retry
 * schedule).
 *
 * Readers take the current value with one atomic load and use it without
 * a lock; it stays valid until swap_release(). swap_set() publishes a new
 * value with one atomic store and keeps the old one: a reader may still
 * hold it, and knowing when none does would cost every reader a count.
 * Reloads are rare and their values small, so the old ones are freed
 * only when the process stops (swap_release), which no reader outlives.
 *
 * Threads: swap_get from any thread; swap_set from one thread at a time
 * (main, on SIGHUP); swap_init and swap_release before and after every
 * reader.
 */
#ifndef HOOKD_SWAP_H
#define HOOKD_SWAP_H

#include <stdatomic.h>
#include <stddef.h>

struct swap {
    void *_Atomic cur;
    void **old;        /* replaced values, freed by swap_release */
    size_t nold;
};

/* Start with v (may be NULL); the swap owns it from now on. */
void swap_init(struct swap *s, void *v);

/* The current value; any thread. */
static inline void *swap_get(const struct swap *s)
{
    return atomic_load_explicit(&s->cur, memory_order_acquire);
}

/* Publish v (taken); the value it replaces is kept until swap_release. */
void swap_set(struct swap *s, void *v);

/* Free the current and every replaced value with free_fn (NULL: free()). */
void swap_release(struct swap *s, void (*free_fn)(void *));

#endif
