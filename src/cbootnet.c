/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbootnet.c - a new node's stores copied from a live node over NATS
 * (cboot.h: cboot_serve_start and cboot_serve_group on every serving node,
 * `hookd cluster bootstrap` on the new one), one partition group at a time.
 *
 * The protocol, request/reply on the cluster's own NATS connection:
 *   - CBOOT_SUBJECT (queue group CBOOT_QUEUE, so one node answers) with
 *     header "Authorization: Bearer TOKEN", the answering node's admin
 *     token (compared in constant time), body {"group": g} (an empty body
 *     or no "group": 0, as clients before groups ask): "make a copy of
 *     group g's store". After the token, a group that is not an integer
 *     from 0, or one this node registered no store for, gets an error. The
 *     node copies the group's store (store_copy: one consistent point in
 *     time, compacted) to DATA/bootstrap/data.mdb (group 0) or
 *     DATA/bootstrap/group.<g>/data.mdb on a thread of its own, hashes it,
 *     and answers {"node", "group", "id", "size", "sha256", "chunk"}; id
 *     is 128 random bits (id_random) that only this answer carries. A
 *     client that finds no "group" (a node from before groups, which
 *     copies group 0 whatever was asked) or another one does not use it.
 *   - CBOOT_SUBJECT.<node> {"id", "offset"}: the copy's bytes from offset,
 *     at most chunk of them (well under max_payload); {"id", "done": true}:
 *     the client is done with it (all fetched, or giving up): it goes.
 * An error is an empty answer with header CBOOT_HDR_ERROR; a refusal adds
 * CBOOT_HDR_REFUSED: "token" (wrong or missing, checked before anything
 * else, and counted in a log line at most once a minute), or "busy" with
 * CBOOT_HDR_RETRY seconds: one copy at a time per node, being made or
 * fetched; a second bootstrap is refused, never replaces the first.
 *
 * Why an id and not the token on every chunk: the id is as hard to guess
 * as a token, names one copy (a stranger who learns an old one reads
 * nothing), and keeps the token off the wire after the first request.
 * Anyone who may subscribe to the clients' inboxes still sees the bytes
 * go by: NATS permissions must keep others off hookd.> and _INBOX.>
 * (docs/operations.md 8).
 *
 * The copy stays until its client says done, the node stops, or nobody
 * read it for CBOOT_IDLE_MS (checked at the next request).
 *
 * The new node fetches group 0, 1, ... in turn (the cluster's settings
 * say how many), each into its own directory: DIR for group 0, DIR/group.<g>
 * for the others, as serve opens them. In each it writes data.mdb.part,
 * checks the SHA-256, then renames it to data.mdb. The admin token is not
 * written there: a node's token is its configuration's (admin-token,
 * HOOKD_ADMIN_TOKEN) or made at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <mbedtls/sha256.h>
#include <nats/nats.h>

#include "api.h"
#include "cboot.h"
#include "clock.h"
#include "cluster.h"
#include "cmeta.h"
#include "config.h"
#include "err.h"
#include "id.h"
#include "log.h"
#include "mem.h"
#include "part.h"
#include "store.h"

#define CBOOT_SUBJECT "hookd.bootstrap"
#define CBOOT_QUEUE "hookd-bootstrap"
#define CBOOT_HDR_ERROR "Hookd-Error"
#define CBOOT_HDR_REFUSED "Hookd-Refused"   /* "token" or "busy": the request was refused */
#define CBOOT_HDR_RETRY "Hookd-Retry-After" /* busy: seconds */
#define CBOOT_HDR_AUTH "Authorization"      /* "Bearer " + the admin token, as the API's */
#define CBOOT_CHUNK (512 * 1024)
#define CBOOT_IDLE_MS (2 * 60 * 1000)
#define CBOOT_ID_BYTES 16                   /* a copy's id: 128 random bits, in hex */
#define BUSY_MAKING_S 10                    /* "retry in" while a copy is being made */
#define REFUSED_LOG_MS 60000                /* refused tokens: one log line a minute at most */
#define COPY_WAIT_MS (10 * 60 * 1000)   /* a client waits this long for the copy */
#define CHUNK_WAIT_MS 30000
#define CHUNK_TRIES 3
#define DONE_WAIT_MS 2000

