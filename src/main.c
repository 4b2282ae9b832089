/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - hookd's commands and the server's start-up story.
 *
 *   hookd serve [options]     the server (hookd serve --help)
 *   hookd backup DIR [--data DIR]   hot copy of a data directory
 *   hookd check [--repair] [--data DIR]   verify (and mend) the log's invariants
 *   hookd check --compare A B [--ignore DB[:KEYPREFIX]]...   two logs, record for record
 *   hookd version
 *
 * serve reads as the order of things: configure, log, open the store,
 * start the writer, start the listener, wait for a signal, then stop in
 * reverse order. Signals are blocked in every thread and taken here with
 * sigwait(), so no code runs in signal context at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "backup.h"
#include "check.h"
#include "clusteropt.h"
#ifdef HOOKD_CLUSTER
#include "cluster.h"
#include "cnode.h"
#endif
#include "compare.h"
#include "reapply.h"
#include "epcache.h"
#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "err.h"
#include "feed.h"
#include "group.h"
#include "http.h"
#include "id.h"
#include "log.h"
#include "mem.h"
#include "netpolicy.h"
#include "notify.h"
#include "part.h"
#include "proc.h"
#include "retention.h"
#include "task.h"
#include "retry.h"
#include "stats.h"
#include "store.h"
#include "swap.h"
#include "tls.h"
#include "confcheck.h"
#include "ctl.h"
#include "ui.h"
#include "version.h"
#include "worker.h"
#include "writer.h"

#include <curl/curl.h>

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out, "usage: hookd serve [options]    run the server (see hookd serve --help)\n"
                 "       hookd backup DIR [--data DIR]\n"
                 "                                copy the log while the server runs\n"
                 "       hookd check [--repair] [--data DIR]\n"
                 "                                verify the log (exit 1 on a violation); --repair\n"
                 "                                (server stopped) mends the attempt indexes\n"
                 "       hookd check --compare DIR_A DIR_B [--ignore DB[:KEYPREFIX]]...\n"
                 "                                compare two logs record for record (exit 1 on a\n"
                 "                                difference, 2 when one cannot be opened); never\n"
                 "                                compared, as each node's own (--ignore adds):\n");
    compare_local_help(out);
    fprintf(out, "       hookd reapply JOURNAL [--data DIR]\n"
                 "                                a new store from a serve --entry-journal file\n"
                 "       hookd check-config [serve options]\n"
                 "                                validate the configuration, start nothing\n"
                 "       hookd console [--url URL] [--token TOKEN] [--data DIR]\n"
                 "                                watch deliveries, review and replay failures\n"
                 "       hookd ctl COMMAND [ARGS]  list apps, endpoints and failures; replay, pause,\n"
                 "                                resume, enable, disable (see hookd ctl --help)\n"
                 "       hookd cluster init|status --cluster URL[,URL...]\n"
                 "                                set up or inspect a cluster's NATS JetStream\n"
                 "                                (see hookd cluster --help)\n"
                 "       hookd version            print the versions of hookd and its libraries\n");
}

/* Write a small file atomically (tmp + rename) with the given mode. */
static int write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -errno;
    size_t n = strlen(text);
    /* fchmod: a stale tmp file keeps its old mode through O_TRUNC */
    int rc = fchmod(fd, mode) == 0 && write(fd, text, n) == (ssize_t)n && fsync(fd) == 0
             ? 0 : -errno;
    close(fd);
    if (!rc && rename(tmp, path))
        rc = -errno;
    return rc;
}

/* The admin token: configured, else DIR/admin.token, else a new one. */
static char *admin_token(const struct config *c, int *created)
{
    *created = 0;
    if (c->admin_token[0])
        return xstrdup(c->admin_token);
    char path[4096], line[256];
    snprintf(path, sizeof(path), "%s/admin.token", c->data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        struct stat st;
        /* hookd writes it 0600; a wider mode was set by hand or by a copy */
        if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) && fchmod(fileno(f), 0600) == 0) {
            char mode[8];
            snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
            log_warn("admin token file was readable by other users; its mode is now 0600",
                     "file", path, "was", mode, "detail",
                     "if others may have read it, delete the file and restart for a new token",
                     NULL);
        }
        char *ok = fgets(line, sizeof(line), f);
        fclose(f);
        line[strcspn(line, "\r\n")] = '\0';
        if (ok && line[0])
            return xstrdup(line);
    }
    char raw[ID_MAX], tok[64];
    id_new("", raw);   /* 27 base62 chars of time + 15 random bytes */
    uint8_t rnd[20];
    id_random(rnd, sizeof(rnd));
    char b62[ID_B62_LEN + 1];
    id_encode(rnd, b62);
    snprintf(tok, sizeof(tok), "hk_%s", b62);
    snprintf(line, sizeof(line), "%s\n", tok);
    if (write_file(c->data_dir, "admin.token", line, 0600))
        return NULL;
    *created = 1;
    return xstrdup(tok);
}

