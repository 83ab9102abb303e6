/* mbox.c: mbox delivery with dot lock + fcntl/flock locking, Postfix's
 * From_ line and ">From " quoting, and truncation on failure (see
 * mbox.h). */
#include "storage/mbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

#define DEFAULT_LOCK_ATTEMPTS 20
#define DEFAULT_LOCK_DELAY_MS 1000
#define DEFAULT_STALE_SECS 500
#define DEFAULT_FILE_MODE 0600
#define FLUSH_SIZE (64 * 1024)

struct mbox_delivery {
    struct store_status *status;
    struct mbox_options opts; /* path and sender not owned */
    char *path;
    char *lock_path; /* dot lock we hold, else NULL */
    dev_t lock_dev;
    ino_t lock_ino;
    int fd;
    off_t orig_size;   /* size before this delivery */
    long long written; /* bytes written or buffered so far */
    int failed;
    struct store_filter filter;
    struct buf out;
};

void mbox_from_line(const char *sender, time_t t, struct buf *out)
{
    struct tm tm;
    char date[32];
    localtime_r(&t, &tm);
    /* asctime_r's form is fixed ("Mon Nov 23 01:18:56 2026\n") whatever
     * the locale; the newline is dropped. */
    if (asctime_r(&tm, date) == NULL)
        snprintf(date, sizeof(date), "Thu Jan  1 00:00:00 1970");
    date[24] = 0;
    buf_append_str(out, "From ");
    if (sender == NULL || *sender == 0) {
        buf_append_str(out, "MAILER-DAEMON");
    } else {
        /* A control character would end or bend the From_ line. */
        for (const unsigned char *p = (const unsigned char *)sender; *p; p++)
            buf_append_char(out, (*p < 0x20 || *p == 0x7f) ? '_' : (char)*p);
    }
    buf_appendf(out, "  %s\n", date);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- locks ---- */

/* Takes MAILBOX.lock. 0 on success or when skipped (dotlock_optional),
 * -1 with the status set. */
static int dotlock_acquire(struct mbox_delivery *d)
{
    char *lock_path = xasprintf("%s.lock", d->path);
    int attempts = d->opts.lock_attempts > 0 ? d->opts.lock_attempts
                                             : DEFAULT_LOCK_ATTEMPTS;
    int delay = d->opts.lock_delay_ms > 0 ? d->opts.lock_delay_ms
                                          : DEFAULT_LOCK_DELAY_MS;
    int stale = d->opts.stale_lock_secs > 0 ? d->opts.stale_lock_secs
                                            : DEFAULT_STALE_SECS;
    int err = 0;
    for (int attempt = 0; attempt < attempts; attempt++) {
        int fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            struct stat st;
            char pid[32];
            int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
            /* The pid is for people; no one relies on it. */
            if (write(fd, pid, (size_t)n) < 0 || fstat(fd, &st) < 0) {
                err = errno;
                close(fd);
                unlink(lock_path);
                break;
            }
            close(fd);
            d->lock_path = lock_path;
            d->lock_dev = st.st_dev;
            d->lock_ino = st.st_ino;
            return 0;
        }
        err = errno;
        if (err != EEXIST) {
            if (d->opts.dotlock_optional &&
                (err == EACCES || err == EPERM || err == EROFS)) {
                free(lock_path);
                return 0;
            }
            break;
        }
        struct stat st;
        if (lstat(lock_path, &st) == 0 && st.st_mtime + stale < time(NULL)) {
            /* Its holder died long ago (or hung): take over. */
            if (unlink(lock_path) == 0 || errno == ENOENT) {
                log_warn("%s: removed stale lock file (%lds old)", lock_path,
                         (long)(time(NULL) - st.st_mtime));
                continue;
            }
        }
        if (attempt + 1 < attempts)
            sleep_ms(delay);
    }
    if (err == EEXIST)
        store_status_set(d->status, STORE_DEFER, "4.2.0",
                         "mbox delivery failed: %s: mailbox is locked: "
                         "lock file %s exists",
                         d->path, lock_path);
    else
        store_status_errno(d->status, err,
                           "mbox delivery failed: create lock file %s",
                           lock_path);
    free(lock_path);
    return -1;
}

static void dotlock_release(struct mbox_delivery *d)
{
    if (d->lock_path == NULL)
        return;
    struct stat st;
    /* Remove only our own lock: after a stale-lock takeover it may be
     * someone else's. */
    if (lstat(d->lock_path, &st) == 0 && st.st_dev == d->lock_dev &&
        st.st_ino == d->lock_ino && unlink(d->lock_path) < 0)
        log_warn("remove lock file %s: %s", d->lock_path, strerror(errno));
    free(d->lock_path);
    d->lock_path = NULL;
}

