/* resolve.h: where does a recipient go? Postfix's trivial-rewrite
 * "resolve", as a library call for smtpd (RCPT checks) and qmgr
 * (routing). See docs/addressing.md.
 *
 * resolve_address() takes an address in canonical form (see rewrite.h)
 * and returns its address class, the transport and next hop, and the
 * final recipient, which can differ from the input: every instance of a
 * local domain is stripped from the right and routing operators inside
 * are then honoured, as Postfix does:
 *
 *   user@ours               -> user@ours
 *   user%other@ours         -> user@other      (allow_percent_hack = yes)
 *   other!user@ours         -> user@other      (swap_bangpath = yes)
 *   user@other@ours         -> user@other      (quoted or not)
 *   @ours:user@other        -> user@other      (source route dropped)
 *   user%other@virtual.dom  -> unchanged, flag RESOLVE_FLAG_ROUTED
 *
 * Only local domains (mydestination and our literals) are stripped, so a
 * trick through a virtual or relay domain keeps its operators and gets
 * RESOLVE_FLAG_ROUTED. The resolved recipient decides the class, so a
 * trick aimed at a foreign domain resolves to that foreign domain: the
 * default class, which reject_unauth_destination refuses. A recipient
 * whose local part still holds '@', '!' or '%' is flagged ROUTED whatever
 * swap_bangpath and allow_percent_hack say (the next hop may honour
 * them); with allow_untrusted_routing = no (the default) such a
 * recipient is never an authorised destination (recipient_check.h).
 *
 * Classes and transports:
 *   local    domain in mydestination, or [literal] of inet_interfaces /
 *            proxy_interfaces: $local_transport (local:$myhostname),
 *            next hop the domain unless the transport names one;
 *   alias    virtual_alias_domains: error:User unknown in virtual alias
 *            table (addresses there are rewritten by virtual_alias_maps
 *            before routing; what is left is unknown);
 *   virtual  virtual_mailbox_domains: $virtual_transport, next hop the
 *            domain;
 *   relay    relay_domains: $relay_transport, next hop $relayhost (or
 *            the sender's, resolve_address_sender) or the domain;
 *   default  everything else: $default_transport, next hop $relayhost
 *            (or the sender's) or the domain.
 * A "transport:nexthop" setting names the next hop; then transport_maps
 * (except for the alias class) may override both: lookups of
 * user+ext@domain, user@domain, domain, the parent domains (".parent", or
 * "parent" when transport_maps is in parent_domain_matches_subdomains),
 * then "*". A result "transport:" resets the next hop to the domain
 * ("error:" to "Address is undeliverable"), ":nexthop" keeps the
 * transport. error: and discard: are transports like any other; the next
 * hop of error: is the bounce reason.
 *
 * Table errors anywhere are temporary failures: resolve_address returns
 * -1, never a guess. */
#ifndef POSTERN_RESOLVE_H
#define POSTERN_RESOLVE_H

#include "base/buf.h"
#include "routing/rewrite.h"

struct resolve_settings {
    const char *virtual_alias_domains;
    const char *virtual_mailbox_domains;
    const char *relay_domains;
    const char *parent_domain_matches_subdomains;
    const char *local_transport;
    const char *virtual_transport;
    const char *relay_transport;
    const char *default_transport;
    const char *relayhost;
    const char *transport_maps;
    const char *sender_dependent_relayhost_maps;
    const char *empty_address_relayhost_maps_lookup_key;
    const char *empty_address_recipient;
    int resolve_numeric_domain;
    int resolve_null_domain;
    int show_user_unknown_table_name;
};

/* Fills s from the configuration (strings valid until config_load). */
void resolve_settings_from_config(struct resolve_settings *s);

struct resolver;

/* Opens the lists and tables. `rw` supplies the local domains,
 * $myhostname, recipient_delimiter, swap_bangpath and allow_percent_hack;
 * it must outlive the resolver. NULL with err set when a list names an
 * unreadable /file. */
struct resolver *resolve_open(const struct resolve_settings *s,
                              struct rewrite *rw, struct buf *err);
void resolve_close(struct resolver *r);

enum resolve_class {
    RESOLVE_CLASS_LOCAL,
    RESOLVE_CLASS_ALIAS,
    RESOLVE_CLASS_VIRTUAL,
    RESOLVE_CLASS_RELAY,
    RESOLVE_CLASS_DEFAULT
};

/* Flags in resolve_result.flags. */
#define RESOLVE_FLAG_ROUTED 0x01 /* the local part routes further */
#define RESOLVE_FLAG_ERROR                                                     \
    0x02 /* the domain is malformed: transport is                              \
            error:, next hop "5.1.3 bad address                                \
            syntax", class default */

struct resolve_result {
    enum resolve_class addr_class;
    unsigned flags;
    struct buf transport; /* "local", "virtual", "smtp", "error", ... */
    struct buf nexthop;   /* host, domain, or error text */
    struct buf recipient; /* final recipient, internal form */
};

void resolve_result_init(struct resolve_result *res);
void resolve_result_free(struct resolve_result *res);

/* Resolves address (internal, canonical form; "" is the null recipient,
 * resolved as $empty_address_recipient@$myhostname). Returns 0 with res
 * filled, or -1 on a temporary failure (a table lookup error), logged. */
int resolve_address(struct resolver *r, const char *address,
                    struct resolve_result *res);

/* The same for mail from sender (internal form; "" is the null
 * sender): sender_dependent_relayhost_maps, searched by the sender in
 * Postfix's mail_addr_find order (user+ext@domain, user@domain, user for
 * a local domain, @domain; the null sender by
 * empty_address_relayhost_maps_lookup_key, default "<>"), overrides
 * relayhost for the relay and default classes; a result "DUNNO" keeps
 * relayhost. A next hop in relay_transport/default_transport
 * ("smtp:[host]") and transport_maps still win, as in Postfix. sender
 * NULL: as resolve_address. -1 on a table error. */
int resolve_address_sender(struct resolver *r, const char *address,
                           const char *sender, struct resolve_result *res);

/* "local", "alias", "virtual", "relay", "default". */
const char *resolve_class_name(enum resolve_class c);

#endif
