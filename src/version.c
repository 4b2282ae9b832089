/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version.c - the versions behind `hookd version`.
 *
 * The versions the loaded libraries report at run time, not the headers'
 * macros: a shared library upgraded under the binary is exactly what a bug
 * report needs to show.
 */
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>
#include <lmdb.h>
#include <mbedtls/version.h>
#include <microhttpd.h>
#ifdef HOOKD_CLUSTER
#include <nats/nats.h>
#endif

#include "version.h"

void version_print(FILE *out)
{
    char tls[32] = "";
    int major, minor, patch;
    mbedtls_version_get_string(tls);
    mdb_version(&major, &minor, &patch);
    fprintf(out, "hookd %s\n", HOOKD_VERSION);
    fprintf(out, "lmdb %d.%d.%d\n", major, minor, patch);
    fprintf(out, "libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
    fprintf(out, "mbedtls %s\n", tls);
    fprintf(out, "libmicrohttpd %s\n", MHD_get_version());
    fprintf(out, "jansson %s\n", jansson_version_str());
#ifdef HOOKD_CLUSTER
    fprintf(out, "libnats %s (cluster mode)\n", nats_GetVersion());
#else
    fprintf(out, "cluster mode: not built (configure --without-cluster)\n");
#endif
}
