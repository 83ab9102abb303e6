/* imapd.h: the IMAP service, one program in three roles
 * (docs/imapd.md):
 *
 *   imap-login   run under that name (master.cf `imap`, `imaps`):
 *                the not-authenticated state, unprivileged, many
 *                sessions per process. login.c (sessions, commands),
 *                login_auth.c (LOGIN, AUTHENTICATE through the auth
 *                service), login_tls.c (STARTTLS, port 993),
 *                login_handoff.c (the handoff to imapd and the TLS proxy).
 *   dispatcher   the `imapd` unix service (root, one process):
 *                dispatch.c reads handoffs and passes each session to a
 *                worker per (uid, slot), forking it when needed.
 *   worker       forked by the dispatcher; runs as the mailbox owner.
 *                worker.c (the process, sessions and their I/O),
 *                compress.c (COMPRESS=DEFLATE), cmd_table.c (the
 *                command table), cmd_any.c (CAPABILITY, NOOP, LOGOUT,
 *                ID, ENABLE, NAMESPACE, IDLE, COMPRESS), and one
 *                cmd_*.c per command group as the storage arrives.
 *
 * Shared: imapd.c (main, settings), imapd_caps.c (capability lists,
 * the ID answer, Dovecot-shaped log lines), handoff.c (the handoff
 * record). */
#ifndef POSTERN_IMAPD_H
#define POSTERN_IMAPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "imap/imap_reader.h"
#include "ipc/attr.h"

struct imapd_settings {
    int disable_plaintext_auth;
    int tls_wrappermode;
    uint64_t login_timeout_ms;
    uint64_t idle_timeout_ms;
    uint64_t idle_notify_ms; /* "* OK Still here" while idling */
    long minimum_uid;
    long workers_per_uid;
    long max_idle; /* seconds a worker without sessions lives */
    const char *log_ident;
    const char *queue_directory;
    struct imap_reader_limits limits;
};
extern struct imapd_settings imapd_var;

/* imapd.c */
void imapd_settings_load(void);

/* Handoff records (handoff.c): imap-login -> dispatcher -> worker. */
#define HANDOFF_PROTO "imapd-login"
#define HANDOFF_REPLY_PROTO "imapd-reply"
#define WORKER_PROTO "imapd-worker"
/* The largest record; `input` (pipelined bytes) is bounded below it. */
#define HANDOFF_MAX 65536
#define HANDOFF_INPUT_MAX 32768

struct handoff {
    const char *user, *home, *mail, *session, *tag, *method, *enabled;
    const char *rip, *rport, *lip, *lport;
    const char *input;
    size_t input_len;
    long long uid, gid;
    int tls;
};
/* Reads a decoded record into h (strings point into msg). 0, or -1 with
 * err. */
int handoff_parse(struct attr_msg *msg, struct handoff *h, struct buf *err);
const struct attr_limits *handoff_limits(void);

/* Capabilities and the ID answer (imapd_caps.c). */
/* Before login: IMAP4rev1 ... with STARTTLS when offered, AUTH=... for
 * mechs (each "AUTH=NAME"), LOGINDISABLED when plaintext is refused. */
void imapd_caps_prelogin(struct buf *out, int starttls, int plaintext_ok,
                         const char *const *mechs, size_t mech_count);
/* After login. */
void imapd_caps_postlogin(struct buf *out, int compress_active);
/* "* ID (...)" without CRLF. */
void imapd_id_response(struct buf *out);
/* Logs the client's ID fields (bounded, sanitized) under component. */
struct imap_arg;
void imapd_log_client_id(const char *component, const struct imap_arg *args,
                         size_t count);
/* A name for log lines: at most 64 bytes, and anything but visible
 * ASCII and what cannot move a fail2ban field (<>,()"' and blanks) shown
 * as '?'. */
void imapd_log_safe(struct buf *out, const char *text);
/* One Dovecot-shaped line: "COMPONENT: TEXT" under imapd_log_ident, or
 * TEXT under the usual program name when the ident is empty. */
void imapd_log(const char *component, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A session id as Dovecot's (12 random bytes, base64: 16 characters). */
void imapd_session_id(char out[17]);

/* Roles. */
int login_main(int argc, char **argv);
int dispatch_main(int argc, char **argv);
/* Runs a worker on the socket to the dispatcher (never returns). */
void worker_main(int dispatcher_fd, uid_t uid) __attribute__((noreturn));

#endif
