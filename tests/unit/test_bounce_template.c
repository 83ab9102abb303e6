/* test_bounce_template.c: unit tests for lib/message/bounce_template (bounce(5)
 * template files and Postern's notice texts shown as templates, for
 * postconf -b and -t). */
#include "unit.h"

#include <ctype.h>

#include "message/bounce_msg.h"
#include "message/bounce_template.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/str.h"

static struct strlist warnings;

static void catch_warning(const char *message)
{
    strlist_add(&warnings, message);
}

static int warned(const char *text)
{
    int found = 0;
    for (size_t i = 0; i < warnings.count; i++)
        found += strstr(warnings.items[i], text) != NULL;
    return found;
}

static void load_main_cf(const char *text)
{
    struct buf err = BUF_INIT;
    config_reset();
    config_set_warning_handler(catch_warning);
    CHECK_INT(config_load_string(text, strlen(text), "/cfg", "/cfg/main.cf",
                                 &err),
              0);
    buf_free(&err);
}

static int parse(struct bounce_templates *ts, const char *text,
                 struct buf *err)
{
    strlist_free(&warnings);
    buf_reset(err);
    return bounce_templates_parse(ts, text, strlen(text), "/cfg/bounce.cf",
                                  catch_warning, err);
}

/* Text with every run of whitespace made one space (kept until the
 * next call but one). */
static const char *squeeze(const char *text)
{
    static struct buf bufs[2];
    static int which;
    struct buf *b = &bufs[which ^= 1];
    buf_reset(b);
    for (const char *p = text; *p; p++) {
        if (isspace((unsigned char)*p)) {
            if (b->len == 0 || b->data[b->len - 1] != ' ')
                buf_append_char(b, ' ');
        } else {
            buf_append_char(b, *p);
        }
    }
    return buf_cstr(b);
}

static void test_builtin_templates(void)
{
    load_main_cf("myhostname = mx.example.com\n"
                 "delay_warning_time = 4h\n"
                 "maximal_queue_lifetime = 5d\n");
    struct bounce_templates ts;
    struct buf out = BUF_INIT, err = BUF_INIT;
    memset(&ts, 0, sizeof(ts));
    bounce_templates_builtin(&ts, 0);
    CHECK(ts.t[BOUNCE_TEMPLATE_FAILURE].present);
    CHECK(ts.t[BOUNCE_TEMPLATE_DELAY].present);
    CHECK(ts.t[BOUNCE_TEMPLATE_SUCCESS].present);
    CHECK(!ts.t[BOUNCE_TEMPLATE_VERIFY].present); /* no verify notices */
    bounce_templates_dump(&ts, &out);
    const char *text = buf_cstr(&out);
    CHECK(str_has_prefix(text, "failure_template = <<EOF\n"
                               "Charset: us-ascii\n"
                               "From: MAILER-DAEMON (Mail Delivery System)\n"
                               "Subject: Undelivered Mail Returned to Sender\n"
                               "Postmaster-Subject: Postmaster Copy: "
                               "Undelivered Mail Returned to Sender\n\n"
                               "This is the mail delivery system at host "
                               "$myhostname.\n"));
    CHECK(strstr(text, "                   The $mail_name program\nEOF\n\n"
                       "delay_template = <<EOF\n") != NULL);
    CHECK(strstr(text, "delayed for $delayed_for.") != NULL);
    CHECK(strstr(text, "until $retry_until,") != NULL);
    CHECK(strstr(text, "Subject: Successful Mail Delivery Report\n\n") != NULL);
    CHECK(str_has_suffix(text, "The $mail_name program\nEOF\n"));
    /* The same text as a real notice's first part, placeholders aside. */
    struct bounce_notice n;
    memset(&n, 0, sizeof(n));
    n.kind = BOUNCE_SUCCESS;
    n.myhostname = "$myhostname";
    n.mail_name = "$mail_name";
    struct bounce_mem_source empty = {"", 0, 0};
    n.read_original = bounce_read_mem;
    n.original_ctx = &empty;
    buf_reset(&err);
    bounce_msg_text(&n, NULL, &err);
    str_trim(err.data);
    CHECK(strstr(text, err.data) != NULL);

    /* -t output reads back as templates; -b expands them. */
    struct bounce_templates again;
    memset(&again, 0, sizeof(again));
    CHECK_INT(parse(&again, text, &err), 0);
    CHECK_INT(warnings.count, 0);
    buf_reset(&out);
    CHECK_INT(bounce_templates_expand(&again, &out, &err), 0);
    text = buf_cstr(&out);
    CHECK(str_has_prefix(text, "expanded_failure_text = <<EOF\n"
                               "This is the mail delivery system at host "
                               "mx.example.com.\n"));
    CHECK(strstr(text, "delayed for 4 hours.") != NULL);
    CHECK(strstr(text, "The Postern program\nEOF\n\nexpanded_delay_text") != NULL);
    CHECK(strstr(text, "$") == NULL);

    /* The expanded built-ins say the same (lines fold at other places,
     * as the placeholders are shorter or longer than their values). */
    struct bounce_templates expanded;
    memset(&expanded, 0, sizeof(expanded));
    bounce_templates_builtin(&expanded, 1);
    struct buf out2 = BUF_INIT;
    CHECK_INT(bounce_templates_expand(&expanded, &out2, &err), 0);
    CHECK_STR(squeeze(buf_cstr(&out2)), squeeze(buf_cstr(&out)));
    bounce_templates_free(&ts);
    bounce_templates_free(&again);
    bounce_templates_free(&expanded);
    buf_free(&out);
    buf_free(&out2);
    buf_free(&err);
}

