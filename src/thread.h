/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thread.h - starting hookd's long-lived threads.
 *
 * Every background thread (writer, syncer, dispatcher, workers, ...) is
 * started here, so each carries a name that top -H, perf and gdb show.
 */
#ifndef HOOKD_THREAD_H
#define HOOKD_THREAD_H

#include <pthread.h>

/*
 * pthread_create(t, fn, arg), then name the thread (the kernel keeps 15
 * bytes of name; longer ones are cut). 0, or the negated errno.
 */
int thread_start(pthread_t *t, const char *name, void *(*fn)(void *), void *arg);

#endif
