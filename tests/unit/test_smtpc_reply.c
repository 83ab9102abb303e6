/* test_smtpc_reply.c: unit tests for lib/smtpc's reply reader (single
 * and multi-line replies, enhanced status codes given or derived,
 * malformed replies and the bounds) and the EHLO extension parser. */
#include "unit.h"

#include "smtpc/smtpc_caps.h"
#include "smtpc/smtpc_reply.h"

static enum smtpc_reply_state feed(struct smtpc_reply *r, const char *line)
{
    return smtpc_reply_feed(r, line, strlen(line), NULL);
}

static void test_single_line(void)
{
    struct smtpc_reply r;
    smtpc_reply_init(&r);
    CHECK_INT(feed(&r, "250 2.1.0 Ok"), SMTPC_REPLY_DONE);
    CHECK_INT(r.code, 250);
    CHECK_STR(r.status, "2.1.0");
    CHECK_INT(r.status_given, 1);
    CHECK_STR(r.text.data, "250 2.1.0 Ok");
    CHECK_INT(r.lines.count, 1);
    CHECK_STR(r.lines.items[0], "2.1.0 Ok");
    CHECK_INT(smtpc_reply_class(&r), 2);

    smtpc_reply_reset(&r);
    CHECK_INT(feed(&r, "451 try later"), SMTPC_REPLY_DONE);
    CHECK_STR(r.status, "4.0.0");
    CHECK_INT(r.status_given, 0);

    smtpc_reply_reset(&r);
    CHECK_INT(feed(&r, "354"), SMTPC_REPLY_DONE); /* a bare code */
    CHECK_INT(r.code, 354);
    CHECK_INT(smtpc_reply_class(&r), 2);
    CHECK_STR(r.lines.items[0], "");

    /* A status whose class disagrees with the code is replaced. */
    smtpc_reply_reset(&r);
    CHECK_INT(feed(&r, "550 4.1.1 odd"), SMTPC_REPLY_DONE);
    CHECK_STR(r.status, "5.0.0");
    smtpc_reply_free(&r);
}

static void test_multi_line(void)
{
    struct smtpc_reply r;
    smtpc_reply_init(&r);
    CHECK_INT(feed(&r, "550-5.1.1 The email account that you tried to reach"),
              SMTPC_REPLY_MORE);
    CHECK_INT(feed(&r, "550-5.1.1 does not exist."), SMTPC_REPLY_MORE);
    CHECK_INT(feed(&r, "550 5.1.1 https://support.example/"), SMTPC_REPLY_DONE);
    CHECK_INT(r.code, 550);
    CHECK_STR(r.status, "5.1.1");
    /* Postfix's quoting form: every line with its code, space-joined. */
    CHECK_STR(r.text.data,
              "550-5.1.1 The email account that you tried to reach "
              "550-5.1.1 does not exist. 550 5.1.1 https://support.example/");
    CHECK_INT(r.lines.count, 3);

    struct smtpc_reply copy;
    smtpc_reply_init(&copy);
    smtpc_reply_copy(&copy, &r);
    CHECK_STR(copy.text.data, r.text.data);
    CHECK_INT(copy.lines.count, 3);
    smtpc_reply_free(&copy);
    smtpc_reply_free(&r);
}

