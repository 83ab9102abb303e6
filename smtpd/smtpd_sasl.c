/* smtpd_sasl.c: SMTP AUTH (RFC 4954) in smtpd, as the client of an auth
 * server that speaks Dovecot's authentication protocol: a Dovecot's
 * auth-client socket, or Postern's own auth service (smtpd_sasl_type =
 * dovecot, smtpd_sasl_path).
 *
 * One connection per smtpd process (lib/auth/auth_client) serves all its
 * sessions. Nothing waits in place: EHLO's hook suspends the command
 * until the server has sent its mechanisms (the first time, or after the
 * server went away), and AUTH suspends in its PROCEED step while the
 * server thinks; while the client is to answer a 334 challenge the
 * session is in SMTPD_SASL, where its next line is SASL data, never a
 * command. The replies and log lines are Postfix's, so fail2ban's stock
 * postfix filter matches the failures. See docs/smtpd.md, "SASL
 * authentication". */
#include "smtpd.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/auth_client.h"
#include "auth/sasl_security.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "ipc/master_proto.h"
#include "ipc/server.h"

/* How long the auth server may take for the handshake and each answer.
 * Dovecot delays a failure by up to 2 s (auth_failure_delay) and more
 * under its penalty: well below this. */
#define SASL_SERVER_TIMEOUT_MS 30000

static struct {
    int enable;
    int auth_only; /* no AUTH before STARTTLS */
    int broken_clients;
    int authenticated_header;
    unsigned sec_opts, tls_sec_opts;
    long response_limit;
    char *path;
    struct auth_client *client;
} sasl;

enum sasl_outcome {
    SASL_NONE,     /* no exchange, or one in progress */
    SASL_OK,       /* the server said OK */
    SASL_FAIL,     /* refused (reason kept) */
    SASL_TEMP,     /* temporary failure (reason kept) */
    SASL_ABORTED,  /* the client said "*" */
    SASL_TOO_LONG, /* a response past smtpd_sasl_response_limit */
};

/* One session's exchange. */
struct smtpd_sasl {
    struct auth_wait wait; /* EHLO waits for the mechanisms */
    int ehlo_waiting;
    struct auth_request *request;
    int started; /* AUTH's PROCEED has sent its request */
    char method[32];
    enum sasl_outcome outcome;
    char *user;   /* OK/FAIL: the server's user= */
    char *reason; /* FAIL/TEMP */
    struct event_timer resume_timer; /* resumes after a client's input */
};

static struct smtpd_sasl *sasl_of(struct smtpd_session *s);
static void on_resume_timer(struct event_loop *loop, void *ctx);

/* The EHLO hook: the first EHLO of a process (or the first after the
 * auth server went away) waits for the server's mechanisms, so that
 * EHLO can announce them. When the server cannot be reached, EHLO goes
 * on without AUTH. */
static void on_mechs_ready(void *ctx, int ready)
{
    (void)ready;
    struct smtpd_session *s = ctx;
    smtpd_command_resume(s);
}

static int auth_allowed_now(const struct smtpd_session *s)
{
    return sasl.enable && !s->local && (s->tls_active || !sasl.auth_only);
}

static enum smtp_step ehlo_hook(void *session, unsigned command, void *ctx)
{
    (void)command;
    (void)ctx;
    struct smtpd_session *s = session;
    if (!auth_allowed_now(s))
        return SMTP_STEP_NEXT;
    if (s->sasl && s->sasl->ehlo_waiting) {
        /* Resumed: ready or not, EHLO goes on. */
        s->sasl->ehlo_waiting = 0;
        return SMTP_STEP_NEXT;
    }
    if (auth_client_ready(sasl.client))
        return SMTP_STEP_NEXT; /* the usual case: no state needed */
    struct smtpd_sasl *st = sasl_of(s);
    if (auth_client_wait_ready(sasl.client, &st->wait, on_mechs_ready, s))
        return SMTP_STEP_NEXT;
    st->ehlo_waiting = 1;
    return SMTP_STEP_SUSPEND;
}

static void ehlo_hook_cancel(void *session, void *ctx)
{
    (void)ctx;
    struct smtpd_session *s = session;
    if (s->sasl) {
        auth_client_wait_cancel(sasl.client, &s->sasl->wait);
        s->sasl->ehlo_waiting = 0;
    }
}

