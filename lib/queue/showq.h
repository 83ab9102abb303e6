/* showq.h: the queue listing service's protocol, `showq/1` (both ends).
 *
 * The showq daemon (showq/showq.c) listens on $queue_directory/public/
 * showq, a socket every local user may connect to, and lists the queue
 * for whoever connects and passes authorized_mailq_users (lib/routing/user_acl,
 * with the client's uid from SO_PEERCRED). postqueue -p / -j and mailq
 * are its clients: they format what they receive with lib/queue/queue_list,
 * exactly as they format their own scan when the mail system is down.
 *
 * The server speaks first; the client sends nothing. Every record is one
 * message of the attribute protocol (lib/ipc/attr, docs/ipc.md) named
 * showq/1 whose attribute `record` says what it is:
 *
 *   status     first, always: `status` = "ok", or "refused" with `user`
 *              and `uid` (not in authorized_mailq_users; nothing else
 *              follows), or "error" with `reason` (nothing follows).
 *   message    one per queued message: `queue_name` (incoming, active,
 *              deferred, hold), `queue_id`, `arrival_time`,
 *              `message_size`, `sender` ("" for the null sender) and
 *              `recipients`, the number of recipient records that follow.
 *   recipient  `address`, and `delay_reason` when defer/ID has one.
 *   end        last: the listing is complete. `error` is present when a
 *              queue directory could not be read (the rest was listed).
 * A connection that ends before `end` is a failed listing. Records are
 * sent as the queue is read, so a long queue never sits in memory. */
#ifndef POSTERN_SHOWQ_H
#define POSTERN_SHOWQ_H

#include "base/buf.h"
#include "queue/queue_list.h"
#include "base/stream.h"

#define SHOWQ_PROTO "showq"
#define SHOWQ_VERSION 1

/* ---- server side: each appends one record to the stream's output (a
 * blocking stream flushes on the way; call stream_flush at the end) ---- */

void showq_send_ok(struct stream *s);
void showq_send_refused(struct stream *s, const char *user, long uid);
void showq_send_error(struct stream *s, const char *reason);
void showq_send_entry(struct stream *s, const struct queue_list_entry *entry);
/* error: NULL, or why a queue directory could not be read. */
void showq_send_end(struct stream *s, const char *error);

/* ---- client side ---- */

enum showq_result {
    SHOWQ_OK,         /* the whole listing was printed */
    SHOWQ_INCOMPLETE, /* printed, but showq could not read a queue
                         directory (err says which) */
    SHOWQ_DOWN,       /* no socket or nobody listening: the mail system
                         is down */
    SHOWQ_NOACCESS,   /* the socket exists but may not be connected to
                         (EACCES, EPERM) */
    SHOWQ_REFUSED,    /* not in authorized_mailq_users: user and uid set */
    SHOWQ_ERROR,      /* timeout, a server error, a malformed or cut-short
                         reply; err says what (part may be printed) */
};

/* What a refusal says. */
struct showq_refusal {
    struct buf user;
    long uid;
};

/* Reads a listing from s (a connected blocking stream with a timeout)
 * and prints each message with printer (queue_list_print_end is left to
 * the caller). refusal is filled for SHOWQ_REFUSED. Never returns
 * SHOWQ_DOWN or SHOWQ_NOACCESS. */
enum showq_result showq_read_listing(struct stream *s,
                                     struct queue_list_printer *printer,
                                     struct showq_refusal *refusal,
                                     struct buf *err);

/* Connects to QUEUE_DIRECTORY/public/showq and reads the listing, the
 * whole exchange bounded by timeout_ms per read. On SHOWQ_DOWN and
 * SHOWQ_NOACCESS err holds the connect error and errno its code. */
enum showq_result showq_list(const char *queue_directory, int timeout_ms,
                             struct queue_list_printer *printer,
                             struct showq_refusal *refusal, struct buf *err);

/* The socket's path: "QUEUE_DIRECTORY/public/showq". */
void showq_path(struct buf *out, const char *queue_directory);

#endif
