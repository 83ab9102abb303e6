/* auth_server.c: Dovecot's authentication protocol, server side, as a
 * state machine; see auth_server.h. The SASL mechanisms are in sasl_*.c,
 * the password tables in passdb.c, the failure counters in
 * auth_penalty.c. */
#include "auth/auth_server.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_line.h"
#include "auth/auth_penalty.h"
#include "auth/password.h"
#include "auth/sasl.h"
#include "auth/username_format.h"
#include "base/base64.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

struct auth_server {
    struct auth_server_settings settings;
    char *failure_log_ident;
    char *username_format;
    struct auth_penalty *penalty;
    unsigned long next_cuid;
    unsigned long password_checks;
};

enum request_state { REQUEST_EXCHANGE, REQUEST_VERIFYING, REQUEST_FAILING };

/* A password check handed to verify_async. The request points at the job
 * and the job at the request; whichever goes first unlinks itself. */
struct auth_verify_job {
    struct auth_request *request; /* NULL once the request is gone */
    char *stored;
    char *password;
    size_t password_len;
    enum password_result result;
    struct buf err;
};

struct auth_request {
    struct auth_conn *conn;
    unsigned id;
    enum request_state state;
    struct sasl_exchange sasl;
    struct sasl_backend backend;
    char *service;
    char rip[INET6_ADDRSTRLEN];      /* "" when not given or not an address */
    char table_type[16];             /* for the log line: "passwd-file", ... */
    const char *fail_text;           /* Dovecot's words for the log line */
    int locked;                      /* failed because locked out */
    struct passdb_user user;         /* once found */
    struct auth_verify_job *job;     /* REQUEST_VERIFYING */
    int have_user;
    uint64_t now_ms;                 /* of the line being handled */
    uint64_t step_ms;                /* arrival of the line whose step runs:
                                        a failure is answered at step_ms +
                                        failure_delay_ms */
    uint64_t due_ms;                 /* REQUEST_FAILING: when to answer */
    struct buf reply;                /* REQUEST_FAILING: the FAIL line */
};

struct auth_conn {
    struct auth_server *srv;
    int got_version, got_cpid;
    unsigned long client_pid;
    unsigned long cuid;
    struct auth_request *requests[AUTH_CONN_MAX_REQUESTS];
    size_t request_count;
    struct buf error;
    struct buf finished;  /* replies made by auth_verify_job_done */
    void *context;
};

int auth_service_wants_userdb(const char *service)
{
    return strcmp(service, "imap") == 0 || strcmp(service, "pop3") == 0;
}

struct auth_server *auth_server_new(const struct auth_server_settings *s)
{
    struct auth_server *srv = xcalloc(1, sizeof(*srv));
    srv->settings = *s;
    srv->failure_log_ident =
        s->failure_log_ident ? xstrdup(s->failure_log_ident) : NULL;
    srv->settings.failure_log_ident = srv->failure_log_ident;
    srv->username_format =
        s->username_format ? xstrdup(s->username_format) : NULL;
    srv->settings.username_format = srv->username_format;
    if (srv->settings.wants_userdb == NULL)
        srv->settings.wants_userdb = auth_service_wants_userdb;
    srv->penalty = auth_penalty_new(s->lockout_threshold, s->lockout_window_ms);
    srv->next_cuid = 1;
    return srv;
}

void auth_server_free(struct auth_server *srv)
{
    if (srv == NULL)
        return;
    auth_penalty_free(srv->penalty);
    free(srv->failure_log_ident);
    free(srv->username_format);
    free(srv);
}

struct auth_conn *auth_conn_new(struct auth_server *srv)
{
    struct auth_conn *conn = xcalloc(1, sizeof(*conn));
    conn->srv = srv;
    conn->cuid = srv->next_cuid++;
    buf_init(&conn->error);
    buf_init(&conn->finished);
    return conn;
}

static void job_free(struct auth_verify_job *job)
{
    if (job->password) {
        OPENSSL_cleanse(job->password, job->password_len);
        free(job->password);
    }
    free(job->stored);
    buf_free(&job->err);
    free(job);
}

