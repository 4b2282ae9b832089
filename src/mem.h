/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem.h - allocation that never returns NULL, and a growable byte buffer.
 *
 * hookd treats out-of-memory as fatal: the x* wrappers print one line and
 * abort, so no caller carries NULL checks for allocation. A process that
 * must restore something first (the console's terminal) registers a hook
 * with mem_set_oom_hook().
 *
 * struct buf is a NUL-terminated byte buffer in the style of git's strbuf:
 * buf_init() or BUF_INIT, append, then buf_release() or buf_detach().
 * Any thread may use its own bufs; a buf is not shared between threads.
 */
#ifndef HOOKD_MEM_H
#define HOOKD_MEM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

/* Called once before aborting on out-of-memory (console: endwin). */
void mem_set_oom_hook(void (*hook)(void));

struct buf {
    char *data;   /* always NUL-terminated once anything was added */
    size_t len;
    size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);               /* len = 0, keeps memory */
void buf_grow(struct buf *b, size_t extra);  /* room for extra more bytes */
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Append v in decimal (buf_addf's "%lld" without the printf machinery). */
void buf_add_int(struct buf *b, int64_t v);
/* Hands the heap string to the caller (never NULL) and re-inits b. */
char *buf_detach(struct buf *b, size_t *len);
/*
 * Append n bytes of s as the inside of a JSON string: quotes, backslashes
 * and control characters (NUL and DEL included) escaped, bytes that are
 * not valid UTF-8 turned into U+FFFD, so the result always parses.
 */
void buf_add_jstr(struct buf *b, const void *s, size_t n);
/*
 * Copy src (then src2, when not NULL) into dst of cap bytes, cut to fit
 * and always NUL-terminated; returns the length written. For the hot
 * paths, where snprintf("%s%s") cost more than the copy.
 */
size_t str_copy(char *dst, size_t cap, const char *src, const char *src2);
/*
 * v in decimal into out, NUL-terminated; returns the length (at most 20).
 * For the hot paths, like str_copy.
 */
#define STR_INT_MAX 21
size_t str_int(char out[STR_INT_MAX], int64_t v);
/* Length of the valid UTF-8 sequence at s (n bytes readable), 0 if invalid. */
size_t utf8_seq(const void *s, size_t n);

#endif