/*
 * The start-up line about the admin token. A new token is shown only to a
 * person at a terminal: under a service manager stdout is the journal,
 * which more people and tools can read than the 0600 file, and a token
 * there outlives its rotation. Elsewhere the line says where the file is.
 */
static void print_token_line(const struct config *c, const char *token, int created)
{
    if (c->admin_token[0])
        printf("admin token: from the configuration (admin-token)\n");
    else if (created && isatty(STDOUT_FILENO))
        printf("admin token (also in %s/admin.token): %s\n", c->data_dir, token);
    else if (created)
        printf("admin token written to %s/admin.token\n", c->data_dir);
    else
        printf("admin token: see %s/admin.token\n", c->data_dir);
    fflush(stdout);
}

static char **split_tokens(const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    char **v = xcalloc(n + 1, sizeof(char *)), *copy = xstrdup(list), *save = NULL;
    size_t k = 0;
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        v[k++] = xstrdup(t);
    free(copy);
    return v;
}

/* Frees split_tokens()' result; void * so that swap_release() can call it. */
static void free_tokens(void *tokens)
{
    char **v = tokens;
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

static int ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/*
 * Block the signals we handle in every thread (threads inherit the mask).
 * SIGUSR1 and SIGUSR2 mean nothing to hookd, but their default action
 * ends the process without a word: they are taken too, and logged as
 * ignored. SIGPIPE (a client gone mid-answer) is ignored outright.
 */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);   /* a file-size limit: the write fails (EFBIG), the server lives */
}

/* What SIGHUP re-reads (the same sources as at start) and whom it tells. */
struct reload {
    int argc;
    char **argv;
    struct config *cfg;          /* the live values; reloadable fields change here */
    struct api *api;             /* the front: group 0's, where tokens are checked */
    struct group **groups;       /* every group's dispatcher takes the delivery settings */
    int ngroups;
    struct http_server *http;
};

static void reload_apply(struct reload *rl, const struct config *fresh);

/*
 * SIGHUP: reopen the log file (rotation), then load the configuration
 * again and apply its reloadable options. A configuration that does not
 * load, or a log file that does not open, changes nothing.
 */
static void reload(struct reload *rl)
{
    struct config fresh;
    char err[512], changed[512];
    int help = 0, rc;
    if ((rc = log_reopen()))
        log_error("cannot reopen the log file", "error", hookd_strerror(rc), NULL);
    config_init(&fresh);
    rc = config_load(&fresh, rl->argc, rl->argv, environ, &help, err, sizeof(err));
    if (!rc && (rc = log_open(fresh.log_level, fresh.log_format, fresh.log_file)))
        snprintf(err, sizeof(err), "cannot open log file '%s': %s", fresh.log_file,
                 hookd_strerror(rc));
    if (rc) {
        log_error("configuration not reloaded; the running values stay", "error", err, NULL);
        config_release(&fresh);
        return;
    }
    reload_apply(rl, &fresh);
    config_changed(rl->cfg, &fresh, 0, changed, sizeof(changed));
    if (*changed)
        log_warn("options changed that only a restart applies", "options", changed, NULL);
    config_changed(rl->cfg, &fresh, 1, changed, sizeof(changed));
    config_reload(rl->cfg, &fresh);
    log_info("configuration reloaded", "changed", *changed ? changed : "none", NULL);
    config_release(&fresh);
}

static void wait_for_stop(const sigset_t *set, struct reload *rl)
{
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig))
            continue;
        if (sig == SIGHUP) {
            reload(rl);
            continue;
        }
        if (sig == SIGUSR1 || sig == SIGUSR2) {
            log_warn("signal ignored", "signal", sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2",
                     "detail", "hookd stops on SIGTERM or SIGINT and reloads on SIGHUP", NULL);
            continue;
        }
        log_info("stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
        return;
    }
}

/*
 * hookd creates its data directory 0700. One that exists keeps its mode:
 * the operator may share it on purpose (a backup group), the files that
 * matter in it (the log, admin.token) are 0600 whatever the directory's
 * mode, and chmod on a path we did not create (--data /srv) would surprise.
 * A mode open to others is worth a warning, though.
 */
