/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0040-netpolicy: the SSRF policy - every refused range from inside and
 * just outside, IPv6 wrappers around IPv4 destinations, the allow-list and
 * its parse errors, and detection of non-canonical IPv4 literals.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "err.h"
#include "netpolicy.h"
#include "tap/tap.h"

static char why[256];

static int check(const struct netpolicy *p, const char *addr)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

    memset(&ss, 0, sizeof(ss));
    why[0] = '\0';
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
        sin->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1)
        sin6->sin6_family = AF_INET6;
    else
        diag("test bug: '%s' is not an address", addr);
    return netpolicy_check(p, (struct sockaddr *)&ss, why, sizeof(why));
}

static void refused(const struct netpolicy *p, const char *addr, const char *range)
{
    char want[64], shown[INET6_ADDRSTRLEN];
    unsigned char a6[16];
    int rc = check(p, addr);

    snprintf(want, sizeof(want), "(%s)", range);
    snprintf(shown, sizeof(shown), "%s", addr);
    if (inet_pton(AF_INET6, addr, a6) == 1)     /* reasons use the canonical form */
        inet_ntop(AF_INET6, a6, shown, sizeof(shown));
    ok(rc == HOOKD_EINVAL && strstr(why, want) && strncmp(why + 8, shown, strlen(shown)) == 0,
       "%s refused as in %s: %s", addr, range, why);
}

static void allowed(const struct netpolicy *p, const char *addr)
{
    is_int(check(p, addr), 0, "%s allowed %s", addr, why);
}

static struct netpolicy *policy(const char *allow)
{
    struct netpolicy *p = NULL;
    char err[256] = "";

    if (netpolicy_new(&p, allow, err, sizeof(err)) != 0)
        diag("netpolicy_new('%s'): %s", allow ? allow : "(null)", err);
    return p;
}

static void test_refused_ranges(const struct netpolicy *p)
{
    static const struct { const char *in, *out, *range; } v4[] = {
        { "0.1.2.3", "1.0.0.1", "0.0.0.0/8" },
        { "10.1.2.3", "11.0.0.1", "10.0.0.0/8" },
        { "100.64.0.1", "100.63.255.255", "100.64.0.0/10" },
        { "100.127.255.255", "100.128.0.0", "100.64.0.0/10" },
        { "127.0.0.1", "128.0.0.1", "127.0.0.0/8" },
        { "127.255.255.254", "126.255.255.255", "127.0.0.0/8" },
        { "169.254.1.1", "169.255.0.1", "169.254.0.0/16" },
        { "172.16.0.1", "172.15.255.255", "172.16.0.0/12" },
        { "172.31.255.255", "172.32.0.0", "172.16.0.0/12" },
        { "192.0.0.8", "192.0.1.1", "192.0.0.0/24" },
        { "192.0.2.1", "192.0.3.1", "192.0.2.0/24" },
        { "192.88.99.1", "192.88.98.1", "192.88.99.0/24" },
        { "192.168.1.1", "192.169.0.1", "192.168.0.0/16" },
        { "198.18.0.1", "198.17.255.255", "198.18.0.0/15" },
        { "198.19.255.255", "198.20.0.1", "198.18.0.0/15" },
        { "198.51.100.7", "198.51.101.1", "198.51.100.0/24" },
        { "203.0.113.9", "203.0.114.1", "203.0.113.0/24" },
        { "224.0.0.1", "223.255.255.255", "224.0.0.0/4" },
        { "239.255.255.255", NULL, "224.0.0.0/4" },
        { "240.0.0.1", NULL, "240.0.0.0/4" },
        { "255.255.255.255", NULL, "240.0.0.0/4" },
        { "::", NULL, "::/128" },
        { "::1", NULL, "::1/128" },
        { "100::1", "100:0:0:1::1", "100::/64" },
        { "2001:db8::1", "2001:db9::1", "2001:db8::/32" },
        { "fc00::1", "fbff::1", "fc00::/7" },
        { "fdff:ffff::1", "fe00::1", "fc00::/7" },
        { "fe80::1", "fe7f::1", "fe80::/10" },
        { "febf::1", NULL, "fe80::/10" },
        { "fec0::1", NULL, "fec0::/10" },
        { "feff::1", NULL, "fec0::/10" },
        { "ff02::1", NULL, "ff00::/8" },
    };

    for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        refused(p, v4[i].in, v4[i].range);
        if (v4[i].out)
            allowed(p, v4[i].out);
    }
    check(p, "10.1.2.3");
    is_str(why, "address 10.1.2.3 is in a private range (10.0.0.0/8)", "reason wording");
}