static void test_malformed(void)
{
    struct smtpc_reply r;
    struct buf why = BUF_INIT;
    smtpc_reply_init(&r);
    buf_init(&why);
    static const char *const bad[] = {
        "",
        "25",
        "abc hello",
        "250x",
        "199 too low",
        "650 too high",
        "2a0 letters",
        "250\tTab",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        smtpc_reply_reset(&r);
        CHECK_INT(smtpc_reply_feed(&r, bad[i], strlen(bad[i]), &why),
                  SMTPC_REPLY_MALFORMED);
    }
    CHECK_STR(why.data, "malformed reply line");

    /* Codes must agree across lines. */
    smtpc_reply_reset(&r);
    CHECK_INT(feed(&r, "250-first"), SMTPC_REPLY_MORE);
    CHECK_INT(smtpc_reply_feed(&r, "251 second", 10, &why),
              SMTPC_REPLY_MALFORMED);
    CHECK_STR(why.data, "inconsistent reply codes");

    /* A NUL inside a line. */
    smtpc_reply_reset(&r);
    CHECK_INT(smtpc_reply_feed(&r, "250 a\0b", 7, &why), SMTPC_REPLY_MALFORMED);

    /* Too many lines. */
    smtpc_reply_reset(&r);
    enum smtpc_reply_state st = SMTPC_REPLY_MORE;
    int lines = 0;
    while (st == SMTPC_REPLY_MORE && lines < 1000) {
        st = smtpc_reply_feed(&r, "250-more", 8, &why);
        lines++;
    }
    CHECK_INT(st, SMTPC_REPLY_MALFORMED);
    CHECK_INT(lines, SMTPC_REPLY_MAX_LINES + 1);

    /* Too much text. */
    smtpc_reply_reset(&r);
    struct buf longline = BUF_INIT;
    buf_init(&longline);
    buf_append_str(&longline, "250-");
    for (int i = 0; i < 2000; i++)
        buf_append_char(&longline, 'x');
    st = SMTPC_REPLY_MORE;
    lines = 0;
    while (st == SMTPC_REPLY_MORE && lines < 100) {
        st = smtpc_reply_feed(&r, longline.data, longline.len, &why);
        lines++;
    }
    CHECK_INT(st, SMTPC_REPLY_MALFORMED);
    CHECK_STR(why.data, "reply too long");
    CHECK(r.text.len <= SMTPC_REPLY_MAX_TEXT);
    buf_free(&longline);
    buf_free(&why);
    smtpc_reply_free(&r);
}

static void parse_caps(struct smtpc_caps *caps, const char *const *lines)
{
    struct smtpc_reply r;
    smtpc_reply_init(&r);
    for (; *lines; lines++)
        feed(&r, *lines);
    smtpc_caps_parse(caps, &r);
    smtpc_reply_free(&r);
}

static void test_caps(void)
{
    static const char *const ehlo[] = {
        "250-mx.example.com Hello",
        "250-PIPELINING",
        "250-SIZE 10240000",
        "250-8bitmime",
        "250-SMTPUTF8",
        "250-DSN",
        "250-CHUNKING",
        "250-STARTTLS",
        "250-AUTH PLAIN login",
        "250-AUTH=LOGIN CRAM-MD5",
        "250-ENHANCEDSTATUSCODES",
        "250-REQUIRETLS",
        "250-X-UNKNOWN whatever",
        "250 SIZEX 12",
        NULL,
    };
    struct smtpc_caps caps;
    smtpc_caps_init(&caps);
    parse_caps(&caps, ehlo);
    unsigned all = SMTPC_CAP_PIPELINING | SMTPC_CAP_SIZE | SMTPC_CAP_8BITMIME |
                   SMTPC_CAP_SMTPUTF8 | SMTPC_CAP_DSN | SMTPC_CAP_CHUNKING |
                   SMTPC_CAP_STARTTLS | SMTPC_CAP_AUTH |
                   SMTPC_CAP_ENHANCEDSTATUSCODES | SMTPC_CAP_REQUIRETLS;
    CHECK_INT(caps.flags, all);
    CHECK_INT(caps.size_limit, 10240000);
    CHECK_STR(caps.server_name, "mx.example.com");
    CHECK_INT(caps.auth_mechs.count, 3);
    CHECK(smtpc_caps_has_auth(&caps, "plain"));
    CHECK(smtpc_caps_has_auth(&caps, "LOGIN"));
    CHECK(smtpc_caps_has_auth(&caps, "CRAM-MD5"));
    CHECK(!smtpc_caps_has_auth(&caps, "XOAUTH2"));

    /* A fresh EHLO (after STARTTLS) replaces everything. */
    static const char *const plain[] = {"250-other.example", "250 SIZE", NULL};
    parse_caps(&caps, plain);
    CHECK_INT(caps.flags, SMTPC_CAP_SIZE);
    CHECK_INT(caps.size_limit, 0);
    CHECK_INT(caps.auth_mechs.count, 0);
    CHECK_STR(caps.server_name, "other.example");

    static const char *const bad_size[] = {"250-x", "250 SIZE 12abc", NULL};
    parse_caps(&caps, bad_size);
    CHECK_INT(caps.size_limit, 0);
    static const char *const huge[] = {
        "250-x", "250 SIZE 99999999999999999999999999", NULL};
    parse_caps(&caps, huge);
    CHECK(caps.size_limit > 1000000000000LL);
    smtpc_caps_free(&caps);
}

int main(void)
{
    UNIT_RUN(test_single_line);
    UNIT_RUN(test_multi_line);
    UNIT_RUN(test_malformed);
    UNIT_RUN(test_caps);
    return unit_summary();
}