static int prepare_data_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0700) && errno != EEXIST) {
        fprintf(stderr, "hookd: cannot create data directory '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "hookd: data directory '%s' is not a directory\n", dir);
        return -1;
    }
    if (st.st_mode & 077) {
        char mode[8];
        snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
        log_warn("data directory is open to other users; chmod 700 it", "dir", dir, "mode",
                 mode, NULL);
    }
    return 0;
}

static int serve_load(struct config *c, int argc, char **argv)
{
    char err[512];
    int help = 0;
    int rc = config_load(c, argc, argv, environ, &help, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "hookd: %s\n", err);
        return 2;
    }
    if (help) {
        config_usage(stdout);
        return 1;
    }
    if (clusteropt_serve_check(c, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return 2;
    }
    rc = log_open(c->log_level, c->log_format, c->log_file);
    if (rc) {
        fprintf(stderr, "hookd: cannot open log: %s\n", hookd_strerror(rc));
        return 2;
    }
    return 0;
}

/*
 * Every client connection and every delivery is a socket, and shells
 * often start programs with a soft limit of 1024 under a far higher hard
 * one: take the whole hard limit, and say so when even that leaves little
 * room for deliveries beside max-connections. The limit now, -1: none.
 */
#define NOFILE_SPARE 1024   /* deliveries, curl's kept connections, the log */
static int64_t serve_nofile(const struct config *c)
{
    struct proc_nofile nf;
    int rc = proc_raise_nofile(&nf);
    char lim[24], before[24], conns[24];
    snprintf(lim, sizeof(lim), "%lld", (long long)nf.limit);
    snprintf(before, sizeof(before), "%lld", (long long)nf.before);
    snprintf(conns, sizeof(conns), "%d", c->max_connections);
    if (rc)
        log_warn("cannot raise the open-file limit", "limit", lim, "error", hookd_strerror(rc),
                 NULL);
    else if (nf.limit != nf.before)
        log_info("open-file limit raised", "limit", lim, "from", before, NULL);
    if (nf.limit >= 0 && nf.limit < (int64_t)c->max_connections + NOFILE_SPARE)
        log_warn("open-file limit is low", "limit", lim, "max_connections", conns,
                 "detail", "client connections and deliveries share it; raise LimitNOFILE "
                 "(or ulimit -Hn) or lower max-connections", NULL);
    return nf.limit;
}

/*
 * Deliveries' sockets stay below this descriptor number, so that slow
 * receivers holding thousands of them can never take the descriptors that
 * ingest and health checks need: one for each of max-connections and
 * hookd's own are kept back, half the limit at most. 0: no ceiling.
 */
#define NOFILE_OWN 64       /* the log, listeners, threads' wakeups and files */
static int delivery_fd_ceiling(int64_t limit, int max_connections)
{
    if (limit < 0 || limit > INT_MAX)
        return 0;
    int64_t keep = (int64_t)max_connections + NOFILE_OWN;
    if (keep > limit / 2)
        keep = limit / 2;
    return (int)(limit - keep);
}

/* The TLS files, read and checked before anything starts. 0 or -1 (said). */
static int serve_tls(const struct config *c, struct tls_pair *tls)
{
    char err[512];
    if (tls_pair_load(tls, c->tls_cert, c->tls_key, err, sizeof(err))
        || (c->ca_file && tls_ca_file_check(c->ca_file, err, sizeof(err)))) {
        fprintf(stderr, "hookd: %s\n", err);
        return -1;
    }
    if (tls->key_exposed)
        log_warn("tls key is readable by every user; chmod 600 it", "file", c->tls_key, NULL);
    return 0;
}

/*
 * SIGHUP's second half: hand the reloadable values to their readers
 * (rl->cfg still has the old ones). A replaced schedule or token list is
 * kept until the stop (swap.h), so only a changed one is replaced.
 */
static void reload_apply(struct reload *rl, const struct config *fresh)
{
    int changed = strcmp(fresh->retry_schedule, rl->cfg->retry_schedule) != 0;
    for (int g = 0; g < rl->ngroups; g++)
        group_reload(rl->groups[g], changed ? fresh->retry_schedule : NULL,
                     fresh->connect_timeout_ms, fresh->request_timeout_ms);
    if (strcmp(fresh->ingest_tokens, rl->cfg->ingest_tokens) != 0)
        swap_set(&rl->api->ingest_tokens, split_tokens(fresh->ingest_tokens));
    if (strcmp(fresh->metrics_tokens, rl->cfg->metrics_tokens) != 0)
        swap_set(&rl->api->metrics_tokens, split_tokens(fresh->metrics_tokens));
    http_set_log_requests(rl->http, fresh->log_requests);
}

