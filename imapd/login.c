/* login.c: imap-login, the not-authenticated state of IMAP (RFC 3501
 * and RFC 9051 section 6.1 and 6.2): many sessions in one unprivileged
 * process on the event loop. Here: accepting a client, the greeting
 * with its capabilities, reading commands through lib/imap's reader,
 * CAPABILITY, NOOP, LOGOUT and ID, the limits on bad commands and
 * time, and the Dovecot-shaped disconnect lines fail2ban reads.
 * STARTTLS is login_tls.c, LOGIN and AUTHENTICATE login_auth.c, what
 * follows a login login_handoff.c. See docs/imapd.md. */
#include "login.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "ipc/server.h"
#include "tls/tls_conn.h"

/* Bad commands before login, then "* BYE" (Dovecot's login allows few;
 * ten leaves room for clients probing extensions). */
#define LOGIN_MAX_BAD_COMMANDS 10
/* Output a client may leave unread before we stop reading its commands. */
#define LOGIN_OUTPUT_MAX 65536

void login_reply(struct login_session *s, const char *fmt, ...)
{
    va_list ap;
    struct buf line = BUF_INIT;
    va_start(ap, fmt);
    buf_vappendf(&line, fmt, ap);
    va_end(ap);
    buf_append_str(&line, "\r\n");
    stream_write(s->stream, line.data, line.len);
    buf_free(&line);
}

int login_plaintext_allowed(const struct login_session *s)
{
    return !imapd_var.disable_plaintext_auth || s->secured || s->tls_active;
}

static void capability_list(struct login_session *s, struct buf *out)
{
    const char *mechs[16];
    size_t count = login_mechs(s, mechs, 16);
    imapd_caps_prelogin(out, login_tls_available() && !s->tls_active,
                        login_plaintext_allowed(s), mechs, count);
}

void login_log_fields(const struct login_session *s, struct buf *out,
                      int with_mpid, long mpid)
{
    buf_append_str(out, "user=<");
    if (s->user)
        imapd_log_safe(out, s->user);
    buf_append_str(out, ">");
    if (s->method[0])
        buf_appendf(out, ", method=%s", s->method);
    buf_appendf(out, ", rip=%s, lip=%s", s->rip, s->lip);
    if (with_mpid)
        buf_appendf(out, ", mpid=%ld", mpid);
    if (s->tls_active)
        buf_append_str(out, ", TLS");
    else if (s->secured)
        buf_append_str(out, ", secured");
    buf_appendf(out, ", session=<%s>", s->session);
}

/* "Disconnected: REASON (DETAIL): user=<...>, ..." as Dovecot's login
 * processes say it, so fail2ban's dovecot filter reads the failures. */
static void log_disconnect(struct login_session *s, const char *reason)
{
    struct buf line = BUF_INIT;
    uint64_t secs = (event_now_ms(server_loop()) - s->start_ms) / 1000;
    buf_appendf(&line, "Disconnected: %s (", reason);
    if (s->auth_attempts)
        buf_appendf(&line, "auth failed, %u attempts in %llu secs",
                    s->auth_attempts, (unsigned long long)secs);
    else if (s->plain_refused)
        buf_append_str(&line, "tried to use disallowed plaintext auth");
    else if (s->state == LOGIN_AUTHING || s->state == LOGIN_SASL_LINE)
        buf_appendf(&line, "client didn't finish SASL auth, waited %llu secs",
                    (unsigned long long)secs);
    else
        buf_appendf(&line, "no auth attempts in %llu secs",
                    (unsigned long long)secs);
    buf_append_str(&line, "): ");
    login_log_fields(s, &line, 0, 0);
    imapd_log("imap-login", "%s", buf_cstr(&line));
    buf_free(&line);
}

void login_destroy(struct login_session *s)
{
    if (!s->logged_in)
        log_disconnect(s,
                       s->close_reason ? s->close_reason : "Connection closed");
    login_auth_cancel(s);
    login_handoff_end(s);
    event_timer_stop(server_loop(), &s->timer);
    if (s->fd >= 0)
        event_fd_remove(server_loop(), s->fd);
    if (s->tls)
        tls_conn_free(s->tls);
    if (s->stream)
        stream_close(s->stream);
    imap_reader_free(&s->reader);
    free(s->tag);
    free(s->user);
    free(s);
    server_session_end();
}

