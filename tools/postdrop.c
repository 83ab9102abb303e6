/* postdrop.c: puts one message into maildrop/ while the mail system is
 * not running, for sendmail, which runs it when smtpd's submit service
 * does not answer.
 *
 *   postdrop [-c config_dir] [-r]     (message file on standard input)
 *
 * Installed set-gid `setgid_group` (make install as root; see
 * docs/install.md). maildrop/ is mode 1730, owner mail_owner, group
 * setgid_group: the group may create files there but not list or read
 * them, and the sticky bit keeps anyone but the owner of a file (and of
 * the directory) from removing or renaming it. The group is all this
 * program is trusted with; it runs as the invoking user, so the file it
 * writes is owned by that user and pickup submits it as that user
 * (pickup/pickup.c, docs/sendmail.md).
 *
 * Input is the maildrop file format (lib/queue/maildrop_file.h), which
 * sendmail writes. It comes from a local user: it is parsed before a
 * byte is written, and its size is capped. As set-gid, only the default
 * configuration directory or one named in the default main.cf's
 * alternate_config_directories is accepted (as Postfix's postdrop), so a
 * user cannot point the group privilege at another directory. Exit
 * status: 0, EX_USAGE, EX_DATAERR (a malformed or too large message),
 * EX_TEMPFAIL (anything else: Postfix's postdrop exits 75 after every
 * fatal error), EX_CONFIG. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file_read.h"
#include "base/log.h"
#include "base/str.h"
#include "base/tool.h"
#include "config/config.h"
#include "queue/maildrop_file.h"
#include "routing/user_acl.h"

/* With message_size_limit = 0 (no limit), still no more than this. */
#define POSTDROP_HARD_LIMIT (1LL << 30)

static void usage(void)
{
    tool_usage(EX_USAGE, "postdrop [-c config_dir] [-r]");
}

/* 1 when path and every directory above it are root's and no one else
 * can change them (group or others may write only where the sticky bit
 * protects root's entries), so a user cannot have made or swapped it. */
static int root_controlled(const char *path)
{
    char real[PATH_MAX];
    if (realpath(path, real) == NULL)
        return 0;
    for (;;) {
        struct stat st;
        if (lstat(real, &st) < 0 || st.st_uid != 0 ||
            ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
            return 0;
        char *slash = strrchr(real, '/');
        if (slash == NULL || slash == real)
            break;
        *slash = '\0';
    }
    struct stat root;
    return stat("/", &root) == 0 && root.st_uid == 0 && !(root.st_mode & 022);
}

/* As set-gid, the configuration directory a non-root user may name: the
 * default, one listed in the default main.cf's
 * alternate_config_directories (Postfix's rule), or one that root alone
 * controls (its main.cf included), as a test instance made by root. */
static const char *checked_config_dir(const char *wanted)
{
    if (getegid() == getgid() || getuid() == 0 || wanted == NULL ||
        strcmp(wanted, POSTERN_CONFIG_DIR) == 0)
        return wanted;
    struct buf err = BUF_INIT, main_cf = BUF_INIT;
    buf_appendf(&main_cf, "%s/main.cf", wanted);
    int trusted = root_controlled(wanted) && root_controlled(main_cf.data);
    buf_free(&main_cf);
    if (!trusted && config_load(POSTERN_CONFIG_DIR, &err) == 0) {
        struct strlist allowed;
        strlist_init(&allowed);
        str_split_list(cfg_str("alternate_config_directories"), &allowed);
        for (size_t i = 0; i < allowed.count; i++)
            if (strcmp(allowed.items[i], wanted) == 0)
                trusted = 1;
        strlist_free(&allowed);
    }
    buf_free(&err);
    if (!trusted)
        tool_fatal(EX_TEMPFAIL,
                   "%s is not listed in alternate_config_directories of "
                   "%s/main.cf",
                   wanted, POSTERN_CONFIG_DIR);
    return wanted;
}

static void check_submit_allowed(void)
{
    struct buf err = BUF_INIT, name = BUF_INIT;
    struct user_acl *acl = user_acl_open("authorized_submit_users", 0, &err);
    if (acl == NULL)
        tool_fatal(EX_TEMPFAIL, "authorized_submit_users: %s", buf_cstr(&err));
    enum user_acl_result r = user_acl_check(acl, (long)getuid(), &name);
    if (r == USER_ACL_DENIED)
        tool_fatal(EX_TEMPFAIL, "User %s(%ld) is not allowed to submit mail",
                   buf_cstr(&name), (long)getuid());
    if (r == USER_ACL_ERROR)
        tool_fatal(EX_TEMPFAIL,
                   "authorized_submit_users: lookup error for "
                   "user %s(%ld)",
                   buf_cstr(&name), (long)getuid());
    buf_free(&name);
    buf_free(&err);
}

/* Reads standard input, at most limit bytes. */
static void read_input(struct buf *data, long long limit)
{
    struct buf err = BUF_INIT;
    if (file_read_fd(0, "standard input", (size_t)limit, data, &err) < 0) {
        if (errno == EFBIG)
            tool_fatal(EX_DATAERR, "message too large");
        tool_fatal(EX_TEMPFAIL, "%s", buf_cstr(&err));
    }
}

static void write_all(int fd, const char *data, size_t len, const char *path)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            tool_fatal(EX_TEMPFAIL, "write %s: %s", path, strerror(errno));
        data += n;
        len -= (size_t)n;
    }
}