struct cboot_server {
    struct cluster *cl;
    char node[CMETA_NODE_MAX];
    char dir[4096];            /* DATA/bootstrap */
    char *token;               /* this node's admin token: copies are made for it alone */
    natsSubscription *copy_sub, *chunk_sub;
    pthread_t maker;           /* makes a copy (make_main); on_copy and stop only */
    int maker_started;         /* maker is to be joined */

    pthread_mutex_t lock;      /* guards the fields below */
    struct store *stores[PART_GROUPS_MAX];   /* each group's, once cboot_serve_group named it */
    int making;                /* the maker runs: it alone touches dir, fd and id */
    int group;                 /* the group of the copy being made or fetched */
    int fd;                    /* the copy: -1 none */
    char id[2 * CBOOT_ID_BYTES + 1];
    uint64_t size, sent;       /* the copy's bytes; the furthest byte sent */
    int64_t ready_ms, used_ms; /* monotonic: made, last read */
    uint64_t refused;          /* refused tokens not logged yet */
    int64_t refused_logged_ms;
};

struct make_job {
    struct cboot_server *b;
    natsConnection *nc;
    char *reply;
    int group;
    struct store *store;   /* the group's: open until cboot_serve_stop, which joins the maker */
};

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/*
 * Where group g's copy is made: DATA/bootstrap for group 0 (as before
 * groups), DATA/bootstrap/group.<g> for the others, so that copies of two
 * groups never share a file, even one left by a process that died.
 */
static void copy_dir(const struct cboot_server *b, int g, char *out, size_t cap)
{
    if (g == 0)
        snprintf(out, cap, "%s", b->dir);
    else
        snprintf(out, cap, "%s/group.%d", b->dir, g);
}