static void test_template_file(void)
{
    load_main_cf("myhostname = mx.example.com\n"
                 "delay_warning_time = 90m\n"
                 "maximal_queue_lifetime = 2w\n"
                 "site = Example Corp\n");
    struct bounce_templates ts;
    struct buf out = BUF_INIT, err = BUF_INIT;
    memset(&ts, 0, sizeof(ts));
    bounce_templates_builtin(&ts, 0);
    CHECK_INT(parse(&ts,
                    "# comment\n"
                    "\n"
                    "delay_template = <<END\n"
                    "charset: us-ascii\n"
                    "Subject: Still trying\n"
                    "Postmaster-Subject: PM: still trying\n"
                    "\n"
                    "\n"
                    "$site at $myhostname: warned after "
                    "$delay_warning_time_minutes minutes,\n"
                    "\n"
                    "retried for $maximal_queue_lifetime_days days "
                    "($maximal_queue_lifetime_weeks weeks).\n"
                    "END\n"
                    "verify_template = <<EOF\n"
                    "Enclosed is the report for $myhostname.\n"
                    "EOF\n"
                    "success_template = <<EOF\n"
                    "Postmaster-Subject: not for success\n"
                    "\n"
                    "text\n"
                    "EOF\n"
                    "failure_template = <<EOF\n"
                    "X-Header: no\n\ntext\n"
                    "EOF\n"
                    "bogus_template = <<EOF\n"
                    "text\n"
                    "EOF\n",
                    &err),
              0);
    CHECK_INT(warned("inapplicable \"Postmaster-Subject\" header label in "
                     "success template"), 1);
    CHECK_INT(warned("unknown \"X-Header\" header label in failure "
                     "template"), 1);
    CHECK_INT(warned("/cfg/bounce.cf, line 26: unknown template name: "
                     "bogus_template"), 1);
    CHECK_INT(warnings.count, 3);
    /* Skipped templates leave the built-in ones in place. */
    CHECK(strstr(ts.t[BOUNCE_TEMPLATE_SUCCESS].subject, "Successful") != NULL);
    CHECK_STR(ts.t[BOUNCE_TEMPLATE_DELAY].subject, "Still trying");
    CHECK_STR(ts.t[BOUNCE_TEMPLATE_VERIFY].subject,
              "Undelivered Mail Returned to Sender");
    bounce_templates_dump(&ts, &out);
    CHECK(strstr(buf_cstr(&out),
                 "delay_template = <<EOF\n"
                 "Charset: us-ascii\n"
                 "From: MAILER-DAEMON (Mail Delivery System)\n"
                 "Subject: Still trying\n"
                 "Postmaster-Subject: PM: still trying\n\n"
                 "$site at $myhostname: warned after "
                 "$delay_warning_time_minutes minutes,\n\n"
                 "retried for $maximal_queue_lifetime_days days "
                 "($maximal_queue_lifetime_weeks weeks).\nEOF\n") != NULL);
    /* verify has no postmaster subject. */
    CHECK(strstr(buf_cstr(&out), "verify_template = <<EOF\nCharset: us-ascii\n"
                                 "From: MAILER-DAEMON (Mail Delivery System)\n"
                                 "Subject: Undelivered Mail Returned to "
                                 "Sender\n\nEnclosed") != NULL);
    buf_reset(&out);
    CHECK_INT(bounce_templates_expand(&ts, &out, &err), 0);
    CHECK(strstr(buf_cstr(&out),
                 "expanded_delay_text = <<EOF\n"
                 "Example Corp at mx.example.com: warned after 90 minutes,\n\n"
                 "retried for 14 days (2 weeks).\nEOF\n") != NULL);
    CHECK(str_has_suffix(buf_cstr(&out),
                         "expanded_verify_text = <<EOF\n"
                         "Enclosed is the report for mx.example.com.\nEOF\n"));
    bounce_templates_free(&ts);
    buf_free(&out);
    buf_free(&err);
}

