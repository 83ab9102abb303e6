/* lmtpd_cmd.c: the LMTP commands (RFC 2033 on RFC 5321), parsed by
 * lib/smtp/smtp_cmd with SMTP_CMD_LMTP.
 *
 * RCPT looks the recipient up at once, as the virtual agent would
 * (lib/delivery/virtual_mailbox.h): an unknown one is refused with 550
 * 5.1.1, a table that fails with 451 4.3.0, a configuration error with
 * 451 4.3.5, so the client never accepts mail it cannot deliver.
 * Unknown recipients are not counted as errors: an LMTP client hands
 * over what its own routing sent here. */
#include "lmtpd.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "delivery/virtual_mailbox.h"

void lmtpd_greeting(struct lmtpd_session *s)
{
    lmtpd_reply(s, "220 %s LMTP %s ready", lmtpd_var.myhostname,
                lmtpd_var.mail_name);
}

void lmtpd_reset_transaction(struct lmtpd_session *s)
{
    for (size_t i = 0; i < s->rcpt_count; i++) {
        free(s->rcpts[i].address);
        free(s->rcpts[i].original);
        free(s->rcpts[i].orcpt);
    }
    free(s->rcpts);
    s->rcpts = NULL;
    s->rcpt_count = s->rcpt_cap = 0;
    free(s->sender);
    s->sender = NULL;
    free(s->dsn_envid);
    s->dsn_envid = NULL;
    s->in_mail = 0;
    s->smtputf8 = s->body_8bit = 0;
    s->dsn_ret = SMTP_RET_NONE;
    s->content_started = 0;
    s->content_size = 0;
    s->too_big = 0;
    lmtpd_spool_reset(&s->spool);
}

static void cmd_lhlo(struct lmtpd_session *s)
{
    lmtpd_reset_transaction(s);
    free(s->lhlo);
    s->lhlo = xstrdup(buf_cstr(&s->cmd.arg));
    lmtpd_reply(s, "250-%s", lmtpd_var.myhostname);
    lmtpd_reply(s, "250-PIPELINING");
    if (lmtpd_var.message_size_limit > 0)
        lmtpd_reply(s, "250-SIZE %lld", lmtpd_var.message_size_limit);
    else
        lmtpd_reply(s, "250-SIZE");
    lmtpd_reply(s, "250-ENHANCEDSTATUSCODES");
    lmtpd_reply(s, "250-8BITMIME");
    lmtpd_reply(s, "250-CHUNKING");
    lmtpd_reply(s, "250 SMTPUTF8");
}

static void cmd_mail(struct lmtpd_session *s)
{
    struct smtp_cmd *c = &s->cmd;
    if (s->lhlo == NULL) {
        lmtpd_error_reply(s, "503 5.5.1 Error: send LHLO first");
        return;
    }
    if (s->in_mail) {
        lmtpd_error_reply(s, "503 5.5.1 Error: nested MAIL command");
        return;
    }
    if (c->body == SMTP_BODY_BINARYMIME) {
        lmtpd_error_reply(s, "555 5.5.4 Unsupported option: BODY=BINARYMIME");
        return;
    }
    if ((c->params & SMTP_PARAM_SIZE) && lmtpd_var.message_size_limit > 0 &&
        c->size > (unsigned long long)lmtpd_var.message_size_limit) {
        lmtpd_error_reply(s, "552 5.3.4 Message size exceeds fixed limit");
        return;
    }
    lmtpd_reset_transaction(s);
    s->in_mail = 1;
    s->sender = xstrdup(buf_cstr(&c->addr));
    s->smtputf8 = c->smtputf8;
    s->body_8bit = c->body == SMTP_BODY_8BITMIME;
    s->dsn_ret = c->ret;
    if (c->params & SMTP_PARAM_ENVID)
        s->dsn_envid = xstrdup(buf_cstr(&c->envid));
    lmtpd_reply(s, "250 2.1.0 Ok");
}

static void add_rcpt(struct lmtpd_session *s)
{
    struct smtp_cmd *c = &s->cmd;
    if (s->rcpt_count == s->rcpt_cap) {
        s->rcpt_cap = s->rcpt_cap ? 2 * s->rcpt_cap : 8;
        s->rcpts = xreallocarray(s->rcpts, s->rcpt_cap, sizeof(*s->rcpts));
    }
    struct lmtpd_rcpt *r = &s->rcpts[s->rcpt_count++];
    r->address = xstrdup(buf_cstr(&c->addr));
    r->original = xstrdup(buf_cstr(&c->addr_raw));
    r->orcpt = xstrdup("");
    if (c->params & SMTP_PARAM_ORCPT) {
        free(r->orcpt);
        struct buf orcpt = BUF_INIT;
        buf_appendf(&orcpt, "%s;%s", buf_cstr(&c->orcpt_type),
                    buf_cstr(&c->orcpt_addr));
        r->orcpt = xstrdup(buf_cstr(&orcpt));
        buf_free(&orcpt);
    }
    r->notify = c->notify;
}