void login_close(struct login_session *s, const char *reason)
{
    s->close_reason = reason;
    s->state = LOGIN_CLOSING;
    login_update_interest(s);
}

int login_bad_command(struct login_session *s)
{
    if (++s->bad_commands < LOGIN_MAX_BAD_COMMANDS)
        return 0;
    login_reply(s, "* BYE Too many invalid IMAP commands.");
    login_close(s, "Too many invalid commands");
    return 1;
}

void login_update_interest(struct login_session *s)
{
    if (s->state == LOGIN_PROXY || s->fd < 0)
        return; /* login_handoff.c's */
    int writing = stream_output_pending(s->stream) > 0;
    unsigned interest = 0;
    if (s->state == LOGIN_HANDSHAKE) {
        interest = writing ? EVENT_WRITE : login_tls_interest(s, 0, 0);
        event_fd_set(server_loop(), s->fd, interest);
        return;
    }
    int reading = (s->state == LOGIN_CMD || s->state == LOGIN_SASL_LINE) &&
                  stream_output_pending(s->stream) <= LOGIN_OUTPUT_MAX;
    if (reading)
        interest |= EVENT_READ;
    if (writing || s->state == LOGIN_CLOSING)
        interest |= EVENT_WRITE;
    interest |= login_tls_interest(s, reading, writing);
    event_fd_set(server_loop(), s->fd, interest);
}

static void send_greeting(struct login_session *s)
{
    struct buf caps = BUF_INIT;
    capability_list(s, &caps);
    login_reply(s, "* OK [CAPABILITY %s] Postern ready.", buf_cstr(&caps));
    buf_free(&caps);
    s->state = LOGIN_CMD;
}

/* ---- commands ---- */

static void cmd_capability(struct login_session *s,
                           const struct imap_command *cmd)
{
    struct buf caps = BUF_INIT;
    capability_list(s, &caps);
    login_reply(s, "* CAPABILITY %s", buf_cstr(&caps));
    login_reply(s,
                "%s OK Pre-login capabilities listed, post-login "
                "capabilities have more.",
                cmd->tag);
    buf_free(&caps);
}

static void cmd_id(struct login_session *s, const struct imap_command *cmd)
{
    if (cmd->arg_count != 1 || (cmd->args[0].type != IMAP_ARG_LIST &&
                                cmd->args[0].type != IMAP_ARG_NIL)) {
        login_reply(s, "%s BAD Invalid ID parameters.", cmd->tag);
        (void)login_bad_command(s);
        return;
    }
    imapd_log_client_id("imap-login", cmd->args, cmd->arg_count);
    struct buf line = BUF_INIT;
    imapd_id_response(&line);
    login_reply(s, "%s", buf_cstr(&line));
    login_reply(s, "%s OK ID completed.", cmd->tag);
    buf_free(&line);
}

/* Commands of the later states: a client that sends them too early is
 * told so, not counted as sending garbage. */
