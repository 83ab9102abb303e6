/* passwd_edit.h: changing a Dovecot passwd-file in place, for `postern
 * user add|passwd|del|list` (docs/postern.md).
 *
 * Every change is made under an exclusive flock(2) on the file itself
 * (re-checked after the wait, since another writer may have renamed a
 * new file into place meanwhile), so concurrent runs serialise, and is
 * written atomically through config/cfedit: a temporary file in the
 * same directory with the old file's mode, owner and group, fsync,
 * rename over the old one, fsync of the directory. A reader (the auth
 * service, Dovecot) sees the old file or the new one, never half.
 *
 * Only the lines of the user in question change: every other line,
 * comment, blank line and extra field stays byte for byte. A user's line
 * is one whose text before the first ':' is the name (exactly, case
 * included, as passwd_file.h matches), skipping blank lines and lines
 * whose first character after spaces and tabs is '#', as the reader
 * does.
 *
 * A symbolic link at path is refused (a rename would replace the link,
 * not its target): name the real file. Files over config/cfedit's
 * 16 MiB cap (some 200,000 users) cannot be edited this way. */
#ifndef POSTERN_PASSWD_EDIT_H
#define POSTERN_PASSWD_EDIT_H

#include "base/buf.h"
#include "base/str.h"

enum passwd_edit_op {
    PASSWD_EDIT_ADD,    /* append "user:hash"; the user must not exist */
    PASSWD_EDIT_SET,    /* replace the password column of the user's
                         * first line (the one readers use) */
    PASSWD_EDIT_DELETE, /* remove every line of the user */
};

/* 0 when name can be a passwd-file user name: 1 to 255 bytes, no ':',
 * no white space or control characters, not starting with '#'. Else -1
 * with the reason in err. */
int passwd_edit_name_ok(const char *name, struct buf *err);

/* Applies op for user to the passwd-file at path; hashed is the stored
 * form ("{ARGON2ID}$argon2id$..."), ignored for DELETE. ADD creates a
 * missing file with mode new_mode, and as root gives it new_gid as its
 * group (pass (gid_t)-1 to keep root's). Returns 0, or -1 with err:
 * "user NAME already exists" (ADD), "no user NAME" (SET, DELETE), or an
 * I/O error naming the file. */
int passwd_edit_apply(const char *path, enum passwd_edit_op op,
                      const char *user, const char *hashed,
                      unsigned new_mode, long new_gid, struct buf *err);

/* The user names in the file, in file order (a name on two lines is
 * listed twice, as it is written). 0, or -1 with err (a missing file is
 * an error). */
int passwd_edit_list(const char *path, struct strlist *users,
                     struct buf *err);

/* 1 when the file has a line for user, 0 when not, -1 with err when it
 * cannot be read (a missing file has no users: 0). */
int passwd_edit_has_user(const char *path, const char *user, struct buf *err);

#endif
