/* worker.h: an imapd worker's session (the authenticated and selected
 * states), shared by worker.c (the process and the session's I/O),
 * session_io.c (the byte layer: counting, the pipelined input from
 * imap-login, COMPRESS=DEFLATE), cmd_table.c (which command runs) and
 * the cmd_*.c command groups. */
#ifndef POSTERN_IMAPD_WORKER_H
#define POSTERN_IMAPD_WORKER_H

#include "imapd.h"

#include "base/event.h"
#include "base/stream.h"
#include "imap/imap_reader.h"

/* RFC 9051 5.4: the autologout is at least 30 minutes while idling. */
#define IDLE_MINIMUM_MS (30u * 60u * 1000u)

/* ENABLEd extensions (RFC 5161), per session. */
#define ENABLED_IMAP4REV2 0x01u
#define ENABLED_CONDSTORE 0x02u
#define ENABLED_QRESYNC 0x04u
#define ENABLED_UTF8_ACCEPT 0x08u

enum worker_state {
    WORKER_AUTHENTICATED, /* RFC 9051 3.2 */
    WORKER_SELECTED,      /* 3.3: a mailbox is open (the storage's) */
    WORKER_IDLE,          /* in IDLE, waiting for DONE */
    WORKER_CLOSING,       /* flushing the last lines */
};

struct session_io;      /* session_io.c */
struct mailbox_session; /* the storage's selected mailbox, when it lands */

struct worker_session {
    struct worker_session *next, *prev;
    int fd;
    struct stream *stream;
    struct session_io *io;
    struct imap_reader reader;
    enum worker_state state;
    struct event_timer timer;
    char *user, *home, *mail;
    char *idle_tag;         /* IDLE's tag while idling */
    uint64_t idle_since_ms; /* when IDLE began (for its keepalives) */
    char session[17];
    unsigned enabled;
    unsigned bad_commands;
    unsigned compressed : 1;
    const char *close_reason;
    struct mailbox_session *mailbox;
};

/* worker.c */
void worker_reply(struct worker_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "imap(user)<pid><session>" for log lines. */
void worker_log_component(const struct worker_session *s, struct buf *out);
/* Ends the session after the lines written so far; reason for the log
 * ("Logged out", ...). */
void worker_close(struct worker_session *s, const char *reason);
/* Counts a bad command; 1 when the session is being closed for it. */
int worker_bad_command(struct worker_session *s);
/* The event loop's clock. */
uint64_t worker_now_ms(void);
/* Restarts the autologout timer for ms. */
void worker_timer(struct worker_session *s, uint64_t ms);

/* session_io.c: the stream's I/O layer on the client descriptor. */
struct session_io *session_io_new(int fd, const char *preload, size_t len);
void session_io_free(struct session_io *io);
void session_io_attach(struct session_io *io, struct stream *stream);
/* Bytes read from and written to the descriptor (compressed, if so). */
unsigned long long session_io_in(const struct session_io *io);
unsigned long long session_io_out(const struct session_io *io);
/* COMPRESS=DEFLATE from now on, both ways; unread is what the stream
 * had already read (compressed bytes). 0 or -1 (zlib failed). */
int session_io_compress(struct session_io *io, const char *unread, size_t len);
/* Compressed output the socket has not taken yet: writes what it can;
 * 0 all out, 1 some left (wait for writability), -1 error. */
int session_io_pending(struct session_io *io);
/* Frees what an idle compressed session can give back. */
void session_io_trim(struct session_io *io);

/* cmd_table.c: runs one command of the authenticated/selected state. */
void worker_command(struct worker_session *s, const struct imap_command *cmd);
/* IDLE's DONE (or anything else) arrived. */
void worker_idle_line(struct worker_session *s, const char *line, size_t len);

/* One command: the handler answers with the tagged response itself. */
typedef void imapd_cmd_fn(struct worker_session *s,
                          const struct imap_command *cmd);

#define CMD_AUTH 0x01u     /* allowed in the authenticated state */
#define CMD_SELECTED 0x02u /* allowed in the selected state */
#define CMD_BOTH (CMD_AUTH | CMD_SELECTED)

struct imapd_command {
    const char *name; /* upper case, as the reader gives it */
    unsigned states;
    imapd_cmd_fn *run;
};

/* Each cmd_*.c file exports its table, ended by a NULL name. */
extern const struct imapd_command cmd_any_table[];

#endif
