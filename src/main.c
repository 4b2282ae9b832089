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
#include "http.h"
#include "id.h"
#include "log.h"
#include "mem.h"
#include "netpolicy.h"
#include "notify.h"
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
    struct api *api;
    struct engine *engine;
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

/* The delivery engine: N workers and the dispatcher that feeds them. */
struct engine {
    struct netpolicy *policy;
    struct worker **workers;
    int nworkers;
    struct dispatch *dispatch;
    struct stats *stats;         /* borrowed: where committed outcomes are counted */
    struct feed *feed;           /* borrowed: the live feed they are pushed to */
    int fd_ceiling;              /* deliveries' sockets stay below it (serve_nofile) */
    int hold;                    /* every delivery held: --hold-deliveries, or a standby */
};

static int engine_start(struct engine *e, const struct config *c, struct store *s,
                        struct writer *w)
{
    char err[256];
    struct dispatch_opts dopts = { 0 };
    if (netpolicy_new(&e->policy, c->allow_network, err, sizeof(err))) {
        fprintf(stderr, "hookd: %s\n", err);
        return -1;
    }
    struct retry_schedule schedule;
    if (retry_parse(c->retry_schedule, &schedule)) {
        fprintf(stderr, "hookd: invalid retry schedule '%s'\n", c->retry_schedule);
        return -1;
    }
    e->nworkers = c->workers > 0 ? c->workers : ncpu();
    e->workers = xcalloc((size_t)e->nworkers, sizeof(*e->workers));
    struct worker_opts wo = { .writer = w, .policy = e->policy,
                              .max_response = (size_t)c->max_response,
                              .ca_file = c->ca_file,
                              .fd_ceiling = e->fd_ceiling,
                              .svix_headers = strcmp(c->signature_headers, "svix") == 0 ? 1
                                              : strcmp(c->signature_headers, "both") == 0 ? 2 : 0 };
    for (int i = 0; i < e->nworkers; i++)
        if (worker_new(&e->workers[i], i, &wo) || worker_start(e->workers[i]))
            return -1;
    dopts.store = s;
    dopts.writer = w;
    dopts.workers = e->workers;
    dopts.nworkers = e->nworkers;
    dopts.ep_concurrency = c->endpoint_concurrency;
    dopts.connect_timeout_ms = c->connect_timeout_ms;
    dopts.timeout_ms = c->request_timeout_ms;
    swap_init(&dopts.outcome.schedule, xmemdup(&schedule, sizeof(schedule)));
    dopts.outcome.disable_after_ms = c->disable_after_ms;
    dopts.outcome.writer = w;
    dopts.stats = e->stats;
    dopts.feed = e->feed;
    dopts.hold = e->hold;
    dispatch_new(&e->dispatch, &dopts);
    writer_on_commit(w, dispatch_on_commit, e->dispatch);
    return dispatch_start(e->dispatch);
}

/*
 * Stop handing out work, then let deliveries in flight finish, all
 * workers within one timeout_ms: each keeps sending while an earlier one
 * is joined, so each is given what is left of the common deadline.
 */
static void engine_stop(struct engine *e, int64_t timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    if (e->dispatch)
        dispatch_stop(e->dispatch);
    for (int i = 0; i < e->nworkers; i++) {
        int64_t left = deadline - clock_mono_ms();
        if (e->workers[i])
            worker_stop(e->workers[i], left > 0 ? left : 0);
    }
}

/* After the writer has stopped: nothing refers to jobs any more. */
static void engine_free(struct engine *e)
{
    for (int i = 0; i < e->nworkers; i++)
        worker_free(e->workers[i]);
    free(e->workers);
    dispatch_free(e->dispatch);
    netpolicy_free(e->policy);
}

/*
 * SIGHUP's second half: hand the reloadable values to their readers
 * (rl->cfg still has the old ones). A replaced schedule or token list is
 * kept until the stop (swap.h), so only a changed one is replaced.
 */
