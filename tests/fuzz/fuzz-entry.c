/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-entry.c - log entries as a standby or `hookd reapply` receives
 * them: the input is one entry's bytes (entry.h), applied to the fixture
 * store in a write transaction that is then rolled back.
 *
 * Promises checked: whatever the bytes, reapply_entry answers 0 or an
 * error code, never a crash or a sanitizer report; an entry that applied
 * once applies again the same way on the same store (apply decides
 * nothing: same entry, same store, same result).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "err.h"
#include "harness.h"
#include "reapply.h"
#include "store.h"

/* Apply data in a transaction that is rolled back; the apply's result. */
static int apply_once(const struct reapply_env *env, const uint8_t *data, size_t size)
{
    struct store_txn *t;
    int rc = store_write(env->store, &t);
    if (rc)
        fz_fail("cannot begin a write: %s", hookd_strerror(rc));
    rc = reapply_entry(env, data, size, t);
    store_abort(t);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api *a = fz_api();
    struct writer *w = a->writer;
    a->writer = NULL;       /* as in hookd reapply: no dispatcher to tell */
    a->replaying = 1;
    struct reapply_env env = { .store = a->store, .api = a };
    int first = apply_once(&env, data, size);
    if (first > 0)
        fz_fail("reapply_entry returned %d, neither 0 nor an error code", first);
    int second = apply_once(&env, data, size);
    if (second != first)
        fz_fail("the same entry on the same store gave %d, then %d", first, second);
    a->replaying = 0;
    a->writer = w;
    return 0;
}
