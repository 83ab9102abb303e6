/* agent.h: what the delivery agents (virtual, local) share: serving
 * deliver/1 requests, the queue file a request names, the per-recipient
 * outcome (log line, done mark, reply), loop detection, the content
 * copy, and temporary switches to a mailbox owner's uid/gid.
 *
 * lmtpd delivers through the same per-recipient code without a queue
 * file: it fills a struct agent_delivery itself (a request built from
 * the LMTP envelope, qf NULL, the content from its spool through struct
 * agent_content) and reads the outcomes from d->results.
 *
 * Life of one request (agent_main does it; the agent supplies only the
 * per-recipient delivery function):
 *   1. read a deliver/1 request (deliver_req.h);
 *   2. open QUEUE_DIRECTORY/QUEUE/ID read-write and read its envelope;
 *      check that every recipient offset names a recipient record with
 *      the same address (a request is never trusted blindly);
 *   3. call deliver() per recipient not yet done; it ends with
 *      agent_sent / agent_defer / agent_bounce, which log the
 *      Postfix-shaped line (`to=<...>, relay=..., delay=..., delays=...,
 *      dsn=..., status=...`) and, for sent, mark the recipient done in
 *      the queue file (no sync yet);
 *   4. one fdatasync covers every mark, and only then the reply goes out.
 *      A crash between a delivery and that fdatasync is the only window
 *      in which a recipient is delivered twice; a recipient found already
 *      done (qmgr retried after such a crash of its own) is answered
 *      sent without a second delivery.
 *
 * Privileges. The agents run as root under master (as Postfix's local
 * and virtual do). The queue file is opened as root before any switch
 * and its descriptor kept, so marking done never depends on the
 * mailbox owner's rights. Mailbox writes run with the effective uid/gid
 * of the owner (privs_effective_set(PRIVS_THREAD, ...), restored by
 * privs_effective_restore, crash on failure; see base/privs.h for the
 * rule that comes with a per-thread switch); commands run in a child that drops all privileges for
 * good. Not as root, nothing is switched: everything runs as the user
 * the suite runs as. */
#ifndef POSTERN_AGENT_H
#define POSTERN_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "base/buf.h"
#include "delivery/deliver_req.h"
#include "tables/dict.h"
#include "tables/maps.h"
#include "queue/qfile_reader.h"
#include "base/str.h"

/* A message content that is not in a queue file (lmtpd's spool): read
 * replaces out with up to max bytes from offset (out->len 0 at the
 * end), and returns 0, or -1 with err set. */
struct agent_content {
    int (*read)(void *ctx, uint64_t offset, size_t max, struct buf *out,
                struct buf *err);
    void *ctx;
};

struct agent_delivery {
    struct deliver_request *req;
    /* The queue file, open read-write; NULL for a delivery that has
     * none (lmtpd): the content then comes from `content`, and a sent
     * recipient has nothing to mark done. */
    struct qfile_reader *qf;
    const struct agent_content *content;
    struct qfile_envelope env;
    struct deliver_result *results; /* one per request recipient */
    struct timeval received;        /* when the request arrived */
    const char *relay;              /* "virtual", "local" */
    size_t marked;                  /* recipients marked done (not synced) */
    /* Delivered-To: values of the message header, lower case; filled on
     * first use by agent_delivered_to. */
    struct strlist delivered_to;
    int delivered_to_loaded;
    /* Maildir copies waiting for their syncs (agent_mailbox.h). */
    struct agent_mailbox_batch *batch;
    /* Network agents (smtp, lmtp): when the connection was set up (zero:
     * none; the log's delays= c part) and how often it had been used
     * before (> 0 logs conn_use=N+1, as Postfix does). Set them before
     * the outcomes; relay may be changed per recipient as well
     * ("host[addr]:port"). */
    struct timeval conn_setup;
    int conn_reuse_count;
    /* The remote MTA and its reply behind the outcomes that follow
     * (smtp, lmtp; NULL: none), passed to qmgr for the notice's
     * Remote-MTA: (dns; NAME) and Diagnostic-Code: (smtp; REPLY). */
    const char *remote_mta;
    const char *remote_reply;
    /* Network agents: how the destination was reached, for qmgr's flow
     * control (deliver_req.h); DELIVER_HOP_OK unless set. */
    enum deliver_hop hop;
};

/* Delivers recipient i of d->req (d->req->rcpts[i]) and ends with one
 * of agent_sent / agent_defer / agent_bounce. */
typedef void (*agent_deliver_fn)(struct agent_delivery *d, size_t i);

/* An agent that handles a whole request at once (smtp, lmtp: one
 * transaction for all its recipients) instead of one recipient at a
 * time. */
