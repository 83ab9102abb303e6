/* table_check.h: what `postern check` says about the lookup tables and
 * network lists a configuration names, before any daemon opens them.
 *
 * Daemons never die on a table: one that cannot be opened becomes a
 * table that fails every lookup (lib/tables/maps.h), so mail defers. That
 * keeps mail safe but lets a typo live until mail starts deferring. This
 * module finds those typos up front: for one parameter's value it opens
 * every `type:name` item of a list parameter (DICT_FLAG_STRICT, so a
 * missing file, an unreadable one or a malformed line of a cidr, regexp,
 * pcre or texthash table is an error), reports a `word:name` item whose
 * type is not a table type (`hsh:/etc/x`), and, for the host-or-network
 * lists (mynetworks and the like), reports an address or CIDR item that
 * does not parse (netlist_new would log it and never match it). */
#ifndef POSTERN_TABLE_CHECK_H
#define POSTERN_TABLE_CHECK_H

#include "base/str.h"

/* Checks `value` (expanded) of parameter `name`; each problem is added
 * to problems as "WHERE: NAME: why" (where says where the setting is,
 * e.g. "/etc/postern/main.cf, line 12"). Returns the number added. */
int table_check_value(const char *where, const char *name, const char *value,
                      struct strlist *problems);

/* 1 when name is a host-or-network list (mynetworks, ...). */
int table_check_is_netlist(const char *name);

#endif
