/* virtual_mailbox.h: Postfix's virtual(8) delivery of one recipient, for
 * the two programs that deliver into virtual mailboxes: the `virtual`
 * agent (mail from the queue, handed over by qmgr) and `lmtpd` (mail
 * handed over by an LMTP client, docs/lmtpd.md). Both give the same
 * answers for the same recipient because both run this code.
 *
 * Per recipient:
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
 * As Postfix's virtual, virtual_mailbox_domains is not consulted: that
 * list is routing, done before mail gets here. A table that fails
 * defers 4.3.0. */
#ifndef POSTERN_VIRTUAL_MAILBOX_H
#define POSTERN_VIRTUAL_MAILBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"
#include "delivery/agent.h"

/* Opens virtual_mailbox_maps, virtual_uid_maps and virtual_gid_maps, once
 * per process (the agent's init; lmtpd's pre_init). */
void virtual_mailbox_init(void);

enum virtual_find_result {
    VIRTUAL_FOUND,    /* path, uid and gid are set */
    VIRTUAL_UNKNOWN,  /* not in virtual_mailbox_maps (5.1.1) */
    VIRTUAL_TEMPFAIL, /* dsn and reason say why (4.3.0, 4.3.5) */
};

/* Where one recipient's mail goes. */
struct virtual_target {
    struct buf path; /* virtual_mailbox_base/RESULT */
    uid_t uid;
    gid_t gid;
    char dsn[8];       /* VIRTUAL_TEMPFAIL: "4.3.0" or "4.3.5" */
    struct buf reason; /* VIRTUAL_TEMPFAIL: the text of the deferral */
};

void virtual_target_init(struct virtual_target *t);
void virtual_target_free(struct virtual_target *t);

/* Looks the recipient up in the three tables and checks the answers (a
 * bad one is logged with a warning naming the table). */
enum virtual_find_result virtual_mailbox_find(const char *recipient,
                                              struct virtual_target *t);

/* Delivers recipient i of d (an agent_deliver_fn): the loop check, the
 * lookups, the mailbox copy; ends with agent_sent / agent_defer /
 * agent_bounce, or, for a Maildir copy of a request with several
 * recipients, later in agent_mailbox_flush (syncs shared). */
void virtual_mailbox_deliver(struct agent_delivery *d, size_t i);

#endif
