/* subscriptions.c: Dovecot's `subscriptions` file: the parser, the
 * reader and the locked, atomic editor. See subscriptions.h. */
#include "storage/subscriptions.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/file_read.h"
#include "base/fsync_dir.h"
#include "storage/store.h"

#define VERSION2_HEADER "V\t2\n\n"
#define ESCAPE_CHAR '\001'
#define LOCK_SUFFIX ".lock"
#define LOCK_STALE_SECONDS 30
#define LOCK_WAIT_MS 3000
#define LOCK_RETRY_MS 20

/* Unescapes one version 2 level into out. -1 for a byte no level may
 * hold or a bad escape. */
static int level_unescape(const char *text, size_t len, struct buf *out)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == ESCAPE_CHAR) {
            if (++i == len)
                return -1;
            switch (text[i]) {
            case '1': c = ESCAPE_CHAR; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            default: return -1;
            }
        }
        buf_append_char(out, c);
    }
    return 0;
}

/* Checks a storage name with '.' between levels: not empty, no empty
 * level, no control character and no '/'. */
static int storage_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > SUBSCRIPTIONS_NAME_MAX || name[0] == '.' ||
        name[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '/')
            return 0;
        if (c == '.' && i + 1 < len && name[i + 1] == '.')
            return 0;
    }
    return 1;
}

/* One line to its storage name in out; 0, or -1 to skip it. */
static int line_to_storage_name(const char *line, size_t len, int version,
                                struct buf *out)
{
    buf_reset(out);
    if (len > SUBSCRIPTIONS_NAME_MAX)
        return -1;
    if (version < 2) {
        buf_set(out, line, len);
    } else {
        size_t start = 0;
        for (;;) {
            const char *tab = memchr(line + start, '\t', len - start);
            size_t level_len = tab ? (size_t)(tab - (line + start))
                                   : len - start;
            size_t before = out->len;
            if (level_unescape(line + start, level_len, out) < 0 ||
                memchr(out->data + before, '.', out->len - before))
                return -1;
            if (!tab)
                break;
            buf_append_char(out, '.');
            start += level_len + 1;
        }
    }
    /* INBOX in any case is INBOX (an old file may say "inbox"). */
    if (out->len >= 5 && strncasecmp(out->data, "INBOX", 5) == 0 &&
        (out->len == 5 || out->data[5] == '.'))
        memcpy(out->data, "INBOX", 5);
    return storage_name_valid(out->data, out->len) ? 0 : -1;
}

static int strlist_has(const struct strlist *list, const char *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i], item) == 0)
            return 1;
    return 0;
}

static int header_version(const char *text, size_t len, size_t *skip)
{
    size_t header_len = sizeof(VERSION2_HEADER) - 1;
    if (len >= header_len && memcmp(text, VERSION2_HEADER, header_len) == 0) {
        *skip = header_len;
        return 2;
    }
    *skip = 0;
    return 0;
}

int subscriptions_parse(const char *text, size_t len, struct strlist *out)
{
    size_t pos;
    int version = header_version(text, len, &pos);
    struct buf name = BUF_INIT;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (line_to_storage_name(text + pos, line_len, version, &name) == 0 &&
            !strlist_has(out, name.data))
            strlist_add(out, name.data);
        pos += line_len + 1;
    }
    buf_free(&name);
    return version;
}

static void file_path(const struct mailbox_list *list, const char *suffix,
                      struct buf *path)
{
    buf_set_str(path, list->root);
    if (path->len == 0 || path->data[path->len - 1] != '/')
        buf_append_char(path, '/');
    buf_append_str(path, SUBSCRIPTIONS_FILE);
    buf_append_str(path, suffix);
}

/* Reads the file into content (empty when missing). 0 or -1. */
static int read_file(const struct mailbox_list *list, struct buf *content,
                     struct buf *error)
{
    struct buf path = BUF_INIT;
    file_path(list, "", &path);
    buf_reset(error);
    int rc = file_read(path.data, SUBSCRIPTIONS_FILE_MAX, content, error);
    if (rc < 0 && errno == ENOENT) {
        buf_reset(content);
        buf_reset(error);
        rc = 0;
    }
    buf_free(&path);
    return rc;
}

/* The storage name of a client name ("INBOX" for INBOX). */
static int storage_name_of(const struct mailbox_list *list, const char *name,
                           struct buf *storage, struct buf *error)
{
    if (mailbox_list_name_to_disk(list, name, storage, error) !=
        MAILBOX_LIST_OK)
        return -1;
    if (storage->len == 0)
        buf_set_str(storage, "INBOX");
    return 0;
}

int subscriptions_read(const struct mailbox_list *list, struct strlist *names,
                       struct buf *error)
{
    struct buf content = BUF_INIT, name = BUF_INIT;
    struct strlist storage;

