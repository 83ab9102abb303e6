/* passwd_file.h: reading a Dovecot passwd-file, so an existing one works
 * unchanged as a `passdb = passwd-file:PATH` table.
 *
 * One user a line, colon-separated, as Dovecot reads it:
 *   user:password:uid:gid:gecos:home:shell:extra_fields
 * Everything after the password may be left out; an empty uid, gid or
 * home is unset (a user without all three is a virtual user, whose
 * identity and Maildir come from virtual_uid_maps, virtual_gid_maps and
 * virtual_mailbox_maps). extra_fields is everything after the seventh
 * colon (so a value may hold colons, as in mail=maildir:~/Maildir), a
 * space-separated list of `key=value` or bare `key` fields. A `userdb_`
 * prefix is stripped when reading the userdb fields uid, gid, home, mail
 * and quota_storage, which override the columns, as in Dovecot.
 * Lines that are empty or start with '#' are skipped.
 *
 * uid and gid are plain numbers in [1, 2^32 - 2] or, as Dovecot allows,
 * user and group names looked up (getpwnam_r, getgrnam_r) when the file
 * is read; a name that is root's or group 0 is refused like 0.
 * A line that cannot be read (no user name, a bad or unknown uid or gid,
 * a name already seen) is skipped with a
 * problem recorded, as Dovecot logs and skips it; the first line for a
 * name wins. Names are matched exactly here, case included; the auth
 * service normalizes the login name first with auth_username_format
 * (username_format.h), whose default %Lu folds it to lower case, as
 * Dovecot's default does. */
#ifndef POSTERN_PASSWD_FILE_H
#define POSTERN_PASSWD_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/str.h"

/* The size cap for passwd-files: about a million users at a typical
 * 60-100 bytes a line. */
#define PASSWD_FILE_MAX_SIZE (128 * 1024 * 1024)

struct passwd_field {
    char *key;   /* as written, userdb_ prefix included */
    char *value; /* "" for a bare key */
};

struct passwd_entry {
    char *user;
    char *password;      /* "{SCHEME}hash" as stored; "" when empty */
    int has_uid, has_gid;
    uid_t uid;
    gid_t gid;
    char *gecos;         /* NULL when empty, as the fields below */
    char *home;
    char *shell;
    char *mail;          /* from mail= / userdb_mail= */
    char *quota_storage; /* from quota_storage= / userdb_quota_storage= */
    struct passwd_field *fields; /* every extra field, in order */
    size_t field_count;
    int line;            /* where it was read, for messages */
};

struct passwd_file {
    char *name;                   /* the path, for messages */
    struct passwd_entry *entries; /* sorted by user, for lookups */
    size_t count;
    struct strlist problems;      /* "NAME:LINE: what was wrong", per line */
};

/* Reads the passwd-file at path through base/file_read, capped at
 * max_size bytes (PASSWD_FILE_MAX_SIZE for the usual cap). Returns the
 * table, or NULL with err set when the file cannot be read at all. A
 * table with skipped lines is still returned; see its problems list. */
struct passwd_file *passwd_file_load(const char *path, size_t max_size,
                                     struct buf *err);

/* Parses text[0..len) (which may hold NUL bytes: a line with one is a
 * problem and is skipped) as a passwd-file called name. Never fails. */
struct passwd_file *passwd_file_parse(const char *name, const char *text,
                                      size_t len);

/* The entry for user (matched exactly), or NULL. */
const struct passwd_entry *passwd_file_lookup(const struct passwd_file *file,
                                              const char *user);

/* 1 for a virtual user: no uid, no gid and no home, from the columns
 * or the extra fields. */
int passwd_entry_is_virtual(const struct passwd_entry *entry);

/* The value of extra field key (exactly as written), or NULL. */
const char *passwd_entry_field(const struct passwd_entry *entry,
                               const char *key);

void passwd_file_free(struct passwd_file *file);

#endif
