/* login_auth.c: LOGIN and AUTHENTICATE (RFC 3501 6.2.2 and 6.2.3, RFC
 * 4959 SASL-IR) in imap-login, as the client of the auth service over
 * Dovecot's protocol (lib/auth/auth_client, one connection per process,
 * service=imap). LOGIN is sent as a PLAIN exchange, as Dovecot does.
 *
 * Plaintext mechanisms (and LOGIN) are refused with [PRIVACYREQUIRED]
 * on a connection that is neither TLS nor secured (from the server's own
 * address) while imapd_disable_plaintext_auth is on. Failures are
 * delayed by the auth service (auth_failure_delay); after
 * LOGIN_MAX_AUTH_FAILURES the client is disconnected. A success hands
 * the session to imapd (login_handoff.c). */
#include "login.h"

#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "ipc/server.h"

#define AUTH_SERVER_TIMEOUT_MS 30000
#define LOGIN_MAX_AUTH_FAILURES 3

static struct auth_client *auth_client;
static char *auth_path;

void login_auth_init(void)
{
    const char *path = cfg_str("imapd_sasl_path");
    if (path[0] == '/')
        auth_path = xstrdup(path);
    else
        auth_path = xasprintf("%s/%s", imapd_var.queue_directory, path);
}

void login_auth_post_init(void)
{
    auth_client = auth_client_new(server_loop(), auth_path, "imap",
                                  AUTH_SERVER_TIMEOUT_MS);
}

void login_auth_exit(void)
{
    auth_client_free(auth_client);
    auth_client = NULL;
    free(auth_path);
    auth_path = NULL;
}

struct auth_client *login_auth_client(void)
{
    return auth_client;
}

static int mech_offered(const struct login_session *s,
                        const struct auth_mech *m)
{
    if (m->flags & (AUTH_MECH_PRIVATE | AUTH_MECH_ANONYMOUS))
        return 0;
    return !(m->flags & AUTH_MECH_PLAINTEXT) || login_plaintext_allowed(s);
}

size_t login_mechs(const struct login_session *s, const char **names,
                   size_t max)
{
    size_t n = 0;
    for (size_t i = 0;
         auth_client && i < auth_client_mech_count(auth_client) && n < max;
         i++) {
        const struct auth_mech *m = auth_client_mech(auth_client, i);
        if (mech_offered(s, m))
            names[n++] = m->name;
    }
    return n;
}

void login_auth_cancel(struct login_session *s)
{
    auth_request_abort(s->auth);
    s->auth = NULL;
    if (auth_client)
        auth_client_wait_cancel(auth_client, &s->auth_wait);
}

/* The command is over: its tag goes, commands are read again. */
static void finish(struct login_session *s)
{
    free(s->tag);
    s->tag = NULL;
    s->state = LOGIN_CMD;
    event_timer_start(server_loop(), &s->timer, imapd_var.login_timeout_ms);
}

static void failed(struct login_session *s, const char *reply)
{
    s->auth_attempts++;
    login_reply(s, "%s %s", s->tag, reply);
    finish(s);
    if (s->auth_attempts >= LOGIN_MAX_AUTH_FAILURES) {
        login_reply(s, "* BYE Too many authentication failures.");
        login_close(s, "Too many authentication failures");
    }
}

static void on_result(void *ctx, const struct auth_result *r)
{
    struct login_session *s = ctx;
    if (r->kind == AUTH_RESULT_CONT) {
        login_reply(s, "+ %s", r->challenge);
        s->state = LOGIN_SASL_LINE;
        imap_reader_expect_line(&s->reader);
        login_run(s);
        return;
    }
    s->auth = NULL; /* freed by the client after this call */
    if (r->user && *r->user) {
        free(s->user);
        s->user = xstrdup(r->user);
    }
    if (r->kind == AUTH_RESULT_OK && r->user && *r->user && r->fields) {
        login_handoff(s, r->user, r->fields);
        return;
    }
    if (r->kind == AUTH_RESULT_TEMP) {
        login_reply(s, "%s NO [UNAVAILABLE] Temporary authentication failure.",
                    s->tag);
        finish(s);
    } else {
        failed(s, "NO [AUTHENTICATIONFAILED] Authentication failed.");
    }
    login_run(s);
}

/* Starts an exchange; initial is base64 ("" for an empty response) or
 * NULL. */
