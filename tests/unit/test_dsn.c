/* test_dsn.c: unit tests for lib/message/dsn: status validation and classes,
 * reply parsing, Postfix's delay formatting and the log fragment. */
#include "unit.h"

#include "base/buf.h"
#include "message/dsn.h"
#include "base/xtext.h"

static void test_status_valid(void)
{
    CHECK(dsn_status_valid("2.0.0"));
    CHECK(dsn_status_valid("5.1.1"));
    CHECK(dsn_status_valid("4.7.1"));
    CHECK(dsn_status_valid("5.999.999"));
    CHECK(dsn_status_valid("4.10.100"));
    CHECK(!dsn_status_valid(NULL));
    CHECK(!dsn_status_valid(""));
    CHECK(!dsn_status_valid("3.0.0")); /* class 2, 4 or 5 only */
    CHECK(!dsn_status_valid("1.0.0"));
    CHECK(!dsn_status_valid("5.1"));
    CHECK(!dsn_status_valid("5.1."));
    CHECK(!dsn_status_valid("5..1"));
    CHECK(!dsn_status_valid("5.1.1 "));
    CHECK(!dsn_status_valid("5.1.1.1"));
    CHECK(!dsn_status_valid("5.1000.1"));
    CHECK(!dsn_status_valid("5.1.1000"));
    CHECK(!dsn_status_valid("55.1.1"));
    CHECK(!dsn_status_valid("5.a.1"));
    CHECK(!dsn_status_valid("5.1.1x"));
}

static void test_status_class(void)
{
    CHECK_INT(dsn_status_class("2.1.5"), DSN_CLASS_SUCCESS);
    CHECK_INT(dsn_status_class("4.4.1"), DSN_CLASS_DEFER);
    CHECK_INT(dsn_status_class("5.7.1"), DSN_CLASS_BOUNCE);
    CHECK_INT(dsn_status_class("6.0.0"), DSN_CLASS_INVALID);
    CHECK_STR(dsn_status_word(DSN_CLASS_SUCCESS), "sent");
    CHECK_STR(dsn_status_word(DSN_CLASS_DEFER), "deferred");
    CHECK_STR(dsn_status_word(DSN_CLASS_BOUNCE), "bounced");
}

static void test_set_copy_free(void)
{
    struct dsn d, copy;
    CHECK_INT(dsn_set(&d, "5.1.1x", -1, "r", 0, 0, 0, 0), -1);
    CHECK_INT(dsn_set(&d, "5.1.1", -1, "user unknown", "dns", "mx.example",
                      "smtp", "550 5.1.1 user unknown"),
              0);
    CHECK_STR(d.status, "5.1.1");
    CHECK_INT(d.action, DSN_ACTION_FAILED);
    CHECK_INT(dsn_class(&d), DSN_CLASS_BOUNCE);
    CHECK_STR(d.mta_name, "mx.example");
    dsn_copy(&copy, &d);
    dsn_free(&d);
    CHECK_STR(copy.diag_text, "550 5.1.1 user unknown");
    CHECK_STR(copy.reason, "user unknown");
    dsn_free(&copy);

    CHECK_INT(dsn_set(&d, "4.4.1", -1, NULL, 0, 0, 0, 0), 0);
    CHECK_INT(d.action, DSN_ACTION_DELAYED);
    CHECK_STR(d.reason, "");
    CHECK(d.mta_name == NULL);
    dsn_free(&d);
    CHECK_INT(dsn_set(&d, "2.0.0", DSN_ACTION_RELAYED, "ok", 0, 0, 0, 0), 0);
    CHECK_INT(d.action, DSN_ACTION_RELAYED);
    dsn_free(&d);
    CHECK_INT(dsn_set(&d, "2.0.0", -1, "ok", 0, 0, 0, 0), 0);
    CHECK_INT(d.action, DSN_ACTION_DELIVERED);
    dsn_free(&d);
}

static void test_action_names(void)
{
    CHECK_STR(dsn_action_name(DSN_ACTION_FAILED), "failed");
    CHECK_STR(dsn_action_name(DSN_ACTION_DELAYED), "delayed");
    CHECK_STR(dsn_action_name(DSN_ACTION_DELIVERED), "delivered");
    CHECK_STR(dsn_action_name(DSN_ACTION_RELAYED), "relayed");
    CHECK_STR(dsn_action_name(DSN_ACTION_EXPANDED), "expanded");
    CHECK_INT(dsn_action_parse("Delivered"), DSN_ACTION_DELIVERED);
    CHECK_INT(dsn_action_parse("expanded"), DSN_ACTION_EXPANDED);
    CHECK_INT(dsn_action_parse("bounced"), -1);
}