static void reload_apply(struct reload *rl, const struct config *fresh)
{
    struct retry_schedule rs;
    if (strcmp(fresh->retry_schedule, rl->cfg->retry_schedule) != 0
        && retry_parse(fresh->retry_schedule, &rs) == 0)   /* config_load checked it */
        dispatch_set_schedule(rl->engine->dispatch, xmemdup(&rs, sizeof(rs)));
    dispatch_set_timeouts(rl->engine->dispatch, fresh->connect_timeout_ms,
                          fresh->request_timeout_ms);
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

static int serve(int argc, char **argv)
{
    struct config cfg;
    struct store *store = NULL;
    struct writer *writer = NULL;
    FILE *journal = NULL;         /* --entry-journal */
    struct http_server *http = NULL, *mhttp = NULL;
    struct api api = { 0 };
    struct engine engine = { 0 };
    struct retention *retention = NULL;
    struct tasks *tasks = NULL;
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
    engine.fd_ceiling = delivery_fd_ceiling(serve_nofile(&cfg), cfg.max_connections);
    if (serve_tls(&cfg, &tls)) {
        status = 2;
        goto out_log;
    }
    if (prepare_data_dir(cfg.data_dir))
        goto out_log;
    rc = store_open(&store, cfg.data_dir, cfg.map_size, 0);
    if (rc) {   /* another server's directory: name it, and say what to do */
        char holder[40] = "", why[640];
        long pid = rc == HOOKD_EBUSY ? store_lock_holder(cfg.data_dir) : 0;
        if (pid > 0)
            snprintf(holder, sizeof(holder), " (pid %ld)", pid);
        fprintf(stderr, "hookd: cannot open the log in '%s': %s%s%s\n", cfg.data_dir,
                store_open_why(cfg.data_dir, rc, why, sizeof(why)), holder,
                rc == HOOKD_EBUSY ? "; stop it first, or give this one another --data" : "");
        goto out_log;
    }
    api.cfg = &cfg;
    api.store = store;
    api.started_ms = clock_now_ms();
    stats_new(&api.stats);
    feed_new(&api.feed, FEED_CAP_DEFAULT);
    engine.stats = api.stats;
    engine.feed = api.feed;
    swap_init(&api.ingest_tokens, split_tokens(cfg.ingest_tokens));
    swap_init(&api.metrics_tokens, split_tokens(cfg.metrics_tokens));
    token = admin_token(&cfg, &created);
    if (!token) {
        fprintf(stderr, "hookd: cannot write '%s/admin.token': %s\n", cfg.data_dir,
                strerror(errno));
        goto out_store;
    }
    api.admin_token = token;

    writer_new(&writer, store, cfg.commit_delay_us);
    api.writer = writer;
    if (cfg.entry_journal && !(journal = fopen(cfg.entry_journal, "ab"))) {
        fprintf(stderr, "hookd: cannot open the entry journal '%s': %s\n", cfg.entry_journal,
                strerror(errno));
        goto out_writer;
    }
    writer_set_journal(writer, journal);
    api.fanout = epcache_new();
    pthread_mutex_init(&api.msg_lock, NULL);
#ifdef HOOKD_CLUSTER
    if (cfg.cluster[0]) {
        char err[1024];
        if (cnode_new(&node, &cfg, &api, err, sizeof(err))
            || cnode_attach(node, 0, store, writer, &api, err, sizeof(err))) {
            fprintf(stderr, "hookd: %s\n", err);
            goto out_writer;
        }
        standby = cnode_standby(node);
        leased = cnode_auto(node);
    }
#endif
    /* a standby's deliveries stay held: the owner sends them, and nothing releases them */
    engine.hold = cfg.hold_deliveries || standby;
    if (engine_start(&engine, &cfg, store, writer))
        goto out_writer;
    api.dispatch = engine.dispatch;
    if (cfg.hold_deliveries && !standby)
        log_warn("deliveries held", "detail",
                 "--hold-deliveries: nothing is sent until POST /hookd/v1/deliveries/release",
                 NULL);
    if ((rc = feed_start(api.feed))) {
        fprintf(stderr, "hookd: cannot start the feed: %s\n", hookd_strerror(rc));
        goto out_writer;
    }
    if ((rc = writer_start(writer))) {
        fprintf(stderr, "hookd: cannot start the writer: %s\n", hookd_strerror(rc));
        goto out_writer;
    }
    struct retention_opts ro = { .store = store, .writer = writer,
                                 .interval_ms = cfg.retention_interval_ms,
                                 .payload_ms = cfg.payload_retention_ms,
                                 .attempt_ms = cfg.attempt_retention_ms };
    /* a standby's retention comes from the owner's log; auto's runs while it owns */
#ifdef HOOKD_CLUSTER
    if (leased) {
        ro.may_run = cnode_owns;
        ro.may_run_ctx = cnode_group(node, 0);
    }
#endif
    if (!standby || leased)
        retention_new(&retention, &ro);
    api.retention = retention;
    if (retention && (rc = retention_start(retention))) {
        fprintf(stderr, "hookd: cannot start the retention pass: %s\n", hookd_strerror(rc));
        goto out_writer;
    }
    tasks_new(&tasks, store, writer, reapply_entry);
    api.tasks = tasks;
    if ((rc = tasks_start(tasks))) {
        fprintf(stderr, "hookd: cannot start the background tasks: %s\n", hookd_strerror(rc));
        goto out_writer;
    }
#ifdef HOOKD_CLUSTER
    if ((rc = cnode_start(node, &engine.dispatch))) {
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
        .stats = api.stats,
        .log_requests = cfg.log_requests,
        .tls_cert = tls.cert_pem,
        .tls_key = tls.key_pem,
        .admit = api_admit,
    };
    char bound[128];
    rc = http_start(&http, &ho, writer, api_dispatch, &api, bound, sizeof(bound));
    if (rc) {
        if (tls.cert_pem)
            fprintf(stderr, "hookd: cannot listen with tls on '%s' (certificate '%s', key '%s'): "
                    "%s (see the log line above)\n", cfg.listen, cfg.tls_cert, cfg.tls_key,
                    hookd_strerror(rc));
        else
            fprintf(stderr, "hookd: cannot listen on '%s': %s\n", cfg.listen, hookd_strerror(rc));
        goto out_writer;
    }
    if (cfg.metrics_listen[0] && start_metrics_listener(&cfg, &api, writer, &mhttp))
        goto out_writer;
    char line[160];
    /* host:port for plain HTTP, as before; a URL when a client must know to use TLS */
    const char *scheme = tls.cert_pem ? "https://" : "";
    snprintf(line, sizeof(line), "%s%s\n", scheme, bound);
    write_file(cfg.data_dir, "listen", line, 0644);
#ifdef HOOKD_CLUSTER
    cnode_set_listen(node, line);   /* the cluster-wide stats name it */
#endif
    char workers[16];
    snprintf(workers, sizeof(workers), "%d", engine.nworkers);
    log_info("listening", "addr", bound, "data", cfg.data_dir, "version", HOOKD_VERSION,
             "config", cfg.config_file && cfg.config_file[0] ? cfg.config_file : "(none)",
             "workers", workers,
             "allow_network", cfg.allow_network[0] ? cfg.allow_network : "(none)",
             "retry_schedule", cfg.retry_schedule, "tls", tls.cert_pem ? "on" : "off", NULL);
    if (cfg.cluster[0])
        log_info("cluster mode", "node", cfg.node_id, "role",
                 cfg.cluster_role[0] ? cfg.cluster_role : "auto", "detail",
                 leased ? "following the log; owning it while it holds the lease group.0"
                 : standby ? "applying the owner's log; writes answer 503 not_owner"
                         : "publishing every write to the cluster's log before applying it",
                 NULL);
    if ((rc = notify_send("READY=1")))
        log_warn("cannot tell the service manager hookd is ready", "error", hookd_strerror(rc), NULL);
    printf("hookd %s listening on %s://%s (data in %s)\n", HOOKD_VERSION,
           tls.cert_pem ? "https" : "http", bound, cfg.data_dir);
    print_token_line(&cfg, token, created);

    struct reload rl = { argc, argv, &cfg, &api, &engine, http };
    wait_for_stop(&sigs, &rl);
    /*
     * The stop, in the order that keeps every promise: writes and health
     * answer 503 at once while the listener stays open (load balancers
     * see the drain); no delivery starts after the signal; those in
     * flight finish within --shutdown-timeout; the writer then commits
     * every outcome and every write it had acknowledged or still holds.
     */
    api_stop_writes(&api);
    if ((rc = notify_send("STOPPING=1")))
        log_warn("cannot tell the service manager hookd is stopping", "error",
                 hookd_strerror(rc), NULL);
    status = 0;
out_writer:
#ifdef HOOKD_CLUSTER
    cnode_stop(node);   /* it waits for its batches' commits: before the writer stops */
#endif
    engine_stop(&engine, cfg.shutdown_timeout_ms);
    retention_stop(retention);   /* its last batch needs the writer */
    tasks_stop(tasks);           /* so may its step under way */
    if (http)
        http_quiesce(http);   /* no new connections while the writer drains */
    if (mhttp)
        http_quiesce(mhttp);
    writer_stop(writer);   /* applies what is queued and resumes every request */
#ifdef HOOKD_CLUSTER
    cnode_release(node);   /* the last outcomes are in the log: another node owns now */
#endif
    feed_stop(api.feed);   /* answers the long polls still waiting */
    http_stop(http);
    if (mhttp)
        http_stop(mhttp);
    tasks_free(tasks);   /* no request asks for them any more */
    writer_free(writer);
#ifdef HOOKD_CLUSTER
    cnode_free(node);   /* the writer published through it until it stopped */
#endif
    if (journal)
        fclose(journal);
    retention_free(retention);
    epcache_free(api.fanout);
    engine_free(&engine);
out_store:
    feed_free(api.feed);
    stats_free(api.stats);
    free(token);
    swap_release(&api.ingest_tokens, free_tokens);
    swap_release(&api.metrics_tokens, free_tokens);
    store_close(store);
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
