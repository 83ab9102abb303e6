/* smtpd_cmd.c: the SMTP commands and their replies (RFC 5321 with
 * PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, DSN and
 * CHUNKING). Reply texts follow Postfix's so that administrators and
 * their log tools see what they know. Syntax is checked by
 * lib/smtp/smtp_cmd; whether a command is allowed now is decided here. */
#include "smtpd.h"

#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "config/config.h"
#include "base/log.h"
#include "base/mem.h"
#include "queue/qfile.h"

void smtpd_greeting(struct smtpd_session *s)
{
    smtpd_reply(s, "220 %s", smtpd_var.banner);
}

void smtpd_reset_transaction(struct smtpd_session *s)
{
    s->in_mail = 0;
    free(s->sender);
    s->sender = NULL;
    free(s->sender_raw);
    s->sender_raw = NULL;
    free(s->sasl_sender);
    s->sasl_sender = NULL;
    free(s->dsn_envid);
    s->dsn_envid = NULL;
    smtpd_rcpt_reset(s);
    s->rcpt_accepted = 0;
    s->rcpt_overshoot = 0;
    s->declared_size = 0;
    s->body_8bit = s->smtputf8 = s->requiretls = 0;
    s->dsn_ret = 0;
    s->hold = s->discard = 0;
    free(s->hold_reason);
    s->hold_reason = NULL;
    s->bdat_used = 0;
    s->bdat_failed = 0;
    smtpd_actions_reset(s);
    smtpd_dns_forget(s);
    smtpd_spf_forget(s);
}

static int ehlo_keyword_on(const char *keyword)
{
    for (size_t i = 0; i < smtpd_var.discard_ehlo.count; i++)
        if (str_equal_nocase(smtpd_var.discard_ehlo.items[i], keyword))
            return 0;
    return 1;
}

static void cmd_helo(struct smtpd_session *s, int esmtp)
{
    free(s->helo);
    s->helo = xstrdup(buf_cstr(&s->cmd.arg));
    s->esmtp = esmtp;
    smtpd_data_abort(s);
    smtpd_reset_transaction(s);
    if (!esmtp) {
        smtpd_reply(s, "250 %s", smtpd_var.myhostname);
        return;
    }
    static const char *const keywords[] = {
        "PIPELINING", "SIZE",     "VRFY", "ETRN",     "STARTTLS", "AUTH",
        "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",  "SMTPUTF8", "CHUNKING",
        "REQUIRETLS",
    };
    struct buf mechs = BUF_INIT;
    smtpd_reply(s, "250-%s", smtpd_var.myhostname);
    size_t n = 0;
    char *text[16];
    for (size_t i = 0; i < sizeof(keywords) / sizeof(*keywords); i++) {
        if (!ehlo_keyword_on(keywords[i]))
            continue;
        if (strcmp(keywords[i], "VRFY") == 0 && smtpd_var.disable_vrfy)
            continue;
        if (strcmp(keywords[i], "ETRN") == 0)
            continue; /* not implemented */
        if (strcmp(keywords[i], "STARTTLS") == 0 && !smtpd_tls_offered(s))
            continue;
        /* RFC 8689: only where the session itself is under TLS */
        if (strcmp(keywords[i], "REQUIRETLS") == 0 && !s->tls_active)
            continue;
        if (strcmp(keywords[i], "AUTH") == 0) {
            /* The mechanisms the auth server offers (smtpd_sasl.c);
             * broken_sasl_auth_clients adds the pre-RFC form. */
            if (!smtpd_sasl_mechanisms(s, &mechs))
                continue;
            text[n] = xasprintf("AUTH %s", buf_cstr(&mechs));
            n++;
            if (smtpd_sasl_broken_clients()) {
                text[n] = xasprintf("AUTH=%s", buf_cstr(&mechs));
                n++;
            }
            continue;
        }
        if (strcmp(keywords[i], "SIZE") == 0 &&
            smtpd_var.message_size_limit > 0)
            text[n] = xasprintf("SIZE %lld", smtpd_var.message_size_limit);
        else
            text[n] = xstrdup(keywords[i]);
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        smtpd_reply(s, "250%c%s", i + 1 == n ? ' ' : '-', text[i]);
        free(text[i]);
    }
    buf_free(&mechs);
}

static enum smtp_step need_helo(struct smtpd_session *s)
{
    if (smtpd_var.helo_required && !s->helo) {
        smtpd_error_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
        return SMTP_STEP_STOP;
    }
    return SMTP_STEP_NEXT;
}