static void request_free(struct auth_request *r)
{
    if (r->job)
        r->job->request = NULL; /* the job frees itself when done */
    sasl_exchange_free(&r->sasl);
    free(r->service);
    passdb_user_free(&r->user);
    buf_free(&r->reply);
    free(r);
}

static void request_remove(struct auth_conn *conn, struct auth_request *r)
{
    for (size_t i = 0; i < conn->request_count; i++)
        if (conn->requests[i] == r) {
            conn->requests[i] = conn->requests[--conn->request_count];
            break;
        }
    request_free(r);
}

void auth_conn_set_context(struct auth_conn *conn, void *context)
{
    conn->context = context;
}

void *auth_conn_context(const struct auth_conn *conn)
{
    return conn->context;
}

void auth_conn_free(struct auth_conn *conn)
{
    if (conn == NULL)
        return;
    for (size_t i = 0; i < conn->request_count; i++)
        request_free(conn->requests[i]);
    buf_free(&conn->error);
    buf_free(&conn->finished);
    free(conn);
}

const char *auth_conn_error(const struct auth_conn *conn)
{
    return buf_cstr(&conn->error);
}

unsigned long auth_conn_client_pid(const struct auth_conn *conn)
{
    return conn->client_pid;
}

void auth_conn_handshake(struct auth_conn *conn, struct buf *out)
{
    /* MECH lines come before SPID: clients (Postfix, Exim) tell the
     * auth-client socket from auth-master (VERSION + SPID only) by
     * whether a MECH line came before SPID. */
    buf_appendf(out, "VERSION\t%d\t%d\n", AUTH_PROTO_MAJOR, AUTH_PROTO_MINOR);
    for (size_t i = 0; sasl_mechs[i]; i++) {
        buf_append_str(out, "MECH");
        auth_line_add(out, sasl_mechs[i]->name);
        if (sasl_mechs[i]->flags & SASL_MECH_PLAINTEXT)
            auth_line_add(out, "plaintext");
        buf_append_char(out, '\n');
    }
    unsigned char cookie[16];
    if (RAND_bytes(cookie, sizeof(cookie)) != 1)
        memset(cookie, 0, sizeof(cookie)); /* we never check cookies */
    buf_appendf(out, "SPID\t%ld\nCUID\t%lu\nCOOKIE\t",
                (long)conn->srv->settings.pid, conn->cuid);
    for (size_t i = 0; i < sizeof(cookie); i++)
        buf_appendf(out, "%02x", cookie[i]);
    buf_append_str(out, "\nDONE\n");
}

static int conn_fail(struct auth_conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int conn_fail(struct auth_conn *conn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_reset(&conn->error);
    buf_vappendf(&conn->error, fmt, ap);
    va_end(ap);
    return -1;
}

/* A user name made safe for a log line and for fail2ban's patterns:
 * bytes outside printable ASCII, blanks, and the characters its
 * patterns use as delimiters become '?'. */
static void safe_user(const char *user, char *out, size_t size)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(user ? user : "");
         *p && n + 1 < size; p++)
        out[n++] = (*p <= 0x20 || *p >= 0x7f || strchr(",()[]<>\"'", *p))
                       ? '?'
                       : (char)*p;
    out[n] = 0;
    if (n == 0 && size > 1) {
        out[0] = '?';
        out[1] = 0;
    }
}

static void penalty_keys(const struct auth_request *r, struct buf *rip_key,
                         struct buf *user_key)
{
    if (r->rip[0])
        buf_appendf(rip_key, "rip:%s", r->rip);
    /* The user's counter ignores case: SQL and file tables fold the
     * name, so "Alice" and "alice" are one account there and must not
     * get a lock-out each (docs/auth.md, "Case"). */
    if (r->sasl.user) {
        buf_appendf(user_key, "user:%s", r->sasl.user);
        str_lower(user_key->data);
    }
}

/* ---- the backend the mechanisms call ---- */