/*
 * The metrics-listen listener: plain HTTP, one thread, a handful of
 * connections; GET /metrics without a token (api_dispatch_metrics). Its
 * address is written to DATA/metrics-listen, as the main one's to
 * DATA/listen.
 */
static int start_metrics_listener(const struct config *cfg, struct api *api,
                                  struct writer *writer, struct http_server **out)
{
    struct http_opts mo = {
        .listen = cfg->metrics_listen,
        .threads = 1,
        .max_connections = 16,
        .max_connections_per_ip = 0,
        .idle_timeout_ms = cfg->idle_timeout_ms,
        .header_timeout_ms = cfg->header_timeout_ms,
        .body_timeout_ms = cfg->body_timeout_ms,
        .max_body = 4096,
        .max_headers = cfg->max_headers,
        .max_url = cfg->max_url,
        .stats = api->stats,
        .log_requests = cfg->log_requests,
    };
    char bound[128], line[160];
    int rc = http_start(out, &mo, writer, api_dispatch_metrics, api, bound, sizeof(bound));
    if (rc) {
        *out = NULL;
        fprintf(stderr, "hookd: cannot listen for metrics on '%s': %s\n", cfg->metrics_listen,
                hookd_strerror(rc));
        return rc;
    }
    snprintf(line, sizeof(line), "%s\n", bound);
    write_file(cfg->data_dir, "metrics-listen", line, 0644);
    log_info("serving metrics without a token", "addr", bound, NULL);
    return 0;
}

/* Options that do not go with partition groups yet. 0, or -1 (said). */
static int serve_groups_check(const struct config *c)
{
    if (c->groups > 1 && c->cluster[0]) {
        fprintf(stderr, "hookd: --groups %d goes with a single node: a cluster's partition "
                "groups are its logs (hookd cluster init --streams)\n", c->groups);
        return -1;
    }
    if (c->groups > 1 && c->entry_journal) {
        fprintf(stderr, "hookd: --entry-journal goes with one partition group (each group's "
                "writer has its own order of entries)\n");
        return -1;
    }
    return 0;
}

/* The node's partition groups (group.h); group 0 is the front. */
struct node_groups {
    struct group *g[PART_GROUPS_MAX];
    struct api *apis[PART_GROUPS_MAX];   /* each group's api, what api.groups points at */
    int n;                               /* opened so far */
};

/*
 * Open every group, group 0 (the data directory) first, whose store
 * records how many groups there are and refuses another count. 0 or -1
 * (said).
 */
static int serve_open_groups(struct node_groups *ng, struct group_opts *o)
{
    /* a cluster's groups are fixed by its settings (hookd cluster init --streams) */
    int check = !o->cfg->cluster[0];
    char err[1024];
    for (int i = 0; i < o->ngroups; i++) {
        o->index = i;
        if (group_open(&ng->g[i], o, err, sizeof(err))) {
            fprintf(stderr, "hookd: %s\n", err);
            return -1;
        }
        ng->apis[i] = &ng->g[i]->api;
        ng->n = i + 1;
        if (check && i == 0 && group_check_count(ng->g[0]->store, o->ngroups, err, sizeof(err))) {
            fprintf(stderr, "hookd: %s\n", err);
            return -1;
        }
    }
    return 0;
}

static int serve_workers(const struct node_groups *ng)
{
    int n = 0;
    for (int i = 0; i < ng->n; i++)
        n += ng->g[i]->engine.nworkers;
    return n;
}

/*
 * The stop of every group, step by step in the order that keeps every
 * promise (serve's comment): deliveries, background passes, the
 * listeners' new connections, then the writers.
 */
static void serve_stop_groups(struct node_groups *ng, int64_t timeout_ms,
                              struct http_server *http, struct http_server *mhttp)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    for (int i = 0; i < ng->n; i++)
        group_stop_engine(ng->g[i], deadline);
    for (int i = 0; i < ng->n; i++)
        group_stop_background(ng->g[i]);   /* their last batches need the writers */
    if (http)
        http_quiesce(http);   /* no new connections while the writers drain */
    if (mhttp)
        http_quiesce(mhttp);
    for (int i = 0; i < ng->n; i++)
        group_stop_writer(ng->g[i]);   /* applies what is queued and resumes every request */
}

#ifdef HOOKD_CLUSTER
/*
 * --cluster: connect, and learn the cluster's partition groups. 0, or
 * -1 (said).
 */
