/* resolve.c: address classes and transports (see resolve.h and
 * docs/addressing.md). */
#include "routing/resolve.h"

#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "config/config.h"
#include "tables/domain_list.h"
#include "base/log.h"
#include "tables/maps.h"
#include "base/mem.h"

/* Longest address we resolve; longer input resolves as malformed. */
#define RESOLVE_ADDRESS_MAX 4096
#define RESOLVE_BAD_SYNTAX "5.1.3 bad address syntax"
#define RESOLVE_ERROR_DEFAULT "Address is undeliverable"

struct resolver {
    struct rewrite *rw;
    struct domain_list *alias_domains, *mailbox_domains, *relay_domains;
    struct maps *transport_maps;
    struct maps *sender_relayhost_maps; /* sender_dependent_relayhost_maps */
    char *empty_sender_key;             /* its key for the null sender */
    int transport_parent_style;
    char *local_transport, *virtual_transport, *relay_transport,
        *default_transport, *relayhost, *empty_address_recipient;
    int numeric_domain, null_domain, show_table;
};

void resolve_settings_from_config(struct resolve_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->virtual_alias_domains = cfg_str("virtual_alias_domains");
    s->virtual_mailbox_domains = cfg_str("virtual_mailbox_domains");
    s->relay_domains = cfg_str("relay_domains");
    s->parent_domain_matches_subdomains =
        cfg_str("parent_domain_matches_subdomains");
    s->local_transport = cfg_str("local_transport");
    s->virtual_transport = cfg_str("virtual_transport");
    s->relay_transport = cfg_str("relay_transport");
    s->default_transport = cfg_str("default_transport");
    s->relayhost = cfg_str("relayhost");
    s->transport_maps = cfg_str("transport_maps");
    s->sender_dependent_relayhost_maps =
        cfg_str("sender_dependent_relayhost_maps");
    s->empty_address_relayhost_maps_lookup_key =
        cfg_str("empty_address_relayhost_maps_lookup_key");
    s->empty_address_recipient = cfg_str("empty_address_recipient");
    s->resolve_numeric_domain = cfg_bool("resolve_numeric_domain");
    s->resolve_null_domain = cfg_bool("resolve_null_domain");
    s->show_user_unknown_table_name = cfg_bool("show_user_unknown_table_name");
}

static char *dup_or(const char *s, const char *fallback)
{
    return xstrdup(s ? s : fallback);
}

struct resolver *resolve_open(const struct resolve_settings *s,
                              struct rewrite *rw, struct buf *err)
{
    struct resolver *r = xcalloc(1, sizeof(*r));
    r->rw = rw;
    const char *parent = s->parent_domain_matches_subdomains
                             ? s->parent_domain_matches_subdomains
                             : "";
    unsigned relay_flags = DOMAIN_LIST_HOST;
    if (domain_list_parent_style(parent, "relay_domains"))
        relay_flags |= DOMAIN_LIST_PARENT;
    r->transport_parent_style =
        domain_list_parent_style(parent, "transport_maps");
    r->alias_domains =
        domain_list_open("virtual_alias_domains", s->virtual_alias_domains,
                         DOMAIN_LIST_STRING, err);
    if (r->alias_domains)
        r->mailbox_domains = domain_list_open("virtual_mailbox_domains",
                                              s->virtual_mailbox_domains,
                                              DOMAIN_LIST_STRING, err);
    if (r->mailbox_domains)
        r->relay_domains = domain_list_open("relay_domains", s->relay_domains,
                                            relay_flags, err);
    if (r->relay_domains == NULL) {
        resolve_close(r);
        return NULL;
    }
    r->transport_maps = maps_open("transport_maps", s->transport_maps, 0);
    /* No $N from a regular expression: the sender is not trusted (as in
     * Postfix). */
    r->sender_relayhost_maps =
        maps_open("sender_dependent_relayhost_maps",
                  s->sender_dependent_relayhost_maps ?
                      s->sender_dependent_relayhost_maps : "",
                  DICT_FLAG_NO_REGSUB);
    r->empty_sender_key =
        dup_or(s->empty_address_relayhost_maps_lookup_key, "<>");
    r->local_transport = dup_or(s->local_transport, "local");
    r->virtual_transport = dup_or(s->virtual_transport, "virtual");
    r->relay_transport = dup_or(s->relay_transport, "relay");
    r->default_transport = dup_or(s->default_transport, "smtp");
    r->relayhost = dup_or(s->relayhost, "");
    r->empty_address_recipient =
        dup_or(s->empty_address_recipient, "MAILER-DAEMON");
    r->numeric_domain = s->resolve_numeric_domain;
    r->null_domain = s->resolve_null_domain;
    r->show_table = s->show_user_unknown_table_name;
    return r;
}