/* Takes the kernel locks on the open mailbox: 0, or -1 with status. */
static int kernel_lock(struct mbox_delivery *d, int methods)
{
    int attempts = d->opts.lock_attempts > 0 ? d->opts.lock_attempts
                                             : DEFAULT_LOCK_ATTEMPTS;
    int delay = d->opts.lock_delay_ms > 0 ? d->opts.lock_delay_ms
                                          : DEFAULT_LOCK_DELAY_MS;
    static const int kinds[] = {MBOX_LOCK_FCNTL, MBOX_LOCK_FLOCK};
    for (int k = 0; k < 2; k++) {
        if (!(methods & kinds[k]))
            continue;
        const char *name = kinds[k] == MBOX_LOCK_FCNTL ? "fcntl" : "flock";
        int err = 0;
        for (int attempt = 0; attempt < attempts; attempt++) {
            int rc;
            if (kinds[k] == MBOX_LOCK_FCNTL) {
                struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
                rc = fcntl(d->fd, F_SETLK, &fl);
            } else {
                rc = flock(d->fd, LOCK_EX | LOCK_NB);
            }
            if (rc == 0) {
                err = 0;
                break;
            }
            err = errno;
            if (err != EAGAIN && err != EACCES && err != EWOULDBLOCK &&
                err != EINTR)
                break;
            if (attempt + 1 < attempts)
                sleep_ms(delay);
        }
        if (err == EAGAIN || err == EACCES || err == EWOULDBLOCK) {
            store_status_set(d->status, STORE_DEFER, "4.2.0",
                             "mbox delivery failed: %s: mailbox is locked "
                             "(%s lock held by another process)",
                             d->path, name);
            return -1;
        }
        if (err != 0) {
            store_status_errno(d->status, err,
                               "mbox delivery failed: %s lock %s", name,
                               d->path);
            return -1;
        }
    }
    return 0;
}

/* ---- opening ---- */

/* Opens (or creates) the mailbox safely: no symlinks, a regular file
 * with a single link, the same file that the name points to. */
static int open_mailbox(struct mbox_delivery *d)
{
    mode_t mode = d->opts.file_mode ? d->opts.file_mode : DEFAULT_FILE_MODE;
    struct stat st, lst;
    for (int attempt = 0; attempt < 3; attempt++) {
        d->fd = open(d->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        if (d->fd < 0 && errno == ENOENT) {
            d->fd = open(d->path,
                         O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
                             O_CLOEXEC,
                         mode);
            if (d->fd < 0 && errno == EEXIST)
                continue; /* created meanwhile: open that one */
            if (d->fd >= 0 && d->opts.chown_new &&
                fchown(d->fd, d->opts.uid, d->opts.gid) < 0) {
                store_status_errno(d->status, errno,
                                   "mbox delivery failed: chown %s", d->path);
                return -1;
            }
        }
        break;
    }
    if (d->fd < 0) {
        if (errno == ELOOP)
            store_status_set(d->status, STORE_DEFER, "4.2.0",
                             "mbox delivery failed: %s: mailbox is a "
                             "symbolic link",
                             d->path);
        else
            store_status_errno(d->status, errno,
                               "mbox delivery failed: open %s", d->path);
        return -1;
    }
    if (fstat(d->fd, &st) < 0 || lstat(d->path, &lst) < 0) {
        store_status_errno(d->status, errno, "mbox delivery failed: stat %s",
                           d->path);
        return -1;
    }
    const char *why = NULL;
    if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_nlink != 1)
        why = "file has more than one hard link";
    else if (st.st_dev != lst.st_dev || st.st_ino != lst.st_ino)
        why = "file was replaced while it was opened";
    if (why) {
        store_status_set(d->status, STORE_DEFER, "4.2.0",
                         "mbox delivery failed: %s: %s", d->path, why);
        return -1;
    }
    return 0;
}

static void delivery_free(struct mbox_delivery *d)
{
    if (d->fd >= 0)
        close(d->fd); /* releases fcntl/flock locks */
    d->fd = -1;
    dotlock_release(d);
    free(d->path);
    buf_free(&d->out);
    free(d);
}