/* Replaces the exchange's user name by its auth_username_format form,
 * before anything looks at it (lock-out keys, lookup, log lines, OK's
 * user=), as Dovecot does; returns it. */
static const char *request_normalize(struct auth_request *r)
{
    const char *format = r->conn->srv->settings.username_format;
    if (format == NULL || r->sasl.user == NULL)
        return r->sasl.user;
    struct buf out = BUF_INIT, err = BUF_INIT;
    if (username_format_expand(format, r->sasl.user, &out, &err) == 0) {
        free(r->sasl.user);
        r->sasl.user = xstrdup(buf_cstr(&out));
    }
    buf_free(&out);
    buf_free(&err);
    return r->sasl.user;
}

static int request_locked(struct auth_request *r, uint64_t now_ms)
{
    struct auth_penalty *p = r->conn->srv->penalty;
    struct buf rip_key = BUF_INIT, user_key = BUF_INIT;
    penalty_keys(r, &rip_key, &user_key);
    int locked = (rip_key.len && auth_penalty_locked(p, rip_key.data, now_ms)) ||
                 (user_key.len && auth_penalty_locked(p, user_key.data, now_ms));
    buf_free(&rip_key);
    buf_free(&user_key);
    return locked;
}

/* Finds the user; on the way out r->table_type names the table for the
 * log line. */
static enum passdb_result request_lookup(struct auth_request *r,
                                         const char *user, struct buf *reason)
{
    struct buf err = BUF_INIT;
    passdb_user_free(&r->user);
    r->have_user = 0;
    enum passdb_result pr =
        passdb_lookup(r->conn->srv->settings.passdb, user, &r->user, &err);
    if (pr == PASSDB_ERROR) {
        char shown[SASL_USER_MAX + 1];
        safe_user(user, shown, sizeof(shown));
        log_warn("passdb(%s,%s): passdb lookup failed: %s", shown, r->rip,
                 buf_cstr(&err));
        buf_set_str(reason, "passdb lookup failed");
    } else if (pr == PASSDB_FOUND) {
        r->have_user = 1;
        str_copy(r->table_type, r->user.table_type, sizeof(r->table_type));
    } else {
        r->fail_text = "unknown user";
        buf_set_str(reason, "unknown user");
    }
    buf_free(&err);
    return pr;
}

/* What both mechanism back-ends do first: normalize the name, refuse a
 * locked-out client or user, and look the user up. Returns 0 when the
 * user was found (r->user holds the entry; *name the normalized name);
 * otherwise -1 with *early the
 * answer to give. An unknown user costs no password check: its FAIL goes
 * out at the same moment as a wrong password's (request_failed), so the
 * client cannot tell them apart by time, and a flood of made-up names
 * costs no CPU or memory (docs/auth.md). */
static int request_find_user(struct auth_request *r, const char **name,
                             struct buf *reason, enum sasl_check *early)
{
    const char *user = *name = request_normalize(r);
    if (request_locked(r, r->now_ms)) {
        r->locked = 1;
        buf_set_str(reason, "locked out");
        *early = SASL_CHECK_FAIL;
        return -1;
    }
    enum passdb_result pr = request_lookup(r, user, reason);
    if (pr == PASSDB_FOUND)
        return 0;
    *early = pr == PASSDB_ERROR ? SASL_CHECK_TEMPFAIL : SASL_CHECK_FAIL;
    return -1;
}