    strlist_init(&storage);
    if (read_file(list, &content, error) < 0) {
        buf_free(&content);
        return -1;
    }
    subscriptions_parse(content.data, content.len, &storage);
    for (size_t i = 0; i < storage.count; i++) {
        const char *disk = storage.items[i];
        if (strcmp(disk, "INBOX") == 0)
            disk = "";
        if (mailbox_list_disk_to_name(list, disk, &name) == 0 &&
            !strlist_has(names, name.data))
            strlist_add(names, name.data);
    }
    strlist_free(&storage);
    buf_free(&content);
    buf_free(&name);
    return 0;
}

/* Writes one entry as a line of the given version. */
static void append_entry(struct buf *out, const char *storage_name,
                         int version)
{
    if (version < 2) {
        buf_append_str(out, storage_name);
    } else {
        for (const char *p = storage_name; *p; p++) {
            switch (*p) {
            case '.': buf_append_char(out, '\t'); break;
            case ESCAPE_CHAR: buf_append_str(out, "\001" "1"); break;
            case '\t': buf_append_str(out, "\001t"); break;
            case '\r': buf_append_str(out, "\001r"); break;
            case '\n': buf_append_str(out, "\001n"); break;
            default: buf_append_char(out, *p);
            }
        }
    }
    buf_append_char(out, '\n');
}

/* Takes the dotlock: creates path.lock with O_EXCL, waiting a bounded
 * time for another holder and breaking a stale lock. The fd, or -1. */
static int lock_take(const char *lock_path, struct buf *error)
{
    for (int waited = 0;; waited += LOCK_RETRY_MS) {
        int fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                     O_CLOEXEC, 0600);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST) {
            buf_reset(error);
            buf_appendf(error, "create %s: %s", lock_path, strerror(errno));
            return -1;
        }
        struct stat st;
        if (lstat(lock_path, &st) == 0 &&
            time(NULL) - st.st_mtime > LOCK_STALE_SECONDS) {
            unlink(lock_path);
            continue;
        }
        if (waited >= LOCK_WAIT_MS) {
            buf_set_str(error, "Timeout waiting for subscription file lock");
            return -1;
        }
        struct timespec pause = {0, LOCK_RETRY_MS * 1000000L};
        nanosleep(&pause, NULL);
    }
}

int subscriptions_set(const struct mailbox_list *list, const char *name,
                      int subscribe, struct buf *error)
{
    struct buf wanted = BUF_INIT, content = BUF_INIT, out = BUF_INIT,
               entry = BUF_INIT, path = BUF_INIT, lock_path = BUF_INIT;
    int rc = -1, fd = -1;

    if (storage_name_of(list, name, &wanted, error) < 0)
        goto done;
    if (store_mkdirs(list->root, list->dir_mode ? list->dir_mode : 0700) < 0) {
        buf_reset(error);
        buf_appendf(error, "create directory %s: %s", list->root,
                    strerror(errno));
        goto done;
    }
    file_path(list, "", &path);
    file_path(list, LOCK_SUFFIX, &lock_path);
    fd = lock_take(lock_path.data, error);
    if (fd < 0)
        goto done;
    if (read_file(list, &content, error) < 0)
        goto done;

    /* Copy every line but the one named, as it is; add it at the end. */
    size_t pos;
    int version = header_version(content.data, content.len, &pos);
    if (content.len == 0)
        version = 2;
    if (version == 2)
        buf_append_str(&out, VERSION2_HEADER);
    int found = 0, changed = 0;
    while (pos < content.len) {
        const char *line = content.data + pos;
        const char *nl = memchr(line, '\n', content.len - pos);
        size_t line_len = nl ? (size_t)(nl - line) : content.len - pos;
        pos += line_len + 1;
        if (line_to_storage_name(line, line_len, version, &entry) == 0 &&
            strcmp(entry.data, wanted.data) == 0) {
            found = 1;
            if (!subscribe) {
                changed = 1;
                continue;
            }
        }
        if (line_len == 0)
            continue;
        buf_append(&out, line, line_len);
        buf_append_char(&out, '\n');
    }
    if (subscribe && !found) {
        append_entry(&out, wanted.data, version);
        changed = 1;
    }
    if (!changed) {
        rc = 0;
        goto done;
    }
    if (store_write_all(fd, out.data, out.len) < 0 || fsync(fd) < 0) {
        buf_reset(error);
        buf_appendf(error, "write %s: %s", lock_path.data, strerror(errno));
        goto done;
    }
    if (rename(lock_path.data, path.data) < 0) {
        buf_reset(error);
        buf_appendf(error, "rename %s: %s", lock_path.data, strerror(errno));
        goto done;
    }
    buf_reset(&lock_path); /* the lock is gone with the rename */
    if (fsync_dir(list->root, error) < 0)
        goto done;
    rc = 1;
done:
    if (fd >= 0) {
        close(fd);
        if (lock_path.len > 0)
            unlink(lock_path.data);
    }
    buf_free(&wanted);
    buf_free(&content);
    buf_free(&out);
    buf_free(&entry);
    buf_free(&path);
    buf_free(&lock_path);
    return rc;
}
