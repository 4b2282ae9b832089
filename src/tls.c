/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls.c - reading and checking PEM files before anything uses them.
 *
 * The listener's failure modes are all at start-up: a missing file, the
 * wrong file (a key where the certificate goes, DER instead of PEM), an
 * encrypted key (hookd has no one to ask for a passphrase), or a key from
 * another certificate. Each gets its own sentence naming the file, which
 * libmicrohttpd's one "failed to set up x509" log line would not give.
 *
 * mbedTLS does the parsing. Where it lacks an algorithm GnuTLS has, the
 * file is passed through unjudged rather than refused, so the check never
 * rejects what the listener would have accepted.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include "err.h"
#include "id.h"
#include "mem.h"
#include "tls.h"

#define PEM_FILE_MAX (1 << 20)

#if MBEDTLS_VERSION_MAJOR >= 3
static int rng(void *ctx, unsigned char *out, size_t n)
{
    id_random(out, n);
    return 0;
}
#define PK_PARSE_KEY(pk, b, n) mbedtls_pk_parse_key(pk, b, n, NULL, 0, rng, NULL)
#define PK_CHECK_PAIR(pub, prv) mbedtls_pk_check_pair(pub, prv, rng, NULL)
#else
#define PK_PARSE_KEY(pk, b, n) mbedtls_pk_parse_key(pk, b, n, NULL, 0)
#define PK_CHECK_PAIR(pub, prv) mbedtls_pk_check_pair(pub, prv)
#endif

/* Read a whole (small) file, NUL-terminated; *mode gets its permissions. */
static int read_pem(const char *what, const char *path, char **out, size_t *len, mode_t *mode,
                    char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        char why[128];
        snprintf(why, sizeof(why), "%s", hookd_strerror(-e));
        why[0] = (char)tolower((unsigned char)why[0]);   /* strerror() is capitalised */
        snprintf(err, errlen, "cannot read %s '%s': %s", what, path, why);
        return -e;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > PEM_FILE_MAX) {
        close(fd);
        snprintf(err, errlen, "cannot read %s '%s': %s", what, path,
                 S_ISREG(st.st_mode) ? "larger than 1 MiB, not a PEM file" : "not a regular file");
        return HOOKD_EINVAL;
    }
    char *b = xmalloc((size_t)st.st_size + 1);
    size_t n = 0;
    ssize_t r;
    while (n < (size_t)st.st_size && (r = read(fd, b + n, (size_t)st.st_size - n)) > 0)
        n += (size_t)r;
    close(fd);
    b[n] = '\0';
    *out = b;
    *len = n;
    *mode = st.st_mode;
    return 0;
}

/* mbedTLS lacks the algorithm: not evidence that the file is bad. */
static int unjudged(int rc)
{
    int high = -rc & 0xFF80;
    return high == -MBEDTLS_ERR_PK_UNKNOWN_PK_ALG || high == -MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE
           || high == -MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG
           || high == -MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE;
}

static void reason(int rc, char *out, size_t n)
{
    mbedtls_strerror(rc, out, n);
}

/* 0 and *crt parsed, 1 when mbedTLS cannot judge it, or an error. */
static int check_cert(const char *path, const char *pem, size_t len, mbedtls_x509_crt *crt,
                      char *err, size_t errlen)
{
    char why[160];
    if (!strstr(pem, "-----BEGIN CERTIFICATE-----")) {
        snprintf(err, errlen, "tls certificate '%s' holds no PEM certificate "
                 "(expected '-----BEGIN CERTIFICATE-----')", path);
        return HOOKD_EINVAL;
    }
    int rc = mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, len + 1);
    if (rc < 0 && unjudged(rc))
        return 1;
    if (rc != 0) {
        reason(rc < 0 ? rc : MBEDTLS_ERR_X509_INVALID_FORMAT, why, sizeof(why));
        snprintf(err, errlen, "tls certificate '%s' does not parse: %s", path, why);
        return HOOKD_EINVAL;
    }
    return 0;
}

