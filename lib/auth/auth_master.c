/* auth_master.c: the userdb side of Dovecot's auth-master protocol; see
 * auth_master.h. */
#include "auth/auth_master.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_line.h"
#include "auth/username_format.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

struct auth_master_conn {
    const struct auth_server_settings *settings;
    int got_version;
    unsigned long lookups;
    struct buf error;
};

struct auth_master_conn *
auth_master_conn_new(const struct auth_server_settings *s)
{
    struct auth_master_conn *conn = xcalloc(1, sizeof(*conn));
    conn->settings = s;
    buf_init(&conn->error);
    return conn;
}

void auth_master_conn_free(struct auth_master_conn *conn)
{
    if (conn == NULL)
        return;
    buf_free(&conn->error);
    free(conn);
}

const char *auth_master_error(const struct auth_master_conn *conn)
{
    return buf_cstr(&conn->error);
}

unsigned long auth_master_lookups(const struct auth_master_conn *conn)
{
    return conn->lookups;
}

void auth_master_handshake(const struct auth_master_conn *conn, struct buf *out)
{
    buf_appendf(out, "VERSION\t%d\t%d\nSPID\t%ld\n", AUTH_MASTER_PROTO_MAJOR,
                AUTH_MASTER_PROTO_MINOR, (long)conn->settings->pid);
}

static int master_fail(struct auth_master_conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int master_fail(struct auth_master_conn *conn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_reset(&conn->error);
    buf_vappendf(&conn->error, fmt, ap);
    va_end(ap);
    return -1;
}

/* 1 when name holds no control byte (it goes into log lines). */
static int name_is_clean(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* 1 when text is a request id: 1..10 decimal digits. */
static int is_id(const char *text)
{
    size_t len = strlen(text);
    return len > 0 && len <= 10 && strspn(text, "0123456789") == len;
}

static void reply_fail(struct buf *out, const char *id, const char *reason)
{
    buf_appendf(out, "FAIL\t%s", id);
    auth_line_add_param(out, "reason", reason);
    buf_append_char(out, '\n');
}

/* Answers USER id name: the user's identity, NOTFOUND or FAIL. */
static void cmd_user(struct auth_master_conn *conn, const char *id,
                     const char *login, struct buf *out)
{
    const struct auth_server_settings *s = conn->settings;
    struct buf name = BUF_INIT, err = BUF_INIT;
    if (s->username_format == NULL ||
        username_format_expand(s->username_format, login, &name, &err) < 0) {
        buf_reset(&name);
        buf_append_str(&name, login);
    }
    buf_reset(&err);
    const char *user = buf_cstr(&name);
    struct passdb_user entry = {0};
    conn->lookups++;
    enum passdb_result pr = passdb_lookup(s->passdb, user, &entry, &err);
    if (pr == PASSDB_NOTFOUND) {
        buf_appendf(out, "NOTFOUND\t%s\n", id);
    } else if (pr == PASSDB_ERROR) {
        log_warn("userdb(%s): passdb lookup failed: %s", user, buf_cstr(&err));
        reply_fail(out, id, "passdb lookup failed");
    } else if ((!entry.has_uid || !entry.has_gid || !entry.home) &&
               (s->complete_user == NULL ||
                s->complete_user(user, &entry, &err) < 0)) {
        log_warn("userdb(%s): no mailbox identity: %s", user,
                 err.len ? buf_cstr(&err)
                         : "no uid, gid or home, and no "
                           "virtual maps");
        reply_fail(out, id, "no mailbox identity");
    } else {
        char number[24];
        buf_appendf(out, "USER\t%s", id);
        auth_line_add(out, user);
        snprintf(number, sizeof(number), "%lu", (unsigned long)entry.uid);
        auth_line_add_param(out, "uid", number);
        snprintf(number, sizeof(number), "%lu", (unsigned long)entry.gid);
        auth_line_add_param(out, "gid", number);
        auth_line_add_param(out, "home", entry.home);
        if (entry.mail)
            auth_line_add_param(out, "mail", entry.mail);
        if (entry.quota_storage)
            auth_line_add_param(out, "quota_storage", entry.quota_storage);
        buf_append_char(out, '\n');
    }
    passdb_user_free(&entry);
    buf_free(&name);
    buf_free(&err);
}

int auth_master_input(struct auth_master_conn *conn, const char *text,
                      size_t len, struct buf *out)
{
    struct auth_line line = AUTH_LINE_INIT;
    int rc = 0;
    if (auth_line_split(&line, text, len) < 0) {
        rc = master_fail(conn, "malformed line (too long, too many fields "
                               "or an escaped NUL)");
    } else if (strcmp(line.fields[0], "VERSION") == 0) {
        if (conn->got_version)
            rc = master_fail(conn, "VERSION sent twice");
        else if (line.count < 3 || strcmp(line.fields[1], "1") != 0)
            rc = master_fail(conn,
                             "client speaks auth-master protocol "
                             "version %s, not 1.x",
                             line.count > 1 ? line.fields[1] : "(none)");
        conn->got_version = 1;
    } else if (!conn->got_version) {
        rc = master_fail(conn, "first line is not VERSION");
    } else if (strcmp(line.fields[0], "USER") == 0) {
        if (line.count < 3 || !is_id(line.fields[1]) ||
            line.fields[2][0] == 0 || strlen(line.fields[2]) > 255 ||
            !name_is_clean(line.fields[2]))
            rc = master_fail(conn, "malformed USER line");
        else
            cmd_user(conn, line.fields[1], line.fields[2], out);
    } else {
        char shown[32];
        size_t n = 0;
        for (const char *p = line.fields[0]; *p && n + 1 < sizeof(shown); p++)
            shown[n++] = (*p > 0x20 && *p < 0x7f) ? *p : '?';
        shown[n] = 0;
        rc = master_fail(conn, "unsupported command %s", shown);
    }
    auth_line_free(&line);
    return rc;
}
