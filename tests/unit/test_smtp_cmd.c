/* test_smtp_cmd.c: unit tests for lib/smtp/smtp_cmd (SMTP command parsing,
 * ESMTP parameters, replies on bad syntax, xtext). Each table row is a
 * command line and either the reply it must get or a rendering of what
 * it must parse to. */
#include "unit.h"

#include "message/address.h"
#include "base/buf.h"
#include "smtp/smtp_cmd.h"
#include "base/xtext.h"

static void render(const struct smtp_cmd *cmd, struct buf *out)
{
    static const char *const bodies[] = {"", "7BIT", "8BITMIME", "BINARYMIME"};
    static const char *const rets[] = {"", "FULL", "HDRS"};
    buf_set_str(out, smtp_verb_name(cmd->verb));
    switch (cmd->verb) {
    case SMTP_VERB_MAIL:
    case SMTP_VERB_RCPT:
        buf_appendf(out, " <%s>", cmd->addr.data);
        if (cmd->source_route)
            buf_append_str(out, " route");
        if (cmd->params & SMTP_PARAM_SIZE)
            buf_appendf(out, " size=%llu", cmd->size);
        if (cmd->params & SMTP_PARAM_BODY)
            buf_appendf(out, " body=%s", bodies[cmd->body]);
        if (cmd->smtputf8)
            buf_append_str(out, " smtputf8");
        if (cmd->requiretls)
            buf_append_str(out, " requiretls");
        if (cmd->params & SMTP_PARAM_RET)
            buf_appendf(out, " ret=%s", rets[cmd->ret]);
        if (cmd->params & SMTP_PARAM_ENVID)
            buf_appendf(out, " envid=%s", cmd->envid.data);
        if (cmd->params & SMTP_PARAM_AUTH)
            buf_appendf(out, " auth=%s", cmd->auth.data);
        if (cmd->params & SMTP_PARAM_NOTIFY)
            buf_appendf(out, " notify=%u", cmd->notify);
        if (cmd->params & SMTP_PARAM_ORCPT)
            buf_appendf(out, " orcpt=%s;%s", cmd->orcpt_type.data,
                        cmd->orcpt_addr.data);
        break;
    case SMTP_VERB_BDAT:
        buf_appendf(out, " %llu%s", cmd->chunk_size, cmd->last ? " LAST" : "");
        break;
    case SMTP_VERB_AUTH:
        buf_appendf(out, " %s [%s]", cmd->arg.data, cmd->arg2.data);
        break;
    default:
        if (cmd->arg.len)
            buf_appendf(out, " [%s]", cmd->arg.data);
        break;
    }
}

struct cmd_case {
    const char *line;
    unsigned flags;
    const char *expect; /* rendering, or the reply when it starts with a digit */
};

#define S SMTP_CMD_STRICT
#define U SMTP_CMD_UTF8
#define L SMTP_CMD_LMTP

