/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rawhttp.c - send bytes to an HTTP server exactly as given and show what
 * comes back, for the framing tests (t0455). curl cannot send two
 * Content-Length headers or stop after the headers of a request that
 * promises a body; this can.
 *
 *   rawhttp --connect HOST:PORT [--wait-ms MS] < request
 *
 * Sends stdin (at most 1 MiB) in one go, then reads whatever the server
 * answers until it closes the connection or MS ms (default 3000) have
 * passed, and writes those bytes to stdout. One line goes to stderr:
 *
 *   closed=C ms=T bytes=N
 *
 * closed is 1 when the server ended the connection (end of stream or a
 * reset), 0 when it was still open at the end; ms is when that happened
 * (or the wait ran out). Loopback tests only.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define REQ_MAX (1 << 20)

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    if (!colon || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    a->sin_port = htons((unsigned short)atoi(colon + 1));
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static size_t read_stdin(char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len < cap && (n = read(0, buf + len, cap - len)) > 0)
        len += (size_t)n;
    return len;
}

/* Read until the server closes or the deadline; 1 when it closed. */
static int relay_answer(int fd, long long end, size_t *total)
{
    char buf[65536];
    for (;;) {
        long long left = end - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            return 1;
        fwrite(buf, 1, (size_t)n, stdout);
        *total += (size_t)n;
    }
}

int main(int argc, char **argv)
{
    const char *target = NULL;
    long wait_ms = 3000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--connect"))
            target = argv[i + 1];
        else if (!strcmp(argv[i], "--wait-ms"))
            wait_ms = atol(argv[i + 1]);
    }
    struct sockaddr_in to;
    if (!target || parse_addr(target, &to) || wait_ms < 1 || wait_ms > 600000) {
        fprintf(stderr, "usage: rawhttp --connect HOST:PORT [--wait-ms MS] < request\n");
        return 2;
    }
    char *req = malloc(REQ_MAX);
    if (!req)
        return 2;
    size_t len = read_stdin(req, REQ_MAX);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to))) {
        perror("rawhttp: connect");
        return 1;
    }
    long long start = now_ms();
    size_t sent = 0, total = 0;
    while (sent < len) {
        ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;   /* the server may refuse before taking it all */
        sent += (size_t)n;
    }
    int closed = relay_answer(fd, start + wait_ms, &total);
    fflush(stdout);
    fprintf(stderr, "closed=%d ms=%lld bytes=%zu\n", closed, now_ms() - start, total);
    close(fd);
    free(req);
    return 0;
}