static enum sasl_check backend_check_password(void *ctx, const char *user,
                                              const char *password, size_t len,
                                              struct buf *reason)
{
    struct auth_request *r = ctx;
    enum sasl_check early;
    if (request_find_user(r, &user, reason, &early) < 0)
        return early;
    struct auth_server *srv = r->conn->srv;
    srv->password_checks++;
    if (srv->settings.verify_async) {
        struct auth_verify_job *job = xcalloc(1, sizeof(*job));
        job->request = r;
        job->stored = xstrdup(r->user.password);
        job->password = xmemdup(password, len);
        job->password_len = len;
        buf_init(&job->err);
        r->job = job;
        srv->settings.verify_async(job, srv->settings.verify_ctx);
        return SASL_CHECK_PENDING;
    }
    struct buf err = BUF_INIT;
    enum password_result v = password_verify(r->user.password, password, len,
                                             PASSDB_DEFAULT_SCHEME, &err);
    enum sasl_check result = SASL_CHECK_OK;
    if (v == PASSWORD_ERROR) {
        char shown[SASL_USER_MAX + 1];
        safe_user(user, shown, sizeof(shown));
        log_warn("%s(%s,%s): cannot check the stored password: %s",
                 r->table_type, shown, r->rip, buf_cstr(&err));
        buf_set_str(reason, "stored password cannot be checked");
        result = SASL_CHECK_TEMPFAIL;
    } else if (v == PASSWORD_MISMATCH) {
        r->fail_text = "Password mismatch";
        buf_set_str(reason, "password mismatch");
        result = SASL_CHECK_FAIL;
    }
    buf_free(&err);
    return result;
}

/* 1 when stored is "{NAME}..." for one of names (case-insensitive). */
static int scheme_is(const char *stored, const char *const *names,
                     const char **data)
{
    if (stored[0] != '{')
        return 0;
    const char *end = strchr(stored, '}');
    if (end == NULL)
        return 0;
    for (size_t i = 0; names[i]; i++)
        if ((size_t)(end - stored - 1) == strlen(names[i]) &&
            strncasecmp(stored + 1, names[i], strlen(names[i])) == 0) {
            *data = end + 1;
            return 1;
        }
    return 0;
}

static enum sasl_check backend_scram_credentials(void *ctx, const char *user,
                                                 struct scram_creds *creds,
                                                 struct buf *reason)
{
    static const char *const scram_names[] = {"SCRAM-SHA-256", NULL};
    static const char *const plain_names[] = {"PLAIN", "CLEARTEXT", "CLEAR",
                                              NULL};
    struct auth_request *r = ctx;
    enum sasl_check early;
    if (request_find_user(r, &user, reason, &early) < 0)
        return early;
    const char *data;
    r->fail_text = "Password mismatch";
    if (scheme_is(r->user.password, scram_names, &data)) {
        struct buf err = BUF_INIT;
        if (scram_creds_parse(data, creds, &err) < 0) {
            char shown[SASL_USER_MAX + 1];
            safe_user(user, shown, sizeof(shown));
            log_warn("%s(%s,%s): cannot use the stored password: %s",
                     r->table_type, shown, r->rip, buf_cstr(&err));
            buf_free(&err);
            buf_set_str(reason, "stored password cannot be used");
            return SASL_CHECK_TEMPFAIL;
        }
        buf_free(&err);
        return SASL_CHECK_OK;
    }
    if (scheme_is(r->user.password, plain_names, &data)) {
        unsigned char salt[16];
        if (RAND_bytes(salt, sizeof(salt)) != 1 ||
            scram_creds_derive(data, strlen(data), salt, sizeof(salt),
                               SCRAM_DEFAULT_ITERATIONS, creds) < 0) {
            buf_set_str(reason, "no randomness");
            return SASL_CHECK_TEMPFAIL;
        }
        return SASL_CHECK_OK;
    }
    r->fail_text = "Invalid credentials";
    buf_set_str(reason, "the stored scheme does not allow SCRAM-SHA-256");
    return SASL_CHECK_UNAVAILABLE;
}

/* ---- replies ---- */

