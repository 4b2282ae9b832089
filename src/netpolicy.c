/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netpolicy.c - the SSRF policy (DESIGN.md, delivery step 5).
 *
 * Every range, refused or allowed, is an address of 4 or 16 bytes and a
 * prefix length, compared byte-wise: no string matching, so no spelling of
 * an address can slip past. The verdict is: allowed if the destination
 * matches an allow entry, else refused if it lies in a refused range, else
 * allowed. The allow-list can only open, never close.
 *
 * Some IPv6 addresses are only wrappers around an IPv4 destination:
 * IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), NAT64
 * (64:ff9b::/96) and 6to4 (2002::/16). Packets to them end up at the IPv4
 * address they carry, so that address is judged by the IPv4 rules, and an
 * allow entry in either form (127.0.0.0/8 or ::ffff:127.0.0.0/104) opens
 * it. :: and ::1 are not treated as IPv4-compatible: they are the
 * unspecified and loopback addresses in their own right.
 *
 * A handful of cloud metadata addresses sit inside broader refused ranges;
 * they have entries of their own only so the reason names them.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "netpolicy.h"

struct net {
    int family;           /* AF_INET: addr[0..3]; AF_INET6: addr[0..15] */
    unsigned prefix;
    unsigned char addr[16];
};

struct netpolicy {
    size_t nallow;
    struct net allow[];
};

struct range {
    unsigned char addr[16];
    unsigned prefix;
    const char *kind;     /* completes "is in %s range" */
};

/* First match wins, so the narrow metadata entries come first. */
static const struct range v4_refused[] = {
    { { 169, 254, 169, 254 }, 32, "the cloud metadata" },
    { { 100, 100, 100, 200 }, 32, "the cloud metadata" },
    { { 0 }, 8, "the \"this network\"" },
    { { 10 }, 8, "a private" },
    { { 100, 64 }, 10, "the shared (cgnat)" },
    { { 127 }, 8, "a loopback" },
    { { 169, 254 }, 16, "a link-local" },
    { { 172, 16 }, 12, "a private" },
    { { 192, 0, 0 }, 24, "a reserved" },
    { { 192, 0, 2 }, 24, "a documentation" },
    { { 192, 88, 99 }, 24, "the 6to4 relay" },
    { { 192, 168 }, 16, "a private" },
    { { 198, 18 }, 15, "a benchmarking" },
    { { 198, 51, 100 }, 24, "a documentation" },
    { { 203, 0, 113 }, 24, "a documentation" },
    { { 224 }, 4, "a multicast" },
    { { 240 }, 4, "a reserved" },
};

static const struct range v6_refused[] = {
    { { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 }, 128, "the cloud metadata" },
    { { 0 }, 128, "the unspecified" },
    { { [15] = 1 }, 128, "a loopback" },
    { { 0x01, 0x00 }, 64, "a discard-only" },
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, "a documentation" },
    { { 0xfc }, 7, "a unique-local" },
    { { 0xfe, 0x80 }, 10, "a link-local" },
    { { 0xfe, 0xc0 }, 10, "a site-local" },
    { { 0xff }, 8, "a multicast" },
};

/* IPv6 ranges whose addresses carry an IPv4 destination at byte offset. */
static const struct carrier {
    unsigned char addr[16];
    unsigned prefix;
    unsigned offset;
    const char *name;
} carriers[] = {
    { { [10] = 0xff, [11] = 0xff }, 96, 12, "ipv4-mapped" },
    { { 0x00, 0x64, 0xff, 0x9b }, 96, 12, "nat64" },
    { { 0x20, 0x02 }, 16, 2, "6to4" },
    { { 0 }, 96, 12, "ipv4-compatible" },
};

