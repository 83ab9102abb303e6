/* pickup.c: submits what sendmail left in maildrop/ while the mail
 * system was not running (through the set-gid postdrop,
 * tools/postdrop.c), so it is delivered once the system runs.
 *
 * master.cf: `pickup unix n n n 60 1 pickup`. A trigger service: master
 * wakes it at start and every 60 seconds. Each file named
 * MAILDROP_PREFIX... in maildrop/ (lib/queue/maildrop_file.h; qmgr's
 * requeued queue files there are not ours) is submitted to smtpd's
 * submit service exactly as sendmail would have submitted it, by a child
 * process that has become the file's owner: smtpd then sees that uid
 * from the kernel (SO_PEERCRED), checks authorized_submit_users for it,
 * writes it into Received:, logs the message as Postfix's pickup does,
 * and applies every check and rewriting a direct submission gets. This
 * is why pickup runs as root (unpriv = n): the parent only lists the
 * directory, opens each file without following links, and removes or
 * sets aside what its child reports on; the file's content, which a
 * local user wrote, is parsed only by the child, after it has dropped
 * to that user for good (privs_drop_ids). Run by an ordinary user (a
 * test instance) every file is that user's, and no switch is needed.
 *
 * Outcomes: queued -> the file is removed; a temporary failure (smtpd
 * not answering yet, a 4xx) -> left for the next wakeup; a malformed
 * file or a permanent refusal (5xx) -> moved to corrupt/ and logged, for
 * the administrator to look at, never silently dropped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file_read.h"
#include "base/log.h"
#include "base/privs.h"
#include "config/config.h"
#include "ipc/server.h"
#include "queue/maildrop_file.h"
#include "smtp/submit_client.h"

/* Child exit statuses. */
#define PICKUP_QUEUED 0
#define PICKUP_LATER EX_TEMPFAIL
#define PICKUP_REFUSED EX_DATAERR

static const char *queue_dir;
static size_t size_cap;

/* The child: become the owner, parse, submit. Never returns. */
static void submit_as_owner(int fd, const char *name, uid_t owner, gid_t group)
{
    struct buf err = BUF_INIT;
    if (privs_is_root() && owner != 0) {
        struct passwd *pw = getpwuid(owner);
        if (privs_drop_ids(owner, pw ? pw->pw_gid : group,
                           pw ? pw->pw_name : NULL, &err) != 0) {
            log_warn("%s: uid=%ld: cannot become the file's owner: %s", name,
                     (long)owner, buf_cstr(&err));
            _exit(PICKUP_LATER);
        }
    } else if (!privs_is_root() && owner != geteuid()) {
        log_warn("%s: owned by uid %ld: pickup must run as root (master.cf "
                 "unpriv = n) to submit it as that user",
                 name, (long)owner);
        _exit(PICKUP_LATER);
    }
    struct buf data = BUF_INIT;
    if (file_read_fd(fd, name, size_cap, &data, &err) < 0) {
        log_warn("uid=%ld: %s", (long)owner, buf_cstr(&err));
        _exit(errno == EFBIG ? PICKUP_REFUSED : PICKUP_LATER);
    }
    struct maildrop_msg msg;
    maildrop_msg_init(&msg);
    if (maildrop_parse(data.data ? data.data : "", data.len, &msg, &err) < 0) {
        log_warn("%s: uid=%ld: malformed maildrop file: %s", name, (long)owner,
                 buf_cstr(&err));
        _exit(PICKUP_REFUSED);
    }
    struct stream *s = submit_connect(queue_dir, &err);
    if (s == NULL) {
        log_warn("%s: uid=%ld: %s", name, (long)owner, buf_cstr(&err));
        _exit(PICKUP_LATER);
    }
    struct strlist refused;
    strlist_init(&refused);
    struct buf qid = BUF_INIT;
    enum submit_result r =
        submit_message(s, buf_cstr(&msg.sender), &msg.rcpts, msg.content,
                       msg.content_len, &err, &refused, &qid);
    for (size_t i = 0; i < refused.count; i++)
        log_warn("%s: uid=%ld: refused: %s", name, (long)owner,
                 refused.items[i]);
    switch (r) {
    case SUBMIT_OK:
        log_debug("%s: queued as %s", name, buf_cstr(&qid));
        _exit(PICKUP_QUEUED);
    case SUBMIT_DOWN:
    case SUBMIT_TEMPFAIL:
        log_warn("%s: uid=%ld: %s; trying again later", name, (long)owner,
                 buf_cstr(&err));
        _exit(PICKUP_LATER);
    default:
        log_warn("%s: uid=%ld: refused: %s", name, (long)owner, buf_cstr(&err));
        _exit(PICKUP_REFUSED);
    }
}

/* Moves a file pickup will not submit to corrupt/. */
static void set_aside(int dir_fd, const char *name)
{
    struct buf to = BUF_INIT;
    buf_appendf(&to, "%s/corrupt/%s", queue_dir, name);
    if (renameat(dir_fd, name, AT_FDCWD, to.data) < 0)
        log_warn("rename maildrop/%s to %s: %s", name, to.data,
                 strerror(errno));
    else
        log_warn("maildrop/%s: moved to corrupt/", name);
    buf_free(&to);
}

static void pick_one(int dir_fd, const char *name)
{
    int fd =
        openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            log_warn("open maildrop/%s: %s", name, strerror(errno));
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        log_warn("maildrop/%s: not a plain file with one link", name);
        close(fd);
        set_aside(dir_fd, name);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_warn("fork: %s", strerror(errno));
        close(fd);
        return;
    }
    if (pid == 0)
        submit_as_owner(fd, name, st.st_uid, st.st_gid);
    close(fd);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : PICKUP_LATER;
    if (code == PICKUP_QUEUED) {
        if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
            log_warn("remove maildrop/%s: %s", name, strerror(errno));
    } else if (code == PICKUP_REFUSED) {
        set_aside(dir_fd, name);
    }
}

static void pickup_scan(void)
{
    struct buf path = BUF_INIT;
    buf_appendf(&path, "%s/maildrop", queue_dir);
    int dir_fd = open(path.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        if (errno != ENOENT)
            log_warn("open %s: %s", path.data, strerror(errno));
        buf_free(&path);
        return;
    }
    DIR *dir = fdopendir(dup(dir_fd));
    struct strlist names;
    strlist_init(&names);
    struct dirent *de;
    while (dir && (de = readdir(dir)))
        if (maildrop_file_name(de->d_name))
            strlist_add(&names, de->d_name);
    if (dir)
        closedir(dir);
    for (size_t i = 0; i < names.count; i++)
        pick_one(dir_fd, names.items[i]);
    strlist_free(&names);
    close(dir_fd);
    buf_free(&path);
}

static void pickup_trigger(const char *data, size_t len)
{
    (void)data;
    (void)len;
    pickup_scan();
}

static void pickup_post_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    queue_dir = cfg_str("queue_directory");
    long long limit = cfg_size("message_size_limit");
    size_cap = (size_t)(MAILDROP_MAX_ENVELOPE +
                        (limit > 0 ? limit + 65536 : (long long)1 << 30));
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_TRIGGER,
        .post_init = pickup_post_init,
        .trigger = pickup_trigger,
    };
    return server_main(argc, argv, &ops);
}
