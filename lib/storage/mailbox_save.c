/* mailbox_save.c: storing messages into a Maildir folder for APPEND,
 * MULTIAPPEND and COPY (mailbox.h): each file is written (or hard
 * linked) in tmp/ and fsynced; the commit moves them all into cur/ with
 * their flags in the name, under the uidlist lock, appends their UIDs
 * to dovecot-uidlist and fsyncs cur/, so the UIDs are known at once and
 * no other process numbers the files first. */
#include "storage/mailbox_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsync_dir.h"
#include "base/mem.h"
#include "storage/maildir.h"
#include "storage/maildir_quota.h"
#include "storage/store.h"

struct save_item {
    char *tmp_name; /* in tmp/ */
    char *base;     /* the final base name, with ,S= and ,W= */
    unsigned flags;
    uint32_t keywords;
    long long size;
};

struct mailbox_save {
    struct mailbox *dst;
    struct save_item *items;
    size_t count, cap;
    /* the append being written */
    int fd;
    struct buf tmp_name;
    struct store_filter filter;
    struct buf chunk;
};

struct mailbox_save *mailbox_save_begin(struct mailbox *dst)
{
    struct mailbox_save *save = xcalloc(1, sizeof(*save));
    save->dst = dst;
    save->fd = -1;
    buf_init(&save->tmp_name);
    buf_init(&save->chunk);
    return save;
}

size_t mailbox_save_count(const struct mailbox_save *save)
{
    return save->count;
}

static void tmp_path(const struct mailbox_save *save, const char *name,
                     struct buf *out)
{
    buf_reset(out);
    buf_appendf(out, "%s/tmp/%s", save->dst->path, name);
}

static struct save_item *item_add(struct mailbox_save *save)
{
    if (save->count == save->cap) {
        save->cap = save->cap ? save->cap * 2 : 8;
        save->items = xreallocarray(save->items, save->cap,
                                    sizeof(*save->items));
    }
    struct save_item *item = &save->items[save->count++];
    memset(item, 0, sizeof(*item));
    return item;
}