static int later_state_command(const char *name)
{
    static const char *const names[] = {
        "ENABLE",   "SELECT",       "EXAMINE",     "CREATE", "DELETE",
        "RENAME",   "SUBSCRIBE",    "UNSUBSCRIBE", "LIST",   "LSUB",
        "STATUS",   "APPEND",       "NAMESPACE",   "IDLE",   "CHECK",
        "CLOSE",    "UNSELECT",     "EXPUNGE",     "SEARCH", "FETCH",
        "STORE",    "COPY",         "MOVE",        "UID",    "COMPRESS",
        "GETQUOTA", "GETQUOTAROOT", "SORT",        "THREAD", "ESEARCH"};
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

static void command(struct login_session *s, const struct imap_command *cmd)
{
    const char *name = cmd->name;
    if (strcmp(name, "CAPABILITY") == 0 && cmd->arg_count == 0) {
        cmd_capability(s, cmd);
    } else if (strcmp(name, "NOOP") == 0 && cmd->arg_count == 0) {
        login_reply(s, "%s OK NOOP completed.", cmd->tag);
    } else if (strcmp(name, "LOGOUT") == 0 && cmd->arg_count == 0) {
        login_reply(s, "* BYE Logging out");
        login_reply(s, "%s OK Logout completed.", cmd->tag);
        login_close(s, "Logged out");
    } else if (strcmp(name, "ID") == 0) {
        cmd_id(s, cmd);
    } else if (strcmp(name, "STARTTLS") == 0) {
        login_cmd_starttls(s, cmd);
    } else if (strcmp(name, "LOGIN") == 0) {
        login_cmd_login(s, cmd);
    } else if (strcmp(name, "AUTHENTICATE") == 0) {
        login_cmd_authenticate(s, cmd);
    } else if (strcmp(name, "CAPABILITY") == 0 || strcmp(name, "NOOP") == 0 ||
               strcmp(name, "LOGOUT") == 0) {
        login_reply(s, "%s BAD Unexpected arguments.", cmd->tag);
        (void)login_bad_command(s);
    } else if (later_state_command(name)) {
        login_reply(s, "%s BAD Command not permitted before login.", cmd->tag);
        (void)login_bad_command(s);
    } else {
        login_reply(s, "%s BAD Unknown command.", cmd->tag);
        (void)login_bad_command(s);
    }
}

/* Feeds buffered input to the reader until it needs more, or a command
 * changed the state (a login waits for the auth service; STARTTLS
 * leaves what follows it unread, to be thrown away). */
static void feed(struct login_session *s)
{
    while (s->state == LOGIN_CMD || s->state == LOGIN_SASL_LINE) {
        size_t avail = 0, used = 0;
        const char *data = stream_peek(s->stream, &avail);
        if (avail == 0)
            return;
        enum imap_reader_event ev =
            imap_reader_feed(&s->reader, data, avail, &used);
        stream_consume(s->stream, used);
        switch (ev) {
        case IMAP_READER_MORE:
            break;
        case IMAP_READER_CONTINUE:
            login_reply(s, "+ OK");
            break;
        case IMAP_READER_COMMAND:
            command(s, &s->reader.command);
            break;
        case IMAP_READER_LINE:
            login_sasl_line(s, s->reader.line.data, s->reader.line.len);
            break;
        case IMAP_READER_ERROR:
            if (s->state == LOGIN_SASL_LINE) {
                login_sasl_line(s, NULL, 0); /* too long: aborted */
                break;
            }
            login_reply(s, "%s", buf_cstr(&s->reader.error.response));
            if (s->reader.error.close) {
                login_reply(s, "* BYE Too long argument.");
                login_close(s, "Too long argument");
            } else {
                (void)login_bad_command(s);
            }
            break;
        }
    }
}

void login_run(struct login_session *s)
{
    for (;;) {
        if (s->state == LOGIN_HANDSHAKE) {
            int step = login_tls_handshake(s);
            if (step < 0) {
                login_destroy(s);
                return;
            }
            if (step == 0)
                break;
            continue;
        }
        if (s->state == LOGIN_CLOSING) {
            enum stream_status fs = stream_flush(s->stream);
            if (fs == STREAM_AGAIN) {
                login_update_interest(s);
                return;
            }
            login_destroy(s);
            return;
        }
        if (s->state == LOGIN_PROXY || s->state == LOGIN_HANDOFF)
            return;
        feed(s);
        if (s->state == LOGIN_CLOSING || s->state == LOGIN_HANDSHAKE)
            continue;
        if ((s->state != LOGIN_CMD && s->state != LOGIN_SASL_LINE) ||
            stream_output_pending(s->stream) > LOGIN_OUTPUT_MAX)
            break;
        enum stream_status st = stream_fill(s->stream);
        if (st == STREAM_OK)
            continue;
        if (st == STREAM_AGAIN)
            break;
        login_destroy(s);
        return;
    }
    if (s->state == LOGIN_HANDSHAKE) {
        login_update_interest(s);
        return;
    }
    enum stream_status fs = stream_flush(s->stream);
    if (fs == STREAM_ERROR || fs == STREAM_TIMEOUT) {
        login_destroy(s);
        return;
    }
    if (s->state == LOGIN_PROXY || s->state == LOGIN_HANDOFF)
        return;
    if (s->state == LOGIN_CMD && imap_reader_idle(&s->reader)) {
        imap_reader_trim(&s->reader);
        stream_trim(s->stream);
    }
    login_update_interest(s);
}

static void on_io(struct event_loop *loop, int fd, unsigned events, void *ctx)
{
    (void)loop;
    (void)fd;
    struct login_session *s = ctx;
    if (s->state == LOGIN_PROXY) {
        login_proxy_io(s, events, 0);
        return;
    }
    if (events & (EVENT_READ | EVENT_ERROR))
        stream_readable(s->stream);
    login_run(s);
}

static void on_timeout(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct login_session *s = ctx;
    if (s->state == LOGIN_PROXY) /* the worker's autologout rules */
        return;
    if (s->state == LOGIN_HANDOFF) {
        /* imapd took the descriptor but never answered: forget it. */
        log_warn("%s: no answer from imapd for the session of %s", s->rip,
                 s->user ? s->user : "?");
        login_destroy(s);
        return;
    }
    if (s->state == LOGIN_HANDSHAKE) {
        s->close_reason = "Inactivity during TLS handshake";
        login_destroy(s);
        return;
    }
    login_reply(s, "* BYE Disconnected for inactivity.");
    (void)stream_flush(s->stream);
    s->close_reason = "Inactivity";
    login_destroy(s);
}

static void on_auth_ready(void *ctx, int ready)
{
    (void)ready;
    struct login_session *s = ctx;
    send_greeting(s);
    login_run(s);
}

/* Our address and the client's, numeric; rip == lip counts as secured
 * (Dovecot's rule: a client on the server's own address is no
 * eavesdropper's). */
static void addresses(struct login_session *s)
{
    struct sockaddr_storage ss;
    socklen_t len;
    str_copy(s->rip, "unknown", sizeof(s->rip));
    str_copy(s->lip, "unknown", sizeof(s->lip));
    for (int local = 0; local < 2; local++) {
        len = sizeof(ss);
        int rc = local ? getsockname(s->fd, (struct sockaddr *)&ss, &len)
                       : getpeername(s->fd, (struct sockaddr *)&ss, &len);
        if (rc < 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
            if (rc == 0 && ss.ss_family == AF_UNIX)
                s->secured = 1;
            continue;
        }
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv,
                        sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
            continue;
        const char *h = host;
        if (str_has_prefix(h, "::ffff:") && strchr(h, '.'))
            h += 7;
        str_copy(local ? s->lip : s->rip, h, sizeof(s->rip));
        str_copy(local ? s->lport : s->rport, serv, sizeof(s->rport));
    }
    if (strcmp(s->rip, "unknown") != 0 && strcmp(s->rip, s->lip) == 0)
        s->secured = 1;
}

static void login_accept(int fd)
{
    struct login_session *s = xcalloc(1, sizeof(*s));
    s->fd = fd;
    s->handoff_fd = s->proxy_fd = -1;
    s->stream = stream_open(fd);
    stream_set_nonblocking(s->stream, 1);
    imap_reader_init(&s->reader, &imapd_var.limits);
    imapd_session_id(s->session);
    event_timer_init(&s->timer, on_timeout, s);
    server_session_begin();
    s->start_ms = event_now_ms(server_loop());
    if (event_fd_add(server_loop(), fd, 0, on_io, s) < 0) {
        log_warn("event_fd_add: %m");
        s->fd = -1;
        s->logged_in = 1; /* nothing to log */
        login_destroy(s);
        return;
    }
    addresses(s);
    event_timer_start(server_loop(), &s->timer, imapd_var.login_timeout_ms);
    if (imapd_var.tls_wrappermode) {
        login_tls_wrapper_start(s);
        login_run(s);
        return;
    }
    s->state = LOGIN_WAIT_AUTH;
    if (auth_client_wait_ready(login_auth_client(), &s->auth_wait,
                               on_auth_ready, s)) {
        send_greeting(s);
        login_run(s);
    }
}

void login_greet_after_wrapper(struct login_session *s)
{
    s->state = LOGIN_WAIT_AUTH;
    if (auth_client_wait_ready(login_auth_client(), &s->auth_wait,
                               on_auth_ready, s))
        send_greeting(s);
}

static void login_pre_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    imapd_settings_load();
    login_tls_init(); /* reads the key while still root */
    login_auth_init();
}

static void login_post_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    login_auth_post_init();
}

static void login_pre_exit(void)
{
    login_tls_exit();
    login_auth_exit();
}

int login_main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_EVENT,
        .pre_init = login_pre_init,
        .post_init = login_post_init,
        .accept = login_accept,
        .pre_exit = login_pre_exit,
    };
    return server_main(argc, argv, &ops);
}
