/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swap.c - replaceable read-only values (see swap.h for why old values
 * live until the process stops).
 */
#include <stdlib.h>

#include "mem.h"
#include "swap.h"

void swap_init(struct swap *s, void *v)
{
    atomic_init(&s->cur, v);
    s->old = NULL;
    s->nold = 0;
}

void swap_set(struct swap *s, void *v)
{
    void *prev = atomic_exchange_explicit(&s->cur, v, memory_order_acq_rel);
    if (!prev)
        return;
    s->old = xrealloc(s->old, (s->nold + 1) * sizeof(*s->old));
    s->old[s->nold++] = prev;
}

void swap_release(struct swap *s, void (*free_fn)(void *))
{
    void (*release)(void *) = free_fn ? free_fn : free;
    void *cur = atomic_exchange(&s->cur, NULL);
    if (cur)
        release(cur);
    for (size_t i = 0; i < s->nold; i++)
        release(s->old[i]);
    free(s->old);
    s->old = NULL;
    s->nold = 0;
}