static void test_parse_reply(void)
{
    struct dsn_reply r;
    const char *line = "550 5.1.1 <bob@example.org>: Recipient unknown";
    CHECK_INT(dsn_parse_reply(line, strlen(line), &r), 0);
    CHECK_INT(r.code, 550);
    CHECK_STR(r.status, "5.1.1");
    CHECK_INT(r.status_given, 1);
    CHECK_STR(line + r.text_offset, "<bob@example.org>: Recipient unknown");

    line = "250-2.1.0 Ok\r\n250 2.1.0 Ok\r\n";
    CHECK_INT(dsn_parse_reply(line, strlen(line), &r), 0);
    CHECK_INT(r.code, 250);
    CHECK_STR(r.status, "2.1.0");
    CHECK_INT(r.text_offset, 10);

    /* No enhanced code: derived from the reply code. */
    line = "451 try again later";
    CHECK_INT(dsn_parse_reply(line, strlen(line), &r), 0);
    CHECK_STR(r.status, "4.0.0");
    CHECK_INT(r.status_given, 0);
    CHECK_STR(line + r.text_offset, "try again later");

    /* A code that contradicts the reply class is not believed. */
    line = "550 2.0.0 odd";
    CHECK_INT(dsn_parse_reply(line, strlen(line), &r), 0);
    CHECK_STR(r.status, "5.0.0");
    CHECK_STR(line + r.text_offset, "2.0.0 odd");

    /* Malformed code: treated as text. */
    line = "554 5.7.1000 no";
    CHECK_INT(dsn_parse_reply(line, strlen(line), &r), 0);
    CHECK_STR(r.status, "5.0.0");

    line = "354 End data with <CR><LF>.<CR><LF>";
    CHECK_INT(dsn_parse_reply(line, strlen(line), &r), 0);
    CHECK_INT(r.code, 354);
    CHECK_STR(r.status, "2.0.0");

    line = "421";
    CHECK_INT(dsn_parse_reply(line, 3, &r), 0);
    CHECK_INT(r.code, 421);
    CHECK_STR(r.status, "4.0.0");

    /* Only len bytes are read: the code is cut off here. */
    line = "550 5.1.1 x";
    CHECK_INT(dsn_parse_reply(line, 7, &r), 0);
    CHECK_STR(r.status, "5.0.0");
    CHECK_INT(dsn_parse_reply(line, 9, &r), 0);
    CHECK_STR(r.status, "5.1.1");

    CHECK_INT(dsn_parse_reply("", 0, &r), -1);
    CHECK_INT(dsn_parse_reply("55", 2, &r), -1);
    CHECK_INT(dsn_parse_reply("650 x", 5, &r), -1);
    CHECK_INT(dsn_parse_reply("5a0 x", 5, &r), -1);
    CHECK_INT(dsn_parse_reply("5500 x", 6, &r), -1);
    CHECK_INT(dsn_parse_reply(NULL, 0, &r), -1);
}

