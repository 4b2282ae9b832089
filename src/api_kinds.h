/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_kinds.h - the API's kinds of write (api.h, struct api_kind), one per
 * entry kind of entry_kinds.h, each defined beside its apply. reapply.c
 * maps entries to them.
 */
#ifndef HOOKD_API_KINDS_H
#define HOOKD_API_KINDS_H

#include "api.h"

extern const struct api_kind api_kind_app_create;
extern const struct api_kind api_kind_app_update;
extern const struct api_kind api_kind_app_delete;
extern const struct api_kind api_kind_resend;
extern const struct api_kind api_kind_replay;
extern const struct api_kind api_kind_ep_create;
extern const struct api_kind api_kind_ep_update;
extern const struct api_kind api_kind_ep_delete;
extern const struct api_kind api_kind_ep_edit;
extern const struct api_kind api_kind_et_create;
extern const struct api_kind api_kind_et_update;
extern const struct api_kind api_kind_et_delete;
extern const struct api_kind api_kind_msg_create;
extern const struct api_kind api_kind_msg_expunge;
extern const struct api_kind api_kind_att_expunge;
extern const struct api_kind api_kind_ep_pause;
extern const struct api_kind api_kind_token_mint;
extern const struct api_kind api_kind_token_revoke;
extern const struct api_kind api_kind_token_expire_all;

#endif