void resolve_close(struct resolver *r)
{
    if (r == NULL)
        return;
    domain_list_free(r->alias_domains);
    domain_list_free(r->mailbox_domains);
    domain_list_free(r->relay_domains);
    maps_close(r->transport_maps);
    maps_close(r->sender_relayhost_maps);
    free(r->empty_sender_key);
    free(r->local_transport);
    free(r->virtual_transport);
    free(r->relay_transport);
    free(r->default_transport);
    free(r->relayhost);
    free(r->empty_address_recipient);
    free(r);
}

void resolve_result_init(struct resolve_result *res)
{
    memset(res, 0, sizeof(*res));
    buf_init(&res->transport);
    buf_init(&res->nexthop);
    buf_init(&res->recipient);
}

void resolve_result_free(struct resolve_result *res)
{
    buf_free(&res->transport);
    buf_free(&res->nexthop);
    buf_free(&res->recipient);
}

const char *resolve_class_name(enum resolve_class c)
{
    switch (c) {
    case RESOLVE_CLASS_LOCAL:
        return "local";
    case RESOLVE_CLASS_ALIAS:
        return "alias";
    case RESOLVE_CLASS_VIRTUAL:
        return "virtual";
    case RESOLVE_CLASS_RELAY:
        return "relay";
    case RESOLVE_CLASS_DEFAULT:
        return "default";
    }
    return "default";
}

/* Applies one transport table value "transport:nexthop" (Postfix's
 * transport(5) rules for empty halves). */
static void transport_update(const char *value, const char *rcpt_domain,
                             struct buf *transport, struct buf *nexthop)
{
    const char *colon = strchr(value, ':');
    size_t channel_len = colon ? (size_t)(colon - value) : strlen(value);
    const char *host = colon ? colon + 1 : "";
    if (channel_len == 0) {
        if (*host)
            buf_set_str(nexthop, host);
        return;
    }
    buf_set(transport, value, channel_len);
    if (*host)
        buf_set_str(nexthop, host);
    else if (strcmp(transport->data, "error") == 0)
        buf_set_str(nexthop, RESOLVE_ERROR_DEFAULT);
    else
        buf_set_str(nexthop, rcpt_domain);
}

/* transport_maps: 1 found (applied), 0 not found, -1 error. */
static int transport_lookup(struct resolver *r, const char *recipient,
                            const char *rcpt_domain, struct buf *transport,
                            struct buf *nexthop)
{
    if (maps_empty(r->transport_maps))
        return 0;
    struct buf value = BUF_INIT, local = BUF_INIT, base = BUF_INIT,
               ext = BUF_INIT, key = BUF_INIT;
    enum dict_result found = maps_find(r->transport_maps, recipient, 0, &value);
    if (found == DICT_NOTFOUND && *rewrite_delimiters(r->rw)) {
        address_split(recipient, &local, NULL);
        if (address_split_delimiter(local.data, rewrite_delimiters(r->rw),
                                    &base, &ext, NULL)) {
            buf_set(&key, base.data, base.len);
            buf_append_char(&key, '@');
            buf_append_str(&key, rcpt_domain);
            found =
                maps_find(r->transport_maps, key.data, MAPS_FIXED_ONLY, &value);
        }
    }
    for (const char *name = rcpt_domain; found == DICT_NOTFOUND && *name;) {
        found = maps_find(r->transport_maps, name, MAPS_FIXED_ONLY, &value);
        const char *next = strchr(name + 1, '.');
        if (next == NULL)
            break;
        name = r->transport_parent_style ? next + 1 : next;
    }
    if (found == DICT_NOTFOUND)
        found = maps_find(r->transport_maps, "*", MAPS_FIXED_ONLY, &value);
    if (found == DICT_FOUND)
        transport_update(value.data, rcpt_domain, transport, nexthop);
    buf_free(&value);
    buf_free(&local);
    buf_free(&base);
    buf_free(&ext);
    buf_free(&key);
    return found == DICT_FOUND ? 1 : found == DICT_NOTFOUND ? 0 : -1;
}

/* The stripping loop: strips local domains from the right and honours
 * routing operators in what is left, until the address is remote or has
 * no domain left. Returns 1 (remote: work is the address), 0 (local:
 * work is the local part, saved the domain, maybe empty), 2 (malformed),
 * or -1 (table error). */
