/* SPDX-License-Identifier: Apache-2.0 */
/*
 * badhttp.c - a TCP server that answers HTTP requests wrongly, for the
 * receiver-fault tests (t0420).
 *
 *   badhttp [--mode garbage|partial]
 *
 * listens on a free 127.0.0.1 port, prints it on stdout as one line, and
 * for every connection reads one request (headers and a Content-Length
 * body), then:
 *
 *   garbage   writes "HELLO\r\n\r\n" (not HTTP) and closes cleanly
 *   partial   writes a status line, headers promising 1000 bytes and the
 *             first few of them, then resets the connection (RST)
 *
 * One connection at a time, until killed. libmicrohttpd cannot be made to
 * answer like this, hence a raw socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define REQ_MAX (1 << 20)

static const char GARBAGE[] = "HELLO\r\n\r\n";
static const char PARTIAL[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: 1000\r\n\r\n{\"ok\":tr";

/* Read with a deadline: bytes read, 0 at EOF or timeout, -1 on error. */
static ssize_t read_some(int fd, char *p, size_t n)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    if (poll(&pfd, 1, 5000) <= 0)
        return 0;
    return read(fd, p, n);
}

/* Consume one request so that closing does not reset it early. */
static void read_request(int fd)
{
    char *buf = malloc(REQ_MAX + 1);
    size_t len = 0, want = 0;
    char *end = NULL;
    if (!buf)
        return;
    while (len < REQ_MAX) {
        ssize_t r = read_some(fd, buf + len, REQ_MAX - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            for (char *h = buf; h && h < end; h = strstr(h, "\r\n") ? strstr(h, "\r\n") + 2 : NULL)
                if (!strncasecmp(h, "content-length:", 15))
                    want = strtoul(h + 15, NULL, 10);
            want += (size_t)(end + 4 - buf);
        }
        if (end && len >= want)
            break;
    }
    free(buf);
}

static void answer(int fd, int partial)
{
    read_request(fd);
    const char *out = partial ? PARTIAL : GARBAGE;
    size_t n = strlen(out);
    if (write(fd, out, n) != (ssize_t)n)
        perror("badhttp: write");
    if (partial) {
        usleep(100000);   /* let the client read the start, then RST */
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    } else {
        shutdown(fd, SHUT_WR);
    }
    close(fd);
}

int main(int argc, char **argv)
{
    int partial = 0;
    if (argc == 3 && !strcmp(argv[1], "--mode") && !strcmp(argv[2], "partial"))
        partial = 1;
    else if (!(argc == 1 || (argc == 3 && !strcmp(argv[1], "--mode") && !strcmp(argv[2], "garbage")))) {
        fprintf(stderr, "usage: badhttp [--mode garbage|partial]\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 64)
        || getsockname(s, (struct sockaddr *)&a, &alen)) {
        perror("badhttp: listen");
        return 1;
    }
    printf("%u\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("badhttp: accept");
            return 1;
        }
        answer(c, partial);
    }
}