static int serve_cluster_new(const struct config *cfg, FILE *journal, struct cnode **node)
{
    char err[1024];
    if (cnode_new(node, cfg, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return -1;
    }
    if (journal && cnode_groups(*node) > 1) {
        fprintf(stderr, "hookd: --entry-journal goes with one partition group, and this "
                "cluster has %d\n", cnode_groups(*node));
        return -1;
    }
    return 0;
}

/* Each group's store, writer and api to the cluster side, group 0 first. 0 or -1 (said). */
static int serve_attach_groups(struct cnode *node, struct node_groups *ng)
{
    char err[1024];
    for (int i = 0; i < ng->n; i++)
        if (cnode_attach(node, i, ng->g[i]->store, ng->g[i]->writer, &ng->g[i]->api, err,
                         sizeof(err))) {
            fprintf(stderr, "hookd: %s\n", err);
            return -1;
        }
    return 0;
}
#endif

static int serve(int argc, char **argv)
{
    struct config cfg;
    FILE *journal = NULL;         /* --entry-journal */
    struct http_server *http = NULL, *mhttp = NULL;
    struct node_groups ng = { 0 };
    struct api *api = NULL;       /* the front: group 0's, the listener's ctx */
    struct stats *stats = NULL;
    struct feed *feed = NULL;
    struct tls_pair tls = { 0 };
#ifdef HOOKD_CLUSTER
    struct cnode *node = NULL;   /* --cluster: this node's part (cnode.h) */
#endif
    int standby = 0;             /* a cluster's standby: applies the log, delivers nothing */
    int leased = 0;              /* --cluster-role auto: the lease moves the role */
    sigset_t sigs;
    char *token = NULL;
    int created, rc, status = 1;

    config_init(&cfg);
    rc = serve_load(&cfg, argc, argv);
    if (rc) {
        status = rc == 1 ? 0 : 2;   /* 1: --help was printed */
        goto out_config;
    }
    block_signals(&sigs);
    int fd_ceiling = delivery_fd_ceiling(serve_nofile(&cfg), cfg.max_connections);
    if (serve_tls(&cfg, &tls) || serve_groups_check(&cfg)) {
        status = 2;
        goto out_log;
    }
    if (prepare_data_dir(cfg.data_dir))
        goto out_log;
    if (cfg.entry_journal && !(journal = fopen(cfg.entry_journal, "ab"))) {
        fprintf(stderr, "hookd: cannot open the entry journal '%s': %s\n", cfg.entry_journal,
                strerror(errno));
        goto out_log;
    }
    stats_new(&stats);
    feed_new(&feed, FEED_CAP_DEFAULT);
    int ngroups = cfg.groups, partitions = PART_DEFAULT;
#ifdef HOOKD_CLUSTER
    if (cfg.cluster[0]) {   /* the cluster's settings say how many groups */
        if (serve_cluster_new(&cfg, journal, &node))
            goto out_groups;
        ngroups = cnode_groups(node);
        partitions = cnode_partitions(node);
        standby = cnode_standby(node);
        leased = cnode_auto(node);
    }
#endif
    struct group_opts go = { .cfg = &cfg, .ngroups = ngroups, .partitions = partitions,
                             .apis = ng.apis, .stats = stats, .feed = feed,
                             .started_ms = clock_now_ms(), .journal = journal,
                             .fd_ceiling = fd_ceiling };
    if (serve_open_groups(&ng, &go))
        goto out_groups;
    api = &ng.g[0]->api;
    swap_init(&api->ingest_tokens, split_tokens(cfg.ingest_tokens));
    swap_init(&api->metrics_tokens, split_tokens(cfg.metrics_tokens));
    token = admin_token(&cfg, &created);
    if (!token) {
        fprintf(stderr, "hookd: cannot write '%s/admin.token': %s\n", cfg.data_dir,
                strerror(errno));
        goto out_groups;
    }
    for (int i = 0; i < ng.n; i++)
        ng.g[i]->api.admin_token = token;
    struct group_start_opts so = { 0 };
#ifdef HOOKD_CLUSTER
    if (node && serve_attach_groups(node, &ng))
        goto out_writer;
    if (leased)   /* auto's retention runs while it owns the group */
        so.may_run = cnode_owns;
#endif
    /* a standby's deliveries stay held: the owner sends them, and nothing releases them */
    so.hold = cfg.hold_deliveries || standby;
    /* a standby's retention comes from the owner's log */
    so.retention = !standby || leased;
    if (cfg.hold_deliveries && !standby)
        log_warn("deliveries held", "detail",
                 "--hold-deliveries: nothing is sent until POST /hookd/v1/deliveries/release",
                 NULL);
    if ((rc = feed_start(feed))) {
        fprintf(stderr, "hookd: cannot start the feed: %s\n", hookd_strerror(rc));
        goto out_writer;
    }
    for (int i = 0; i < ng.n; i++) {
#ifdef HOOKD_CLUSTER
        so.may_run_ctx = cnode_group(node, i);
#endif
        if (group_start(ng.g[i], &so))
            goto out_writer;
    }
#ifdef HOOKD_CLUSTER
    struct dispatch *dispatchers[PART_GROUPS_MAX];
    for (int i = 0; i < ng.n; i++)
        dispatchers[i] = ng.g[i]->engine.dispatch;
    if ((rc = cnode_start(node, dispatchers))) {
        fprintf(stderr, "hookd: cannot start following the cluster's log: %s\n",
                hookd_strerror(rc));
        goto out_writer;
    }
#endif

    struct http_opts ho = {
        .listen = cfg.listen,
        .threads = cfg.http_threads > 0 ? cfg.http_threads : ncpu(),
        .max_connections = cfg.max_connections,
        .max_connections_per_ip = cfg.max_connections_per_ip,
        .idle_timeout_ms = cfg.idle_timeout_ms,
        .header_timeout_ms = cfg.header_timeout_ms,
        .body_timeout_ms = cfg.body_timeout_ms,
        .max_body = cfg.max_body,
        .max_headers = cfg.max_headers,
        .max_url = cfg.max_url,
        .stats = stats,
        .log_requests = cfg.log_requests,
        .tls_cert = tls.cert_pem,
        .tls_key = tls.key_pem,
        .admit = api_admit,
    };
    char bound[128];
    rc = http_start(&http, &ho, ng.g[0]->writer, api_dispatch, api, bound, sizeof(bound));
    if (rc) {
        if (tls.cert_pem)
            fprintf(stderr, "hookd: cannot listen with tls on '%s' (certificate '%s', key '%s'): "
                    "%s (see the log line above)\n", cfg.listen, cfg.tls_cert, cfg.tls_key,
                    hookd_strerror(rc));
        else
            fprintf(stderr, "hookd: cannot listen on '%s': %s\n", cfg.listen, hookd_strerror(rc));
        goto out_writer;
    }
    if (cfg.metrics_listen[0] && start_metrics_listener(&cfg, api, ng.g[0]->writer, &mhttp))
        goto out_writer;
    char line[160];
    /* host:port for plain HTTP, as before; a URL when a client must know to use TLS */
    const char *scheme = tls.cert_pem ? "https://" : "";
    snprintf(line, sizeof(line), "%s%s\n", scheme, bound);
    write_file(cfg.data_dir, "listen", line, 0644);
#ifdef HOOKD_CLUSTER
    cnode_set_listen(node, line);   /* the cluster-wide stats name it */
#endif
    char workers[16], groups[16];
    snprintf(workers, sizeof(workers), "%d", serve_workers(&ng));
    snprintf(groups, sizeof(groups), "%d", ng.n);
    log_info("listening", "addr", bound, "data", cfg.data_dir, "version", HOOKD_VERSION,
             "config", cfg.config_file && cfg.config_file[0] ? cfg.config_file : "(none)",
             "workers", workers, "groups", groups,
             "allow_network", cfg.allow_network[0] ? cfg.allow_network : "(none)",
             "retry_schedule", cfg.retry_schedule, "tls", tls.cert_pem ? "on" : "off", NULL);
    if (cfg.cluster[0])
        log_info("cluster mode", "node", cfg.node_id, "role",
                 cfg.cluster_role[0] ? cfg.cluster_role : "auto", "detail",
                 leased ? "following every partition group's log; owning each while it holds "
                          "its lease (group.N)"
                 : standby ? "applying the owner's log; writes answer 503 not_owner"
                         : "publishing every write to the cluster's log before applying it",
                 NULL);
    if ((rc = notify_send("READY=1")))
        log_warn("cannot tell the service manager hookd is ready", "error", hookd_strerror(rc), NULL);
    printf("hookd %s listening on %s://%s (data in %s)\n", HOOKD_VERSION,
           tls.cert_pem ? "https" : "http", bound, cfg.data_dir);
    print_token_line(&cfg, token, created);

    struct reload rl = { argc, argv, &cfg, api, ng.g, ng.n, http };
    wait_for_stop(&sigs, &rl);
    /*
     * The stop, in the order that keeps every promise: writes and health
     * answer 503 at once while the listener stays open (load balancers
     * see the drain); no delivery starts after the signal; those in
     * flight finish within --shutdown-timeout; the writer then commits
     * every outcome and every write it had acknowledged or still holds.
     */
    for (int i = 0; i < ng.n; i++)
        api_stop_writes(&ng.g[i]->api);
    if ((rc = notify_send("STOPPING=1")))
        log_warn("cannot tell the service manager hookd is stopping", "error",
                 hookd_strerror(rc), NULL);
    status = 0;
out_writer:
#ifdef HOOKD_CLUSTER
    cnode_stop(node);   /* it waits for its batches' commits: before the writer stops */
#endif
    serve_stop_groups(&ng, cfg.shutdown_timeout_ms, http, mhttp);
#ifdef HOOKD_CLUSTER
    cnode_release(node);   /* the last outcomes are in the log: another node owns now */
#endif
    feed_stop(feed);   /* answers the long polls still waiting */
    http_stop(http);
    if (mhttp)
        http_stop(mhttp);
    for (int i = 0; i < ng.n; i++)
        group_free_writer(ng.g[i]);   /* no request asks for their tasks any more */
out_groups:
#ifdef HOOKD_CLUSTER
    cnode_free(node);   /* the writers published through it until they stopped */
#endif
    if (api) {
        swap_release(&api->ingest_tokens, free_tokens);
        swap_release(&api->metrics_tokens, free_tokens);
    }
    for (int i = 0; i < ng.n; i++)
        group_free(ng.g[i]);
    if (journal)
        fclose(journal);
    feed_free(feed);
    stats_free(stats);
    free(token);
    if (status == 0)
        log_info("stopped", NULL);
out_log:
    log_close();
out_config:
    tls_pair_release(&tls);
    config_release(&cfg);
    return status;
}

/*
 * backup and check take serve's options (so --data, --config and
 * HOOKD_DATA mean the same) and at most one positional argument. Every
 * option takes a value, so the word after a bare "--name" is its value.
 * 0, 2 on a usage error, -1 after --help.
 */
static int tool_load(struct config *c, int argc, char **argv, const char **pos)
{
    char **opts = xcalloc((size_t)argc + 1, sizeof(char *)), err[512];
    int n = 0, help = 0;
    *pos = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' && !*pos) {
            *pos = a;
            continue;
        }
        opts[n++] = argv[i];
        if (strncmp(a, "--", 2) == 0 && !strchr(a, '=') && strcmp(a, "--help") && i + 1 < argc)
            opts[n++] = argv[++i];
    }
    int rc = config_load(c, n, opts, environ, &help, err, sizeof(err));
    free(opts);
    if (rc)
        fprintf(stderr, "hookd: %s\n", err);
    else if (help)
        usage(stdout);
    return rc ? 2 : help ? -1 : 0;
}