static int resolve_strip(struct resolver *r, struct buf *work,
                         struct buf *saved)
{
    struct buf canon = BUF_INIT;
    size_t loop_max = work->len + 100;
    int status = 0;
    for (size_t loop = 0;; loop++) {
        if (loop > loop_max) {
            log_warn("resolve_address: <%s>: giving up after %zu iterations",
                     work->data, loop);
            status = 2;
            break;
        }
        char *at = strrchr(work->data, '@');
        /* One trailing dot of the domain, but not ".." or "@.". */
        if (at && work->len >= 2 && work->data[work->len - 1] == '.' &&
            work->data[work->len - 2] != '.' &&
            work->data[work->len - 2] != '@')
            buf_truncate(work, work->len - 1);
        if (at && at[1] == 0) {
            if (!r->null_domain) {
                status = 2; /* user@ */
                break;
            }
            buf_truncate(work, work->len - 1);
            at = strrchr(work->data, '@');
        }
        if (at) {
            int local = rewrite_local_domain(r->rw, at + 1);
            if (local < 0) {
                status = -1;
                break;
            }
            if (local == 0) {
                status = 1;
                break;
            }
            buf_set_str(saved, at + 1);
            buf_truncate(work, (size_t)(at - work->data));
        }
        if (strchr(work->data, '@') ||
            (rewrite_swap_bangpath(r->rw) && strchr(work->data, '!')) ||
            (rewrite_percent_hack(r->rw) && strchr(work->data, '%'))) {
            rewrite_canonical_form(r->rw, work->data, REWRITE_LOCAL, &canon);
            buf_set(work, canon.data, canon.len);
            continue;
        }
        if (work->len == 0)
            buf_set_str(work, r->empty_address_recipient);
        status = 0;
        break;
    }
    buf_free(&canon);
    return status;
}

/* The relayhost for mail from sender: sender_dependent_relayhost_maps
 * by the address (Postfix's mail_addr_find order: rewrite_addr_find),
 * the null sender by its own key; "DUNNO" ends the search with no
 * override. Returns 1 with the value in out, 0 for none, -1 on a table
 * error. */
static int sender_relayhost(struct resolver *r, const char *sender,
                            struct buf *out)
{
    if (sender == NULL || maps_empty(r->sender_relayhost_maps))
        return 0;
    enum dict_result found;
    if (*sender == '\0')
        found = maps_find(r->sender_relayhost_maps, r->empty_sender_key, 0,
                          out);
    else
        found = rewrite_addr_find(r->rw, r->sender_relayhost_maps, sender,
                                  out, NULL);
    if (found == DICT_ERROR) {
        log_warn("sender_dependent_relayhost_maps lookup failure for <%s>",
                 sender);
        return -1;
    }
    if (found == DICT_NOTFOUND || str_equal_nocase(buf_cstr(out), "DUNNO"))
        return 0;
    return out->len > 0;
}

static int resolve_for(struct resolver *r, const char *address,
                       const char *sender, struct resolve_result *res);

int resolve_address(struct resolver *r, const char *address,
                    struct resolve_result *res)
{
    return resolve_for(r, address, NULL, res);
}

int resolve_address_sender(struct resolver *r, const char *address,
                           const char *sender, struct resolve_result *res)
{
    return resolve_for(r, address, sender, res);
}

