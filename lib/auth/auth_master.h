/* auth_master.h: the userdb side of Dovecot's auth-master protocol, as a
 * state machine without I/O: what a mailbox server (the later imapd and
 * pop3d, or Dovecot's own `doveadm user -a SOCKET`) asks on the auth
 * service's second socket, private/auth-userdb, to learn a user's
 * mailbox identity without a password.
 *
 *   S: VERSION 1 1, SPID pid            (the handshake, sent on connect)
 *   C: VERSION 1 minor                  (first line)
 *   C: USER id name [service=S ...]
 *   S: USER id name uid=N gid=N home=DIR [mail=SPEC] [quota_storage=..]
 *      NOTFOUND id                      (no such user)
 *      FAIL id reason=TEXT              (a table or the virtual maps failed)
 *
 * The name is normalized with auth_username_format first, as for a
 * login, and the reply names the normalized user. The identity comes
 * from the passdb entry and, for what it leaves unset, the settings'
 * complete_user (the virtual maps), exactly as an imap login's OK.
 * Anything else (a first line that is not VERSION, another command, a
 * malformed USER) makes auth_master_input return -1: close the
 * connection and log auth_master_error(). docs/auth.md has the rest. */
#ifndef POSTERN_AUTH_MASTER_H
#define POSTERN_AUTH_MASTER_H

#include <stddef.h>
#include <sys/types.h>

#include "auth/auth_server.h"
#include "base/buf.h"

/* The auth-master protocol version we speak (Dovecot 2.3: 1.1). */
#define AUTH_MASTER_PROTO_MAJOR 1
#define AUTH_MASTER_PROTO_MINOR 1

struct auth_master_conn;

/* A connection using s's passdb, username_format and complete_user
 * (s is not copied: it must outlive the connection). */
struct auth_master_conn *
auth_master_conn_new(const struct auth_server_settings *s);
void auth_master_conn_free(struct auth_master_conn *conn);

/* Appends the server's handshake (VERSION, SPID); send it on connect. */
void auth_master_handshake(const struct auth_master_conn *conn,
                           struct buf *out);

/* One client line without its LF; the reply is appended to out. Returns
 * 0, or -1 to close the connection (see auth_master_error). */
int auth_master_input(struct auth_master_conn *conn, const char *line,
                      size_t len, struct buf *out);

/* Why auth_master_input returned -1. */
const char *auth_master_error(const struct auth_master_conn *conn);

/* USER lookups answered so far (for log lines and tests). */
unsigned long auth_master_lookups(const struct auth_master_conn *conn);

#endif
