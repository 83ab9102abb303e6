/* imap_address.h: address lists read the way IMAP's ENVELOPE presents
 * them (RFC 3501 7.4.2): each address as (name route mailbox domain),
 * groups as a start entry (mailbox = the group's name, domain NIL) and
 * an end entry (all NIL).
 *
 * Unlike message/addrlist (which refuses a list it cannot read, for
 * sendmail -t), this never fails: it follows Dovecot's lenient reading,
 * so that clients see what they saw from Dovecot. What is missing is
 * filled in with Dovecot's markers: MISSING_MAILBOX, MISSING_DOMAIN,
 * SYNTAX_ERROR (a broken <angle address>), INVALID_ROUTE. A "user@host
 * (Name)" comment becomes the name. Reading stops at the first thing
 * that is not an address or a comma; what was read stays. */
#ifndef POSTERN_IMAP_ADDRESS_H
#define POSTERN_IMAP_ADDRESS_H

#include <stddef.h>

#include "base/buf.h"

#define IMAP_ADDRESS_MAX 10000 /* addresses read from one header */

struct imap_address {
    char *name, *route, *mailbox, *domain; /* NULL is NIL */
};

struct imap_address_list {
    struct imap_address *items;
    size_t count, cap;
};

void imap_address_list_init(struct imap_address_list *list);
void imap_address_list_free(struct imap_address_list *list);
/* Appends the addresses of one header value (folding allowed). */
void imap_address_parse(struct imap_address_list *list, const char *text,
                        size_t len);
/* Appends the list as ENVELOPE writes it: NIL when empty, else
 * "((name route mailbox domain)...)". */
void imap_address_write(struct buf *out,
                        const struct imap_address_list *list);

#endif
