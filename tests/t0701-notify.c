/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0701-notify: the sd_notify datagram, to a path socket and to an
 * abstract one, and the quiet no-op when no service manager asked.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "notify.h"
#include "tap/tap.h"

/* A datagram socket bound to name ('@' = abstract); -1 on failure. */
static int listener(const char *name)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t len = strlen(name);
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct timeval tv = { .tv_sec = 2 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(fd, (struct sockaddr *)&sa,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len))) {
        close(fd);
        return -1;
    }
    return fd;
}

static void expect(const char *name, const char *what)
{
    char buf[64] = "";
    int fd = listener(name);
    ok(fd >= 0, "bind %s socket", what);
    setenv("NOTIFY_SOCKET", name, 1);
    is_int(notify_send("READY=1"), 0, "notify_send to the %s socket", what);
    ssize_t n = fd >= 0 ? recv(fd, buf, sizeof(buf) - 1, 0) : -1;
    buf[n > 0 ? n : 0] = '\0';
    is_str(buf, "READY=1", "the %s socket received READY=1", what);
    if (fd >= 0)
        close(fd);
}

int main(void)
{
    char dir[] = "/tmp/hookd-notify.XXXXXX", path[128], abstract[64];

    if (!mkdtemp(dir))
        tap_skip_all("cannot make a temporary directory");
    snprintf(path, sizeof(path), "%s/notify", dir);
    snprintf(abstract, sizeof(abstract), "@hookd-test-notify-%ld", (long)getpid());

    unsetenv("NOTIFY_SOCKET");
    is_int(notify_send("READY=1"), 0, "no NOTIFY_SOCKET: nothing to do");
    setenv("NOTIFY_SOCKET", "", 1);
    is_int(notify_send("READY=1"), 0, "empty NOTIFY_SOCKET: nothing to do");
    setenv("NOTIFY_SOCKET", "relative/name", 1);
    is_int(notify_send("READY=1"), HOOKD_EINVAL, "relative socket name refused");

    expect(path, "path");
    expect(abstract, "abstract");

    unlink(path);
    setenv("NOTIFY_SOCKET", path, 1);
    ok(notify_send("READY=1") < 0, "a socket nobody listens on is an error");
    rmdir(dir);
    return done_testing();
}