static void reply_ok(struct auth_request *r, struct buf *out)
{
    struct auth_server *srv = r->conn->srv;
    struct buf err = BUF_INIT;
    int userdb = srv->settings.wants_userdb(r->service);
    if (userdb && r->have_user &&
        (!r->user.has_uid || !r->user.has_gid || !r->user.home)) {
        if (srv->settings.complete_user == NULL) {
            buf_set_str(&err, "no uid, gid or home, and no virtual maps");
        } else if (srv->settings.complete_user(r->sasl.user, &r->user, &err) ==
                   0) {
            buf_reset(&err);
        } else if (err.len == 0) {
            buf_set_str(&err, "virtual maps lookup failed");
        }
    }
    char shown[SASL_USER_MAX + 1];
    safe_user(r->sasl.user, shown, sizeof(shown));
    if (userdb && (err.len || !r->have_user)) {
        log_warn("%s(%s,%s): no mailbox identity for service %s: %s",
                 r->table_type, shown, r->rip, r->service,
                 err.len ? buf_cstr(&err) : "user not looked up");
        buf_appendf(out, "FAIL\t%u\ttemp", r->id);
        auth_line_add_param(out, "reason", "Temporary authentication failure");
        auth_line_add_param(out, "user", r->sasl.user);
        buf_append_char(out, '\n');
        buf_free(&err);
        return;
    }
    buf_free(&err);
    buf_appendf(out, "OK\t%u", r->id);
    auth_line_add_param(out, "user", r->sasl.user);
    if (userdb) {
        char number[24];
        snprintf(number, sizeof(number), "%lu", (unsigned long)r->user.uid);
        auth_line_add_param(out, "uid", number);
        snprintf(number, sizeof(number), "%lu", (unsigned long)r->user.gid);
        auth_line_add_param(out, "gid", number);
        auth_line_add_param(out, "home", r->user.home);
        if (r->user.mail)
            auth_line_add_param(out, "mail", r->user.mail);
        if (r->user.quota_storage)
            auth_line_add_param(out, "quota_storage", r->user.quota_storage);
    }
    buf_append_char(out, '\n');
    log_info("%s(%s,%s): authenticated (method=%s, service=%s)",
             r->table_type, shown, r->rip, r->sasl.mech->name, r->service);
    struct buf rip_key = BUF_INIT, user_key = BUF_INIT;
    penalty_keys(r, &rip_key, &user_key);
    if (user_key.len)
        auth_penalty_clear(srv->penalty, user_key.data);
    buf_free(&rip_key);
    buf_free(&user_key);
}

/* Counts, logs and schedules the FAIL of a failed attempt: due
 * failure_delay_ms after the line that started the failed step arrived,
 * not after the check ended, so every failure takes the same time as
 * seen by the client whatever it cost us (at once if the check took
 * longer than the delay). */
static void request_failed(struct auth_request *r, uint64_t now_ms)
{
    struct auth_server *srv = r->conn->srv;
    struct buf rip_key = BUF_INIT, user_key = BUF_INIT;
    penalty_keys(r, &rip_key, &user_key);
    unsigned rip_count = 0, user_count = 0;
    if (rip_key.len)
        rip_count = auth_penalty_fail(srv->penalty, rip_key.data, now_ms);
    if (user_key.len)
        user_count = auth_penalty_fail(srv->penalty, user_key.data, now_ms);
    buf_free(&rip_key);
    buf_free(&user_key);

    char shown[SASL_USER_MAX + 1];
    safe_user(r->sasl.user, shown, sizeof(shown));
    const char *text = r->fail_text ? r->fail_text : "Invalid credentials";
    if (r->locked)
        text = "Invalid credentials";
    /* Dovecot's shape, which fail2ban's stock dovecot filter matches:
     * "TABLE(user,rip): Password mismatch". */
    const char *detail =
        r->locked ? "locked out" : buf_cstr(&r->sasl.reason);
    if (str_equal_nocase(detail, text))
        detail = "";
    log_info_ident(srv->failure_log_ident ? srv->failure_log_ident : "",
                   "%s(%s,%s): %s (%s%smethod=%s, service=%s, "
                   "rip_failures=%u, user_failures=%u)",
                   r->table_type, shown, r->rip, text, detail,
                   detail[0] ? "; " : "", r->sasl.mech->name, r->service,
                   rip_count, user_count);

    buf_reset(&r->reply);
    buf_appendf(&r->reply, "FAIL\t%u", r->id);
    auth_line_add_param(&r->reply, "reason",
                        r->locked ? "Too many failed attempts try later"
                                  : "Authentication failed");
    if (r->sasl.user)
        auth_line_add_param(&r->reply, "user", r->sasl.user);
    buf_append_char(&r->reply, '\n');
    r->state = REQUEST_FAILING;
    r->due_ms = r->step_ms + srv->settings.failure_delay_ms;
}

