/* bounce_msg.h: composes delivery status notifications (RFC 3464).
 *
 * qmgr calls this to write the notice it then queues with the null
 * sender: a non-delivery report ("Undelivered Mail Returned to Sender"),
 * a delay warning ("Delayed Mail (still being retried)") or a success
 * report for NOTIFY=SUCCESS ("Successful Mail Delivery Report"). The
 * result is a complete MIME message, multipart/report with
 * report-type=delivery-status and three parts:
 *   1. text/plain: what happened, in plain words, one line per recipient;
 *   2. message/delivery-status: the machine-readable report (per-message
 *      and per-recipient fields, RFC 3464 order);
 *   3. the original: message/rfc822 (the whole message) or
 *      text/rfc822-headers (its header only).
 * docs/bounces.md shows an example and explains each decision.
 *
 * The original message is pulled through a read callback in small
 * chunks, so a large message is never held whole in memory; the output
 * goes to a write callback (or a struct buf). This module reads no
 * configuration: myhostname, bounce_size_limit and so on are fields of
 * struct bounce_notice. */
#ifndef POSTERN_BOUNCE_MSG_H
#define POSTERN_BOUNCE_MSG_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "base/buf.h"
#include "message/dsn.h"

enum bounce_kind {
    BOUNCE_FAILURE, /* non-delivery: some recipients failed */
    BOUNCE_DELAY,   /* delay warning: some recipients still being retried */
    BOUNCE_SUCCESS, /* NOTIFY=SUCCESS: delivered, relayed or expanded */
};

/* The DSN RET parameter given with MAIL FROM. */
enum bounce_ret {
    BOUNCE_RET_DEFAULT, /* not given: as FULL */
    BOUNCE_RET_FULL,
    BOUNCE_RET_HDRS,
};

/* Postfix's bounce_size_limit default. */
#define BOUNCE_SIZE_LIMIT_DEFAULT 50000
/* The most header bytes returned when only headers are returned (Postfix's
 * header_size_limit default): a header section larger than this is cut at
 * a line end. */
#define BOUNCE_HEADER_LIMIT 102400

/* One recipient in the report. */
struct bounce_rcpt {
    const char *address;      /* Final-Recipient: the address tried */
    const char *orig_address; /* before aliasing, for the text part
                                 "(expanded from <x>)"; NULL if same */
    const char *orcpt;        /* DSN ORCPT, xtext-decoded, "rfc822;addr"
                                 (a value without ';' is taken as rfc822);
                                 NULL when not given. Only ORCPT produces an
                                 Original-Recipient field (RFC 3464 2.3.1). */
    const struct dsn *dsn;    /* status, action, reason, remote MTA, reply */
    time_t last_attempt;      /* Last-Attempt-Date; 0: the notice's time */
};

/* Reads up to cap bytes of the original message into dst: returns the
 * count, 0 at the end, -1 on error. */
typedef ssize_t (*bounce_read_fn)(void *ctx, char *dst, size_t cap);
/* Writes len bytes of the notice: 0 on success, -1 on error. */
typedef int (*bounce_write_fn)(void *ctx, const char *data, size_t len);

struct bounce_notice {
    enum bounce_kind kind;
    int postmaster_copy;    /* a copy for the postmaster (double bounce,
                               notify_classes): Subject "Postmaster Copy: " */
    const char *myhostname; /* Reporting-MTA, From: MAILER-DAEMON@host */
    const char *mail_name;  /* signature in the text; NULL: "Postern" */
    const char *queue_id;   /* X-Postern-Queue-ID of the original */
    const char *sender;     /* envelope sender of the original ("" = null) */
    const char *notify_to;  /* To: of the notice; NULL: sender */
    const char *envid;      /* DSN ENVID, xtext-decoded, or NULL */
    enum bounce_ret ret;    /* DSN RET */
    time_t arrival;         /* Arrival-Date; 0: not shown */
    time_t now;             /* Date: and defaults; 0: time(NULL) */
    time_t retry_until;     /* BOUNCE_DELAY: Will-Retry-Until (arrival +
                               maximal_queue_lifetime); 0: not shown */
    long long size_limit;   /* bounce_size_limit: a larger original, or one
                               of unknown size, returns headers only;
                               0: no limit */
    const struct bounce_rcpt *rcpts;
    size_t rcpt_count;

    /* The original message (header and body, as queued, LF or CRLF line
     * ends). No reader: the third part is left out. */
    bounce_read_fn read_original;
    void *original_ctx;
    long long original_size; /* bytes, -1 when unknown */
    int original_8bit;       /* BODY=8BITMIME or 8-bit bytes seen at intake:
                                the part is declared 8bit */
    int crlf;                /* 1: CRLF line ends in the output, 0: LF */
};

/* Writes the notice through write(ctx, ...). Returns 0, or -1 with the
 * reason in err (bad arguments, the original could not be read, a write
 * failed); on -1 part of the notice may have been written. */
int bounce_msg_write(const struct bounce_notice *notice, bounce_write_fn write,
                     void *ctx, struct buf *err);
/* The same, appending the notice to out. */
int bounce_msg_to_buf(const struct bounce_notice *notice, struct buf *out,
                      struct buf *err);

/* The Subject of a notice of this kind ("Undelivered Mail Returned to
 * Sender"); a postmaster copy puts "Postmaster Copy: " before it. */
const char *bounce_msg_subject(enum bounce_kind kind);

/* What bounce_msg_text() shows instead of the values it computes per
 * message (postconf -t shows the texts with placeholders): NULL fields
 * are computed as in a notice. */
struct bounce_text_vars {
    const char *delayed_for; /* delay notice: "delayed for X" */
    const char *retry_until; /* delay notice: "keep trying until X" */
};

/* Appends the text part of the notice n (below its Content-Description
 * header: the explanation, the signature and one line per recipient)
 * with LF line ends, exactly as bounce_msg_write() writes it; vars may
 * be NULL. postconf -b and -t show it as a bounce template. */
void bounce_msg_text(const struct bounce_notice *n,
                     const struct bounce_text_vars *vars, struct buf *out);

/* Reading the original from a file: bytes [offset, end) of fd, or to the
 * end of the file when end is -1. Uses pread(2), so the fd's position
 * is left alone; offset advances as bytes are read. */
struct bounce_fd_source {
    int fd;
    off_t offset;
    off_t end;
};
ssize_t bounce_read_fd(void *ctx, char *dst, size_t cap);

/* Reading the original from memory. */
struct bounce_mem_source {
    const char *data;
    size_t len;
    size_t pos;
};
ssize_t bounce_read_mem(void *ctx, char *dst, size_t cap);

/* Appends how long a delay lasted as a delay notice says it: "45
 * seconds", "10 minutes", "3 hours", "2 days". */
void bounce_format_duration(struct buf *out, time_t seconds);

/* Appends an RFC 5322 date in local time, in the C locale:
 * "Mon, 23 Nov 2026 01:18:56 +0000 (UTC)". */
void bounce_format_date(struct buf *out, time_t when);

#endif
