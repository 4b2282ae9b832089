/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbootnet.c - a new node's store copied from a live node over NATS
 * (cboot.h: cboot_serve_start on every serving node, `hookd cluster bootstrap`
 * on the new one).
 *
 * The protocol, request/reply on the cluster's own NATS connection:
 *   - CBOOT_SUBJECT (queue group CBOOT_QUEUE, so one node answers):
 *     "make a copy". The node copies its store (store_copy: one
 *     consistent point in time, compacted) to DATA/bootstrap/data.mdb,
 *     hashes it, and answers {"node", "id", "size", "sha256", "chunk"}.
 *   - CBOOT_SUBJECT.<node> {"id", "offset"}: the copy's bytes from offset,
 *     at most chunk of them (well under max_payload). An error is an empty
 *     answer with header CBOOT_HDR_ERROR.
 * The copy stays until the next one is asked for, the node stops, or
 * nobody read it for CBOOT_IDLE_MS. One copy at a time per node: a second
 * bootstrap replaces the first's copy, whose reads then fail (its client
 * says so; run it again).
 *
 * The new node writes DIR/data.mdb.part, checks the SHA-256, then renames
 * it to DIR/data.mdb. The admin token does not travel: a node's token is
 * its configuration's (admin-token, HOOKD_ADMIN_TOKEN) or made at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <mbedtls/sha256.h>
#include <nats/nats.h>

#include "cboot.h"
#include "clock.h"
#include "cluster.h"
#include "cmeta.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#define CBOOT_SUBJECT "hookd.bootstrap"
#define CBOOT_QUEUE "hookd-bootstrap"
#define CBOOT_HDR_ERROR "Hookd-Error"
#define CBOOT_CHUNK (512 * 1024)
#define CBOOT_IDLE_MS (5 * 60 * 1000)
#define COPY_WAIT_MS (10 * 60 * 1000)   /* a client waits this long for the copy */
#define CHUNK_WAIT_MS 30000
#define CHUNK_TRIES 3

struct cboot_server {
    struct cluster *cl;
    struct store *store;
    char node[CMETA_NODE_MAX];
    char dir[4096];            /* DATA/bootstrap */
    natsSubscription *copy_sub, *chunk_sub;

    pthread_mutex_t lock;      /* the copy: made, read and dropped under it */
    int fd;                    /* -1: none */
    char id[40];
    uint64_t size;
    int64_t used_ms;
    uint64_t made;
};

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void drop_copy_locked(struct cboot_server *b)
{
    char path[4200];
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
    *b->id = 0;
    snprintf(path, sizeof(path), "%s/data.mdb", b->dir);
    unlink(path);
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

static void respond(natsConnection *nc, natsMsg *req, const void *p, size_t n, const char *error)
{
    natsMsg *m = NULL;
    const char *to = natsMsg_GetReply(req);
    /* an inbox only: anyone may name the log's subject or JetStream's API (cluster.h) */
    if (!cluster_reply_ok(to) || natsMsg_Create(&m, to, NULL, p, (int)n) != NATS_OK)
        return;
    if (error)
        natsMsgHeader_Set(m, CBOOT_HDR_ERROR, error);
    natsConnection_PublishMsg(nc, m);
    natsMsg_Destroy(m);
}

/* A new copy of the store, replacing the last: its description, or NULL with why. */
static json_t *make_copy_locked(struct cboot_server *b, char *why, size_t cap)
{
    char path[4200];
    uint8_t sum[32];
    char sumhex[65];
    drop_copy_locked(b);
    if (mkdir(b->dir, 0700) && errno != EEXIST) {
        snprintf(why, cap, "cannot create the copy's directory: %s", strerror(errno));
        return NULL;
    }
    int rc = store_copy(b->store, b->dir);
    snprintf(path, sizeof(path), "%s/data.mdb", b->dir);
    if (rc == 0 && (b->fd = open(path, O_RDONLY)) < 0)
        rc = -errno;
    if (rc == 0)
        rc = hash_file(b->fd, sum, &b->size);
    if (rc) {
        snprintf(why, cap, "cannot copy the store: %s", hookd_strerror(rc));
        drop_copy_locked(b);
        return NULL;
    }
    hex(sum, 32, sumhex);
    snprintf(b->id, sizeof(b->id), "%" PRId64 "-%" PRIu64, clock_now_ms(), ++b->made);
    b->used_ms = clock_mono_ms();
    return json_pack("{s:s, s:s, s:I, s:s, s:I}", "node", b->node, "id", b->id, "size",
                     (json_int_t)b->size, "sha256", sumhex, "chunk", (json_int_t)CBOOT_CHUNK);
}

static void on_copy(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
    struct cboot_server *b = arg;
    char why[512] = "";
    pthread_mutex_lock(&b->lock);
    json_t *j = make_copy_locked(b, why, sizeof(why));
    char size[24];
    snprintf(size, sizeof(size), "%" PRIu64, b->size);
    pthread_mutex_unlock(&b->lock);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text) {
        log_info("a copy of this store for a new node (hookd cluster bootstrap)", "bytes", size,
                 NULL);
        respond(nc, msg, text, strlen(text), NULL);
    } else {
        log_warn("cannot make a copy of this store for a new node", "error", why, NULL);
        respond(nc, msg, NULL, 0, why);
    }
    free(text);
    natsMsg_Destroy(msg);
}