static void request_answer(struct auth_request *r, enum sasl_status st,
                           const struct buf *challenge, uint64_t now_ms,
                           struct buf *out);

/* Runs one step of r's exchange and answers; r may be gone after. */
static void request_step(struct auth_request *r, const char *data_b64,
                         uint64_t now_ms, struct buf *out)
{
    struct buf raw = BUF_INIT, challenge = BUF_INIT;
    enum sasl_status st;
    r->now_ms = now_ms;
    r->step_ms = now_ms;
    if (data_b64 && base64_decode(data_b64, strlen(data_b64), &raw) < 0) {
        st = sasl_fail(&r->sasl, "response is not valid base64");
    } else {
        st = sasl_exchange_step(&r->sasl, (const unsigned char *)raw.data,
                                raw.len, data_b64 != NULL, &challenge);
    }
    if (raw.data)
        memset(raw.data, 0, raw.len);
    buf_free(&raw);
    request_answer(r, st, &challenge, now_ms, out);
    buf_free(&challenge);
}

/* Answers what a step (or a background check) ended with; r may be gone
 * after. */
static void request_answer(struct auth_request *r, enum sasl_status st,
                           const struct buf *challenge, uint64_t now_ms,
                           struct buf *out)
{
    struct auth_conn *conn = r->conn;
    switch (st) {
    case SASL_PENDING:
        r->state = REQUEST_VERIFYING;
        break;
    case SASL_CONTINUE:
        buf_appendf(out, "CONT\t%u\t", r->id);
        base64_encode(challenge->data ? challenge->data : "", challenge->len,
                      out);
        buf_append_char(out, '\n');
        break;
    case SASL_SUCCESS:
        reply_ok(r, out);
        request_remove(conn, r);
        break;
    case SASL_TEMPFAIL: {
        char shown[SASL_USER_MAX + 1];
        safe_user(r->sasl.user, shown, sizeof(shown));
        log_warn("passdb(%s,%s): temporary failure: %s (method=%s, service=%s)",
                 shown, r->rip, buf_cstr(&r->sasl.reason), r->sasl.mech->name,
                 r->service);
        buf_appendf(out, "FAIL\t%u\ttemp", r->id);
        auth_line_add_param(out, "reason", "Temporary authentication failure");
        if (r->sasl.user)
            auth_line_add_param(out, "user", r->sasl.user);
        buf_append_char(out, '\n');
        request_remove(conn, r);
        break;
    }
    case SASL_FAILURE:
        request_failed(r, now_ms);
        break;
    }
}

static struct auth_request *find_request(struct auth_conn *conn, unsigned id)
{
    for (size_t i = 0; i < conn->request_count; i++)
        if (conn->requests[i]->id == id)
            return conn->requests[i];
    return NULL;
}

/* A request id: decimal, 1..UINT_MAX-ish, no sign. */
static int parse_id(const char *text, unsigned *id)
{
    unsigned long long value = 0;
    if (*text == 0 || strlen(text) > 10)
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (unsigned)(*p - '0');
    }
    if (value > 0xffffffffULL)
        return -1;
    *id = (unsigned)value;
    return 0;
}