/* A text with a line "EOF" is dumped under another end marker, so that
 * postconf -t output reads back. */
static void test_dump_marker_not_in_text(void)
{
    static const char text[] = "failure_template = <<END\n"
                               "Subject: s\n\nbefore\nEOF\nafter\nEND\n";
    struct bounce_templates ts, again;
    memset(&ts, 0, sizeof(ts));
    memset(&again, 0, sizeof(again));
    struct buf err = BUF_INIT, dump = BUF_INIT, dump2 = BUF_INIT;
    CHECK_INT(bounce_templates_parse(&ts, text, sizeof(text) - 1, "t", NULL,
                                     &err),
              0);
    bounce_templates_dump(&ts, &dump);
    CHECK(strstr(buf_cstr(&dump), "failure_template = <<EOF1\n") != NULL);
    CHECK(strstr(buf_cstr(&dump), "\nEOF\nafter\nEOF1\n") != NULL);
    CHECK_INT(bounce_templates_parse(&again, dump.data, dump.len, "dump", NULL,
                                     &err),
              0);
    bounce_templates_dump(&again, &dump2);
    CHECK_STR(buf_cstr(&dump2), buf_cstr(&dump));
    bounce_templates_free(&ts);
    bounce_templates_free(&again);
    buf_free(&err);
    buf_free(&dump);
    buf_free(&dump2);
}

static void test_errors(void)
{
    load_main_cf("myhostname = mx.example.com\n");
    struct bounce_templates ts;
    struct buf out = BUF_INIT, err = BUF_INIT;
    memset(&ts, 0, sizeof(ts));
    bounce_templates_builtin(&ts, 0);
    CHECK_INT(parse(&ts, "failure_template\n", &err), -1);
    CHECK_STR(buf_cstr(&err), "/cfg/bounce.cf, line 1: expected name = "
                              "value: \"failure_template\"");
    CHECK_INT(parse(&ts, "\n\nfailure_template = <<\n", &err), -1);
    CHECK_STR(buf_cstr(&err),
              "/cfg/bounce.cf, line 3: missing end marker after <<");
    CHECK_INT(parse(&ts, "failure_template = << -x\n", &err), -1);
    CHECK(strstr(buf_cstr(&err), "malformed end marker") != NULL);
    /* A missing end marker is a warning; the text runs to the end. */
    CHECK_INT(parse(&ts, "delay_template = <<EOF\nSubject: S\n\nend\n", &err),
              0);
    CHECK_INT(warned("missing \"EOF\" end marker"), 1);
    CHECK_STR(ts.t[BOUNCE_TEMPLATE_DELAY].text.items[0], "end");
    /* Template problems skip the template. */
    CHECK_INT(parse(&ts, "success_template = <<EOF\nSubject:\n\nx\nEOF\n"
                         "failure_template = <<EOF\nSubject: s\n\n\nEOF\n"
                         "verify_template = <<EOF\n\xc3\xa9t\xc3\xa9\nEOF\n",
                    &err),
              0);
    CHECK_INT(warned("empty \"Subject\" header value in success template"), 1);
    CHECK_INT(warned("missing message text in failure template"), 1);
    CHECK_INT(warned("8-bit message text in verify template"), 1);
    CHECK(!ts.t[BOUNCE_TEMPLATE_VERIFY].present);
    CHECK_INT(parse(&ts, "verify_template = <<EOF\nCharset: utf-8\n\n"
                         "\xc3\xa9t\xc3\xa9\nEOF\n",
                    &err),
              0);
    CHECK_INT(warnings.count, 0);
    CHECK(ts.t[BOUNCE_TEMPLATE_VERIFY].present);
    /* A $name that is not a parameter is an error, as in Postfix. */
    CHECK_INT(parse(&ts, "failure_template = <<EOF\nhost ${myhostname}, "
                         "$no_such_name\nEOF\n",
                    &err),
              0);
    buf_reset(&err);
    CHECK_INT(bounce_templates_expand(&ts, &out, &err), -1);
    CHECK_STR(buf_cstr(&err), "undefined $no_such_name in failure template: "
                              "host ${myhostname}, $no_such_name");
    CHECK_INT(out.len, 0);
    CHECK_INT(parse(&ts, "x_template = y\0z", &err), 0); /* strlen stops */
    CHECK_INT(bounce_templates_parse(&ts, "a = b\0c", 7, "/t", NULL, &err), -1);
    bounce_templates_free(&ts);
    buf_free(&out);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_builtin_templates);
    UNIT_RUN(test_template_file);
    UNIT_RUN(test_dump_marker_not_in_text);
    UNIT_RUN(test_errors);
    strlist_free(&warnings);
    config_reset();
    return unit_summary();
}