/* A fresh unique name in tmp/; the file is created with O_EXCL. */
static int create_tmp(struct mailbox_save *save, struct buf *name,
                      struct buf *path)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        buf_reset(name);
        maildir_unique_name(save->dst->hostname, name);
        tmp_path(save, name->data, path);
        int fd = open(path->data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                      O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

static void drop_current(struct mailbox_save *save)
{
    if (save->fd >= 0) {
        close(save->fd);
        save->fd = -1;
        struct buf path = BUF_INIT;
        tmp_path(save, save->tmp_name.data, &path);
        unlink(path.data);
        buf_free(&path);
    }
}

enum mailbox_result mailbox_save_append_start(struct mailbox_save *save)
{
    drop_current(save);
    struct buf path = BUF_INIT;
    save->fd = create_tmp(save, &save->tmp_name, &path);
    enum mailbox_result rc = MAILBOX_OK;
    if (save->fd < 0)
        rc = mailbox_fail(save->dst, mailbox_errno_result(errno),
                          "create %s: %s", path.data, strerror(errno));
    buf_free(&path);
    store_filter_init(&save->filter, STORE_FILTER_CRLF);
    return rc;
}

static enum mailbox_result write_chunk(struct mailbox_save *save)
{
    if (save->chunk.len == 0)
        return MAILBOX_OK;
    int rc = store_write_all(save->fd, save->chunk.data, save->chunk.len);
    buf_reset(&save->chunk);
    if (rc < 0) {
        int saved = errno;
        drop_current(save);
        return mailbox_fail(save->dst, mailbox_errno_result(saved),
                            "write %s/tmp/%s: %s", save->dst->path,
                            save->tmp_name.data, strerror(saved));
    }
    return MAILBOX_OK;
}

enum mailbox_result mailbox_save_append_write(struct mailbox_save *save,
                                              const void *data, size_t len)
{
    if (save->fd < 0)
        return mailbox_fail(save->dst, MAILBOX_FAILED, "no append started");
    store_filter_run(&save->filter, data, len, &save->chunk);
    if (save->chunk.len < 65536)
        return MAILBOX_OK;
    return write_chunk(save);
}

/* fsync and the internal date (mtime) of a finished file in tmp/. */
static int finish_file(int fd, time_t internal_date)
{
    struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    if (internal_date > 0) {
        times[1].tv_sec = internal_date;
        times[1].tv_nsec = 0;
    }
    return futimens(fd, times) < 0 || fsync(fd) < 0 ? -1 : 0;
}

enum mailbox_result mailbox_save_append_finish(struct mailbox_save *save,
                                               unsigned flags,
                                               uint32_t keywords,
                                               time_t internal_date)
{
    if (save->fd < 0)
        return mailbox_fail(save->dst, MAILBOX_FAILED, "no append started");
    store_filter_finish(&save->filter, &save->chunk);
    enum mailbox_result rc = write_chunk(save);
    if (rc != MAILBOX_OK)
        return rc;
    if (finish_file(save->fd, internal_date) < 0) {
        int saved = errno;
        drop_current(save);
        return mailbox_fail(save->dst, mailbox_errno_result(saved),
                            "fsync %s/tmp/%s: %s", save->dst->path,
                            save->tmp_name.data, strerror(saved));
    }
    close(save->fd);
    save->fd = -1;
    long long size = save->filter.out_bytes;
    long long vsize = size + save->filter.bare_lf;
    struct save_item *item = item_add(save);
    item->tmp_name = buf_detach(&save->tmp_name);
    item->base = xasprintf("%s,S=%lld,W=%lld", item->tmp_name, size, vsize);
    item->flags = flags & MAILDIR_FLAGS_STORED;
    item->keywords = keywords;
    item->size = size;
    return MAILBOX_OK;
}

/* Copies src's bytes into the open file fd. */
static int copy_bytes(int src_fd, int fd)
{
    char chunk[65536];
    for (;;) {
        ssize_t got = read(src_fd, chunk, sizeof(chunk));
        if (got == 0)
            return 0;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (store_write_all(fd, chunk, (size_t)got) < 0)
            return -1;
    }
}

/* The keyword letters of src's message, as dst's letters (by name). A
 * keyword that finds no letter in dst is left out. */
static enum mailbox_result map_keywords(struct mailbox *dst,
                                        struct mailbox *src, uint32_t letters,
                                        uint32_t *out)
{
    *out = 0;
    const char *names[26];
    size_t lens[26], count = 0;
    for (int i = 0; i < 26; i++) {
        const char *name = mailbox_keyword_name(src, i);
        if ((letters & (1u << i)) && name) {
            names[count] = name;
            lens[count++] = strlen(name);
        }
    }
    if (count == 0)
        return MAILBOX_OK;
    enum mailbox_result rc =
        mailbox_keywords_lookup(dst, names, lens, count, 1, out);
    if (rc == MAILBOX_LIMIT) /* keep what fits */
        rc = mailbox_keywords_lookup(dst, names, lens, count, 0, out);
    return rc;
}

/* Puts the file at src_path into tmp/ under a new unique name: a hard
 * link, or a copy of the bytes (and mtime) where links cannot be made.
 * 0, or -1 with errno set. */
static int link_into_tmp(struct mailbox_save *save, const char *src_path,
                         struct buf *tmp_name, struct buf *path)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        buf_reset(tmp_name);
        maildir_unique_name(save->dst->hostname, tmp_name);
        tmp_path(save, tmp_name->data, path);
        if (link(src_path, path->data) == 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    /* another file system, or no hard links here: copy the bytes */
    int saved = errno;
    if (saved != EXDEV && saved != EPERM && saved != EMLINK &&
        saved != ENOTSUP && saved != EACCES)
        return -1;
    int src_fd = open(src_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (src_fd < 0)
        return -1;
    struct stat st;
    int fd = create_tmp(save, tmp_name, path);
    int rc = -1;
    if (fd >= 0 && fstat(src_fd, &st) == 0 && copy_bytes(src_fd, fd) == 0 &&
        finish_file(fd, st.st_mtime) == 0)
        rc = 0;
    saved = errno;
    if (fd >= 0)
        close(fd);
    if (rc < 0 && fd >= 0)
        unlink(path->data);
    close(src_fd);
    errno = saved;
    return rc;
}

enum mailbox_result mailbox_save_copy(struct mailbox_save *save,
                                      struct mailbox *src, uint32_t seq)
{
    struct mailbox *dst = save->dst;
    const struct mailbox_msg *msg = mailbox_msg(src, seq);
    if (msg == NULL)
        return mailbox_fail(dst, MAILBOX_FAILED, "no message %u", seq);
    uint32_t psize, vsize;
    enum mailbox_result rc = mailbox_msg_psize(src, seq, &psize);
    if (rc == MAILBOX_OK)
        rc = mailbox_msg_vsize(src, seq, &vsize);
    uint32_t keywords = 0;
    if (rc == MAILBOX_OK)
        rc = map_keywords(dst, src, msg->keywords, &keywords);
    if (rc != MAILBOX_OK) {
        if (src != dst)
            mailbox_fail(dst, rc, "%s", mailbox_error(src));
        return rc;
    }
    struct buf tmp_name = BUF_INIT, path = BUF_INIT;
    /* opening finds the file again if someone renamed it */
    int fd;
    rc = mailbox_msg_open(src, seq, &fd);
    if (rc == MAILBOX_OK) {
        close(fd);
        struct buf src_path = BUF_INIT;
        mailbox_msg_path(src, seq, &src_path);
        if (link_into_tmp(save, src_path.data, &tmp_name, &path) < 0)
            rc = mailbox_fail(dst, mailbox_errno_result(errno),
                              "copy %s to %s: %s", src_path.data, path.data,
                              strerror(errno));
        buf_free(&src_path);
    } else if (src != dst) {
        mailbox_fail(dst, rc, "%s", mailbox_error(src));
    }
    if (rc == MAILBOX_OK) {
        msg = mailbox_msg(src, seq);
        struct save_item *item = item_add(save);
        item->tmp_name = buf_detach(&tmp_name);
        item->base = xasprintf("%s,S=%u,W=%u", item->tmp_name, psize, vsize);
        item->flags = msg->flags & MAILDIR_FLAGS_STORED;
        item->keywords = keywords;
        item->size = psize;
    }
    buf_free(&tmp_name);
    buf_free(&path);
    return rc;
}

static void save_free(struct mailbox_save *save, int remove_tmp)
{
    drop_current(save);
    struct buf path = BUF_INIT;
    for (size_t i = 0; i < save->count; i++) {
        if (remove_tmp && save->items[i].tmp_name) {
            tmp_path(save, save->items[i].tmp_name, &path);
            unlink(path.data);
        }
        free(save->items[i].tmp_name);
        free(save->items[i].base);
    }
    buf_free(&path);
    buf_free(&save->tmp_name);
    buf_free(&save->chunk);
    free(save->items);
    free(save);
}

void mailbox_save_abort(struct mailbox_save *save)
{
    save_free(save, 1);
}

enum mailbox_result mailbox_save_commit(struct mailbox_save *save,
                                        uint32_t *uids)
{
    struct mailbox *mb = save->dst;
    drop_current(save); /* an append started but never finished */
    struct uidlist_lock lock;
    enum mailbox_result rc = mailbox_lock_uidlist(mb, &lock);
    if (rc == MAILBOX_BUSY)
        return rc;
    if (rc != MAILBOX_OK) {
        save_free(save, 1);
        return rc;
    }
    size_t first = mb->ul.count, moved = 0;
    long long bytes = 0;
    struct buf from = BUF_INIT, to = BUF_INIT, info = BUF_INIT;
    for (size_t i = 0; i < save->count; i++) {
        struct save_item *item = &save->items[i];
        buf_reset(&info);
        maildir_flags_info("", item->flags, item->keywords, &info);
        tmp_path(save, item->tmp_name, &from);
        buf_reset(&to);
        buf_appendf(&to, "%s/cur/%s%s", mb->path, item->base, info.data);
        if (rename(from.data, to.data) < 0) {
            rc = mailbox_fail(mb, mailbox_errno_result(errno),
                              "rename %s to %s: %s", from.data, to.data,
                              strerror(errno));
            break;
        }
        free(item->tmp_name);
        item->tmp_name = NULL;
        uids[i] = mb->ul.next_uid;
        uidlist_add(&mb->ul, uids[i], item->base, strlen(item->base), NULL);
        mailbox_note_own_uid(mb, uids[i]);
        bytes += item->size;
        moved++;
    }
    /* what was moved is numbered on disk even when a later one failed */
    enum mailbox_result stored = mailbox_uidlist_store(mb, first);
    struct buf err = BUF_INIT;
    char cur[PATH_MAX];
    snprintf(cur, sizeof(cur), "%s/cur", mb->path);
    if (stored == MAILBOX_OK && fsync_dir(cur, &err) < 0)
        stored = mailbox_fail(mb, MAILBOX_FAILED, "%s", err.data);
    uidlist_lock_release(&lock);
    if (moved && maildir_quota_update(mb->root, bytes, (long long)moved,
                                      &err) < 0)
        buf_appendf(&mb->warning, "%s", err.data);
    if (rc == MAILBOX_OK)
        rc = stored;
    buf_free(&err);
    buf_free(&from);
    buf_free(&to);
    buf_free(&info);
    save_free(save, 1);
    return rc;
}