static int prefix_match(const unsigned char *net, unsigned prefix, const unsigned char *a)
{
    unsigned full = prefix / 8, rest = prefix % 8;

    if (memcmp(net, a, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net[full] & mask) == (a[full] & mask);
}

static void format_range(const unsigned char *addr, unsigned prefix, int family, char *out,
                         size_t outlen)
{
    char s[INET6_ADDRSTRLEN];

    inet_ntop(family, addr, s, sizeof(s));
    snprintf(out, outlen, "%s/%u", s, prefix);
}

/* The IPv4 address a6 carries, or NULL; writes it to v4. */
static const char *embedded_v4(const unsigned char a6[16], unsigned char v4[4])
{
    static const unsigned char zero[16];

    /* :: and ::1 are themselves, not 0.0.0.0 and 0.0.0.1 */
    if (memcmp(a6, zero, 15) == 0 && a6[15] <= 1)
        return NULL;
    for (size_t i = 0; i < sizeof(carriers) / sizeof(carriers[0]); i++) {
        const struct carrier *c = &carriers[i];
        if (prefix_match(c->addr, c->prefix, a6)) {
            memcpy(v4, a6 + c->offset, 4);
            return c->name;
        }
    }
    return NULL;
}

static const struct range *find_range(const struct range *r, size_t n, const unsigned char *a)
{
    for (size_t i = 0; i < n; i++)
        if (prefix_match(r[i].addr, r[i].prefix, a))
            return &r[i];
    return NULL;
}

static int allow_match(const struct netpolicy *p, int family, const unsigned char *a)
{
    for (size_t i = 0; i < p->nallow; i++)
        if (p->allow[i].family == family &&
            prefix_match(p->allow[i].addr, p->allow[i].prefix, a))
            return 1;
    return 0;
}

/* An IPv4 destination, matched as itself and as ::ffff:a.b.c.d. */
static int allow_match_v4(const struct netpolicy *p, const unsigned char v4[4])
{
    unsigned char mapped[16] = { [10] = 0xff, [11] = 0xff };

    memcpy(mapped + 12, v4, 4);
    return allow_match(p, AF_INET, v4) || allow_match(p, AF_INET6, mapped);
}

static int refuse(char *why, size_t whylen, const char *shown, const char *via,
                  const unsigned char *v4, const struct range *r, int family)
{
    char rs[INET6_ADDRSTRLEN + 8], v4s[INET_ADDRSTRLEN];

    if (!why || whylen == 0)
        return HOOKD_EINVAL;
    format_range(r->addr, r->prefix, family, rs, sizeof(rs));
    if (via) {
        inet_ntop(AF_INET, v4, v4s, sizeof(v4s));
        snprintf(why, whylen, "address %s (%s %s) is in %s range (%s)", shown, via, v4s,
                 r->kind, rs);
    } else {
        snprintf(why, whylen, "address %s is in %s range (%s)", shown, r->kind, rs);
    }
    return HOOKD_EINVAL;
}

static int check_v4(const struct netpolicy *p, const unsigned char v4[4], char *why,
                    size_t whylen)
{
    const struct range *r;
    char shown[INET_ADDRSTRLEN];

    if (allow_match_v4(p, v4))
        return 0;
    r = find_range(v4_refused, sizeof(v4_refused) / sizeof(v4_refused[0]), v4);
    if (!r)
        return 0;
    inet_ntop(AF_INET, v4, shown, sizeof(shown));
    return refuse(why, whylen, shown, NULL, NULL, r, AF_INET);
}

static int check_v6(const struct netpolicy *p, const unsigned char a6[16], char *why,
                    size_t whylen)
{
    unsigned char v4[4];
    const char *via = embedded_v4(a6, v4);
    const struct range *r;
    char shown[INET6_ADDRSTRLEN];

    if (allow_match(p, AF_INET6, a6) || (via && allow_match_v4(p, v4)))
        return 0;
    inet_ntop(AF_INET6, a6, shown, sizeof(shown));
    r = find_range(v6_refused, sizeof(v6_refused) / sizeof(v6_refused[0]), a6);
    if (r)
        return refuse(why, whylen, shown, NULL, NULL, r, AF_INET6);
    if (!via)
        return 0;
    r = find_range(v4_refused, sizeof(v4_refused) / sizeof(v4_refused[0]), v4);
    if (!r)
        return 0;
    return refuse(why, whylen, shown, via, v4, r, AF_INET);
}

int netpolicy_check(const struct netpolicy *p, const struct sockaddr *sa, char *why,
                    size_t whylen)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        return check_v4(p, (const unsigned char *)&sin->sin_addr, why, whylen);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        return check_v6(p, sin6->sin6_addr.s6_addr, why, whylen);
    }
    if (why && whylen)
        snprintf(why, whylen, "address family %d is not ipv4 or ipv6", (int)sa->sa_family);
    return HOOKD_EINVAL;
}

