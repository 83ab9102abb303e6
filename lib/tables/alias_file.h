/* alias_file.h: aliases(5) text, as newaliases/postalias read it and as
 * local delivery splits alias values and :include: files.
 *
 * An aliases file holds entries
 *     name: value, value, ...
 * A line that starts with whitespace continues the previous entry; a
 * line whose first non-blank character is `#` is a comment; blank lines
 * are skipped. The name may be double-quoted ("john doe": ...), and is
 * folded to lower case. A value item is an address, `|command`,
 * `/file/name` or `:include:/file/name`; an item in double quotes may
 * hold commas and spaces ("|/usr/bin/vacation -a me"). The input is
 * untrusted text: every line and item is bounded, and a malformed entry
 * stops the parse with "FILE, line N: why" (fuzz/fuzz_aliases.c). */
#ifndef POSTERN_ALIAS_FILE_H
#define POSTERN_ALIAS_FILE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/str.h"

/* Longest entry (name plus value, continuation lines joined). */
#define ALIAS_ENTRY_MAX (1024 * 1024)
/* Longest name. */
#define ALIAS_NAME_MAX 1024

/* Called for each entry: name (lower case, unquoted), value (continuation
 * lines joined with a space, trimmed), line (of the entry's first line).
 * Returns 0 to go on, -1 to stop with the reason in err. */
typedef int (*alias_entry_fn)(void *ctx, const char *name, const char *value,
                              int line, struct buf *err);

/* Parses aliases(5) text of len bytes (need not be NUL-terminated).
 * Returns 0, or -1 with "filename, line N: why" in err: a line without
 * `name:`, an empty name or value, a NUL byte, an unterminated quote, an
 * entry longer than ALIAS_ENTRY_MAX, or a callback failure. */
int alias_file_parse(const char *filename, const char *text, size_t len,
                     alias_entry_fn fn, void *ctx, struct buf *err);

/* Splits an alias value into items: commas outside double quotes
 * separate, whitespace around items is dropped, quotes are removed
 * (a backslash in a quoted item escapes the next character). Empty items
 * are skipped. Appends to out; returns 0, or -1 for an unterminated
 * quote (the items before it are kept). */
int alias_value_split(const char *value, struct strlist *out);

/* Splits the text of a :include: file: lines whose first non-blank
 * character is `#` are comments, the rest are items separated by commas
 * or newlines, as in alias_value_split. Returns 0, or -1 for a NUL byte
 * or an unterminated quote. */
int alias_include_split(const char *text, size_t len, struct strlist *out);

/* Builds the table spec ("hash:/etc/aliases") from its text source
 * (/etc/aliases): a new table, written beside the old one and renamed
 * over it, so readers never see half of it; the new file gets the
 * source's mode. Returns the number of entries, or -1 with err (the old
 * table stays). */
long alias_file_build(const char *spec, struct buf *err);

#endif
