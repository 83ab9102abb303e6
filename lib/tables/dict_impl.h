/* dict_impl.h: the contract between lib/tables/dict.c and the table backends
 * (dict_db.c, dict_lmdb.c, dict_regexp.c, ...). Not for other callers:
 * they use dict.h.
 *
 * dict.c owns what every table shares: parsing the spec, case folding,
 * the trailing-NUL convention, noticing file changes and reloading,
 * and the temp-file + fsync + rename dance of writes. A backend only
 * loads, looks up, lists and writes raw entries. */
#ifndef POSTERN_DICT_IMPL_H
#define POSTERN_DICT_IMPL_H

#include <sys/stat.h>

#include "base/buf.h"
#include "tables/dict.h"

struct dict;

/* Raw entry callback: bytes exactly as stored (maybe with a NUL). */
typedef int (*dict_raw_fn)(void *ctx, const char *key, size_t key_len,
                           const char *value, size_t value_len);

struct dict_type {
    const char *name;
    /* Suffix of the file the table lives in (".db", ".lmdb"), "" when the
     * name itself is the file, NULL when the table has no file. */
    const char *suffix;
    unsigned fold : 1;       /* keys are folded to lower case */
    unsigned nul_keys : 1;   /* the trailing-NUL convention applies */
    /* NULL, or whether the type was compiled in (pgsql:, mysql:); a type
     * that was not is left out of postconf -m and says so at use. */
    int (*compiled_in)(void);
    /* Loads the table from d->name (files) or parses d->name (static,
     * inline, fail); sets d->impl. 0, or -1 with err set. */
    int (*load)(struct dict *d, struct buf *err);
    /* Parses a text table from memory (regexp, pcre, cidr, texthash). */
    int (*load_text)(struct dict *d, const char *text, size_t len,
                     struct buf *err);
    /* Frees d->impl (which may be NULL). */
    void (*release)(struct dict *d);
    /* Looks up key bytes exactly as given (already folded). */
    enum dict_result (*lookup)(struct dict *d, const char *key,
                               size_t key_len, struct buf *value);
    /* Lists raw entries; NULL when the type cannot be listed. */
    int (*iterate)(struct dict *d, dict_raw_fn fn, void *ctx,
                   struct buf *err);
    /* Writers (NULL for read-only types): create an empty table at path,
     * store (replace: overwrite; else 1 when the key exists), delete
     * (1 when absent), and close (flush when keep, else discard). */
    int (*wopen)(struct dict *d, const char *path, struct buf *err);
    int (*wput)(struct dict *d, const char *key, size_t key_len,
                const char *value, size_t value_len, int replace,
                struct buf *err);
    int (*wdelete)(struct dict *d, const char *key, size_t key_len,
                   struct buf *err);
    int (*wclose)(struct dict *d, int keep, struct buf *err);
};

struct dict {
    const struct dict_type *type;
    char *spec;  /* "type:name" as given */
    char *name;  /* after the colon */
    int flags;
    void *impl;  /* backend state; NULL when not loaded */
    int loaded;  /* impl holds a usable table */
    char *path;  /* file watched for changes, NULL when none */
    struct stat seen; /* identity of path at the last load attempt */
    int seen_valid;
    int nul_state; /* learned NUL convention: 0 unknown, 1 with, 2 without */
    struct buf error; /* last load or lookup error */
    struct buf key;   /* the folded lookup key (reused: no malloc per
                         lookup) */
    /* writing */
    char *temp_path;
    int lock_fd;
    unsigned mode;
    int writing;
};

/* Shared helpers for backends. */

/* Logical-line reader for every text table format: comments (first
 * non-blank '#'), blank lines, and continuation lines (starting with
 * whitespace) joined to the line before. A NUL byte in the text is an
 * error. */
struct dict_text_reader {
    const char *text;
    size_t len, pos;
    int line;       /* physical lines consumed so far */
};
void dict_text_init(struct dict_text_reader *r, const char *text,
                    size_t len);
/* Next logical line into out (without newline). Returns 1 with *lineno
 * set to its first physical line, 0 at the end, -1 on a NUL byte (with
 * *lineno set). */
int dict_text_next(struct dict_text_reader *r, struct buf *out,
                   int *lineno);

/* Splits a postmap input line into key and value (the first run of
 * whitespace separates them; the value is trimmed). As in Postfix 3.2,
 * a key in double quotes may hold whitespace, with \" and \\ for a quote
 * and a backslash. Modifies line. Returns 0, or -1 when there is no
 * value or the quoted key does not end in a quote and whitespace. */
int dict_text_split(char *line, char **key, char **value);

/* The if-blocks still open while a regexp:, pcre: or cidr: table loads,
 * shared so that every format nests and reports errors alike. */
struct dict_if_stack {
    size_t *rule; /* rule index of each open `if` */
    int *line;    /* and its line number */
    size_t depth, cap;
};
/* Opens a block whose `if` rule has index rule. */
void dict_if_push(struct dict_if_stack *s, size_t rule, int lineno);
/* Closes the innermost block at an `endif` line; rest is the text after
 * the keyword. Returns the rule index of the matching `if`, or -1 with
 * err ("text after endif", "endif without if"). */
long dict_if_endif(struct dict_if_stack *s, const char *table,
                   const char *rest, int lineno, struct buf *err);
/* At the end of the table: 1 with err when a block is still open. */
int dict_if_unclosed(const struct dict_if_stack *s, const char *table,
                     struct buf *err);
void dict_if_free(struct dict_if_stack *s);

/* In-memory sorted table for texthash: and inline: (dict_text.c). */
struct dict_mem;
struct dict_mem *dict_mem_new(void);
/* Adds an entry; returns 1 (and keeps the first) on a duplicate key. */
int dict_mem_add(struct dict_mem *m, const char *key, const char *value);
void dict_mem_free(struct dict_mem *m);
/* Sorts; call once after the last add, before lookups. */
void dict_mem_seal(struct dict_mem *m);
const char *dict_mem_get(const struct dict_mem *m, const char *key);
int dict_mem_iterate(const struct dict_mem *m, dict_raw_fn fn, void *ctx);
/* dict_type callbacks for a table whose impl is a struct dict_mem. */
void dict_mem_type_release(struct dict *d);
enum dict_result dict_mem_type_lookup(struct dict *d, const char *key,
                                      size_t key_len, struct buf *value);
int dict_mem_type_iterate(struct dict *d, dict_raw_fn fn, void *ctx,
                          struct buf *err);

/* Backends, registered in dict.c. */
extern const struct dict_type dict_type_hash, dict_type_btree,
    dict_type_lmdb, dict_type_regexp, dict_type_pcre, dict_type_cidr,
    dict_type_static, dict_type_inline, dict_type_texthash, dict_type_fail;
/* unix:passwd.byname (dict_unix.c), for local_recipient_maps. */
extern const struct dict_type dict_type_unix;
/* pgsql: and mysql: with Postfix's query files (dict_sql.c). */
extern const struct dict_type dict_type_pgsql, dict_type_mysql;

#endif
