/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls.h - the files TLS needs: the listener's certificate and key, and the
 * extra CA bundle deliveries trust.
 *
 * libmicrohttpd (built with GnuTLS in Debian) takes the certificate and
 * key as PEM text in memory, so they are read once at start-up; reading
 * them here, before the listener starts, lets a bad file be named in the
 * error instead of surfacing as "the daemon did not start". The checks
 * parse with mbedTLS, which hookd already links: a file mbedTLS cannot
 * judge (an algorithm it lacks, such as Ed25519) is passed through and
 * left to GnuTLS. Nothing here logs; callers report err and the warning
 * flag. Any thread may call these; they share no state.
 */
#ifndef HOOKD_TLS_H
#define HOOKD_TLS_H

#include <stddef.h>

/* A certificate chain and its private key, PEM, NUL-terminated. */
struct tls_pair {
    char *cert_pem;     /* heap, owned */
    char *key_pem;      /* heap, owned; wiped by tls_pair_release() */
    int key_exposed;    /* the key file may be read by any user (mode o+r) */
};

/*
 * Read and check cert_path and key_path (both NULL or "": TLS off, p left
 * empty, 0). Errors, with one lowercase sentence naming the file in err:
 * only one of the two given, a file that cannot be read, a certificate or
 * key that is not PEM or does not parse, an encrypted key, a key that
 * does not match the certificate. p is written only on success.
 */
int tls_pair_load(struct tls_pair *p, const char *cert_path, const char *key_path,
                  char *err, size_t errlen);
void tls_pair_release(struct tls_pair *p);

/*
 * Check that path (a CA bundle for deliveries) is readable and holds at
 * least one PEM certificate. 0, or an error with err written.
 */
int tls_ca_file_check(const char *path, char *err, size_t errlen);

#endif
