/* smtpd_header.c: which header address rewriting applies to a session,
 * and the glue to the rewriting itself (there is no cleanup daemon:
 * smtpd rewrites while it writes the queue file). See
 * docs/addressing.md, "Header addresses".
 *
 * The text work (finding each address in a field and replacing it where
 * it stands) is lib/message/header_rewrite; the address mapping is lib/routing/rewrite
 * (canonical form in the client's context, then the canonical maps for
 * the header_sender or header_recipient class). What is decided here is
 * the context: local (local_header_rewrite_clients, or local
 * submission), remote (remote_header_rewrite_domain set), or none. */
#include "smtpd.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "message/header_rewrite.h"
#include "routing/local_domain.h"
#include "base/log.h"
#include "base/mem.h"
#include "routing/rewrite.h"
#include "base/str.h"

static struct restriction_client_list local_clients;
static struct local_domain *own_addrs; /* permit_inet_interfaces */
static int remote_rewrite;             /* remote_header_rewrite_domain set */

void smtpd_header_init(void)
{
    struct buf err = BUF_INIT;
    struct strlist words;
    strlist_init(&words);
    cfg_list("local_header_rewrite_clients", &words);
    /* Once per process, at start: a list entry we do not understand is
     * a configuration mistake the administrator must hear about, but
     * not once per session. */
    if (restriction_client_list_parse(&words, &local_clients, &err) > 0)
        log_warn("local_header_rewrite_clients: %s (understood: "
                 "permit_inet_interfaces, permit_mynetworks, "
                 "permit_sasl_authenticated, permit_tls_clientcerts, "
                 "permit_tls_all_clientcerts, check_address_map type:table, "
                 "type:table)",
                 buf_cstr(&err));
    strlist_free(&words);
    buf_reset(&err);
    remote_rewrite = *cfg_str("remote_header_rewrite_domain") != 0;
    own_addrs = local_domain_open("", cfg_str("inet_interfaces"),
                                  cfg_str("proxy_interfaces"), &err);
    if (own_addrs == NULL)
        log_warn("local_header_rewrite_clients: %s", buf_cstr(&err));
    /* Open the tables now, so a table that cannot be opened is logged
     * at start rather than at the first client. */
    for (size_t i = 0; i < local_clients.count; i++)
        if (local_clients.items[i].table)
            smtpd_table_open(local_clients.items[i].table);
    buf_free(&err);
}

/* Whether one list entry matches this client: 1, 0, or -1 (table
 * error). */
static int client_matches(const struct smtpd_session *s,
                          const struct restriction_client *c)
{
    switch (c->kind) {
    case RESTR_CLIENT_MYNETWORKS:
        return s->trusted;
    case RESTR_CLIENT_SASL_AUTHENTICATED:
        /* The flag AUTH will set; there is no SASL yet, so it is 0. */
        return s->sasl_authenticated;
    case RESTR_CLIENT_TLS_CLIENTCERTS:
    case RESTR_CLIENT_TLS_ALL_CLIENTCERTS:
        return 0; /* no TLS yet: no client certificates */
    case RESTR_CLIENT_INET_INTERFACES: {
        if (own_addrs == NULL)
            return 0;
        struct buf lit = BUF_INIT;
        buf_appendf(&lit, "[%s%s]", strchr(s->addr, ':') ? "IPv6:" : "",
                    s->addr);
        int own = local_domain_is_own_literal(own_addrs, lit.data);
        buf_free(&lit);
        return own;
    }
    case RESTR_CLIENT_ADDRESS_MAP: {
        /* Postfix: the client address alone, no subnets; the value is
         * ignored (pop-before-smtp tables and the like). */
        struct buf value = BUF_INIT;
        enum dict_result r = smtpd_table_lookup(c->table, s->addr, &value);
        buf_free(&value);
        return r == DICT_FOUND ? 1 : r == DICT_ERROR ? -1 : 0;
    }
    }
    return 0;
}

int smtpd_header_context(struct smtpd_session *s, const char *sender)
{
    /* Local submission (sendmail) is always local, as pickup is. */
    if (s->local)
        return REWRITE_LOCAL;
    for (size_t i = 0; i < local_clients.count; i++) {
        int m = client_matches(s, &local_clients.items[i]);
        if (m > 0)
            return REWRITE_LOCAL;
        if (m < 0) {
            /* As Postfix: a temporary failure, never "not local". */
            log_warn("local_header_rewrite_clients: %s: lookup of %s "
                     "failed",
                     local_clients.items[i].table, s->addr);
            smtpd_log_event(s, "MAIL", "reject", sender, NULL,
                            "451 4.3.0 Temporary lookup error");
            smtpd_error_reply(s, "451 4.3.0 Temporary lookup error");
            return SMTPD_HEADER_ERROR;
        }
    }
    /* Postfix leaves remote headers alone when there is no domain. */
    return remote_rewrite ? REWRITE_REMOTE : -1;
}

int smtpd_header_is_address(const char *line, size_t len)
{
    return header_rewrite_class(line, len);
}

struct header_glue {
    int sender;
    int context;
};

static int rewrite_one(void *ctx, const char *address, struct buf *out,
                       struct buf *why)
{
    const struct header_glue *g = ctx;
    return rewrite_header_address(smtpd_rewriter(), address, g->sender,
                                  g->context, out, why);
}

int smtpd_header_rewrite(const char *field, size_t len, int sender, int context,
                         unsigned flags, struct buf *out, struct buf *why)
{
    struct header_glue g = {sender, context};
    int rc = header_rewrite_field(field, len, flags, HEADER_SIZE_LIMIT,
                                  rewrite_one, &g, out, why);
    if (rc == 0 && why->len > 0) {
        size_t n = header_name_length(field, len);
        log_warn("header %.*s: %s", (int)n, field, buf_cstr(why));
        buf_reset(why);
    }
    return rc;
}