void smtpd_sasl_init(void)
{
    sasl.enable = cfg_bool("smtpd_sasl_auth_enable");
    if (!sasl.enable)
        return;
    const char *type = cfg_str("smtpd_sasl_type");
    if (!str_equal_nocase(type, "dovecot"))
        log_fatal("unsupported SASL server implementation: %s "
                  "(smtpd_sasl_type: only dovecot)",
                  type);
    /* smtpd_tls_security_level = encrypt implies AUTH only over TLS:
     * before STARTTLS only EHLO, STARTTLS, NOOP, RSET and QUIT may do
     * anything, so a password must not go out in plain text. */
    sasl.auth_only = cfg_bool("smtpd_tls_auth_only") ||
                     (smtpd_var.tls_level == TLS_LEVEL_ENCRYPT &&
                      !smtpd_var.tls_wrappermode);
    sasl.broken_clients = cfg_bool("broken_sasl_auth_clients");
    sasl.authenticated_header = cfg_bool("smtpd_sasl_authenticated_header");
    sasl.sec_opts = sasl_security_from_param("smtpd_sasl_security_options");
    sasl.tls_sec_opts =
        sasl_security_from_param("smtpd_sasl_tls_security_options");
    sasl.response_limit = cfg_int("smtpd_sasl_response_limit");
    /* Relative to queue_directory, as Postfix: master runs its children
     * there, and a chrooted smtpd has it as its root. */
    const char *path = cfg_str("smtpd_sasl_path");
    const char *chroot_dir = getenv(MASTER_CHROOT_ENV);
    if (path[0] == '/' || (chroot_dir && *chroot_dir))
        sasl.path = xstrdup(path);
    else
        sasl.path = xasprintf("%s/%s", smtpd_var.queue_directory, path);
    static const struct smtp_hook hook = {
        .name = "sasl-mechanisms",
        .commands = SMTP_COMMAND_BIT(SMTP_VERB_EHLO),
        .run = ehlo_hook,
        .cancel = ehlo_hook_cancel,
    };
    if (smtpd_hook_add(&hook) < 0)
        log_fatal("smtpd: hook table full");
}

void smtpd_sasl_post_init(void)
{
    if (sasl.enable)
        sasl.client = auth_client_new(server_loop(), sasl.path, "smtp",
                                      SASL_SERVER_TIMEOUT_MS);
}

void smtpd_sasl_exit(void)
{
    auth_client_free(sasl.client);
    sasl.client = NULL;
    free(sasl.path);
    sasl.path = NULL;
}

int smtpd_sasl_broken_clients(void)
{
    return sasl.broken_clients;
}

size_t smtpd_sasl_response_limit(void)
{
    return (size_t)sasl.response_limit;
}

/* Whether mech may be offered now (smtpd_sasl_security_options, or the
 * TLS ones over TLS). Dovecot's private mechanisms are never offered. */
static int mech_offered(const struct smtpd_session *s,
                        const struct auth_mech *mech)
{
    unsigned opts = s->tls_active ? sasl.tls_sec_opts : sasl.sec_opts;
    if (mech->flags & AUTH_MECH_PRIVATE)
        return 0;
    return sasl_security_allows(opts, mech->flags);
}

int smtpd_sasl_mechanisms(const struct smtpd_session *s, struct buf *out)
{
    if (!auth_allowed_now(s) || sasl.client == NULL)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < auth_client_mech_count(sasl.client); i++) {
        const struct auth_mech *m = auth_client_mech(sasl.client, i);
        if (!mech_offered(s, m))
            continue;
        if (n++)
            buf_append_char(out, ' ');
        buf_append_str(out, m->name);
    }
    return n > 0;
}

static struct smtpd_sasl *sasl_of(struct smtpd_session *s)
{
    if (s->sasl == NULL) {
        s->sasl = xcalloc(1, sizeof(*s->sasl));
        event_timer_init(&s->sasl->resume_timer, on_resume_timer, s);
    }
    return s->sasl;
}

static void outcome_clear(struct smtpd_sasl *st)
{
    st->outcome = SASL_NONE;
    st->started = 0;
    free(st->user);
    st->user = NULL;
    free(st->reason);
    st->reason = NULL;
}

/* ---- the AUTH command ---- */

enum smtp_step smtpd_sasl_auth_parse(struct smtpd_session *s)
{
    const char *fail = NULL;
    const char *mech = buf_cstr(&s->cmd.arg);
    if (!sasl.enable || s->local)
        fail = "503 5.5.1 Error: authentication not enabled";
    else if (s->in_mail)
        fail = "503 5.5.1 Error: MAIL transaction in progress";
    else if (!auth_allowed_now(s))
        fail = "504 5.5.4 Encryption required for requested authentication "
               "mechanism";
    else if (s->sasl_authenticated)
        fail = "503 5.5.1 Error: already authenticated";
    if (fail) {
        smtpd_error_reply(s, "%s", fail);
        return SMTP_STEP_STOP;
    }
    /* A mechanism the server did not offer, or one our security options
     * hide. When the list is not known (the server cannot be reached)
     * the request goes ahead and fails temporarily. */
    if (auth_client_mech_count(sasl.client) > 0) {
        const struct auth_mech *m = auth_client_mech_find(sasl.client, mech);
        if (m == NULL || !mech_offered(s, m)) {
            log_warn("%s: SASL %s authentication failed: Invalid "
                     "authentication mechanism",
                     s->namaddr, mech);
            smtpd_error_reply(s, "504 5.5.4 Unrecognized authentication type");
            return SMTP_STEP_STOP;
        }
    }
    return SMTP_STEP_NEXT;
}

