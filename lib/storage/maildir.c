/* maildir.c: Maildir++ delivery (see maildir.h): directory creation,
 * Dovecot-style unique names, the streamed tmp/ -> new/ write with
 * fsyncs, and the quota check at commit. */
#include "storage/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/fsync_dir.h"
#include "base/mem.h"
#include "base/str.h"

#define DEFAULT_DIR_MODE 0700
#define DEFAULT_FILE_MODE 0600
/* Output is written in pieces of about this size. */
#define FLUSH_SIZE (64 * 1024)
/* Attempts at a fresh name when one is taken (it never should be). */
#define NAME_ATTEMPTS 5

struct maildir_delivery {
    struct store_status *status;
    char *root;     /* the Maildir root */
    char *dir;      /* root, or root/.folder */
    char *base;     /* unique base name */
    char *tmp_path; /* dir/tmp/base */
    int fd;
    int failed;
    struct maildir_options opts; /* path/folder/hostname not owned */
    struct store_filter filter;
    struct buf out;
    /* Set by prepare and publish. */
    long long size, vsize;
    int quota_tracked;
    struct buf new_path;
};

/* ---- names ---- */

void maildir_escape_hostname(const char *host, struct buf *out)
{
    if (host == NULL || *host == 0)
        host = "localhost";
    for (const unsigned char *p = (const unsigned char *)host; *p; p++) {
        if (*p == '/' || *p == ':' || *p == ',' || *p == '\\' || *p < 0x21 ||
            *p >= 0x7f)
            buf_appendf(out, "\\%03o", *p);
        else
            buf_append_char(out, (char)*p);
    }
}

const char *maildir_default_hostname(void)
{
    static char *escaped;
    if (escaped == NULL) {
        char name[256];
        struct buf b = BUF_INIT;
        if (gethostname(name, sizeof(name)) < 0)
            str_copy(name, "localhost", sizeof(name));
        name[sizeof(name) - 1] = 0;
        maildir_escape_hostname(name, &b);
        escaped = buf_detach(&b);
    }
    return escaped;
}

void maildir_unique_name(const char *escaped_host, struct buf *out)
{
    static struct timespec last;
    static unsigned long delivery_count;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long now_usec = now.tv_nsec / 1000;
    long last_usec = last.tv_nsec / 1000;
    /* Microseconds never repeat within the process, as in Dovecot: when
     * the clock has not moved on (or went back), take the next one. */
    if (now.tv_sec < last.tv_sec ||
        (now.tv_sec == last.tv_sec && now_usec <= last_usec)) {
        now.tv_sec = last.tv_sec;
        now_usec = last_usec + 1;
        if (now_usec == 1000000) {
            now.tv_sec++;
            now_usec = 0;
        }
    }
    last.tv_sec = now.tv_sec;
    last.tv_nsec = now_usec * 1000;
    delivery_count++;
    buf_appendf(out, "%lld.M%ldP%ldQ%lu.%s", (long long)now.tv_sec, now_usec,
                (long)getpid(), delivery_count, escaped_host);
}

int maildir_name_size(const char *name, char type, long long *size)
{
    for (const char *p = name; *p && *p != ':'; p++) {
        if (p[0] != ',' || p[1] != type || p[2] != '=')
            continue;
        const char *digits = p + 3;
        long long value = 0;
        const char *q = digits;
        while (*q >= '0' && *q <= '9') {
            if (value > (LLONG_MAX - (*q - '0')) / 10)
                return -1;
            value = value * 10 + (*q - '0');
            q++;
        }
        if (q == digits || (*q != 0 && *q != ',' && *q != ':'))
            return -1;
        *size = value;
        return 0;
    }
    return -1;
}

int maildir_folder_name_valid(const char *folder)
{
    size_t len = strlen(folder);
    /* ".NAME" must fit in a directory entry (NAME_MAX 255). */
    if (len == 0 || len > 254)
        return -1;
    if (folder[0] == '.' || folder[len - 1] == '.' || strstr(folder, ".."))
        return -1;
    for (const unsigned char *p = (const unsigned char *)folder; *p; p++)
        if (*p == '/' || *p < 0x20 || *p == 0x7f)
            return -1;
    return 0;
}

/* ---- directories ---- */

static const char *folder_of(const struct maildir_options *opts)
{
    const char *folder = opts->folder;
    if (folder == NULL || *folder == 0 || strcmp(folder, "INBOX") == 0)
        return NULL;
    return folder;
}

