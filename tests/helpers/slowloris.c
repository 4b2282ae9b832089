/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slowloris.c - a slow-loris client for t0450: many connections that
 * never finish a request, to show they cannot starve other clients.
 *
 *   slowloris --connect HOST:PORT [--bind ADDR] [--count N] [--seconds S]
 *             [--interval-ms MS] [--mode headers|line|idle|body]
 *             [--burst BYTES] [--token TOKEN]
 *
 * Opens N connections (from source address ADDR when given, so that a
 * per-address limit can tell this client apart from others on loopback)
 * and keeps each alive by sending one byte every MS ms (default 1000):
 *
 *   headers  the request line and a Host header at once, then a header
 *            trickled byte by byte, never ending (the classic attack)
 *   line     the request line itself trickled byte by byte
 *   idle     nothing at all
 *   body     complete headers of a message create promising a 1 MiB body
 *            (with "Authorization: Bearer TOKEN" when --token is given),
 *            then BYTES of the body at once (default 0), then the rest
 *            trickled, never ending
 *
 * It stops after S seconds (default 10) or when the server has closed
 * every connection, and prints one line:
 *
 *   opened=N refused=R cut=C open=O cut_min_ms=A cut_max_ms=B answered=W
 *
 * refused: the server closed it within 500 ms of the connect (or the
 * connect failed): a limit turned it away. cut: closed later, A and B ms
 * after its connect (-1 when none). open: still open at the end. answered:
 * those that got an HTTP status line before the end. Bounded: at most
 * 10000 connections for at most 600 s; loopback tests only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define REFUSED_MS 500

struct conn {
    int fd;
    long long opened_ms, closed_ms;   /* closed_ms -1 while open */
    size_t sent;
    size_t burst_left;                /* body mode: bytes still to send at once */
    int answered;                     /* an HTTP status line came back */
};

static char body_headers[512];
static char burst_buf[65536];

