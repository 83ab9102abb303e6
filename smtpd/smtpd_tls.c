/* smtpd_tls.c: TLS in the SMTP server: STARTTLS (RFC 3207) and wrapper
 * mode (implicit TLS on port 465, RFC 8314), on lib/tls.
 *
 * The handshake runs on the event loop like everything else: the
 * session is in SMTPD_TLS_HANDSHAKE, first flushing STARTTLS's 220 in
 * plain text, then stepping the handshake whenever the socket is ready
 * for what OpenSSL waits for, so one slow client holds up nobody. When
 * it is done the stream reads and writes through TLS, and the session
 * forgets everything the client said before (HELO/EHLO, the
 * transaction, authentication), as RFC 3207 section 4.2 requires.
 * Whatever the client pipelined behind STARTTLS was sent in plain text
 * and is thrown away unread: executing it after the handshake would let
 * a man in the middle inject commands into the protected session (the
 * "STARTTLS command injection" of CVE-2011-0411). With
 * smtpd_forbid_unauth_pipelining (the default) such a client is
 * disconnected before it gets here (smtpd_cmd.c).
 *
 * Log lines and replies are Postfix's. See docs/tls.md. */
#include "smtpd.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "ipc/server.h"
#include "config/config.h"
#include "tls/tls_config.h"
#include "tls/tls_conn.h"
#include "tls/tls_server.h"

static struct tls_server *tls_server;

/* Postfix's smtpd_tls_security_level (lib/tls/tls_config): the
 * client-side levels are taken as encrypt, as Postfix's smtpd takes them;
 * anything else is a configuration error, fatal as in Postfix. */
static enum tls_level level_from(const char *value)
{
    enum tls_level level = TLS_LEVEL_NONE;
    int rc = tls_level_parse(value, &level);
    if (rc < 0)
        log_fatal("invalid smtpd_tls_security_level: \"%s\"", value);
    if (rc > 0)
        log_warn("smtpd_tls_security_level: unsupported TLS level \"%s\", "
                 "using \"encrypt\"",
                 value);
    return level;
}

void smtpd_tls_init(void)
{
    struct smtpd_settings *v = &smtpd_var;
    v->tls_level = level_from(cfg_str("smtpd_tls_security_level"));
    v->tls_wrappermode = cfg_bool("smtpd_tls_wrappermode");
    v->tls_received_header = cfg_bool("smtpd_tls_received_header");
    v->tls_loglevel = (int)cfg_int("smtpd_tls_loglevel");
    v->starttls_timeout_ms = cfg_time("smtpd_starttls_timeout") * 1000;
    /* Wrapper mode is TLS whatever the level says, as in Postfix. */
    if (v->tls_level == TLS_LEVEL_NONE && !v->tls_wrappermode)
        return;
    struct tls_server_settings settings;
    tls_config_server("smtpd",
                      v->tls_level == TLS_LEVEL_ENCRYPT || v->tls_wrappermode,
                      &settings);
    struct buf err = BUF_INIT;
    tls_server = tls_server_new(&settings, &err);
    if (tls_server == NULL)
        log_warn("TLS is not available: %s", buf_cstr(&err));
    buf_free(&err);
}

void smtpd_tls_exit(void)
{
    tls_server_free(tls_server);
    tls_server = NULL;
}

/* The session waits for the handshake, which has smtpd_starttls_timeout
 * in all (the idle timer is not restarted while it runs). */
static void enter_handshake(struct smtpd_session *s, int wrapper)
{
    s->tls_wrapper = wrapper;
    s->state = SMTPD_TLS_HANDSHAKE;
    event_timer_start(server_loop(), &s->idle_timer,
                      (uint64_t)smtpd_var.starttls_timeout_ms);
}

int smtpd_tls_offered(const struct smtpd_session *s)
{
    return smtpd_var.tls_level != TLS_LEVEL_NONE && tls_server != NULL &&
           !s->local && !s->tls_active;
}

int smtpd_tls_required(const struct smtpd_session *s)
{
    return smtpd_var.tls_level == TLS_LEVEL_ENCRYPT && !s->local &&
           !s->tls_active;
}

enum smtp_step smtpd_starttls_parse(struct smtpd_session *s)
{
    const char *fail = NULL;
    if (s->tls_active)
        fail = "554 5.5.1 Error: TLS already active";
    else if (smtpd_var.tls_level == TLS_LEVEL_NONE || s->local)
        fail = "502 5.5.1 Error: command not implemented";
    else if (tls_server == NULL)
        fail = "454 4.7.0 TLS not available due to local problem";
    else if (s->in_mail)
        fail = "503 5.5.1 Error: MAIL transaction in progress";
    if (fail) {
        smtpd_error_reply(s, "%s", fail);
        return SMTP_STEP_STOP;
    }
    return SMTP_STEP_NEXT;
}

