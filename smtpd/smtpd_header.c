/* smtpd_header.c: header address rewriting, as Postfix's cleanup does it
 * (there is no cleanup daemon: smtpd rewrites while it writes the queue
 * file). See docs/addressing.md, "Header addresses".
 *
 * The address headers Postfix rewrites (From, Sender, Reply-To, To, Cc,
 * Bcc, Apparently-To, the Resent- ones, Return-Receipt-To, Errors-To,
 * Disposition-Notification-To, Mail-Followup-To) are held one field at a
 * time while the rest of the message streams (smtpd_data.c), and each is
 * rewritten by lib/header_rewrite, which qmgr's requeue step shares.
 * This file decides the client's rewriting context
 * (local_header_rewrite_clients), which the queue file keeps in its
 * rewrite_context attribute so a requeued message is rewritten in the
 * same context, as Postfix does. */
#include "smtpd.h"

#include <string.h>

#include "config.h"
#include "header_rewrite.h"
#include "local_domain.h"
#include "log.h"
#include "rewrite.h"
#include "str.h"

static struct strlist local_clients;   /* local_header_rewrite_clients */
static struct local_domain *own_addrs; /* permit_inet_interfaces */
static int remote_rewrite;             /* remote_header_rewrite_domain set */

void smtpd_header_init(void)
{
    struct buf err = BUF_INIT;
    strlist_init(&local_clients);
    cfg_list("local_header_rewrite_clients", &local_clients);
    remote_rewrite = *cfg_str("remote_header_rewrite_domain") != 0;
    own_addrs = local_domain_open("", cfg_str("inet_interfaces"),
                                  cfg_str("proxy_interfaces"), &err);
    if (own_addrs == NULL)
        log_warn("local_header_rewrite_clients: %s", buf_cstr(&err));
    for (size_t i = 0; i < local_clients.count; i++) {
        const char *w = local_clients.items[i];
        if (strcmp(w, "permit_inet_interfaces") != 0 &&
            strcmp(w, "permit_mynetworks") != 0 && strcmp(w, "static:all") != 0)
            log_warn("local_header_rewrite_clients: unsupported \"%s\" "
                     "ignored",
                     w);
    }
    buf_free(&err);
}

int smtpd_header_context(const struct smtpd_session *s)
{
    /* Local submission (sendmail) is always local, as pickup is. */
    if (s->local)
        return REWRITE_LOCAL;
    for (size_t i = 0; i < local_clients.count; i++) {
        const char *w = local_clients.items[i];
        if (strcmp(w, "static:all") == 0)
            return REWRITE_LOCAL;
        if (strcmp(w, "permit_mynetworks") == 0 && s->trusted)
            return REWRITE_LOCAL;
        if (strcmp(w, "permit_inet_interfaces") == 0 && own_addrs) {
            struct buf lit = BUF_INIT;
            buf_appendf(&lit, "[%s%s]", strchr(s->addr, ':') ? "IPv6:" : "",
                        s->addr);
            int own = local_domain_is_own_literal(own_addrs, lit.data);
            buf_free(&lit);
            if (own)
                return REWRITE_LOCAL;
        }
    }
    /* Postfix leaves remote headers alone when there is no domain. */
    return remote_rewrite ? REWRITE_REMOTE : -1;
}

int smtpd_header_is_address(const char *line, size_t len)
{
    return header_rewrite_is_address(line, len);
}

int smtpd_header_rewrite(const char *field, size_t len, int sender, int context,
                         unsigned flags, struct buf *out, struct buf *why)
{
    return header_rewrite_field(smtpd_rewriter(), field, len, sender, context,
                                flags, out, why);
}
