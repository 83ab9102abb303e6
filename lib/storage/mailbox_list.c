/* mailbox_list.c: the folders of a Maildir++ root as Dovecot lays them
 * out: listing, the client name <-> directory name mapping, CREATE,
 * DELETE and RENAME. See mailbox_list.h. */
#include "storage/mailbox_list.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_read.h"
#include "base/fsync_dir.h"
#include "base/mem.h"
#include "base/str.h"
#include "imap/imap_utf7.h"
#include "storage/maildir.h"
#include "storage/store.h"

#define DISK_SEPARATOR '.'
/* The longest directory entry: "." plus the name. */
#define FOLDER_DIRENT_MAX 255
/* Deepest directory tree a folder may hold (cur/new/tmp and whatever
 * another program left there) that DELETE removes. */
#define DELETE_DEPTH_MAX 8
/* dovecot-keywords is small (26 names of at most ~50 bytes). */
#define KEYWORDS_FILE_MAX 65536

const char *mailbox_list_code(enum mailbox_list_result result)
{
    switch (result) {
    case MAILBOX_LIST_OK:
        return NULL;
    case MAILBOX_LIST_BAD_NAME:
    case MAILBOX_LIST_REFUSED:
        return "CANNOT";
    case MAILBOX_LIST_EXISTS:
        return "ALREADYEXISTS";
    case MAILBOX_LIST_NONEXISTENT:
        return "NONEXISTENT";
    case MAILBOX_LIST_FAILED:
        break;
    }
    return "SERVERBUG";
}

static enum mailbox_list_result bad_name(struct buf *error, const char *why)
{
    buf_set_str(error, why);
    return MAILBOX_LIST_BAD_NAME;
}

/* Whether [text, text+len) is "INBOX" in any case. */
static int is_inbox_level(const char *text, size_t len)
{
    return len == 5 && strncasecmp(text, "INBOX", 5) == 0;
}

enum mailbox_list_result mailbox_list_name_to_disk(
    const struct mailbox_list *list, const char *name, struct buf *disk,
    struct buf *error)
{
    char sep = list->separator;
    char other = sep == '/' ? '.' : '/';
    size_t len = strlen(name);

    buf_reset(disk);
    buf_reset(error);
    if (len > 1 && name[len - 1] == sep)
        len--; /* "Sent/" is "Sent" */
    if (len == 0)
        return bad_name(error, "Invalid mailbox name: Name is empty");
    if (name[0] == sep)
        return bad_name(error,
                        "Invalid mailbox name: Begins with hierarchy separator");
    if (name[0] == '~')
        return bad_name(error, "Invalid mailbox name: Begins with '~'");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return bad_name(error, "Invalid mailbox name: Control characters");
        if (name[i] == other) {
            if (other == '/')
                return bad_name(error, "Invalid mailbox name: Name must not "
                                       "have '/' characters");
            return bad_name(error,
                            "Character not allowed in mailbox name: '.'");
        }
        if (name[i] == sep && i + 1 < len && name[i + 1] == sep)
            return bad_name(error, "Invalid mailbox name: Has adjacent "
                                   "hierarchy separators");
    }
    if (len > IMAP_MAILBOX_NAME_MAX)
        return bad_name(error, "Mailbox name too long");

    size_t start = 0;
    int first = 1;
    while (start <= len) {
        const char *end = memchr(name + start, sep, len - start);
        size_t level_len = end ? (size_t)(end - (name + start)) : len - start;
        if (level_len == 0)
            return bad_name(error, "Invalid mailbox name: Empty level");
        if (first && is_inbox_level(name + start, level_len)) {
            if (!end)
                return MAILBOX_LIST_OK; /* INBOX: the root, "" */
            buf_append_str(disk, "INBOX");
        } else {
            if (!first)
                buf_append_char(disk, DISK_SEPARATOR);
            if (imap_utf7_encode(name + start, level_len, disk) < 0)
                return bad_name(error,
                                "Invalid mailbox name: Not valid UTF-8");
        }
        first = 0;
        if (!end)
            break;
        start += level_len + 1;
    }
    if (disk->len + 1 > FOLDER_DIRENT_MAX)
        return bad_name(error, "Mailbox name too long");
    if (maildir_folder_name_valid(disk->data) < 0)
        return bad_name(error, "Invalid mailbox name");
    return MAILBOX_LIST_OK;
}

