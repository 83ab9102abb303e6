/* mailbox.c: a Maildir folder as an IMAP session's view: opening,
 * syncing with the directories and dovecot-uidlist, flags, expunges and
 * the messages' bytes (mailbox.h; saving is mailbox_save.c). */
#include "storage/mailbox_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "storage/maildir.h"
#include "storage/maildir_quota.h"

/* ---- errors ---- */

enum mailbox_result mailbox_fail(struct mailbox *mb,
                                 enum mailbox_result result,
                                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_reset(&mb->error);
    buf_vappendf(&mb->error, fmt, ap);
    va_end(ap);
    return result;
}

enum mailbox_result mailbox_errno_result(int err)
{
    return err == ENOSPC || err == EDQUOT || err == EFBIG ? MAILBOX_NOSPACE
                                                          : MAILBOX_FAILED;
}

const char *mailbox_error(const struct mailbox *mb)
{
    return buf_cstr(&mb->error);
}

const char *mailbox_warning(const struct mailbox *mb)
{
    return buf_cstr(&mb->warning);
}

const char *mailbox_path(const struct mailbox *mb)
{
    return mb->path;
}

/* ---- opening ---- */

enum mailbox_result mailbox_open(const struct mailbox_options *opts,
                                 struct mailbox **out, struct buf *err)
{
    *out = NULL;
    const char *folder = opts->folder;
    if (folder && (*folder == 0 || strcmp(folder, "INBOX") == 0))
        folder = NULL;
    if (folder && maildir_folder_name_valid(folder) < 0) {
        buf_appendf(err, "invalid folder name: %s", folder);
        return MAILBOX_NOTFOUND;
    }
    struct buf path = BUF_INIT, cur = BUF_INIT;
    buf_append_str(&path, opts->root);
    while (path.len > 1 && path.data[path.len - 1] == '/')
        buf_truncate(&path, path.len - 1);
    if (folder)
        buf_appendf(&path, "/.%s", folder);
    buf_appendf(&cur, "%s/cur", path.data);
    struct stat st;
    if (stat(cur.data, &st) < 0 || !S_ISDIR(st.st_mode)) {
        int saved = errno;
        if (opts->create && saved == ENOENT) {
            struct maildir_options mopts = {.path = opts->root,
                                            .folder = folder};
            struct store_status status;
            store_status_init(&status);
            int rc = maildir_create(&mopts, &status);
            if (rc < 0)
                buf_append_str(err, status.reason.data);
            store_status_free(&status);
            if (rc < 0) {
                buf_free(&path);
                buf_free(&cur);
                return MAILBOX_FAILED;
            }
        } else {
            buf_appendf(err, "%s: %s", cur.data,
                        saved == ENOENT ? "no such mailbox" : strerror(saved));
            buf_free(&path);
            buf_free(&cur);
            return saved == ENOENT || saved == ENOTDIR ? MAILBOX_NOTFOUND
                                                       : MAILBOX_FAILED;
        }
    }
    buf_free(&cur);
    struct mailbox *mb = xcalloc(1, sizeof(*mb));
    mb->root = xstrdup(opts->root);
    mb->path = buf_detach(&path);
    if (opts->hostname) {
        struct buf host = BUF_INIT;
        maildir_escape_hostname(opts->hostname, &host);
        mb->hostname = buf_detach(&host);
    } else {
        mb->hostname = xstrdup(maildir_default_hostname());
    }
    mb->readonly = opts->readonly;
    mb->lock_timeout_ms = opts->lock_timeout_ms;
    buf_init(&mb->error);
    buf_init(&mb->warning);
    buf_init(&mb->arena);
    uidlist_init(&mb->ul);
    keywords_init(&mb->kw);
    *out = mb;
    return MAILBOX_OK;
}

void mailbox_close(struct mailbox *mb)
{
    if (mb == NULL)
        return;
    free(mb->root);
    free(mb->path);
    free(mb->hostname);
    buf_free(&mb->error);
    buf_free(&mb->warning);
    buf_free(&mb->arena);
    uidlist_free(&mb->ul);
    keywords_free(&mb->kw);
    free(mb->msgs);
    free(mb->own_uids);
    free(mb);
}

/* ---- the view ---- */

uint32_t mailbox_count(const struct mailbox *mb)
{
    return mb->count;
}

uint32_t mailbox_recent_count(const struct mailbox *mb)
{
    return mb->recent_count;
}

uint32_t mailbox_uidvalidity(const struct mailbox *mb)
{
    return mb->uidvalidity ? mb->uidvalidity : mb->ul.uidvalidity;
}

uint32_t mailbox_uidnext(const struct mailbox *mb)
{
    uint32_t next = mb->ul.next_uid;
    if (mb->count && mb->msgs[mb->count - 1].uid >= next)
        next = mb->msgs[mb->count - 1].uid + 1;
    return next;
}

const struct mailbox_msg *mailbox_msg(const struct mailbox *mb, uint32_t seq)
{
    return seq >= 1 && seq <= mb->count ? &mb->msgs[seq - 1] : NULL;
}

uint32_t mailbox_seq_of_uid(const struct mailbox *mb, uint32_t uid)
{
    uint32_t low = 0, high = mb->count;
    while (low < high) {
        uint32_t mid = low + (high - low) / 2;
        if (mb->msgs[mid].uid == uid)
            return mid + 1;
        if (mb->msgs[mid].uid < uid)
            low = mid + 1;
        else
            high = mid;
    }
    return 0;
}