/* Creates cur/ new/ tmp/ in dir, fsyncing dir when it created any. */
static int create_subdirs(const char *dir, mode_t mode, struct buf *failed)
{
    static const char *const names[] = {"cur", "new", "tmp"};
    struct buf path = BUF_INIT;
    int created = 0, rc = 0;
    for (int i = 0; i < 3; i++) {
        buf_reset(&path);
        buf_appendf(&path, "%s/%s", dir, names[i]);
        if (mkdir(buf_cstr(&path), mode) == 0) {
            created = 1;
        } else if (errno != EEXIST) {
            buf_set_str(failed, buf_cstr(&path));
            rc = -1;
            break;
        }
    }
    if (rc == 0 && created && fsync_dir(dir, NULL) < 0) {
        buf_set_str(failed, dir);
        rc = -1;
    }
    int saved = errno;
    buf_free(&path);
    errno = saved;
    return rc;
}

int maildir_create(const struct maildir_options *opts,
                   struct store_status *status)
{
    mode_t dir_mode = opts->dir_mode ? opts->dir_mode : DEFAULT_DIR_MODE;
    mode_t file_mode = opts->file_mode ? opts->file_mode : DEFAULT_FILE_MODE;
    const char *folder = folder_of(opts);
    struct buf failed = BUF_INIT, path = BUF_INIT;
    int rc = -1;

    if (folder && maildir_folder_name_valid(folder) < 0) {
        store_status_set(status, STORE_DEFER, "4.3.5",
                         "maildir delivery failed: invalid folder name \"%s\"",
                         folder);
        goto out;
    }
    if (store_mkdirs(opts->path, dir_mode) < 0) {
        store_status_errno(status, errno,
                           "maildir delivery failed: create directory %s",
                           opts->path);
        goto out;
    }
    if (create_subdirs(opts->path, dir_mode, &failed) < 0)
        goto fail;
    if (folder) {
        buf_appendf(&path, "%s/.%s", opts->path, folder);
        if (mkdir(buf_cstr(&path), dir_mode) < 0 && errno != EEXIST) {
            buf_set_str(&failed, buf_cstr(&path));
            goto fail;
        }
        if (create_subdirs(buf_cstr(&path), dir_mode, &failed) < 0)
            goto fail;
        /* Courier and Dovecot mark a Maildir++ folder with this file.
         * Created, never opened when it exists: whatever is there (a
         * symlink planted by the mailbox owner, say) is left alone and
         * never followed. */
        buf_append_str(&path, "/maildirfolder");
        int fd = open(buf_cstr(&path),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      file_mode);
        if (fd < 0 && errno != EEXIST) {
            buf_set_str(&failed, buf_cstr(&path));
            goto fail;
        }
        if (fd >= 0)
            close(fd);
        if (fd >= 0 && fsync_dir(opts->path, NULL) < 0) {
            buf_set_str(&failed, opts->path);
            goto fail;
        }
    }
    rc = 0;
    goto out;
fail:
    store_status_errno(status, errno, "maildir delivery failed: create %s",
                       buf_cstr(&failed));
out:
    buf_free(&failed);
    buf_free(&path);
    return rc;
}

/* ---- delivery ---- */

static void delivery_free(struct maildir_delivery *d)
{
    if (d->fd >= 0)
        close(d->fd);
    free(d->root);
    free(d->dir);
    free(d->base);
    free(d->tmp_path);
    buf_free(&d->out);
    buf_free(&d->new_path);
    free(d);
}

static void new_base_name(struct maildir_delivery *d)
{
    struct buf name = BUF_INIT;
    const char *host = maildir_default_hostname();
    struct buf escaped = BUF_INIT;
    if (d->opts.hostname) {
        maildir_escape_hostname(d->opts.hostname, &escaped);
        host = buf_cstr(&escaped);
    }
    maildir_unique_name(host, &name);
    free(d->base);
    d->base = buf_detach(&name);
    buf_free(&escaped);
}