struct mbox_delivery *mbox_delivery_open(const struct mbox_options *opts,
                                         const char *leading_lines,
                                         struct store_status *status)
{
    if (opts->path == NULL || *opts->path == 0) {
        store_status_set(status, STORE_DEFER, "4.3.5",
                         "mbox delivery failed: no mailbox path");
        return NULL;
    }
    struct mbox_delivery *d = xcalloc(1, sizeof(*d));
    d->status = status;
    d->opts = *opts;
    d->path = xstrdup(opts->path);
    d->fd = -1;
    buf_init(&d->out);
    store_filter_init(&d->filter, STORE_FILTER_CRLF | STORE_FILTER_FROM_QUOTE);
    int methods = opts->lock_methods ? opts->lock_methods
                                     : MBOX_LOCK_DOTLOCK | MBOX_LOCK_FCNTL;
    if ((methods & MBOX_LOCK_DOTLOCK) && dotlock_acquire(d) < 0)
        goto fail;
    if (open_mailbox(d) < 0 || kernel_lock(d, methods) < 0)
        goto fail;
    d->orig_size = lseek(d->fd, 0, SEEK_END);
    if (d->orig_size < 0) {
        store_status_errno(status, errno, "mbox delivery failed: seek %s",
                           d->path);
        goto fail;
    }
    store_status_set(status, STORE_OK, "2.0.0", "delivered to mailbox");
    mbox_from_line(opts->sender, opts->from_time ? opts->from_time : time(NULL),
                   &d->out);
    d->written = (long long)d->out.len;
    if (leading_lines && *leading_lines) {
        /* Through the CRLF stage only: these are our own header lines. */
        struct store_filter crlf;
        store_filter_init(&crlf, STORE_FILTER_CRLF);
        size_t before = d->out.len;
        store_filter_run(&crlf, leading_lines, strlen(leading_lines), &d->out);
        store_filter_finish(&crlf, &d->out);
        if (crlf.last_out != '\n')
            buf_append_char(&d->out, '\n');
        d->written += (long long)(d->out.len - before);
    }
    return d;
fail:
    delivery_free(d);
    return NULL;
}

/* Truncates back to the size before the delivery. */
static void undo(struct mbox_delivery *d)
{
    if (d->fd < 0)
        return;
    if (ftruncate(d->fd, d->orig_size) < 0 || fsync(d->fd) < 0)
        log_warn("truncate %s to %lld bytes: %s", d->path,
                 (long long)d->orig_size, strerror(errno));
}

static int flush_out(struct mbox_delivery *d)
{
    if (d->out.len == 0)
        return 0;
    if (store_write_all(d->fd, d->out.data, d->out.len) < 0) {
        store_status_errno(d->status, errno, "mbox delivery failed: write %s",
                           d->path);
        d->failed = 1;
        return -1;
    }
    buf_reset(&d->out);
    return 0;
}

static int check_size(struct mbox_delivery *d)
{
    if (d->opts.size_limit > 0 &&
        (long long)d->orig_size + d->written > d->opts.size_limit) {
        store_status_set(d->status, STORE_BOUNCE, "5.2.2",
                         "mbox delivery failed: %s: mailbox exceeds the size "
                         "limit of %lld bytes",
                         d->path, d->opts.size_limit);
        d->failed = 1;
        return -1;
    }
    return 0;
}

int mbox_delivery_write(struct mbox_delivery *d, const void *data, size_t len)
{
    if (d->failed)
        return -1;
    size_t before = d->out.len;
    store_filter_run(&d->filter, data, len, &d->out);
    d->written += (long long)(d->out.len - before);
    if (check_size(d) < 0)
        return -1;
    if (d->out.len >= FLUSH_SIZE)
        return flush_out(d);
    return 0;
}

void mbox_delivery_abort(struct mbox_delivery *d)
{
    undo(d);
    delivery_free(d);
}

enum store_result mbox_delivery_commit(struct mbox_delivery *d)
{
    if (!d->failed) {
        size_t before = d->out.len;
        store_filter_finish(&d->filter, &d->out);
        /* End the last line, then the blank line that separates this
         * message from the next From_ line. */
        if (d->filter.out_bytes > 0 && d->filter.last_out != '\n')
            buf_append_char(&d->out, '\n');
        buf_append_char(&d->out, '\n');
        d->written += (long long)(d->out.len - before);
    }
    if (!d->failed && check_size(d) == 0 && flush_out(d) == 0) {
        if (fsync(d->fd) == 0) {
            enum store_result result = STORE_OK;
            store_status_set(d->status, result, "2.0.0",
                             "delivered to mailbox");
            delivery_free(d);
            return result;
        }
        store_status_errno(d->status, errno, "mbox delivery failed: fsync %s",
                           d->path);
    }
    enum store_result result = d->status->result;
    if (result == STORE_OK) /* cannot happen; never report success */
        store_status_set(d->status, result = STORE_DEFER, "4.3.0",
                         "mbox delivery failed: internal error");
    mbox_delivery_abort(d);
    return result;
}