void mailbox_msg_set_index(struct mailbox *mb, uint32_t seq, uint64_t modseq,
                           void *cache)
{
    if (seq >= 1 && seq <= mb->count) {
        mb->msgs[seq - 1].modseq = modseq;
        mb->msgs[seq - 1].cache = cache;
    }
}

int mailbox_needs_sync(const struct mailbox *mb)
{
    return mb->dirty || mb->expunge_pending;
}

const char *mailbox_keyword_name(const struct mailbox *mb, int index)
{
    return keywords_name(&mb->kw, index);
}

static const char *msg_base(const struct mailbox *mb,
                            const struct mailbox_msg *msg)
{
    const struct uidlist_rec *rec = uidlist_find_uid(&mb->ul, msg->uid);
    return rec ? uidlist_rec_base(&mb->ul, rec) : "";
}

static const char *msg_info(const struct mailbox *mb,
                            const struct mailbox_msg *msg)
{
    return mb->arena.data + msg->info_off;
}

void mailbox_msg_file_name(const struct mailbox *mb, uint32_t seq,
                           struct buf *out)
{
    const struct mailbox_msg *msg = mailbox_msg(mb, seq);
    if (msg == NULL)
        return;
    buf_append_str(out, msg_base(mb, msg));
    buf_append(out, msg_info(mb, msg), msg->info_len);
}

void mailbox_msg_path(const struct mailbox *mb, uint32_t seq,
                      struct buf *out)
{
    const struct mailbox_msg *msg = &mb->msgs[seq - 1];
    buf_appendf(out, "%s/%s/", mb->path,
                msg->flags & MAILBOX_MSG_IN_NEW ? "new" : "cur");
    mailbox_msg_file_name(mb, seq, out);
}

/* Stores a message's info suffix (and the flags it says). Returns 1
 * when the flags or keywords changed. */
static int msg_set_info(struct mailbox *mb, struct mailbox_msg *msg,
                        const char *info, size_t len, int in_new)
{
    if (msg->info_len)
        mb->arena_live -= (size_t)msg->info_len + 1;
    if (len > UINT16_MAX)
        len = 0; /* cannot happen: names are at most 255 bytes */
    msg->info_off = (uint32_t)mb->arena.len;
    msg->info_len = (uint16_t)len;
    buf_append(&mb->arena, info, len);
    buf_append_char(&mb->arena, 0);
    if (len)
        mb->arena_live += len + 1;
    if (in_new)
        msg->flags |= MAILBOX_MSG_IN_NEW;
    else
        msg->flags &= (uint16_t)~MAILBOX_MSG_IN_NEW;
    unsigned flags;
    uint32_t keywords;
    maildir_flags_parse(info, &flags, &keywords);
    int changed = (msg->flags & MAILDIR_FLAGS_STORED) != flags ||
                  msg->keywords != keywords;
    msg->flags = (uint16_t)((msg->flags & ~MAILDIR_FLAGS_STORED) | flags);
    msg->keywords = keywords;
    return changed;
}

/* Drops the arena's garbage when it is most of it. */
static void arena_compact(struct mailbox *mb)
{
    if (mb->arena.len < 65536 || mb->arena.len < mb->arena_live * 2)
        return;
    struct buf fresh = BUF_INIT;
    buf_append_char(&fresh, 0); /* offset 0: the empty info */
    for (uint32_t i = 0; i < mb->count; i++) {
        struct mailbox_msg *msg = &mb->msgs[i];
        uint32_t off = (uint32_t)fresh.len;
        buf_append(&fresh, mb->arena.data + msg->info_off, msg->info_len);
        buf_append_char(&fresh, 0);
        msg->info_off = msg->info_len ? off : 0;
    }
    buf_free(&mb->arena);
    mb->arena = fresh;
}

static void msg_append(struct mailbox *mb, uint32_t uid, const char *name,
                       int in_new, int recent)
{
    if (mb->count == mb->cap) {
        mb->cap = mb->cap ? mb->cap * 2 : 64;
        mb->msgs = xreallocarray(mb->msgs, mb->cap, sizeof(*mb->msgs));
    }
    struct mailbox_msg *msg = &mb->msgs[mb->count++];
    memset(msg, 0, sizeof(*msg));
    msg->uid = uid;
    msg->psize = msg->vsize = MAILBOX_SIZE_UNKNOWN;
    size_t base_len = maildir_base_len(name);
    long long size;
    if (maildir_name_size(name, 'S', &size) == 0 && size < UINT32_MAX)
        msg->psize = (uint32_t)size;
    if (maildir_name_size(name, 'W', &size) == 0 && size < UINT32_MAX)
        msg->vsize = (uint32_t)size;
    msg_set_info(mb, msg, name + base_len, strlen(name + base_len), in_new);
    msg->flags |= MAILBOX_MSG_SCANNED;
    if (recent) {
        msg->flags |= MAILBOX_FLAG_RECENT;
        mb->recent_count++;
    }
}

/* ---- the scan ---- */

/* A file the view does not have yet. */
struct scan_new {
    uint32_t name_off; /* in the scan's names buffer */
    uint32_t uid;      /* 0: needs one */
    int in_new;
};

struct scan {
    struct buf names;
    struct scan_new *files;
    size_t count, cap;
    const struct mailbox_sync_events *events;
};

static void scan_add(struct scan *scan, const char *name, int in_new)
{
    if (scan->count == scan->cap) {
        scan->cap = scan->cap ? scan->cap * 2 : 16;
        scan->files = xreallocarray(scan->files, scan->cap,
                                    sizeof(*scan->files));
    }
    struct scan_new *file = &scan->files[scan->count++];
    file->name_off = (uint32_t)scan->names.len;
    file->uid = 0;
    file->in_new = in_new;
    buf_append_str(&scan->names, name);
    buf_append_char(&scan->names, 0);
}