/* Creates the tmp/ file, creating the Maildir on demand. */
static int open_tmp(struct maildir_delivery *d)
{
    mode_t mode = d->opts.file_mode ? d->opts.file_mode : DEFAULT_FILE_MODE;
    int created_dirs = 0;
    for (int attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
        new_base_name(d);
        free(d->tmp_path);
        d->tmp_path = xasprintf("%s/tmp/%s", d->dir, d->base);
        d->fd =
            open(d->tmp_path,
                 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (d->fd >= 0)
            return 0;
        if (errno == ENOENT && !created_dirs) {
            if (maildir_create(&d->opts, d->status) < 0)
                return -1;
            created_dirs = 1;
            attempt--;
            continue;
        }
        if (errno != EEXIST)
            break;
    }
    store_status_errno(d->status, errno, "maildir delivery failed: create %s",
                       d->tmp_path);
    return -1;
}

static int flush_out(struct maildir_delivery *d)
{
    if (d->out.len == 0)
        return 0;
    if (store_write_all(d->fd, d->out.data, d->out.len) < 0) {
        store_status_errno(d->status, errno,
                           "maildir delivery failed: write %s", d->tmp_path);
        d->failed = 1;
        return -1;
    }
    buf_reset(&d->out);
    return 0;
}

static int check_size(struct maildir_delivery *d)
{
    if (d->opts.size_limit > 0 && d->filter.out_bytes > d->opts.size_limit) {
        store_status_set(d->status, STORE_BOUNCE, "5.2.2",
                         "maildir delivery failed: %s: message exceeds the "
                         "mailbox file size limit of %lld bytes",
                         d->dir, d->opts.size_limit);
        d->failed = 1;
        return -1;
    }
    return 0;
}

struct maildir_delivery *
maildir_delivery_open(const struct maildir_options *opts,
                      const char *leading_lines, struct store_status *status)
{
    if (opts->path == NULL || *opts->path == 0) {
        store_status_set(status, STORE_DEFER, "4.3.5",
                         "maildir delivery failed: no Maildir path");
        return NULL;
    }
    const char *folder = folder_of(opts);
    if (folder && maildir_folder_name_valid(folder) < 0) {
        store_status_set(status, STORE_DEFER, "4.3.5",
                         "maildir delivery failed: invalid folder name \"%s\"",
                         folder);
        return NULL;
    }
    struct maildir_delivery *d = xcalloc(1, sizeof(*d));
    d->status = status;
    d->opts = *opts;
    d->fd = -1;
    d->root = xstrdup(opts->path);
    d->dir =
        folder ? xasprintf("%s/.%s", opts->path, folder) : xstrdup(opts->path);
    buf_init(&d->out);
    buf_init(&d->new_path);
    store_filter_init(&d->filter, STORE_FILTER_CRLF);
    if (open_tmp(d) < 0) {
        delivery_free(d);
        return NULL;
    }
    store_status_set(status, STORE_OK, "2.0.0", "delivered to maildir");
    if (leading_lines && *leading_lines) {
        store_filter_run(&d->filter, leading_lines, strlen(leading_lines),
                         &d->out);
        store_filter_finish(&d->filter, &d->out);
        if (d->filter.last_out != '\n')
            store_filter_run(&d->filter, "\n", 1, &d->out);
    }
    return d;
}

int maildir_delivery_write(struct maildir_delivery *d, const void *data,
                           size_t len)
{
    if (d->failed)
        return -1;
    store_filter_run(&d->filter, data, len, &d->out);
    if (check_size(d) < 0)
        return -1;
    if (d->out.len >= FLUSH_SIZE)
        return flush_out(d);
    return 0;
}

void maildir_delivery_abort(struct maildir_delivery *d)
{
    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
    if (d->tmp_path)
        unlink(d->tmp_path);
    delivery_free(d);
}

static enum store_result fail(struct maildir_delivery *d)
{
    enum store_result result = d->status->result;
    if (result == STORE_OK) /* cannot happen; never report success */
        store_status_set(d->status, result = STORE_DEFER, "4.3.0",
                         "maildir delivery failed: internal error");
    maildir_delivery_abort(d);
    return result;
}

/* Checks the Maildir++ quota for a message of size bytes; *tracked
 * tells whether there is a maildirsize to update afterwards. */
static int check_quota(struct maildir_delivery *d, long long size, int *tracked)
{
    struct maildir_quota_usage usage;
    struct buf err = BUF_INIT;
    mode_t mode = d->opts.file_mode ? d->opts.file_mode : DEFAULT_FILE_MODE;
    int rc =
        maildir_quota_get(d->root, &d->opts.quota, size, mode, &usage, &err);
    if (rc < 0) {
        store_status_set(d->status, STORE_DEFER, "4.3.0",
                         "maildir delivery failed: quota: %s", buf_cstr(&err));
    } else if (rc > 0 && !maildir_quota_fits(&usage, size)) {
        store_status_set(d->status, STORE_OVER_QUOTA, "5.2.2",
                         "maildir delivery failed: %s: mailbox is full "
                         "(Maildir++ quota: %lld of %lld bytes, %lld of "
                         "%lld messages used; message is %lld bytes)",
                         d->root, usage.bytes, usage.limit_bytes, usage.count,
                         usage.limit_count, size);
        rc = -1;
    } else {
        rc = 0;
    }
    *tracked = usage.file_exists;
    buf_free(&err);
    return rc;
}

/* Moves the tmp/ file to new/NAME without replacing anything there. */
static int move_to_new(struct maildir_delivery *d, long long size,
                       long long vsize, struct buf *new_path)
{
    int created_dirs = 0;
    for (int attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
        buf_reset(new_path);
        buf_appendf(new_path, "%s/new/%s,S=%lld,W=%lld", d->dir, d->base, size,
                    vsize);
        int rc = renameat2(AT_FDCWD, d->tmp_path, AT_FDCWD, buf_cstr(new_path),
                           RENAME_NOREPLACE);
        if (rc < 0 &&
            (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
            /* No RENAME_NOREPLACE here: link() never replaces either. */
            rc = link(d->tmp_path, buf_cstr(new_path));
            if (rc == 0)
                unlink(d->tmp_path);
        }
        if (rc == 0)
            return 0;
        if (errno == ENOENT && !created_dirs) {
            /* new/ vanished (someone tidied an empty Maildir). */
            if (create_subdirs(d->dir,
                               d->opts.dir_mode ? d->opts.dir_mode
                                                : DEFAULT_DIR_MODE,
                               new_path) < 0)
                break;
            created_dirs = 1;
            attempt--;
            continue;
        }
        if (errno != EEXIST)
            break;
        new_base_name(d);
    }
    store_status_errno(d->status, errno,
                       "maildir delivery failed: rename %s to %s", d->tmp_path,
                       buf_cstr(new_path));
    return -1;
}

enum store_result maildir_delivery_prepare(struct maildir_delivery *d)
{
    if (d->failed)
        return fail(d);
    store_filter_finish(&d->filter, &d->out);
    if (check_size(d) < 0 || flush_out(d) < 0)
        return fail(d);
    d->size = d->filter.out_bytes;
    d->vsize = d->size + d->filter.bare_lf;
    if (check_quota(d, d->size, &d->quota_tracked) < 0)
        return fail(d);
    return STORE_OK;
}

void maildir_delivery_set_status(struct maildir_delivery *d,
                                 struct store_status *status)
{
    store_status_set(status, d->status->result, d->status->dsn, "%s",
                     buf_cstr(&d->status->reason));
    d->status = status;
}

int maildir_delivery_fd(const struct maildir_delivery *d)
{
    return d->fd;
}

enum store_result maildir_delivery_publish(struct maildir_delivery *d,
                                           int sync_errno)
{
    if (sync_errno) {
        errno = sync_errno;
        store_status_errno(d->status, errno,
                           "maildir delivery failed: fsync %s", d->tmp_path);
        return fail(d);
    }
    int rc = close(d->fd);
    d->fd = -1;
    if (rc < 0) {
        store_status_errno(d->status, errno,
                           "maildir delivery failed: close %s", d->tmp_path);
        return fail(d);
    }
    if (move_to_new(d, d->size, d->vsize, &d->new_path) < 0)
        return fail(d);
    return STORE_OK;
}

const char *maildir_delivery_new_dir(const struct maildir_delivery *d,
                                     struct buf *out)
{
    buf_reset(out);
    buf_appendf(out, "%s/new", d->dir);
    return buf_cstr(out);
}

enum store_result maildir_delivery_finish(struct maildir_delivery *d,
                                          int sync_errno,
                                          struct buf *final_path)
{
    if (sync_errno) {
        errno = sync_errno;
        store_status_errno(d->status, errno,
                           "maildir delivery failed: fsync %s/new", d->dir);
        /* Not known to be on disk: take it back so that the retry the
         * agent will make does not deliver twice. */
        unlink(buf_cstr(&d->new_path));
        free(d->tmp_path);
        d->tmp_path = NULL;
        return fail(d);
    }
    struct buf err = BUF_INIT;
    if (d->quota_tracked && maildir_quota_update(d->root, d->size, 1, &err) < 0)
        log_warn("maildir quota update: %s", buf_cstr(&err));
    buf_free(&err);
    store_status_set(d->status, STORE_OK, "2.0.0", "delivered to maildir");
    if (final_path)
        buf_set(final_path, d->new_path.data, d->new_path.len);
    free(d->tmp_path);
    d->tmp_path = NULL;
    delivery_free(d);
    return STORE_OK;
}

enum store_result maildir_delivery_commit(struct maildir_delivery *d,
                                          struct buf *final_path)
{
    enum store_result r = maildir_delivery_prepare(d);
    if (r != STORE_OK)
        return r;
    int err = fsync(d->fd) < 0 ? errno : 0;
    r = maildir_delivery_publish(d, err);
    if (r != STORE_OK)
        return r;
    struct buf new_dir = BUF_INIT;
    err = fsync_dir(maildir_delivery_new_dir(d, &new_dir), NULL) < 0 ? errno
                                                                      : 0;
    buf_free(&new_dir);
    return maildir_delivery_finish(d, err, final_path);
}
