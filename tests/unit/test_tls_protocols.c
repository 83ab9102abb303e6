/* test_tls_protocols.c: Postfix protocol lists (lib/tls/tls_protocols)
 * and security levels (lib/tls/tls_config). */
#include "unit.h"

#include "base/buf.h"
#include "tls/tls_config.h"
#include "tls/tls_protocols.h"

/* The enabled set as names, or "error: ..." */
static const char *parse(const char *list)
{
    static struct buf out;
    buf_free(&out);
    buf_init(&out);
    unsigned set = 0;
    struct buf err = BUF_INIT;
    if (tls_protocols_parse(list, &set, &err) < 0)
        buf_appendf(&out, "error: %s", buf_cstr(&err));
    else
        tls_protocols_format(set, &out);
    buf_free(&err);
    return buf_cstr(&out);
}

static void test_defaults_and_bounds(void)
{
    CHECK_STR(parse(">=TLSv1.2"), "TLSv1.2 TLSv1.3");
    CHECK_STR(parse(">=TLSv1"), "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3");
    CHECK_STR(parse("<=TLSv1.2"), "TLSv1 TLSv1.1 TLSv1.2");
    CHECK_STR(parse(">=TLSv1.1 <=TLSv1.2"), "TLSv1.1 TLSv1.2");
    CHECK_STR(parse(">=tlsv1.3"), "TLSv1.3");
    /* Empty: every usable protocol; SSL never. */
    CHECK_STR(parse(""), "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3");
    CHECK_STR(parse(">=SSLv2"), "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3");
}

static void test_exclusions(void)
{
    CHECK_STR(parse("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"), "TLSv1.2 TLSv1.3");
    CHECK_STR(parse("!SSLv2:!SSLv3:!TLSv1:!TLSv1.1:!TLSv1.2"), "TLSv1.3");
    /* An exclusion the library does not know is ignored, as Postfix. */
    CHECK_STR(parse("!SSLv2, !TLSv1.4, !TLSv1"), "TLSv1.1 TLSv1.2 TLSv1.3");
    CHECK_STR(parse(">=TLSv1.2 !TLSv1.3"), "TLSv1.2");
}

static void test_inclusions(void)
{
    CHECK_STR(parse("TLSv1.2 TLSv1.3"), "TLSv1.2 TLSv1.3");
    CHECK_STR(parse("TLSv1.1, TLSv1.3"), "TLSv1.1 TLSv1.3");
    CHECK_STR(parse("SSLv3 TLSv1.3"), "TLSv1.3");
    CHECK_STR(parse("TLSv1.2 TLSv1.3 !TLSv1.2"), "TLSv1.3");
}

static void test_errors(void)
{
    CHECK_STR(parse("TLSv1.4"), "error: unknown TLS protocol \"TLSv1.4\"");
    CHECK_STR(parse(">=TLSv9"), "error: unknown TLS protocol \">=TLSv9\"");
    CHECK_STR(parse(">="), "error: unknown TLS protocol \">=\"");
    CHECK_STR(parse("SSLv3"),
              "error: no TLS protocol left enabled by \"SSLv3\"");
    CHECK_STR(parse(">=TLSv1.3 <=TLSv1.2"),
              "error: no TLS protocol left enabled by \">=TLSv1.3 <=TLSv1.2\"");
    CHECK_STR(parse("!TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3"),
              "error: no TLS protocol left enabled by \"!TLSv1 !TLSv1.1 "
              "!TLSv1.2 !TLSv1.3\"");
}

static void test_security_levels(void)
{
    enum tls_level level = TLS_LEVEL_MAY;
    CHECK_INT(tls_level_parse("", &level), 0);
    CHECK_INT(level, TLS_LEVEL_NONE);
    CHECK_INT(tls_level_parse("none", &level), 0);
    CHECK_INT(level, TLS_LEVEL_NONE);
    CHECK_INT(tls_level_parse("may", &level), 0);
    CHECK_INT(level, TLS_LEVEL_MAY);
    CHECK_INT(tls_level_parse("Encrypt", &level), 0);
    CHECK_INT(level, TLS_LEVEL_ENCRYPT);
    /* Client-side levels: encrypt, and the caller warns. */
    level = TLS_LEVEL_NONE;
    CHECK_INT(tls_level_parse("verify", &level), 1);
    CHECK_INT(level, TLS_LEVEL_ENCRYPT);
    CHECK_INT(tls_level_parse("dane-only", &level), 1);
    CHECK_INT(tls_level_parse("sometimes", &level), -1);
    CHECK_INT(tls_level_parse("may ", &level), -1);
}

int main(void)
{
    UNIT_RUN(test_defaults_and_bounds);
    UNIT_RUN(test_exclusions);
    UNIT_RUN(test_inclusions);
    UNIT_RUN(test_errors);
    UNIT_RUN(test_security_levels);
    return unit_summary();
}