/* Moves new/NAME to cur/NAME:2, (Dovecot's move of new mail); returns
 * the name it has now, or NULL when it stays in new/. */
static const char *move_to_cur(struct mailbox *mb, const char *name,
                               struct buf *moved)
{
    buf_reset(moved);
    buf_append_str(moved, name);
    if (strchr(name, ':') == NULL)
        buf_append_str(moved, ":2,");
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof(from), "%s/new/%s", mb->path, name);
    snprintf(to, sizeof(to), "%s/cur/%s", mb->path, moved->data);
    if (rename(from, to) < 0)
        return NULL;
    return moved->data;
}

static void scan_entry(struct mailbox *mb, struct scan *scan,
                       const char *name, int in_new)
{
    size_t len = strlen(name);
    if (name[0] == '.' || len > 255 || strpbrk(name, "\r\n"))
        return;
    size_t base_len = maildir_base_len(name);
    if (base_len == 0)
        return;
    const struct uidlist_rec *rec = uidlist_find(&mb->ul, name, base_len);
    uint32_t seq = rec ? mailbox_seq_of_uid(mb, rec->uid) : 0;
    if (seq == 0) {
        scan_add(scan, name, in_new);
        return;
    }
    struct mailbox_msg *msg = &mb->msgs[seq - 1];
    msg->flags |= MAILBOX_MSG_SCANNED;
    const char *info = name + base_len;
    size_t info_len = len - base_len;
    if (info_len == msg->info_len &&
        memcmp(info, msg_info(mb, msg), info_len) == 0 &&
        !!(msg->flags & MAILBOX_MSG_IN_NEW) == in_new)
        return;
    if (msg_set_info(mb, msg, info, info_len, in_new) &&
        !(msg->flags & MAILBOX_MSG_EXPUNGED) && scan->events &&
        scan->events->flags_changed)
        scan->events->flags_changed(scan->events->ctx, seq, msg);
}

static int scan_dir(struct mailbox *mb, struct scan *scan, int in_new)
{
    char dir_path[PATH_MAX];
    snprintf(dir_path, sizeof(dir_path), "%s/%s", mb->path,
             in_new ? "new" : "cur");
    DIR *dir = opendir(dir_path);
    if (dir == NULL) {
        mailbox_fail(mb, MAILBOX_FAILED, "open directory %s: %s", dir_path,
                     strerror(errno));
        return -1;
    }
    struct dirent *ent;
    while ((ent = readdir(dir)) != NULL)
        scan_entry(mb, scan, ent->d_name, in_new);
    closedir(dir);
    return 0;
}

/* Moves what the scan found in new/ into cur/, after the scan (so our
 * own renames do not look like someone else's change during it). */
static void move_new_files(struct mailbox *mb, struct scan *scan)
{
    if (mb->readonly)
        return;
    struct buf moved = BUF_INIT;
    for (uint32_t i = 0; i < mb->count; i++) {
        struct mailbox_msg *msg = &mb->msgs[i];
        if (!(msg->flags & MAILBOX_MSG_IN_NEW) ||
            (msg->flags & MAILBOX_MSG_EXPUNGED))
            continue;
        struct buf name = BUF_INIT;
        mailbox_msg_file_name(mb, i + 1, &name);
        const char *now_name = move_to_cur(mb, name.data, &moved);
        if (now_name) {
            size_t base_len = maildir_base_len(now_name);
            msg_set_info(mb, msg, now_name + base_len,
                         strlen(now_name + base_len), 0);
        }
        buf_free(&name);
    }
    for (size_t i = 0; i < scan->count; i++) {
        struct scan_new *file = &scan->files[i];
        if (!file->in_new)
            continue;
        /* the name is copied: the names buffer may move as it grows */
        char *name = xstrdup(scan->names.data + file->name_off);
        const char *now_name = move_to_cur(mb, name, &moved);
        if (now_name) {
            file->name_off = (uint32_t)scan->names.len;
            file->in_new = 0;
            buf_append_str(&scan->names, now_name);
            buf_append_char(&scan->names, 0);
        }
        free(name);
    }
    buf_free(&moved);
}

static int dir_mtime(struct mailbox *mb, const char *sub, struct timespec *t)
{
    char dir_path[PATH_MAX];
    struct stat st;
    snprintf(dir_path, sizeof(dir_path), "%s/%s", mb->path, sub);
    if (stat(dir_path, &st) < 0) {
        mailbox_fail(mb, errno == ENOENT ? MAILBOX_NOTFOUND : MAILBOX_FAILED,
                     "stat %s: %s", dir_path, strerror(errno));
        return -1;
    }
    *t = st.st_mtim;
    return 0;
}

