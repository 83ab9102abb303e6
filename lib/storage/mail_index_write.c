/* mail_index_write.c: writing whole index files: a new empty index
 * (mail_index_create) and compaction (mail_index_compact), which folds
 * the log into a new base and, when asked or when most of it is
 * garbage, copies the live cache entries into a new cache file.
 *
 * Order of a rewrite, so that a crash at any point leaves either the
 * old index or the new one (docs/mail-index.md):
 *   1. a new cache file (new id) is written, fsynced, renamed over the
 *      old (only when the cache is rewritten);
 *   2. the new base (log generation + 1, the new cache id) likewise;
 *   3. a new empty log for that generation likewise;
 *   4. the directory is fsynced.
 * After 1 alone the old base meets a foreign cache: nothing is cached
 * until the next rewrite. After 2 the old log is older than the base,
 * which already holds its changes: it is ignored and replaced by the
 * next writer. Readers that meet a mismatch without the lock retry with
 * a shared lock, so they never mistake a rewrite in progress for
 * damage. */
#include "storage/mail_index_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/fsync_dir.h"
#include "base/mem.h"
#include "storage/crc32c.h"
#include "storage/store.h"

#define CACHE_GARBAGE_MIN (1u << 20) /* never rewrite a cache below 1 MiB */

static int sys_fail(struct buf *err, const char *what, const char *path)
{
    buf_set_str(err, "");
    buf_appendf(err, "%s %s: %s", what, path, strerror(errno));
    return -1;
}

int mail_index_pwrite_all(int fd, const void *data, size_t len, off_t offset)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
        offset += n;
    }
    return 0;
}

