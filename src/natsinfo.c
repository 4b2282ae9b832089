/* SPDX-License-Identifier: Apache-2.0 */
/*
 * natsinfo.c - read a NATS server's INFO line (natsinfo.h).
 *
 * The line is "INFO {json}\r\n". A server that starts with a TLS
 * handshake (handshake_first, nats-server 2.10.4+) sends nothing in plain
 * text: the read times out and the caller says the version is unknown.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "natsinfo.h"

#define INFO_MAX 65536

/* Wait for fd to be ready for events until the deadline: 1, 0 on timeout. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - clock_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = { .fd = fd, .events = events };
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return 0;
    }
}

static int connect_one(const struct addrinfo *a, int64_t deadline, char *err, size_t errlen)
{
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS)
        soerr = errno;
    else if (!wait_fd(fd, POLLOUT, deadline))
        soerr = ETIMEDOUT;
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
        soerr = errno;
    if (!soerr)
        return fd;
    snprintf(err, errlen, "connect: %s", strerror(soerr));
    close(fd);
    return -1;
}

/* Read up to the first "\r\n" into buf (NUL-terminated): its length or -1. */
static int read_line(int fd, char *buf, size_t cap, int64_t deadline, char *err, size_t errlen)
{
    size_t n = 0;
    while (n + 1 < cap) {
        if (!wait_fd(fd, POLLIN, deadline)) {
            snprintf(err, errlen, "no INFO line from the server (not a NATS client port?)");
            return -1;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "the server closed the connection before its INFO line");
            return -1;
        }
        n += (size_t)r;
        buf[n] = '\0';
        char *crlf = strstr(buf, "\r\n");
        if (crlf) {
            *crlf = '\0';
            return (int)(crlf - buf);
        }
    }
    snprintf(err, errlen, "INFO line longer than %d bytes", INFO_MAX);
    return -1;
}

static void copy_str(json_t *o, const char *key, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(out, cap, "%s", s ? s : "");
}

static int parse_info(const char *line, struct natsinfo *out, char *err, size_t errlen)
{
    if (strncmp(line, "INFO ", 5) != 0) {
        snprintf(err, errlen, "the server's first line is not INFO (not a NATS server?)");
        return -1;
    }
    json_t *o = json_loads(line + 5, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        snprintf(err, errlen, "the server's INFO line is not JSON");
        return -1;
    }
    copy_str(o, "server_id", out->server_id, sizeof(out->server_id));
    copy_str(o, "server_name", out->server_name, sizeof(out->server_name));
    copy_str(o, "version", out->version, sizeof(out->version));
    copy_str(o, "cluster", out->cluster, sizeof(out->cluster));
    out->jetstream = json_is_true(json_object_get(o, "jetstream"));
    out->tls_required = json_is_true(json_object_get(o, "tls_required"));
    out->max_payload = json_integer_value(json_object_get(o, "max_payload"));
    json_decref(o);
    return 0;
}

int natsinfo_probe(const char *host, int port, int timeout_ms, struct natsinfo *out,
                   char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    char service[16];
    memset(out, 0, sizeof(*out));
    snprintf(service, sizeof(service), "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    rc = -1;
    for (struct addrinfo *a = res; a && rc; a = a->ai_next) {
        int64_t deadline = clock_now_ms() + timeout_ms;
        int fd = connect_one(a, deadline, err, errlen);
        if (fd < 0)
            continue;
        static __thread char line[INFO_MAX];
        if (read_line(fd, line, sizeof(line), deadline, err, errlen) >= 0)
            rc = parse_info(line, out, err, errlen);
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

int natsinfo_version_at_least(const char *version, int major, int minor)
{
    int ma = 0, mi = 0;
    if (sscanf(version, "%d.%d", &ma, &mi) != 2)
        return 0;
    return ma > major || (ma == major && mi >= minor);
}
