/* dict.h: lookup tables named `type:name`, as in Postfix.
 *
 * One API for every table type: hash: and btree: (Berkeley DB files in
 * Postfix's on-disk form), lmdb:, regexp:, pcre:, cidr:, static:,
 * inline:{...}, texthash:, fail:, and pgsql: and mysql: (Postfix's query
 * files, dict_sql.c). A lookup has three outcomes; a
 * table that cannot be opened or read answers DICT_ERROR (the caller
 * defers), never DICT_NOTFOUND.
 *
 * File-backed tables notice when their file changes (inode, size or
 * mtime, one stat(2) per lookup) and reload it. A table whose file is
 * missing or malformed stays open in a failed state: every lookup
 * answers DICT_ERROR and retries the load once the file changes.
 *
 * Writes (postmap) never modify a table file in place: a new file is
 * built beside it, fsync'ed and renamed over it, so readers only ever
 * see a complete old table or a complete new one. */
#ifndef POSTERN_DICT_H
#define POSTERN_DICT_H

#include <stddef.h>

#include "base/buf.h"
#include "base/str.h"

enum dict_result { DICT_FOUND, DICT_NOTFOUND, DICT_ERROR };

/* Flags for dict_open (bitwise or). */
/* The largest table source read whole (texthash, regexp, pcre, cidr,
 * aliases and postmap input): far above any real table, low enough that
 * a runaway file (or /dev/zero) ends in a clear error. */
#define DICT_SOURCE_MAX_SIZE ((size_t)1 << 30)

#define DICT_FLAG_NO_FOLD 0x0001   /* keep key case (postmap -f) */
#define DICT_FLAG_NO_REGSUB 0x0002 /* regexp/pcre: refuse $N in results
                                      (results that become a path or a
                                      command must not carry input) */
#define DICT_FLAG_STRICT 0x0004    /* an open/load failure makes dict_open
                                      return NULL instead of a failed
                                      table (tools, syntax checks) */
#define DICT_FLAG_NUL_ONLY 0x0008  /* keys and values carry a trailing
                                      NUL: write so, look up only so
                                      (postmap -N; the write default) */
#define DICT_FLAG_NO_NUL 0x0010    /* ... carry no NUL (postmap -n) */
#define DICT_FLAG_CREATE 0x0020    /* build a new, empty table (postmap) */
#define DICT_FLAG_WRITE 0x0040     /* update a copy of the existing table
                                      (postmap -i, -d) */
#define DICT_FLAG_DUP_REPLACE 0x0080 /* dict_put: a duplicate key replaces
                                        the old value (postmap -r) */
#define DICT_FLAG_DUP_IGNORE 0x0100  /* dict_put: keep the first value
                                        silently (postmap -w); default:
                                        keep the first and warn */

/* Opens `type:name`. The type is one of hash btree lmdb regexp pcre cidr
 * static inline texthash fail unix pgsql mysql. Returns NULL, with the reason in err (when
 * err is not NULL), for a malformed spec (unknown type, bad inline:
 * syntax), or for any open failure under DICT_FLAG_STRICT or a write
 * flag. Otherwise returns a table; when its file could not be loaded the
 * reason is logged and left in err, and lookups answer DICT_ERROR until
 * the file is fixed. */
struct dict *dict_open(const char *spec, int flags, struct buf *err);

/* Opens a table of a text type (regexp, pcre, cidr, texthash) from
 * memory instead of a file; `name` is used in error messages as the
 * file name. Returns NULL with the reason ("name, line N: why") in err
 * when the text is malformed. Such a table never reloads. */
struct dict *dict_open_text(const char *type, const char *name,
                            const char *text, size_t len, int flags,
                            struct buf *err);

/* Looks up key. On DICT_FOUND the value replaces the contents of
 * `value`; on DICT_ERROR the reason is logged (and kept for
 * dict_last_error). */
enum dict_result dict_lookup(struct dict *d, const char *key,
                             struct buf *value);

/* Closes the table; uncommitted writes are discarded. NULL is allowed. */
void dict_close(struct dict *d);

/* The spec the table was opened with ("hash:/etc/postern/virtual"). */
const char *dict_spec(const struct dict *d);
/* The reason for the last DICT_ERROR or failed load ("" when none). */
const char *dict_last_error(const struct dict *d);

/* Calls fn for every entry of the table (postmap -s), in table order,
 * with trailing NULs removed. fn returns 0 to go on, non-zero to stop.
 * Returns 0, or -1 with err set when the table cannot be read or its
 * type cannot be listed (regexp, pcre, cidr, static, fail). */
typedef int (*dict_iter_fn)(void *ctx, const char *key, const char *value);
int dict_iterate(struct dict *d, dict_iter_fn fn, void *ctx, struct buf *err);

/* Writable tables: dict_open with DICT_FLAG_CREATE (empty new table) or
 * DICT_FLAG_WRITE (a copy of the current table, or an empty one when it
 * does not exist) for hash, btree and lmdb. Changes go to a private file
 * beside the table and become visible only at dict_commit. */

/* Stores key -> value (key folded to lower case unless NO_FOLD).
 * Returns 0 when stored, 1 when the key existed and was kept (a warning
 * is logged unless DUP_IGNORE), -1 on error. */
int dict_put(struct dict *d, const char *key, const char *value,
             struct buf *err);
/* Removes key (in both NUL forms). Returns 0 when removed, 1 when it was
 * not there, -1 on error. */
int dict_delete(struct dict *d, const char *key, struct buf *err);
/* Sets the mode of the installed file (default 0644 & ~umask). */
void dict_set_mode(struct dict *d, unsigned mode);
/* Flushes, fsyncs and renames the new file over the table, then fsyncs
 * the directory. Returns 0, or -1 with err set (the old table stays). */
int dict_commit(struct dict *d, struct buf *err);

/* Parses postmap(1) input from memory: `key value` lines, comments
 * (first non-blank '#'), blank lines, continuation lines that start with
 * whitespace. Calls fn for each entry (line = its first physical line);
 * fn returns 0 to go on, -1 to stop with an error it put in err.
 * Returns 0, or -1 with "name, line N: why" in err for a line without a
 * value or with a NUL byte. */
typedef int (*dict_text_fn)(void *ctx, const char *key, const char *value,
                            int line, struct buf *err);
int dict_text_parse(const char *name, const char *text, size_t len,
                    dict_text_fn fn, void *ctx, struct buf *err);

/* The file a table of this spec lives in ("/etc/x.db" for hash:/etc/x,
 * the name itself for regexp: and friends), or NULL when it has none.
 * Caller frees. */
char *dict_file_path(const char *spec);
/* Whether postmap can build tables of this type (hash, btree, lmdb). */
int dict_type_writable(const char *type);
/* Whether the type names a known table type. */
int dict_type_known(const char *type);
/* Appends the name of every table type (postconf -m), in registry
 * order, leaving out pgsql and mysql when their client library was not
 * compiled in. */
void dict_type_names(struct strlist *out);

#endif