static const char HEADERS_START[] = "GET /api/v1/health HTTP/1.1\r\nHost: hookd\r\n";
static const char TRICKLE[] = "X-Slow-Loris: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(void)
{
    fprintf(stderr, "usage: slowloris --connect HOST:PORT [--bind ADDR] [--count N] "
                    "[--seconds S] [--interval-ms MS] [--mode headers|line|idle|body] "
                    "[--burst BYTES] [--token TOKEN]\n");
    return 2;
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

static void closed(struct conn *c, long long now)
{
    if (c->closed_ms >= 0)
        return;
    close(c->fd);
    c->fd = -1;
    c->closed_ms = now;
}

/* Body mode: as much of the burst as the socket takes now. */
static void burst(struct conn *c, long long now)
{
    while (c->burst_left && c->closed_ms < 0) {
        size_t n = c->burst_left < sizeof(burst_buf) ? c->burst_left : sizeof(burst_buf);
        ssize_t k = send(c->fd, burst_buf, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EAGAIN)
            return;
        if (k <= 0) {
            closed(c, now);
            return;
        }
        c->burst_left -= (size_t)k;
    }
}

/* One more byte of the request, never its end. */
static void trickle(struct conn *c, char mode, long long now)
{
    if (mode == 'b' && c->burst_left) {
        burst(c, now);
        return;
    }
    const char *src = mode == 'l' ? HEADERS_START : TRICKLE;
    size_t n = mode == 'l' ? sizeof(HEADERS_START) - 1 : sizeof(TRICKLE) - 1;
    char b = c->sent < n ? src[c->sent] : 'a';
    if (send(c->fd, &b, 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
        closed(c, now);
    else
        c->sent++;
}

/* Read whatever the server says; closed at its end of stream. */
static void drain(struct conn *c, long long now)
{
    char buf[4096];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            c->answered |= n >= 9 && memcmp(buf, "HTTP/1.1 ", 9) == 0;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        closed(c, now);
        return;
    }
}

static int open_conn(struct conn *c, const struct sockaddr_in *to, const struct sockaddr_in *from,
                     char mode, size_t burst_bytes)
{
    c->burst_left = burst_bytes;
    c->answered = 0;
    c->opened_ms = now_ms();
    c->closed_ms = -1;
    c->sent = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    if (from && bind(c->fd, (const struct sockaddr *)from, sizeof(*from)) < 0) {
        perror("slowloris: bind");
        return -1;
    }
    if (connect(c->fd, (const struct sockaddr *)to, sizeof(*to)) < 0) {
        closed(c, now_ms());
        return 0;
    }
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    if (mode == 'h' && send(c->fd, HEADERS_START, sizeof(HEADERS_START) - 1, MSG_NOSIGNAL) < 0)
        closed(c, now_ms());
    if (mode == 'b' && send(c->fd, body_headers, strlen(body_headers), MSG_NOSIGNAL) < 0)
        closed(c, now_ms());
    if (mode == 'b')
        burst(c, now_ms());
    return 0;
}

int main(int argc, char **argv)
{
    const char *target = NULL, *bind_addr = NULL, *token = NULL;
    long count = 10, seconds = 10, interval = 1000, burst_bytes = 0;
    char mode = 'h';
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--connect"))
            target = argv[i + 1];
        else if (!strcmp(argv[i], "--bind"))
            bind_addr = argv[i + 1];
        else if (!strcmp(argv[i], "--count"))
            count = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--interval-ms"))
            interval = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--mode"))
            mode = argv[i + 1][0];
        else if (!strcmp(argv[i], "--burst"))
            burst_bytes = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--token"))
            token = argv[i + 1];
        else
            return usage();
    }
    struct sockaddr_in to, from;
    if (!target || parse_addr(target, &to) || count < 1 || count > 10000 || seconds < 1
        || seconds > 600 || interval < 10 || !strchr("hlib", mode) || burst_bytes < 0
        || burst_bytes > 1000000 || (token && strlen(token) > 200))
        return usage();
    snprintf(body_headers, sizeof(body_headers),
             "POST /api/v1/app/l/msg HTTP/1.1\r\nHost: hookd\r\n"
             "Content-Type: application/json\r\nContent-Length: 1048576\r\n%s%s%s\r\n",
             token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
    memset(burst_buf, 'a', sizeof(burst_buf));
    if (bind_addr) {
        memset(&from, 0, sizeof(from));
        from.sin_family = AF_INET;
        if (inet_pton(AF_INET, bind_addr, &from.sin_addr) != 1)
            return usage();
    }

    struct conn *cs = calloc((size_t)count, sizeof(*cs));
    struct pollfd *pfd = calloc((size_t)count, sizeof(*pfd));
    if (!cs || !pfd)
        return 2;
    for (long i = 0; i < count; i++)
        if (open_conn(&cs[i], &to, bind_addr ? &from : NULL, mode, (size_t)burst_bytes))
            return 2;

    long long start = now_ms(), end = start + seconds * 1000, next = start + interval;
    for (;;) {
        long long now = now_ms();
        long live = 0;
        for (long i = 0; i < count; i++) {
            pfd[i].fd = cs[i].closed_ms < 0 ? cs[i].fd : -1;
            pfd[i].events = POLLIN;
            live += cs[i].closed_ms < 0;
        }
        if (!live || now >= end)
            break;
        long long until = next < end ? next : end;
        poll(pfd, (nfds_t)count, (int)(until > now ? until - now : 0));
        now = now_ms();
        for (long i = 0; i < count; i++)
            if (pfd[i].fd >= 0 && pfd[i].revents)
                drain(&cs[i], now);
        if (now >= next) {
            if (mode != 'i')
                for (long i = 0; i < count; i++)
                    if (cs[i].closed_ms < 0)
                        trickle(&cs[i], mode, now);
            next += interval;
        }
    }

    long refused = 0, cut = 0, open = 0, answered = 0;
    long long cut_min = -1, cut_max = -1;
    for (long i = 0; i < count; i++) {
        long long life = cs[i].closed_ms - cs[i].opened_ms;
        answered += cs[i].answered;
        if (cs[i].closed_ms < 0) {
            open++;
            close(cs[i].fd);
        } else if (life < REFUSED_MS) {
            refused++;
        } else {
            cut++;
            cut_min = cut_min < 0 || life < cut_min ? life : cut_min;
            cut_max = life > cut_max ? life : cut_max;
        }
    }
    printf("opened=%ld refused=%ld cut=%ld open=%ld cut_min_ms=%lld cut_max_ms=%lld answered=%ld\n",
           count, refused, cut, open, cut_min, cut_max, answered);
    free(cs);
    free(pfd);
    return 0;
}
