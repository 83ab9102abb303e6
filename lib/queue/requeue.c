/* requeue.c: a requeued message from maildrop/ through the intake
 * rewriting into a new queue file that replaces the old one (see
 * requeue.h for the steps and why a crash at any of them is safe). */
#include "base/fsync_dir.h"
#include "queue/requeue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/defer_log.h"
#include "base/log.h"
#include "queue/qfile_reader.h"
#include "queue/qfile_writer.h"
#include "queue/queue_lock.h"
#include "queue/recleanup.h"

/* The old message, locked, with its envelope. */
struct held {
    int fd;
    struct stat st;
    struct qfile_reader *reader;
    struct qfile_envelope env;
};

static void held_close(struct held *h)
{
    qfile_envelope_free(&h->env);
    memset(&h->env, 0, sizeof(h->env));
    qfile_reader_close(h->reader);
    h->reader = NULL;
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
}

/* Locks and reads maildrop/QID. */
static enum requeue_result held_open(const char *queue_directory,
                                     const char *qid, struct held *h,
                                     struct buf *err)
{
    struct buf path = BUF_INIT;
    enum requeue_result result = REQUEUE_DONE;
    memset(h, 0, sizeof(*h));
    h->fd = -1;
    queue_path(&path, queue_directory, QUEUE_MAILDROP, qid);
    switch (queue_lock_open(path.data, &h->fd, err)) {
    case QUEUE_LOCK_OK:
        break;
    case QUEUE_LOCK_BUSY:
        result = REQUEUE_BUSY;
        goto out;
    case QUEUE_LOCK_GONE:
        result = REQUEUE_GONE;
        goto out;
    case QUEUE_LOCK_ERROR:
        result = REQUEUE_LATER;
        goto out;
    }
    enum qfile_result rr = QFILE_SYSERR;
    if (fstat(h->fd, &h->st) < 0)
        buf_appendf(err, "fstat %s: %s", path.data, strerror(errno));
    else if ((rr = qfile_reader_fdopen(h->fd, &h->reader, err)) == QFILE_OK)
        rr = qfile_read_envelope(h->reader, &h->env, err);
    if (rr == QFILE_CORRUPT) {
        struct buf move_err = BUF_INIT;
        log_warn("%s: corrupt queue file: %s; moved to corrupt/", qid,
                 buf_cstr(err));
        if (queue_move(queue_directory, qid, QUEUE_MAILDROP, QUEUE_CORRUPT, 1,
                       &move_err) < 0)
            log_warn("%s: %s", qid, move_err.data);
        buf_free(&move_err);
        result = REQUEUE_CORRUPT;
    } else if (rr != QFILE_OK) {
        result = REQUEUE_LATER;
    }
out:
    if (result != REQUEUE_DONE)
        held_close(h);
    buf_free(&path);
    return result;
}

/* Steps 2 and 3: the rewritten message replaces maildrop/QID. */
static enum requeue_result rewrite_in_place(struct rewrite *rw,
                                            const char *queue_directory,
                                            const char *qid, struct held *h,
                                            char new_qid[QID_BUF_SIZE],
                                            struct buf *err)
{
    struct buf dir = BUF_INIT, path = BUF_INIT;
    struct recleanup_info info;
    recleanup_info_init(&info);
    enum requeue_result result = REQUEUE_LATER;
    queue_dir_path(&dir, queue_directory, QUEUE_MAILDROP);
    queue_path(&path, queue_directory, QUEUE_MAILDROP, qid);
    struct qfile_writer *w = qfile_writer_create(dir.data, err);
    if (w == NULL)
        goto out;
    if (recleanup_message(rw, h->reader, &h->env, qid, w, &info, err) !=
            RECLEANUP_OK ||
        qfile_writer_finish(w, err) < 0 ||
        qfile_writer_commit_replace(w, path.data, err) < 0)
        goto out;
    snprintf(new_qid, QID_BUF_SIZE, "%s", qfile_writer_qid(w));
    /* The replacement is what counts; make it durable before the file
     * moves on (journaling file systems would order it anyway). */
    if (fsync_dir(dir.data, err) < 0)
        log_warn("%s: %s", qid, buf_cstr(err));
    buf_reset(err);
    log_info("%s: uid=%ld from=<%s> orig_id=%s", new_qid, (long)h->st.st_uid,
             info.sender.data, qid);
    if (info.message_id.len)
        log_info("%s: message-id=%s", new_qid, info.message_id.data);
    result = REQUEUE_DONE;
out:
    qfile_writer_free(w); /* removes the temporary file unless committed */
    recleanup_info_free(&info);
    buf_free(&dir);
    buf_free(&path);
    return result;
}

/* The record of env that an entry of the old bounce log names, found by
 * its address and original address (offsets changed with the file). */
static uint64_t new_offset(const struct qfile_envelope *env,
                           const struct defer_log_entry *e)
{
    for (size_t i = 0; i < env->recipient_count; i++) {
        const struct qfile_recipient *rc = &env->recipients[i];
        if (rc->done && strcmp(rc->address, e->recipient) == 0 &&
            strcmp(rc->original, e->orig_rcpt) == 0)
            return rc->offset;
    }
    return 0; /* no record: the notice goes out without its ORCPT */
}

