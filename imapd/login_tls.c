/* login_tls.c: TLS in imap-login: STARTTLS (RFC 3501 6.2.1, RFC 9051
 * 6.2.1) and implicit TLS on port 993 (imapd_tls_wrappermode, RFC 8314),
 * on lib/tls with the imapd_tls_* parameters (which default to the
 * smtpd_tls_* ones: one certificate setting serves the suite).
 *
 * The certificate and key are read in pre_init, as root; the process
 * drops to mail_owner before it reads from the network. Whatever the
 * client pipelined behind STARTTLS in plain text is thrown away unread
 * (a man in the middle could otherwise inject commands into the
 * protected session), and the client asks for the capabilities again
 * (RFC 9051: they may have changed). */
#include "login.h"

#include "base/log.h"
#include "config/config.h"
#include "ipc/server.h"
#include "tls/tls_config.h"
#include "tls/tls_conn.h"
#include "tls/tls_server.h"

static struct tls_server *tls_server;
static int tls_loglevel;

void login_tls_init(void)
{
    const char *cert = cfg_str("imapd_tls_cert_file");
    const char *chain = cfg_str("imapd_tls_chain_files");
    tls_loglevel = (int)cfg_int("imapd_tls_loglevel");
    if (*cert == '\0' && *chain == '\0') {
        if (imapd_var.tls_wrappermode)
            log_warn("imapd_tls_wrappermode = yes without a certificate "
                     "(imapd_tls_cert_file, imapd_tls_chain_files)");
        return;
    }
    struct tls_server_settings settings;
    tls_config_server("imapd", imapd_var.tls_wrappermode, &settings);
    struct buf err = BUF_INIT;
    tls_server = tls_server_new(&settings, &err);
    if (tls_server == NULL)
        log_warn("TLS is not available: %s", buf_cstr(&err));
    buf_free(&err);
}

void login_tls_exit(void)
{
    tls_server_free(tls_server);
    tls_server = NULL;
}

int login_tls_available(void)
{
    return tls_server != NULL;
}

static void enter_handshake(struct login_session *s, int wrapper)
{
    s->tls_wrapper = wrapper;
    s->state = LOGIN_HANDSHAKE;
    event_timer_start(server_loop(), &s->timer, imapd_var.login_timeout_ms);
}

void login_cmd_starttls(struct login_session *s, const struct imap_command *cmd)
{
    if (cmd->arg_count != 0) {
        login_reply(s, "%s BAD Unexpected arguments.", cmd->tag);
        (void)login_bad_command(s);
        return;
    }
    if (s->tls_active) {
        login_reply(s, "%s BAD TLS is already active.", cmd->tag);
        return;
    }
    if (tls_server == NULL) {
        login_reply(s, "%s BAD TLS support isn't enabled.", cmd->tag);
        return;
    }
    login_reply(s, "%s OK Begin TLS negotiation now.", cmd->tag);
    /* Plain text behind STARTTLS is never a command. */
    size_t pipelined = 0;
    (void)stream_peek(s->stream, &pipelined);
    stream_consume(s->stream, pipelined);
    imap_reader_free(&s->reader);
    imap_reader_init(&s->reader, &imapd_var.limits);
    enter_handshake(s, 0);
}

void login_tls_wrapper_start(struct login_session *s)
{
    if (tls_server == NULL) {
        log_warn("TLS wrapper mode without a usable TLS configuration: "
                 "disconnecting %s",
                 s->rip);
        s->logged_in = 1; /* nothing Dovecot-shaped to say */
        login_close(s, "TLS unavailable");
        return;
    }
    enter_handshake(s, 1);
}

int login_tls_handshake(struct login_session *s)
{
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
            log_warn("cannot start TLS for %s: %s", s->rip, buf_cstr(&why));
            buf_free(&why);
            s->close_reason = "TLS initialization failed";
            return -1;
        }
    }
    enum tls_result result = tls_conn_handshake(s->tls, &why);
    if (result == TLS_AGAIN) {
        buf_free(&why);
        return 0;
    }
    if (result == TLS_FAILED) {
        log_info("SSL_accept error from %s: %s", s->rip, buf_cstr(&why));
        buf_free(&why);
        s->close_reason = "TLS handshaking failed";
        return -1;
    }
    buf_free(&why);
    tls_conn_attach(s->tls, s->stream);
    s->tls_active = 1;
    if (tls_loglevel >= 1) {
        struct buf text = BUF_INIT;
        tls_conn_summary(s->tls, &text);
        log_info("Anonymous TLS connection established from %s: %s", s->rip,
                 buf_cstr(&text));
        buf_free(&text);
    }
    event_timer_start(server_loop(), &s->timer, imapd_var.login_timeout_ms);
    if (s->tls_wrapper)
        login_greet_after_wrapper(s);
    else
        s->state = LOGIN_CMD;
    return 1;
}

unsigned login_tls_interest(const struct login_session *s, int reading,
                            int writing)
{
    if (s->tls == NULL)
        return 0;
    if (s->state == LOGIN_HANDSHAKE)
        return tls_conn_wants(s->tls);
    unsigned interest = 0;
    if (reading)
        interest |= tls_conn_read_wants(s->tls) & STREAM_WANT_WRITE;
    if (writing)
        interest |= tls_conn_write_wants(s->tls) & STREAM_WANT_READ;
    return interest;
}