int mailbox_list_disk_to_name(const struct mailbox_list *list,
                              const char *disk_name, struct buf *name)
{
    size_t len = strlen(disk_name);
    size_t start = 0;

    buf_reset(name);
    if (len == 0) {
        buf_set_str(name, "INBOX");
        return 0;
    }
    if (len + 1 > FOLDER_DIRENT_MAX)
        return -1;
    for (;;) {
        const char *end = memchr(disk_name + start, DISK_SEPARATOR, len - start);
        size_t level_len = end ? (size_t)(end - (disk_name + start))
                               : len - start;
        if (level_len == 0)
            return -1;
        if (start == 0 && is_inbox_level(disk_name, level_len)) {
            /* .INBOX.x is INBOX's child; .INBOX itself and .inbox.x
             * (which no name maps to) are not folders. */
            if (!end || strncmp(disk_name, "INBOX", 5) != 0)
                return -1;
            buf_append_str(name, "INBOX");
        } else {
            size_t before = name->len;
            if (imap_utf7_decode(disk_name + start, level_len, name) < 0)
                return -1;
            for (size_t i = before; i < name->len; i++) {
                unsigned char c = (unsigned char)name->data[i];
                if (c < 0x20 || c == 0x7f || name->data[i] == list->separator)
                    return -1;
            }
        }
        if (!end)
            return 0;
        buf_append_char(name, list->separator);
        start += level_len + 1;
    }
}

void mailbox_list_path(const struct mailbox_list *list, const char *disk_name,
                       struct buf *path)
{
    buf_set_str(path, list->root);
    if (disk_name[0] == '\0')
        return;
    if (path->len == 0 || path->data[path->len - 1] != '/')
        buf_append_char(path, '/');
    buf_append_char(path, '.');
    buf_append_str(path, disk_name);
}

/* ---- listing ---- */

/* Orders names by level: "a" < "a/b" < "a b" (the separator sorts
 * before every other byte), so children follow their parent; INBOX and
 * its children come first. */
static int name_cmp(const char *a, const char *b, char sep)
{
    for (;; a++, b++) {
        unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca == cb) {
            if (ca == '\0')
                return 0;
            continue;
        }
        if (ca == '\0')
            return -1;
        if (cb == '\0')
            return 1;
        if (ca == (unsigned char)sep)
            return -1;
        if (cb == (unsigned char)sep)
            return 1;
        return ca < cb ? -1 : 1;
    }
}

static int is_inbox_or_below(const char *name, char sep)
{
    return strncmp(name, "INBOX", 5) == 0 &&
           (name[5] == '\0' || name[5] == sep);
}

int mailbox_list_name_cmp(const char *a, const char *b, char sep)
{
    int a_inbox = is_inbox_or_below(a, sep), b_inbox = is_inbox_or_below(b, sep);
    if (a_inbox != b_inbox)
        return a_inbox ? -1 : 1;
    return name_cmp(a, b, sep);
}

static int entry_cmp(const void *pa, const void *pb, void *sep_arg)
{
    const struct mailbox_list_entry *a = pa, *b = pb;
    return mailbox_list_name_cmp(a->name, b->name, *(const char *)sep_arg);
}

struct entry_array {
    struct mailbox_list_entry *items;
    size_t count, cap;
};

static struct mailbox_list_entry *entry_add(struct entry_array *a,
                                            const char *name,
                                            const char *disk_name,
                                            unsigned flags)
{
    if (a->count == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->items = xreallocarray(a->items, a->cap, sizeof(*a->items));
    }
    struct mailbox_list_entry *e = &a->items[a->count++];
    e->name = xstrdup(name);
    e->disk_name = xstrdup(disk_name);
    e->flags = flags;
    return e;
}

static void snapshot_free_entries(struct mailbox_list_entry *items,
                                  size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(items[i].name);
        free(items[i].disk_name);
    }
    free(items);
}

/* Whether the directory entry at dirfd/name is a directory (following a
 * symbolic link, as Dovecot does for folders). */
