/* virtual.c: the virtual delivery agent, Postfix's virtual(8).
 *
 * Serves deliver/1 requests (lib/delivery/agent.h does the protocol, the queue
 * file, the done marks and the log lines). Per recipient:
 *   - a message that already carries `Delivered-To: <recipient>` is a
 *     mail loop: bounce 5.4.6;
 *   - virtual_mailbox_maps names the mailbox (the whole address, then
 *     without its extension, then @domain); not found: bounce 5.1.1;
 *   - virtual_uid_maps / virtual_gid_maps give its owner; no answer, a
 *     value that is not a plain decimal number in [virtual_minimum_uid
 *     (uid) or 1 (gid), 2^32 - 2] defers 4.3.5 (configuration error):
 *     nothing is ever written as root;
 *   - a result ending in `/` is a Maildir below virtual_mailbox_base,
 *     anything else an mbox file there (locked by virtual_mailbox_lock);
 *   - the copy starts with Return-Path: and Delivered-To:, is written
 *     with the owner's effective uid/gid, limited by
 *     virtual_mailbox_limit and Maildir++ quota (maildirsize).
 * As Postfix's virtual, the agent does not consult
 * virtual_mailbox_domains: that list is routing, done before mail gets
 * here (smtpd, qmgr). A table that fails defers 4.3.0. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/agent.h"
#include "delivery/agent_mailbox.h"
#include "config/config.h"
#include "base/idnum.h"
#include "base/log.h"
#include "storage/maildir.h"
#include "storage/mbox.h"
#include "base/mem.h"
#include "base/privs.h"
#include "storage/store.h"

static struct maps *mailbox_maps, *uid_maps, *gid_maps;

static void virtual_init(void)
{
    /* Results become paths: never let $1 carry the address into one. */
    mailbox_maps =
        maps_open("virtual_mailbox_maps", cfg_str("virtual_mailbox_maps"),
                  DICT_FLAG_NO_REGSUB);
    uid_maps = maps_open("virtual_uid_maps", cfg_str("virtual_uid_maps"),
                         DICT_FLAG_NO_REGSUB);
    gid_maps = maps_open("virtual_gid_maps", cfg_str("virtual_gid_maps"),
                         DICT_FLAG_NO_REGSUB);
}

/* Looks up the recipient's uid or gid (`what`) and checks it strictly
 * (base/idnum.h): a plain decimal number in [minimum, 2^32 - 2]. Anything
 * else defers the recipient with a warning that names the value and the
 * table, so that no value can ever make the agent write as root or keep
 * its own ids. 0, or -1 after answering the recipient. */
static int lookup_id(struct agent_delivery *d, size_t i, struct maps *m,
                     const char *what, unsigned long minimum,
                     const char *minimum_name, unsigned long *id)
{
    const char *rcpt = d->req->rcpts[i].address;
    struct buf value = BUF_INIT;
    enum dict_result r = agent_maps_find_address(m, rcpt, &value);
    int rc = -1;
    if (r == DICT_ERROR) {
        agent_defer(d, i, "4.3.0", "%s lookup failure", what);
    } else if (r == DICT_NOTFOUND) {
        log_warn("recipient %s: %s not found in virtual_%s_maps", rcpt, what,
                 what);
        agent_defer(d, i, "4.3.5",
                    "mail system configuration error: no %s for recipient",
                    what);
    } else {
        enum idnum_result parsed = idnum_parse(buf_cstr(&value), minimum, id);
        if (parsed == IDNUM_TOO_SMALL) {
            log_warn("recipient %s: %s \"%s\" in virtual_%s_maps is below "
                     "%s %lu",
                     rcpt, what, buf_cstr(&value), what, minimum_name,
                     minimum);
            agent_defer(d, i, "4.3.5",
                        "mail system configuration error: %s %s is below "
                        "%s %lu",
                        what, buf_cstr(&value), minimum_name, minimum);
        } else if (parsed != IDNUM_OK) {
            log_warn("recipient %s: bad %s \"%s\" in virtual_%s_maps: %s",
                     rcpt, what, buf_cstr(&value), what,
                     idnum_result_text(parsed));
            agent_defer(d, i, "4.3.5",
                        "mail system configuration error: bad %s for "
                        "recipient",
                        what);
        } else {
            rc = 0;
        }
    }
    buf_free(&value);
    return rc;
}

/* Reports one mailbox copy's outcome (also called later for a copy that
 * waited to share its syncs: agent_mailbox.h). */
