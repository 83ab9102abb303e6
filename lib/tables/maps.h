/* maps.h: a search list of lookup tables, as Postfix's `maps`: the value
 * of a parameter such as `virtual_alias_maps = hash:/a, regexp:/b` opened
 * once and searched in order.
 *
 * A lookup asks each table in turn: the first that finds the key wins;
 * the first that fails (DICT_ERROR) stops the search with an error, so a
 * broken table is never read as "not found" (Postfix's maps_find does the
 * same). A table spec that cannot be opened at all (unknown type, bad
 * inline: syntax) becomes a table that fails every lookup, with the
 * reason logged, so mail defers instead of a daemon dying (Postfix's
 * surrogate tables).
 *
 * `proxy:` in front of a spec is accepted and dropped: Postern has no
 * proxymap service, tables are opened in the process that asks. */
#ifndef POSTERN_MAPS_H
#define POSTERN_MAPS_H

#include "base/buf.h"
#include "tables/dict.h"
#include "base/str.h"

struct maps;

/* Opens every table in the Postfix list `value` ("" gives an empty
 * list). `title` (the parameter name) is used in log lines and must
 * outlive the maps. dict_flags go to dict_open. Never NULL. */
struct maps *maps_open(const char *title, const char *value, int dict_flags);

/* Flags for maps_find. */
#define MAPS_FIXED_ONLY                                                        \
    0x01 /* skip pattern tables (regexp, pcre, cidr):                          \
            partial keys ("user", "@domain") must not                          \
            be matched by regular expressions */

/* Searches the tables for key. DICT_FOUND puts the value in `value`;
 * DICT_ERROR logs once per failing lookup (with the table and title). */
enum dict_result maps_find(struct maps *m, const char *key, unsigned flags,
                           struct buf *value);

/* True when the list names no table. */
int maps_empty(const struct maps *m);
/* The title given to maps_open. */
const char *maps_title(const struct maps *m);
/* Closes every table. NULL is allowed. */
void maps_close(struct maps *m);

/* True for the table types whose keys are patterns, not strings. */
int maps_type_is_pattern(const char *spec);

#endif