static int is_directory(int dirfd, const struct dirent *de)
{
    if (de->d_type == DT_DIR)
        return 1;
    if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
        return 0;
    struct stat st;
    return fstatat(dirfd, de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

static const struct mailbox_list_entry *
find_sorted(const struct mailbox_list_entry *items, size_t count,
            const char *name, char sep)
{
    size_t low = 0, high = count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int cmp = mailbox_list_name_cmp(name, items[mid].name, sep);
        if (cmp == 0)
            return &items[mid];
        if (cmp < 0)
            high = mid;
        else
            low = mid + 1;
    }
    return NULL;
}

/* Sorts the folders, adds the prefixes of each folder that are not
 * folders themselves (NOSELECT), and sets CHILDREN on every name with a
 * folder below it. A level of the client name is a level on disk, so
 * the n-th separator of one is the n-th '.' of the other. */
static void add_parents(const struct mailbox_list *list, struct entry_array *a)
{
    char sep = list->separator;
    qsort_r(a->items, a->count, sizeof(*a->items), entry_cmp, &sep);
    size_t folder_count = a->count;
    struct buf prefix = BUF_INIT, disk_prefix = BUF_INIT;

    for (size_t i = 0; i < folder_count; i++) {
        const char *name = a->items[i].name;
        const char *disk = a->items[i].disk_name;
        const char *dot = strchr(disk, DISK_SEPARATOR);
        for (const char *p = strchr(name, sep); p && dot;
             p = strchr(p + 1, sep), dot = strchr(dot + 1, DISK_SEPARATOR)) {
            buf_set(&prefix, name, (size_t)(p - name));
            if (find_sorted(a->items, folder_count, prefix.data, sep))
                continue;
            buf_set(&disk_prefix, disk, (size_t)(dot - disk));
            entry_add(a, prefix.data, disk_prefix.data, MAILBOX_LIST_NOSELECT);
        }
    }
    buf_free(&prefix);
    buf_free(&disk_prefix);
    qsort_r(a->items, a->count, sizeof(*a->items), entry_cmp, &sep);

    /* Parents added twice (by two children) are next to each other. */
    size_t kept = 0;
    for (size_t i = 0; i < a->count; i++) {
        if (kept > 0 && strcmp(a->items[kept - 1].name, a->items[i].name) == 0) {
            free(a->items[i].name);
            free(a->items[i].disk_name);
            continue;
        }
        a->items[kept++] = a->items[i];
    }
    a->count = kept;

    /* A name's descendants come right after it. */
    for (size_t i = 0; i + 1 < a->count; i++) {
        size_t len = strlen(a->items[i].name);
        const char *next = a->items[i + 1].name;
        if (strncmp(next, a->items[i].name, len) == 0 && next[len] == sep)
            a->items[i].flags |= MAILBOX_LIST_CHILDREN;
    }
}

int mailbox_list_read(const struct mailbox_list *list,
                      struct mailbox_list_snapshot *snapshot,
                      struct buf *error)
{
    struct entry_array a = {0};
    struct buf name = BUF_INIT;

    snapshot->entries = NULL;
    snapshot->count = 0;
    entry_add(&a, "INBOX", "", 0);

    DIR *dir = opendir(list->root);
    if (!dir && errno != ENOENT) {
        buf_reset(error);
        buf_appendf(error, "open directory %s: %s", list->root,
                    strerror(errno));
        snapshot_free_entries(a.items, a.count);
        return -1;
    }
    if (dir) {
        struct dirent *de;
        errno = 0;
        while ((de = readdir(dir)) != NULL) {
            const char *disk = de->d_name;
            if (disk[0] != '.' || disk[1] == '\0' || disk[1] == '.')
                continue; /* not a folder, ".", "..", "..trash" */
            if (!is_directory(dirfd(dir), de))
                continue;
            if (mailbox_list_disk_to_name(list, disk + 1, &name) < 0)
                continue;
            entry_add(&a, name.data, disk + 1, 0);
        }
        closedir(dir);
    }
    buf_free(&name);
    add_parents(list, &a);
    snapshot->entries = a.items;
    snapshot->count = a.count;
    snapshot->separator = list->separator;
    return 0;
}

void mailbox_list_snapshot_free(struct mailbox_list_snapshot *snapshot)
{
    snapshot_free_entries(snapshot->entries, snapshot->count);
    snapshot->entries = NULL;
    snapshot->count = 0;
}

const struct mailbox_list_entry *
mailbox_list_find(const struct mailbox_list_snapshot *snapshot,
                  const char *name)
{
    return find_sorted(snapshot->entries, snapshot->count, name,
                       snapshot->separator);
}

/* Whether the folder directory of disk_name exists ("" always). */
static int folder_exists(const struct mailbox_list *list, const char *disk)
{
    if (disk[0] == '\0')
        return 1;
    struct buf path = BUF_INIT;
    struct stat st;
    mailbox_list_path(list, disk, &path);
    int exists = stat(path.data, &st) == 0 && S_ISDIR(st.st_mode);
    buf_free(&path);
    return exists;
}

int mailbox_list_exists(const struct mailbox_list *list, const char *name)
{
    struct buf disk = BUF_INIT, error = BUF_INIT;
    int exists = mailbox_list_name_to_disk(list, name, &disk, &error) ==
                     MAILBOX_LIST_OK &&
                 folder_exists(list, disk.data);
    buf_free(&disk);
    buf_free(&error);
    return exists;
}

/* ---- CREATE ---- */

static enum mailbox_list_result failed(struct buf *error, const char *what,
                                       const char *path)
{
    buf_reset(error);
    buf_appendf(error, "%s %s: %s", what, path, strerror(errno));
    return MAILBOX_LIST_FAILED;
}

/* Makes the folder directory disk with its subdirectories; the directory
 * itself is made with O_EXCL semantics (mkdir), so a folder that appears
 * meanwhile is reported as existing. */
static enum mailbox_list_result make_folder(const struct mailbox_list *list,
                                            const char *disk,
                                            struct buf *error)
{
    struct buf path = BUF_INIT;
    mode_t mode = list->dir_mode ? list->dir_mode : 0700;
    enum mailbox_list_result result = MAILBOX_LIST_OK;

    if (store_mkdirs(list->root, mode) < 0) {
        result = failed(error, "create directory", list->root);
        goto out;
    }
    mailbox_list_path(list, disk, &path);
    if (mkdir(path.data, mode) < 0) {
        if (errno == EEXIST) {
            buf_set_str(error, "Mailbox already exists");
            result = MAILBOX_LIST_EXISTS;
        } else {
            result = failed(error, "create directory", path.data);
        }
        goto out;
    }
    struct store_status st;
    store_status_init(&st);
    struct maildir_options opts = {.path = list->root, .folder = disk,
                                   .dir_mode = mode};
    if (maildir_create(&opts, &st) < 0) {
        buf_set_str(error, st.reason.data);
        result = MAILBOX_LIST_FAILED;
    }
    store_status_free(&st);
out:
    buf_free(&path);
    return result;
}

enum mailbox_list_result mailbox_list_create(const struct mailbox_list *list,
                                             const char *name,
                                             struct buf *error)
{
    struct buf disk = BUF_INIT;
    enum mailbox_list_result result =
        mailbox_list_name_to_disk(list, name, &disk, error);
    if (result == MAILBOX_LIST_OK) {
        if (disk.len == 0) {
            buf_set_str(error, "Mailbox already exists");
            result = MAILBOX_LIST_EXISTS;
        } else {
            result = make_folder(list, disk.data, error);
        }
    }
    buf_free(&disk);
    return result;
}

/* ---- DELETE ---- */

/* Removes everything below the open directory dfd, not following
 * symbolic links, at most DELETE_DEPTH_MAX levels deep. Closes dfd. */
static int remove_tree(int dfd, unsigned depth)
{
    DIR *dir = fdopendir(dfd);
    if (!dir) {
        close(dfd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(dir), de->d_name, 0) == 0)
            continue;
        if (errno != EISDIR && errno != EPERM) {
            if (errno != ENOENT)
                rc = -1;
            continue;
        }
        if (depth >= DELETE_DEPTH_MAX) {
            errno = ELOOP;
            rc = -1;
            continue;
        }
        int sub = openat(dirfd(dir), de->d_name,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 || remove_tree(sub, depth + 1) < 0 ||
            unlinkat(dirfd(dir), de->d_name, AT_REMOVEDIR) < 0)
            rc = -1;
    }
    int saved = errno;
    closedir(dir);
    errno = saved;
    return rc;
}