/* A check's verdict as a phase step. */
static enum smtp_step step_of(enum smtpd_verdict v)
{
    return v == SMTPD_SUSPEND  ? SMTP_STEP_SUSPEND
           : v == SMTPD_REJECT ? SMTP_STEP_STOP
                               : SMTP_STEP_NEXT;
}

static enum smtp_step mail_parse(struct smtpd_session *s)
{
    struct smtp_cmd *c = &s->cmd;
    if (need_helo(s) == SMTP_STEP_STOP)
        return SMTP_STEP_STOP;
    const char *fail = NULL;
    if (smtpd_tls_required(s))
        fail = "530 5.7.0 Must issue a STARTTLS command first";
    else if (s->in_mail)
        fail = "503 5.5.1 Error: nested MAIL command";
    else if (!s->esmtp && c->params)
        fail = "555 5.5.4 Unsupported option: ESMTP parameters need EHLO";
    else if (c->body == SMTP_BODY_BINARYMIME)
        fail = "504 5.5.4 Unsupported BODY parameter";
    else if (c->requiretls &&
             (!s->tls_active || !ehlo_keyword_on("REQUIRETLS")))
        /* not offered outside TLS (RFC 8689 section 4.1) */
        fail = "555 5.5.4 Unsupported option: REQUIRETLS";
    else if ((c->params & SMTP_PARAM_SIZE) &&
             smtpd_var.message_size_limit > 0 &&
             c->size > (unsigned long long)smtpd_var.message_size_limit)
        fail = "552 5.3.4 Message size exceeds fixed limit";
    if (fail) {
        smtpd_error_reply(s, "%s", fail);
        return SMTP_STEP_STOP;
    }
    return SMTP_STEP_NEXT;
}

static enum smtp_step mail_proceed(struct smtpd_session *s)
{
    struct smtp_cmd *c = &s->cmd;
    struct buf sender = BUF_INIT, why = BUF_INIT;
    if (smtpd_rewrite_sender(buf_cstr(&c->addr), &sender, &why) < 0) {
        smtpd_error_reply(s, "451 4.3.0 <%s>: Sender address rejected: %s",
                          buf_cstr(&c->addr), buf_cstr(&why));
        buf_free(&sender);
        buf_free(&why);
        return SMTP_STEP_STOP;
    }
    buf_free(&why);
    /* The header rewriting context, decided at MAIL as Postfix does. */
    int context = smtpd_header_context(s, buf_cstr(&c->addr));
    if (context == SMTPD_HEADER_ERROR) {
        buf_free(&sender);
        return SMTP_STEP_STOP;
    }
    s->hdr_context = context;
    s->in_mail = 1;
    s->sender = buf_detach(&sender);
    s->sender_raw = xstrdup(buf_cstr(&c->addr));
    s->declared_size = c->size;
    s->body_8bit = c->body == SMTP_BODY_8BITMIME;
    s->smtputf8 = c->smtputf8;
    s->requiretls = c->requiretls;
    if (c->ret == SMTP_RET_FULL)
        s->dsn_ret = QFILE_RET_FULL;
    else if (c->ret == SMTP_RET_HDRS)
        s->dsn_ret = QFILE_RET_HDRS;
    if (c->params & SMTP_PARAM_ENVID)
        s->dsn_envid = xstrdup(buf_cstr(&c->envid));
    smtpd_sasl_mail_param(s); /* AUTH= (RFC 4954 section 5) */
    s->arrival = time(NULL);
    smtpd_spf_start(s); /* in the background: RCPT and DATA need it */
    smtpd_reply(s, "250 2.1.0 Ok");
    return SMTP_STEP_NEXT;
}

static enum smtp_step rcpt_parse(struct smtpd_session *s)
{
    struct smtp_cmd *c = &s->cmd;
    const char *fail = NULL;
    if (s->in_mail && s->rcpt_accepted >= (size_t)smtpd_var.recipient_limit) {
        /* As Postfix: the client may try up to the overshoot limit more
         * recipients without it counting against the error limits; the
         * transaction goes on with the recipients it has. */
        if (s->rcpt_overshoot++ <
            (unsigned long)smtpd_var.recipient_overshoot_limit) {
            smtpd_reply(s, "452 4.5.3 Error: too many recipients");
            return SMTP_STEP_STOP;
        }
        fail = "452 4.5.3 Error: too many recipients";
    } else if (!s->in_mail)
        fail = "503 5.5.1 Error: need MAIL command";
    else if (!s->esmtp && c->params)
        fail = "555 5.5.4 Unsupported option: ESMTP parameters need EHLO";
    if (fail) {
        smtpd_error_reply(s, "%s", fail);
        return SMTP_STEP_STOP;
    }
    return SMTP_STEP_NEXT;
}