static void cmd_rcpt(struct lmtpd_session *s)
{
    struct smtp_cmd *c = &s->cmd;
    if (!s->in_mail) {
        lmtpd_error_reply(s, "503 5.5.1 Error: need MAIL command");
        return;
    }
    const char *shown = buf_cstr(&c->addr_raw);
    if (c->addr.len == 0) {
        lmtpd_error_reply(s, "501 5.1.3 Bad recipient address syntax");
        return;
    }
    if (s->rcpt_count >= LMTPD_RCPT_LIMIT) {
        lmtpd_reply(s, "452 4.5.3 Error: too many recipients");
        return;
    }
    struct virtual_target t;
    virtual_target_init(&t);
    switch (virtual_mailbox_find(buf_cstr(&c->addr), &t)) {
    case VIRTUAL_UNKNOWN:
        log_info("reject: RCPT from %s: 550 5.1.1 <%s>: User unknown; "
                 "from=<%s> to=<%s> proto=LMTP helo=<%s>",
                 s->namaddr, shown, s->sender, buf_cstr(&c->addr), s->lhlo);
        lmtpd_reply(s, "550 5.1.1 <%s>: User unknown", shown);
        break;
    case VIRTUAL_TEMPFAIL:
        if (strcmp(t.dsn, "4.3.0") == 0)
            lmtpd_reply(s, "451 4.3.0 <%s>: Temporary lookup failure", shown);
        else
            lmtpd_reply(s, "451 %s <%s>: %s", t.dsn, shown,
                        buf_cstr(&t.reason));
        break;
    case VIRTUAL_FOUND:
        add_rcpt(s);
        lmtpd_reply(s, "250 2.1.5 Ok");
        break;
    }
    virtual_target_free(&t);
}

static void cmd_data(struct lmtpd_session *s)
{
    if (!s->in_mail) {
        lmtpd_error_reply(s, "503 5.5.1 Error: need MAIL command");
        return;
    }
    if (s->rcpt_count == 0) {
        lmtpd_error_reply(s, "503 5.5.1 Error: need RCPT command");
        return;
    }
    if (s->content_started) {
        lmtpd_error_reply(s, "503 5.5.1 Error: DATA after BDAT");
        return;
    }
    lmtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
    if (lmtpd_data(s) < 0)
        s->lost = 1;
    lmtpd_reset_transaction(s);
}

void lmtpd_command(struct lmtpd_session *s, const char *line, size_t len)
{
    unsigned flags = SMTP_CMD_LMTP;
    if (s->in_mail && s->smtputf8)
        flags |= SMTP_CMD_UTF8;
    if (log_verbose_level() > 0)
        log_debug("< %s: %.*s", s->namaddr, (int)(len > 200 ? 200 : len), line);
    struct smtp_cmd *c = &s->cmd;
    if (smtp_cmd_parse(c, line, len, flags) < 0) {
        lmtpd_error_reply(s, "%s", buf_cstr(&c->reply));
        return;
    }
    switch (c->verb) {
    case SMTP_VERB_LHLO:
        cmd_lhlo(s);
        break;
    case SMTP_VERB_HELO:
    case SMTP_VERB_EHLO:
        lmtpd_error_reply(s, "500 5.5.1 Error: this is an LMTP server: "
                             "send LHLO");
        break;
    case SMTP_VERB_MAIL:
        cmd_mail(s);
        break;
    case SMTP_VERB_RCPT:
        cmd_rcpt(s);
        break;
    case SMTP_VERB_DATA:
        cmd_data(s);
        break;
    case SMTP_VERB_BDAT: {
        int rc = lmtpd_bdat(s);
        if (rc < 0)
            s->lost = 1;
        if (rc != 0)
            lmtpd_reset_transaction(s);
        break;
    }
    case SMTP_VERB_RSET:
        lmtpd_reset_transaction(s);
        lmtpd_reply(s, "250 2.0.0 Ok");
        break;
    case SMTP_VERB_NOOP:
        lmtpd_reply(s, "250 2.0.0 Ok");
        break;
    case SMTP_VERB_QUIT:
        lmtpd_reply(s, "221 2.0.0 Bye");
        s->closing = 1;
        break;
    case SMTP_VERB_VRFY:
        /* Never reveal whether a user exists (RFC 5321 3.5.3). */
        lmtpd_reply(s, "252 2.0.0 Cannot VRFY user, but will accept "
                       "message and attempt delivery");
        break;
    case SMTP_VERB_HELP:
        lmtpd_reply(s, "214 2.0.0 Commands: LHLO MAIL RCPT DATA BDAT RSET "
                       "NOOP QUIT VRFY HELP");
        break;
    default: /* EXPN, STARTTLS, AUTH: not offered */
        lmtpd_error_reply(s, "502 5.5.1 Error: command not implemented");
        break;
    }
}