static void test_notify_ret(void)
{
    CHECK_INT(dsn_notify_parse("SUCCESS"), DSN_NOTIFY_SUCCESS);
    CHECK_INT(dsn_notify_parse("failure,Delay"),
              DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
    CHECK_INT(dsn_notify_parse("SUCCESS,FAILURE,DELAY"),
              DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
    CHECK_INT(dsn_notify_parse("NEVER"), DSN_NOTIFY_NEVER);
    CHECK_INT(dsn_notify_parse("NEVER,SUCCESS"), -1);
    CHECK_INT(dsn_notify_parse("SUCCESS,SUCCESS"), -1);
    CHECK_INT(dsn_notify_parse("SUCCESS,"), -1);
    CHECK_INT(dsn_notify_parse(",SUCCESS"), -1);
    CHECK_INT(dsn_notify_parse(""), -1);
    CHECK_INT(dsn_notify_parse("SUCCESSFUL"), -1);
    CHECK_INT(dsn_notify_parse(NULL), -1);
    CHECK_INT(dsn_ret_parse("full"), 1);
    CHECK_INT(dsn_ret_parse("HDRS"), 2);
    CHECK_INT(dsn_ret_parse("HEADERS"), -1);
    CHECK_INT(dsn_ret_parse(NULL), -1);
}

static void test_xtext(void)
{
    struct buf b = BUF_INIT;
    const char *in = "user+2Btag@example.org";
    CHECK_INT(xtext_decode(in, strlen(in), &b, XTEXT_REFUSE_CONTROL), 0);
    CHECK_STR(buf_cstr(&b), "user+tag@example.org");
    buf_reset(&b);
    in = "a+3db+2bc"; /* lower-case hex tolerated */
    CHECK_INT(xtext_decode(in, strlen(in), &b, XTEXT_REFUSE_CONTROL), 0);
    CHECK_STR(buf_cstr(&b), "a=b+c");
    buf_reset(&b);
    CHECK_INT(xtext_decode("a=b", 3, &b, XTEXT_REFUSE_CONTROL), -1); /* '=' must be coded */
    buf_reset(&b);
    CHECK_INT(xtext_decode("a b", 3, &b, XTEXT_REFUSE_CONTROL), -1); /* space too */
    buf_reset(&b);
    CHECK_INT(xtext_decode("ab+4", 4, &b, XTEXT_REFUSE_CONTROL), -1); /* cut short */
    buf_reset(&b);
    CHECK_INT(xtext_decode("ab+G0", 5, &b, XTEXT_REFUSE_CONTROL), -1); /* not hex */
    buf_reset(&b);
    CHECK_INT(xtext_decode("a+0Db", 5, &b, XTEXT_REFUSE_CONTROL), -1); /* CR */
    buf_reset(&b);
    CHECK_INT(xtext_decode("ab=", 2, &b, XTEXT_REFUSE_CONTROL), 0); /* len bounds it */
    CHECK_STR(buf_cstr(&b), "ab");
    buf_reset(&b);
    xtext_encode("a=b+c d\xc3\xa9", 9, &b);
    CHECK_STR(buf_cstr(&b), "a+3Db+2Bc+20d+C3+A9");
    struct buf back = BUF_INIT;
    CHECK_INT(xtext_decode(b.data, b.len, &back, XTEXT_REFUSE_CONTROL), 0);
    CHECK_STR(buf_cstr(&back), "a=b+c d\xc3\xa9");

    CHECK_INT(dsn_orcpt_parse("rfc822;Bob+2Bx@Example.ORG", &b), 0);
    CHECK_STR(buf_cstr(&b), "rfc822;Bob+x@Example.ORG");
    CHECK_INT(dsn_orcpt_parse("rfc822;", &b), -1);
    CHECK_INT(dsn_orcpt_parse(";bob@x", &b), -1);
    CHECK_INT(dsn_orcpt_parse("bob@x", &b), -1);
    CHECK_INT(dsn_orcpt_parse("rfc 822;bob@x", &b), -1);
    CHECK_INT(dsn_orcpt_parse("rfc822;bob x", &b), -1);
    buf_free(&b);
    buf_free(&back);
}

static const char *interval(long sec, long usec, int resolution)
{
    static struct buf b;
    buf_reset(&b);
    dsn_format_interval(&b, sec, usec, resolution);
    return buf_cstr(&b);
}

static void test_format_interval(void)
{
    /* delay_logging_resolution_limit = 2 (Postfix's default) */
    CHECK_STR(interval(0, 0, 2), "0");
    CHECK_STR(interval(0, 4999, 2), "0");
    CHECK_STR(interval(0, 5000, 2), "0.01");
    CHECK_STR(interval(0, 10000, 2), "0.01");
    CHECK_STR(interval(0, 70000, 2), "0.07");
    CHECK_STR(interval(0, 100000, 2), "0.1");
    CHECK_STR(interval(0, 123456, 2), "0.12");
    CHECK_STR(interval(0, 190000, 2), "0.19");
    CHECK_STR(interval(0, 995000, 2), "1");
    CHECK_STR(interval(1, 0, 2), "1");
    CHECK_STR(interval(1, 230000, 2), "1.2");
    CHECK_STR(interval(1, 250000, 2), "1.3");
    CHECK_STR(interval(9, 940000, 2), "9.9");
    CHECK_STR(interval(9, 960000, 2), "10");
    CHECK_STR(interval(12, 400000, 2), "12");
    CHECK_STR(interval(12, 700000, 2), "13");
    CHECK_STR(interval(100, 0, 2), "100");
    CHECK_STR(interval(86400, 999999, 2), "86401");
    /* Finer resolution still shows two significant digits. */
    CHECK_STR(interval(0, 1234, 6), "0.0012");
    CHECK_STR(interval(0, 1, 6), "0.000001");
    CHECK_STR(interval(0, 1234, 3), "0.001");
    /* Resolution 0: whole seconds, rounded. */
    CHECK_STR(interval(0, 400000, 0), "0");
    CHECK_STR(interval(0, 600000, 0), "1");
    CHECK_STR(interval(3, 600000, 0), "4");
    /* Out-of-range input is normalised, never negative. */
    CHECK_STR(interval(-1, 0, 2), "0");
    CHECK_STR(interval(0, 1500000, 2), "1.5");
    CHECK_STR(interval(2, -500000, 2), "1.5");
    CHECK_STR(interval(0, 120000, 9), "0.12");
}

static struct timeval tv(long sec, long usec)
{
    struct timeval t;
    t.tv_sec = sec;
    t.tv_usec = usec;
    return t;
}

static void test_format_log(void)
{
    struct dsn d;
    struct buf b = BUF_INIT;
    struct dsn_stamps st;
    memset(&st, 0, sizeof(st));
    st.arrival = tv(1000, 0);
    st.active = tv(1000, 70000);
    st.handoff = tv(1000, 80000);
    st.conn_setup = tv(1000, 110000);
    st.done = tv(1000, 190000);
    struct timeval now = tv(2000, 0); /* ignored: done is set */

    dsn_set(&d, "2.0.0", -1, "250 2.0.0 Ok: queued as 4Xyz", 0, 0, 0, 0);
    dsn_format_log(&b, "bob@example.org", "Bob@Example.org",
                   "mx.example.org[192.0.2.1]:25", &st, &now, 2, &d, NULL);
    CHECK_STR(buf_cstr(&b),
              "to=<bob@example.org>, relay=mx.example.org[192.0.2.1]:25, "
              "delay=0.19, delays=0.07/0.01/0.03/0.08, dsn=2.0.0, "
              "status=sent (250 2.0.0 Ok: queued as 4Xyz)");
    dsn_free(&d);

    /* Local delivery: no connection set-up; orig_to differs. */
    buf_reset(&b);
    st.conn_setup = tv(0, 0);
    st.done = tv(0, 0);
    now = tv(1001, 200000);
    dsn_set(&d, "2.0.0", -1, "delivered to maildir", 0, 0, 0, 0);
    dsn_format_log(&b, "bob@example.org", "postmaster@example.org", "virtual",
                   &st, &now, 2, &d, NULL);
    CHECK_STR(buf_cstr(&b),
              "to=<bob@example.org>, orig_to=<postmaster@example.org>, "
              "relay=virtual, delay=1.2, delays=0.07/0.01/0/1.1, dsn=2.0.0, "
              "status=sent (delivered to maildir)");
    dsn_free(&d);

    /* Deferred by qmgr: no hand-off, the rest is charged to qmgr. */
    buf_reset(&b);
    st.handoff = tv(0, 0);
    st.reuse_count = 2;
    now = tv(1100, 0);
    dsn_set(&d, "4.4.1", -1, "connect to mx[192.0.2.1]:25: refused\r\nX", 0, 0,
            0, 0);
    dsn_format_log(&b, "a@b", NULL, NULL, &st, &now, 2, &d, NULL);
    CHECK_STR(buf_cstr(&b),
              "to=<a@b>, relay=none, conn_use=3, delay=100, "
              "delays=0.07/100/0/0, dsn=4.4.1, "
              "status=deferred (connect to mx[192.0.2.1]:25: refused??X)");
    dsn_free(&d);

    /* Bounced before qmgr: everything is the first stage. */
    buf_reset(&b);
    memset(&st, 0, sizeof(st));
    st.arrival = tv(1000, 0);
    now = tv(1003, 0);
    dsn_set(&d, "5.1.1", -1, "unknown user", 0, 0, 0, 0);
    dsn_format_log(&b, "c@d", "", "local", &st, &now, 2, &d, "expired");
    CHECK_STR(buf_cstr(&b), "to=<c@d>, relay=local, delay=3, delays=3/0/0/0, "
                            "dsn=5.1.1, status=expired (unknown user)");
    dsn_free(&d);

    /* Clock going backwards prints zero, not a negative number. */
    buf_reset(&b);
    now = tv(900, 0);
    dsn_set(&d, "5.0.0", -1, "x", 0, 0, 0, 0);
    dsn_format_log(&b, "c@d", NULL, "local", &st, &now, 2, &d, NULL);
    CHECK(strstr(buf_cstr(&b), "delay=0, delays=0/0/0/0, dsn=5.0.0, "
                               "status=bounced (x)") != NULL);
    dsn_free(&d);
    buf_free(&b);
}

int main(void)
{
    UNIT_RUN(test_status_valid);
    UNIT_RUN(test_status_class);
    UNIT_RUN(test_set_copy_free);
    UNIT_RUN(test_action_names);
    UNIT_RUN(test_parse_reply);
    UNIT_RUN(test_notify_ret);
    UNIT_RUN(test_xtext);
    UNIT_RUN(test_format_interval);
    UNIT_RUN(test_format_log);
    return unit_summary();
}
