/* SPDX-License-Identifier: Apache-2.0 */
/*
 * err.h - hookd's one error model.
 *
 * Every fallible function returns int: 0 on success, a negative HOOKD_E*
 * code, or a negated errno value. hookd_strerror() explains any of them,
 * so callers never need to know which family a code came from.
 */
#ifndef HOOKD_ERR_H
#define HOOKD_ERR_H

enum {
    HOOKD_EFIRST = -30000,
    HOOKD_ENOTFOUND = HOOKD_EFIRST, /* no such record */
    HOOKD_EEXIST,                   /* unique key taken (uid, eventId, name) */
    HOOKD_EINVAL,                   /* malformed input */
    HOOKD_ECORRUPT,                 /* stored record cannot be decoded */
    HOOKD_ESCHEMA,                  /* store schema version mismatch */
    HOOKD_EFULL,                    /* store map is full */
    HOOKD_ESTORE,                   /* other storage engine failure */
    HOOKD_ESTOPPED,                 /* component is shutting down */
    HOOKD_ELIMIT,                   /* a configured limit was reached */
    HOOKD_EBUSY,                    /* the data directory is another server's */
    HOOKD_EUNAVAIL,                 /* the cluster's log took no write (no quorum, fenced) */
    HOOKD_EBOOTSTRAP,               /* this store cannot follow the log: start it from a backup */
    HOOKD_ELAST
};

/* A static, lowercase description of any hookd code or negated errno. */
const char *hookd_strerror(int err);

#endif
