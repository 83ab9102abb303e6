/* agent_mailbox.c: one message copy into a Maildir or mbox (see
 * agent_mailbox.h). */
#include "delivery/agent_mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "base/fsync_dir.h"
#include "base/fsync_group.h"
#include "storage/maildir.h"
#include "storage/mbox.h"
#include "base/mem.h"
#include "base/privs.h"
#include "base/str.h"
#include "base/timeconv.h"

struct copy_target {
    struct maildir_delivery *maildir;
    struct mbox_delivery *mbox;
};

static int copy_write(void *ctx, const void *data, size_t len)
{
    struct copy_target *t = ctx;
    if (t->maildir)
        return maildir_delivery_write(t->maildir, data, len);
    return mbox_delivery_write(t->mbox, data, len);
}

/* Opens the Maildir copy and writes the content into it. Returns the
 * delivery (NULL when the open failed: st says why) and sets *copy_rc to
 * AGENT_COPY_DONE or, when the queue file could not be read,
 * AGENT_COPY_QUEUE_ERROR (the copy is then
 * already abandoned and NULL returned). */
static struct maildir_delivery *
write_maildir_copy(struct agent_delivery *d, const struct agent_mailbox *m,
                   const char *leading, struct store_status *st, enum agent_copy_result *copy_rc,
                   struct buf *err)
{
    struct maildir_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.path = m->path;
    opts.size_limit = m->size_limit;
    /* Enforce a maildirsize that Dovecot (or maildirmake -q) set. */
    opts.quota.mode = MAILDIR_QUOTA_FROM_FILE;
    *copy_rc = AGENT_COPY_DONE;
    struct copy_target t = {maildir_delivery_open(&opts, leading, st), NULL};
    if (t.maildir == NULL)
        return NULL;
    *copy_rc = agent_copy_content(d, copy_write, &t, err);
    if (*copy_rc == AGENT_COPY_QUEUE_ERROR) {
        maildir_delivery_abort(t.maildir);
        return NULL;
    }
    return t.maildir;
}

enum agent_copy_result agent_mailbox_write(struct agent_delivery *d, const struct agent_mailbox *m,
                        struct store_status *st, struct buf *err)
{
    struct buf leading = BUF_INIT;
    struct copy_target t = {NULL, NULL};
    enum agent_copy_result copy_rc = AGENT_COPY_DONE;
    agent_leading_lines(d, m->recipient, &leading);
    if (str_has_suffix(m->path, "/")) {
        t.maildir =
            write_maildir_copy(d, m, buf_cstr(&leading), st, &copy_rc, err);
        if (t.maildir)
            maildir_delivery_commit(t.maildir, NULL);
    } else {
        struct mbox_options opts;
        memset(&opts, 0, sizeof(opts));
        opts.path = m->path;
        opts.sender = d->req->sender;
        opts.lock_methods = agent_lock_methods(m->lock_param);
        opts.dotlock_optional = m->dotlock_optional;
        opts.lock_attempts = (int)cfg_int("deliver_lock_attempts");
        opts.lock_delay_ms = timeconv_sec_to_int_ms(cfg_time("deliver_lock_delay"));
        opts.stale_lock_secs = (int)cfg_time("stale_lock_time");
        opts.size_limit = m->size_limit;
        opts.chown_new = m->chown_new;
        opts.uid = m->uid;
        opts.gid = m->gid;
        t.mbox = mbox_delivery_open(&opts, buf_cstr(&leading), st);
        if (t.mbox) {
            copy_rc = agent_copy_content(d, copy_write, &t, err);
            if (copy_rc == AGENT_COPY_QUEUE_ERROR)
                mbox_delivery_abort(t.mbox);
            else
                mbox_delivery_commit(t.mbox);
        }
    }
    buf_free(&leading);
    return copy_rc == AGENT_COPY_QUEUE_ERROR ? AGENT_COPY_QUEUE_ERROR
                                            : AGENT_COPY_DONE;
}

/* ---- copies that wait for one shared sync ---- */

struct pending_copy {
    size_t rcpt;
    struct maildir_delivery *maildir; /* NULL once finished */
    struct store_status status;
    uid_t uid;
    gid_t gid;
};

struct agent_mailbox_batch {
    /* Pointers: each delivery points at its copy's status, which must
     * not move when the array grows. */
    struct pending_copy **copies;
    size_t count, cap;
    agent_mailbox_report_fn report;
};

