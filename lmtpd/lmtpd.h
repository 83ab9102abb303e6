/* lmtpd.h: the LMTP server (RFC 2033): a Postfix (or any LMTP client)
 * hands mail to it, and it delivers into virtual mailboxes as the
 * `virtual` agent does (lib/delivery/virtual_mailbox.h), answering each
 * recipient after the message. See docs/lmtpd.md.
 *
 *   lmtpd.c        main, settings, a connection's command loop, replies
 *   lmtpd_cmd.c    the commands: LHLO, MAIL, RCPT, RSET, NOOP, VRFY, QUIT
 *   lmtpd_data.c   DATA and BDAT: the content into the spool, our
 *                  Received:, the deliveries and the replies, one per
 *                  recipient
 *   lmtpd_spool.c  the message held once for every mailbox copy
 *
 * One process serves one connection at a time (lib/ipc/server.h's
 * single mode, as the delivery agents): each delivery waits for the disk
 * anyway, and master runs up to maxproc processes side by side. */
#ifndef POSTERN_LMTPD_H
#define POSTERN_LMTPD_H

#include <stddef.h>
#include <sys/time.h>
#include <time.h>

#include "base/buf.h"
#include "base/stream.h"
#include "lmtpd_spool.h"
#include "queue/qid.h"
#include "smtp/smtp_cmd.h"

/* Settings read once at start. */
struct lmtpd_settings {
    const char *myhostname;
    const char *mail_name;
    int timeout_ms;
    long line_length_limit;
    long long message_size_limit;
    const char *temp_directory;
    const char *relay; /* the service name, for relay= in log lines */
};
extern struct lmtpd_settings lmtpd_var;

/* Errors (bad commands, unknown recipients) after which the session
 * ends, as smtpd_hard_error_limit ends an SMTP session. */
#define LMTPD_ERROR_LIMIT 100
/* Most recipients in one transaction (deliver/1's own bound). */
#define LMTPD_RCPT_LIMIT 1000

struct lmtpd_rcpt {
    char *address;  /* internal form, as RCPT gave it */
    char *original; /* as written between the brackets */
    char *orcpt;    /* DSN ORCPT "type;addr", or "" */
    unsigned notify;
};

struct lmtpd_session {
    struct stream *stream;
    char name[256];    /* "localhost" on a unix socket, else the address */
    char addr[64];     /* IP address, or "" on a unix socket */
    char namaddr[330]; /* for logs: name[addr] */
    char *lhlo;        /* LHLO's argument, or NULL before it */
    struct smtp_cmd cmd;
    struct buf line;
    int errors;
    int closing; /* QUIT or a fatal error: end after the replies */
    int lost;    /* the connection broke (during DATA): end now */

    /* The transaction. */
    int in_mail;
    char *sender; /* "" for <> */
    int smtputf8, body_8bit;
    char *dsn_envid;
    int dsn_ret; /* SMTP_RET_* */
    struct lmtpd_rcpt *rcpts;
    size_t rcpt_count, rcpt_cap;
    /* The content, from DATA or the first BDAT on: its id (our
     * Received:'s and the log's), when it began, its size, and whether
     * it went past message_size_limit (then it is read and dropped). */
    int content_started;
    char id[QID_BUF_SIZE];
    struct timeval arrival;
    unsigned long long content_size;
    int too_big;
    struct lmtpd_spool spool;
    unsigned long transactions;
};

/* lmtpd.c */
void lmtpd_reply(struct lmtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A reply that counts as an error; past LMTPD_ERROR_LIMIT the session
 * ends with a 421. */
void lmtpd_error_reply(struct lmtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* lmtpd_cmd.c */
void lmtpd_command(struct lmtpd_session *s, const char *line, size_t len);
void lmtpd_reset_transaction(struct lmtpd_session *s);
void lmtpd_greeting(struct lmtpd_session *s);

/* lmtpd_data.c */
/* After DATA's 354: reads the content up to the final dot, delivers to
 * each recipient and replies for each in RCPT order. 0, or -1 when the
 * connection was lost (the session ends). */
int lmtpd_data(struct lmtpd_session *s);
/* BDAT (RFC 3030, CHUNKING): reads the chunk (also when the command is
 * refused: the client sends it anyway), answers a chunk with 250, and
 * after the LAST one delivers and replies per recipient as DATA does.
 * 1 when the transaction is over, 0 when it goes on, -1 when the
 * connection was lost. */
int lmtpd_bdat(struct lmtpd_session *s);

#endif
