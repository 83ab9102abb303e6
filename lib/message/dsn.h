/* dsn.h: delivery status values and their log lines.
 *
 * A delivery agent reports each recipient's fate as a struct dsn: an
 * enhanced status code (RFC 3463, "5.1.1"), an RFC 3464 action (failed,
 * delayed, delivered, relayed, expanded), a reason for the log and the
 * notice ("delivered to maildir"), and optionally the remote MTA and its
 * reply ("dns; mx.example.com", "smtp; 550 5.1.1 unknown user").
 *
 * The class of the status code decides what qmgr does with the
 * recipient: 2.x.x done, 4.x.x defer and retry, 5.x.x bounce.
 *
 * This module also parses the status out of a remote SMTP/LMTP reply
 * (untrusted input, fuzzed in fuzz/fuzz_dsn_status.c) and formats the
 * per-recipient log fragment in Postfix's exact shape:
 *   to=<rcpt>, orig_to=<o>, relay=r, delay=1.2, delays=0.01/0/0.1/1.1,
 *   dsn=2.0.0, status=sent (delivered to maildir)
 * It reads no configuration: limits come in as arguments. */
#ifndef POSTERN_DSN_H
#define POSTERN_DSN_H

#include <stddef.h>
#include <sys/time.h>

#include "base/buf.h"

/* Longest valid enhanced status code: "5.999.999". */
#define DSN_STATUS_MAX 9
/* Postfix's delay_logging_resolution_limit default: digits after the
 * decimal point in delay= and delays=. */
#define DSN_DELAY_RESOLUTION_DEFAULT 2

enum dsn_action {
    DSN_ACTION_FAILED,
    DSN_ACTION_DELAYED,
    DSN_ACTION_DELIVERED,
    DSN_ACTION_RELAYED,
    DSN_ACTION_EXPANDED,
};

/* What the status code class means for the recipient. */
enum dsn_class {
    DSN_CLASS_INVALID = 0,
    DSN_CLASS_SUCCESS = 2, /* 2.x.x: delivered, drop the recipient */
    DSN_CLASS_DEFER = 4,   /* 4.x.x: try again later */
    DSN_CLASS_BOUNCE = 5,  /* 5.x.x: return to sender */
};

struct dsn {
    char status[DSN_STATUS_MAX + 1]; /* validated "X.Y.Z" */
    enum dsn_action action;
    char *reason;    /* one-line text for the log and the notice; never NULL */
    char *mta_type;  /* Remote-MTA type ("dns"), NULL when no remote MTA */
    char *mta_name;  /* Remote-MTA name ("mx.example.com"), or NULL */
    char *diag_type; /* Diagnostic-Code type ("smtp"), or NULL */
    char *diag_text; /* Diagnostic-Code text (the reply), or NULL */
};

/* 1 when str is a whole, valid enhanced status code: class 2, 4 or 5,
 * then subject and detail of 1 to 3 digits each (RFC 3463). */
int dsn_status_valid(const char *str);
/* The class of a status code, DSN_CLASS_INVALID when it is not valid. */
enum dsn_class dsn_status_class(const char *status);

/* Fills d (which owns copies of every string) and returns 0; -1 and
 * d untouched when status is not a valid code. action is derived from
 * the class when passed as -1: 2 -> delivered, 4 -> delayed,
 * 5 -> failed. reason may be NULL (empty). Any field may be NULL. */
int dsn_set(struct dsn *d, const char *status, int action, const char *reason,
            const char *mta_type, const char *mta_name, const char *diag_type,
            const char *diag_text);
/* Deep copy into dst (which must not hold strings yet). */
void dsn_copy(struct dsn *dst, const struct dsn *src);
/* Frees the strings; d may be set again afterwards. */
void dsn_free(struct dsn *d);
enum dsn_class dsn_class(const struct dsn *d);

/* "failed", "delayed", ... as written in the Action: field. */
const char *dsn_action_name(enum dsn_action action);
/* Parses an action name (case-insensitive); -1 when unknown. */
int dsn_action_parse(const char *name);
/* The log status word for a class: "sent", "deferred", "bounced". */
const char *dsn_status_word(enum dsn_class cls);