static void test_public_and_metadata(const struct netpolicy *p)
{
    allowed(p, "8.8.8.8");
    allowed(p, "1.1.1.1");
    allowed(p, "2606:4700::1111");
    allowed(p, "2a00:1450:4001:80b::200e");

    refused(p, "169.254.169.254", "169.254.169.254/32");
    ok(strstr(why, "metadata") != NULL, "metadata reason names it: %s", why);
    refused(p, "fd00:ec2::254", "fd00:ec2::254/128");
    ok(strstr(why, "metadata") != NULL, "aws ipv6 metadata named: %s", why);
    refused(p, "100.100.100.200", "100.100.100.200/32");
}

static void test_wrapped_v4(const struct netpolicy *p)
{
    refused(p, "::ffff:127.0.0.1", "127.0.0.0/8");
    refused(p, "::ffff:10.0.0.1", "10.0.0.0/8");
    is_str(why, "address ::ffff:10.0.0.1 (ipv4-mapped 10.0.0.1) is in a private range "
                "(10.0.0.0/8)", "mapped reason names the embedded address");
    refused(p, "::ffff:169.254.169.254", "169.254.169.254/32");
    allowed(p, "::ffff:8.8.8.8");

    refused(p, "::10.0.0.1", "10.0.0.0/8");
    refused(p, "::127.0.0.1", "127.0.0.0/8");
    allowed(p, "::8.8.8.8");

    refused(p, "64:ff9b::a00:1", "10.0.0.0/8");
    refused(p, "64:ff9b::7f00:1", "127.0.0.0/8");
    allowed(p, "64:ff9b::808:808");

    refused(p, "2002:0a00:0001::", "10.0.0.0/8");
    refused(p, "2002:a9fe:a9fe::1", "169.254.169.254/32");
    refused(p, "2002:7f00:1:ffff::1", "127.0.0.0/8");
    allowed(p, "2002:808:808::1");
}

static void test_allow_list(void)
{
    struct netpolicy *p = policy("127.0.0.0/8");

    ok(p != NULL, "allow 127.0.0.0/8 parses");
    allowed(p, "127.0.0.1");
    allowed(p, "127.255.0.9");
    allowed(p, "::ffff:127.0.0.1");
    allowed(p, "64:ff9b::7f00:1");
    refused(p, "10.0.0.1", "10.0.0.0/8");
    refused(p, "::1", "::1/128");
    refused(p, "::ffff:10.0.0.1", "10.0.0.0/8");
    netpolicy_free(p);

    p = policy("::1");
    ok(p != NULL, "bare ::1 parses");
    allowed(p, "::1");
    refused(p, "127.0.0.1", "127.0.0.0/8");
    refused(p, "::2", "0.0.0.0/8");  /* ipv4-compatible 0.0.0.2 */
    netpolicy_free(p);

    p = policy(" 127.0.0.0/8 ,\t::1/128 , ,");
    ok(p != NULL, "whitespace and empty entries tolerated");
    allowed(p, "127.0.0.1");
    allowed(p, "::1");
    refused(p, "10.0.0.1", "10.0.0.0/8");
    netpolicy_free(p);

    p = policy("::ffff:127.0.0.0/104");
    ok(p != NULL, "mapped-form allow parses");
    allowed(p, "127.0.0.1");
    allowed(p, "::ffff:127.0.0.1");
    refused(p, "10.0.0.1", "10.0.0.0/8");
    netpolicy_free(p);

    p = policy("10.1.2.3,fd00::/8");
    ok(p != NULL, "bare address and v6 network parse");
    allowed(p, "10.1.2.3");
    refused(p, "10.1.2.4", "10.0.0.0/8");
    allowed(p, "fd12::1");
    refused(p, "fc00::1", "fc00::/7");
    netpolicy_free(p);

    p = policy("0.0.0.0/0");
    allowed(p, "127.0.0.1");
    allowed(p, "169.254.169.254");
    refused(p, "fe80::1", "fe80::/10");
    netpolicy_free(p);

    p = policy(NULL);
    ok(p != NULL, "NULL allow-list");
    refused(p, "127.0.0.1", "127.0.0.0/8");
    netpolicy_free(p);
    netpolicy_free(NULL);
}

