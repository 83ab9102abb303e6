/* test_imap_quote.c: unit tests for lib/imap/imap_quote: atoms, quoted
 * strings with escapes, literals for CR/LF, 8-bit and long text,
 * literal8 for NUL bytes, NIL. */
#include <string.h>

#include "base/buf.h"
#include "imap/imap_quote.h"
#include "unit.h"

static const char *astring(const char *text, unsigned flags, struct buf *out)
{
    buf_reset(out);
    imap_write_astring(out, text, strlen(text), flags);
    return out->data;
}

static void test_astring(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(astring("INBOX", 0, &out), "INBOX");
    CHECK_STR(astring("a]b", 0, &out), "a]b");
    CHECK_STR(astring("", 0, &out), "\"\"");
    CHECK_STR(astring("nil", 0, &out), "\"nil\"");
    CHECK_STR(astring("two words", 0, &out), "\"two words\"");
    CHECK_STR(astring("q\"b\\s", 0, &out), "\"q\\\"b\\\\s\"");
    CHECK_STR(astring("a*", 0, &out), "\"a*\"");
    CHECK_STR(astring("a\r\nb", 0, &out), "{4}\r\na\r\nb");
    CHECK_STR(astring("caf\xc3\xa9", 0, &out), "{5}\r\ncaf\xc3\xa9");
    CHECK_STR(astring("caf\xc3\xa9", IMAP_QUOTE_UTF8, &out),
              "\"caf\xc3\xa9\"");
    CHECK_STR(astring("caf\xc3", IMAP_QUOTE_UTF8, &out), "{4}\r\ncaf\xc3");
    buf_free(&out);
}

static void test_string_and_nstring(void)
{
    struct buf out = BUF_INIT;
    imap_write_string(&out, "ATOM", 4, 0);
    CHECK_STR(out.data, "\"ATOM\"");
    buf_reset(&out);
    imap_write_nstring(&out, NULL, 0, 0);
    CHECK_STR(out.data, "NIL");
    buf_reset(&out);
    imap_write_nstring(&out, "", 0, 0);
    CHECK_STR(out.data, "\"\"");
    char big[IMAP_QUOTE_MAX + 1];
    memset(big, 'x', sizeof(big));
    buf_reset(&out);
    imap_write_string(&out, big, sizeof(big), 0);
    CHECK(strncmp(out.data, "{1025}\r\nxxx", 11) == 0);
    CHECK_INT(out.len, 8 + sizeof(big));
    buf_reset(&out);
    imap_write_string(&out, "a\0b", 3, IMAP_QUOTE_LITERAL8);
    CHECK_INT(out.len, 9);
    CHECK(memcmp(out.data, "~{3}\r\na\0b", 9) == 0);
    buf_reset(&out);
    imap_write_string(&out, "a\0b", 3, 0);
    CHECK(memcmp(out.data, "{3}\r\na\0b", 8) == 0);
    CHECK(imap_is_atom("\\Seen", 5) == 0);
    CHECK(imap_is_atom("$Junk", 5) == 1);
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_astring);
    UNIT_RUN(test_string_and_nstring);
    return unit_summary();
}