/* A parsed SMTP or LMTP reply from a remote server. */
struct dsn_reply {
    int code;                        /* 250, 451, 550, ... */
    char status[DSN_STATUS_MAX + 1]; /* enhanced code, given or derived */
    int status_given;                /* 1 when the reply carried it */
    size_t text_offset; /* where the text after code and status begins */
};

/* Parses the first line of a reply ("550-5.1.1 text" or "550 text").
 * The reply is untrusted and need not be NUL-terminated; at most len
 * bytes are read. A status code that is missing, malformed, or whose
 * class differs from the reply code's first digit is replaced by
 * "X.0.0" with X from the reply code (as Postfix does), so the result
 * always has a valid status; a 3xx reply (354) has success class 2.
 * Returns 0, or -1 when the reply does not start with a 3-digit code
 * whose first digit is 2 to 5. */
int dsn_parse_reply(const char *reply, size_t len, struct dsn_reply *out);

/* ESMTP DSN parameters (RFC 3461), as smtpd receives them and qmgr
 * consults them. NOTIFY is a set; NEVER stands alone. */
enum dsn_notify {
    DSN_NOTIFY_SUCCESS = 1,
    DSN_NOTIFY_FAILURE = 2,
    DSN_NOTIFY_DELAY = 4,
    DSN_NOTIFY_NEVER = 8,
};
/* Parses a NOTIFY value ("SUCCESS,FAILURE", "NEVER"; case-insensitive)
 * into a mask; -1 when malformed, repeated, or NEVER with others. */
int dsn_notify_parse(const char *value);
/* Parses RET: 1 for FULL, 2 for HDRS (the values of enum bounce_ret in
 * bounce_msg.h), -1 otherwise. */
int dsn_ret_parse(const char *value);
/* xtext itself (ENVID, ORCPT's address) is lib/base/xtext.h. */
/* Parses an ORCPT value "addr-type;xtext" into "type;decoded-address"
 * (the form struct bounce_rcpt.orcpt takes), with the type as given.
 * Returns 0, or -1 when there is no type, the type is not an atom, or
 * the address is not valid xtext. */
int dsn_orcpt_parse(const char *value, struct buf *out);

/* Appends a time interval as Postfix's logging does: seconds >= 10 as a
 * whole number, 1-9 seconds with one decimal, below a second with two
 * significant digits, never more than resolution decimals (0..6),
 * trailing zeros dropped: 12.7 -> "13", 1.23 -> "1.2", 0.0123 ->
 * "0.01", 0.004 -> "0". Negative intervals print as "0". */
void dsn_format_interval(struct buf *out, long sec, long usec, int resolution);

/* Time stamps of one message's journey, for delay= and delays=a/b/c/d.
 * A zero tv_sec means "did not happen", as in Postfix. */
struct dsn_stamps {
    struct timeval arrival;    /* entered the queue (incoming/) */
    struct timeval active;     /* qmgr took it into the active queue */
    struct timeval handoff;    /* handed to the delivery agent */
    struct timeval conn_setup; /* network connection set up (smtp/lmtp) */
    struct timeval done;       /* delivery finished; zero: use now */
    int reuse_count;           /* connection reuses; > 0 logs conn_use= */
};

/* Appends the log fragment for one recipient:
 *   to=<rcpt>[, orig_to=<orig>], relay=R[, conn_use=N], delay=D,
 *   delays=a/b/c/d, dsn=X.Y.Z, status=WORD (reason)
 * orig_to appears when orig is non-empty and differs from rcpt
 * (case-insensitively); relay NULL prints "none"; status_word NULL uses
 * dsn_status_word(class). now is the current time (used when stamps->done
 * is zero). a is the time before qmgr, b in qmgr, c connection set-up,
 * d transmission, with Postfix's fallbacks when a stamp is missing.
 * Control characters in the strings are shown as '?', so a remote reply
 * cannot split the log line. */
void dsn_format_log(struct buf *out, const char *rcpt, const char *orig,
                    const char *relay, const struct dsn_stamps *stamps,
                    const struct timeval *now, int resolution,
                    const struct dsn *d, const char *status_word);

#endif