static void bad(const char *allow, const char *want)
{
    static char mark;
    struct netpolicy *sentinel = (struct netpolicy *)&mark, *p = sentinel;
    char err[256] = "";
    int rc = netpolicy_new(&p, allow, err, sizeof(err));

    ok(rc == HOOKD_EINVAL && p == sentinel && strncmp(err, want, strlen(want)) == 0,
       "'%s' rejected: %s", allow, err);
}

static void test_malformed(void)
{
    bad("10.0.0.0/33", "invalid network '10.0.0.0/33' in allow-network");
    bad("::/129", "invalid network '::/129' in allow-network");
    bad("10.0.0/8", "invalid network '10.0.0/8' in allow-network");
    bad("10.0.0.0/", "invalid network '10.0.0.0/' in allow-network");
    bad("/8", "invalid network '/8' in allow-network");
    bad("10.0.0.0/8x", "invalid network '10.0.0.0/8x' in allow-network");
    bad("10.0.0.0/-1", "invalid network '10.0.0.0/-1' in allow-network");
    bad("10.0.0.0/0008", "invalid network '10.0.0.0/0008' in allow-network");
    bad("example.com", "invalid network 'example.com' in allow-network");
    bad("0x7f.1/8", "invalid network '0x7f.1/8' in allow-network");
    bad("fe80::1%eth0", "invalid network 'fe80::1%eth0' in allow-network");
    bad("127.0.0.0/8, bogus ,::1", "invalid network 'bogus' in allow-network");
    bad("10.0.0.1/8", "invalid network '10.0.0.1/8' in allow-network (host bits set; "
                      "did you mean '10.0.0.0/8'?)");
    bad("fd00::1/8", "invalid network 'fd00::1/8' in allow-network (host bits set; "
                     "did you mean 'fd00::/8'?)");
    bad("10.0.0.0/33", "invalid network '10.0.0.0/33' in allow-network (prefix length "
                       "must be 0-32)");
}

static void test_edges(const struct netpolicy *p)
{
    struct sockaddr_un un;
    struct sockaddr_in sin;

    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    is_int(netpolicy_check(p, (struct sockaddr *)&un, why, sizeof(why)), HOOKD_EINVAL,
           "non-ip family refused: %s", why);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, "10.0.0.1", &sin.sin_addr);
    is_int(netpolicy_check(p, (struct sockaddr *)&sin, NULL, 0), HOOKD_EINVAL,
           "refusal without a reason buffer");
    is_int(netpolicy_check(p, (struct sockaddr *)&sin, why, 8), HOOKD_EINVAL,
           "refusal with a short reason buffer");
    is_int((int)strlen(why), 7, "short reason truncated");
}