enum mailbox_list_result mailbox_list_delete(const struct mailbox_list *list,
                                             const char *name,
                                             struct buf *error)
{
    struct buf disk = BUF_INIT, path = BUF_INIT, trash = BUF_INIT;
    enum mailbox_list_result result =
        mailbox_list_name_to_disk(list, name, &disk, error);
    if (result != MAILBOX_LIST_OK)
        goto out;
    if (disk.len == 0) {
        buf_set_str(error, "INBOX can't be deleted");
        result = MAILBOX_LIST_REFUSED;
        goto out;
    }
    if (!folder_exists(list, disk.data)) {
        buf_reset(error);
        buf_appendf(error, "Mailbox doesn't exist: %s", name);
        result = MAILBOX_LIST_NONEXISTENT;
        goto out;
    }
    /* First out of sight under a name no folder can have (it starts with
     * ".."), so other sessions never see a half-deleted folder; then
     * emptied and removed. */
    mailbox_list_path(list, disk.data, &path);
    buf_set_str(&trash, list->root);
    buf_appendf(&trash, "/..postern-deleted.%ld.%s", (long)getpid(),
                disk.data);
    if (rename(path.data, trash.data) < 0) {
        result = failed(error, "rename", path.data);
        goto out;
    }
    struct stat st;
    if (lstat(trash.data, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* A folder that is a symbolic link: the link goes, not what it
         * points at. */
        if (unlink(trash.data) < 0)
            result = failed(error, "remove", trash.data);
        goto out;
    }
    int dfd = open(trash.data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0 || remove_tree(dfd, 0) < 0 || rmdir(trash.data) < 0) {
        result = failed(error, "remove", trash.data);
        goto out;
    }
    fsync_dir(list->root, NULL);
out:
    buf_free(&disk);
    buf_free(&path);
    buf_free(&trash);
    return result;
}

/* ---- RENAME ---- */

/* The folder directories (disk names) at or below disk. */
static int collect_subtree(const struct mailbox_list *list, const char *disk,
                           struct strlist *out, struct buf *error)
{
    size_t len = strlen(disk);
    DIR *dir = opendir(list->root);
    if (!dir) {
        failed(error, "open directory", list->root);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        const char *name = de->d_name;
        if (name[0] != '.' || strncmp(name + 1, disk, len) != 0)
            continue;
        if (name[1 + len] != '\0' && name[1 + len] != DISK_SEPARATOR)
            continue;
        if (is_directory(dirfd(dir), de))
            strlist_add(out, name + 1);
    }
    closedir(dir);
    return 0;
}

/* Moves every file of INBOX's cur/ and new/ into the folder at path. */
static int move_inbox_messages(const struct mailbox_list *list,
                               const char *folder_path, struct buf *error)
{
    static const char *const subdirs[] = {"cur", "new"};
    struct buf from = BUF_INIT, to = BUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < 2 && rc == 0; i++) {
        buf_set_str(&from, list->root);
        buf_appendf(&from, "/%s", subdirs[i]);
        DIR *dir = opendir(from.data);
        if (!dir) {
            if (errno != ENOENT)
                rc = -1, failed(error, "open directory", from.data);
            continue;
        }
        size_t from_len = from.len;
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            buf_truncate(&from, from_len);
            buf_appendf(&from, "/%s", de->d_name);
            buf_set_str(&to, folder_path);
            buf_appendf(&to, "/%s/%s", subdirs[i], de->d_name);
            if (rename(from.data, to.data) < 0 && errno != ENOENT) {
                rc = -1;
                failed(error, "rename", from.data);
                break;
            }
        }
        closedir(dir);
        buf_truncate(&from, from_len);
        fsync_dir(from.data, NULL);
    }
    buf_free(&from);
    buf_free(&to);
    return rc;
}

