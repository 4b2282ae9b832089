/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify.h - service-manager readiness (the sd_notify protocol, no library).
 *
 * systemd's Type=notify services tell the manager they are ready by
 * sending one datagram, "READY=1", to the AF_UNIX socket named in
 * $NOTIFY_SOCKET ('@' at the start means the abstract namespace). That is
 * the whole protocol hookd needs, so it is a dozen lines here rather than
 * a dependency on libsystemd.
 *
 * Call from the main thread (it reads the environment).
 */
#ifndef HOOKD_NOTIFY_H
#define HOOKD_NOTIFY_H

/*
 * Send state (for example "READY=1" or "STOPPING=1") to $NOTIFY_SOCKET.
 * Returns 0 when it was sent or when no manager asked for it ($NOTIFY_SOCKET
 * unset or empty); HOOKD_EINVAL for a socket name that is not an absolute
 * path or an abstract name, or a negated errno when sending failed. Never
 * prints: a failure is for the caller to log.
 */
int notify_send(const char *state);

#endif