static enum smtp_step rcpt_proceed(struct smtpd_session *s)
{
    struct smtp_cmd *c = &s->cmd;
    const char *rcpt = buf_cstr(&c->addr);
    struct buf orcpt = BUF_INIT, why = BUF_INIT;
    if (c->params & SMTP_PARAM_ORCPT)
        buf_appendf(&orcpt, "%s;%s", buf_cstr(&c->orcpt_type),
                    buf_cstr(&c->orcpt_addr));
    const struct smtpd_rcpt_origin origin = {
        .original = rcpt,
        .orcpt = (c->params & SMTP_PARAM_ORCPT) ? buf_cstr(&orcpt) : NULL,
        /* SMTP_NOTIFY_* equal QFILE_NOTIFY_* */
        .notify = (c->params & SMTP_PARAM_NOTIFY) ? c->notify : 0,
    };
    /* Before the queue file exists: a lookup error is all that can go
     * wrong, and then nothing was added. */
    enum smtpd_rcpt_result rc =
        smtpd_rcpt_add(s, rcpt, &origin, SMTPD_RCPT_SAME_ORIGINAL, &why);
    if (rc == SMTPD_RCPT_OK) {
        s->rcpt_accepted++;
        smtpd_reply(s, "250 2.1.5 Ok");
    } else {
        smtpd_error_reply(s,
                          "451 4.3.0 <%s>: Recipient address rejected: "
                          "%s",
                          rcpt, buf_cstr(&why));
    }
    buf_free(&orcpt);
    buf_free(&why);
    return rc == SMTPD_RCPT_OK ? SMTP_STEP_NEXT : SMTP_STEP_STOP;
}

static enum smtp_step data_parse(struct smtpd_session *s)
{
    const char *fail = NULL;
    if (s->cmd.arg.len > 0)
        fail = "501 5.5.4 Syntax: DATA";
    else if (s->bdat_used)
        fail = "503 5.5.1 Error: DATA after BDAT";
    else if (!s->in_mail)
        fail = "503 5.5.1 Error: need MAIL command";
    else if (s->rcpt_accepted == 0)
        fail = "554 5.5.1 Error: no valid recipients";
    if (fail) {
        smtpd_error_reply(s, "%s", fail);
        return SMTP_STEP_STOP;
    }
    return SMTP_STEP_NEXT;
}

static enum smtp_step data_proceed(struct smtpd_session *s)
{
    if (smtpd_data_begin(s) < 0)
        return SMTP_STEP_STOP;
    smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
    s->state = SMTPD_DATA;
    return SMTP_STEP_NEXT;
}

/* RFC 2920: a client may send a command before the reply to the one
 * before only after EHLO announced PIPELINING, and never after HELO,
 * EHLO, DATA, STARTTLS or AUTH, whose replies change what comes next.
 * With smtpd_forbid_unauth_pipelining (Postfix 3.9's default) such a
 * client is disconnected: its input would otherwise be read in a state
 * it did not wait for (DATA content taken as commands, or the reverse).
 * Local submission is exempt. Returns 1 when the session ends. */
static int unauth_pipelining(struct smtpd_session *s)
{
    if (!smtpd_var.forbid_unauth_pipelining || s->local)
        return 0;
    enum smtp_verb v = s->cmd.verb;
    int must_be_last = v == SMTP_VERB_HELO || v == SMTP_VERB_EHLO ||
                       v == SMTP_VERB_DATA || v == SMTP_VERB_STARTTLS ||
                       v == SMTP_VERB_AUTH;
    if (!must_be_last && (s->esmtp || v == SMTP_VERB_QUIT))
        return 0;
    size_t avail;
    const char *next = stream_peek(s->stream, &avail);
    if (avail == 0)
        return 0;
    struct buf shown = BUF_INIT;
    for (size_t i = 0; i < avail && i < 100; i++) {
        unsigned char c = (unsigned char)next[i];
        if (c == '\r')
            buf_append_str(&shown, "\\r");
        else if (c == '\n')
            buf_append_str(&shown, "\\n");
        else if (c < 32 || c > 126)
            buf_appendf(&shown, "\\x%02x", c);
        else
            buf_append_char(&shown, (char)c);
    }
    log_info("improper command pipelining after %s from %s: %s",
             smtp_verb_name(v), s->namaddr, shown.data);
    buf_free(&shown);
    smtpd_reply(s, "554 5.5.0 Error: SMTP protocol synchronization");
    smtpd_close_after_reply(s);
    return 1;
}