static int same_ts(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The order UIDs are given in: by the delivery time at the start of
 * the name, then the microseconds of ".M<usecs>", then by name. */
static int scan_new_cmp(const void *pa, const void *pb, void *names)
{
    const char *a = (const char *)names + ((const struct scan_new *)pa)->name_off;
    const char *b = (const char *)names + ((const struct scan_new *)pb)->name_off;
    unsigned long long ta = strtoull(a, NULL, 10), tb = strtoull(b, NULL, 10);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    const char *ma = strstr(a, ".M"), *mbp = strstr(b, ".M");
    if (ma && mbp) {
        unsigned long long ua = strtoull(ma + 2, NULL, 10);
        unsigned long long ub = strtoull(mbp + 2, NULL, 10);
        if (ua != ub)
            return ua < ub ? -1 : 1;
    }
    return strcmp(a, b);
}

static int scan_uid_cmp(const void *pa, const void *pb)
{
    uint32_t a = ((const struct scan_new *)pa)->uid;
    uint32_t b = ((const struct scan_new *)pb)->uid;
    return a < b ? -1 : a > b;
}

/* Sorts the new files and drops a second sighting of one base name (a
 * file moved from new/ to cur/ while we read). */
static void scan_sort(struct scan *scan)
{
    qsort_r(scan->files, scan->count, sizeof(*scan->files), scan_new_cmp,
            scan->names.data);
    size_t out = 0;
    for (size_t i = 0; i < scan->count; i++) {
        const char *name = scan->names.data + scan->files[i].name_off;
        if (out) {
            const char *prev =
                scan->names.data + scan->files[out - 1].name_off;
            size_t len = maildir_base_len(name);
            if (len == maildir_base_len(prev) &&
                memcmp(name, prev, len) == 0) {
                if (!scan->files[i].in_new)
                    scan->files[out - 1] = scan->files[i];
                continue;
            }
        }
        scan->files[out++] = scan->files[i];
    }
    scan->count = out;
}

static uint32_t view_max_uid(const struct mailbox *mb)
{
    return mb->count ? mb->msgs[mb->count - 1].uid : 0;
}

/* Gives each new file the UID the uidlist has for it, when that UID can
 * still join the view (above every UID in it). Returns how many files
 * are left without one. */
static size_t scan_known_uids(struct mailbox *mb, struct scan *scan)
{
    size_t missing = 0;
    uint32_t max = view_max_uid(mb);
    for (size_t i = 0; i < scan->count; i++) {
        struct scan_new *file = &scan->files[i];
        if (file->uid)
            continue;
        const char *name = scan->names.data + file->name_off;
        const struct uidlist_rec *rec =
            uidlist_find(&mb->ul, name, maildir_base_len(name));
        if (rec && rec->uid > max)
            file->uid = rec->uid;
        else
            missing++;
    }
    return missing;
}

static int keep_live_record(void *ctx, const struct uidlist *ul,
                            const struct uidlist_rec *rec)
{
    struct mailbox *mb = ctx;
    (void)ul;
    uint32_t seq = mailbox_seq_of_uid(mb, rec->uid);
    if (rec->uid > view_max_uid(mb))
        return 1; /* not ours to judge yet */
    return seq && !(mb->msgs[seq - 1].flags & MAILBOX_MSG_EXPUNGED);
}

/* Under the lock: numbers the files the uidlist does not know. A file
 * whose old UID cannot join the view (below its highest UID: it came
 * back, or we missed it) gets a new one, as Dovecot does. */
static enum mailbox_result scan_assign_uids(struct mailbox *mb,
                                            struct scan *scan, int tidy)
{
    struct uidlist_lock lock;
    enum mailbox_result rc = mailbox_lock_uidlist(mb, &lock);
    if (rc != MAILBOX_OK)
        return rc;
    scan_known_uids(mb, scan);
    int replaced = 0;
    for (size_t i = 0; i < scan->count; i++) {
        const char *name = scan->names.data + scan->files[i].name_off;
        if (scan->files[i].uid == 0 &&
            uidlist_find(&mb->ul, name, maildir_base_len(name)))
            replaced = 1;
    }
    if (replaced || tidy) {
        /* drop records of files that are gone (and of the ones about to
         * be renumbered); the file is then rewritten whole */
        uidlist_filter(&mb->ul, keep_live_record, mb);
        mb->ul.want_rewrite = 1;
    }
    size_t first = mb->ul.count;
    for (size_t i = 0; i < scan->count; i++) {
        struct scan_new *file = &scan->files[i];
        if (file->uid != 0)
            continue;
        const char *name = scan->names.data + file->name_off;
        file->uid = mb->ul.next_uid;
        uidlist_add(&mb->ul, file->uid, name, maildir_base_len(name), NULL);
        mailbox_note_own_uid(mb, file->uid);
    }
    rc = mailbox_uidlist_store(mb, first);
    uidlist_lock_release(&lock);
    return rc;
}

/* 1 when message seq's file is still where the view thinks it is. */
static int msg_file_exists(const struct mailbox *mb, uint32_t seq)
{
    struct buf path = BUF_INIT;
    mailbox_msg_path(mb, seq, &path);
    int exists = access(path.data, F_OK) == 0;
    buf_free(&path);
    return exists;
}

static int own_uid_take(struct mailbox *mb, uint32_t uid)
{
    for (size_t i = 0; i < mb->own_count; i++)
        if (mb->own_uids[i] == uid) {
            mb->own_uids[i] = mb->own_uids[--mb->own_count];
            return 1;
        }
    return 0;
}

void mailbox_note_own_uid(struct mailbox *mb, uint32_t uid)
{
    if (mb->own_count == mb->own_cap) {
        mb->own_cap = mb->own_cap ? mb->own_cap * 2 : 16;
        mb->own_uids = xreallocarray(mb->own_uids, mb->own_cap,
                                     sizeof(*mb->own_uids));
    }
    mb->own_uids[mb->own_count++] = uid;
}

static void report_expunges(struct mailbox *mb,
                            const struct mailbox_sync_events *events)
{
    uint32_t out = 0, removed = 0;
    for (uint32_t i = 0; i < mb->count; i++) {
        struct mailbox_msg *msg = &mb->msgs[i];
        if (msg->flags & MAILBOX_MSG_EXPUNGED) {
            if (events && events->expunged)
                events->expunged(events->ctx, i + 1 - removed, msg->uid);
            removed++;
            if (msg->flags & MAILBOX_FLAG_RECENT)
                mb->recent_count--;
            if (msg->info_len)
                mb->arena_live -= (size_t)msg->info_len + 1;
            continue;
        }
        mb->msgs[out++] = *msg;
    }
    mb->count = out;
    mb->expunge_pending = 0;
    arena_compact(mb);
}

/* One pass over new/ and cur/. Returns the number of view messages
 * whose files were not seen and are not where they were, or -1. */
static long scan_pass(struct mailbox *mb, struct scan *scan, int *racy,
                      struct timespec *new_before, struct timespec *cur_before)
{
    struct timespec new_after, cur_after;
    for (uint32_t i = 0; i < mb->count; i++)
        mb->msgs[i].flags &= (uint16_t)~MAILBOX_MSG_SCANNED;
    scan->count = 0;
    buf_reset(&scan->names);
    if (dir_mtime(mb, "new", new_before) < 0 ||
        dir_mtime(mb, "cur", cur_before) < 0 || scan_dir(mb, scan, 1) < 0 ||
        scan_dir(mb, scan, 0) < 0 || dir_mtime(mb, "new", &new_after) < 0 ||
        dir_mtime(mb, "cur", &cur_after) < 0)
        return -1;
    *racy = !same_ts(new_before, &new_after) ||
            !same_ts(cur_before, &cur_after);
    long missing = 0;
    for (uint32_t i = 0; i < mb->count; i++) {
        struct mailbox_msg *msg = &mb->msgs[i];
        if (msg->flags & (MAILBOX_MSG_SCANNED | MAILBOX_MSG_EXPUNGED))
            continue;
        if (msg_file_exists(mb, i + 1))
            msg->flags |= MAILBOX_MSG_SCANNED; /* readdir missed it */
        else
            missing++;
    }
    return missing;
}

enum mailbox_result mailbox_sync(struct mailbox *mb, unsigned flags,
                                 const struct mailbox_sync_events *events)
{
    buf_reset(&mb->warning);
    struct timespec new_before, cur_before;
    if (mb->scanned && !mb->dirty && !(flags & MAILBOX_SYNC_FULL)) {
        if (dir_mtime(mb, "new", &new_before) < 0 ||
            dir_mtime(mb, "cur", &cur_before) < 0)
            return MAILBOX_FAILED;
        if (same_ts(&new_before, &mb->new_mtime) &&
            same_ts(&cur_before, &mb->cur_mtime)) {
            if (mb->expunge_pending && !(flags & MAILBOX_SYNC_NO_EXPUNGE))
                report_expunges(mb, events);
            return MAILBOX_OK;
        }
    }

    /* the uidlist (others may have numbered files) and the keywords */
    char path[PATH_MAX];
    struct buf err = BUF_INIT;
    snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, mb->path);
    enum uidlist_read_result read = uidlist_read(&mb->ul, path, &err);
    if (read == UIDLIST_FAILED) {
        mailbox_fail(mb, MAILBOX_FAILED, "%s", err.data);
        buf_free(&err);
        return MAILBOX_FAILED;
    }
    snprintf(path, sizeof(path), "%s/" KEYWORDS_FILE, mb->path);
    if (keywords_read(&mb->kw, path, &err) == KEYWORDS_FAILED)
        buf_appendf(&mb->warning, "%s", err.data);
    buf_free(&err);

    struct scan scan = {.events = events};
    buf_init(&scan.names);
    int racy = 0;
    long missing = 0;
    for (int pass = 0; pass < 3; pass++) {
        missing = scan_pass(mb, &scan, &racy, &new_before, &cur_before);
        if (missing <= 0 || !racy)
            break;
    }
    enum mailbox_result rc = MAILBOX_OK;
    if (missing < 0) {
        rc = MAILBOX_FAILED;
        goto out;
    }
    move_new_files(mb, &scan);
    for (uint32_t i = 0; i < mb->count; i++) {
        struct mailbox_msg *msg = &mb->msgs[i];
        if (!(msg->flags & (MAILBOX_MSG_SCANNED | MAILBOX_MSG_EXPUNGED))) {
            msg->flags |= MAILBOX_MSG_EXPUNGED;
            mb->expunge_pending = 1;
        }
    }

    scan_sort(&scan);
    size_t unnumbered = scan_known_uids(mb, &scan);
    /* lines of expunged messages pile up in the uidlist (Dovecot
     * leaves them too); drop them when they are a quarter of it */
    int stale = mb->ul.count > 64 && mb->ul.count > mb->count &&
                (mb->ul.count - mb->count) * 4 > mb->ul.count;
    if (unnumbered || mb->ul.uidvalidity == 0 ||
        read == UIDLIST_MALFORMED || (stale && !racy)) {
        rc = scan_assign_uids(mb, &scan, stale && !racy);
        if (rc == MAILBOX_BUSY) {
            buf_appendf(&mb->warning, "%s/" UIDLIST_LOCK_FILE
                        " is held elsewhere: %zu new messages wait",
                        mb->path, unnumbered);
            rc = MAILBOX_OK;
            mb->dirty = 1;
        } else if (rc != MAILBOX_OK) {
            goto out;
        }
    }
    if (mb->uidvalidity == 0) {
        mb->uidvalidity = mb->ul.uidvalidity;
    } else if (mb->ul.uidvalidity && mb->uidvalidity != mb->ul.uidvalidity) {
        rc = mailbox_fail(mb, MAILBOX_FAILED,
                          "%s: UIDVALIDITY changed from %u to %u", mb->path,
                          mb->uidvalidity, mb->ul.uidvalidity);
        goto out;
    }

    /* the new messages join the view in UID order */
    qsort(scan.files, scan.count, sizeof(*scan.files), scan_uid_cmp);
    int waiting = 0;
    for (size_t i = 0; i < scan.count; i++) {
        struct scan_new *file = &scan.files[i];
        if (file->uid == 0 || file->uid <= view_max_uid(mb)) {
            waiting = 1;
            continue;
        }
        msg_append(mb, file->uid, scan.names.data + file->name_off,
                   file->in_new, own_uid_take(mb, file->uid));
    }
    mb->scanned = 1;
    mb->new_mtime = new_before;
    mb->cur_mtime = cur_before;
    /* a change in the same second as the scan may not move the mtime
     * (coarse file system timestamps): look again next time */
    time_t now = time(NULL);
    mb->dirty = racy || waiting || new_before.tv_sec + 1 >= now ||
                cur_before.tv_sec + 1 >= now || (mb->dirty && rc != MAILBOX_OK);
    if (mb->expunge_pending && !(flags & MAILBOX_SYNC_NO_EXPUNGE))
        report_expunges(mb, events);
    if (mb->uidvalidity == 0)
        rc = mailbox_fail(mb, MAILBOX_BUSY,
                          "%s: no UIDVALIDITY yet (the uidlist is locked)",
                          mb->path);
out:
    buf_free(&scan.names);
    free(scan.files);
    return rc;
}