static const struct cmd_case cases[] = {
    /* verbs */
    {"EHLO mail.example.com", 0, "EHLO [mail.example.com]"},
    {"ehlo   mail.example.com  ", 0, "EHLO [mail.example.com]"},
    {"HELO [192.0.2.1]", 0, "HELO [[192.0.2.1]]"},
    {"HELO", 0, "501 5.5.2 Syntax: HELO hostname"},
    {"EHLO ", 0, "501 5.5.2 Syntax: EHLO hostname"},
    {"DATA", 0, "DATA"},
    {"data", 0, "DATA"},
    {"DATA x", 0, "501 5.5.4 Syntax: DATA"},
    {"RSET", 0, "RSET"},
    {"RSET now", 0, "501 5.5.4 Syntax: RSET"},
    {"NOOP", 0, "NOOP"},
    {"NOOP hello there", 0, "NOOP [hello there]"},
    {"QUIT", 0, "QUIT"},
    {"HELP", 0, "HELP"},
    {"HELP MAIL", 0, "HELP [MAIL]"},
    {"VRFY postmaster", 0, "VRFY [postmaster]"},
    {"VRFY", 0, "501 5.5.4 Syntax: VRFY address"},
    {"EXPN staff", 0, "EXPN [staff]"},
    {"EXPN", 0, "501 5.5.4 Syntax: EXPN mailing-list"},
    {"STARTTLS", 0, "STARTTLS"},
    {"STARTTLS now", 0, "501 5.5.4 Syntax: STARTTLS"},
    {"AUTH PLAIN", 0, "AUTH PLAIN []"},
    {"AUTH PLAIN AHVzZXIAcGFzcw==", 0, "AUTH PLAIN [AHVzZXIAcGFzcw==]"},
    {"AUTH", 0, "501 5.5.4 Syntax: AUTH mechanism"},
    {"AUTH PLAIN a b", 0, "501 5.5.4 Syntax: AUTH mechanism"},
    {"AUTH PL/AIN", 0, "501 5.5.4 Syntax: AUTH mechanism"},
    {"BDAT 1000", 0, "BDAT 1000"},
    {"BDAT 0 LAST", 0, "BDAT 0 LAST"},
    {"bdat 42 last", 0, "BDAT 42 LAST"},
    {"BDAT", 0, "501 5.5.4 Syntax: BDAT count [LAST]"},
    {"BDAT -1", 0, "501 5.5.4 Syntax: BDAT count [LAST]"},
    {"BDAT 10 FIRST", 0, "501 5.5.4 Syntax: BDAT count [LAST]"},
    {"BDAT 10 LAST x", 0, "501 5.5.4 Syntax: BDAT count [LAST]"},
    {"BDAT 99999999999999999999", 0, "501 5.5.4 Syntax: BDAT count [LAST]"},
    /* LMTP's LHLO: a verb for lmtpd alone; smtpd does not know it. */
    {"LHLO mx.example.com", L, "LHLO [mx.example.com]"},
    {"lhlo  mx.example.com ", L | S, "LHLO [mx.example.com]"},
    {"LHLO", L, "501 5.5.2 Syntax: LHLO hostname"},
    {"LHLO mx.example.com", 0, "502 5.5.2 Error: command not recognized"},
    {"EHLO mx.example.com", L, "EHLO [mx.example.com]"},
    {"FOO bar", 0, "502 5.5.2 Error: command not recognized"},
    {"MAILFROM:<a@b.c>", 0, "502 5.5.2 Error: command not recognized"},
    {"", 0, "500 5.5.2 Error: bad syntax"},
    {"   ", 0, "500 5.5.2 Error: bad syntax"},

    /* MAIL FROM */
    {"MAIL FROM:<user@example.com>", 0, "MAIL <user@example.com>"},
    {"mail from:<user@example.com>", 0, "MAIL <user@example.com>"},
    {"MAIL FROM: <user@example.com>", 0, "MAIL <user@example.com>"},
    {"MAIL FROM: <user@example.com>", S, "MAIL <user@example.com>"},
    {"MAIL FROM:<>", 0, "MAIL <>"},
    {"MAIL FROM:<> SIZE=0", 0, "MAIL <> size=0"},
    {"MAIL FROM:<\"john doe\"@example.com>", 0, "MAIL <john doe@example.com>"},
    {"MAIL FROM:<\"a>b\"@example.com>", 0, "MAIL <a>b@example.com>"},
    {"MAIL FROM:<user@[192.0.2.1]>", 0, "MAIL <user@[192.0.2.1]>"},
    {"MAIL FROM:<@a.example,@b.example:user@d.example>", 0,
     "MAIL <user@d.example> route"},
    {"MAIL FROM:<@[10.0.0.1]:user@d.example>", 0, "MAIL <user@d.example> route"},
    {"MAIL FROM:user@example.com", 0, "MAIL <user@example.com>"},
    {"MAIL FROM:user@example.com SIZE=10", 0, "MAIL <user@example.com> size=10"},
    {"MAIL FROM:user@example.com", S, "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<user>", 0, "MAIL <user>"},
    {"MAIL", 0, "501 5.5.4 Syntax: MAIL FROM:<address>"},
    {"MAIL FROM:", 0, "501 5.5.4 Syntax: MAIL FROM:<address>"},
    {"MAIL FROM", 0, "501 5.5.4 Syntax: MAIL FROM:<address>"},
    {"MAIL FROM :<a@b.c>", 0, "501 5.5.4 Syntax: MAIL FROM:<address>"},
    {"MAIL TO:<a@b.c>", 0, "501 5.5.4 Syntax: MAIL FROM:<address>"},
    {"MAIL FROM:<a@b.c", 0, "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<a@b.c>x", 0, "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<<a@b.c>>", 0, "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<a b@c.d>", 0, "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<a@b..c>", 0, "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<@a.example:>", 0, "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<@a..example:u@d.example>", 0, "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<@a.example>", 0, "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<a@b.c> (comment)", 0, "555 5.5.4 Unsupported option: (comment)"},
    /* MAIL parameters */
    {"MAIL FROM:<a@b.c> SIZE=10240000", 0, "MAIL <a@b.c> size=10240000"},
    {"MAIL FROM:<a@b.c> size=5 body=8bitmime", 0, "MAIL <a@b.c> size=5 body=8BITMIME"},
    {"MAIL FROM:<a@b.c> BODY=7BIT", 0, "MAIL <a@b.c> body=7BIT"},
    {"MAIL FROM:<a@b.c> BODY=BINARYMIME", 0, "MAIL <a@b.c> body=BINARYMIME"},
    {"MAIL FROM:<a@b.c> BODY=9BIT", 0, "555 5.5.4 Unsupported option: BODY=9BIT"},
    {"MAIL FROM:<a@b.c> SIZE=", 0, "501 5.5.4 Bad message size syntax"},
    {"MAIL FROM:<a@b.c> SIZE=12k", 0, "501 5.5.4 Bad message size syntax"},
    {"MAIL FROM:<a@b.c> SIZE=-1", 0, "501 5.5.4 Bad message size syntax"},
    {"MAIL FROM:<a@b.c> SIZE=99999999999999999999", 0,
     "552 5.3.4 Message size exceeds file system imposed limit"},
    {"MAIL FROM:<a@b.c> SIZE=9223372036854775807", 0,
     "MAIL <a@b.c> size=9223372036854775807"},
    {"MAIL FROM:<a@b.c> SIZE=9223372036854775808", 0,
     "552 5.3.4 Message size exceeds file system imposed limit"},
    {"MAIL FROM:<a@b.c> SIZE=1 SIZE=2", 0, "501 5.5.4 Error: duplicate SIZE parameter"},
    {"MAIL FROM:<a@b.c> BODY=7BIT BODY=8BITMIME", 0,
     "501 5.5.4 Error: duplicate BODY parameter"},
    {"MAIL FROM:<a@b.c> SMTPUTF8", 0, "MAIL <a@b.c> smtputf8"},
    {"MAIL FROM:<a@b.c> SMTPUTF8 SMTPUTF8", 0,
     "501 5.5.4 Error: duplicate SMTPUTF8 parameter"},
    {"MAIL FROM:<a@b.c> SMTPUTF8=yes", 0, "555 5.5.4 Unsupported option: SMTPUTF8=yes"},
    {"MAIL FROM:<a@b.c> REQUIRETLS", 0, "MAIL <a@b.c> requiretls"},
    {"MAIL FROM:<a@b.c> requiretls SMTPUTF8", 0, "MAIL <a@b.c> smtputf8 requiretls"},
    {"MAIL FROM:<a@b.c> REQUIRETLS REQUIRETLS", 0,
     "501 5.5.4 Error: duplicate REQUIRETLS parameter"},
    {"MAIL FROM:<a@b.c> REQUIRETLS=YES", 0,
     "555 5.5.4 Unsupported option: REQUIRETLS=YES"},
    {"RCPT TO:<a@b.c> REQUIRETLS", 0, "555 5.5.4 Unsupported option: REQUIRETLS"},
    {"MAIL FROM:<a@b.c> RET=FULL", 0, "MAIL <a@b.c> ret=FULL"},
    {"MAIL FROM:<a@b.c> ret=hdrs", 0, "MAIL <a@b.c> ret=HDRS"},
    {"MAIL FROM:<a@b.c> RET=ALL", 0, "501 5.5.4 Bad RET parameter syntax"},
    {"MAIL FROM:<a@b.c> RET=FULL RET=HDRS", 0, "501 5.5.4 Bad RET parameter syntax"},
    {"MAIL FROM:<a@b.c> ENVID=QQ314159+2Bx", 0, "MAIL <a@b.c> envid=QQ314159+x"},
    {"MAIL FROM:<a@b.c> ENVID=a+2", 0, "501 5.5.4 Bad ENVID parameter syntax"},
    {"MAIL FROM:<a@b.c> ENVID=a+0A", 0, "501 5.5.4 Bad ENVID parameter syntax"},
    {"MAIL FROM:<a@b.c> ENVID=", 0, "501 5.5.4 Bad ENVID parameter syntax"},
    {"MAIL FROM:<a@b.c> ENVID=x ENVID=y", 0, "501 5.5.4 Bad ENVID parameter syntax"},
    {"MAIL FROM:<a@b.c> ENVID="
     "12345678901234567890123456789012345678901234567890"
     "12345678901234567890123456789012345678901234567890x",
     0, "501 5.5.4 Bad ENVID parameter syntax"},
    {"MAIL FROM:<a@b.c> AUTH=<>", 0, "MAIL <a@b.c> auth=<>"},
    {"MAIL FROM:<a@b.c> AUTH=e+3Dmc2@example.com", 0, "MAIL <a@b.c> auth=e=mc2@example.com"},
    {"MAIL FROM:<a@b.c> AUTH=a=b", 0, "501 5.5.4 Bad AUTH parameter syntax"},
    {"MAIL FROM:<a@b.c> NOTIFY=NEVER", 0, "555 5.5.4 Unsupported option: NOTIFY=NEVER"},
    {"MAIL FROM:<a@b.c> FOO=BAR", 0, "555 5.5.4 Unsupported option: FOO=BAR"},
    {"MAIL FROM:<a@b.c> SIZE", 0, "555 5.5.4 Unsupported option: SIZE"},
    {"MAIL FROM:<a@b.c> \xff", 0, "555 5.5.4 Unsupported option: ?"},
    {"MAIL FROM:<a@b.c> A B C D E F G H I J K L M N O P Q", 0,
     "501 5.5.4 Error: too many parameters"},
    /* SMTPUTF8 */
    {"MAIL FROM:<j\xc3\xb6rg@example.com> SMTPUTF8", 0,
     "MAIL <j\xc3\xb6rg@example.com> smtputf8"},
    {"MAIL FROM:<j\xc3\xb6rg@example.com>", 0,
     "553 5.6.7 Must declare SMTPUTF8 to send unicode address"},
    {"MAIL FROM:<bad\xc3@example.com> SMTPUTF8", 0, "501 5.1.7 Bad sender address syntax"},

    /* RCPT TO */
    {"RCPT TO:<user@example.com>", 0, "RCPT <user@example.com>"},
    {"rcpt to: <user@example.com>", 0, "RCPT <user@example.com>"},
    {"RCPT TO:<postmaster>", 0, "RCPT <postmaster>"},
    {"RCPT TO:<Postmaster>", S, "RCPT <Postmaster>"},
    {"RCPT TO:<>", 0, "501 5.1.3 Bad recipient address syntax"},
    {"RCPT TO:", 0, "501 5.5.4 Syntax: RCPT TO:<address>"},
    {"RCPT FROM:<a@b.c>", 0, "501 5.5.4 Syntax: RCPT TO:<address>"},
    {"RCPT TO:<a@b.c", 0, "501 5.1.3 Bad recipient address syntax"},
    {"RCPT TO:<a@>", 0, "501 5.1.3 Bad recipient address syntax"},
    {"RCPT TO:<j\xc3\xb6rg@b\xc3\xbc" ".example>", U,
     "RCPT <j\xc3\xb6rg@b\xc3\xbc" ".example>"},
    {"RCPT TO:<j\xc3\xb6rg@example.com>", 0,
     "553 5.6.7 Must declare SMTPUTF8 to send unicode address"},
    {"RCPT TO:<a@b.c> SMTPUTF8", 0, "555 5.5.4 Unsupported option: SMTPUTF8"},
    /* relay tricks parse; address_routing() flags them */
    {"RCPT TO:<user%other@ours.example>", 0, "RCPT <user%other@ours.example>"},
    {"RCPT TO:<other!user@ours.example>", 0, "RCPT <other!user@ours.example>"},
    {"RCPT TO:<\"user@other\"@ours.example>", 0, "RCPT <user@other@ours.example>"},
    {"RCPT TO:<user@other@ours.example>", 0, "RCPT <user@other@ours.example>"},
    {"RCPT TO:<user@other@ours.example>", S, "501 5.1.3 Bad recipient address syntax"},
    {"RCPT TO:<@ours.example:user@other.example>", 0, "RCPT <user@other.example> route"},
    /* RCPT parameters */
    {"RCPT TO:<a@b.c> NOTIFY=NEVER", 0, "RCPT <a@b.c> notify=1"},
    {"RCPT TO:<a@b.c> NOTIFY=SUCCESS,FAILURE,DELAY", 0, "RCPT <a@b.c> notify=14"},
    {"RCPT TO:<a@b.c> notify=delay", 0, "RCPT <a@b.c> notify=8"},
    {"RCPT TO:<a@b.c> NOTIFY=NEVER,DELAY", 0, "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
    {"RCPT TO:<a@b.c> NOTIFY=SUCCESS,,DELAY", 0,
     "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
    {"RCPT TO:<a@b.c> NOTIFY=DELAY,DELAY", 0,
     "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
    {"RCPT TO:<a@b.c> NOTIFY=", 0, "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
    {"RCPT TO:<a@b.c> NOTIFY=NEVER NOTIFY=NEVER", 0,
     "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;a+40b.c", 0, "RCPT <a@b.c> orcpt=rfc822;a@b.c"},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;user+2Btag@x.org NOTIFY=FAILURE", 0,
     "RCPT <a@b.c> notify=4 orcpt=rfc822;user+tag@x.org"},
    {"RCPT TO:<a@b.c> ORCPT=rfc822", 0, "501 5.5.4 Error: Bad ORCPT parameter syntax"},
    {"RCPT TO:<a@b.c> ORCPT=;a@b.c", 0, "501 5.5.4 Error: Bad ORCPT parameter syntax"},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;", 0, "501 5.5.4 Error: Bad ORCPT parameter syntax"},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;a+0Db", 0, "501 5.5.4 Error: Bad ORCPT parameter syntax"},
    {"RCPT TO:<a@b.c> ORCPT=rf/c;a", 0, "501 5.5.4 Error: Bad ORCPT parameter syntax"},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;a ORCPT=rfc822;b", 0,
     "501 5.5.4 Error: Bad ORCPT parameter syntax"},
    {"RCPT TO:<a@b.c> SIZE=10", 0, "555 5.5.4 Unsupported option: SIZE=10"},

    /* bad bytes and bounds */
    {"MAIL FROM:<a@b.c>\r", 0, "500 5.5.2 Error: bad syntax"},
    {"NOOP \x01", 0, "500 5.5.2 Error: bad syntax"},
    {"NOOP \x7f", 0, "500 5.5.2 Error: bad syntax"},
    {"EHLO\ta.example", 0, "EHLO [a.example]"},
};

static void test_command_table(void)
{
    struct smtp_cmd cmd;
    struct buf got = BUF_INIT;
    smtp_cmd_init(&cmd);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct cmd_case *c = &cases[i];
        int rc = smtp_cmd_parse(&cmd, c->line, strlen(c->line), c->flags);
        int want_error = c->expect[0] >= '0' && c->expect[0] <= '9';
        if (rc == 0)
            render(&cmd, &got);
        else
            buf_set_str(&got, cmd.reply.data);
        if (strcmp(got.data, c->expect) != 0 || (rc != 0) != want_error)
            printf("#   case %zu: \"%s\"\n", i, c->line);
        CHECK_STR(got.data, c->expect);
        CHECK_INT(rc, want_error ? -1 : 0);
        if (want_error)
            CHECK_INT(cmd.code, atoi(c->expect));
    }
    smtp_cmd_free(&cmd);
    buf_free(&got);
}

