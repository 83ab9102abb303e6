/* login.h: imap-login's session, shared by login.c (I/O and the
 * not-authenticated commands), login_auth.c (LOGIN and AUTHENTICATE),
 * login_tls.c (STARTTLS, port 993) and login_handoff.c (the handoff to
 * imapd, and the TLS proxy afterwards). */
#ifndef POSTERN_IMAPD_LOGIN_H
#define POSTERN_IMAPD_LOGIN_H

#include "imapd.h"

#include "auth/auth_client.h"
#include "base/event.h"
#include "base/stream.h"
#include "imap/imap_reader.h"

enum login_state {
    LOGIN_WAIT_AUTH, /* the greeting waits for the auth service's mechs */
    LOGIN_HANDSHAKE, /* TLS handshake (STARTTLS's OK flushed first) */
    LOGIN_CMD,       /* reading commands */
    LOGIN_AUTHING,   /* the auth service is thinking */
    LOGIN_SASL_LINE, /* the client answers a "+ challenge" */
    LOGIN_HANDOFF,   /* sent to imapd; waiting for its word (no TLS) */
    LOGIN_PROXY,     /* TLS: relaying plaintext to and from the worker */
    LOGIN_CLOSING,   /* flushing a last reply */
};

struct login_session {
    int fd;
    struct stream *stream;
    struct imap_reader reader;
    enum login_state state;
    struct event_timer timer;
    struct auth_wait auth_wait;
    struct tls_conn *tls;
    unsigned tls_active : 1, tls_wrapper : 1, secured : 1, plain_refused : 1,
        logged_in : 1;
    unsigned auth_attempts, bad_commands;
    uint64_t start_ms;
    char rip[48], rport[8], lip[48], lport[8];
    char session[17];
    /* The login command in progress, and what the failure log needs. */
    char *tag;
    char method[24];
    char *user;
    struct auth_request *auth;
    /* After the login: the reply socket, and with TLS the worker's end. */
    int handoff_fd;
    int proxy_fd;
    struct buf to_worker;     /* client bytes the socketpair did not take */
    const char *close_reason; /* the log's "Disconnected: ..." */
};

/* login.c */
void login_reply(struct login_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void login_run(struct login_session *s);
void login_update_interest(struct login_session *s);
void login_close(struct login_session *s, const char *reason);
void login_destroy(struct login_session *s);
int login_plaintext_allowed(const struct login_session *s);
/* Counts a bad command; 1 when the session is being closed for it. */
int login_bad_command(struct login_session *s);
/* The " (detail): user=<...>, method=..., rip=..." tail of the lines. */
void login_log_fields(const struct login_session *s, struct buf *out,
                      int with_mpid, long mpid);

/* After the TLS handshake of port 993: the greeting, as on 143. */
void login_greet_after_wrapper(struct login_session *s);

/* login_auth.c */
void login_auth_init(void);
void login_auth_post_init(void);
void login_auth_exit(void);
struct auth_client *login_auth_client(void);
void login_cmd_login(struct login_session *s, const struct imap_command *cmd);
void login_cmd_authenticate(struct login_session *s,
                            const struct imap_command *cmd);
void login_sasl_line(struct login_session *s, const char *line, size_t len);
void login_auth_cancel(struct login_session *s);
/* The mechanisms to announce now (names point into the client). */
size_t login_mechs(const struct login_session *s, const char **names,
                   size_t max);

/* login_tls.c */
void login_tls_init(void);
void login_tls_exit(void);
int login_tls_available(void);
void login_cmd_starttls(struct login_session *s,
                        const struct imap_command *cmd);
void login_tls_wrapper_start(struct login_session *s);
/* One handshake step: 1 done, 0 again, -1 failed (logged). */
int login_tls_handshake(struct login_session *s);
unsigned login_tls_interest(const struct login_session *s, int reading,
                            int writing);

/* login_handoff.c */
void login_handoff(struct login_session *s, const char *user,
                   const struct auth_line *fields);
void login_proxy_io(struct login_session *s, unsigned events, int on_worker);
void login_handoff_end(struct login_session *s);

#endif