static int cmd_auth(struct auth_conn *conn, const struct auth_line *line,
                    uint64_t now_ms, struct buf *out)
{
    unsigned id;
    if (!conn->got_version || !conn->got_cpid)
        return conn_fail(conn, "AUTH before the handshake (VERSION, CPID)");
    if (line->count < 3 || parse_id(line->fields[1], &id) < 0)
        return conn_fail(conn, "malformed AUTH line");
    if (find_request(conn, id))
        return conn_fail(conn, "AUTH reused request id %u", id);
    const char *service = auth_line_param(line, 3, "service");
    if (service == NULL || service[0] == 0)
        return conn_fail(conn, "AUTH without service");
    const struct sasl_mech *mech = sasl_mech_find(line->fields[2]);
    if (mech == NULL || conn->request_count >= AUTH_CONN_MAX_REQUESTS) {
        buf_appendf(out, "FAIL\t%u", id);
        auth_line_add_param(out, "reason",
                            mech ? "Too many requests in progress"
                                 : "Unsupported authentication mechanism");
        buf_append_char(out, '\n');
        return 0;
    }
    struct auth_request *r = xcalloc(1, sizeof(*r));
    r->conn = conn;
    r->id = id;
    r->service = xstrdup(service);
    buf_init(&r->reply);
    /* Not "auth": fail2ban's dovecot filter reads "auth(...): " as a
     * process prefix and would miss the line. */
    str_copy(r->table_type, "passdb", sizeof(r->table_type));
    const char *rip = auth_line_param(line, 3, "rip");
    unsigned char addr[16];
    if (rip && (inet_pton(AF_INET, rip, addr) == 1 ||
                inet_pton(AF_INET6, rip, addr) == 1))
        str_copy(r->rip, rip, sizeof(r->rip));
    r->backend.ctx = r;
    r->backend.check_password = backend_check_password;
    r->backend.scram_credentials = backend_scram_credentials;
    sasl_exchange_init(&r->sasl, mech, &r->backend);
    conn->requests[conn->request_count++] = r;
    request_step(r, auth_line_param(line, 3, "resp"), now_ms, out);
    return 0;
}

static int cmd_cont(struct auth_conn *conn, const struct auth_line *line,
                    uint64_t now_ms, struct buf *out)
{
    unsigned id;
    if (!conn->got_version || !conn->got_cpid)
        return conn_fail(conn, "CONT before the handshake");
    if (line->count < 3 || parse_id(line->fields[1], &id) < 0)
        return conn_fail(conn, "malformed CONT line");
    struct auth_request *r = find_request(conn, id);
    if (r == NULL) {
        buf_appendf(out, "FAIL\t%u", id);
        auth_line_add_param(out, "reason",
                            "Authentication request timed out");
        buf_append_char(out, '\n');
        return 0;
    }
    if (r->state != REQUEST_EXCHANGE)
        return 0; /* its answer is on the way */
    request_step(r, line->fields[2], now_ms, out);
    return 0;
}

int auth_conn_input(struct auth_conn *conn, const char *text, size_t len,
                    uint64_t now_ms, struct buf *out)
{
    struct auth_line line = AUTH_LINE_INIT;
    int rc = 0;
    if (auth_line_split(&line, text, len) < 0) {
        rc = conn_fail(conn, "malformed line (too long, too many fields or "
                             "an escaped NUL)");
    } else if (strcmp(line.fields[0], "VERSION") == 0) {
        if (line.count < 3 || strcmp(line.fields[1], "1") != 0)
            rc = conn_fail(conn, "client speaks auth protocol version %s, "
                                 "not 1.x",
                           line.count > 1 ? line.fields[1] : "(none)");
        else if (conn->got_version)
            rc = conn_fail(conn, "VERSION sent twice");
        conn->got_version = 1;
    } else if (!conn->got_version) {
        rc = conn_fail(conn, "first line is not VERSION");
    } else if (strcmp(line.fields[0], "CPID") == 0) {
        long pid;
        if (line.count < 2 || str_to_long(line.fields[1], &pid) < 0 ||
            pid < 0 || conn->got_cpid)
            rc = conn_fail(conn, "malformed or repeated CPID line");
        conn->client_pid = (unsigned long)(pid < 0 ? 0 : pid);
        conn->got_cpid = 1;
    } else if (strcmp(line.fields[0], "AUTH") == 0) {
        rc = cmd_auth(conn, &line, now_ms, out);
    } else if (strcmp(line.fields[0], "CONT") == 0) {
        rc = cmd_cont(conn, &line, now_ms, out);
    } else {
        char shown[32];
        safe_user(line.fields[0], shown, sizeof(shown));
        rc = conn_fail(conn, "unknown command %s", shown);
    }
    auth_line_free(&line);
    return rc;
}