static void test_literal_tricks(void)
{
    static const char *const tricks[] = {
        "2130706433", "0177.0.0.1", "0x7f000001", "127.1", "0x7f.1", "0x7F.0.0.1",
        "127.0.1", "017700000001", "0127.0.0.1", "127.0.0.01", "0", "10.1",
        "127.0.0.1.", "2130706433.", "0xa9fea9fe", "169.254.43518",
    };
    static const char *const fine[] = {
        "127.0.0.1", "8.8.8.8", "example.com", "::1", "2606:4700::1111", "::ffff:127.0.0.1",
        "localhost", "1e100.net", "0x", "08.0.0.1", "0x7g.1", "1.2.3.4.5", "4294967296",
        "256.0.0.1", "1.16777216", "127..1", ".127.0.0.1", "127.0.0.1..", "", "abc.0x7f",
        "127.0.0.1.example.com",
    };
    struct in_addr a;

    for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++)
        is_int(netpolicy_is_literal_trick(tricks[i]), 1, "'%s' is a literal trick", tricks[i]);
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
        is_int(netpolicy_is_literal_trick(fine[i]), 0, "'%s' is not flagged", fine[i]);
    is_int(netpolicy_is_literal_trick(NULL), 0, "NULL is not flagged");

    /* Our grammar agrees with libc's inet_aton() where libc has an opinion. */
    for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
        size_t n = strlen(tricks[i]);
        if (n && tricks[i][n - 1] == '.')
            continue;   /* trailing dot: we are stricter than inet_aton */
        ok(inet_aton(tricks[i], &a) != 0, "inet_aton accepts '%s' too", tricks[i]);
    }
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
        ok(inet_aton(fine[i], &a) == 0 || inet_pton(AF_INET, fine[i], &a) == 1,
           "inet_aton agrees '%s' is no trick", fine[i]);
    is_int(netpolicy_is_literal_trick("127.1 x"), inet_aton("127.1 x", &a) != 0,
           "trailing whitespace follows inet_aton");
}

static void test_check_url(void)
{
    static const char *const tricks[] = {
        "http://2130706433:8080/", "https://0177.0.0.1/x", "http://0x7f.0.0.1:1/",
        "http://127.1", "http://user:pw@127.1:80/p?q#f", "http://%31%32%37.1/",
        "http://0xa9fea9fe/latest/meta-data", "HTTP://127.0.0.1.:9/",
    };
    static const char *const fine[] = {
        "http://127.0.0.1:8080/", "http://[::ffff:127.0.0.1]:80/", "https://example.com/x",
        "http://localhost/", "http://1e100.net/", "http://127.0.0.1/0177.0.0.1",
        "http://ex.com/?h=127.1", "no-scheme", "http:///", "http://@/",
    };

    for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++)
        is_int(netpolicy_check_url(tricks[i], why, sizeof(why)), HOOKD_EINVAL,
               "'%s' refused: %s", tricks[i], why);
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
        is_int(netpolicy_check_url(fine[i], why, sizeof(why)), 0, "'%s' passes", fine[i]);
    netpolicy_check_url("http://0177.0.0.1:80/", why, sizeof(why));
    ok(strstr(why, "'0177.0.0.1'") && strstr(why, "write it as 127.0.0.1"),
       "the reason names the host and its canonical form: %s", why);
    netpolicy_check_url("http://alice:s3cret@2130706433/", why, sizeof(why));
    ok(!strstr(why, "s3cret") && !strstr(why, "alice"), "the reason leaves out the userinfo");
    is_int(netpolicy_check_url("http://127.1/", NULL, 0), HOOKD_EINVAL, "no reason buffer");
    is_int(netpolicy_check_url(NULL, why, sizeof(why)), 0, "NULL passes");
}

int main(void)
{
    struct netpolicy *p = policy("");

    ok(p != NULL, "empty allow-list");
    test_refused_ranges(p);
    test_public_and_metadata(p);
    test_wrapped_v4(p);
    test_edges(p);
    netpolicy_free(p);
    test_allow_list();
    test_malformed();
    test_literal_tricks();
    test_check_url();
    return done_testing();
}
