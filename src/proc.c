/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc.c - the open-file limit and /proc/self figures (see proc.h).
 *
 * /proc/self/stat gives CPU ticks, threads, start time (ticks after boot),
 * virtual size and resident pages in one read; the boot time that turns
 * the start into a wall-clock time is /proc/stat's btime. The command
 * name in the stat line may hold spaces and parentheses, so the fields
 * are read after its last ')'.
 */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int64_t rlim_value(rlim_t v)
{
    return v == RLIM_INFINITY ? -1 : (int64_t)v;
}

/* The kernel's ceiling for any process's descriptors (fs.nr_open). */
static rlim_t nr_open(void)
{
    rlim_t n = 1024 * 1024;   /* the kernel's default for fs.nr_open */
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    if (f) {
        unsigned long long v;
        if (fscanf(f, "%llu", &v) == 1 && v > 0)
            n = (rlim_t)v;
        fclose(f);
    }
    return n;
}

int proc_raise_nofile(struct proc_nofile *out)
{
    struct rlimit r;
    out->before = out->limit = 0;
    if (getrlimit(RLIMIT_NOFILE, &r))
        return -errno;
    out->before = out->limit = rlim_value(r.rlim_cur);
    rlim_t want = r.rlim_max == RLIM_INFINITY ? nr_open() : r.rlim_max;
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur >= want)
        return 0;
    r.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &r))
        return -errno;
    out->limit = rlim_value(want);
    return 0;
}

static int64_t count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;   /* the directory stream's own descriptor */
}

static int64_t boot_time_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    char line[256];
    long long bt = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "btime %lld", &bt) == 1)
            break;
    fclose(f);
    return bt;
}

/* Field n (1-based, as proc(5) numbers them) of a stat line, from the
 * text after the command name's ')', which ends field 2. */
static unsigned long long stat_field(const char *after, int n)
{
    const char *p = after;
    for (int f = 3; f < n && *p; f++) {
        p += strspn(p, " ");
        p += strcspn(p, " ");
    }
    return strtoull(p, NULL, 10);   /* a negative field reads as 0 here; none below is */
}

static int read_stat(struct proc_sample *out)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -errno;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    if (!p)
        return -EINVAL;
    p++;
    double hz = (double)sysconf(_SC_CLK_TCK);
    int64_t bt = boot_time_s();
    out->cpu_seconds = (double)(stat_field(p, 14) + stat_field(p, 15)) / hz;
    out->threads = (int64_t)stat_field(p, 20);
    out->vsize_bytes = (int64_t)stat_field(p, 23);
    out->rss_bytes = (int64_t)stat_field(p, 24) * (int64_t)sysconf(_SC_PAGESIZE);
    out->start_time_s = bt >= 0 ? (double)bt + (double)stat_field(p, 22) / hz : 0;
    return 0;
}

int proc_sample(struct proc_sample *out)
{
    struct proc_sample s = { 0 };
    int rc = read_stat(&s);
    if (rc)
        return rc;
    struct rlimit r;
    s.max_fds = getrlimit(RLIMIT_NOFILE, &r) ? 0 : rlim_value(r.rlim_cur);
    s.open_fds = count_fds();
    if (s.open_fds < 0)
        return -EIO;
    *out = s;
    return 0;
}
