/* SPDX-License-Identifier: Apache-2.0 */
/*
 * confcheck.c - the configuration check and its summary (confcheck.h).
 * Each check writes its own sentence naming the option and the file, so
 * an operator fixes every problem from one run rather than one per run.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusteropt.h"
#include "confcheck.h"
#include "netpolicy.h"
#include "tls.h"

static int check_tls(const struct config *c, FILE *err)
{
    char why[512];
    struct tls_pair p = { 0 };
    int bad = 0;
    if (tls_pair_load(&p, c->tls_cert, c->tls_key, why, sizeof(why))) {
        fprintf(err, "hookd: %s\n", why);
        bad = 1;
    } else {
        tls_pair_release(&p);
    }
    if (c->ca_file && c->ca_file[0] && tls_ca_file_check(c->ca_file, why, sizeof(why))) {
        fprintf(err, "hookd: %s\n", why);
        bad = 1;
    }
    return bad;
}

static int check_policy(const struct config *c, FILE *err)
{
    char why[256];
    struct netpolicy *p = NULL;
    if (netpolicy_new(&p, c->allow_network, why, sizeof(why))) {
        fprintf(err, "hookd: %s\n", why);
        return 1;
    }
    netpolicy_free(p);
    return 0;
}

/* --cluster with the options it needs, in a hookd that can serve it (clusteropt.h). */
static int check_cluster(const struct config *c, FILE *err)
{
    char why[256];
    if (!clusteropt_serve_check(c, why, sizeof(why)))
        return 0;
    fprintf(err, "hookd: %s\n", why);
    return 1;
}

/* The directory that holds path ("." for a bare name), into out. */
static void parent_of(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

/* The data directory exists and is ours to use, or could be created. */
static int check_data(const struct config *c, FILE *err)
{
    struct stat st;
    char parent[4096];
    if (stat(c->data_dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            fprintf(err, "hookd: data directory '%s' is not a directory\n", c->data_dir);
            return 1;
        }
        if (access(c->data_dir, R_OK | W_OK | X_OK)) {
            fprintf(err, "hookd: data directory '%s': %s (run as the user that owns it?)\n",
                    c->data_dir, strerror(errno));
            return 1;
        }
        return 0;
    }
    parent_of(c->data_dir, parent, sizeof(parent));
    if (access(parent, W_OK | X_OK)) {
        fprintf(err, "hookd: data directory '%s' does not exist and cannot be created in "
                     "'%s': %s\n", c->data_dir, parent, strerror(errno));
        return 1;
    }
    return 0;
}

static int check_log_file(const struct config *c, FILE *err)
{
    char parent[4096];
    if (!c->log_file || !c->log_file[0])
        return 0;
    if (access(c->log_file, F_OK) == 0) {
        if (access(c->log_file, W_OK) == 0)
            return 0;
        fprintf(err, "hookd: log-file '%s': %s\n", c->log_file, strerror(errno));
        return 1;
    }
    parent_of(c->log_file, parent, sizeof(parent));
    if (access(parent, W_OK | X_OK)) {
        fprintf(err, "hookd: log-file '%s' cannot be created in '%s': %s\n", c->log_file,
                parent, strerror(errno));
        return 1;
    }
    return 0;
}

int confcheck_run(const struct config *c, FILE *out, FILE *err)
{
    int bad = check_tls(c, err);
    bad |= check_policy(c, err);
    bad |= check_cluster(c, err);
    bad |= check_data(c, err);
    bad |= check_log_file(c, err);
    if (bad)
        return 2;
    char line[2048];
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    confcheck_summary(c, n > 0 ? (int)n : 1, line, sizeof(line));
    fprintf(out, "%s\nconfiguration ok\n", line);
    return 0;
}

void confcheck_summary(const struct config *c, int ncpu, char *out, size_t cap)
{
    snprintf(out, cap, "config=%s listen=%s%s data=%s workers=%d allow_network=%s "
                       "retry_schedule=%s",
             c->config_file && c->config_file[0] ? c->config_file : "(none)",
             c->tls_cert && c->tls_cert[0] ? "https://" : "", c->listen, c->data_dir,
             c->workers > 0 ? c->workers : ncpu,
             c->allow_network && c->allow_network[0] ? c->allow_network : "(none)",
             c->retry_schedule);
}