enum agent_copy_result agent_mailbox_write_batched(struct agent_delivery *d, size_t i,
                                const struct agent_mailbox *m,
                                agent_mailbox_report_fn report,
                                struct store_status *st, struct buf *err)
{
    if (!str_has_suffix(m->path, "/") || d->req->rcpt_count < 2)
        return agent_mailbox_write(d, m, st, err);
    struct buf leading = BUF_INIT;
    enum agent_copy_result copy_rc = AGENT_COPY_DONE;
    agent_leading_lines(d, m->recipient, &leading);
    struct maildir_delivery *md =
        write_maildir_copy(d, m, buf_cstr(&leading), st, &copy_rc, err);
    buf_free(&leading);
    if (md == NULL)
        return copy_rc;
    if (maildir_delivery_prepare(md) != STORE_OK)
        return AGENT_COPY_DONE; /* st has the outcome */
    if (d->batch == NULL)
        d->batch = xcalloc(1, sizeof(*d->batch));
    struct agent_mailbox_batch *b = d->batch;
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->copies = xreallocarray(b->copies, b->cap, sizeof(*b->copies));
    }
    struct pending_copy *c = xcalloc(1, sizeof(*c));
    b->copies[b->count++] = c;
    c->rcpt = i;
    c->maildir = md;
    c->uid = m->uid;
    c->gid = m->gid;
    b->report = report;
    /* The delivery reports through its own status from now on. */
    store_status_init(&c->status);
    maildir_delivery_set_status(md, &c->status);
    return AGENT_COPY_WAITING;
}

/* Opens and fsyncs each distinct new/ directory of the live copies;
 * errs[k] receives copy k's result. */
static void sync_new_dirs(struct agent_mailbox_batch *b, int *errs)
{
    struct strlist dirs;
    strlist_init(&dirs);
    size_t *dir_of = xcalloc(b->count, sizeof(*dir_of));
    struct buf path = BUF_INIT;
    for (size_t k = 0; k < b->count; k++) {
        if (b->copies[k]->maildir == NULL)
            continue;
        maildir_delivery_new_dir(b->copies[k]->maildir, &path);
        size_t j = 0;
        while (j < dirs.count && strcmp(dirs.items[j], path.data) != 0)
            j++;
        if (j == dirs.count)
            strlist_add(&dirs, path.data);
        dir_of[k] = j;
    }
    int *dir_errs = xcalloc(dirs.count + 1, sizeof(*dir_errs));
    size_t open_count = 0;
    int *open_fds = xcalloc(dirs.count + 1, sizeof(*open_fds));
    size_t *open_index = xcalloc(dirs.count + 1, sizeof(*open_index));
    for (size_t j = 0; j < dirs.count; j++) {
        int fd = open(dirs.items[j], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            dir_errs[j] = errno;
            continue;
        }
        open_index[open_count] = j;
        open_fds[open_count++] = fd;
    }
    int *open_errs = xcalloc(open_count + 1, sizeof(*open_errs));
    fsync_group(open_fds, open_errs, open_count);
    for (size_t n = 0; n < open_count; n++) {
        int e = open_errs[n];
        dir_errs[open_index[n]] = fsync_dir_unsupported(e) ? 0 : e;
        close(open_fds[n]);
    }
    for (size_t k = 0; k < b->count; k++)
        errs[k] = b->copies[k]->maildir ? dir_errs[dir_of[k]] : 0;
    free(open_errs);
    free(open_index);
    free(open_fds);
    free(dir_errs);
    free(dir_of);
    buf_free(&path);
    strlist_free(&dirs);
}

void agent_mailbox_flush(struct agent_delivery *d)
{
    struct agent_mailbox_batch *b = d->batch;
    if (b == NULL)
        return;
    int *fds = xcalloc(b->count + 1, sizeof(*fds));
    int *errs = xcalloc(b->count + 1, sizeof(*errs));
    for (size_t k = 0; k < b->count; k++)
        fds[k] = maildir_delivery_fd(b->copies[k]->maildir);
    /* The files first, all at once; each goes into new/ only once its
     * own content is on disk. */
    fsync_group(fds, errs, b->count);
    for (size_t k = 0; k < b->count; k++) {
        struct pending_copy *c = b->copies[k];
        privs_effective_set(PRIVS_THREAD, c->uid, c->gid);
        if (maildir_delivery_publish(c->maildir, errs[k]) != STORE_OK)
            c->maildir = NULL; /* freed; the status says why */
        privs_effective_restore(PRIVS_THREAD);
    }
    sync_new_dirs(b, errs);
    for (size_t k = 0; k < b->count; k++) {
        struct pending_copy *c = b->copies[k];
        if (c->maildir) {
            privs_effective_set(PRIVS_THREAD, c->uid, c->gid);
            maildir_delivery_finish(c->maildir, errs[k], NULL);
            privs_effective_restore(PRIVS_THREAD);
            c->maildir = NULL;
        }
        b->report(d, c->rcpt, &c->status);
        store_status_free(&c->status);
        free(c);
    }
    free(fds);
    free(errs);
    free(b->copies);
    free(b);
    d->batch = NULL;
}