static void start(struct login_session *s, const struct imap_command *cmd,
                  const char *mech, const char *initial)
{
    free(s->tag);
    s->tag = xstrdup(cmd->tag);
    str_copy(s->method, mech, sizeof(s->method));
    for (char *p = s->method; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    const struct auth_request_info info = {
        .mech = s->method,
        .local_ip = strcmp(s->lip, "unknown") ? s->lip : NULL,
        .local_port = s->lport,
        .remote_ip = strcmp(s->rip, "unknown") ? s->rip : NULL,
        .remote_port = s->rport,
        .secured = s->tls_active || s->secured,
        .initial_response = initial,
    };
    s->state = LOGIN_AUTHING;
    s->auth = auth_client_request(auth_client, &info, on_result, s);
}

static int refuse_plaintext(struct login_session *s,
                            const struct imap_command *cmd)
{
    if (login_plaintext_allowed(s))
        return 0;
    s->plain_refused = 1;
    login_reply(s,
                "%s NO [PRIVACYREQUIRED] Plaintext authentication disallowed "
                "on non-secure (SSL/TLS) connections.",
                cmd->tag);
    return 1;
}

void login_cmd_login(struct login_session *s, const struct imap_command *cmd)
{
    const char *user, *pass;
    size_t user_len, pass_len;
    if (cmd->arg_count != 2 ||
        imap_arg_astring(&cmd->args[0], &user, &user_len) < 0 ||
        imap_arg_astring(&cmd->args[1], &pass, &pass_len) < 0 ||
        memchr(user, 0, user_len) || memchr(pass, 0, pass_len)) {
        login_reply(s, "%s BAD Invalid arguments.", cmd->tag);
        (void)login_bad_command(s);
        return;
    }
    free(s->user);
    s->user = xstrdup(user);
    if (refuse_plaintext(s, cmd))
        return;
    /* PLAIN: authzid NUL authcid NUL password. */
    struct buf raw = BUF_INIT, b64 = BUF_INIT;
    buf_append_char(&raw, '\0');
    buf_append(&raw, user, user_len);
    buf_append_char(&raw, '\0');
    buf_append(&raw, pass, pass_len);
    base64_encode(raw.data, raw.len, &b64);
    start(s, cmd, "PLAIN", buf_cstr(&b64));
    memset(raw.data, 0, raw.len);
    memset(b64.data, 0, b64.len);
    buf_free(&raw);
    buf_free(&b64);
}

void login_cmd_authenticate(struct login_session *s,
                            const struct imap_command *cmd)
{
    const char *mech, *initial = NULL;
    size_t len;
    if (cmd->arg_count < 1 || cmd->arg_count > 2 ||
        cmd->args[0].type != IMAP_ARG_ATOM ||
        imap_arg_astring(&cmd->args[0], &mech, &len) < 0 ||
        (cmd->arg_count == 2 && cmd->args[1].type != IMAP_ARG_ATOM)) {
        login_reply(s, "%s BAD Invalid arguments.", cmd->tag);
        (void)login_bad_command(s);
        return;
    }
    const struct auth_mech *m = auth_client_mech_find(auth_client, mech);
    if (auth_client_mech_count(auth_client) > 0 &&
        (m == NULL || (m->flags & (AUTH_MECH_PRIVATE | AUTH_MECH_ANONYMOUS)))) {
        login_reply(s, "%s NO Unsupported authentication mechanism.", cmd->tag);
        return;
    }
    if (m && (m->flags & AUTH_MECH_PLAINTEXT) && refuse_plaintext(s, cmd))
        return;
    if (cmd->arg_count == 2) {
        /* RFC 4959: "=" is an empty initial response. */
        initial = strcmp(cmd->args[1].str, "=") == 0 ? "" : cmd->args[1].str;
        if (!auth_base64_valid(initial)) {
            login_reply(s, "%s BAD Invalid base64 data in initial response.",
                        cmd->tag);
            (void)login_bad_command(s);
            return;
        }
    }
    start(s, cmd, mech, initial);
}

void login_sasl_line(struct login_session *s, const char *line, size_t len)
{
    s->state = LOGIN_AUTHING;
    if (line == NULL || (len == 1 && line[0] == '*')) {
        /* "*" (RFC 3501 6.2.2), or a line over the limit: aborted. */
        auth_request_abort(s->auth);
        s->auth = NULL;
        login_reply(s, "%s BAD %s", s->tag,
                    line ? "Authentication aborted by client."
                         : "Authentication response too long.");
        finish(s);
        return;
    }
    char *text = xstrndup(line, len);
    if (auth_request_continue(s->auth, text) < 0) {
        auth_request_abort(s->auth);
        s->auth = NULL;
        login_reply(s, "%s BAD Invalid base64 data in continued response.",
                    s->tag);
        finish(s);
    }
    free(text);
}
