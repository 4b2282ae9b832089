/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tap.h - a small producer of the Test Anything Protocol (version 13) for
 * hookd's C tests, run under prove.
 *
 *   plan(3);                       or nothing, and done_testing() at the end
 *   ok(x == 1, "x is one");
 *   is_int(got, 42, "answer");
 *   is_str(name, "hookd", "name");
 *   skip(2, "no IPv6 here");
 *   diag("seed %u", seed);
 *   return done_testing();
 *
 * done_testing() prints the plan if none was given, and returns the exit
 * status: 0 when every test passed and the count matched the plan.
 * Single-threaded: call from one thread only.
 */
#ifndef TAP_H
#define TAP_H

void tap_plan(int n);
void tap_skip_all(const char *why);
int tap_ok(int pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tap_is_int(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int tap_is_str(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tap_skip(int n, const char *why);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_done(void);
/* Number of failed tests so far. */
int tap_failures(void);

#define plan(n) tap_plan(n)
#define ok(...) tap_ok(__VA_ARGS__)
#define is_int(...) tap_is_int(__VA_ARGS__)
#define is_str(...) tap_is_str(__VA_ARGS__)
#define skip(n, why) tap_skip(n, why)
#define diag(...) tap_diag(__VA_ARGS__)
#define done_testing() tap_done()

#endif
