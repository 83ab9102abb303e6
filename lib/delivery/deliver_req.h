/* deliver_req.h: the deliver/1 request and reply between qmgr and the
 * delivery agents (virtual, local, ...), as docs/mail-flow.md fixes it.
 *
 * qmgr (the client) fills a struct deliver_request and encodes it with
 * deliver_request_encode(); the agent decodes it with
 * deliver_request_parse(), delivers, and answers with one struct
 * deliver_result per recipient (deliver_reply_encode), which qmgr reads
 * back with deliver_reply_parse(). Both readers bound counts and
 * lengths and refuse a message that lacks a required attribute.
 *
 * Attribute names (i = 0 .. rcpt_count-1):
 *   request: queue_name queue_id transport nexthop sender arrival_time
 *            message_size content_offset encoding smtputf8 requiretls dsn_envid
 *            dsn_ret client_name client_address log_ident rcpt_count
 *            rcpt_address_i rcpt_original_i rcpt_orcpt_i rcpt_notify_i
 *            rcpt_offset_i
 *   reply:   rcpt_count status_i dsn_i reason_i relay_i [mta_i diag_i]
 * Required in a request: queue_name, queue_id, sender, rcpt_count, and
 * per recipient rcpt_address_i and rcpt_offset_i; the rest default to
 * "" or 0. Unknown attributes are ignored, so either side may grow. */
#ifndef POSTERN_DELIVER_REQ_H
#define POSTERN_DELIVER_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/attr.h"
#include "base/buf.h"

#define DELIVER_PROTO "deliver"
#define DELIVER_VERSION 1
/* Most recipients in one request (Postfix's largest sensible
 * *_destination_recipient_limit is far below this). */
#define DELIVER_MAX_RCPT 1000

/* Limits for attr_read of requests and replies: room for
 * DELIVER_MAX_RCPT recipients. */
extern const struct attr_limits deliver_attr_limits;

struct deliver_rcpt {
    char *address;   /* internal form */
    char *original;  /* orig_to, "" when none */
    char *orcpt;     /* DSN ORCPT, "" when none */
    unsigned notify; /* QFILE_NOTIFY_* bits */
    uint64_t offset; /* the recipient record's offset in the queue file */
};

struct deliver_request {
    char *queue_name; /* "active" */
    char *queue_id;   /* checked with qid_valid() by the parser */
    char *transport, *nexthop;
    char *sender; /* "" for the null sender */
    long long arrival_time, message_size, content_offset;
    char *encoding; /* "7bit" / "8bitmime" / "" */
    int smtputf8;
    int requiretls; /* RFC 8689: leave only over verified TLS */
    char *dsn_envid, *dsn_ret;
    char *client_name, *client_address;
    char *log_ident; /* the queue id for logs */
    struct deliver_rcpt *rcpts;
    size_t rcpt_count;
};

/* Decodes a deliver/1 request into req (free with deliver_request_free,
 * also after an error). 0, or -1 with err: wrong protocol, a missing or
 * mistyped attribute, an invalid queue id, no recipients or more than
 * DELIVER_MAX_RCPT. */
int deliver_request_parse(struct attr_msg *msg, struct deliver_request *req,
                          struct buf *err);
void deliver_request_free(struct deliver_request *req);
/* Encodes req (NULL strings are sent as ""). */
struct attr_msg *deliver_request_encode(const struct deliver_request *req);

enum deliver_status { DELIVER_SENT, DELIVER_DEFERRED, DELIVER_BOUNCED };

/* One recipient's outcome. */
struct deliver_result {
    enum deliver_status status;
    char dsn[10]; /* "2.0.0", "4.3.0", "5.1.1" */
    char *reason; /* heap; never NULL once set */
    char *relay;  /* heap; "virtual", "local", ... */
    /* Optional (heap or NULL): the remote MTA that decided the outcome
     * and its reply, for the notice's Remote-MTA: and Diagnostic-Code:
     * fields ("dns", "mx.example.com"; "smtp", "550 5.1.1 ..."). On the
     * wire as mta_i = "TYPE; NAME" and diag_i = "TYPE; TEXT", sent only
     * when set. */
    char *mta_type, *mta_name;
    char *diag_type, *diag_text;
};

/* "sent" / "deferred" / "bounced", and back (-1 when unknown). */
const char *deliver_status_name(enum deliver_status status);
int deliver_status_parse(const char *name);

/* Encodes count results as a reply. */
struct attr_msg *deliver_reply_encode(const struct deliver_result *results,
                                      size_t count);
/* Decodes a reply that must answer `expected` recipients; *out is an
 * array of expected results (free with deliver_results_free). 0, or -1
 * with err. */
int deliver_reply_parse(struct attr_msg *msg, size_t expected,
                        struct deliver_result **out, struct buf *err);
void deliver_results_free(struct deliver_result *results, size_t count);

/* An agent that will exit after this reply (max_use, or master retired
 * it) says so in the reply, so qmgr does not send the next request on a
 * connection that is about to close: without it, agents started together
 * retire together and a request can meet two closing connections in a
 * row and be deferred for a whole backoff interval. */
void deliver_reply_set_retiring(struct attr_msg *reply);
/* 1 when the reply carries the retiring mark. */
int deliver_reply_retiring(struct attr_msg *reply);

/* How the agent's session with the request's destination went, for
 * qmgr's per-destination flow control (docs/qmgr.md, "Flow control per
 * destination"): reached it (whatever the recipients' outcomes), could
 * not reach it (no connection, or a failure before MAIL FROM), or was
 * told to slow down (a rate-limit reply). Attribute "hop_status" with
 * "ok", "failed" or "throttled"; absent means ok, so the local agents
 * say nothing. */
enum deliver_hop { DELIVER_HOP_OK, DELIVER_HOP_FAILED, DELIVER_HOP_THROTTLED };
void deliver_reply_set_hop(struct attr_msg *reply, enum deliver_hop hop);
enum deliver_hop deliver_reply_hop(struct attr_msg *reply);

#endif