/* The answer the exchange waited for is in: the command carries on. */
static void resume_now(struct smtpd_session *s)
{
    if (s->state == SMTPD_SASL)
        s->state = SMTPD_SUSPENDED;
    if (s->state == SMTPD_SUSPENDED)
        smtpd_command_resume(s);
}

static void on_resume_timer(struct event_loop *loop, void *ctx)
{
    (void)loop;
    resume_now(ctx);
}

static void on_result(void *ctx, const struct auth_result *r)
{
    struct smtpd_session *s = ctx;
    struct smtpd_sasl *st = s->sasl;
    if (r->kind == AUTH_RESULT_CONT) {
        /* The client answers the challenge; its line is SASL data. */
        smtpd_reply(s, "334 %s", r->challenge);
        s->state = SMTPD_SASL;
        smtpd_resume(s);
        return;
    }
    st->request = NULL; /* the client frees it after this call */
    if (r->kind == AUTH_RESULT_OK && r->user && *r->user) {
        st->outcome = SASL_OK;
    } else {
        st->outcome = r->kind == AUTH_RESULT_TEMP ? SASL_TEMP : SASL_FAIL;
        st->reason = r->reason && *r->reason ? xstrdup(r->reason) : NULL;
    }
    st->user = r->user ? xstrdup(r->user) : NULL;
    resume_now(s);
}