struct agent_request_ops {
    /* Optional: once at start, as agent_main's init. */
    void (*init)(void);
    /* Delivers every recipient i for which agent_pending(d, i) is 1,
     * each ending with one of agent_sent / agent_defer / agent_bounce
     * (recipients the queue file marks done, or that do not match it,
     * are answered before the call and are not pending). */
    void (*deliver)(struct agent_delivery *d);
    /* Optional: while the process waits for the next request, the
     * milliseconds until idle_work() wants to run (-1: never), asked
     * again after each run (a connection cache closes its idle
     * connections this way). */
    long (*idle_due_ms)(void);
    void (*idle_work)(void);
    /* Optional: before a normal exit (max_use, max_idle, lifeline). */
    void (*pre_exit)(void);
};

/* agent_main for an agent_request_ops agent. Never returns. */
void agent_main_request(int argc, char **argv, const char *program,
                        const struct agent_request_ops *ops)
    __attribute__((noreturn));

/* 1 while recipient i of the request has no outcome yet. */
int agent_pending(const struct agent_delivery *d, size_t i);

/* Requests a process serves per unit of max_use (agent_serve.c). */
#define AGENT_REQUESTS_PER_USE 100

/* The whole daemon, on lib/ipc/server.h in single mode: command line,
 * main.cf, log, init() once (as root when master runs as root), then
 * connections one at a time and deliver/1 requests on each, until
 * max_use connections or AGENT_REQUESTS_PER_USE x max_use requests,
 * max_idle seconds idle, or the end of master's lifeline. `-S PATH` serves the
 * unix socket PATH without master (tests). Never returns. */
void agent_main(int argc, char **argv, const char *program, void (*init)(void),
                agent_deliver_fn deliver) __attribute__((noreturn));

/* Outcomes. reason is a printf format. Each logs the status line and
 * fills d->results[i]; agent_sent also marks the recipient done (a mark
 * that fails turns the outcome into a deferral: nothing is lost, the
 * recipient is tried again). */
void agent_sent(struct agent_delivery *d, size_t i, const char *dsn,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void agent_defer(struct agent_delivery *d, size_t i, const char *dsn,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void agent_bounce(struct agent_delivery *d, size_t i, const char *dsn,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* For an agent that expands a recipient into several deliveries
 * (local: aliases, .forward): logs one status line for destination `to`
 * (NULL: the recipient itself) with orig_to= the request's recipient,
 * without recording anything; agent_record then records the
 * recipient's overall outcome without logging it again (unless marking
 * it done fails, which is logged). */
void agent_log_status(struct agent_delivery *d, size_t i, const char *to,
                      enum deliver_status status, const char *dsn,
                      const char *reason);
void agent_record(struct agent_delivery *d, size_t i,
                  enum deliver_status status, const char *dsn,
                  const char *reason);

/* 1 when the message header carries `Delivered-To: address`
 * (case-insensitive): delivering again would be a mail loop. -1 when the
 * queue file could not be read (err set). */
int agent_delivered_to(struct agent_delivery *d, const char *address,
                       struct buf *err);

/* What a copy of the content did (agent_copy_content, and the mailbox
 * writes in agent_mailbox.h built on it). */
enum agent_copy_result {
    AGENT_COPY_DONE = 0,
    AGENT_COPY_STOPPED = -1,     /* the write function stopped it */
    AGENT_COPY_QUEUE_ERROR = -2, /* the queue file could not be read (err) */
    AGENT_COPY_WAITING = 1,      /* a batched Maildir copy waits for its
                                  * syncs (agent_mailbox_write_batched) */
};

/* Streams the message content to write(ctx, data, len), which returns 0
 * or -1 to stop. Returns AGENT_COPY_DONE, AGENT_COPY_STOPPED when write
 * stopped, or AGENT_COPY_QUEUE_ERROR with err when the queue file could
 * not be read. */
enum agent_copy_result agent_copy_content(struct agent_delivery *d,
                       int (*write)(void *ctx, const void *data, size_t len),
                       void *ctx, struct buf *err);

/* The leading lines every mailbox copy gets:
 * "Return-Path: <sender>\nDelivered-To: address\n" (address lower-cased,
 * as Postfix writes it). */
void agent_leading_lines(const struct agent_delivery *d, const char *address,
                         struct buf *out);

/* Postfix's lookup order for an address in a table search list: the
 * whole address, then (fixed-string tables only) the address without
 * its extension (recipient_delimiter), then "@domain". Keys are
 * lower-cased. */
enum dict_result agent_maps_find_address(struct maps *m, const char *address,
                                         struct buf *value);

/* 1 when a virtual_mailbox_maps result may be used below
 * virtual_mailbox_base: not empty, no ".." path element, no control
 * character (virtual delivery and the auth service's virtual users). */
int agent_mailbox_name_ok(const char *name);

/* Parses mailbox_delivery_lock / virtual_mailbox_lock items into
 * MBOX_LOCK_* bits. */
int agent_lock_methods(const char *param_name);

#endif
