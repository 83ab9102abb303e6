/* agent_mailbox.c: one message copy into a Maildir or mbox (see
 * agent_mailbox.h). */
#include "agent_mailbox.h"

#include <string.h>

#include "config.h"
#include "maildir.h"
#include "mbox.h"
#include "str.h"

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

int agent_mailbox_write(struct agent_delivery *d, const struct agent_mailbox *m,
                        struct store_status *st, struct buf *err)
{
    struct buf leading = BUF_INIT;
    struct copy_target t = {NULL, NULL};
    int copy_rc = 0;
    agent_leading_lines(d, m->recipient, &leading);
    if (str_has_suffix(m->path, "/")) {
        struct maildir_options opts;
        memset(&opts, 0, sizeof(opts));
        opts.path = m->path;
        opts.size_limit = m->size_limit;
        /* Enforce a maildirsize that Dovecot (or maildirmake -q) set. */
        opts.quota.mode = MAILDIR_QUOTA_FROM_FILE;
        t.maildir = maildir_delivery_open(&opts, buf_cstr(&leading), st);
        if (t.maildir) {
            copy_rc = agent_copy_content(d, copy_write, &t, err);
            if (copy_rc == -2)
                maildir_delivery_abort(t.maildir);
            else
                maildir_delivery_commit(t.maildir, NULL);
        }
    } else {
        struct mbox_options opts;
        memset(&opts, 0, sizeof(opts));
        opts.path = m->path;
        opts.sender = d->req->sender;
        opts.lock_methods = agent_lock_methods(m->lock_param);
        opts.dotlock_optional = m->dotlock_optional;
        opts.lock_attempts = (int)cfg_int("deliver_lock_attempts");
        opts.lock_delay_ms = (int)(cfg_time("deliver_lock_delay") * 1000);
        opts.stale_lock_secs = (int)cfg_time("stale_lock_time");
        opts.size_limit = m->size_limit;
        opts.chown_new = m->chown_new;
        opts.uid = m->uid;
        opts.gid = m->gid;
        t.mbox = mbox_delivery_open(&opts, buf_cstr(&leading), st);
        if (t.mbox) {
            copy_rc = agent_copy_content(d, copy_write, &t, err);
            if (copy_rc == -2)
                mbox_delivery_abort(t.mbox);
            else
                mbox_delivery_commit(t.mbox);
        }
    }
    buf_free(&leading);
    return copy_rc == -2 ? -2 : 0;
}