static int resolve_for(struct resolver *r, const char *address,
                       const char *sender, struct resolve_result *res)
{
    res->flags = 0;
    res->addr_class = RESOLVE_CLASS_DEFAULT;
    buf_reset(&res->transport);
    buf_reset(&res->nexthop);
    struct buf work = BUF_INIT, saved = BUF_INIT;
    int status;
    if (strlen(address) > RESOLVE_ADDRESS_MAX) {
        buf_set(&work, address, 100);
        status = 2;
    } else {
        /* A source route is dropped before anything else. */
        if (address[0] == '@' && strchr(address, ':'))
            address = strchr(address, ':') + 1;
        buf_set_str(&work, address);
        if (work.len == 0)
            buf_set_str(&work, r->empty_address_recipient);
        status = resolve_strip(r, &work, &saved);
    }
    if (status < 0) {
        buf_free(&work);
        buf_free(&saved);
        return -1;
    }
    int remote = status == 1;
    if (status == 0) {
        buf_append_char(&work, '@');
        buf_append_str(&work,
                       saved.len ? saved.data : rewrite_myhostname(r->rw));
    }
    buf_set(&res->recipient, work.data, work.len);
    buf_free(&work);
    buf_free(&saved);

    const char *at = strrchr(res->recipient.data, '@');
    const char *rcpt_domain = at ? at + 1 : "";
    if (status == 2 || at == NULL) {
        res->flags |= RESOLVE_FLAG_ERROR;
    } else if (rcpt_domain[0] == '[') {
        if (!address_valid_literal(rcpt_domain))
            res->flags |= RESOLVE_FLAG_ERROR;
    } else if (!address_valid_hostname(rcpt_domain, ADDRESS_FLAG_UTF8)) {
        if (r->numeric_domain && address_valid_ip(rcpt_domain)) {
            /* user@192.0.2.1 -> user@[192.0.2.1] */
            size_t pos = (size_t)(rcpt_domain - res->recipient.data);
            struct buf literal = BUF_INIT;
            buf_append(&literal, res->recipient.data, pos);
            buf_append_str(&literal, strchr(rcpt_domain, ':') ? "[IPv6:" : "[");
            buf_append_str(&literal, rcpt_domain);
            buf_append_char(&literal, ']');
            buf_set(&res->recipient, literal.data, literal.len);
            buf_free(&literal);
            rcpt_domain = strrchr(res->recipient.data, '@') + 1;
            int local = rewrite_local_domain(r->rw, rcpt_domain);
            if (local < 0)
                return -1;
            if (local > 0)
                remote = 0;
        } else {
            res->flags |= RESOLVE_FLAG_ERROR;
        }
    }
    if (res->flags & RESOLVE_FLAG_ERROR) {
        res->addr_class = RESOLVE_CLASS_DEFAULT;
        buf_set_str(&res->transport, "error");
        buf_set_str(&res->nexthop, RESOLVE_BAD_SYNTAX);
        return 0;
    }

    /* Routing operators left in the local part, whatever we would do with
     * them: the next hop may honour them. */
    size_t first_op = strcspn(res->recipient.data, "@!%");
    if (res->recipient.data + first_op != at)
        res->flags |= RESOLVE_FLAG_ROUTED;

    int m;
    if (!remote) {
        res->addr_class = RESOLVE_CLASS_LOCAL;
        buf_set_str(&res->transport, r->local_transport);
        buf_set_str(&res->nexthop, rcpt_domain);
    } else if ((m = domain_list_match(r->alias_domains, rcpt_domain)) != 0) {
        if (m < 0)
            return -1;
        res->addr_class = RESOLVE_CLASS_ALIAS;
        buf_set_str(&res->transport, "error");
        buf_set_str(&res->nexthop, r->show_table
                                       ? "User unknown in virtual alias table"
                                       : "User unknown");
    } else if ((m = domain_list_match(r->mailbox_domains, rcpt_domain)) != 0) {
        if (m < 0)
            return -1;
        res->addr_class = RESOLVE_CLASS_VIRTUAL;
        buf_set_str(&res->transport, r->virtual_transport);
        buf_set_str(&res->nexthop, rcpt_domain);
    } else {
        if ((m = domain_list_match(r->relay_domains, rcpt_domain)) < 0)
            return -1;
        res->addr_class = m ? RESOLVE_CLASS_RELAY : RESOLVE_CLASS_DEFAULT;
        buf_set_str(&res->transport,
                    m ? r->relay_transport : r->default_transport);
        struct buf by_sender = BUF_INIT;
        int override = sender_relayhost(r, sender, &by_sender);
        if (override < 0) {
            buf_free(&by_sender);
            return -1;
        }
        const char *relayhost = override ? buf_cstr(&by_sender) : r->relayhost;
        buf_set_str(&res->nexthop, *relayhost ? relayhost : rcpt_domain);
        buf_free(&by_sender);
    }

    /* "transport:nexthop" in main.cf names the next hop. */
    if (res->addr_class != RESOLVE_CLASS_ALIAS) {
        char *colon = strchr(res->transport.data, ':');
        if (colon) {
            if (colon[1])
                buf_set_str(&res->nexthop, colon + 1);
            buf_truncate(&res->transport,
                         (size_t)(colon - res->transport.data));
        }
        if (res->transport.len == 0) {
            log_warn(
                "%s: null transport is not allowed",
                res->addr_class == RESOLVE_CLASS_LOCAL     ? "local_transport"
                : res->addr_class == RESOLVE_CLASS_VIRTUAL ? "virtual_transport"
                : res->addr_class == RESOLVE_CLASS_RELAY   ? "relay_transport"
                                                         : "default_transport");
            return -1;
        }
        if (transport_lookup(r, res->recipient.data, rcpt_domain,
                             &res->transport, &res->nexthop) < 0) {
            log_warn("transport_maps lookup failure for %s",
                     res->recipient.data);
            return -1;
        }
    }
    return 0;
}