enum smtp_step smtpd_starttls_proceed(struct smtpd_session *s)
{
    smtpd_reply(s, "220 2.0.0 Ready to start TLS");
    /* Plain text the client sent behind STARTTLS: never a command. */
    size_t pipelined = 0;
    (void)stream_peek(s->stream, &pipelined);
    stream_consume(s->stream, pipelined);
    enter_handshake(s, 0);
    return SMTP_STEP_NEXT;
}

int smtpd_tls_wrapper_start(struct smtpd_session *s)
{
    if (!smtpd_var.tls_wrappermode || s->local)
        return 0;
    if (tls_server == NULL) {
        /* Nothing we could say would be understood: close. */
        log_warn("TLS wrapper mode without a usable TLS configuration: "
                 "disconnecting %s",
                 s->namaddr);
        smtpd_close_after_reply(s);
        return 1;
    }
    enter_handshake(s, 1);
    return 1;
}

/* "Anonymous": we ask for no client certificate. */
static void log_established(struct smtpd_session *s)
{
    if (smtpd_var.tls_loglevel < 1)
        return;
    struct buf text = BUF_INIT;
    tls_conn_summary(s->tls, &text);
    size_t before = text.len;
    buf_append_char(&text, ' ');
    tls_conn_key_summary(s->tls, &text);
    if (text.len == before + 1)
        buf_truncate(&text, before);
    log_info("Anonymous TLS connection established from %s: %s", s->namaddr,
             buf_cstr(&text));
    buf_free(&text);
}

/* RFC 3207 4.2: the client's earlier words count for nothing now. */
static void forget_plaintext_state(struct smtpd_session *s)
{
    smtpd_data_abort(s);
    smtpd_reset_transaction(s);
    free(s->helo);
    s->helo = NULL;
    s->esmtp = 0;
    smtpd_sasl_reset(s);
}

int smtpd_tls_handshake(struct smtpd_session *s)
{
    /* STARTTLS's 220 goes out in plain text, all of it, first. */
    if (stream_output_pending(s->stream) > 0) {
        enum stream_status st = stream_flush(s->stream);
        if (st == STREAM_AGAIN)
            return 0;
        if (st != STREAM_OK)
            return -1;
    }
    struct buf why = BUF_INIT;
    if (s->tls == NULL) {
        s->tls = tls_conn_server_new(tls_server, s->fd, &why);
        if (s->tls == NULL) {
            log_warn("cannot start TLS for %s: %s", s->namaddr, buf_cstr(&why));
            buf_free(&why);
            return -1;
        }
    }
    enum tls_result result = tls_conn_handshake(s->tls, &why);
    if (result == TLS_AGAIN) {
        buf_free(&why);
        return 0;
    }
    if (result == TLS_FAILED) {
        log_info("SSL_accept error from %s: %s", s->namaddr, buf_cstr(&why));
        buf_free(&why);
        return -1;
    }
    buf_free(&why);
    tls_conn_attach(s->tls, s->stream);
    s->tls_active = 1;
    log_established(s);
    s->state = SMTPD_CMD;
    if (s->tls_wrapper)
        smtpd_command_start(s, SMTP_COMMAND_CONNECT); /* the greeting */
    else
        forget_plaintext_state(s);
    return 1;
}

unsigned smtpd_tls_interest(const struct smtpd_session *s, int reading,
                            int writing)
{
    if (s->tls == NULL)
        return 0;
    if (s->state == SMTPD_TLS_HANDSHAKE)
        return tls_conn_wants(s->tls);
    unsigned interest = 0;
    if (reading)
        interest |= tls_conn_read_wants(s->tls) & STREAM_WANT_WRITE;
    if (writing)
        interest |= tls_conn_write_wants(s->tls) & STREAM_WANT_READ;
    return interest;
}

const char *smtpd_received_protocol(const struct smtpd_session *s)
{
    if (!s->esmtp)
        return "SMTP";
    if (s->tls_active)
        return s->sasl_authenticated ? "ESMTPSA" : "ESMTPS";
    return s->sasl_authenticated ? "ESMTPA" : "ESMTP";
}

void smtpd_tls_received(const struct smtpd_session *s, struct buf *out)
{
    if (!s->tls_active || !smtpd_var.tls_received_header)
        return;
    buf_append_str(out, "\n\t(using ");
    tls_conn_summary(s->tls, out);
    struct buf keys = BUF_INIT;
    tls_conn_key_summary(s->tls, &keys);
    if (keys.len)
        buf_appendf(out, "\n\t %s", buf_cstr(&keys));
    buf_free(&keys);
    buf_append_str(out, ")\n\t(No client certificate requested)");
}

void smtpd_tls_session_end(struct smtpd_session *s)
{
    tls_conn_free(s->tls);
    s->tls = NULL;
    s->tls_active = 0;
}