static void report_copy(struct agent_delivery *d, size_t i,
                        const struct store_status *st)
{
    if (st->result == STORE_OK) {
        agent_sent(d, i, "2.0.0", "%s", buf_cstr(&st->reason));
    } else if (st->result == STORE_DEFER) {
        agent_defer(d, i, st->dsn, "%s", buf_cstr(&st->reason));
    } else {
        /* STORE_BOUNCE, or over Maildir++ quota: bounce 5.2.2 as
         * Postfix's virtual and Dovecot (quota_full_tempfail = no) do. */
        agent_bounce(d, i, st->result == STORE_OVER_QUOTA ? "5.2.2" : st->dsn,
                     "%s", buf_cstr(&st->reason));
    }
}

static void deliver_mailbox(struct agent_delivery *d, size_t i,
                            const char *path, uid_t uid, gid_t gid)
{
    const char *rcpt = d->req->rcpts[i].address;
    struct buf err = BUF_INIT;
    struct store_status st;
    store_status_init(&st);
    struct agent_mailbox box = {
        .path = path,
        .recipient = rcpt,
        .size_limit = cfg_size("virtual_mailbox_limit"),
        .lock_param = "virtual_mailbox_lock",
        .uid = uid,
        .gid = gid,
    };
    privs_effective_set(PRIVS_THREAD, uid, gid);
    enum agent_copy_result copy_rc =
        agent_mailbox_write_batched(d, i, &box, report_copy, &st, &err);
    privs_effective_restore(PRIVS_THREAD);

    if (copy_rc == AGENT_COPY_QUEUE_ERROR) {
        log_warn("%s: reading queue file: %s", d->req->log_ident,
                 buf_cstr(&err));
        agent_defer(d, i, "4.3.0", "cannot read queue file");
    } else if (copy_rc == AGENT_COPY_DONE) {
        report_copy(d, i, &st);
    }
    store_status_free(&st);
    buf_free(&err);
}

static void virtual_deliver(struct agent_delivery *d, size_t i)
{
    const char *rcpt = d->req->rcpts[i].address;
    struct buf err = BUF_INIT, mailbox = BUF_INIT, path = BUF_INIT;

    int loop = agent_delivered_to(d, rcpt, &err);
    if (loop < 0) {
        log_warn("%s: reading queue file: %s", d->req->log_ident,
                 buf_cstr(&err));
        agent_defer(d, i, "4.3.0", "cannot read queue file");
        goto out;
    }
    if (loop) {
        agent_bounce(d, i, "5.4.6", "mail forwarding loop for %s", rcpt);
        goto out;
    }

    enum dict_result r = agent_maps_find_address(mailbox_maps, rcpt, &mailbox);
    if (r == DICT_ERROR) {
        agent_defer(d, i, "4.3.0", "virtual_mailbox_maps lookup failure");
        goto out;
    }
    if (r == DICT_NOTFOUND) {
        agent_bounce(d, i, "5.1.1", "unknown user: \"%s\"", rcpt);
        goto out;
    }
    str_trim(mailbox.data);
    mailbox.len = strlen(mailbox.data);
    if (!agent_mailbox_name_ok(buf_cstr(&mailbox))) {
        log_warn("recipient %s: bad mailbox name \"%s\" in "
                 "virtual_mailbox_maps",
                 rcpt, buf_cstr(&mailbox));
        agent_defer(d, i, "4.3.5",
                    "mail system configuration error: bad mailbox name");
        goto out;
    }

    /* The uid must be at least virtual_minimum_uid (as in Postfix); the
     * gid at least 1: Postfix takes any gid, but gid 0 would let the
     * copy be written with root's group (docs/virtual.md). */
    long minimum_uid = cfg_int("virtual_minimum_uid");
    unsigned long uid, gid;
    if (lookup_id(d, i, uid_maps, "uid",
                  minimum_uid > 0 ? (unsigned long)minimum_uid : 1,
                  "virtual_minimum_uid", &uid) < 0 ||
        lookup_id(d, i, gid_maps, "gid", 1, "the lowest allowed gid", &gid) < 0)
        goto out;

    buf_append_str(&path, cfg_str("virtual_mailbox_base"));
    buf_append_char(&path, '/');
    buf_append_str(&path, buf_cstr(&mailbox));
    deliver_mailbox(d, i, buf_cstr(&path), (uid_t)uid, (gid_t)gid);
out:
    buf_free(&err);
    buf_free(&mailbox);
    buf_free(&path);
}

int main(int argc, char **argv)
{
    agent_main(argc, argv, "virtual", virtual_init, virtual_deliver);
}
