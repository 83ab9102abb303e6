/* netmatch.h: Postfix "host or network" lists, as in mynetworks and
 * smtpd_forbid_bare_newline_exclusions.
 *
 * An item is a network in CIDR notation (10.0.0.0/8, [2001:db8::]/32,
 * with or without brackets), a single address (192.0.2.1, [::1]), a
 * host name or domain (matching the client's verified name and, as
 * Postfix's parent_domain_matches_subdomains does, its subdomains; a
 * leading dot matches subdomains only), or a `type:table` looked up with
 * the address and then the name. `!item` negates: the first item that
 * matches decides, and a negated one decides "no". A malformed item is
 * logged once and never matches. */
#ifndef POSTERN_NETMATCH_H
#define POSTERN_NETMATCH_H

#include "tables/dict.h"
#include "base/str.h"

struct netlist;

/* Builds a list from items (as cfg_list gives them); `what` names it in
 * warnings ("mynetworks"). Never NULL. */
struct netlist *netlist_new(const char *what, const struct strlist *items);
void netlist_free(struct netlist *list);

/* Matches a client: addr is its textual IP address ("192.0.2.1",
 * "2001:db8::1"; no brackets), name its verified host name or "unknown".
 * DICT_FOUND on a match, DICT_NOTFOUND, or DICT_ERROR when a table
 * lookup failed before anything matched (the caller defers). */
enum dict_result netlist_match(struct netlist *list, const char *name,
                               const char *addr);

/* Parses "addr" or "addr/len" (optional brackets) into a family, 16
 * address bytes and a prefix length: 0, or -1 when malformed. Exposed
 * for tests and the fuzz target. */
int netmatch_parse_cidr(const char *text, int *family, unsigned char addr[16],
                        unsigned *prefix);

#endif
