/* passwd_edit.c: locked, atomic edits of a Dovecot passwd-file
 * (passwd_edit.h). */
#include "auth/passwd_edit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "config/cfedit.h"

#define PASSWD_EDIT_NAME_MAX 255

int passwd_edit_name_ok(const char *name, struct buf *err)
{
    size_t len = strlen(name);
    if (len == 0 || len > PASSWD_EDIT_NAME_MAX) {
        buf_appendf(err, "a user name has 1 to %d bytes",
                    PASSWD_EDIT_NAME_MAX);
        return -1;
    }
    if (name[0] == '#') {
        buf_append_str(err, "a user name cannot start with '#'");
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == ':' || *p <= ' ' || *p == 0x7f) {
            buf_append_str(err, "a user name cannot hold ':', white space "
                                "or control characters");
            return -1;
        }
    }
    return 0;
}

/* 1 for a line the reader skips: blank, or '#' after spaces and tabs
 * (passwd_file.c's rule). */
static int is_blank_or_comment(const char *line)
{
    line += strspn(line, " \t");
    return *line == 0 || *line == '#';
}

/* 1 when line is a user line for user (see passwd_edit.h). */
static int line_is_user(const char *line, const char *user)
{
    if (is_blank_or_comment(line))
        return 0;
    size_t name_len = strcspn(line, ":");
    return name_len == strlen(user) && memcmp(line, user, name_len) == 0;
}

/* Holds an exclusive flock on the file path names now; the descriptor
 * is returned (close it to unlock), or -1 with err. A missing file is
 * created (O_EXCL, so two creators agree on one) when create is set,
 * with mode and, as root, group gid; else -1 with errno ENOENT. */
static int lock_file(const char *path, int create, unsigned mode, long gid,
                     struct buf *err)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT && create) {
            fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
            if (fd < 0 && errno == EEXIST)
                continue; /* another run created it: lock that one */
            if (fd >= 0 && (fchmod(fd, mode) < 0 ||
                            (gid >= 0 && geteuid() == 0 &&
                             fchown(fd, (uid_t)-1, (gid_t)gid) < 0))) {
                buf_appendf(err, "%s: %s", path, strerror(errno));
                close(fd);
                return -1;
            }
        }
        if (fd < 0) {
            int saved = errno;
            buf_appendf(err, "%s: %s", path, strerror(errno));
            errno = saved;
            return -1;
        }
        if (flock(fd, LOCK_EX) < 0) {
            buf_appendf(err, "lock %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        struct stat locked, named;
        if (fstat(fd, &locked) == 0 && stat(path, &named) == 0 &&
            locked.st_dev == named.st_dev && locked.st_ino == named.st_ino) {
            if (!S_ISREG(locked.st_mode)) {
                buf_appendf(err, "%s: not a regular file", path);
                close(fd);
                return -1;
            }
            return fd;
        }
        close(fd); /* renamed away while we waited: lock the new one */
    }
    buf_appendf(err, "lock %s: the file keeps changing", path);
    return -1;
}

static void remove_line(struct strlist *lines, size_t index)
{
    free(lines->items[index]);
    memmove(&lines->items[index], &lines->items[index + 1],
            (lines->count - index) * sizeof(lines->items[0]));
    lines->count--;
}

/* The password column of line replaced by hashed: the text before the
 * first ':' and everything from the second ':' on are kept. */
static char *with_password(const char *line, const char *hashed)
{
    const char *first = strchr(line, ':');
    const char *second = first ? strchr(first + 1, ':') : NULL;
    size_t name_len = first ? (size_t)(first - line) : strlen(line);
    return xasprintf("%.*s:%s%s", (int)name_len, line, hashed,
                     second ? second : "");
}

static int edit_lines(struct strlist *lines, enum passwd_edit_op op,
                      const char *user, const char *hashed, struct buf *err)
{
    size_t found = 0;
    for (size_t i = 0; i < lines->count;) {
        if (!line_is_user(lines->items[i], user)) {
            i++;
            continue;
        }
        found++;
        if (op == PASSWD_EDIT_DELETE) {
            remove_line(lines, i);
            continue;
        }
        if (op == PASSWD_EDIT_SET && found == 1) {
            char *changed = with_password(lines->items[i], hashed);
            free(lines->items[i]);
            lines->items[i] = changed;
        }
        i++;
    }
    if (op == PASSWD_EDIT_ADD) {
        if (found) {
            buf_appendf(err, "user %s already exists", user);
            return -1;
        }
        char *line = xasprintf("%s:%s", user, hashed);
        strlist_add(lines, line);
        free(line);
        return 0;
    }
    if (!found) {
        buf_appendf(err, "no user %s", user);
        return -1;
    }
    return 0;
}

int passwd_edit_apply(const char *path, enum passwd_edit_op op,
                      const char *user, const char *hashed,
                      unsigned new_mode, long new_gid, struct buf *err)
{
    if (passwd_edit_name_ok(user, err) < 0)
        return -1;
    if (op != PASSWD_EDIT_DELETE && (strchr(hashed, ':') ||
                                     strchr(hashed, '\n'))) {
        buf_append_str(err, "a stored password cannot hold ':' or newlines");
        return -1;
    }
    int lock_fd = lock_file(path, op == PASSWD_EDIT_ADD, new_mode, new_gid,
                            err);
    if (lock_fd < 0) {
        if (errno == ENOENT && op != PASSWD_EDIT_ADD) {
            buf_reset(err);
            buf_appendf(err, "no user %s (%s does not exist)", user, path);
        }
        return -1;
    }
    struct cfedit_file file;
    int status = cfedit_read(&file, path, err);
    if (status == 0)
        status = edit_lines(&file.lines, op, user, hashed, err);
    if (status == 0)
        status = cfedit_write(&file, err);
    cfedit_free(&file);
    close(lock_fd);
    return status;
}

int passwd_edit_list(const char *path, struct strlist *users, struct buf *err)
{
    struct cfedit_file file;
    if (cfedit_read(&file, path, err) < 0) {
        cfedit_free(&file);
        return -1;
    }
    if (!file.existed) {
        buf_appendf(err, "%s: %s", path, strerror(ENOENT));
        cfedit_free(&file);
        return -1;
    }
    for (size_t i = 0; i < file.lines.count; i++) {
        const char *line = file.lines.items[i];
        if (is_blank_or_comment(line))
            continue;
        char *name = xstrndup(line, strcspn(line, ":"));
        if (*name)
            strlist_add(users, name);
        free(name);
    }
    cfedit_free(&file);
    return 0;
}

int passwd_edit_has_user(const char *path, const char *user, struct buf *err)
{
    struct cfedit_file file;
    if (cfedit_read(&file, path, err) < 0) {
        cfedit_free(&file);
        return -1;
    }
    int found = 0;
    for (size_t i = 0; i < file.lines.count && !found; i++)
        found = line_is_user(file.lines.items[i], user);
    cfedit_free(&file);
    return found;
}
