/* test_nexthop.c: unit tests for lib/dns/nexthop: the smtp and lmtp next
 * hop forms (domain, domain:port, [host], [host]:port, address literals
 * of both families, service names, lmtp's inet: and unix:), what is
 * refused, and the printed form. */
#include <string.h>
#include <sys/socket.h>

#include "dns/nexthop.h"
#include "unit.h"

static struct nexthop hop;
static struct buf err = BUF_INIT;

static int smtp(const char *text)
{
    buf_reset(&err);
    return nexthop_parse_smtp(text, 25, &hop, &err);
}

static int lmtp(const char *text)
{
    buf_reset(&err);
    return nexthop_parse_lmtp(text, 24, &hop, &err);
}

static void test_smtp_forms(void)
{
    CHECK_INT(smtp("example.com"), 0);
    CHECK_INT(hop.kind, NEXTHOP_DOMAIN);
    CHECK_STR(hop.host, "example.com");
    CHECK_INT(hop.port, 25);
    CHECK_INT(smtp("Example.COM.:2525"), 0);
    CHECK_INT(hop.kind, NEXTHOP_DOMAIN);
    CHECK_STR(hop.host, "Example.COM");
    CHECK_INT(hop.port, 2525);
    CHECK_INT(smtp("[mail.example.com]"), 0);
    CHECK_INT(hop.kind, NEXTHOP_HOST);
    CHECK_STR(hop.host, "mail.example.com");
    CHECK_INT(hop.port, 25);
    CHECK_INT(smtp("[mail.example.com]:submission"), 0);
    CHECK_INT(hop.kind, NEXTHOP_HOST);
    CHECK_INT(hop.port, 587);
    CHECK_INT(smtp("[192.0.2.1]:587"), 0);
    CHECK_INT(hop.kind, NEXTHOP_ADDRESS);
    CHECK_INT(hop.family, AF_INET);
    CHECK_STR(hop.host, "192.0.2.1");
    CHECK(memcmp(hop.addr, "\xc0\x00\x02\x01", 4) == 0);
    CHECK_INT(hop.port, 587);
    CHECK_INT(smtp("[ipv6:2001:db8::1]:2525"), 0);
    CHECK_INT(hop.kind, NEXTHOP_ADDRESS);
    CHECK_INT(hop.family, AF_INET6);
    CHECK_STR(hop.host, "2001:db8::1");
    CHECK_INT(hop.addr[0], 0x20);
    CHECK_INT(hop.addr[15], 1);
    CHECK_INT(hop.port, 2525);
    CHECK_INT(smtp("[IPv6:::1]"), 0);
    CHECK_INT(hop.family, AF_INET6);
    CHECK_INT(smtp("[2001:db8::2]"), 0);
    CHECK_INT(hop.family, AF_INET6);
    CHECK_INT(smtp("192.0.2.9:26"), 0);
    CHECK_INT(hop.kind, NEXTHOP_ADDRESS);
    CHECK_INT(hop.port, 26);
    CHECK_INT(smtp("inet:example.net"), 0);
    CHECK_INT(hop.kind, NEXTHOP_DOMAIN);
    CHECK_STR(hop.host, "example.net");
    /* UTF-8 domains are kept; the lookup converts them. */
    CHECK_INT(smtp("b\xc3\xbc"
                   "cher.example"),
              0);
    CHECK_INT(hop.kind, NEXTHOP_DOMAIN);
}

static void test_smtp_refused(void)
{
    const char *bad[] = {"",
                         "[]",
                         "[mail.example",
                         "[mail.example]x",
                         "example.com:",
                         "example.com:0",
                         "example.com:65536",
                         "example.com:nosuchservice",
                         "exa mple.com",
                         "-bad.example",
                         "a..b",
                         "[ipv6:2001:db8::zz]",
                         "[192.0.2.1:25]",
                         "2001:db8::1",
                         "[1.2.3.4.5]",
                         "example.com:25x",
                         ".",
                         "[.]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        if (smtp(bad[i]) != -1)
            printf("#   accepted \"%s\"\n", bad[i]);
        CHECK_INT(smtp(bad[i]), -1);
        CHECK(err.len > 0);
    }
    char longname[600];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_INT(smtp(longname), -1);
}

static void test_lmtp_forms(void)
{
    CHECK_INT(lmtp("inet:lmtp.example"), 0);
    CHECK_INT(hop.kind, NEXTHOP_HOST);
    CHECK_STR(hop.host, "lmtp.example");
    CHECK_INT(hop.port, 24);
    CHECK_INT(lmtp("inet:lmtp.example:2424"), 0);
    CHECK_INT(hop.kind, NEXTHOP_HOST);
    CHECK_INT(hop.port, 2424);
    CHECK_INT(lmtp("inet:[127.0.0.1]:2424"), 0);
    CHECK_INT(hop.kind, NEXTHOP_ADDRESS);
    CHECK_INT(lmtp("lmtp.example"), 0);
    CHECK_INT(hop.kind, NEXTHOP_HOST);
    CHECK_INT(lmtp("unix:/var/run/dovecot/lmtp"), 0);
    CHECK_INT(hop.kind, NEXTHOP_UNIX);
    CHECK_STR(hop.path, "/var/run/dovecot/lmtp");
    CHECK_INT(lmtp("unix:private/dovecot-lmtp"), 0);
    CHECK_STR(hop.path, "private/dovecot-lmtp");
    CHECK_INT(lmtp("unix:"), -1);
    CHECK_INT(lmtp("inet:"), -1);
}

static void test_format(void)
{
    struct buf out = BUF_INIT;
    const char *cases[][2] = {
        {"example.com", "example.com"},
        {"example.com:2525", "example.com:2525"},
        {"[mail.example.com]", "[mail.example.com]"},
        {"[mail.example.com]:25", "[mail.example.com]"},
        {"[192.0.2.1]:587", "[192.0.2.1]:587"},
        {"[2001:db8::1]", "[ipv6:2001:db8::1]"},
        /* a domain named like the inet: prefix keeps reading as one */
        {"inet.:5", "inet.:5"},
        {"INET", "INET."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        CHECK_INT(smtp(cases[i][0]), 0);
        nexthop_format(&hop, 25, &out);
        CHECK_STR(buf_cstr(&out), cases[i][1]);
    }
    CHECK_INT(lmtp("unix:/run/lmtp"), 0);
    nexthop_format(&hop, 24, &out);
    CHECK_STR(buf_cstr(&out), "unix:/run/lmtp");
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_smtp_forms);
    UNIT_RUN(test_smtp_refused);
    UNIT_RUN(test_lmtp_forms);
    UNIT_RUN(test_format);
    buf_free(&err);
    return unit_summary();
}