/* ---- the uidlist under its lock ---- */

enum mailbox_result mailbox_lock_uidlist(struct mailbox *mb,
                                         struct uidlist_lock *lock)
{
    struct buf err = BUF_INIT;
    int taken = uidlist_lock_take(mb->path, mb->lock_timeout_ms, lock, &err);
    if (taken <= 0) {
        enum mailbox_result rc =
            taken == 0 ? mailbox_fail(mb, MAILBOX_BUSY,
                                      "%s/" UIDLIST_LOCK_FILE
                                      ": mailbox is locked",
                                      mb->path)
                       : mailbox_fail(mb, MAILBOX_FAILED, "%s", err.data);
        buf_free(&err);
        return rc;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, mb->path);
    enum uidlist_read_result read = uidlist_read(&mb->ul, path, &err);
    if (read == UIDLIST_FAILED) {
        mailbox_fail(mb, MAILBOX_FAILED, "%s", err.data);
        buf_free(&err);
        uidlist_lock_release(lock);
        return MAILBOX_FAILED;
    }
    if (read == UIDLIST_MALFORMED) {
        /* UIDs past the bad line may have been handed out: only a new
         * UIDVALIDITY keeps clients from taking new mail for old */
        buf_appendf(&mb->warning,
                    "%s; rebuilt with a new UIDVALIDITY", err.data);
        mb->ul.uidvalidity = uidlist_uidvalidity_next(mb->root);
        mb->ul.want_rewrite = 1;
    } else if (mb->ul.uidvalidity == 0) {
        mb->ul.uidvalidity = uidlist_uidvalidity_next(mb->root);
        mb->ul.want_rewrite = 1;
    }
    buf_free(&err);
    return MAILBOX_OK;
}

