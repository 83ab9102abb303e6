/* test_mime_downgrade.c: unit tests for lib/message/mime_downgrade, the
 * 8BITMIME downgrade the smtp client applies for a peer without 8BITMIME:
 * single parts, nested multiparts, a part already in base64, 8-bit inside
 * an attached message, long lines and soft breaks, CRLF and bare CR,
 * chunked input, the hold limit, and headers left alone. */
#include "unit.h"

#include "base/buf.h"
#include "message/mime_downgrade.h"

/* Converts message fed `chunk` bytes at a time (0: all at once). */
static char *downgrade(const char *message, size_t chunk, size_t hold_limit,
                       int *changed)
{
    struct buf out = BUF_INIT;
    buf_init(&out);
    struct mime_downgrade *md = mime_downgrade_new(hold_limit);
    size_t len = strlen(message);
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t off = 0; off < len; off += chunk)
        mime_downgrade_input(md, message + off,
                             len - off < chunk ? len - off : chunk, &out);
    mime_downgrade_finish(md, &out);
    if (changed)
        *changed = mime_downgrade_changed(md);
    mime_downgrade_free(md);
    return buf_detach(&out);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes quoted-printable text (as we write it) into out. */
static void qp_decode(const char *p, size_t len, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '=' && i + 2 < len && p[i + 1] == '\r' &&
            p[i + 2] == '\n') {
            i += 2;
        } else if (p[i] == '=' && i + 2 < len && hexval(p[i + 1]) >= 0 &&
                   hexval(p[i + 2]) >= 0) {
            buf_append_char(out,
                            (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2])));
            i += 2;
        } else {
            buf_append_char(out, p[i]);
        }
    }
}

static int all_7bit_and_short(const char *p)
{
    size_t column = 0;
    for (; *p; p++) {
        if ((unsigned char)*p >= 0x80)
            return 0;
        if (*p == '\n')
            column = 0;
        else if (*p != '\r' && ++column > MIME_DOWNGRADE_QP_LINE)
            return 0;
    }
    return 1;
}

/* The body after the first empty line. */
static const char *body_of(const char *message)
{
    const char *p = strstr(message, "\r\n\r\n");
    return p ? p + 4 : "";
}

static void single_8bit_part(void)
{
    int changed = 0;
    char *out = downgrade("Subject: caf\xc3\xa9\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n"
                          "X-After: kept in place\r\n"
                          "\r\n"
                          "Gr\xc3\xbc\xc3\x9f"
                          "e = 100%\r\n",
                          0, 0, &changed);
    CHECK_STR(out, "Subject: caf\xc3\xa9\r\n" /* 8-bit header: as it was */
                   "MIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: quoted-printable\r\n"
                   "X-After: kept in place\r\n"
                   "\r\n"
                   "Gr=C3=BC=C3=9Fe =3D 100%\r\n");
    CHECK(changed);
    free(out);
}

static void seven_bit_untouched(void)
{
    const char *message = "Subject: plain\r\n"
                          "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
                          "\r\n"
                          "preamble\r\n"
                          "--b1\r\n"
                          "Content-Type: text/plain\r\n"
                          "\r\n"
                          "just ascii = fine\r\n"
                          "--b1--\r\n"
                          "epilogue\r\n";
    for (size_t chunk = 0; chunk < 8; chunk += 3) {
        int changed = 1;
        char *out = downgrade(message, chunk, 0, &changed);
        CHECK_STR(out, message);
        CHECK(!changed);
        free(out);
    }
}

static void undeclared_8bit_gets_field_and_version(void)
{
    char *out = downgrade("Subject: x\nFrom: a@b\n\nna\xefve\n", 0, 0, NULL);
    CHECK_STR(out, "Subject: x\r\nFrom: a@b\r\n"
                   "Content-Transfer-Encoding: quoted-printable\r\n"
                   "MIME-Version: 1.0\r\n"
                   "\r\nna=EFve\r\n");
    free(out);
}

