/* qmgr_trigger.h: wake qmgr up ($queue_directory/public/qmgr).
 *
 * A trigger is a few bytes written to qmgr's unix stream socket, which
 * master creates; the client connects, writes, and closes, and reads no
 * reply (docs/ipc.md, "Triggers to qmgr"). Single-byte requests may be
 * sent together in one write; a request with an argument is its letter,
 * the argument, and a LF.
 *
 *   A  new mail in incoming/: scan it now (smtpd, after a group commit)
 *   F  flush: retry every message in deferred/ now, ignoring retry times
 *      and forgetting which destinations were found dead (postqueue -f)
 *   W  wakeup: master's timer; do the periodic work that is due
 *   D  scan deferred/ for messages whose retry time has come
 *   R  requeued mail in maildrop/: send it through the intake rewriting
 *      again (postsuper -r; lib/queue/requeue.h)
 *   S<site>LF  retry now the deferred mail for one destination domain
 *      (postqueue -s site; at most QMGR_TRIGGER_MAX_ARG bytes)
 *   Q<id>LF    retry one message now (postqueue -i id; a valid queue id)
 * qmgr ignores bytes it does not know, and an argument that is too long
 * or invalid (it reads at most QMGR_TRIGGER_MAX_ARG + 2 bytes for one). */
#ifndef POSTERN_QMGR_TRIGGER_H
#define POSTERN_QMGR_TRIGGER_H

#include <stddef.h>

#include "base/buf.h"

#define QMGR_TRIGGER_NEW_MAIL 'A'
#define QMGR_TRIGGER_FLUSH 'F'
#define QMGR_TRIGGER_WAKEUP 'W' /* = MASTER_TRIGGER_WAKEUP */
#define QMGR_TRIGGER_DEFERRED 'D'
#define QMGR_TRIGGER_REQUEUE 'R'
#define QMGR_TRIGGER_SITE 'S'
#define QMGR_TRIGGER_MESSAGE 'Q'
#define QMGR_TRIGGER_END '\n' /* ends the argument of S and Q */
#define QMGR_TRIGGER_MAX_ARG 255

/* The socket's path: "QUEUE_DIRECTORY/public/qmgr". */
void qmgr_trigger_path(struct buf *out, const char *queue_directory);

enum qmgr_trigger_result {
    QMGR_TRIGGER_OK = 0,
    QMGR_TRIGGER_DOWN,    /* no socket, or nobody listening: qmgr not running */
    QMGR_TRIGGER_BUSY,    /* the write would block, or qmgr did not answer in
                             time: the request is pending */
    QMGR_TRIGGER_ERROR,   /* anything else; err says what */
    QMGR_TRIGGER_REFUSED, /* qmgr_trigger_request only: not allowed */
};

/* Connects to qmgr's socket, writes len bytes without blocking for more
 * than timeout_ms, and closes. */
enum qmgr_trigger_result qmgr_trigger_send(const char *queue_directory,
                                           const void *request, size_t len,
                                           int timeout_ms, struct buf *err);

/* Who was refused, as qmgr reports it. */
struct qmgr_trigger_refusal {
    struct buf user;
    long uid;
};

/* For the flush requests F, S and Q, which qmgr grants only to users in
 * authorized_flush_users (root and mail_owner always): connects, writes
 * the request, shuts down the writing side and waits up to timeout_ms
 * for qmgr's answer. qmgr closes without a word when it took the
 * request (QMGR_TRIGGER_OK), and sends one qmgr/1 attribute message
 * when it did not (docs/ipc.md): status "refused" with user and uid
 * (QMGR_TRIGGER_REFUSED, refusal filled), or "error" with reason
 * (QMGR_TRIGGER_ERROR). No answer in time is QMGR_TRIGGER_BUSY. */
enum qmgr_trigger_result
qmgr_trigger_request(const char *queue_directory, const void *request,
                     size_t len, int timeout_ms,
                     struct qmgr_trigger_refusal *refusal, struct buf *err);

/* The answer qmgr sends for a refused request (wire bytes appended to
 * out): status "refused" with user and uid, or, when user is NULL,
 * "error" with reason. */
void qmgr_trigger_refusal_encode(struct buf *out, const char *user, long uid,
                                 const char *reason);

/* Builds a request with an argument (S or Q) into out: 0, or -1 when the
 * argument is empty, too long, or holds a byte that is not printable
 * ASCII (a site) / not a valid queue id (a message). */
int qmgr_trigger_site(struct buf *out, const char *site);
int qmgr_trigger_message(struct buf *out, const char *qid);

#endif
