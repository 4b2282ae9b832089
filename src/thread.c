/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thread.c - see thread.h.
 */
#include "mem.h"
#include "thread.h"

int thread_start(pthread_t *t, const char *name, void *(*fn)(void *), void *arg)
{
    int rc = pthread_create(t, NULL, fn, arg);
    if (rc)
        return -rc;
    char cut[16];   /* a longer name would make pthread_setname_np fail */
    str_copy(cut, sizeof(cut), name, NULL);
    pthread_setname_np(*t, cut);
    return 0;
}
