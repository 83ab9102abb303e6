/* test_imap_utf7.c: unit tests for lib/imap/imap_utf7: modified UTF-7
 * both ways (RFC 3501 section 5.1.3's examples among them), the invalid
 * forms that must be refused, and mailbox-name checks. */
#include <string.h>

#include "base/buf.h"
#include "imap/imap_utf7.h"
#include "unit.h"

static const char *decode(const char *text, struct buf *out)
{
    buf_reset(out);
    if (imap_utf7_decode(text, strlen(text), out) != 0)
        return "(invalid)";
    return out->data;
}

static const char *encode(const char *text, struct buf *out)
{
    buf_reset(out);
    if (imap_utf7_encode(text, strlen(text), out) != 0)
        return "(invalid)";
    return out->data;
}

static void test_decode(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(decode("INBOX", &out), "INBOX");
    CHECK_STR(decode("&-", &out), "&");
    CHECK_STR(decode("A&-B", &out), "A&B");
    /* RFC 3501's example: ~peter/mail/台北/日本語 */
    CHECK_STR(decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-", &out),
              "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
              "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    CHECK_STR(decode("Entw&APw-rfe", &out), "Entw\xc3\xbcrfe");
    /* U+1F600 as a surrogate pair */
    CHECK_STR(decode("&2D3eAA-", &out), "\xf0\x9f\x98\x80");
    CHECK_STR(decode("&AOk-&AOk-", &out), "\xc3\xa9\xc3\xa9");
    buf_free(&out);
}

static void test_decode_invalid(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(decode("&AOk", &out), "(invalid)");      /* no '-' */
    CHECK_STR(decode("&AGE-", &out), "(invalid)");     /* 'a' encoded */
    CHECK_STR(decode("&AOl-", &out), "(invalid)");     /* bits left not 0 */
    CHECK_STR(decode("&AOkA-", &out), "(invalid)");    /* 6 bits left over */
    CHECK_STR(decode("&AO-", &out), "(invalid)");      /* half a unit */
    CHECK_STR(decode("&2D0-", &out), "(invalid)");     /* lone high surrogate */
    CHECK_STR(decode("&3gA-", &out), "(invalid)");     /* lone low surrogate */
    CHECK_STR(decode("&2D3YPQ-", &out), "(invalid)");  /* high, high */
    CHECK_STR(decode("&A/k-", &out), "(invalid)");     /* '/' is not base64 here */
    CHECK_STR(decode("caf\xc3\xa9", &out), "(invalid)"); /* raw 8-bit */
    CHECK_STR(decode("a\tb", &out), "(invalid)");
    buf_free(&out);
}

static void test_encode(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(encode("INBOX", &out), "INBOX");
    CHECK_STR(encode("A&B", &out), "A&-B");
    CHECK_STR(encode("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
                     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
                     &out),
              "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    CHECK_STR(encode("\xc3\xa9\xc3\xa9", &out), "&AOkA6Q-");
    CHECK_STR(encode("\xf0\x9f\x98\x80", &out), "&2D3eAA-");
    CHECK_STR(encode("a\tb", &out), "a&AAk-b");
    CHECK_STR(encode("\xff", &out), "(invalid)");
    CHECK_STR(encode("\xed\xa0\x80", &out), "(invalid)"); /* a surrogate */
    buf_free(&out);
}

static void test_round_trip(void)
{
    const char *names[] = {"Gel\xc3\xb6scht", "\xd0\x9e\xd1\x82\xd0\xbf",
                           "&&&", "x\xe2\x82\xac&\xe2\x82\xac-y",
                           "\xf0\x9f\x93\xa7 mail"};
    struct buf enc = BUF_INIT, dec = BUF_INIT;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        buf_reset(&enc);
        buf_reset(&dec);
        CHECK(imap_utf7_encode(names[i], strlen(names[i]), &enc) == 0);
        CHECK(imap_utf7_decode(enc.data, enc.len, &dec) == 0);
        CHECK_STR(dec.data, names[i]);
    }
    buf_free(&enc);
    buf_free(&dec);
}

static struct imap_arg atom(const char *text)
{
    struct imap_arg arg = {IMAP_ARG_ATOM, text, strlen(text), NULL, 0, 0};
    return arg;
}

static void test_mailbox_name(void)
{
    struct buf out = BUF_INIT;
    const char *error;
    struct imap_arg arg = atom("inbox");
    CHECK(imap_mailbox_name(&arg, 0, &out, &error) == 0);
    CHECK_STR(out.data, "INBOX");
    arg = atom("Entw&APw-rfe");
    CHECK(imap_mailbox_name(&arg, 0, &out, &error) == 0);
    CHECK_STR(out.data, "Entw\xc3\xbcrfe");
    /* In UTF-8 mode the same bytes are taken as they are. */
    CHECK(imap_mailbox_name(&arg, 1, &out, &error) == 0);
    CHECK_STR(out.data, "Entw&APw-rfe");
    arg.type = IMAP_ARG_QUOTED;
    arg.str = "Entw\xc3\xbcrfe";
    arg.len = strlen(arg.str);
    CHECK(imap_mailbox_name(&arg, 1, &out, &error) == 0);
    CHECK(imap_mailbox_name(&arg, 0, &out, &error) == -1);
    CHECK_STR(error, "Mailbox name is not valid modified UTF-7");
    arg = atom("&AAk-");
    CHECK(imap_mailbox_name(&arg, 0, &out, &error) == -1);
    CHECK_STR(error, "Control characters in mailbox name");
    arg = atom("&AIU-"); /* U+0085, a C1 control */
    CHECK(imap_mailbox_name(&arg, 0, &out, &error) == -1);
    arg = atom("");
    CHECK(imap_mailbox_name(&arg, 0, &out, &error) == -1);
    struct imap_arg list = {IMAP_ARG_LIST, NULL, 0, NULL, 0, 0};
    CHECK(imap_mailbox_name(&list, 0, &out, &error) == -1);
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_decode);
    UNIT_RUN(test_decode_invalid);
    UNIT_RUN(test_encode);
    UNIT_RUN(test_round_trip);
    UNIT_RUN(test_mailbox_name);
    return unit_summary();
}