int mail_index_write_file(struct mail_index *idx, const char *path,
                          const void *data, size_t len, struct buf *err)
{
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    int rc = -1;
    if (fd < 0)
        sys_fail(err, "create", tmp);
    else if (store_write_all(fd, data, len) < 0)
        sys_fail(err, "write", tmp);
    else if (idx->fsync_enabled && fdatasync(fd) < 0)
        sys_fail(err, "fsync", tmp);
    else if (close(fd) < 0) {
        fd = -1;
        sys_fail(err, "close", tmp);
    } else {
        fd = -1;
        if (rename(tmp, path) < 0)
            sys_fail(err, "rename", tmp);
        else
            rc = 0;
    }
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int mail_index_sync_dir(struct mail_index *idx, struct buf *err)
{
    if (!idx->fsync_enabled)
        return 0;
    buf_reset(err);
    return fsync_dir(idx->dir, err);
}

static uint64_t random_id(void)
{
    uint64_t id = 0;
    if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
        id = mail_index_modseq_floor() ^ ((uint64_t)getpid() << 40);
    return id ? id : 1;
}

static int write_file_header(struct mail_index *idx, const char *path,
                             const char *magic, uint32_t uidvalidity,
                             uint64_t id, struct buf *err)
{
    struct mail_index_file_header fh;
    mail_index_file_header_fill(&fh, magic, uidvalidity, id);
    return mail_index_write_file(idx, path, &fh, sizeof(fh), err);
}

/* Writes the base in `base` (header first, sealed here), then a new
 * empty log, fsyncs the directory and reopens under the lock. */
static int install_base(struct mail_index *idx, struct buf *base,
                        struct buf *err)
{
    struct mail_index_header *hdr = (struct mail_index_header *)base->data;
    hdr->body_crc = crc32c(0, base->data + sizeof(*hdr), base->len - sizeof(*hdr));
    mail_index_header_seal(hdr);
    uint32_t uidvalidity = hdr->uidvalidity;
    if (mail_index_write_file(idx, idx->base_path, base->data, base->len, err) < 0 ||
        write_file_header(idx, idx->log_path, MAIL_INDEX_LOG_MAGIC, uidvalidity,
                          hdr->log_generation, err) < 0 ||
        mail_index_sync_dir(idx, err) < 0)
        return -1;
    if (mail_index_open(idx, uidvalidity, err) != MAIL_INDEX_OK)
        return -1;
    return 0;
}

/* A HIGHESTMODSEQ an index may have shown before, read from the header
 * of whatever base is there (raising the floor is always safe, so a
 * header that passes its own checksum is enough), or 0. */
static uint64_t old_highest_modseq(struct mail_index *idx)
{
    if (idx->is_open)
        return idx->st.hdr.highest_modseq;
    struct mail_index_header hdr;
    int fd = open(idx->base_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, &hdr, sizeof(hdr), 0);
    close(fd);
    if (n != (ssize_t)sizeof(hdr) ||
        memcmp(hdr.magic, MAIL_INDEX_BASE_MAGIC, 8) != 0 ||
        crc32c(0, &hdr, offsetof(struct mail_index_header, header_crc)) !=
            hdr.header_crc ||
        hdr.highest_modseq >= ((uint64_t)1 << 62))
        return 0;
    return hdr.highest_modseq;
}

int mail_index_create(struct mail_index *idx, uint32_t uidvalidity,
                      uint32_t next_uid, struct buf *err)
{
    if (uidvalidity == 0 || next_uid == 0 || next_uid == UINT32_MAX) {
        buf_set_str(err, "mail_index_create: UIDVALIDITY and next UID must be 1 or more");
        return -1;
    }
    int was_locked = idx->locked;
    if (!was_locked && mail_index_lock(idx, F_WRLCK, err) < 0)
        return -1;
    uint64_t modseq = mail_index_modseq_floor();
    uint64_t old = old_highest_modseq(idx);
    if (old >= modseq)
        modseq = old + 1;
    mail_index_close(idx);
    int rc = -1;
    struct buf base = BUF_INIT;
    if (unlink(idx->log_path) < 0 && errno != ENOENT) {
        sys_fail(err, "unlink", idx->log_path);
        goto out;
    }
    struct mail_index_header hdr = {0};
    memcpy(hdr.magic, MAIL_INDEX_BASE_MAGIC, 8);
    hdr.version = MAIL_INDEX_VERSION;
    hdr.header_size = sizeof(hdr);
    hdr.record_size = sizeof(struct mail_index_record);
    hdr.uidvalidity = uidvalidity;
    hdr.next_uid = next_uid;
    hdr.first_recent_uid = next_uid;
    hdr.highest_modseq = modseq;
    hdr.log_generation = 1;
    hdr.cache_id = random_id();
    hdr.created = (uint64_t)time(NULL);
    buf_append(&base, &hdr, sizeof(hdr));
    if (write_file_header(idx, idx->cache_path, MAIL_INDEX_CACHE_MAGIC,
                          uidvalidity, hdr.cache_id, err) < 0)
        goto out;
    rc = install_base(idx, &base, err);
out:
    buf_free(&base);
    if (!was_locked)
        mail_index_unlock(idx);
    return rc;
}

/* Bytes of the cache that live records use. */
static uint64_t cache_live_bytes(struct mail_index *idx)
{
    uint64_t live = 0;
    uint32_t count = mail_index_state_count(&idx->st);
    for (uint32_t i = 0; i < count; i++)
        live += mail_index_state_nth(&idx->st, i)->cache_length;
    return live;
}

int mail_index_compact_locked(struct mail_index *idx, int cache,
                              struct buf *err)
{
    struct mail_index_state *st = &idx->st;
    int new_cache = cache || !idx->cache_ok ||
                    (idx->cache_len > CACHE_GARBAGE_MIN &&
                     cache_live_bytes(idx) * 2 < idx->cache_len);
    struct mail_index_header hdr = st->hdr;
    hdr.log_generation++;
    hdr.body_crc = 0;
    uint32_t count = mail_index_state_count(st);
    hdr.record_count = count;
    if (new_cache)
        hdr.cache_id = random_id();

    struct buf base = BUF_INIT, names = BUF_INIT, cache_file = BUF_INIT;
    struct mail_index_file_header fh;
    mail_index_file_header_fill(&fh, MAIL_INDEX_CACHE_MAGIC, hdr.uidvalidity,
                                hdr.cache_id);
    buf_append(&cache_file, &fh, sizeof(fh));
    buf_reserve(&base, sizeof(hdr) + (size_t)count * sizeof(struct mail_index_record));
    buf_append(&base, &hdr, sizeof(hdr));
    for (uint32_t i = 0; i < count; i++) {
        const struct mail_index_record *orig = mail_index_state_nth(st, i);
        struct mail_index_record rec = *orig;
        struct mail_index_cached cached;
        if (new_cache) {
            if (mail_index_cached(idx, orig, &cached)) {
                uint64_t offset = cache_file.len;
                buf_append(&cache_file, idx->cache_map + rec.cache_offset,
                           rec.cache_length);
                rec.cache_offset = offset;
            } else {
                rec.cache_offset = 0;
                rec.cache_length = 0;
            }
        }
        buf_append(&names, mail_index_state_name(st, &rec), rec.name_len);
        rec.name_offset = (uint32_t)(names.len - rec.name_len);
        rec.state = 0;
        buf_append(&base, &rec, sizeof(rec));
    }
    buf_append(&base, names.data, names.len);
    ((struct mail_index_header *)base.data)->names_size = (uint32_t)names.len;
    int rc = 0;
    if (new_cache)
        rc = mail_index_write_file(idx, idx->cache_path, cache_file.data,
                                   cache_file.len, err);
    if (rc == 0)
        rc = install_base(idx, &base, err);
    buf_free(&base);
    buf_free(&names);
    buf_free(&cache_file);
    return rc;
}

int mail_index_compact(struct mail_index *idx, int cache, struct buf *err)
{
    struct mail_index_txn *txn = mail_index_begin(idx, err);
    if (txn == NULL)
        return -1;
    int rc = mail_index_compact_locked(idx, cache, err);
    mail_index_rollback(txn);
    return rc;
}
