/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc.h - this process as the kernel sees it: its open-file limit, and
 * the figures a Prometheus process collector exports (CPU time, memory,
 * file descriptors, threads, start time), read from /proc/self.
 *
 * Every client connection and every delivery holds a socket, so the
 * open-file limit bounds both. Shells and container runtimes often start
 * programs with a soft limit of 1024 under a much higher hard limit, and
 * the soft limit is the process's own to raise: serve raises it to the
 * hard limit before it opens anything (proc_raise_nofile).
 *
 * Threads: every function may be called from any thread; nothing is kept
 * between calls. Nothing here logs.
 */
#ifndef HOOKD_PROC_H
#define HOOKD_PROC_H

#include <stdint.h>

struct proc_nofile {
    int64_t before;   /* the soft limit found at start; -1: unlimited */
    int64_t limit;    /* the soft limit now; -1: unlimited */
};

/*
 * Raise the soft RLIMIT_NOFILE to the hard limit (to the kernel's
 * nr_open when the hard limit is unlimited). Fills *out in any case;
 * 0, or -errno when the limit could not be read or raised (out then
 * holds the unchanged limit).
 */
int proc_raise_nofile(struct proc_nofile *out);

struct proc_sample {
    double cpu_seconds;       /* user + system, every thread */
    int64_t rss_bytes;
    int64_t vsize_bytes;
    int64_t open_fds;
    int64_t max_fds;          /* the soft RLIMIT_NOFILE; -1: unlimited */
    int64_t threads;
    double start_time_s;      /* since the Unix epoch */
};

/* Sample the process now: 0, or -errno when /proc cannot be read (no
 * field of *out is then meaningful). Counts /proc/self/fd, so its cost
 * grows with the number of open descriptors (about 1 ms for 10,000). */
int proc_sample(struct proc_sample *out);

#endif