static void nested_multiparts(void)
{
    const char *message =
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=outer\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "pre\xe9mble\r\n"
        "--outer\r\n"
        "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
        "\r\n"
        "--inner\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "seven bit\r\n"
        "--inner\r\n"
        "Content-Type: text/html; charset=latin1\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "\r\n"
        "<p>\xe9t\xe9</p>\r\n"
        "--inner--\r\n"
        "--outer\r\n"
        "Content-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "aGVsbG8=\xff\r\n"
        "--outer--\r\n";
    char *out = downgrade(message, 5, 0, NULL);
    CHECK_STR(out, "MIME-Version: 1.0\r\n"
                   "Content-Type: multipart/mixed; boundary=outer\r\n"
                   "Content-Transfer-Encoding: 7bit\r\n"
                   "\r\n"
                   "pre?mble\r\n"
                   "--outer\r\n"
                   "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
                   "\r\n"
                   "--inner\r\n"
                   "Content-Type: text/plain\r\n"
                   "\r\n"
                   "seven bit\r\n"
                   "--inner\r\n"
                   "Content-Type: text/html; charset=latin1\r\n"
                   "Content-Transfer-Encoding: quoted-printable\r\n"
                   "\r\n"
                   "<p>=E9t=E9</p>\r\n"
                   "--inner--\r\n"
                   "--outer\r\n"
                   "Content-Type: application/octet-stream\r\n"
                   "Content-Transfer-Encoding: base64\r\n"
                   "\r\n"
                   "aGVsbG8=\r\n" /* the stray 8-bit byte is dropped */
                   "--outer--\r\n");
    free(out);
}

static void message_rfc822_part(void)
{
    const char *message = "Content-Type: multipart/mixed; boundary=b\r\n"
                          "\r\n"
                          "--b\r\n"
                          "Content-Type: message/rfc822\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n"
                          "\r\n"
                          "Subject: inner \xc3\xa9\r\n"
                          "\r\n"
                          "inner body \xc3\xa9\r\n"
                          "--b--\r\n";
    char *out = downgrade(message, 0, 0, NULL);
    CHECK_STR(out, "Content-Type: multipart/mixed; boundary=b\r\n"
                   "\r\n"
                   "--b\r\n"
                   "Content-Type: message/rfc822\r\n"
                   "Content-Transfer-Encoding: 7bit\r\n"
                   "\r\n"
                   "Subject: inner \xc3\xa9\r\n"
                   "Content-Transfer-Encoding: quoted-printable\r\n"
                   "MIME-Version: 1.0\r\n"
                   "\r\n"
                   "inner body =C3=A9\r\n"
                   "--b--\r\n");
    free(out);
}

static void quoted_printable_part_fixed(void)
{
    char *out = downgrade("Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                          "caf=C3=A9 and raw \xc3\xa9\r\n",
                          0, 0, NULL);
    CHECK_STR(body_of(out), "caf=C3=A9 and raw =C3=A9\r\n");
    free(out);
}

/* A body in, its output body QP-decoded, must give back the body with
 * CRLF line ends. */
static void check_round_trip(const char *body, const char *expected,
                             size_t chunk, size_t hold_limit)
{
    struct buf message = BUF_INIT, decoded = BUF_INIT;
    buf_init(&message);
    buf_init(&decoded);
    buf_append_str(&message, "Content-Type: text/plain\r\n\r\n");
    buf_append_str(&message, body);
    char *out = downgrade(buf_cstr(&message), chunk, hold_limit, NULL);
    CHECK(all_7bit_and_short(out));
    CHECK(strstr(out, "Content-Transfer-Encoding: quoted-printable\r\n") !=
          NULL);
    const char *b = body_of(out);
    qp_decode(b, strlen(b), &decoded);
    CHECK_STR(buf_cstr(&decoded), expected);
    free(out);
    buf_free(&message);
    buf_free(&decoded);
}

static void long_lines_soft_breaks(void)
{
    struct buf body = BUF_INIT, expected = BUF_INIT;
    buf_init(&body);
    buf_init(&expected);
    for (int i = 0; i < 300; i++)
        buf_append_str(&body, i % 7 == 0 ? "\xc3\xa9" : "ab= ");
    buf_append_str(&body, "\r\nshort \xc3\xa9\r\n");
    check_round_trip(buf_cstr(&body), buf_cstr(&body), 0, 0);
    check_round_trip(buf_cstr(&body), buf_cstr(&body), 1, 0);
    /* One line longer than a line piece, 8-bit only at its very end. */
    buf_reset(&body);
    for (int i = 0; i < MIME_DOWNGRADE_LINE_CHUNK * 2 + 10; i++)
        buf_append_char(&body, (char)('a' + i % 26));
    buf_append_str(&body, "\xe9\r\n");
    check_round_trip(buf_cstr(&body), buf_cstr(&body), 1000, 0);
    buf_free(&body);
    buf_free(&expected);
}