/* Copies INBOX's dovecot-keywords to the new folder, so the keyword
 * letters in the moved file names keep their meaning. */
static void copy_keywords(const struct mailbox_list *list,
                          const char *folder_path)
{
    struct buf path = BUF_INIT, content = BUF_INIT;
    buf_set_str(&path, list->root);
    buf_append_str(&path, "/dovecot-keywords");
    if (file_read(path.data, KEYWORDS_FILE_MAX, &content, NULL) == 0) {
        buf_set_str(&path, folder_path);
        buf_append_str(&path, "/dovecot-keywords");
        int fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                     O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (store_write_all(fd, content.data, content.len) < 0 ||
                fsync(fd) < 0)
                unlink(path.data);
            close(fd);
        }
    }
    buf_free(&path);
    buf_free(&content);
}

static enum mailbox_list_result rename_inbox(const struct mailbox_list *list,
                                             const char *new_disk,
                                             struct buf *error)
{
    enum mailbox_list_result result = make_folder(list, new_disk, error);
    if (result != MAILBOX_LIST_OK) {
        if (result == MAILBOX_LIST_EXISTS)
            buf_set_str(error, "Target mailbox already exists");
        return result;
    }
    struct buf path = BUF_INIT;
    mailbox_list_path(list, new_disk, &path);
    copy_keywords(list, path.data);
    if (move_inbox_messages(list, path.data, error) < 0)
        result = MAILBOX_LIST_FAILED;
    buf_append_str(&path, "/cur");
    fsync_dir(path.data, NULL);
    buf_truncate(&path, path.len - 4);
    buf_append_str(&path, "/new");
    fsync_dir(path.data, NULL);
    buf_free(&path);
    return result;
}

