/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "err.h"

const char *hookd_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case HOOKD_ENOTFOUND: return "not found";
    case HOOKD_EEXIST: return "already exists";
    case HOOKD_EINVAL: return "invalid input";
    case HOOKD_ECORRUPT: return "stored record is corrupt";
    case HOOKD_ESCHEMA: return "store schema version mismatch";
    case HOOKD_EFULL: return "store is full (raise --map-size)";
    case HOOKD_ESTORE: return "storage engine error";
    case HOOKD_ESTOPPED: return "shutting down";
    case HOOKD_ELIMIT: return "limit reached";
    case HOOKD_EBUSY: return "the data directory is in use by another hookd";
    case HOOKD_EUNAVAIL: return "the cluster's log is unavailable";
    case HOOKD_EBOOTSTRAP:
        return "this store cannot follow the cluster's log: bootstrap it from a hot backup";
    }
    if (err < 0 && err > HOOKD_EFIRST)
        return strerror(-err);
    return "unknown error";
}
