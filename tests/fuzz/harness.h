/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness.h - what hookd's fuzz targets share.
 *
 * Each tests/fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput(). It is
 * linked twice: with clang's libFuzzer (make fuzz) and with replay.c, a
 * main() that feeds it every file of the corpus directories it is given
 * (make test, tests/t0800-fuzz-replay.sh), so replaying needs no clang.
 *
 * The API targets run real requests through api_dispatch() on detached
 * requests (http_detached_new) against a store in a temporary directory
 * that holds a few fixtures. Writes are applied and rolled back, so every
 * input sees the same store and a crash replays from its input alone.
 *
 * A finding is a crash, a sanitizer report, or fz_fail(): an answer that
 * breaks one of the promises checked here.
 */
#ifndef HOOKD_FUZZ_HARNESS_H
#define HOOKD_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ADMIN_TOKEN "fz-admin-token"
#define FZ_INGEST_TOKEN "fz-ingest-token"
#define FZ_AUTH "Authorization: Bearer " FZ_ADMIN_TOKEN "\n"

/*
 * Fixtures: event type "user.created"; app uid "fz"; its endpoints uid
 * "ep1" (types user.created, channel c1) and "ep2" (everything); message
 * eventId "m1" with payload {"a":1}.
 */
struct api;
struct api *fz_api(void);

/*
 * One request through api_dispatch(). A write handed to the writer is
 * applied in a write transaction, then rolled back (committed when
 * commit). Checks the answer: a status in 100..599, and a body that is
 * JSON or empty. Returns the status.
 */
int fz_request(const char *method, const char *url, const char *headers, const void *body,
               size_t len, int commit);

/* fz_request() of a request as a node forwards it: path and query apart (cfwd.h). */
int fz_request_parts(const char *method, const char *path, const char *query,
                     const char *headers, const void *body, size_t len, int commit);

/* Report a finding and abort. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* data as a NUL-terminated heap string (NUL bytes inside are kept). */
char *fz_str(const uint8_t *data, size_t size);

#endif