/* Writes data into maildrop/ under a temporary name, syncs it, and gives
 * it its final name (never replacing another file). */
static void drop(const struct buf *data)
{
    struct buf dir = BUF_INIT, tmp = BUF_INIT, final = BUF_INIT;
    buf_appendf(&dir, "%s/maildrop", cfg_str("queue_directory"));
    struct timeval now;
    gettimeofday(&now, NULL);
    buf_appendf(&tmp, "%s/.%stmp.%ld.%ld", dir.data, MAILDROP_PREFIX,
                (long)getpid(), (long)now.tv_usec);
    int fd = open(tmp.data,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        tool_fatal(EX_TEMPFAIL, "create file %s: %s", tmp.data,
                   strerror(errno));
    write_all(fd, data->data, data->len, tmp.data);
    if (fsync(fd) < 0)
        tool_fatal(EX_TEMPFAIL, "fsync %s: %s", tmp.data, strerror(errno));
    for (int attempt = 0;; attempt++) {
        buf_reset(&final);
        buf_appendf(&final, "%s/%s%ld.%06ld.%ld.%d", dir.data, MAILDROP_PREFIX,
                    (long)now.tv_sec, (long)now.tv_usec, (long)getpid(),
                    attempt);
        if (renameat2(AT_FDCWD, tmp.data, AT_FDCWD, final.data,
                      RENAME_NOREPLACE) == 0)
            break;
        if (errno != EEXIST || attempt > 100) {
            int saved = errno;
            unlink(tmp.data);
            tool_fatal(EX_TEMPFAIL, "rename %s: %s", tmp.data, strerror(saved));
        }
    }
    /* The group may not read maildrop/ (mode 1730), so the directory
     * cannot be opened to fsync it: syncfs through the file commits the
     * new name. This path runs only while the mail system is down. */
    if (syncfs(fd) < 0)
        tool_fatal(EX_TEMPFAIL, "syncfs %s: %s", final.data, strerror(errno));
    close(fd);
    buf_free(&dir);
    buf_free(&tmp);
    buf_free(&final);
}

int main(int argc, char **argv)
{
    tool_set_name("postdrop");
    umask(077);
    const char *cli_dir = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "c:rv")) != -1) {
        switch (opt) {
        case 'c':
            cli_dir = optarg;
            break;
        case 'r': /* Postfix's record input; ours is always one format */
        case 'v':
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
    const char *env = getenv("MAIL_CONFIG");
    const char *wanted = cli_dir ? cli_dir : (env && *env ? env : NULL);
    const char *dir = checked_config_dir(wanted);
    struct buf err = BUF_INIT;
    if (config_load(config_resolve_dir(dir), &err) < 0)
        tool_fatal(EX_CONFIG, "%s", buf_cstr(&err));
    buf_free(&err);
    check_submit_allowed();

    long long size_limit = cfg_size("message_size_limit");
    long long limit = size_limit > 0 ? size_limit + 65536 : POSTDROP_HARD_LIMIT;
    struct buf data = BUF_INIT;
    read_input(&data, limit + MAILDROP_MAX_ENVELOPE);
    struct maildrop_msg msg;
    maildrop_msg_init(&msg);
    if (maildrop_parse(data.data ? data.data : "", data.len, &msg, &err) < 0)
        tool_fatal(EX_DATAERR, "malformed input: %s", buf_cstr(&err));
    if ((long long)msg.content_len > limit)
        tool_fatal(EX_DATAERR, "message too large");
    maildrop_msg_free(&msg);
    drop(&data);
    buf_free(&data);
    return EX_OK;
}
