/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0065-conntimer - the wake-up of a connection whose request sits unread.
 *
 * A real TCP pair on loopback, the server end in an edge-triggered epoll
 * set as libmicrohttpd keeps it. The client writes a request; the epoll
 * reports it once and, edge-triggered, never again while nobody reads:
 * that is a missed read event. The timer, with the connection waiting for
 * its request, must make the kernel report it again within about a
 * second; a connection with nothing unread, or one whose request line
 * has come, must be left alone.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conntimer.h"
#include "log.h"
#include "tap/tap.h"

/* A connected pair on 127.0.0.1: *cl the client end, *sv the server end. */
static int tcp_pair(int *cl, int *sv)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4)
        || getsockname(l, (struct sockaddr *)&a, &len))
        return -1;
    *cl = socket(AF_INET, SOCK_STREAM, 0);
    if (*cl < 0 || connect(*cl, (struct sockaddr *)&a, sizeof(a)))
        return -1;
    *sv = accept(l, NULL, NULL);
    close(l);
    return *sv < 0 ? -1 : 0;
}

/* EPOLLIN events for fd within ms milliseconds. */
static int readable(int ep, int ms)
{
    struct epoll_event ev[4];
    int n = epoll_wait(ep, ev, 4, ms), in = 0;
    for (int i = 0; i < n; i++)
        in += (ev[i].events & EPOLLIN) != 0;
    return in;
}

/* One connection: its pair, its epoll set, its timer entry. */
struct conn {
    int cl, sv, ep;
    struct conntimer_conn *tc;
};

static int conn_open(struct conntimer *t, struct conn *c)
{
    if (tcp_pair(&c->cl, &c->sv))
        return -1;
    c->ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
    if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->sv, &ev))
        return -1;
    c->tc = conntimer_open(t, c->sv);
    return 0;
}

static void conn_close(struct conntimer *t, struct conn *c)
{
    conntimer_close(t, c->tc);
    close(c->ep);
    close(c->sv);
    close(c->cl);
}

/*
 * The body deadline: a body still arriving body_ms after its headers has
 * its socket shut down (the client reads the end of the stream); one that
 * is complete is not.
 */
static void body_deadline(void)
{
    struct conntimer *t;
    struct conn slow, done;
    char b;
    conntimer_new(&t, 30000, 10000, 500);
    ok(conntimer_start(t) == 0 && conn_open(t, &slow) == 0 && conn_open(t, &done) == 0,
       "a timer with a 500 ms body deadline, two connections");
    conntimer_request_line(slow.tc);
    conntimer_headers_done(slow.tc);
    conntimer_request_line(done.tc);
    conntimer_headers_done(done.tc);
    conntimer_body_done(done.tc);
    usleep(1000 * 1000);
    ok(recv(slow.cl, &b, 1, MSG_DONTWAIT) == 0, "a body not complete in time is cut");
    ok(recv(done.cl, &b, 1, MSG_DONTWAIT) < 0, "a complete one is left alone");
    conn_close(t, &slow);
    conn_close(t, &done);
    conntimer_free(t);
}

int main(void)
{
    static const char req[] = "POST /api/v1/app/a/msg HTTP/1.1\r\nHost: x\r\n\r\n";
    struct conntimer *t;
    struct conn unread, quiet, started;
    log_open("error", "logfmt", NULL);   /* the timer's "woken" line is expected here */
    conntimer_new(&t, 30000, 10000, 30000);
    ok(conntimer_start(t) == 0, "the timer starts");
    ok(conn_open(t, &unread) == 0 && conn_open(t, &quiet) == 0 && conn_open(t, &started) == 0,
       "three loopback connections in edge-triggered epoll sets");

    ok(write(unread.cl, req, strlen(req)) == (ssize_t)strlen(req), "a request is sent");
    ok(readable(unread.ep, 1000) == 1, "epoll reports it once");
    ok(readable(unread.ep, 300) == 0, "and not again while it sits unread (the missed event)");
    ok(write(started.cl, req, strlen(req)) > 0 && readable(started.ep, 1000) == 1,
       "a second connection's request is reported too");
    conntimer_request_line(started.tc);   /* its reader has taken the request line */
    readable(quiet.ep, 0);

    ok(readable(unread.ep, 2500) == 1, "the timer makes epoll report the unread request again");
    /* the timer counts a wake-up just after the setsockopt that epoll reported */
    for (int i = 0; i < 100 && conntimer_woken(t) == 0; i++)
        usleep(10 * 1000);
    is_int((long long)conntimer_woken(t), 1, "one connection woken");
    ok(readable(quiet.ep, 0) == 0, "a connection with nothing unread is left alone");
    ok(readable(started.ep, 0) == 0, "and so is one whose request line has come");
    ok(readable(unread.ep, 600) == 0, "no second wake-up within the second");

    char buf[256];
    ok(read(unread.sv, buf, sizeof(buf)) == (ssize_t)strlen(req), "the request is all there to read");
    conntimer_request_done(unread.tc);
    usleep(1600 * 1000);
    is_int((long long)conntimer_woken(t), 1, "once read, nothing more is woken");

    conn_close(t, &unread);
    conn_close(t, &quiet);
    conn_close(t, &started);
    conntimer_stop(t);
    conntimer_free(t);
    body_deadline();
    return done_testing();
}