static enum mailbox_list_result rename_tree(const struct mailbox_list *list,
                                            const char *old_name,
                                            const char *old_disk,
                                            const char *new_disk,
                                            struct buf *error)
{
    struct strlist moving;
    struct buf from = BUF_INIT, to = BUF_INIT, target = BUF_INIT;
    enum mailbox_list_result result = MAILBOX_LIST_OK;
    size_t old_len = strlen(old_disk);

    strlist_init(&moving);
    if (collect_subtree(list, old_disk, &moving, error) < 0) {
        result = MAILBOX_LIST_FAILED;
        goto out;
    }
    if (moving.count == 0) {
        buf_reset(error);
        buf_appendf(error, "Mailbox doesn't exist: %s", old_name);
        result = MAILBOX_LIST_NONEXISTENT;
        goto out;
    }
    /* Every target is checked before anything moves. */
    for (size_t i = 0; i < moving.count; i++) {
        buf_set_str(&target, new_disk);
        buf_append_str(&target, moving.items[i] + old_len);
        if (target.len + 1 > FOLDER_DIRENT_MAX) {
            buf_set_str(error, "Mailbox name too long");
            result = MAILBOX_LIST_BAD_NAME;
            goto out;
        }
        if (folder_exists(list, target.data)) {
            buf_set_str(error, "Target mailbox already exists");
            result = MAILBOX_LIST_EXISTS;
            goto out;
        }
    }
    for (size_t i = 0; i < moving.count; i++) {
        buf_set_str(&target, new_disk);
        buf_append_str(&target, moving.items[i] + old_len);
        mailbox_list_path(list, moving.items[i], &from);
        mailbox_list_path(list, target.data, &to);
        if (rename(from.data, to.data) < 0) {
            result = failed(error, "rename", from.data);
            goto out;
        }
    }
    fsync_dir(list->root, NULL);
out:
    strlist_free(&moving);
    buf_free(&from);
    buf_free(&to);
    buf_free(&target);
    return result;
}

enum mailbox_list_result mailbox_list_rename(const struct mailbox_list *list,
                                             const char *old_name,
                                             const char *new_name,
                                             struct buf *error)
{
    struct buf old_disk = BUF_INIT, new_disk = BUF_INIT;
    enum mailbox_list_result result =
        mailbox_list_name_to_disk(list, old_name, &old_disk, error);
    if (result == MAILBOX_LIST_OK)
        result = mailbox_list_name_to_disk(list, new_name, &new_disk, error);
    if (result != MAILBOX_LIST_OK)
        goto out;

    size_t old_len = old_disk.len;
    if (strcmp(old_disk.data, new_disk.data) == 0) {
        buf_set_str(error, "Can't rename mailbox to itself");
        result = MAILBOX_LIST_EXISTS;
    } else if (new_disk.len == 0) {
        buf_set_str(error, "Target mailbox already exists");
        result = MAILBOX_LIST_EXISTS;
    } else if (old_len == 0) {
        result = rename_inbox(list, new_disk.data, error);
    } else if (strncmp(new_disk.data, old_disk.data, old_len) == 0 &&
               new_disk.data[old_len] == DISK_SEPARATOR) {
        buf_set_str(error, "Can't rename mailbox under its own child");
        result = MAILBOX_LIST_REFUSED;
    } else {
        result = rename_tree(list, old_name, old_disk.data, new_disk.data,
                             error);
    }
out:
    buf_free(&old_disk);
    buf_free(&new_disk);
    return result;
}