/* ---- the phases (lib/smtp/smtp_phase.h) ---- */

static struct smtp_hooks smtpd_hooks;

int smtpd_hook_add(const struct smtp_hook *hook)
{
    return smtp_hooks_add(&smtpd_hooks, hook);
}

/* PARSE: syntax (lib/smtp/smtp_cmd, already run on the line) and whether
 * the command may be given now. */
static enum smtp_step phase_parse(void *session, unsigned command)
{
    struct smtpd_session *s = session;
    if (command >= SMTP_COMMAND_CONNECT)
        return SMTP_STEP_NEXT;
    if (s->cmd_parse_rc < 0) {
        if (command == SMTP_VERB_UNKNOWN) {
            s->junk++;
            smtpd_error_reply(s, "502 5.5.2 Error: command not recognized");
        } else {
            smtpd_error_reply(s, "%s", s->cmd.reply.data);
        }
        return SMTP_STEP_STOP;
    }
    const char *fail = NULL;
    switch ((enum smtp_verb)command) {
    case SMTP_VERB_MAIL:
        return mail_parse(s);
    case SMTP_VERB_RCPT:
        return rcpt_parse(s);
    case SMTP_VERB_DATA:
        return data_parse(s);
    case SMTP_VERB_BDAT:
        return smtpd_bdat_parse(s);
    case SMTP_VERB_VRFY:
        if (smtpd_var.disable_vrfy)
            fail = "502 5.5.1 VRFY command is disabled";
        break;
    case SMTP_VERB_EXPN:
        fail = "502 5.5.1 EXPN command is disabled";
        break;
    case SMTP_VERB_STARTTLS:
        return smtpd_starttls_parse(s);
    case SMTP_VERB_AUTH:
        /* smtpd_discard_ehlo_keywords = auth turns AUTH off, as Postfix. */
        if (ehlo_keyword_on("AUTH"))
            return smtpd_sasl_auth_parse(s);
        fail = "503 5.5.1 Error: authentication not enabled";
        break;
    case SMTP_VERB_UNKNOWN:
        s->junk++;
        fail = "502 5.5.2 Error: command not recognized";
        break;
    default:
        break;
    }
    if (fail) {
        smtpd_error_reply(s, "%s", fail);
        return SMTP_STEP_STOP;
    }
    return SMTP_STEP_NEXT;
}

/* CHECK: the restrictions (smtpd_check.c); with smtpd_delay_reject the
 * client, HELO and sender lists run at RCPT. */
static enum smtp_step phase_check(void *session, unsigned command)
{
    struct smtpd_session *s = session;
    switch (command) {
    case SMTP_VERB_RCPT:
        return step_of(smtpd_check_rcpt(s, buf_cstr(&s->cmd.addr)));
    case SMTP_VERB_DATA:
        return step_of(smtpd_check_data(s));
    case SMTP_VERB_BDAT:
        return smtpd_bdat_check(s);
    case SMTP_COMMAND_END_OF_DATA:
        return smtpd_eod_check(s);
    default:
        return SMTP_STEP_NEXT;
    }
}

/* PROCEED: what the command does, and its success reply. */
static enum smtp_step phase_proceed(void *session, unsigned command)
{
    struct smtpd_session *s = session;
    switch (command) {
    case SMTP_COMMAND_CONNECT:
        return smtpd_connect_proceed(s);
    case SMTP_COMMAND_END_OF_DATA:
        return smtpd_eod_proceed(s);
    case SMTP_VERB_HELO:
    case SMTP_VERB_EHLO:
        cmd_helo(s, command == SMTP_VERB_EHLO);
        break;
    case SMTP_VERB_MAIL:
        return mail_proceed(s);
    case SMTP_VERB_RCPT:
        return rcpt_proceed(s);
    case SMTP_VERB_DATA:
        return data_proceed(s);
    case SMTP_VERB_BDAT:
        return smtpd_bdat_proceed(s);
    case SMTP_VERB_STARTTLS:
        return smtpd_starttls_proceed(s);
    case SMTP_VERB_AUTH:
        return smtpd_sasl_auth_proceed(s);
    case SMTP_VERB_RSET:
        smtpd_data_abort(s);
        smtpd_reset_transaction(s);
        smtpd_reply(s, "250 2.0.0 Ok");
        break;
    case SMTP_VERB_NOOP:
        smtpd_reply(s, "250 2.0.0 Ok");
        break;
    case SMTP_VERB_QUIT:
        smtpd_reply(s, "221 2.0.0 Bye");
        smtpd_close_after_reply(s);
        break;
    case SMTP_VERB_VRFY:
        /* Never reveal whether a user exists (RFC 5321 3.5.3). */
        smtpd_reply(s, "252 2.0.0 Cannot VRFY user, but will accept "
                       "message and attempt delivery");
        break;
    case SMTP_VERB_HELP:
        smtpd_reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT "
                       "RSET NOOP QUIT VRFY HELP");
        break;
    default:
        break;
    }
    return SMTP_STEP_NEXT;
}

