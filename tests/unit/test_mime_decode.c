/* test_mime_decode.c: the message helpers under IMAP's FETCH and SEARCH:
 * Content-Transfer-Encoding decoding (lib/message/mime_decode), header
 * field walking (imap_header_iter), Date: parsing (rfc822_date) and
 * charset conversion (charset_utf8). */
#include "unit.h"

#include "base/buf.h"
#include "message/charset_utf8.h"
#include "message/imap_header_iter.h"
#include "message/mime_decode.h"
#include "message/rfc822_date.h"

static void cte_names(void)
{
    CHECK_INT(mime_cte_parse("base64", 6), MIME_CTE_BASE64);
    CHECK_INT(mime_cte_parse(" BASE64 (comment)", 17), MIME_CTE_BASE64);
    CHECK_INT(mime_cte_parse("Quoted-Printable", 16), MIME_CTE_QP);
    CHECK_INT(mime_cte_parse("7bit", 4), MIME_CTE_IDENTITY);
    CHECK_INT(mime_cte_parse("8BIT", 4), MIME_CTE_IDENTITY);
    CHECK_INT(mime_cte_parse("binary", 6), MIME_CTE_IDENTITY);
    CHECK_INT(mime_cte_parse("", 0), MIME_CTE_IDENTITY);
    CHECK_INT(mime_cte_parse("x-uuencode", 10), MIME_CTE_UNKNOWN);
    CHECK_INT(mime_cte_parse("base64 base64", 13), MIME_CTE_UNKNOWN);
}

static void base64_bodies(void)
{
    struct buf out = BUF_INIT;
    CHECK_INT(mime_base64_decode_body("aGVs\r\nbG8K\n", 11, &out), 0);
    CHECK_STR(out.data, "hello\n");
    buf_reset(&out);
    CHECK_INT(mime_base64_decode_body("aGk=\nignored", 12, &out), 0);
    CHECK_STR(out.data, "hi");
    buf_reset(&out);
    CHECK_INT(mime_base64_decode_body("aG!k", 4, &out), -1);
    buf_reset(&out);
    CHECK_INT(mime_base64_decode_body("", 0, &out), 0);
    CHECK_INT(out.len, 0);
    buf_free(&out);
}

static void qp_bodies(void)
{
    struct buf out = BUF_INIT;
    static const char in[] = "caf=E9 one=\nmore  \nlast=3D";
    CHECK_INT(mime_qp_decode_body(in, sizeof(in) - 1, &out), 0);
    CHECK_STR(out.data, "caf\xe9 onemore\r\nlast=");
    buf_reset(&out);
    CHECK_INT(mime_qp_decode_body("a=ZZb\r\n", 7, &out), -1);
    CHECK_STR(out.data, "a=ZZb\r\n");
    buf_reset(&out);
    CHECK_INT(mime_decode_body(MIME_CTE_UNKNOWN, "x", 1, &out), -1);
    CHECK_INT(out.len, 0);
    buf_free(&out);
}

static void header_fields(void)
{
    static const char h[] = "From: a@b\nSubject : one\n two\r\nno colon\n"
                            "X-Empty:\n\nbody: not a field\n";
    struct imap_header_field f;
    size_t pos = 0, len;
    const char *v;
    CHECK(imap_header_next(h, sizeof(h) - 1, &pos, &f) == 1);
    CHECK(imap_header_name_is(&f, "FROM", 4));
    CHECK(f.value_len == 3 && memcmp(f.value, "a@b", 3) == 0);
    CHECK(imap_header_next(h, sizeof(h) - 1, &pos, &f) == 1);
    CHECK(imap_header_name_is(&f, "subject", 7));
    CHECK(f.value_len == 8 && memcmp(f.value, "one\n two", 8) == 0);
    CHECK_INT(f.end - f.start, 20);
    CHECK(imap_header_next(h, sizeof(h) - 1, &pos, &f) == 1);
    CHECK(!f.has_colon && f.value_len == 0);
    CHECK(imap_header_next(h, sizeof(h) - 1, &pos, &f) == 1);
    CHECK(imap_header_name_is(&f, "x-empty", 7) && f.value_len == 0);
    CHECK(imap_header_next(h, sizeof(h) - 1, &pos, &f) == 0);
    v = imap_header_find(h, sizeof(h) - 1, "subject", &len);
    CHECK(v != NULL && len == 8);
    CHECK(imap_header_find(h, sizeof(h) - 1, "body", &len) == NULL);
}

static void dates(void)
{
    struct rfc822_date d;
    CHECK(rfc822_date_parse("Tue, 8 Dec 2026 23:30:00 -0500", 30, &d) == 0);
    CHECK(d.year == 2026 && d.month == 12 && d.day == 8 && d.hour == 23 &&
          d.minute == 30 && d.zone_minutes == -300);
    CHECK(rfc822_date_parse(" 1 jan 99 1:02 GMT (comment)", 28, &d) == 0);
    CHECK(d.year == 1999 && d.month == 1 && d.hour == 1 && d.minute == 2 &&
          d.second == 0 && d.zone_minutes == 0);
    CHECK(rfc822_date_parse("5 Feb 21 10:00:60 EDT", 21, &d) == 0);
    CHECK(d.year == 2021 && d.second == 59 && d.zone_minutes == -240);
    CHECK(rfc822_date_parse("7 Mar 2020", 10, &d) == 0);
    CHECK(d.day == 7 && d.hour == 0);
    CHECK(rfc822_date_parse("31 Feb 2020 10:00", 17, &d) == -1);
    CHECK(rfc822_date_parse("garbage", 7, &d) == -1);
    CHECK(rfc822_date_parse("", 0, &d) == -1);
    CHECK(rfc822_date_parse("1 Jan 2020 25:00", 16, &d) == -1);
}

static void charsets(void)
{
    struct buf out = BUF_INIT;
    CHECK(charset_to_utf8("iso-8859-1", "caf\xe9", 4, &out) == 0);
    CHECK_STR(out.data, "caf\xc3\xa9");
    buf_reset(&out);
    CHECK(charset_to_utf8("UTF-8", "a\xff", 2, &out) == 0);
    CHECK_STR(out.data, "a\xef\xbf\xbd");
    buf_reset(&out);
    CHECK(charset_to_utf8("x-no-such-charset", "a", 1, &out) == -1);
    CHECK_INT(out.len, 0);
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(cte_names);
    UNIT_RUN(base64_bodies);
    UNIT_RUN(qp_bodies);
    UNIT_RUN(header_fields);
    UNIT_RUN(dates);
    UNIT_RUN(charsets);
    return unit_summary();
}