/* Delete group g's copy file and its directories (those that are empty). */
static void unlink_copy(const struct cboot_server *b, int g)
{
    char dir[4200], path[4300];
    copy_dir(b, g, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    if (g)
        rmdir(dir);
    rmdir(b->dir);
}

static void drop_copy_locked(struct cboot_server *b)
{
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
    *b->id = 0;
    unlink_copy(b, b->group);
}

/* A copy nobody read for CBOOT_IDLE_MS: its client gave up. */
static void expire_locked(struct cboot_server *b)
{
    if (b->fd >= 0 && clock_mono_ms() - b->used_ms > CBOOT_IDLE_MS) {
        log_info("a bootstrap copy nobody read for a while is dropped", NULL);
        drop_copy_locked(b);
    }
}

/* SHA-256 and size of the open file fd. 0 or -errno. */
static int hash_file(int fd, uint8_t sum[32], uint64_t *size)
{
    mbedtls_sha256_context h;
    uint8_t buf[65536];
    ssize_t n;
    off_t at = 0;
    mbedtls_sha256_init(&h);
    mbedtls_sha256_starts_ret(&h, 0);
    while ((n = pread(fd, buf, sizeof(buf), at)) > 0) {
        mbedtls_sha256_update_ret(&h, buf, (size_t)n);
        at += n;
    }
    mbedtls_sha256_finish_ret(&h, sum);
    mbedtls_sha256_free(&h);
    *size = (uint64_t)at;
    return n < 0 ? -errno : 0;
}

/* Answer on to (an inbox: checked by the callers); refused ("token", "busy") with error. */
static void respond(natsConnection *nc, const char *to, const void *p, size_t n,
                    const char *error, const char *refused, int retry_s)
{
    natsMsg *m = NULL;
    char retry[16];
    if (natsMsg_Create(&m, to, NULL, p, (int)n) != NATS_OK)
        return;
    if (error)
        natsMsgHeader_Set(m, CBOOT_HDR_ERROR, error);
    if (refused)
        natsMsgHeader_Set(m, CBOOT_HDR_REFUSED, refused);
    if (retry_s > 0) {
        snprintf(retry, sizeof(retry), "%d", retry_s);
        natsMsgHeader_Set(m, CBOOT_HDR_RETRY, retry);
    }
    natsConnection_PublishMsg(nc, m);
    natsMsg_Destroy(m);
}

/* Does the request carry this node's admin token ("Authorization: Bearer TOKEN")? */
static int authorized(const struct cboot_server *b, natsMsg *msg)
{
    const char *h = NULL;
    if (natsMsgHeader_Get(msg, CBOOT_HDR_AUTH, &h) != NATS_OK || !h
        || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    for (h += 7; *h == ' '; h++)
        ;
    return api_token_eq(h, b->token);
}

/* Count a refused token; log the count at most once a minute (a stranger may try many). */
static void note_refused(struct cboot_server *b)
{
    char count[24] = "";
    pthread_mutex_lock(&b->lock);
    b->refused++;
    int64_t now = clock_mono_ms();
    if (!b->refused_logged_ms || now - b->refused_logged_ms >= REFUSED_LOG_MS) {
        snprintf(count, sizeof(count), "%" PRIu64, b->refused);
        b->refused = 0;
        b->refused_logged_ms = now;
    }
    pthread_mutex_unlock(&b->lock);
    if (*count)
        log_warn("bootstrap requests refused: wrong or missing admin token (hookd cluster "
                 "bootstrap needs it; anyone else on the NATS account may be trying)",
                 "refused", count, NULL);
}

/*
 * Claim the node for a new copy of group g: 0 (b->making set, *s the
 * group's store), or 1 with why and the seconds to wait: one copy at a
 * time per node, whether being made or fetched.
 */
static int claim(struct cboot_server *b, int g, struct store **s, char *why, size_t cap,
                 int *retry_s)
{
    int64_t now = clock_mono_ms(), wait_s = BUSY_MAKING_S;
    pthread_mutex_lock(&b->lock);
    expire_locked(b);
    int busy = b->making || b->fd >= 0, making = b->making;
    if (!busy) {
        b->making = 1;
        b->group = g;
        *s = b->stores[g];
    } else if (!b->making) {
        /* being fetched: its pace so far says when it ends; at most until it would expire */
        int64_t left = (b->used_ms + CBOOT_IDLE_MS - now) / 1000 + 1;
        wait_s = 5;
        if (b->sent && now > b->ready_ms)
            wait_s = (int64_t)((double)(b->size - b->sent) * (double)(now - b->ready_ms)
                               / (double)b->sent / 1000.0) + 1;
        if (wait_s > left)
            wait_s = left;
    }
    pthread_mutex_unlock(&b->lock);
    if (busy) {
        *retry_s = wait_s < 1 ? 1 : (int)wait_s;
        snprintf(why, cap, "busy: node %s is %s a copy for another bootstrap (one at a time); "
                 "retry in %d s", b->node, making ? "making" : "sending", *retry_s);
    }
    return busy;
}

/*
 * Make a new copy (b->making: this thread alone touches the directory) and
 * publish it under the lock: its description, or NULL with why.
 */
static json_t *make_copy(struct cboot_server *b, const struct make_job *job, char *why,
                         size_t cap)
{
    char dir[4200], path[4300], sumhex[65];
    uint8_t sum[32], raw[CBOOT_ID_BYTES];
    uint64_t size = 0;
    int fd = -1, rc = 0;
    copy_dir(b, job->group, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);   /* a copy left by a process that died */
    if (mkdir(b->dir, 0700) && errno != EEXIST)
        rc = -errno;
    if (rc == 0 && job->group && mkdir(dir, 0700) && errno != EEXIST)
        rc = -errno;
    if (rc == 0)
        rc = store_copy(job->store, dir);
    if (rc == 0 && (fd = open(path, O_RDONLY)) < 0)
        rc = -errno;
    if (rc == 0)
        rc = hash_file(fd, sum, &size);
    pthread_mutex_lock(&b->lock);
    b->making = 0;
    if (rc) {
        snprintf(why, cap, "cannot copy the store: %s", hookd_strerror(rc));
        if (fd >= 0)
            close(fd);
        drop_copy_locked(b);
        pthread_mutex_unlock(&b->lock);
        return NULL;
    }
    /* unguessable: the id is what lets a client read the copy, and only it learns it */
    id_random(raw, sizeof(raw));
    hex(raw, sizeof(raw), b->id);
    b->fd = fd;
    b->size = size;
    b->sent = 0;
    b->ready_ms = b->used_ms = clock_mono_ms();
    json_t *j = json_pack("{s:s, s:i, s:s, s:I}", "node", b->node, "group", job->group, "id",
                          b->id, "size", (json_int_t)size);
    pthread_mutex_unlock(&b->lock);
    hex(sum, 32, sumhex);
    json_object_set_new(j, "sha256", json_string(sumhex));
    json_object_set_new(j, "chunk", json_integer(CBOOT_CHUNK));
    return j;
}

static void *make_main(void *arg)
{
    struct make_job *job = arg;
    struct cboot_server *b = job->b;
    char why[512] = "", size[24], group[16];
    json_t *j = make_copy(b, job, why, sizeof(why));
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (text) {
        snprintf(size, sizeof(size), "%lld", (long long)json_integer_value(json_object_get(j, "size")));
        snprintf(group, sizeof(group), "%d", job->group);
        log_info("a copy of this store for a new node (hookd cluster bootstrap)", "group", group,
                 "bytes", size, NULL);
        respond(job->nc, job->reply, text, strlen(text), NULL, NULL, 0);
    } else {
        log_warn("cannot make a copy of this store for a new node", "error", why, NULL);
        respond(job->nc, job->reply, NULL, 0, why, NULL, 0);
    }
    json_decref(j);
    free(text);
    free(job->reply);
    free(job);
    return NULL;
}

/* The copy is made on a thread of its own, so that the next request hears "busy" at once. */
static void start_maker(struct cboot_server *b, natsConnection *nc, const char *reply, int g,
                        struct store *s)
{
    struct make_job *job = xcalloc(1, sizeof(*job));
    *job = (struct make_job){ .b = b, .nc = nc, .reply = xstrdup(reply), .group = g, .store = s };
    if (b->maker_started)   /* the last one, done making (claim saw it): it ends at once */
        pthread_join(b->maker, NULL);
    b->maker_started = pthread_create(&b->maker, NULL, make_main, job) == 0;
    if (!b->maker_started) {
        pthread_mutex_lock(&b->lock);
        b->making = 0;
        pthread_mutex_unlock(&b->lock);
        respond(nc, reply, NULL, 0, "cannot start a thread to make the copy", NULL, 0);
        free(job->reply);
        free(job);
    }
}

/*
 * The group a copy request asks for: its body {"group": g}; an empty body
 * or no "group" is group 0 (what clients before groups ask). -1 with why
 * when the value is not a group's number or this node holds no store of it.
 */
static int requested_group(struct cboot_server *b, natsMsg *msg, char *why, size_t cap)
{
    const char *data = natsMsg_GetData(msg);
    size_t len = (size_t)natsMsg_GetDataLength(msg);
    json_error_t je;
    json_t *req = NULL, *v = NULL;
    json_int_t g = 0;
    int registered = 0;
    if (len) {
        req = json_loadb(data, len, 0, &je);
        if (!json_is_object(req)) {
            snprintf(why, cap, "the bootstrap request is not a JSON object");
            json_decref(req);
            return -1;
        }
        v = json_object_get(req, "group");
    }
    if (v && (!json_is_integer(v) || (g = json_integer_value(v)) < 0)) {
        snprintf(why, cap, "\"group\" must be a partition group's number (an integer from 0)");
        json_decref(req);
        return -1;
    }
    json_decref(req);
    if (g < PART_GROUPS_MAX) {
        pthread_mutex_lock(&b->lock);
        registered = b->stores[g] != NULL;
        pthread_mutex_unlock(&b->lock);
    }
    if (!registered) {
        snprintf(why, cap, "node %s holds no store of partition group %lld (the cluster's groups "
                 "are 0 to its streams - 1)", b->node, (long long)g);
        return -1;
    }
    return (int)g;
}

/* Runs on the copy subscription's thread, one request at a time. */
static void on_copy(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
    struct cboot_server *b = arg;
    const char *to = natsMsg_GetReply(msg);
    char why[256];
    int retry_s = 0, g = -1;
    struct store *s = NULL;
    /* an inbox only: anyone may name the log's subject or JetStream's API (cluster.h) */
    if (!cluster_reply_ok(to)) {
        natsMsg_Destroy(msg);
        return;
    }
    /* the token first: a stranger learns nothing, not even whether a copy is under way */
    if (!authorized(b, msg)) {
        note_refused(b);
        respond(nc, to, NULL, 0, "wrong or missing admin token", "token", 0);
    } else if ((g = requested_group(b, msg, why, sizeof(why))) < 0) {
        respond(nc, to, NULL, 0, why, NULL, 0);
    } else if (claim(b, g, &s, why, sizeof(why), &retry_s)) {
        respond(nc, to, NULL, 0, why, "busy", retry_s);
    } else {
        start_maker(b, nc, to, g, s);
    }
    natsMsg_Destroy(msg);
}

/*
 * {"id", "offset"}: the copy's bytes from offset. {"id", "done": true}:
 * the client has all of it (or gives up): the copy goes, the node is free.
 * Without the copy's id (which only the client that gave the token
 * learned) nothing is read.
 */
static void on_chunk(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
    struct cboot_server *b = arg;
    const char *to = natsMsg_GetReply(msg);
    json_error_t je;
    json_t *req = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 0, &je);
    const char *id = json_string_value(json_object_get(req, "id"));
    json_int_t off = json_integer_value(json_object_get(req, "offset"));
    int done = json_is_true(json_object_get(req, "done"));
    uint8_t *buf = NULL;
    ssize_t n = 0;
    const char *error = NULL;
    if (!cluster_reply_ok(to))
        goto out;
    pthread_mutex_lock(&b->lock);
    expire_locked(b);
    if (!id || off < 0 || b->fd < 0 || !api_token_eq(id, b->id)) {
        error = "no such copy (fetched already, idle too long, or never made): start again";
    } else if (done) {
        drop_copy_locked(b);
    } else {
        buf = xmalloc(CBOOT_CHUNK);
        if ((n = pread(b->fd, buf, CBOOT_CHUNK, (off_t)off)) < 0) {
            error = "cannot read the copy";
            n = 0;
        } else {
            b->used_ms = clock_mono_ms();
            if ((uint64_t)off + (uint64_t)n > b->sent)
                b->sent = (uint64_t)off + (uint64_t)n;
        }
    }
    pthread_mutex_unlock(&b->lock);
    if (done && !error)
        log_info("a bootstrap copy was fetched; it is dropped", NULL);
    respond(nc, to, buf, (size_t)n, error, NULL, 0);
out:
    free(buf);
    json_decref(req);
    natsMsg_Destroy(msg);
}

int cboot_serve_start(struct cboot_server **out, struct cluster *cl, const char *data_dir,
                      const char *node, const char *admin_token, char *err, size_t errlen)
{
    struct cboot_server *b = xcalloc(1, sizeof(*b));
    char subject[160];
    b->cl = cl;
    b->fd = -1;
    b->token = xstrdup(admin_token ? admin_token : "");
    snprintf(b->node, sizeof(b->node), "%s", node);
    snprintf(b->dir, sizeof(b->dir), "%s/bootstrap", data_dir);
    pthread_mutex_init(&b->lock, NULL);
    drop_copy_locked(b);   /* a copy left by a process that died */
    snprintf(subject, sizeof(subject), "%s.%s", CBOOT_SUBJECT, node);
    natsStatus st = natsConnection_QueueSubscribe(&b->copy_sub, cluster_nats(cl), CBOOT_SUBJECT,
                                                  CBOOT_QUEUE, on_copy, b);
    if (st == NATS_OK)
        st = natsConnection_Subscribe(&b->chunk_sub, cluster_nats(cl), subject, on_chunk, b);
    if (st != NATS_OK) {
        snprintf(err, errlen, "cannot answer bootstrap requests: %s", natsStatus_GetText(st));
        cboot_serve_stop(b);
        return -1;
    }
    *out = b;
    return 0;
}

int cboot_serve_group(struct cboot_server *b, int g, struct store *s)
{
    if (!b || g < 0 || g >= PART_GROUPS_MAX || !s)
        return -1;
    pthread_mutex_lock(&b->lock);
    if (!b->making && b->fd < 0)   /* else the maker alone touches the directory */
        unlink_copy(b, g);   /* a copy left by a process that died */
    b->stores[g] = s;
    pthread_mutex_unlock(&b->lock);
    return 0;
}

void cboot_serve_stop(struct cboot_server *b)
{
    if (!b)
        return;
    /* drained: no callback runs once the waits return; one still running keeps b */
    int idle = 1;
    natsSubscription *subs[2] = { b->copy_sub, b->chunk_sub };
    for (int i = 0; i < 2; i++) {
        if (!subs[i])
            continue;
        if (natsSubscription_Drain(subs[i]) != NATS_OK
            || natsSubscription_WaitForDrainCompletion(subs[i], 5000) != NATS_OK)
            idle = 0;
    }
    if (!idle) {
        log_warn("a bootstrap request is still being answered as the node stops", NULL);
        return;
    }
    /* a copy being made reads the store, which closes after this: wait for it */
    if (b->maker_started)
        pthread_join(b->maker, NULL);
    natsSubscription_Destroy(b->copy_sub);
    natsSubscription_Destroy(b->chunk_sub);
    pthread_mutex_lock(&b->lock);
    drop_copy_locked(b);
    pthread_mutex_unlock(&b->lock);
    pthread_mutex_destroy(&b->lock);
    free(b->token);
    free(b);
}

/* ---- the new node's side ---- */

struct fetch {
    natsConnection *nc;
    const char *token;
    int group;                 /* the partition group whose store is fetched */
    char node[CMETA_NODE_MAX], id[2 * CBOOT_ID_BYTES + 1], sha[65];
    uint64_t size, chunk;
};

static void release(struct fetch *f);

/* A refusal or error in answer r: 1 (said), else 0. */
static int refused(const struct fetch *f, natsMsg *r)
{
    const char *error = NULL, *why = NULL;
    if (natsMsgHeader_Get(r, CBOOT_HDR_ERROR, &error) != NATS_OK || !error)
        return 0;
    if (natsMsgHeader_Get(r, CBOOT_HDR_REFUSED, &why) != NATS_OK || !why)
        fprintf(stderr, "hookd: the node could not make a copy: %s\n", error);
    else if (strcmp(why, "token") == 0 && !*f->token)
        fprintf(stderr, "hookd: the cluster refused the bootstrap: %s (give the cluster's admin "
                "token: --admin-token, HOOKD_ADMIN_TOKEN or admin-token in --config)\n", error);
    else
        fprintf(stderr, "hookd: the cluster refused the bootstrap: %s\n", error);
    return 1;
}

/* Ask for a copy: 0 and f filled, or 1 (said). */
static int ask_copy(struct fetch *f)
{
    natsMsg *q = NULL, *r = NULL;
    char auth[1024], body[32];
    int n = snprintf(body, sizeof(body), "{\"group\":%d}", f->group);
    natsStatus st = natsMsg_Create(&q, CBOOT_SUBJECT, NULL, body, n);
    if (st == NATS_OK && *f->token) {
        snprintf(auth, sizeof(auth), "Bearer %s", f->token);
        st = natsMsgHeader_Set(q, CBOOT_HDR_AUTH, auth);
    }
    if (st == NATS_OK)
        st = natsConnection_RequestMsg(&r, f->nc, q, COPY_WAIT_MS);
    natsMsg_Destroy(q);
    if (st != NATS_OK) {
        fprintf(stderr, "hookd: no node answered the bootstrap request: %s (is a node of this "
                "cluster serving, with this version?)\n", natsStatus_GetText(st));
        return 1;
    }
    if (refused(f, r)) {
        natsMsg_Destroy(r);
        return 1;
    }
    json_error_t je;
    json_t *j = json_loadb(natsMsg_GetData(r), (size_t)natsMsg_GetDataLength(r), 0, &je);
    const char *node = json_string_value(json_object_get(j, "node"));
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *sha = json_string_value(json_object_get(j, "sha256"));
    json_int_t size = json_integer_value(json_object_get(j, "size"));
    json_int_t chunk = json_integer_value(json_object_get(j, "chunk"));
    /* a node from before groups has no "group" and copies group 0 whatever was asked */
    json_int_t group = json_integer_value(json_object_get(j, "group"));
    int ok = node && id && sha && strlen(sha) == 64 && strlen(id) < sizeof(f->id) && size > 0
             && chunk > 0;
    if (ok) {
        snprintf(f->node, sizeof(f->node), "%s", node);
        snprintf(f->id, sizeof(f->id), "%s", id);
        snprintf(f->sha, sizeof(f->sha), "%s", sha);
        f->size = (uint64_t)size;
        f->chunk = (uint64_t)chunk;
    } else {
        fprintf(stderr, "hookd: the bootstrap answer is not one this hookd understands\n");
    }
    if (ok && group != f->group) {
        fprintf(stderr, "hookd: node %s sent a copy of partition group %lld, not %d: it runs a "
                "hookd that copies group 0 alone (update every node)\n", f->node,
                (long long)group, f->group);
        release(f);
        ok = 0;
    }
    json_decref(j);
    natsMsg_Destroy(r);
    return ok ? 0 : 1;
}

/* Done with the copy (all of it, or giving up): its node drops it and may make the next. */
static void release(struct fetch *f)
{
    char subject[160], req[128];
    natsMsg *r = NULL;
    snprintf(subject, sizeof(subject), "%s.%s", CBOOT_SUBJECT, f->node);
    int n = snprintf(req, sizeof(req), "{\"id\":\"%s\",\"done\":true}", f->id);
    if (natsConnection_Request(&r, f->nc, subject, req, n, DONE_WAIT_MS) == NATS_OK)
        natsMsg_Destroy(r);
}

/* One chunk at off into buf (cap f->chunk): its length, or -1 (said). */
static ssize_t get_chunk(struct fetch *f, uint64_t off, uint8_t *buf)
{
    char subject[160], req[128];
    snprintf(subject, sizeof(subject), "%s.%s", CBOOT_SUBJECT, f->node);
    int n = snprintf(req, sizeof(req), "{\"id\":\"%s\",\"offset\":%" PRIu64 "}", f->id, off);
    for (int i = 0; i < CHUNK_TRIES; i++) {
        natsMsg *r = NULL;
        const char *error = NULL;
        natsStatus st = natsConnection_Request(&r, f->nc, subject, req, n, CHUNK_WAIT_MS);
        if (st != NATS_OK)
            continue;
        if (natsMsgHeader_Get(r, CBOOT_HDR_ERROR, &error) == NATS_OK && error) {
            fprintf(stderr, "hookd: node %s: %s\n", f->node, error);
            natsMsg_Destroy(r);
            return -1;
        }
        size_t len = (size_t)natsMsg_GetDataLength(r);
        if (len > f->chunk)
            len = 0;
        memcpy(buf, natsMsg_GetData(r), len);
        natsMsg_Destroy(r);
        if (len)
            return (ssize_t)len;
    }
    fprintf(stderr, "hookd: node %s did not send the copy's bytes at %" PRIu64 "\n", f->node,
            off);
    return -1;
}

/* Fetch the copy into fd; 0 when all of it came and its SHA-256 is right, or 1 (said). */
static int fetch_into(struct fetch *f, int fd)
{
    mbedtls_sha256_context h;
    uint8_t *buf = xmalloc(f->chunk), sum[32];
    char got[65];
    uint64_t off = 0;
    int rc = 0;
    mbedtls_sha256_init(&h);
    mbedtls_sha256_starts_ret(&h, 0);
    while (rc == 0 && off < f->size) {
        ssize_t n = get_chunk(f, off, buf);
        if (n < 0 || (uint64_t)n > f->size - off) {
            rc = 1;
        } else if (write(fd, buf, (size_t)n) != n) {
            fprintf(stderr, "hookd: cannot write the copy: %s\n", strerror(errno));
            rc = 1;
        } else {
            mbedtls_sha256_update_ret(&h, buf, (size_t)n);
            off += (uint64_t)n;
        }
    }
    mbedtls_sha256_finish_ret(&h, sum);
    mbedtls_sha256_free(&h);
    free(buf);
    hex(sum, 32, got);
    if (rc == 0 && strcmp(got, f->sha) != 0) {
        fprintf(stderr, "hookd: the copy's SHA-256 is %s, not %s as node %s said: not used\n",
                got, f->sha, f->node);
        rc = 1;
    }
    if (rc == 0 && fsync(fd)) {
        fprintf(stderr, "hookd: cannot flush the copy: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}

/* The new store's place in the log: its line, ending with what follows. */
static void say_done(const char *dir, const struct fetch *f, const char *then)
{
    struct store *s;
    struct cmeta m = { 0 };
    if (store_open(&s, dir, 0, 1) == 0) {
        cmeta_load(s, &m);
        store_close(s);
    }
    printf("bootstrapped '%s' from node %s: %" PRIu64 " bytes, SHA-256 checked, at log entry %"
           PRIu64 " (epoch %" PRIu64 ")%s\n", dir, f->node, f->size, m.seq, m.epoch, then);
}

/* A partition group's store in the new data directory: DIR, DIR/group.<g> (as serve opens them). */
static void group_dir(const char *dir, int g, char *out, size_t cap)
{
    if (g == 0)
        snprintf(out, cap, "%s", dir);
    else
        snprintf(out, cap, "%s/group.%d", dir, g);
}

/* Does DIR hold any group's store already? 1 (said), else 0. */
static int holds_store(const char *dir, int groups)
{
    char gdir[4200], path[4300];
    struct stat st;
    for (int g = 0; g < groups; g++) {
        group_dir(dir, g, gdir, sizeof(gdir));
        snprintf(path, sizeof(path), "%s/data.mdb", gdir);
        if (stat(path, &st) == 0) {
            fprintf(stderr, "hookd: '%s' already holds a store; bootstrap needs a new or empty "
                    "data directory\n", gdir);
            return 1;
        }
    }
    return 0;
}

/* Fetch f->group's copy into gdir (made 0700 when absent): 0, or 1 (said). */
static int fetch_group(struct fetch *f, const char *gdir, const char *then)
{
    char path[4300], part[4300];
    int made_dir = 0;
    snprintf(path, sizeof(path), "%s/data.mdb", gdir);
    snprintf(part, sizeof(part), "%s/data.mdb.part", gdir);
    if (mkdir(gdir, 0700) == 0) {
        made_dir = 1;
    } else if (errno != EEXIST) {
        fprintf(stderr, "hookd: cannot create '%s': %s\n", gdir, strerror(errno));
        return 1;
    }
    if (ask_copy(f)) {
        if (made_dir)
            rmdir(gdir);   /* refused: leave nothing behind */
        return 1;
    }
    unlink(part);
    int fd = open(part, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        fprintf(stderr, "hookd: cannot create '%s': %s\n", part, strerror(errno));
        release(f);
        return 1;
    }
    int rc = fetch_into(f, fd);
    close(fd);
    release(f);
    if (rc == 0 && rename(part, path)) {
        fprintf(stderr, "hookd: cannot rename '%s': %s\n", part, strerror(errno));
        rc = 1;
    }
    if (rc) {
        unlink(part);
        return 1;
    }
    int dfd = open(gdir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    say_done(gdir, f, then);
    return 0;
}

int cboot_fetch(struct cluster *cl, int groups, const char *dir, const char *admin_token)
{
    char gdir[4200], then[4400];
    if (groups < 1 || groups > PART_GROUPS_MAX) {
        fprintf(stderr, "hookd: the cluster has %d partition groups; a node holds 1 to %d\n",
                groups, PART_GROUPS_MAX);
        return 1;
    }
    if (holds_store(dir, groups))
        return 1;
    /* one group at a time: a node makes one copy at a time, and each is released before the next */
    for (int g = 0; g < groups; g++) {
        struct fetch f = { .nc = cluster_nats(cl), .token = admin_token ? admin_token : "",
                           .group = g };
        group_dir(dir, g, gdir, sizeof(gdir));
        if (groups == 1)   /* as before groups */
            snprintf(then, sizeof(then), "; start a node on it");
        else if (g < groups - 1)
            snprintf(then, sizeof(then), ", partition group %d of %d", g, groups);
        else
            snprintf(then, sizeof(then), ", partition group %d of %d; every group fetched: start "
                     "a node on '%s'", g, groups, dir);
        if (fetch_group(&f, gdir, then) == 0)
            continue;
        if (groups > 1 && g == 0)
            fprintf(stderr, "hookd: partition group 0 of %d not fetched, nor the others\n", groups);
        else if (groups > 1)
            fprintf(stderr, "hookd: partition group %d of %d not fetched: %s %d %s in '%s', "
                    "the rest not; a node cannot start on it (remove '%s' and run again)\n", g,
                    groups, g == 1 ? "group" : "groups 0 to", g - 1, g == 1 ? "is" : "are", dir,
                    dir);
        return 1;
    }
    return 0;
}