static void on_chunk(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
    struct cboot_server *b = arg;
    json_error_t je;
    json_t *req = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 0, &je);
    const char *id = json_string_value(json_object_get(req, "id"));
    json_int_t off = json_integer_value(json_object_get(req, "offset"));
    uint8_t *buf = xmalloc(CBOOT_CHUNK);
    ssize_t n = -1;
    const char *error = NULL;
    pthread_mutex_lock(&b->lock);
    if (b->fd >= 0 && clock_mono_ms() - b->used_ms > CBOOT_IDLE_MS)
        drop_copy_locked(b);
    if (!id || off < 0 || b->fd < 0 || strcmp(id, b->id) != 0)
        error = "no such copy (replaced by a newer bootstrap, or idle too long): start again";
    else if ((n = pread(b->fd, buf, CBOOT_CHUNK, (off_t)off)) < 0)
        error = "cannot read the copy";
    else
        b->used_ms = clock_mono_ms();
    pthread_mutex_unlock(&b->lock);
    respond(nc, msg, buf, error ? 0 : (size_t)n, error);
    free(buf);
    json_decref(req);
    natsMsg_Destroy(msg);
}

int cboot_serve_start(struct cboot_server **out, struct cluster *cl, struct store *s,
                const char *data_dir, const char *node, char *err, size_t errlen)
{
    struct cboot_server *b = xcalloc(1, sizeof(*b));
    char subject[160];
    b->cl = cl;
    b->store = s;
    b->fd = -1;
    snprintf(b->node, sizeof(b->node), "%s", node);
    snprintf(b->dir, sizeof(b->dir), "%s/bootstrap", data_dir);
    pthread_mutex_init(&b->lock, NULL);
    drop_copy_locked(b);   /* a copy left by a process that died */
    rmdir(b->dir);
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
        log_warn("a bootstrap copy is still being made as the node stops", NULL);
        return;
    }
    natsSubscription_Destroy(b->copy_sub);
    natsSubscription_Destroy(b->chunk_sub);
    pthread_mutex_lock(&b->lock);
    drop_copy_locked(b);
    pthread_mutex_unlock(&b->lock);
    rmdir(b->dir);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* ---- the new node's side ---- */

struct fetch {
    natsConnection *nc;
    char node[CMETA_NODE_MAX], id[40], sha[65];
    uint64_t size, chunk;
};

/* Ask for a copy: 0 and f filled, or 1 (said). */
static int ask_copy(struct fetch *f)
{
    natsMsg *r = NULL;
    const char *error = NULL;
    natsStatus st = natsConnection_Request(&r, f->nc, CBOOT_SUBJECT, "{}", 2, COPY_WAIT_MS);
    if (st != NATS_OK) {
        fprintf(stderr, "hookd: no node answered the bootstrap request: %s (is a node of this "
                "cluster serving, with this version?)\n", natsStatus_GetText(st));
        return 1;
    }
    if (natsMsgHeader_Get(r, CBOOT_HDR_ERROR, &error) == NATS_OK && error) {
        fprintf(stderr, "hookd: the node could not make a copy: %s\n", error);
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
    int ok = node && id && sha && strlen(sha) == 64 && size > 0 && chunk > 0;
    if (ok) {
        snprintf(f->node, sizeof(f->node), "%s", node);
        snprintf(f->id, sizeof(f->id), "%s", id);
        snprintf(f->sha, sizeof(f->sha), "%s", sha);
        f->size = (uint64_t)size;
        f->chunk = (uint64_t)chunk;
    } else {
        fprintf(stderr, "hookd: the bootstrap answer is not one this hookd understands\n");
    }
    json_decref(j);
    natsMsg_Destroy(r);
    return ok ? 0 : 1;
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

/* The new store's place in the log, for the last line. */
static void say_done(const char *dir, const struct fetch *f)
{
    struct store *s;
    struct cmeta m = { 0 };
    if (store_open(&s, dir, 0, 1) == 0) {
        cmeta_load(s, &m);
        store_close(s);
    }
    printf("bootstrapped '%s' from node %s: %" PRIu64 " bytes, SHA-256 checked, at log entry %"
           PRIu64 " (epoch %" PRIu64 "); start a node on it\n", dir, f->node, f->size, m.seq,
           m.epoch);
}

int cboot_fetch(struct cluster *cl, const char *dir)
{
    char path[4200], part[4200];
    struct stat st;
    struct fetch f = { .nc = cluster_nats(cl) };
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    snprintf(part, sizeof(part), "%s/data.mdb.part", dir);
    if (mkdir(dir, 0700) && errno != EEXIST) {
        fprintf(stderr, "hookd: cannot create '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    if (stat(path, &st) == 0) {
        fprintf(stderr, "hookd: '%s' already holds a store; bootstrap needs a new or empty "
                "data directory\n", dir);
        return 1;
    }
    if (ask_copy(&f))
        return 1;
    unlink(part);
    int fd = open(part, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        fprintf(stderr, "hookd: cannot create '%s': %s\n", part, strerror(errno));
        return 1;
    }
    int rc = fetch_into(&f, fd);
    close(fd);
    if (rc == 0 && rename(part, path)) {
        fprintf(stderr, "hookd: cannot rename '%s': %s\n", part, strerror(errno));
        rc = 1;
    }
    if (rc) {
        unlink(part);
        return 1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    say_done(dir, &f);
    return 0;
}
