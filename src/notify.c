/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify.c - tell a service manager hookd is ready (see notify.h).
 *
 * "Ready" means what a client can rely on: the listener accepts and
 * DIR/listen names it, so `systemctl start hookd` returns only when the
 * API answers. The socket is opened, used once and closed; nothing stays
 * open for the life of the process.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "notify.h"

int notify_send(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    if (!path || !path[0])
        return 0;
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
        return HOOKD_EINVAL;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';   /* abstract namespace: no terminating NUL */
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    size_t n = strlen(state);
    ssize_t sent = sendto(fd, state, n, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    int rc = sent == (ssize_t)n ? 0 : sent < 0 ? -errno : -EIO;
    close(fd);
    return rc;
}