/* The command is over: the counters of the disconnect line, and the
 * junk command limit. The pseudo-commands count as nothing. */
static void phase_done(void *session, unsigned command, enum smtp_step outcome)
{
    (void)outcome;
    struct smtpd_session *s = session;
    if (command >= SMTP_COMMAND_CONNECT)
        return;
    int failed = (unsigned)s->errors != s->cmd_errors_before ||
                 (s->state == SMTPD_CLOSING && !s->cmd_closing_before &&
                  command != SMTP_VERB_QUIT);
    smtpd_count(s, s->cmd_name, !failed);
    if (s->junk > smtpd_var.junk_command_limit && s->state != SMTPD_CLOSING) {
        smtpd_reply(s, "421 4.7.0 %s Error: too many errors",
                    smtpd_var.myhostname);
        smtpd_close_after_reply(s);
    }
}

/* The session ends while a phase waits (for DNS, in CHECK). */
static void phase_cancel(void *session, unsigned command)
{
    (void)command;
    struct smtpd_session *s = session;
    smtpd_dns_cancel(s);
    smtpd_check_cancel(s);
    smtpd_sasl_cancel(s); /* AUTH waits in PROCEED */
}

static const struct smtp_phase_ops smtpd_phase_ops = {
    .parse = phase_parse,
    .check = phase_check,
    .proceed = phase_proceed,
    .done = phase_done,
    .cancel_step = phase_cancel,
};

void smtpd_command_session_init(struct smtpd_session *s)
{
    smtp_run_init(&s->run, &smtpd_phase_ops, &smtpd_hooks, s);
}

/* A step waits: stop reading until smtpd_command_resume. */
static void run_outcome(struct smtpd_session *s, enum smtp_step step)
{
    if (step == SMTP_STEP_SUSPEND)
        s->state = SMTPD_SUSPENDED;
}

void smtpd_command_start(struct smtpd_session *s, unsigned command)
{
    smtpd_dns_new_check(s);
    run_outcome(s, smtp_run_start(&s->run, command));
}

void smtpd_command_resume(struct smtpd_session *s)
{
    if (s->state != SMTPD_SUSPENDED || !smtp_run_suspended(&s->run))
        log_panic("%s: resume without a suspended command", s->namaddr);
    s->state = SMTPD_CMD;
    run_outcome(s, smtp_run_resume(&s->run));
    smtpd_resume(s);
}

void smtpd_command_cancel(struct smtpd_session *s)
{
    smtp_run_cancel(&s->run);
}

void smtpd_command(struct smtpd_session *s, const char *line, size_t len)
{
    unsigned flags = smtpd_var.strict_rfc821 ? SMTP_CMD_STRICT : 0;
    if (s->in_mail && s->smtputf8)
        flags |= SMTP_CMD_UTF8;
    if (log_verbose_level() > 0)
        log_debug("< %s: %.*s", s->namaddr, (int)(len > 200 ? 200 : len), line);
    s->cmd_parse_rc = smtp_cmd_parse(&s->cmd, line, len, flags);
    struct smtp_cmd *c = &s->cmd;
    const char *verb = smtp_verb_name(c->verb);
    s->last_verb = c->verb == SMTP_VERB_UNKNOWN ? "UNKNOWN" : verb;
    str_copy(s->cmd_name, c->verb == SMTP_VERB_UNKNOWN ? "unknown" : verb,
             sizeof(s->cmd_name));
    str_lower(s->cmd_name);
    s->cmd_errors_before = (unsigned)s->errors;
    s->cmd_closing_before = s->state == SMTPD_CLOSING;
    if (unauth_pipelining(s)) {
        smtpd_count(s, s->cmd_name, 0);
        return;
    }
    smtpd_command_start(s, (unsigned)c->verb);
}
