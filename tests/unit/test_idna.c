/* test_idna.c: unit tests for lib/dns/idna (UTF-8 domain names to A-labels
 * for DNS lookups). */
#include "unit.h"

#include "dns/idna.h"

static void check_ascii(const char *in, const char *want)
{
    struct buf out = BUF_INIT;
    CHECK_INT(idna_to_ascii(in, &out), 0);
    CHECK_STR(buf_cstr(&out), want);
    buf_free(&out);
}

static void test_to_ascii(void)
{
    /* ASCII names pass unchanged (case too: DNS compares without it). */
    check_ascii("mx.example", "mx.example");
    check_ascii("MX.Example", "MX.Example");
    CHECK_INT(idna_is_utf8("mx.example"), 0);
    CHECK_INT(idna_is_utf8("bücher.example"), 1);
    /* bücher.example, and its upper case (UTS #46 maps it) */
    check_ascii("bücher.example", "xn--bcher-kva.example");
    check_ascii("BÜCHER.example", "xn--bcher-kva.example");
    /* ß stays ß (non-transitional, IDNA2008), not "ss" */
    check_ascii("straße.example", "xn--strae-oqa.example");
    /* NFC: u + combining diaeresis is ü */
    check_ascii("bu\314\210cher.example", "xn--bcher-kva.example");
    /* 日本.example */
    check_ascii("日本.example", "xn--wgv71a.example");
}

static void test_refused(void)
{
    struct buf out = BUF_INIT;
    /* not UTF-8 at all (Latin-1 ü) */
    CHECK_INT(idna_to_ascii("b\374cher.example", &out), -1);
    CHECK(out.len > 0); /* libidn2's reason */
    /* a label may not start with a combining mark (U+0308) */
    CHECK_INT(idna_to_ascii("\314\210a.example", &out), -1);
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_to_ascii);
    UNIT_RUN(test_refused);
    return unit_summary();
}