/* Like check_cert, for the private key. */
static int check_key(const char *path, const char *pem, size_t len, mbedtls_pk_context *pk,
                     char *err, size_t errlen)
{
    char why[160];
    if (!strstr(pem, "-----BEGIN ") || !strstr(pem, "PRIVATE KEY-----")) {
        snprintf(err, errlen, "tls key '%s' holds no PEM private key "
                 "(expected '-----BEGIN PRIVATE KEY-----' or similar)", path);
        return HOOKD_EINVAL;
    }
    if (strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") || strstr(pem, "Proc-Type: 4,ENCRYPTED")) {
        snprintf(err, errlen, "tls key '%s' is encrypted; hookd needs it unencrypted "
                 "(protect it with the file's mode instead)", path);
        return HOOKD_EINVAL;
    }
    int rc = PK_PARSE_KEY(pk, (const unsigned char *)pem, len + 1);
    if (rc && unjudged(rc))
        return 1;
    if (rc) {
        reason(rc, why, sizeof(why));
        snprintf(err, errlen, "tls key '%s' does not parse: %s", path, why);
        return HOOKD_EINVAL;
    }
    return 0;
}

static int check_pair(const char *cert_path, const char *key_path, const char *cert,
                      size_t cert_len, const char *key, size_t key_len, char *err, size_t errlen)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    int rc_cert = check_cert(cert_path, cert, cert_len, &crt, err, errlen);
    int rc_key = rc_cert < 0 ? rc_cert : check_key(key_path, key, key_len, &pk, err, errlen);
    int rc = rc_cert < 0 ? rc_cert : rc_key < 0 ? rc_key : 0;
    if (rc_cert == 0 && rc_key == 0 && PK_CHECK_PAIR(&crt.pk, &pk)) {
        snprintf(err, errlen, "tls key '%s' does not belong to the certificate in '%s' "
                 "(the first certificate of the file must be the key's)", key_path, cert_path);
        rc = HOOKD_EINVAL;
    }
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
    return rc;
}

static void wipe_free(char *p, size_t n)
{
    if (!p)
        return;
    mbedtls_platform_zeroize(p, n);
    free(p);
}

int tls_pair_load(struct tls_pair *p, const char *cert_path, const char *key_path,
                  char *err, size_t errlen)
{
    int has_cert = cert_path && *cert_path, has_key = key_path && *key_path;
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    mode_t cert_mode, key_mode;
    int rc;

    if (!has_cert && !has_key) {
        memset(p, 0, sizeof(*p));
        return 0;
    }
    if (!has_cert || !has_key) {
        snprintf(err, errlen, "option '%s' is set without '%s': TLS needs both a certificate "
                 "and its key", has_cert ? "tls-cert" : "tls-key",
                 has_cert ? "tls-key" : "tls-cert");
        return HOOKD_EINVAL;
    }
    if ((rc = read_pem("tls certificate", cert_path, &cert, &cert_len, &cert_mode, err, errlen)))
        return rc;
    if ((rc = read_pem("tls key", key_path, &key, &key_len, &key_mode, err, errlen)))
        goto out_cert;
    if ((rc = check_pair(cert_path, key_path, cert, cert_len, key, key_len, err, errlen)))
        goto out_key;
    p->cert_pem = cert;
    p->key_pem = key;
    p->key_exposed = (key_mode & S_IROTH) != 0;
    return 0;
out_key:
    wipe_free(key, key_len);
out_cert:
    free(cert);
    return rc;
}

void tls_pair_release(struct tls_pair *p)
{
    if (p->key_pem)
        wipe_free(p->key_pem, strlen(p->key_pem));
    free(p->cert_pem);
    memset(p, 0, sizeof(*p));
}

int tls_ca_file_check(const char *path, char *err, size_t errlen)
{
    char *pem = NULL, why[160];
    size_t len;
    mode_t mode;
    int rc = read_pem("ca file", path, &pem, &len, &mode, err, errlen);
    if (rc)
        return rc;
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    if (!strstr(pem, "-----BEGIN CERTIFICATE-----")) {
        snprintf(err, errlen, "ca file '%s' holds no PEM certificate "
                 "(expected '-----BEGIN CERTIFICATE-----')", path);
        rc = HOOKD_EINVAL;
    } else if ((rc = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, len + 1)) < 0
               && !unjudged(rc)) {
        reason(rc, why, sizeof(why));
        snprintf(err, errlen, "ca file '%s' does not parse: %s", path, why);
        rc = HOOKD_EINVAL;
    } else {
        rc = 0;   /* some certificates parsed, or mbedTLS cannot judge: curl decides */
    }
    mbedtls_x509_crt_free(&crt);
    free(pem);
    return rc;
}