unsigned long auth_server_password_checks(const struct auth_server *srv)
{
    return srv->password_checks;
}

void auth_verify_job_run(struct auth_verify_job *job)
{
    job->result = password_verify(job->stored, job->password,
                                  job->password_len, PASSDB_DEFAULT_SCHEME,
                                  &job->err);
}

struct auth_conn *auth_verify_job_done(struct auth_verify_job *job,
                                       uint64_t now_ms)
{
    struct auth_request *r = job->request;
    if (r == NULL) {
        job_free(job);
        return NULL;
    }
    r->job = NULL;
    struct auth_conn *conn = r->conn;
    enum sasl_status st;
    if (job->result == PASSWORD_MATCH) {
        st = SASL_SUCCESS;
    } else if (job->result == PASSWORD_MISMATCH) {
        r->fail_text = "Password mismatch";
        buf_set_str(&r->sasl.reason, "password mismatch");
        st = SASL_FAILURE;
    } else {
        char shown[SASL_USER_MAX + 1];
        safe_user(r->sasl.user, shown, sizeof(shown));
        log_warn("%s(%s,%s): cannot check the stored password: %s",
                 r->table_type, shown, r->rip, buf_cstr(&job->err));
        buf_set_str(&r->sasl.reason, "stored password cannot be checked");
        st = SASL_TEMPFAIL;
    }
    job_free(job);
    r->state = REQUEST_EXCHANGE;
    struct buf none = BUF_INIT;
    request_answer(r, st, &none, now_ms, &conn->finished);
    return conn;
}

/* A request that waited auth_request_timeout for the client's CONT:
 * answered, logged, not counted as a failed login (the client, not the
 * user, went quiet). */
static void request_timed_out(struct auth_request *r, struct buf *out)
{
    char shown[SASL_USER_MAX + 1];
    safe_user(r->sasl.user, shown, sizeof(shown));
    log_info("passdb(%s,%s): request timed out waiting for the client "
             "(method=%s, service=%s)",
             shown, r->rip, r->sasl.mech->name, r->service);
    buf_appendf(out, "FAIL\t%u", r->id);
    auth_line_add_param(out, "reason", "Authentication request timed out");
    if (r->sasl.user)
        auth_line_add_param(out, "user", r->sasl.user);
    buf_append_char(out, '\n');
}

size_t auth_conn_requests(const struct auth_conn *conn)
{
    return conn->request_count;
}

uint64_t auth_conn_flush_due(struct auth_conn *conn, uint64_t now_ms,
                             struct buf *out)
{
    uint64_t next = 0;
    if (conn->finished.len) {
        buf_append(out, conn->finished.data, conn->finished.len);
        buf_reset(&conn->finished);
    }
    uint64_t timeout = conn->srv->settings.request_timeout_ms;
    for (size_t i = 0; i < conn->request_count;) {
        struct auth_request *r = conn->requests[i];
        if (r->state == REQUEST_EXCHANGE && timeout) {
            /* Waiting for the client's CONT: bounded, so a client cannot
             * hold requests (and their state) open for ever. */
            if (r->step_ms + timeout <= now_ms) {
                request_timed_out(r, out);
                request_remove(conn, r); /* moves the last one here */
                continue;
            }
            if (next == 0 || r->step_ms + timeout < next)
                next = r->step_ms + timeout;
        }
        if (r->state != REQUEST_FAILING) {
            i++;
            continue;
        }
        if (r->due_ms <= now_ms) {
            buf_append(out, r->reply.data, r->reply.len);
            request_remove(conn, r); /* moves the last one here */
            continue;
        }
        if (next == 0 || r->due_ms < next)
            next = r->due_ms;
        i++;
    }
    return next;
}