enum mailbox_result mailbox_uidlist_store(struct mailbox *mb, size_t first)
{
    char path[PATH_MAX];
    struct buf err = BUF_INIT;
    snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, mb->path);
    enum mailbox_result rc = MAILBOX_OK;
    if (uidlist_append(&mb->ul, path, first, &err) < 0)
        rc = mailbox_fail(mb, mailbox_errno_result(errno), "%s", err.data);
    buf_free(&err);
    return rc;
}

/* ---- keywords ---- */

enum mailbox_result mailbox_keywords_lookup(struct mailbox *mb,
                                            const char *const *names,
                                            const size_t *lens, size_t count,
                                            int create, uint32_t *mask)
{
    *mask = 0;
    char path[PATH_MAX];
    struct buf err = BUF_INIT;
    snprintf(path, sizeof(path), "%s/" KEYWORDS_FILE, mb->path);
    if (keywords_read(&mb->kw, path, &err) == KEYWORDS_FAILED) {
        mailbox_fail(mb, MAILBOX_FAILED, "%s", err.data);
        buf_free(&err);
        return MAILBOX_FAILED;
    }
    int need_new = 0;
    for (size_t i = 0; i < count; i++) {
        int index = keywords_lookup(&mb->kw, names[i], lens[i]);
        if (index >= 0)
            *mask |= 1u << index;
        else if (keywords_name_valid(names[i], lens[i]))
            need_new = 1;
    }
    enum mailbox_result rc = MAILBOX_OK;
    if (need_new && create) {
        struct uidlist_lock lock;
        int taken = uidlist_lock_take(mb->path, mb->lock_timeout_ms, &lock,
                                      &err);
        if (taken <= 0) {
            rc = taken == 0 ? mailbox_fail(mb, MAILBOX_BUSY,
                                           "%s: mailbox is locked", mb->path)
                            : mailbox_fail(mb, MAILBOX_FAILED, "%s", err.data);
            buf_free(&err);
            return rc;
        }
        /* another process may have added letters since we read */
        if (keywords_read(&mb->kw, path, &err) == KEYWORDS_FAILED)
            rc = mailbox_fail(mb, MAILBOX_FAILED, "%s", err.data);
        int added = 0;
        for (size_t i = 0; rc == MAILBOX_OK && i < count; i++) {
            if (!keywords_name_valid(names[i], lens[i]))
                continue;
            int had = keywords_lookup(&mb->kw, names[i], lens[i]) >= 0;
            int index = keywords_lookup_or_add(&mb->kw, names[i], lens[i]);
            if (index < 0) {
                rc = mailbox_fail(mb, MAILBOX_LIMIT,
                                  "%s: all 26 keyword letters are in use",
                                  mb->path);
                break;
            }
            added |= !had;
            *mask |= 1u << index;
        }
        if (added && keywords_write(&mb->kw, path, &err) < 0) {
            rc = mailbox_fail(mb, mailbox_errno_result(errno), "%s", err.data);
            keywords_free(&mb->kw); /* forget letters that are not on disk */
            keywords_init(&mb->kw);
        }
        uidlist_lock_release(&lock);
    }
    buf_free(&err);
    return rc;
}