static int bad_net(char *err, size_t errlen, const char *entry, size_t len, const char *detail)
{
    if (err && errlen)
        snprintf(err, errlen, "invalid network '%.*s' in allow-network (%s)", (int)len, entry,
                 detail);
    return HOOKD_EINVAL;
}

/* Parses one trimmed entry "addr[/len]" of len bytes into n. */
static int parse_net(const char *entry, size_t len, struct net *n, char *err, size_t errlen)
{
    char tmp[INET6_ADDRSTRLEN + 8];
    char *slash;
    unsigned max;

    if (len >= sizeof(tmp))
        return bad_net(err, errlen, entry, len, "not an ipv4 or ipv6 address");
    memcpy(tmp, entry, len);
    tmp[len] = '\0';
    slash = strchr(tmp, '/');
    if (slash)
        *slash = '\0';
    memset(n, 0, sizeof(*n));
    if (inet_pton(AF_INET, tmp, n->addr) == 1)
        n->family = AF_INET, max = 32;
    else if (inet_pton(AF_INET6, tmp, n->addr) == 1)
        n->family = AF_INET6, max = 128;
    else
        return bad_net(err, errlen, entry, len, "not an ipv4 or ipv6 address");
    n->prefix = max;
    if (slash) {
        const char *d = slash + 1;
        size_t nd = strlen(d);
        unsigned v = 0;
        if (nd == 0 || nd > 3 || strspn(d, "0123456789") != nd)
            return bad_net(err, errlen, entry, len,
                           max == 32 ? "prefix length must be 0-32" : "prefix length must be 0-128");
        for (size_t i = 0; i < nd; i++)
            v = v * 10 + (unsigned)(d[i] - '0');
        if (v > max)
            return bad_net(err, errlen, entry, len,
                           max == 32 ? "prefix length must be 0-32" : "prefix length must be 0-128");
        n->prefix = v;
    }
    return 0;
}

/* 0 when n has no bits set past its prefix; else writes the fixed network to hint. */
static int host_bits(const struct net *n, char *hint, size_t hintlen)
{
    struct net m = *n;
    size_t bytes = n->family == AF_INET ? 4 : 16;

    for (size_t i = 0; i < bytes; i++) {
        unsigned keep = n->prefix > 8 * i ? n->prefix - 8 * i : 0;
        unsigned char mask = keep >= 8 ? 0xff : (unsigned char)(0xff << (8 - keep));
        m.addr[i] &= mask;
    }
    if (memcmp(m.addr, n->addr, bytes) == 0)
        return 0;
    format_range(m.addr, m.prefix, m.family, hint, hintlen);
    return 1;
}

int netpolicy_new(struct netpolicy **out, const char *allow, char *err, size_t errlen)
{
    size_t cap = 1;
    struct netpolicy *p;
    const char *s = allow ? allow : "";

    for (const char *c = s; *c; c++)
        cap += *c == ',';
    p = xcalloc(1, sizeof(*p) + cap * sizeof(p->allow[0]));
    while (*s) {
        const char *end = strchr(s, ',');
        const char *next = end ? end + 1 : s + strlen(s);
        if (!end)
            end = next;
        while (s < end && isspace((unsigned char)*s))
            s++;
        while (end > s && isspace((unsigned char)end[-1]))
            end--;
        if (end > s) {
            struct net *n = &p->allow[p->nallow];
            char hint[INET6_ADDRSTRLEN + 8], detail[sizeof(hint) + 48];
            if (parse_net(s, (size_t)(end - s), n, err, errlen) != 0)
                goto free_policy;
            if (host_bits(n, hint, sizeof(hint))) {
                snprintf(detail, sizeof(detail), "host bits set; did you mean '%s'?", hint);
                bad_net(err, errlen, s, (size_t)(end - s), detail);
                goto free_policy;
            }
            p->nallow++;
        }
        s = next;
    }
    *out = p;
    return 0;

free_policy:
    free(p);
    return HOOKD_EINVAL;
}