/* The peer and the local end of the session, for lip/lport. */
static void local_address(const struct smtpd_session *s, char *ip,
                          size_t ip_size, char *port, size_t port_size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    ip[0] = port[0] = '\0';
    if (getsockname(s->fd, (struct sockaddr *)&ss, &len) < 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return;
    if (getnameinfo((struct sockaddr *)&ss, len, ip, (socklen_t)ip_size, port,
                    (socklen_t)port_size, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        ip[0] = port[0] = '\0';
    else if (strncmp(ip, "::ffff:", 7) == 0 && strchr(ip, '.'))
        memmove(ip, ip + 7, strlen(ip + 7) + 1);
}

static enum smtp_step auth_start(struct smtpd_session *s,
                                 struct smtpd_sasl *st)
{
    str_copy(st->method, buf_cstr(&s->cmd.arg), sizeof(st->method));
    for (char *p = st->method; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    st->started = 1;
    const char *initial = NULL;
    if (s->cmd.arg2.len > 0) {
        /* RFC 4954: "=" is an empty initial response. */
        initial = strcmp(buf_cstr(&s->cmd.arg2), "=") == 0
                      ? ""
                      : buf_cstr(&s->cmd.arg2);
        if (!auth_base64_valid(initial)) {
            st->outcome = SASL_FAIL;
            st->reason = xstrdup("Invalid base64 data in initial response");
            return SMTP_STEP_NEXT;
        }
    }
    char lip[64], lport[16];
    local_address(s, lip, sizeof(lip), lport, sizeof(lport));
    const struct auth_request_info info = {
        .mech = st->method,
        .local_ip = lip,
        .local_port = lport,
        .remote_ip = strcmp(s->addr, "unknown") ? s->addr : NULL,
        .remote_port = strcmp(s->port, "unknown") ? s->port : NULL,
        .secured = s->tls_active,
        .initial_response = initial,
    };
    st->request = auth_client_request(sasl.client, &info, on_result, s);
    return SMTP_STEP_SUSPEND;
}

/* Postfix's warning, which fail2ban's postfix filter (mode auth) reads. */
static void log_failure(const struct smtpd_session *s,
                        const struct smtpd_sasl *st, const char *reason)
{
    log_warn("%s: SASL %s authentication failed: %s, sasl_username=%s",
             s->namaddr, st->method, reason,
             st->user && *st->user ? st->user : "(unavailable)");
}

static enum smtp_step auth_finish(struct smtpd_session *s,
                                  struct smtpd_sasl *st)
{
    enum sasl_outcome outcome = st->outcome;
    const char *reason = st->reason ? st->reason : "(reason unavailable)";
    enum smtp_step step = SMTP_STEP_STOP;
    switch (outcome) {
    case SASL_OK:
        s->sasl_authenticated = 1;
        s->sasl_username = xstrdup(st->user);
        s->sasl_method = xstrdup(st->method);
        smtpd_reply(s, "235 2.7.0 Authentication successful");
        step = SMTP_STEP_NEXT;
        break;
    case SASL_FAIL:
        log_failure(s, st, reason);
        smtpd_error_reply(s, "535 5.7.8 Error: authentication failed: %s",
                          reason);
        break;
    case SASL_TEMP:
        log_failure(s, st, reason);
        smtpd_error_reply(s, "454 4.7.0 Temporary authentication failure: %s",
                          reason);
        break;
    case SASL_ABORTED:
        log_warn("%s: SASL %s authentication aborted", s->namaddr, st->method);
        smtpd_error_reply(s, "501 5.7.0 Authentication aborted");
        break;
    case SASL_TOO_LONG:
        smtpd_error_reply(s, "500 5.5.6 SASL response limit exceeded");
        break;
    case SASL_NONE:
        log_panic("%s: AUTH resumed without an outcome", s->namaddr);
    }
    outcome_clear(st);
    return step;
}

enum smtp_step smtpd_sasl_auth_proceed(struct smtpd_session *s)
{
    struct smtpd_sasl *st = sasl_of(s);
    if (!st->started) {
        enum smtp_step step = auth_start(s, st);
        if (step == SMTP_STEP_SUSPEND)
            return step;
    }
    if (st->outcome == SASL_NONE)
        return SMTP_STEP_SUSPEND; /* still waiting */
    return auth_finish(s, st);
}

void smtpd_sasl_input(struct smtpd_session *s, const char *line, size_t len,
                      int too_long)
{
    struct smtpd_sasl *st = sasl_of(s);
    s->state = SMTPD_SUSPENDED;
    char *text = xstrndup(line, len);
    if (too_long || strcmp(text, "*") == 0 || !auth_base64_valid(text)) {
        auth_request_abort(st->request);
        st->request = NULL;
        if (too_long) {
            st->outcome = SASL_TOO_LONG;
        } else if (strcmp(text, "*") == 0) {
            st->outcome = SASL_ABORTED;
        } else {
            st->outcome = SASL_FAIL;
            st->reason = xstrdup("Invalid base64 data in continued response");
        }
        /* Resumed from the loop, not from inside the session's input. */
        event_timer_start(server_loop(), &st->resume_timer, 0);
    } else {
        (void)auth_request_continue(st->request, text);
    }
    free(text);
}

/* ---- MAIL, logs, Received: ---- */

void smtpd_sasl_mail_param(struct smtpd_session *s)
{
    free(s->sasl_sender);
    s->sasl_sender = NULL;
    /* RFC 4954 section 5: trusted only from an authenticated client;
     * from anyone else it counts as AUTH=<>. */
    if (!(s->cmd.params & SMTP_PARAM_AUTH) || !s->sasl_authenticated)
        return;
    const char *value = buf_cstr(&s->cmd.auth);
    if (strcmp(value, "<>") != 0)
        s->sasl_sender = xstrdup(value);
}

void smtpd_sasl_log_fields(const struct smtpd_session *s, struct buf *out)
{
    if (!s->sasl_authenticated)
        return;
    buf_appendf(out, ", sasl_method=%s, sasl_username=%s", s->sasl_method,
                s->sasl_username);
    if (s->sasl_sender)
        buf_appendf(out, ", sasl_sender=%s", s->sasl_sender);
}

void smtpd_sasl_received(const struct smtpd_session *s, struct buf *out)
{
    if (!s->sasl_authenticated || !sasl.authenticated_header)
        return;
    /* The name came from the auth server; keep it to one header line. */
    buf_append_str(out, "\n\t(Authenticated sender: ");
    for (const char *p = s->sasl_username; *p; p++)
        buf_append_char(out, (unsigned char)*p < 32 || *p == 127 ? '?' : *p);
    buf_append_char(out, ')');
}

/* ---- the session's end and RFC 3207's reset ---- */

void smtpd_sasl_cancel(struct smtpd_session *s)
{
    struct smtpd_sasl *st = s->sasl;
    if (st == NULL)
        return;
    auth_request_abort(st->request);
    st->request = NULL;
    event_timer_stop(server_loop(), &st->resume_timer);
    if (sasl.client)
        auth_client_wait_cancel(sasl.client, &st->wait);
    st->ehlo_waiting = 0;
    outcome_clear(st);
}

void smtpd_sasl_reset(struct smtpd_session *s)
{
    s->sasl_authenticated = 0;
    free(s->sasl_username);
    s->sasl_username = NULL;
    free(s->sasl_method);
    s->sasl_method = NULL;
    free(s->sasl_sender);
    s->sasl_sender = NULL;
}

void smtpd_sasl_session_end(struct smtpd_session *s)
{
    smtpd_sasl_cancel(s);
    smtpd_sasl_reset(s);
    free(s->sasl);
    s->sasl = NULL;
}