/* ---- one message's file ---- */

int mailbox_msg_refind(struct mailbox *mb, uint32_t seq)
{
    struct mailbox_msg *msg = &mb->msgs[seq - 1];
    struct buf base = BUF_INIT;
    buf_append_str(&base, msg_base(mb, msg));
    int found = 0;
    for (int in_new = 0; in_new < 2 && !found && base.len; in_new++) {
        char dir_path[PATH_MAX];
        snprintf(dir_path, sizeof(dir_path), "%s/%s", mb->path,
                 in_new ? "new" : "cur");
        DIR *dir = opendir(dir_path);
        if (dir == NULL) {
            found = -1;
            break;
        }
        struct dirent *ent;
        while ((ent = readdir(dir)) != NULL) {
            const char *name = ent->d_name;
            if (strncmp(name, base.data, base.len) == 0 &&
                (name[base.len] == ':' || name[base.len] == 0)) {
                msg_set_info(mb, msg, name + base.len,
                             strlen(name + base.len), in_new);
                found = 1;
                break;
            }
        }
        closedir(dir);
    }
    buf_free(&base);
    if (found == 0) {
        msg->flags |= MAILBOX_MSG_EXPUNGED;
        mb->expunge_pending = 1;
    }
    return found;
}

/* Runs op on message seq's path; when the file is not there, finds it
 * again by its base name once and retries. op returns 0 or -1 (errno). */
static enum mailbox_result with_msg_path(struct mailbox *mb, uint32_t seq,
                                         int (*op)(struct mailbox *mb,
                                                   uint32_t seq,
                                                   const char *path,
                                                   void *ctx),
                                         void *ctx, const char *what)
{
    if (seq < 1 || seq > mb->count)
        return mailbox_fail(mb, MAILBOX_FAILED, "no message %u", seq);
    if (mb->msgs[seq - 1].flags & MAILBOX_MSG_EXPUNGED)
        return mailbox_fail(mb, MAILBOX_EXPUNGED, "message %u is expunged",
                            mb->msgs[seq - 1].uid);
    struct buf path = BUF_INIT;
    enum mailbox_result rc = MAILBOX_OK;
    for (int attempt = 0;; attempt++) {
        buf_reset(&path);
        mailbox_msg_path(mb, seq, &path);
        if (op(mb, seq, path.data, ctx) == 0)
            break;
        int saved = errno;
        if (saved == ENOENT && attempt == 0) {
            int found = mailbox_msg_refind(mb, seq);
            if (found > 0)
                continue;
            if (found == 0) {
                rc = mailbox_fail(mb, MAILBOX_EXPUNGED,
                                  "message %u is expunged",
                                  mb->msgs[seq - 1].uid);
                break;
            }
        }
        rc = mailbox_fail(mb, mailbox_errno_result(saved), "%s %s: %s", what,
                          path.data, strerror(saved));
        break;
    }
    buf_free(&path);
    return rc;
}

struct rename_ctx {
    unsigned flags;
    uint32_t keywords;
    struct buf to;
};

static int op_rename(struct mailbox *mb, uint32_t seq, const char *path,
                     void *ctx)
{
    struct rename_ctx *rc = ctx;
    struct mailbox_msg *msg = &mb->msgs[seq - 1];
    struct buf info = BUF_INIT;
    maildir_flags_info(msg_info(mb, msg), rc->flags, rc->keywords, &info);
    buf_reset(&rc->to);
    buf_appendf(&rc->to, "%s/cur/%s%s", mb->path, msg_base(mb, msg),
                info.data);
    int result = 0;
    if (strcmp(path, rc->to.data) != 0)
        result = rename(path, rc->to.data);
    if (result == 0)
        msg_set_info(mb, msg, info.data, info.len, 0);
    buf_free(&info);
    return result;
}

enum mailbox_result mailbox_set_flags(struct mailbox *mb, uint32_t seq,
                                      unsigned flags, uint32_t keywords)
{
    if (mb->readonly)
        return mailbox_fail(mb, MAILBOX_FAILED, "mailbox is read-only");
    struct rename_ctx ctx = {flags & MAILDIR_FLAGS_STORED, keywords,
                             BUF_INIT};
    enum mailbox_result rc =
        with_msg_path(mb, seq, op_rename, &ctx, "rename");
    buf_free(&ctx.to);
    return rc;
}

static int op_unlink(struct mailbox *mb, uint32_t seq, const char *path,
                     void *ctx)
{
    (void)ctx;
    (void)mb;
    (void)seq;
    return unlink(path);
}