/* Step 4: bounce/QID's entries to bounce/NEW_QID. 1 when there were
 * some, 0 when there was no log, -1 on an error (err set). */
static int carry_bounce_log(const char *queue_directory, const char *qid,
                            const char *new_qid,
                            const struct qfile_envelope *env, struct buf *err)
{
    struct defer_log log;
    enum defer_log_result lr =
        defer_log_read(queue_directory, QUEUE_BOUNCE, qid, &log, err);
    int result = -1;
    if (lr == DEFER_LOG_NOTFOUND) {
        result = 0;
        goto out;
    }
    if (lr == DEFER_LOG_SYSERR)
        goto out;
    if (lr == DEFER_LOG_CORRUPT) {
        log_warn("%s: damaged bounce log: %s; keeping the entries before the "
                 "damage",
                 qid, buf_cstr(err));
        buf_reset(err);
    }
    for (size_t i = 0; i < log.count; i++)
        log.entries[i].offset = new_offset(env, &log.entries[i]);
    /* An earlier attempt may have written part of it: start afresh. */
    if (defer_log_remove(queue_directory, QUEUE_BOUNCE, new_qid, err) < 0 ||
        (log.count > 0 &&
         defer_log_append(queue_directory, QUEUE_BOUNCE, new_qid, log.entries,
                          log.count, 1, err) < 0))
        goto out;
    result = 1;
out:
    defer_log_free(&log);
    return result;
}

/* Steps 4 to 6 for maildrop/QID, which holds the rewritten message. */
static enum requeue_result move_on(const char *queue_directory, const char *qid,
                                   struct held *h, const char *new_qid,
                                   struct requeue_outcome *out, struct buf *err)
{
    struct buf from = BUF_INIT, to = BUF_INIT, log_err = BUF_INIT;
    enum requeue_result result = REQUEUE_LATER;
    int owed = carry_bounce_log(queue_directory, qid, new_qid, &h->env, err);
    if (owed < 0)
        goto out;
    /* A notice is owed: from deferred/, qmgr looks for it even when every
     * recipient is delivered at the first attempt. Due now. */
    enum queue_name target = owed ? QUEUE_DEFERRED : QUEUE_INCOMING;
    if (owed && futimens(h->fd, NULL) < 0)
        log_warn("%s: set time: %s", new_qid, strerror(errno));
    if (defer_log_remove(queue_directory, QUEUE_DEFER, qid, &log_err) < 0)
        log_warn("%s: %s", qid, log_err.data);
    queue_path(&from, queue_directory, QUEUE_MAILDROP, qid);
    queue_path(&to, queue_directory, target, new_qid);
    if (renameat2(AT_FDCWD, from.data, AT_FDCWD, to.data, RENAME_NOREPLACE) <
        0) {
        if (errno == ENOENT) {
            result = REQUEUE_GONE;
        } else {
            buf_appendf(err, "rename %s to %s: %s", from.data, to.data,
                        strerror(errno));
        }
        goto out;
    }
    buf_reset(&log_err);
    if (queue_dir_sync(queue_directory, target, &log_err) < 0)
        log_warn("%s: %s", new_qid, log_err.data);
    buf_reset(&log_err);
    if (owed &&
        defer_log_remove(queue_directory, QUEUE_BOUNCE, qid, &log_err) < 0)
        log_warn("%s: %s", qid, log_err.data);
    snprintf(out->qid, sizeof(out->qid), "%s", new_qid);
    out->queue = target;
    result = REQUEUE_DONE;
out:
    buf_free(&from);
    buf_free(&to);
    buf_free(&log_err);
    return result;
}

enum requeue_result requeue_pickup(struct rewrite *rw,
                                   const char *queue_directory, const char *qid,
                                   struct requeue_outcome *out, struct buf *err)
{
    struct held h;
    char new_qid[QID_BUF_SIZE];
    enum requeue_result result = held_open(queue_directory, qid, &h, err);
    if (result != REQUEUE_DONE)
        return result;
    const char *orig_id = qfile_envelope_attr(&h.env, "orig_id");
    if (orig_id && strcmp(orig_id, qid) == 0) {
        /* Rewritten already (step 3 done, then a crash): move it on under
         * an id of its own. */
        qid_new(new_qid, (uint64_t)h.st.st_ino);
        log_info("%s: uid=%ld from=<%s> orig_id=%s", new_qid, (long)h.st.st_uid,
                 h.env.sender, qid);
    } else {
        result = rewrite_in_place(rw, queue_directory, qid, &h, new_qid, err);
        held_close(&h);
        if (result != REQUEUE_DONE)
            return result;
        /* The new file, locked again for the rest, and read for the
         * offsets of its records (the bounce log names them). */
        if ((result = held_open(queue_directory, qid, &h, err)) != REQUEUE_DONE)
            return result;
    }
    result = move_on(queue_directory, qid, &h, new_qid, out, err);
    held_close(&h);
    return result;
}
