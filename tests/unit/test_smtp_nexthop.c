/* test_smtp_nexthop.c: next-hop syntax and literal addresses of the smtp
 * and lmtp client (smtp/smtp_nexthop.c, a daemon file: included here,
 * since unit tests link only lib/). */
#include <sys/un.h>

#include "../../smtp/smtp_nexthop.c"
#include "unit.h"

static enum smtp_nexthop_result resolve(const char *nexthop, int lmtp,
                                        struct smtp_nexthop *nh,
                                        struct buf *reason, char *dsn)
{
    buf_reset(reason);
    return smtp_nexthop_resolve(nexthop, lmtp, "/var/spool/postern",
                                "mx.example", nh, reason, dsn);
}

static void check_one(const char *nexthop, int lmtp, const char *relay)
{
    struct smtp_nexthop nh;
    struct buf reason = BUF_INIT, text = BUF_INIT;
    char dsn[10];
    CHECK_INT(resolve(nexthop, lmtp, &nh, &reason, dsn), SMTP_NEXTHOP_OK);
    CHECK_INT(nh.count, 1);
    if (nh.count == 1) {
        smtp_addr_format(&nh.addrs[0], &text);
        CHECK_STR(buf_cstr(&text), relay);
    }
    smtp_nexthop_free(&nh);
    buf_free(&reason);
    buf_free(&text);
}

static void test_smtp_literals(void)
{
    check_one("[127.0.0.1]:2525", 0, "127.0.0.1[127.0.0.1]:2525");
    check_one("[127.0.0.1]", 0, "127.0.0.1[127.0.0.1]:25");
    check_one("127.0.0.1:2525", 0, "127.0.0.1[127.0.0.1]:2525");
    check_one("127.0.0.1", 0, "127.0.0.1[127.0.0.1]:25");
    check_one("[::1]:25", 0, "::1[::1]:25");
    check_one("[IPv6:::1]:2526", 0, "::1[::1]:2526");
    check_one("::1", 0, "::1[::1]:25");
    check_one("[127.0.0.1]:smtp", 0, "127.0.0.1[127.0.0.1]:25");
    check_one("inet:[127.0.0.1]:2525", 0, "127.0.0.1[127.0.0.1]:2525");
}

static void test_lmtp_forms(void)
{
    check_one("inet:127.0.0.1:2400", 1, "127.0.0.1[127.0.0.1]:2400");
    check_one("inet:[::1]:24", 1, "::1[::1]:24");
    check_one("127.0.0.1", 1, "127.0.0.1[127.0.0.1]:24");
    check_one("unix:/run/lmtp", 1, "mx.example[/run/lmtp]");
    check_one("unix:private/dovecot-lmtp", 1,
              "mx.example[private/dovecot-lmtp]");

    struct smtp_nexthop nh;
    struct buf reason = BUF_INIT;
    char dsn[10];
    CHECK_INT(resolve("unix:private/dovecot-lmtp", 1, &nh, &reason, dsn),
              SMTP_NEXTHOP_OK);
    const struct sockaddr_un *sun = (const struct sockaddr_un *)&nh.addrs[0].sa;
    CHECK_STR(sun->sun_path, "/var/spool/postern/private/dovecot-lmtp");
    CHECK_INT(nh.addrs[0].family, AF_UNIX);
    smtp_nexthop_free(&nh);
    buf_free(&reason);
}

static void test_names_defer_until_dns(void)
{
    struct smtp_nexthop nh;
    struct buf reason = BUF_INIT;
    char dsn[10];
    CHECK_INT(resolve("example.com", 0, &nh, &reason, dsn), SMTP_NEXTHOP_DEFER);
    CHECK_STR(dsn, "4.4.3");
    CHECK_STR(buf_cstr(&reason), "MX lookup of example.com not built yet");
    smtp_nexthop_free(&nh);
    CHECK_INT(resolve("[mail.example.com]:587", 0, &nh, &reason, dsn),
              SMTP_NEXTHOP_DEFER);
    CHECK_STR(buf_cstr(&reason), "Host lookup of mail.example.com not built yet");
    smtp_nexthop_free(&nh);
    buf_free(&reason);
}

static void test_bad_syntax_bounces(void)
{
    const char *bad[] = {"", "[127.0.0.1", "[127.0.0.1]x", "[127.0.0.1]:0",
                         "[127.0.0.1]:65536", "[127.0.0.1]:no-such-svc",
                         "[]:25", "127.0.0.1:", "inet:"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        struct smtp_nexthop nh;
        struct buf reason = BUF_INIT;
        char dsn[10] = "";
        enum smtp_nexthop_result r = resolve(bad[k], 0, &nh, &reason, dsn);
        if (r != SMTP_NEXTHOP_BOUNCE)
            printf("#   %s: %d\n", bad[k], (int)r);
        CHECK_INT(r, SMTP_NEXTHOP_BOUNCE);
        CHECK_STR(dsn, "5.3.5");
        smtp_nexthop_free(&nh);
        buf_free(&reason);
    }
    /* unix: is LMTP's; the smtp client reads it as a host name. */
    struct smtp_nexthop nh;
    struct buf reason = BUF_INIT;
    char dsn[10];
    CHECK_INT(resolve("unix:", 1, &nh, &reason, dsn), SMTP_NEXTHOP_BOUNCE);
    smtp_nexthop_free(&nh);
    buf_free(&reason);
}

static void test_list_of_destinations(void)
{
    struct smtp_nexthop nh;
    struct buf reason = BUF_INIT, text = BUF_INIT;
    char dsn[10];
    CHECK_INT(resolve("[127.0.0.1]:2525, [::1]:25 127.0.0.2", 0, &nh, &reason,
                      dsn),
              SMTP_NEXTHOP_OK);
    CHECK_INT(nh.count, 3);
    for (size_t k = 0; k < nh.count; k++) {
        smtp_addr_format(&nh.addrs[k], &text);
        buf_append_str(&text, k + 1 < nh.count ? " " : "");
    }
    CHECK_STR(buf_cstr(&text), "127.0.0.1[127.0.0.1]:2525 ::1[::1]:25 "
                               "127.0.0.2[127.0.0.2]:25");
    smtp_nexthop_free(&nh);
    /* A name skipped while the literal after it works... */
    CHECK_INT(resolve("ex.org, [127.0.0.1]:26", 0, &nh, &reason, dsn),
              SMTP_NEXTHOP_OK);
    CHECK_INT(nh.count, 1);
    smtp_nexthop_free(&nh);
    /* ...and with nothing usable, a temporary failure before a bad one. */
    CHECK_INT(resolve("[127.0.0.1]:0, ex.org", 0, &nh, &reason, dsn),
              SMTP_NEXTHOP_DEFER);
    CHECK_STR(dsn, "4.4.3");
    smtp_nexthop_free(&nh);
    CHECK_INT(resolve(" , ", 0, &nh, &reason, dsn), SMTP_NEXTHOP_BOUNCE);
    smtp_nexthop_free(&nh);
    buf_free(&reason);
    buf_free(&text);
}

int main(void)
{
    UNIT_RUN(test_smtp_literals);
    UNIT_RUN(test_lmtp_forms);
    UNIT_RUN(test_names_defer_until_dns);
    UNIT_RUN(test_bad_syntax_bounces);
    UNIT_RUN(test_list_of_destinations);
    return unit_summary();
}