static void test_mail_details(void)
{
    struct smtp_cmd cmd;
    smtp_cmd_init(&cmd);
    const char *line = "MAIL FROM:<\"john doe\"@Example.COM> BODY=8BITMIME";
    CHECK_INT(smtp_cmd_parse(&cmd, line, strlen(line), 0), 0);
    CHECK_STR(cmd.addr_raw.data, "\"john doe\"@Example.COM");
    CHECK_INT(cmd.addr_info, ADDRESS_INFO_DOMAIN | ADDRESS_INFO_QUOTED);
    CHECK_STR(cmd.verb_text, "MAIL");
    /* A second parse resets everything from the first. */
    CHECK_INT(smtp_cmd_parse(&cmd, "MAIL FROM:<>", 12, 0), 0);
    CHECK_STR(cmd.addr.data, "");
    CHECK_INT(cmd.params, 0);
    CHECK_INT(cmd.body, SMTP_BODY_NONE);
    /* The verb is known even when its arguments are bad. */
    CHECK_INT(smtp_cmd_parse(&cmd, "RCPT TO:<>", 10, 0), -1);
    CHECK_INT(cmd.verb, SMTP_VERB_RCPT);
    /* The routing tricks come out flagged. */
    static const char *const tricks[] = {
        "RCPT TO:<user%other@ours.example>", "RCPT TO:<other!user@ours.example>",
        "RCPT TO:<\"user@other\"@ours.example>", "RCPT TO:<user@other@ours.example>"};
    for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
        CHECK_INT(smtp_cmd_parse(&cmd, tricks[i], strlen(tricks[i]), 0), 0);
        CHECK(address_routing(cmd.addr.data) != 0);
        CHECK_STR(address_domain(cmd.addr.data), "ours.example");
    }
    /* A source route is dropped: the domain is the final one. */
    line = "RCPT TO:<@ours.example:user@other.example>";
    CHECK_INT(smtp_cmd_parse(&cmd, line, strlen(line), 0), 0);
    CHECK_STR(address_domain(cmd.addr.data), "other.example");
    CHECK_INT(cmd.source_route, 1);
    /* Not NUL-terminated input: the length is what counts. */
    CHECK_INT(smtp_cmd_parse(&cmd, "DATAXYZ", 4, 0), 0);
    CHECK_INT(cmd.verb, SMTP_VERB_DATA);
    /* Embedded NUL. */
    CHECK_INT(smtp_cmd_parse(&cmd, "NOOP \0x", 7, 0), -1);
    CHECK_INT(cmd.code, 500);
    smtp_cmd_free(&cmd);
}