enum mailbox_result mailbox_expunge(struct mailbox *mb, uint32_t seq)
{
    if (mb->readonly)
        return mailbox_fail(mb, MAILBOX_FAILED, "mailbox is read-only");
    uint32_t size = 0;
    int have_size = mailbox_msg_psize(mb, seq, &size) == MAILBOX_OK;
    enum mailbox_result rc = with_msg_path(mb, seq, op_unlink, NULL, "unlink");
    if (rc == MAILBOX_EXPUNGED)
        rc = MAILBOX_OK; /* gone is what was asked */
    if (rc == MAILBOX_OK) {
        mb->msgs[seq - 1].flags |= MAILBOX_MSG_EXPUNGED;
        mb->expunge_pending = 1;
        struct buf err = BUF_INIT;
        if (have_size &&
            maildir_quota_update(mb->root, -(long long)size, -1, &err) < 0)
            buf_appendf(&mb->warning, "%s", err.data);
        buf_free(&err);
    }
    return rc;
}

static int op_stat(struct mailbox *mb, uint32_t seq, const char *path,
                   void *ctx)
{
    (void)mb;
    (void)seq;
    return stat(path, ctx);
}

enum mailbox_result mailbox_msg_internal_date(struct mailbox *mb,
                                              uint32_t seq, time_t *date)
{
    if (seq >= 1 && seq <= mb->count && mb->msgs[seq - 1].internal_date) {
        *date = (time_t)mb->msgs[seq - 1].internal_date;
        return MAILBOX_OK;
    }
    struct stat st;
    enum mailbox_result rc = with_msg_path(mb, seq, op_stat, &st, "stat");
    if (rc != MAILBOX_OK)
        return rc;
    struct mailbox_msg *msg = &mb->msgs[seq - 1];
    msg->internal_date = st.st_mtime ? st.st_mtime : 1;
    if (msg->psize == MAILBOX_SIZE_UNKNOWN && st.st_size < UINT32_MAX)
        msg->psize = (uint32_t)st.st_size;
    *date = (time_t)msg->internal_date;
    return MAILBOX_OK;
}

enum mailbox_result mailbox_msg_psize(struct mailbox *mb, uint32_t seq,
                                      uint32_t *size)
{
    if (seq >= 1 && seq <= mb->count &&
        mb->msgs[seq - 1].psize != MAILBOX_SIZE_UNKNOWN) {
        *size = mb->msgs[seq - 1].psize;
        return MAILBOX_OK;
    }
    time_t date;
    enum mailbox_result rc = mailbox_msg_internal_date(mb, seq, &date);
    if (rc == MAILBOX_OK && mb->msgs[seq - 1].psize == MAILBOX_SIZE_UNKNOWN)
        rc = mailbox_fail(mb, MAILBOX_FAILED, "message %u is too large",
                          mb->msgs[seq - 1].uid);
    if (rc == MAILBOX_OK)
        *size = mb->msgs[seq - 1].psize;
    return rc;
}

enum mailbox_result mailbox_msg_vsize(struct mailbox *mb, uint32_t seq,
                                      uint32_t *size)
{
    if (seq >= 1 && seq <= mb->count &&
        mb->msgs[seq - 1].vsize != MAILBOX_SIZE_UNKNOWN) {
        *size = mb->msgs[seq - 1].vsize;
        return MAILBOX_OK;
    }
    struct mailbox_map map;
    enum mailbox_result rc = mailbox_msg_map(mb, seq, &map);
    if (rc != MAILBOX_OK)
        return rc;
    /* RFC822.SIZE counts every line end as CR LF */
    unsigned long long vsize = map.size;
    for (size_t i = 0; i < map.size; i++)
        if (map.data[i] == '\n' && (i == 0 || map.data[i - 1] != '\r'))
            vsize++;
    mailbox_map_release(&map);
    if (vsize >= UINT32_MAX)
        return mailbox_fail(mb, MAILBOX_FAILED, "message %u is too large",
                            mb->msgs[seq - 1].uid);
    mb->msgs[seq - 1].vsize = (uint32_t)vsize;
    *size = (uint32_t)vsize;
    return MAILBOX_OK;
}

static int op_open(struct mailbox *mb, uint32_t seq, const char *path,
                   void *ctx)
{
    (void)mb;
    (void)seq;
    int *fd = ctx;
    *fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    return *fd < 0 ? -1 : 0;
}

enum mailbox_result mailbox_msg_open(struct mailbox *mb, uint32_t seq,
                                     int *fd)
{
    *fd = -1;
    return with_msg_path(mb, seq, op_open, fd, "open");
}

enum mailbox_result mailbox_msg_map(struct mailbox *mb, uint32_t seq,
                                    struct mailbox_map *map)
{
    memset(map, 0, sizeof(*map));
    map->data = "";
    int fd;
    enum mailbox_result rc = mailbox_msg_open(mb, seq, &fd);
    if (rc != MAILBOX_OK)
        return rc;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mailbox_fail(mb, MAILBOX_FAILED, "message %u: not a file",
                            mb->msgs[seq - 1].uid);
    }
    if (st.st_size > 0) {
        void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
                          fd, 0);
        if (data == MAP_FAILED) {
            int saved = errno;
            close(fd);
            return mailbox_fail(mb, MAILBOX_FAILED, "mmap message %u: %s",
                                mb->msgs[seq - 1].uid, strerror(saved));
        }
        map->data = data;
        map->size = (size_t)st.st_size;
        map->mapped = 1;
    }
    close(fd);
    return MAILBOX_OK;
}

void mailbox_map_release(struct mailbox_map *map)
{
    if (map->mapped)
        munmap((void *)map->data, map->size);
    memset(map, 0, sizeof(*map));
    map->data = "";
}
