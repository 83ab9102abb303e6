/* maildir_quota.c: reading, recalculating and updating the Maildir++
 * `maildirsize` file (see maildir_quota.h). The parser is the only code
 * here that reads untrusted bytes; it is bounded by the length it is
 * given and is fuzzed by fuzz/fuzz_maildirsize.c. */
#include "storage/maildir_quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/maildir.h"
#include "base/mem.h"
#include "base/str.h"

/* ---- parsing ---- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses an optionally signed decimal number at data[*pos..len), with a
 * bound on the value. 0, or -1 when there are no digits or it overflows. */
static int parse_number(const char *data, size_t len, size_t *pos,
                        int allow_sign, long long *out)
{
    size_t i = *pos;
    int negative = 0;
    if (allow_sign && i < len && (data[i] == '-' || data[i] == '+')) {
        negative = data[i] == '-';
        i++;
    }
    if (i >= len || data[i] < '0' || data[i] > '9')
        return -1;
    long long value = 0;
    while (i < len && data[i] >= '0' && data[i] <= '9') {
        int digit = data[i] - '0';
        if (value > (LLONG_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
        i++;
    }
    *out = negative ? -value : value;
    *pos = i;
    return 0;
}

int maildir_quota_parse_limits(const char *line, size_t len, long long *bytes,
                               long long *count)
{
    int rc = 0;
    size_t pos = 0;
    *bytes = *count = 0;
    while (pos <= len) {
        size_t end = pos;
        while (end < len && line[end] != ',')
            end++;
        size_t i = pos;
        while (i < end && is_blank(line[i]))
            i++;
        size_t item_end = end;
        while (item_end > i && is_blank(line[item_end - 1]))
            item_end--;
        long long value;
        if (len == 0) {
            /* An empty header: no limits. */
        } else if (parse_number(line, item_end, &i, 0, &value) < 0 ||
                   i + 1 != item_end) {
            rc = -1;
        } else if (line[i] == 'S') {
            *bytes = value;
        } else if (line[i] == 'C') {
            *count = value;
        } else {
            rc = -1;
        }
        pos = end + 1;
    }
    return rc;
}

void maildir_quota_format_limits(long long bytes, long long count,
                                 struct buf *out)
{
    /* As Dovecot: "0S" stands for "no limits" rather than an empty line. */
    if (bytes != 0 || count == 0)
        buf_appendf(out, "%lldS", bytes);
    if (count != 0)
        buf_appendf(out, "%s%lldC", bytes != 0 ? "," : "", count);
}

/* Parses "<bytes> <count>" with optional blanks around the numbers. */
static int parse_change(const char *line, size_t len, long long *bytes,
                        long long *count)
{
    size_t pos = 0;
    while (pos < len && is_blank(line[pos]))
        pos++;
    if (parse_number(line, len, &pos, 1, bytes) < 0)
        return -1;
    if (pos >= len || !is_blank(line[pos]))
        return -1;
    while (pos < len && is_blank(line[pos]))
        pos++;
    if (parse_number(line, len, &pos, 1, count) < 0)
        return -1;
    while (pos < len && is_blank(line[pos]))
        pos++;
    return pos == len ? 0 : -1;
}

static int add_checked(long long *sum, long long value)
{
    if ((value > 0 && *sum > LLONG_MAX - value) ||
        (value < 0 && *sum < LLONG_MIN - value))
        return -1;
    *sum += value;
    return 0;
}

int maildir_quota_parse(const char *data, size_t len,
                        struct maildir_quota_usage *usage)
{
    memset(usage, 0, sizeof(*usage));
    const char *nl = len ? memchr(data, '\n', len) : NULL;
    if (nl == NULL)
        return 0; /* no complete header */
    size_t header_len = (size_t)(nl - data);
    if (memchr(data, 0, header_len) != NULL)
        return 0;
    (void)maildir_quota_parse_limits(data, header_len, &usage->limit_bytes,
                                     &usage->limit_count);
    int trusted = len < MAILDIR_QUOTA_MAX_FILE;
    size_t pos = header_len + 1;
    while (pos < len) {
        const char *end = memchr(data + pos, '\n', len - pos);
        if (end == NULL)
            break; /* an append in progress: ignore, as Dovecot does */
        size_t line_len = (size_t)(end - (data + pos));
        long long bytes, count;
        if (memchr(data + pos, 0, line_len) != NULL ||
            parse_change(data + pos, line_len, &bytes, &count) < 0 ||
            add_checked(&usage->bytes, bytes) < 0 ||
            add_checked(&usage->count, count) < 0) {
            trusted = 0;
            break;
        }
        if (usage->change_lines < INT_MAX)
            usage->change_lines++;
        pos += line_len + 1;
    }
    if (usage->change_lines == 0 || usage->bytes < 0 || usage->count < 0)
        trusted = 0;
    if (!trusted)
        usage->bytes = usage->count = 0;
    return trusted;
}

int maildir_quota_fits(const struct maildir_quota_usage *usage,
                       long long add_bytes)
{
    if (usage->limit_bytes > 0 &&
        (add_bytes > usage->limit_bytes ||
         usage->bytes > usage->limit_bytes - add_bytes))
        return 0;
    if (usage->limit_count > 0 && usage->count >= usage->limit_count)
        return 0;
    return 1;
}

/* ---- scanning ---- */

struct scanned_dir {
    char *path;
    struct timespec mtime;
    int exists;
};

struct scan {
    struct scanned_dir *dirs;
    size_t count, cap;
};

static void scan_note_dir(struct scan *scan, const char *path)
{
    if (scan->count == scan->cap) {
        scan->cap = scan->cap ? scan->cap * 2 : 16;
        scan->dirs = xreallocarray(scan->dirs, scan->cap, sizeof(*scan->dirs));
    }
    struct scanned_dir *dir = &scan->dirs[scan->count++];
    struct stat st;
    dir->path = xstrdup(path);
    dir->exists = stat(path, &st) == 0;
    dir->mtime = dir->exists ? st.st_mtim : (struct timespec){0, 0};
}

static void scan_free(struct scan *scan)
{
    for (size_t i = 0; i < scan->count; i++)
        free(scan->dirs[i].path);
    free(scan->dirs);
    memset(scan, 0, sizeof(*scan));
}

/* Whether any scanned directory changed since it was noted. */
static int scan_changed(const struct scan *scan)
{
    for (size_t i = 0; i < scan->count; i++) {
        struct stat st;
        int exists = stat(scan->dirs[i].path, &st) == 0;
        if (exists != scan->dirs[i].exists)
            return 1;
        if (exists && (st.st_mtim.tv_sec != scan->dirs[i].mtime.tv_sec ||
                       st.st_mtim.tv_nsec != scan->dirs[i].mtime.tv_nsec))
            return 1;
    }
    return 0;
}

static int sum_dir(struct scan *scan, const char *path, long long *bytes,
                   long long *count, struct buf *err)
{
    scan_note_dir(scan, path);
    DIR *dir = opendir(path);
    if (dir == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        buf_set_str(err, "");
        buf_appendf(err, "open directory %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *ent;
    while ((ent = readdir(dir)) != NULL) {
        if (ent->d_name[0] == '.')
            continue; /* ".", "..", and never a message */
        long long size;
        if (maildir_name_size(ent->d_name, 'S', &size) < 0) {
            struct stat st;
            if (fstatat(dirfd(dir), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) <
                0) {
                if (errno == ENOENT)
                    continue; /* moved or expunged meanwhile */
                buf_set_str(err, "");
                buf_appendf(err, "stat %s/%s: %s", path, ent->d_name,
                            strerror(errno));
                rc = -1;
                break;
            }
            size = st.st_size;
        }
        if (add_checked(bytes, size) < 0 || add_checked(count, 1) < 0) {
            buf_set_str(err, "");
            buf_appendf(err, "%s: sizes overflow", path);
            rc = -1;
            break;
        }
    }
    closedir(dir);
    return rc;
}

static int scan_once(struct scan *scan, const char *root, long long *bytes,
                     long long *count, struct buf *err)
{
    struct buf path = BUF_INIT;
    int rc = 0;
    *bytes = *count = 0;
    scan_note_dir(scan, root); /* folders created or removed */
    static const char *const subdirs[] = {"new", "cur"};
    for (int i = 0; i < 2 && rc == 0; i++) {
        buf_reset(&path);
        buf_appendf(&path, "%s/%s", root, subdirs[i]);
        rc = sum_dir(scan, buf_cstr(&path), bytes, count, err);
    }
    DIR *dir = rc == 0 ? opendir(root) : NULL;
    if (rc == 0 && dir == NULL) {
        buf_set_str(err, "");
        buf_appendf(err, "open directory %s: %s", root, strerror(errno));
        rc = -1;
    }
    struct dirent *ent;
    while (rc == 0 && (ent = readdir(dir)) != NULL) {
        const char *name = ent->d_name;
        if (name[0] != '.' || name[1] == 0 || (name[1] == '.' && name[2] == 0))
            continue;
        for (int i = 0; i < 2 && rc == 0; i++) {
            buf_reset(&path);
            buf_appendf(&path, "%s/%s/%s", root, name, subdirs[i]);
            rc = sum_dir(scan, buf_cstr(&path), bytes, count, err);
        }
    }
    if (dir)
        closedir(dir);
    buf_free(&path);
    return rc;
}

int maildir_quota_scan(const char *root, long long *bytes, long long *count,
                       struct buf *err)
{
    struct scan scan = {0};
    int rc = scan_once(&scan, root, bytes, count, err);
    scan_free(&scan);
    return rc;
}

/* ---- the file ---- */

static char *quota_path(const char *root)
{
    return xasprintf("%s/" MAILDIR_QUOTA_FILE_NAME, root);
}

/* Replaces maildirsize with a header and one usage line. */
static int write_file(const char *root, long long limit_bytes,
                      long long limit_count, long long bytes, long long count,
                      mode_t file_mode, struct buf *err)
{
    struct buf host = BUF_INIT, tmp = BUF_INIT, text = BUF_INIT;
    char *path = quota_path(root);
    int rc = -1;
    maildir_escape_hostname("quota", &host);
    buf_appendf(&tmp, "%s/" MAILDIR_QUOTA_FILE_NAME ".", root);
    maildir_unique_name(buf_cstr(&host), &tmp);
    maildir_quota_format_limits(limit_bytes, limit_count, &text);
    buf_appendf(&text, "\n%lld %lld\n", bytes, count);
    int fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  file_mode ? file_mode : 0600);
    if (fd < 0) {
        buf_set_str(err, "");
        buf_appendf(err, "create %s: %s", buf_cstr(&tmp), strerror(errno));
        goto out;
    }
    if (store_write_all(fd, text.data, text.len) < 0 || close(fd) < 0) {
        buf_set_str(err, "");
        buf_appendf(err, "write %s: %s", buf_cstr(&tmp), strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(buf_cstr(&tmp));
        goto out;
    }
    if (rename(buf_cstr(&tmp), path) < 0) {
        buf_set_str(err, "");
        buf_appendf(err, "rename %s to %s: %s", buf_cstr(&tmp), path,
                    strerror(errno));
        unlink(buf_cstr(&tmp));
        goto out;
    }
    rc = 0;
out:
    buf_free(&host);
    buf_free(&tmp);
    buf_free(&text);
    free(path);
    return rc;
}

/* Rescans until the Maildir holds still (bounded), then rewrites the
 * file. A Maildir that keeps changing still yields a usable sum; the
 * file is then left for the next recalculation, as Dovecot does. */
static int recalculate(const char *root, struct maildir_quota_usage *usage,
                       mode_t file_mode, struct buf *err)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        struct scan scan = {0};
        int rc = scan_once(&scan, root, &usage->bytes, &usage->count, err);
        int changed = rc == 0 && scan_changed(&scan);
        scan_free(&scan);
        if (rc < 0)
            return -1;
        if (changed)
            continue;
        usage->change_lines = 1;
        return write_file(root, usage->limit_bytes, usage->limit_count,
                          usage->bytes, usage->count, file_mode, err);
    }
    usage->change_lines = 1;
    return 0;
}

int maildir_quota_get(const char *root,
                      const struct maildir_quota_limits *limits,
                      long long add_bytes, mode_t file_mode,
                      struct maildir_quota_usage *usage, struct buf *err)
{
    char *path = quota_path(root);
    char data[MAILDIR_QUOTA_MAX_FILE + 1];
    size_t len = 0;
    struct stat st;
    int need_recalc = 0, exists = 1;

    memset(&st, 0, sizeof(st));
    memset(usage, 0, sizeof(*usage));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno != ENOENT) {
            buf_set_str(err, "");
            buf_appendf(err, "open %s: %s", path, strerror(errno));
            free(path);
            return -1;
        }
        exists = 0;
    } else {
        ssize_t n;
        while (len < sizeof(data) &&
               ((n = read(fd, data + len, sizeof(data) - len)) != 0)) {
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                buf_set_str(err, "");
                buf_appendf(err, "read %s: %s", path, strerror(errno));
                close(fd);
                free(path);
                return -1;
            }
            len += (size_t)n;
        }
        if (fstat(fd, &st) < 0)
            st.st_mtime = 0;
        close(fd);
    }
    free(path);

    if (!exists) {
        if (limits->mode != MAILDIR_QUOTA_LIMITS)
            return 0;
        need_recalc = 1;
    } else if (!maildir_quota_parse(data, len, usage)) {
        need_recalc = 1;
    }
    if (limits->mode == MAILDIR_QUOTA_LIMITS) {
        if (exists && (usage->limit_bytes != limits->bytes ||
                       usage->limit_count != limits->count))
            need_recalc = 1;
        usage->limit_bytes = limits->bytes;
        usage->limit_count = limits->count;
    }
    /* Dovecot rechecks a stale file when it says "over quota"; we do so
     * whenever it would refuse this message, which only rechecks more. */
    if (!need_recalc && !maildir_quota_fits(usage, add_bytes) &&
        (usage->change_lines > 1 ||
         st.st_mtime < time(NULL) - MAILDIR_QUOTA_STALE_SECS))
        need_recalc = 1;
    if (need_recalc && recalculate(root, usage, file_mode, err) < 0)
        return -1;
    usage->file_exists = exists || need_recalc;
    return limits->mode == MAILDIR_QUOTA_NONE ? 0 : 1;
}

int maildir_quota_update(const char *root, long long bytes, long long count,
                         struct buf *err)
{
    char *path = quota_path(root);
    char line[64];
    int rc = 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno != ENOENT) {
            buf_set_str(err, "");
            buf_appendf(err, "open %s: %s", path, strerror(errno));
            rc = -1;
        }
        free(path);
        return rc;
    }
    int n = snprintf(line, sizeof(line), "%lld %lld\n", bytes, count);
    /* One write: O_APPEND keeps concurrent lines whole. */
    ssize_t written = write(fd, line, (size_t)n);
    if (written != n) {
        buf_set_str(err, "");
        buf_appendf(err, "write %s: %s", path,
                    written < 0 ? strerror(errno) : "short write");
        rc = -1;
    }
    if (close(fd) < 0 && rc == 0) {
        buf_set_str(err, "");
        buf_appendf(err, "close %s: %s", path, strerror(errno));
        rc = -1;
    }
    free(path);
    return rc;
}