static void test_line_bounds(void)
{
    struct smtp_cmd cmd;
    struct buf line = BUF_INIT;
    smtp_cmd_init(&cmd);
    buf_set_str(&line, "NOOP ");
    while (line.len < SMTP_CMD_LINE_MAX)
        buf_append_char(&line, 'x');
    CHECK_INT(smtp_cmd_parse(&cmd, line.data, line.len, 0), 0);
    buf_append_char(&line, 'x');
    CHECK_INT(smtp_cmd_parse(&cmd, line.data, line.len, 0), -1);
    CHECK_STR(cmd.reply.data, "500 5.5.2 Error: line too long");
    /* An over-long local part is a bad address, not a crash. */
    buf_set_str(&line, "MAIL FROM:<");
    for (int i = 0; i < 300; i++)
        buf_append_char(&line, 'a');
    buf_append_str(&line, "@x.org>");
    CHECK_INT(smtp_cmd_parse(&cmd, line.data, line.len, 0), -1);
    CHECK_STR(cmd.reply.data, "501 5.1.7 Bad sender address syntax");
    /* HELO names are bounded too. */
    buf_set_str(&line, "EHLO ");
    for (int i = 0; i < 300; i++)
        buf_append_char(&line, 'a');
    CHECK_INT(smtp_cmd_parse(&cmd, line.data, line.len, 0), -1);
    CHECK_INT(cmd.code, 501);
    /* The echo of an unknown parameter is bounded. */
    buf_set_str(&line, "MAIL FROM:<a@b.c> X=");
    for (int i = 0; i < 1000; i++)
        buf_append_char(&line, 'y');
    CHECK_INT(smtp_cmd_parse(&cmd, line.data, line.len, 0), -1);
    CHECK(cmd.reply.len < 200);
    smtp_cmd_free(&cmd);
    buf_free(&line);
}

