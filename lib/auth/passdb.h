/* passdb.h: where the auth service finds a user's password: the
 * `passdb` parameter, a list of tables tried in order.
 *
 *   passwd-file:PATH   a Dovecot passwd-file (passwd_file.h); re-read
 *                      when the file changes (size, mtime or inode),
 *                      checked at most once a second;
 *   TYPE:NAME          any lookup table of lib/tables (hash:, btree:,
 *                      lmdb:, texthash:, pgsql:, mysql:, ...; a
 *                      leading proxy: is dropped), keyed by the user
 *                      name as the table type folds it everywhere (SQL
 *                      and file tables: lower case; docs/auth.md,
 *                      "Case"). The result is read as a passwd-
 *                      file line's password and extra fields:
 *                      "{SCHEME}hash [uid=N gid=N home=DIR mail=SPEC
 *                      quota_storage=...]".
 * The first table that finds the user answers; a table that fails
 * (temporary error) stops the search with an error, so a broken table
 * is never read as "unknown user". Entries without a {SCHEME} prefix are
 * read as CRYPT, Dovecot's default for passwd-files. */
#ifndef POSTERN_PASSDB_H
#define POSTERN_PASSDB_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/str.h"

enum passdb_result { PASSDB_FOUND, PASSDB_NOTFOUND, PASSDB_ERROR };

/* The scheme of a stored password without a {SCHEME} prefix. */
#define PASSDB_DEFAULT_SCHEME "CRYPT"

struct passdb_user {
    char *password;        /* "{SCHEME}hash" as stored */
    int has_uid, has_gid;
    uid_t uid;
    gid_t gid;
    char *home, *mail, *quota_storage; /* NULL when unset */
    int is_virtual;        /* no uid, no gid, no home */
    char table_type[16];   /* "passwd-file", "hash", ...: for log lines */
};

struct passdb;

/* Opens the tables named in `value` (a Postfix list). Returns the list,
 * or NULL with err set for a spec it cannot use (an unknown type). A
 * file that cannot be read is not fatal: its lookups fail (temporary
 * error) and the reason is logged, until it is fixed. */
struct passdb *passdb_open(const char *value, struct buf *err);

/* A list of one passwd-file held in memory (tests and fuzzing): text is
 * parsed now and never re-read. */
struct passdb *passdb_open_passwd_text(const char *name, const char *text,
                                       size_t len);

/* Looks user up. FOUND fills *out (free with passdb_user_free); ERROR
 * sets err ("TABLE: why"). */
enum passdb_result passdb_lookup(struct passdb *db, const char *user,
                                 struct passdb_user *out, struct buf *err);

/* What `postern check` says about a passdb value, before the service
 * opens it: each problem is added to problems as "passdb: ITEM: why":
 * an item that is not TYPE:NAME, a passwd-file that cannot be read
 * (missing, unreadable, too big) and each line of one that the service
 * would skip. Other table types are left to tables/table_check.h, which
 * opens every TYPE:NAME of a table list (unknown type, a table that
 * fails to open). Returns the number added. */
int passdb_check(const char *value, struct strlist *problems);

/* Number of tables in the list. */
size_t passdb_table_count(const struct passdb *db);

void passdb_user_free(struct passdb_user *user);
void passdb_close(struct passdb *db);

#endif
