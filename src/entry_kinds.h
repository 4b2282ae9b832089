/* SPDX-License-Identifier: Apache-2.0 */
/*
 * entry_kinds.h - the kinds of log entries (entry.h), one per kind of
 * write. The numbers are stored in every entry: never renumber or reuse
 * one; add new kinds at the end. reapply.c has the table that maps each
 * kind to the code that applies it.
 */
#ifndef HOOKD_ENTRY_KINDS_H
#define HOOKD_ENTRY_KINDS_H

enum entry_kind {
    ENTRY_NONE = 0,             /* node-local writes that are not log entries */
    ENTRY_APP_CREATE = 1,
    ENTRY_APP_UPDATE = 2,
    ENTRY_APP_DELETE = 3,
    ENTRY_EP_CREATE = 4,
    ENTRY_EP_UPDATE = 5,
    ENTRY_EP_DELETE = 6,
    ENTRY_EP_EDIT = 7,          /* secret, headers and the other sub-resources */
    ENTRY_ET_CREATE = 8,
    ENTRY_ET_UPDATE = 9,
    ENTRY_ET_DELETE = 10,
    ENTRY_MSG_CREATE = 11,
    ENTRY_MSG_EXPUNGE = 12,
    ENTRY_ATT_EXPUNGE = 13,
    ENTRY_RESEND = 14,
    ENTRY_REPLAY = 15,          /* /hookd/v1 bulk replay */
    ENTRY_EP_PAUSE = 16,
    ENTRY_TOKEN_MINT = 17,
    ENTRY_TOKEN_REVOKE = 18,
    ENTRY_TOKEN_EXPIRE_ALL = 19,
    ENTRY_OUTCOME = 20,         /* a delivery attempt's outcome */
    ENTRY_RETENTION = 21,       /* one retention batch */
    ENTRY_RECOVER = 22,         /* one batch of a recover task */
    ENTRY_TASK_RM = 23,         /* one batch of a replay-missing task */
    ENTRY_TASK_STATE = 24,      /* a background task's record */
    ENTRY_EPOCH = 25,           /* cluster: a new owner's marker (cmeta.h) */
    ENTRY_IMPORT = 26,          /* cluster: the log starts from an imported store (cmeta.h) */
    ENTRY_KIND_END
};

#endif
