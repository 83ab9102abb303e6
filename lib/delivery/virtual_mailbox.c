/* virtual_mailbox.c: one recipient's virtual delivery, shared by the
 * virtual agent and lmtpd (virtual_mailbox.h). */
#include "delivery/virtual_mailbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/idnum.h"
#include "base/log.h"
#include "base/privs.h"
#include "config/config.h"
#include "delivery/agent_mailbox.h"
#include "storage/store.h"

static struct maps *mailbox_maps, *uid_maps, *gid_maps;

void virtual_mailbox_init(void)
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

void virtual_target_init(struct virtual_target *t)
{
    memset(t, 0, sizeof(*t));
    buf_init(&t->path);
    buf_init(&t->reason);
}

void virtual_target_free(struct virtual_target *t)
{
    buf_free(&t->path);
    buf_free(&t->reason);
}

__attribute__((format(printf, 3, 4))) static enum virtual_find_result
tempfail(struct virtual_target *t, const char *dsn, const char *fmt, ...)
{
    va_list ap;
    snprintf(t->dsn, sizeof(t->dsn), "%s", dsn);
    buf_reset(&t->reason);
    va_start(ap, fmt);
    buf_vappendf(&t->reason, fmt, ap);
    va_end(ap);
    return VIRTUAL_TEMPFAIL;
}

/* Looks up the recipient's uid or gid (`what`) and checks it strictly
 * (base/idnum.h): a plain decimal number in [minimum, 2^32 - 2]. Anything
 * else defers the recipient with a warning that names the value and the
 * table, so that no value can ever make the agent write as root or keep
 * its own ids. */
static enum virtual_find_result
lookup_id(const char *rcpt, struct maps *m, const char *what,
          unsigned long minimum, const char *minimum_name, unsigned long *id,
          struct virtual_target *t)
{
    struct buf value = BUF_INIT;
    enum dict_result r = agent_maps_find_address(m, rcpt, &value);
    enum virtual_find_result rc = VIRTUAL_FOUND;
    if (r == DICT_ERROR) {
        rc = tempfail(t, "4.3.0", "%s lookup failure", what);
    } else if (r == DICT_NOTFOUND) {
        log_warn("recipient %s: %s not found in virtual_%s_maps", rcpt, what,
                 what);
        rc = tempfail(t, "4.3.5",
                      "mail system configuration error: no %s for recipient",
                      what);
    } else {
        enum idnum_result parsed = idnum_parse(buf_cstr(&value), minimum, id);
        if (parsed == IDNUM_TOO_SMALL) {
            log_warn("recipient %s: %s \"%s\" in virtual_%s_maps is below "
                     "%s %lu",
                     rcpt, what, buf_cstr(&value), what, minimum_name, minimum);
            rc = tempfail(t, "4.3.5",
                          "mail system configuration error: %s %s is below "
                          "%s %lu",
                          what, buf_cstr(&value), minimum_name, minimum);
        } else if (parsed != IDNUM_OK) {
            log_warn("recipient %s: bad %s \"%s\" in virtual_%s_maps: %s", rcpt,
                     what, buf_cstr(&value), what, idnum_result_text(parsed));
            rc = tempfail(t, "4.3.5",
                          "mail system configuration error: bad %s for "
                          "recipient",
                          what);
        }
    }
    buf_free(&value);
    return rc;
}

enum virtual_find_result virtual_mailbox_find(const char *rcpt,
                                              struct virtual_target *t)
{
    struct buf mailbox = BUF_INIT;
    enum virtual_find_result rc;
    enum dict_result r = agent_maps_find_address(mailbox_maps, rcpt, &mailbox);
    if (r == DICT_ERROR) {
        rc = tempfail(t, "4.3.0", "virtual_mailbox_maps lookup failure");
        goto out;
    }
    if (r == DICT_NOTFOUND) {
        rc = VIRTUAL_UNKNOWN;
        goto out;
    }
    str_trim(mailbox.data);
    mailbox.len = strlen(mailbox.data);
    if (!agent_mailbox_name_ok(buf_cstr(&mailbox))) {
        log_warn("recipient %s: bad mailbox name \"%s\" in "
                 "virtual_mailbox_maps",
                 rcpt, buf_cstr(&mailbox));
        rc = tempfail(t, "4.3.5",
                      "mail system configuration error: bad mailbox name");
        goto out;
    }

    /* The uid must be at least virtual_minimum_uid (as in Postfix); the
     * gid at least 1: Postfix takes any gid, but gid 0 would let the
     * copy be written with root's group (docs/virtual.md). */
    long minimum_uid = cfg_int("virtual_minimum_uid");
    unsigned long uid = 0, gid = 0;
    rc = lookup_id(rcpt, uid_maps, "uid",
                   minimum_uid > 0 ? (unsigned long)minimum_uid : 1,
                   "virtual_minimum_uid", &uid, t);
    if (rc == VIRTUAL_FOUND)
        rc = lookup_id(rcpt, gid_maps, "gid", 1, "the lowest allowed gid", &gid,
                       t);
    if (rc != VIRTUAL_FOUND)
        goto out;
    t->uid = (uid_t)uid;
    t->gid = (gid_t)gid;
    buf_reset(&t->path);
    buf_append_str(&t->path, cfg_str("virtual_mailbox_base"));
    buf_append_char(&t->path, '/');
    buf_append_str(&t->path, buf_cstr(&mailbox));
out:
    buf_free(&mailbox);
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
                            const struct virtual_target *t)
{
    const char *rcpt = d->req->rcpts[i].address;
    struct buf err = BUF_INIT;
    struct store_status st;
    store_status_init(&st);
    struct agent_mailbox box = {
        .path = buf_cstr(&t->path),
        .recipient = rcpt,
        .size_limit = cfg_size("virtual_mailbox_limit"),
        .lock_param = "virtual_mailbox_lock",
        .uid = t->uid,
        .gid = t->gid,
    };
    privs_effective_set(PRIVS_THREAD, t->uid, t->gid);
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

void virtual_mailbox_deliver(struct agent_delivery *d, size_t i)
{
    const char *rcpt = d->req->rcpts[i].address;
    struct buf err = BUF_INIT;
    struct virtual_target t;
    virtual_target_init(&t);

    int loop = agent_delivered_to(d, rcpt, &err);
    if (loop < 0) {
        log_warn("%s: reading queue file: %s", d->req->log_ident,
                 buf_cstr(&err));
        agent_defer(d, i, "4.3.0", "cannot read queue file");
    } else if (loop) {
        agent_bounce(d, i, "5.4.6", "mail forwarding loop for %s", rcpt);
    } else {
        switch (virtual_mailbox_find(rcpt, &t)) {
        case VIRTUAL_UNKNOWN:
            agent_bounce(d, i, "5.1.1", "unknown user: \"%s\"", rcpt);
            break;
        case VIRTUAL_TEMPFAIL:
            agent_defer(d, i, t.dsn, "%s", buf_cstr(&t.reason));
            break;
        case VIRTUAL_FOUND:
            deliver_mailbox(d, i, &t);
            break;
        }
    }
    virtual_target_free(&t);
    buf_free(&err);
}
