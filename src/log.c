/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - one structured line per event, logfmt or JSON lines.
 *
 * Every module logs, from every thread, so the logger's settings are the
 * one piece of process-wide state in hookd besides signal flags: passing
 * a logger handle through every call would add a parameter everywhere and
 * buy nothing, since a process has one log. The state is kept safe
 * without a lock on the hot path:
 *
 *  - level and format are atomics, so log_open() may change them while
 *    other threads log (SIGHUP reload);
 *  - each line is assembled in a private buffer and written with one
 *    write(2) to an O_APPEND descriptor, so concurrent lines never
 *    interleave;
 *  - once a descriptor number is chosen it never changes: log_open() and
 *    log_reopen() open the new target and dup2() it onto that number,
 *    which replaces the open file atomically. A writer racing with a
 *    rotation writes its line either to the old file or to the new one,
 *    never to a closed or reused descriptor.
 *
 * The set-up calls (log_open, log_reopen, log_close) serialise on a
 * mutex; log_close() must only run once no other thread logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "log.h"
#include "mem.h"

enum log_format { FMT_LOGFMT, FMT_JSON };

static const char *const level_names[] = { "debug", "info", "warn", "error" };

static struct {
    atomic_int level;
    atomic_int format;
    atomic_int fd;          /* -1 until log_open: write to stderr */
    char *path;             /* NULL = stderr; guarded by lock */
    pthread_mutex_t lock;   /* serialises log_open/reopen/close */
} logger = { LOG_INFO, FMT_LOGFMT, -1, NULL, PTHREAD_MUTEX_INITIALIZER };

static int parse_level(const char *s)
{
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

/* A descriptor for path, or a duplicate of stderr; -errno on failure. */
static int open_target(const char *path)
{
    int fd;

    if (path)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    else
        fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    return fd < 0 ? -errno : fd;
}

/* Point the logger's descriptor at newfd's file; consumes newfd. */
static int install_fd(int newfd)
{
    int cur = atomic_load(&logger.fd);
    int rc = 0;

    if (cur < 0) {
        atomic_store(&logger.fd, newfd);
        return 0;
    }
    if (dup3(newfd, cur, O_CLOEXEC) < 0)
        rc = -errno;
    close(newfd);
    return rc;
}

int log_open(const char *level, const char *format, const char *file)
{
    int lvl = parse_level(level ? level : "info");
    int fmt, fd, rc;

    if (!format || strcmp(format, "logfmt") == 0)
        fmt = FMT_LOGFMT;
    else if (strcmp(format, "json") == 0)
        fmt = FMT_JSON;
    else
        return HOOKD_EINVAL;
    if (lvl < 0)
        return HOOKD_EINVAL;
    if (file && !*file)
        file = NULL;

    pthread_mutex_lock(&logger.lock);
    if ((fd = open_target(file)) < 0) {
        rc = fd;
        goto out_unlock;
    }
    if ((rc = install_fd(fd)) < 0)
        goto out_unlock;
    free(logger.path);
    logger.path = file ? xstrdup(file) : NULL;
    atomic_store(&logger.level, lvl);
    atomic_store(&logger.format, fmt);
out_unlock:
    pthread_mutex_unlock(&logger.lock);
    return rc;
}

int log_reopen(void)
{
    int fd, rc = 0;

    pthread_mutex_lock(&logger.lock);
    if (!logger.path)
        goto out_unlock;
    if ((fd = open_target(logger.path)) < 0) {
        rc = fd;
        goto out_unlock;
    }
    rc = install_fd(fd);
out_unlock:
    pthread_mutex_unlock(&logger.lock);
    return rc;
}

void log_close(void)
{
    int fd;

    pthread_mutex_lock(&logger.lock);
    fd = atomic_exchange(&logger.fd, -1);
    if (fd >= 0)
        close(fd);
    free(logger.path);
    logger.path = NULL;
    pthread_mutex_unlock(&logger.lock);
}

int log_enabled(enum log_level lvl)
{
    return (int)lvl >= atomic_load_explicit(&logger.level, memory_order_relaxed);
}

/* ---- formatting ---- */

/*
 * Append s as the body of a double-quoted string, escaped the JSON way
 * (logfmt readers accept the same escapes). Invalid UTF-8 becomes
 * U+FFFD so a JSON line always parses.
 */
static void add_escaped(struct buf *b, const char *s)
{
    buf_add_jstr(b, s, strlen(s));
}

static int logfmt_needs_quotes(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (!*p)
        return 1;
    for (; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == 0x7f)
            return 1;
        if (*p >= 0x80) {
            size_t n = utf8_seq(p, 4);   /* a NUL stops it: never a continuation */
            if (!n)
                return 1;
            p += n - 1;
        }
    }
    return 0;
}

static void logfmt_pair(struct buf *b, const char *key, const char *value)
{
    if (b->len)
        buf_addc(b, ' ');
    for (const unsigned char *k = (const unsigned char *)key; *k; k++)
        buf_addc(b, *k <= ' ' || *k == '=' || *k == '"' || *k == 0x7f
                    ? '_' : (char)*k);
    buf_addc(b, '=');
    if (!logfmt_needs_quotes(value)) {
        buf_adds(b, value);
        return;
    }
    buf_addc(b, '"');
    add_escaped(b, value);
    buf_addc(b, '"');
}

static void json_pair(struct buf *b, const char *key, const char *value)
{
    buf_adds(b, b->len > 1 ? ",\"" : "\"");
    add_escaped(b, key);
    buf_adds(b, "\":\"");
    add_escaped(b, value);
    buf_addc(b, '"');
}

/* Write all of b with one write(2) unless the kernel takes less. */
static void write_line(int fd, const struct buf *b)
{
    size_t off = 0;

    while (off < b->len) {
        ssize_t n = write(fd, b->data + off, b->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere left to report a logging failure */
        off += (size_t)n;
    }
}

void log_kv(enum log_level lvl, const char *msg, ...)
{
    struct buf b = BUF_INIT;
    char ts[CLOCK_RFC3339_MAX];
    int json, fd;
    const char *key;
    va_list ap;

    if (!log_enabled(lvl))
        return;
    if ((unsigned)lvl > LOG_ERROR)
        lvl = LOG_ERROR;
    json = atomic_load_explicit(&logger.format, memory_order_relaxed) == FMT_JSON;
    void (*pair)(struct buf *, const char *, const char *) =
        json ? json_pair : logfmt_pair;

    clock_format(clock_now_ms(), ts);
    buf_grow(&b, 256);
    if (json)
        buf_addc(&b, '{');
    pair(&b, "ts", ts);
    pair(&b, "level", level_names[lvl]);
    pair(&b, "msg", msg ? msg : "");
    va_start(ap, msg);
    /* A NULL value ends the list too: nothing after it can be read. */
    while ((key = va_arg(ap, const char *))) {
        const char *value = va_arg(ap, const char *);
        pair(&b, key, value ? value : "");
        if (!value)
            break;
    }
    va_end(ap);
    buf_adds(&b, json ? "}\n" : "\n");

    fd = atomic_load(&logger.fd);
    write_line(fd < 0 ? STDERR_FILENO : fd, &b);
    buf_release(&b);
}
