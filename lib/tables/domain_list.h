/* domain_list.h: lists of domains as Postfix's main.cf has them
 * (mydestination, relay_domains, virtual_alias_domains, ...).
 *
 * Each item of the list is one of:
 *   example.com     the domain itself (case does not matter);
 *   .example.com    any subdomain of example.com (DOMAIN_LIST_HOST only);
 *   type:table      the domain is looked up as a key (any value matches);
 *   /file/name      a file of more items, separated by white space or
 *                   commas, `#` comments (read when the list is opened);
 *   !item           a negation: a match ends the search with "no".
 * The first item that matches decides, as in Postfix's match lists.
 *
 * Two flavours, as in Postfix: DOMAIN_LIST_STRING (string_list:
 * mydestination, virtual_*_domains) compares whole names only;
 * DOMAIN_LIST_HOST (domain_list: relay_domains) also accepts
 * `.example.com` patterns, and with DOMAIN_LIST_PARENT (the list is named
 * in parent_domain_matches_subdomains) `example.com` matches its
 * subdomains too. For table items a host list looks up the name and then
 * its parents ("sub.example.com", then ".example.com" or, with
 * DOMAIN_LIST_PARENT, "example.com"); pattern tables only see the name. */
#ifndef POSTERN_DOMAIN_LIST_H
#define POSTERN_DOMAIN_LIST_H

#include "base/buf.h"

#define DOMAIN_LIST_STRING 0x00
#define DOMAIN_LIST_HOST 0x01
#define DOMAIN_LIST_PARENT 0x02

struct domain_list;

/* Parses `value` (a Postfix list). `title` names the parameter in log
 * lines and must outlive the list. Returns the list, or NULL with the
 * reason in err when a /file item cannot be read (the caller decides:
 * daemons stop with a clear message, as Postfix does). Tables that cannot
 * be opened fail their lookups instead (see maps.h). */
struct domain_list *domain_list_open(const char *title, const char *value,
                                     unsigned flags, struct buf *err);

/* 1 when domain matches, 0 when not, -1 when a table lookup failed
 * (temporary: the caller defers). A trailing dot is not stripped here. */
int domain_list_match(struct domain_list *list, const char *domain);

/* True when the list has no items. */
int domain_list_empty(const struct domain_list *list);

void domain_list_free(struct domain_list *list);

/* Whether `name` is listed in the parent_domain_matches_subdomains value
 * `setting` (a Postfix list of parameter names). */
int domain_list_parent_style(const char *setting, const char *name);

#endif