static void test_xtext(void)
{
    struct buf out = BUF_INIT;
    CHECK_INT(xtext_decode("abc", 3, &out, 0), 0);
    CHECK_STR(out.data, "abc");
    buf_reset(&out);
    CHECK_INT(xtext_decode("a+2Bb+3dc+20", 12, &out, 0), 0);
    CHECK_STR(out.data, "a+b=c ");
    buf_reset(&out);
    CHECK_INT(xtext_decode("", 0, &out, 0), 0);
    CHECK_STR(out.data, "");
    buf_set_str(&out, "keep");
    CHECK_INT(xtext_decode("ab+2", 4, &out, 0), -1);
    CHECK_STR(out.data, "keep");
    CHECK_INT(xtext_decode("+", 1, &out, 0), -1);
    CHECK_INT(xtext_decode("+G0", 3, &out, 0), -1);
    CHECK_INT(xtext_decode("a=b", 3, &out, 0), -1);
    CHECK_INT(xtext_decode("a b", 3, &out, 0), -1);
    CHECK_INT(xtext_decode("a\xc3\xa9", 3, &out, 0), -1);
    CHECK_STR(out.data, "keep");
    buf_reset(&out);
    xtext_encode("a+b=c d\x01\xff~!", 11, &out);
    CHECK_STR(out.data, "a+2Bb+3Dc+20d+01+FF~!");
    /* Round trip of every byte value. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    struct buf back = BUF_INIT;
    buf_reset(&out);
    xtext_encode(all, 256, &out);
    CHECK_INT(xtext_decode(out.data, out.len, &back, 0), 0);
    CHECK_INT(back.len, 256);
    CHECK(back.len == 256 && memcmp(back.data, all, 256) == 0);
    buf_free(&out);
    buf_free(&back);
}

static void test_verb_names(void)
{
    CHECK_STR(smtp_verb_name(SMTP_VERB_MAIL), "MAIL");
    CHECK_STR(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
    CHECK_STR(smtp_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN");
    struct smtp_cmd cmd;
    smtp_cmd_init(&cmd);
    CHECK_INT(smtp_cmd_parse(&cmd, "XYZZYPLUGHFOOBAR 1", 18, 0), -1);
    CHECK_STR(cmd.verb_text, "XYZZYPLUGHF");
    smtp_cmd_free(&cmd);
}

int main(void)
{
    UNIT_RUN(test_command_table);
    UNIT_RUN(test_mail_details);
    UNIT_RUN(test_line_bounds);
    UNIT_RUN(test_xtext);
    UNIT_RUN(test_verb_names);
    return unit_summary();
}
