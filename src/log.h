/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - structured logging: one line per event, logfmt or JSON.
 *
 *   log_info("listening", "addr", "127.0.0.1:8071", NULL);
 *   -> ts=2026-11-28T15:49:38.123Z level=info msg=listening addr=127.0.0.1:8071
 *
 * Arguments after the message are NULL-terminated key/value string pairs.
 * Values are quoted/escaped as the format needs. Callers must never pass
 * secrets or tokens. The logger is the one process-wide state besides
 * signal flags: it is set up once by main (log_open) and is safe to call
 * from any thread afterwards (each line is written with one write(2)).
 */
#ifndef HOOKD_LOG_H
#define HOOKD_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/*
 * Configure level ("debug".."error"), format ("logfmt" | "json") and file
 * (NULL or "" = stderr). Returns 0, HOOKD_EINVAL for a bad level or
 * format, or -errno when the file cannot be opened.
 */
int log_open(const char *level, const char *format, const char *file);
/* Reopen the log file (SIGHUP, after rotation). 0 or -errno. */
int log_reopen(void);
void log_close(void);
int log_enabled(enum log_level lvl);

void log_kv(enum log_level lvl, const char *msg, ...)
    __attribute__((sentinel));

#define log_debug(...) log_kv(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_kv(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_kv(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_kv(LOG_ERROR, __VA_ARGS__)

#endif