static int cmd_backup(int argc, char **argv)
{
    struct config c;
    const char *dst;
    config_init(&c);
    int rc = tool_load(&c, argc, argv, &dst);
    if (rc == 0 && !dst) {
        fprintf(stderr, "hookd: backup needs a destination: hookd backup DIR [--data DIR]\n");
        rc = 2;
    }
    if (rc == 0)
        rc = backup_run(c.data_dir, dst, stdout, stderr);
    config_release(&c);
    return rc < 0 ? 0 : rc;
}

/* hookd reapply JOURNAL [--data DIR]: a new store from a journal of entries. */
static int cmd_reapply(int argc, char **argv)
{
    struct config c;
    const char *journal;
    config_init(&c);
    int rc = tool_load(&c, argc, argv, &journal);
    if (rc == 0 && !journal) {
        fprintf(stderr, "hookd: reapply needs a journal: hookd reapply FILE [--data DIR]\n");
        rc = 2;
    }
    if (rc == 0)
        rc = reapply_run(&c, journal, stdout, stderr);
    config_release(&c);
    return rc < 0 ? 0 : rc;
}

/* hookd check --compare A B [--ignore DB[:KEYPREFIX]]...: rest holds what is left. */
static int check_compare(const char *a, const char *b, char **rest, int n,
                         const struct compare_ignore *ig, size_t nig)
{
    static const char use[] = "hookd check --compare DIR_A DIR_B [--ignore DB[:KEYPREFIX]]...";
    for (int i = 0; i < n; i++) {
        if (strcmp(rest[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
    }
    if (!a || !b) {
        fprintf(stderr, "hookd: --compare needs two data directories (%s)\n", use);
        return 2;
    }
    if (n > 0) {
        fprintf(stderr, "hookd: unexpected argument '%s' (%s)\n", rest[0], use);
        return 2;
    }
    return compare_run(a, b, ig, nig, stdout, stderr);
}

/* The word after argv[*i] when it is not an option; moves *i past it. */
static const char *take_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0)
        return NULL;
    return argv[++*i];
}

/*
 * check's own flags take no value from serve's options, so --repair,
 * --compare A B and --ignore X are taken out before tool_load.
 */
static int cmd_check(int argc, char **argv)
{
    struct config c;
    const char *extra, *cmp_a = NULL, *cmp_b = NULL;
    char **rest = xcalloc((size_t)argc + 1, sizeof(char *)), why[512];
    struct compare_ignore *ig = xcalloc((size_t)argc + 1, sizeof(*ig));
    int n = 0, repair = 0, compare = 0, rc = 0;
    size_t nig = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        if (strcmp(argv[i], "--repair") == 0) {
            repair = 1;
        } else if (strcmp(argv[i], "--compare") == 0) {
            compare = 1;
            if ((cmp_a = take_value(argc, argv, &i)))
                cmp_b = take_value(argc, argv, &i);
        } else if (strcmp(argv[i], "--ignore") == 0 || strncmp(argv[i], "--ignore=", 9) == 0) {
            const char *v = argv[i][8] ? argv[i] + 9 : take_value(argc, argv, &i);
            if (!v || compare_ignore_parse(v, &ig[nig++], why, sizeof(why))) {
                fprintf(stderr, "hookd: %s\n", v ? why : "--ignore needs DB[:KEYPREFIX]");
                rc = 2;
            }
        } else {
            rest[n++] = argv[i];
        }
    }
    if (rc == 0 && compare && repair) {
        fprintf(stderr, "hookd: --compare and --repair do not go together (compare never "
                        "writes)\n");
        rc = 2;
    } else if (rc == 0 && nig && !compare) {
        fprintf(stderr, "hookd: --ignore goes with --compare\n");
        rc = 2;
    } else if (rc == 0 && compare) {
        rc = check_compare(cmp_a, cmp_b, rest, n, ig, nig);
    } else if (rc == 0) {
        config_init(&c);
        rc = tool_load(&c, n, rest, &extra);
        if (rc == 0 && extra) {
            fprintf(stderr, "hookd: unexpected argument '%s' (hookd check [--repair] "
                            "[--data DIR])\n", extra);
            rc = 2;
        }
        if (rc == 0)
            rc = check_run(c.data_dir, repair, stdout, stderr);
        config_release(&c);
    }
    free(ig);
    free(rest);
    return rc < 0 ? 0 : rc;
}