void netpolicy_free(struct netpolicy *p)
{
    free(p);
}

static int digit_value(char c, unsigned base)
{
    unsigned v;

    if (c >= '0' && c <= '9')
        v = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
        v = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
        v = (unsigned)(c - 'A' + 10);
    else
        return -1;
    return v < base ? (int)v : -1;
}

/* One inet_aton part at *sp: decimal, 0-octal or 0x-hex, at most 2^32-1. */
static int aton_part(const char **sp, unsigned long *out)
{
    const char *s = *sp;
    unsigned base = 10;
    unsigned long v = 0;
    int d;

    if (!isdigit((unsigned char)*s))
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (digit_value(*s, 16) < 0)
            return -1;
    } else if (s[0] == '0') {
        base = 8;
    }
    for (; (d = digit_value(*s, base)) >= 0; s++) {
        v = v * base + (unsigned)d;
        if (v > 0xffffffffUL)
            return -1;
    }
    *sp = s;
    *out = v;
    return 0;
}

/* Whether s is an IPv4 address in the classic inet_aton grammar. */
static int aton_like(const char *s)
{
    static const unsigned long last_max[] = { 0xffffffffUL, 0xffffffUL, 0xffffUL, 0xffUL };
    unsigned long part;
    int n = 0;

    for (;;) {
        if (aton_part(&s, &part) != 0)
            return 0;
        if (*s != '.')
            break;
        if (s[1] == '\0') {     /* one trailing dot, as in a fully qualified name */
            s++;
            break;
        }
        if (n == 3 || part > 0xff)
            return 0;
        n++;
        s++;
    }
    if (*s != '\0' && !isspace((unsigned char)*s))
        return 0;
    return part <= last_max[n];
}

int netpolicy_is_literal_trick(const char *host)
{
    struct in_addr a;

    if (!host || inet_pton(AF_INET, host, &a) == 1)
        return 0;
    return aton_like(host);
}

/* Copies the percent-decoded host of url into host; 0, or -1 when there is none. */
static int url_host(const char *url, char *host, size_t cap)
{
    const char *s = strstr(url, "://"), *end, *at;
    size_t n = 0;

    if (!s)
        return -1;
    s += 3;
    end = s + strcspn(s, "/?#\\");
    at = memrchr(s, '@', (size_t)(end - s));
    if (at)
        s = at + 1;
    if (*s == '[')
        return -1;      /* an IPv6 literal: inet_pton grammar, nothing to sneak */
    for (; s < end && *s != ':' && n + 1 < cap; s++) {
        int hi, lo;
        if (*s == '%' && s + 2 < end && (hi = digit_value(s[1], 16)) >= 0
            && (lo = digit_value(s[2], 16)) >= 0) {
            host[n++] = (char)(hi * 16 + lo);
            s += 2;
        } else {
            host[n++] = *s;
        }
    }
    host[n] = '\0';
    return n ? 0 : -1;
}

int netpolicy_check_url(const char *url, char *why, size_t whylen)
{
    char host[256], plain[256], canon[INET_ADDRSTRLEN];
    struct in_addr a;
    size_t n;

    if (!url || url_host(url, host, sizeof(host)) || !netpolicy_is_literal_trick(host))
        return 0;
    if (!why || whylen == 0)
        return HOOKD_EINVAL;
    snprintf(plain, sizeof(plain), "%s", host);
    n = strlen(plain);
    if (n && plain[n - 1] == '.')
        plain[n - 1] = '\0';   /* inet_aton() does not take the trailing dot */
    if (inet_aton(plain, &a) && inet_ntop(AF_INET, &a, canon, sizeof(canon)))
        snprintf(why, whylen,
                 "url host '%.64s' is a non-canonical spelling of the ipv4 address %s; "
                 "write it as %s", host, canon, canon);
    else
        snprintf(why, whylen, "url host '%.64s' is a non-canonical spelling of an ipv4 address",
                 host);
    return HOOKD_EINVAL;
}
