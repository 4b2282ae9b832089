/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tap.c - TAP version 13 producer for hookd's C tests.
 *
 * Results go to stdout, which prove parses; diagnostics go to stderr, as
 * Test::More does, so prove shows why a test failed without -v. stdout is
 * flushed before each diagnostic so the two streams interleave in order
 * when both reach a terminal or the same file.
 *
 * State is file-static: a test program is one thread and one run (tap.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

static int planned = -1;
static int run;
static int failed;
static int started;

/* The version line must come first, whether a plan or a result follows. */
static void header(void)
{
    if (!started)
        printf("TAP version 13\n");
    started = 1;
}

void tap_plan(int n)
{
    if (planned >= 0)
        return;
    planned = n;
    header();
    printf("1..%d\n", n);
    fflush(stdout);
}

/* A whole-file skip ends the program: nothing after it should run. */
void tap_skip_all(const char *why)
{
    header();
    printf("1..0 # SKIP %s\n", why ? why : "");
    fflush(stdout);
    exit(0);
}

static void vdiag(const char *fmt, va_list ap)
{
    fflush(stdout);
    fputs("# ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void tap_diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(fmt, ap);
    va_end(ap);
}

static int vok(int pass, const char *fmt, va_list ap)
{
    run++;
    if (!pass)
        failed++;
    header();
    printf("%sok %d", pass ? "" : "not ", run);
    if (fmt && *fmt) {
        fputs(" - ", stdout);
        vprintf(fmt, ap);
    }
    putchar('\n');
    fflush(stdout);
    if (!pass)
        tap_diag("  Failed test %d", run);
    return pass;
}

int tap_ok(int pass, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vok(pass, fmt, ap);
    va_end(ap);
    return pass;
}

int tap_is_int(long long got, long long want, const char *fmt, ...)
{
    va_list ap;
    int pass = got == want;

    va_start(ap, fmt);
    vok(pass, fmt, ap);
    va_end(ap);
    if (!pass) {
        tap_diag("         got: %lld", got);
        tap_diag("    expected: %lld", want);
    }
    return pass;
}

static int str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* NULL is shown bare so it cannot be mistaken for the string "(null)". */
static void diag_str(const char *label, const char *s)
{
    if (s)
        tap_diag("%12s: '%s'", label, s);
    else
        tap_diag("%12s: NULL", label);
}

int tap_is_str(const char *got, const char *want, const char *fmt, ...)
{
    va_list ap;
    int pass = str_eq(got, want);

    va_start(ap, fmt);
    vok(pass, fmt, ap);
    va_end(ap);
    if (!pass) {
        diag_str("got", got);
        diag_str("expected", want);
    }
    return pass;
}

void tap_skip(int n, const char *why)
{
    header();
    for (int i = 0; i < n; i++)
        printf("ok %d # skip %s\n", ++run, why ? why : "");
    fflush(stdout);
}

int tap_done(void)
{
    if (planned < 0) {
        header();
        printf("1..%d\n", run);
        fflush(stdout);
        planned = run;
    }
    if (run != planned)
        tap_diag("planned %d tests but ran %d", planned, run);
    if (failed)
        tap_diag("failed %d of %d tests", failed, run);
    return failed == 0 && run == planned ? 0 : 1;
}

int tap_failures(void)
{
    return failed;
}
