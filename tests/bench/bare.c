/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bare.c - the ingest benchmark's yardstick: libmicrohttpd with nothing
 * behind it.
 *
 * It runs libmicrohttpd exactly as hookd's listener does (internal epoll
 * threads, one per core, same backlog), reads each request body to the
 * end and answers 202 with a small JSON body, storing nothing. The ratio
 * of hookd's messages/s to this responder's requests/s on the same
 * machine, with the same wrk script, says how much of the HTTP layer's
 * ceiling the write path (validation, group commit, fsync) leaves us.
 *
 * With --suspend it also follows hookd's way of answering (DESIGN.md,
 * "Threads"): the handler suspends each request once its body is in and
 * queues it; a second thread, standing where hookd's writer stands, takes
 * the whole queue under one lock and resumes every request in it, and the
 * handler then answers 202. Nothing is stored or flushed, so this is the
 * ceiling of the design's HTTP model itself on this machine: what is
 * left when validation, the log and fsync cost nothing.
 *
 *   bare --listen 127.0.0.1:PORT [--suspend]     (PORT may be 0)
 *
 * prints the bound port on one line of stdout once it accepts
 * connections, and runs until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

static const char reply[] = "{\"id\":\"msg_bare\",\"eventType\":\"user.created\"}";

/* Per-request state: how much of the body we have read. */
struct req {
    size_t body_len;
    int resumed;                 /* --suspend: back from the queue, answer now */
    struct MHD_Connection *conn;
    struct req *next;            /* in the resume queue */
};

/* The responder; the resume queue is pushed by MHD's threads, popped by the resumer. */
struct bare {
    struct MHD_Response *resp;
    int suspend;
    pthread_mutex_t lock;        /* guards queue and stop */
    pthread_cond_t wake;
    struct req *queue;           /* LIFO, like hookd's writer queue */
    int stop;
    pthread_t resumer;
};

/* Park r until the resumer hands it back (hookd: submit an intent). */
static void park(struct bare *b, struct req *r, struct MHD_Connection *conn)
{
    r->conn = conn;
    MHD_suspend_connection(conn);
    pthread_mutex_lock(&b->lock);
    int was_empty = b->queue == NULL;
    r->next = b->queue;
    b->queue = r;
    pthread_mutex_unlock(&b->lock);
    if (was_empty)
        pthread_cond_signal(&b->wake);
}

/* Take everything queued at once and resume it (hookd: a commit's done()). */
static void *resumer_main(void *arg)
{
    struct bare *b = arg;
    pthread_mutex_lock(&b->lock);
    while (b->queue || !b->stop) {
        if (!b->queue) {
            pthread_cond_wait(&b->wake, &b->lock);
            continue;
        }
        struct req *list = b->queue;
        b->queue = NULL;
        pthread_mutex_unlock(&b->lock);
        for (struct req *r = list, *next; r; r = next) {
            next = r->next;
            r->resumed = 1;
            MHD_resume_connection(r->conn);
        }
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)url, (void)method, (void)version, (void)upload;
    struct bare *b = cls;
    struct req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        r->body_len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (b->suspend && !r->resumed) {
        park(b, r, conn);
        return MHD_YES;
    }
    r->resumed = 0;
    return MHD_queue_response(conn, 202, b->resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

/* "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    char host[64];
    size_t n = (size_t)(colon - s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof(host))
        return -1;
    memcpy(host, s, n);
    host[n] = '\0';
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((unsigned short)port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((unsigned short)port);
        return 0;
    }
    return -1;
}

static unsigned ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: bare --listen HOST:PORT [--suspend]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *listen = NULL;
    struct bare b = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--suspend") == 0)
            b.suspend = 1;
        else
            return usage();
    }
    struct sockaddr_storage ss;
    if (!listen || parse_listen(listen, &ss))
        return usage();

    /* Block the stop signals before any thread exists, then sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof(reply) - 1, (void *)reply, MHD_RESPMEM_PERSISTENT);
    if (!resp || MHD_add_response_header(resp, "Content-Type", "application/json") != MHD_YES) {
        fprintf(stderr, "bare: cannot create the response\n");
        return 1;
    }
    b.resp = resp;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (b.suspend) {
        flags |= MHD_ALLOW_SUSPEND_RESUME;
        if (pthread_create(&b.resumer, NULL, resumer_main, &b) != 0) {
            fprintf(stderr, "bare: cannot start the resumer thread\n");
            return 1;
        }
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, &b,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, ncpu(),
        MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bare: cannot listen on '%s': %s\n", listen, strerror(errno));
        MHD_destroy_response(resp);
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("%u\n", di ? (unsigned)di->port : 0u);
    fflush(stdout);

    int sig;
    while (sigwait(&set, &sig) != 0)
        ;
    if (b.suspend) {   /* resume what is queued before the daemon goes */
        pthread_mutex_lock(&b.lock);
        b.stop = 1;
        pthread_mutex_unlock(&b.lock);
        pthread_cond_signal(&b.wake);
        pthread_join(b.resumer, NULL);
    }
    MHD_stop_daemon(d);
    MHD_destroy_response(resp);
    return 0;
}
