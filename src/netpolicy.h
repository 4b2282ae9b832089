/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netpolicy.h - the SSRF policy (DESIGN.md, delivery step 5).
 *
 * Destinations in private, loopback, link-local, unique-local, CGNAT,
 * multicast, reserved and cloud metadata ranges are refused unless an
 * allow-list (--allow-network) opens them. The check runs on the address
 * the name resolved to, and the worker then connects to exactly that
 * address, so a DNS answer cannot change between check and connect.
 * IPv4-mapped and IPv4-compatible IPv6 addresses are checked as the IPv4
 * address they carry.
 *
 * A struct netpolicy is built once at start-up and read-only afterwards:
 * any thread may call netpolicy_check().
 */
#ifndef HOOKD_NETPOLICY_H
#define HOOKD_NETPOLICY_H

#include <stddef.h>
#include <sys/socket.h>

struct netpolicy;

/*
 * allow: comma-separated CIDRs ("127.0.0.0/8,::1/128"), may be "" or NULL.
 * Whitespace around entries is ignored; a bare address means /32 or /128.
 * On a malformed entry returns HOOKD_EINVAL and writes a lowercase message
 * naming it to err ("invalid network '10.0.0.0/33' in allow-network
 * (...)"); *out is written only on success and the caller owns it.
 */
int netpolicy_new(struct netpolicy **out, const char *allow, char *err, size_t errlen);
/* Frees p; NULL is a no-op. */
void netpolicy_free(struct netpolicy *p);

/*
 * 0 when sa may be connected to; HOOKD_EINVAL when it is refused, with a
 * lowercase reason ("address 10.0.0.1 is in a private range (10.0.0.0/8)")
 * written to why.
 */
int netpolicy_check(const struct netpolicy *p, const struct sockaddr *sa, char *why,
                    size_t whylen);

/*
 * 1 when host is not a dotted quad that inet_pton() accepts, yet the
 * classic inet_aton() grammar, which getaddrinfo() and many URL parsers
 * follow, reads it as an IPv4 address: one to four parts in decimal,
 * 0-octal or 0x-hex with the last part filling the remaining bytes
 * ("2130706433", "0177.0.0.1", "0x7f.1", "127.1"), optionally with one
 * trailing dot or trailing whitespace. Such spellings are only ever used to
 * sneak past filters, so the worker refuses those URLs outright instead of
 * resolving them. 0 for names, canonical IPv4 and IPv6 literals, and NULL.
 * Pure; any thread.
 */
int netpolicy_is_literal_trick(const char *host);

/*
 * The same judgement on the host of a URL ("http://user@0177.0.0.1:80/x"):
 * userinfo, port, path and brackets are taken off and %XX escapes decoded
 * first. 0 when the host is a name or a canonical literal (or the URL has
 * no "scheme://"); HOOKD_EINVAL when it is a literal trick, with a
 * lowercase reason naming the host and its canonical form written to why
 * ("url host '0177.0.0.1' is a non-canonical spelling of the ipv4 address
 * 127.0.0.1; write it as 127.0.0.1"). The reason never quotes the userinfo.
 * Pure; any thread.
 */
int netpolicy_check_url(const char *url, char *why, size_t whylen);

#endif