/*
 * hookd check-config [serve options], and hookd serve --check-config:
 * load the configuration as serve would, check what only this machine
 * can tell (confcheck.h), start nothing. 0 usable, 2 not.
 */
static int cmd_check_config(int argc, char **argv)
{
    struct config c;
    const char *extra;
    config_init(&c);
    int rc = tool_load(&c, argc, argv, &extra);
    if (rc == 0 && extra) {
        fprintf(stderr, "hookd: unexpected argument '%s' (hookd check-config [serve options])\n",
                extra);
        rc = 2;
    }
    if (rc == 0)
        rc = confcheck_run(&c, stdout, stderr);
    config_release(&c);
    return rc < 0 ? 0 : rc;
}

/* serve's argv without --check-config; 1 when it was there. */
static int take_check_flag(int *argc, char **argv)
{
    int found = 0, n = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--check-config") == 0)
            found = 1;
        else
            argv[n++] = argv[i];
    }
    *argc = n;
    return found;
}

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0) {
        int n = argc - 2;
        if (take_check_flag(&n, argv + 2))
            return cmd_check_config(n, argv + 2);
        return serve(n, argv + 2);
    }
    if (strcmp(cmd, "check-config") == 0)
        return cmd_check_config(argc - 2, argv + 2);
    if (strcmp(cmd, "backup") == 0)
        return cmd_backup(argc - 2, argv + 2);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(cmd, "reapply") == 0)
        return cmd_reapply(argc - 2, argv + 2);
    if (strcmp(cmd, "console") == 0)
        return ui_console_main(argc - 2, argv + 2);
    if (strcmp(cmd, "ctl") == 0)
        return ctl_main(argc - 2, argv + 2);
    if (strcmp(cmd, "cluster") == 0) {
#ifdef HOOKD_CLUSTER
        return cluster_main(argc - 2, argv + 2);
#else
        fprintf(stderr, "hookd: %s\n", CLUSTEROPT_NOT_BUILT);
        return 2;
#endif
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        version_print(stdout);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "hookd: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