static void crlf_handling(void)
{
    /* LF or CRLF in, CRLF out; a bare CR and trailing blanks are encoded. */
    check_round_trip("one\ntwo\r\nthr\ree \t\n\xe9\n",
                     "one\r\ntwo\r\nthr\ree \t\r\n\xe9\r\n", 0, 0);
    check_round_trip("\xe9 no final newline", "\xe9 no final newline", 3, 0);
    char *out =
        downgrade("Content-Transfer-Encoding: 8bit\r\n\r\nend \r\n\xe9\r\r\n",
                  0, 0, NULL);
    CHECK_STR(body_of(out), "end=20\r\n=E9=0D\r\n");
    free(out);
}

static void hold_limit_converts_big_part(void)
{
    struct buf body = BUF_INIT;
    buf_init(&body);
    for (int i = 0; i < 200; i++)
        buf_append_str(&body, "a 7-bit line that fills the hold\r\n");
    buf_append_str(&body, "late \xe9\r\n");
    /* The hold fills before the 8-bit byte: converted all the same. */
    check_round_trip(buf_cstr(&body), buf_cstr(&body), 64, 1024);
    buf_free(&body);
}

static void huge_header_block_keeps_field(void)
{
    struct buf message = BUF_INIT;
    buf_init(&message);
    buf_append_str(&message, "Content-Transfer-Encoding: 8bit\r\n");
    for (int i = 0; i < 100; i++)
        buf_append_str(&message, "X-Filler: padding padding padding\r\n");
    buf_append_str(&message, "\r\n\xe9\r\n");
    char *out = downgrade(buf_cstr(&message), 0, 512, NULL);
    CHECK(strstr(out, "8bit") == NULL);
    CHECK(strstr(out, "X-Filler: padding padding padding\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n"
                      "MIME-Version: 1.0\r\n\r\n=E9\r\n") != NULL);
    free(out);
    buf_free(&message);
}

/* Found by fuzz_mime_downgrade (seed corpus/mime_downgrade/
 * moved-cte-after-unended-header-line): a message that ends inside a
 * header block larger than the hold, its last line without a line end.
 * The Content-Transfer-Encoding field, kept back to the end of the block,
 * was glued onto that last line, making one field of two (with the 8-bit
 * bytes of one header line now on a line that no input had). */
static void header_ends_message_without_line_end(void)
{
    struct buf message = BUF_INIT;
    buf_init(&message);
    buf_append_str(&message, "Content-Transfer-Encoding: x-\xff\r\n");
    for (int i = 0; i < 20; i++)
        buf_append_str(&message, "X-Filler: padding padding padding\r\n");
    buf_append_str(&message, "Subject: caf\xc3\xa9");
    size_t chunks[] = {0, 1, 7};
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        char *out = downgrade(buf_cstr(&message), chunks[i], 256, NULL);
        CHECK(strstr(out, "X-Filler: padding padding padding\r\n"
                          "Subject: caf\xc3\xa9\r\n"
                          "Content-Transfer-Encoding: x-\xff\r\n") != NULL);
        const char *end = out + strlen(out);
        CHECK(end - out >= 2 && strcmp(end - 2, "\r\n") == 0);
        free(out);
    }
    /* Within the hold the block goes out as it came, field in place. */
    char *out = downgrade(buf_cstr(&message), 0, 0, NULL);
    CHECK(strncmp(out, "Content-Transfer-Encoding: x-\xff\r\nX-Filler", 38) ==
          0);
    CHECK(strstr(out, "Subject: caf\xc3\xa9") != NULL);
    free(out);
    buf_free(&message);
}

int main(void)
{
    UNIT_RUN(single_8bit_part);
    UNIT_RUN(seven_bit_untouched);
    UNIT_RUN(undeclared_8bit_gets_field_and_version);
    UNIT_RUN(nested_multiparts);
    UNIT_RUN(message_rfc822_part);
    UNIT_RUN(quoted_printable_part_fixed);
    UNIT_RUN(long_lines_soft_breaks);
    UNIT_RUN(crlf_handling);
    UNIT_RUN(hold_limit_converts_big_part);
    UNIT_RUN(huge_header_block_keeps_field);
    UNIT_RUN(header_ends_message_without_line_end);
    return unit_summary();
}
