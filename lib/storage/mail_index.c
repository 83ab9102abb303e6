/* mail_index.c: opening, checking and reading the mailbox index, and
 * following what other processes commit (see mail_index.h). Writing is
 * in mail_index_txn.c and mail_index_write.c. */
#include "storage/mail_index_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"

#define LOG_SIZE_MAX ((off_t)1 << 30)

struct mail_index *mail_index_alloc(const char *dir)
{
    struct mail_index *idx = xcalloc(1, sizeof(*idx));
    idx->dir = xstrdup(dir);
    idx->base_path = xasprintf("%s/%s", dir, MAIL_INDEX_BASE_NAME);
    idx->log_path = xasprintf("%s/%s", dir, MAIL_INDEX_LOG_NAME);
    idx->cache_path = xasprintf("%s/%s", dir, MAIL_INDEX_CACHE_NAME);
    idx->lock_path = xasprintf("%s/%s", dir, MAIL_INDEX_LOCK_NAME);
    idx->fsync_enabled = 1;
    idx->log_fd = idx->cache_fd = idx->lock_fd = -1;
    buf_init(&idx->scratch);
    return idx;
}

void mail_index_set_fsync(struct mail_index *idx, int enabled)
{
    idx->fsync_enabled = enabled;
}

void mail_index_close(struct mail_index *idx)
{
    mail_index_state_free(&idx->st);
    if (idx->base_map)
        munmap(idx->base_map, idx->base_len);
    if (idx->cache_map)
        munmap((void *)idx->cache_map, idx->cache_len);
    if (idx->log_fd >= 0)
        close(idx->log_fd);
    if (idx->cache_fd >= 0)
        close(idx->cache_fd);
    idx->base_map = NULL;
    idx->cache_map = NULL;
    idx->base_len = idx->cache_len = 0;
    idx->log_fd = idx->cache_fd = -1;
    idx->is_open = idx->log_torn = idx->log_obsolete = idx->cache_ok = 0;
    idx->log_end = 0;
}

void mail_index_free(struct mail_index *idx)
{
    if (idx == NULL)
        return;
    mail_index_close(idx);
    if (idx->lock_fd >= 0)
        close(idx->lock_fd);
    buf_free(&idx->scratch);
    free(idx->dir);
    free(idx->base_path);
    free(idx->log_path);
    free(idx->cache_path);
    free(idx->lock_path);
    free(idx);
}

int mail_index_lock(struct mail_index *idx, short type, struct buf *err)
{
    if (idx->lock_fd < 0) {
        idx->lock_fd = open(idx->lock_path,
                            O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (idx->lock_fd < 0) {
            buf_set_str(err, "");
            buf_appendf(err, "open %s: %s", idx->lock_path, strerror(errno));
            return -1;
        }
    }
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET};
    while (fcntl(idx->lock_fd, F_OFD_SETLKW, &fl) < 0) {
        if (errno != EINTR) {
            buf_set_str(err, "");
            buf_appendf(err, "lock %s: %s", idx->lock_path, strerror(errno));
            return -1;
        }
    }
    idx->locked = type == F_WRLCK;
    return 0;
}

void mail_index_unlock(struct mail_index *idx)
{
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET};
    if (idx->lock_fd >= 0)
        (void)fcntl(idx->lock_fd, F_OFD_SETLK, &fl);
    idx->locked = 0;
}

static enum mail_index_result fail(struct buf *err, enum mail_index_result r,
                                   const char *path, const char *reason)
{
    buf_set_str(err, "");
    buf_appendf(err, "%s: %s", path, reason);
    return r;
}

static int open_rw(const char *path)
{
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EROFS))
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

/* Reads fd[offset..size) into out; 0 or -1 with errno. */
static int read_range(int fd, off_t offset, off_t size, struct buf *out)
{
    buf_reset(out);
    if (size <= offset)
        return 0;
    size_t want = (size_t)(size - offset);
    buf_reserve(out, want);
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(fd, out->data + got, want - got, offset + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break; /* shorter than fstat said: a writer cut a tail */
        got += (size_t)n;
    }
    out->len = got;
    out->data[got] = '\0';
    return 0;
}

/* Maps the cache file as far as it goes now (after a refresh: entries
 * appended since become readable). */
static void map_cache(struct mail_index *idx)
{
    struct stat sb;
    if (idx->cache_fd < 0 || fstat(idx->cache_fd, &sb) < 0 ||
        (size_t)sb.st_size <= idx->cache_len)
        return;
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ,
                     MAP_SHARED | MAP_POPULATE, idx->cache_fd, 0);
    if (map == MAP_FAILED)
        return;
    if (idx->cache_map)
        munmap((void *)idx->cache_map, idx->cache_len);
    idx->cache_map = map;
    idx->cache_len = (size_t)sb.st_size;
}

static void open_cache(struct mail_index *idx)
{
    idx->cache_fd = open_rw(idx->cache_path);
    if (idx->cache_fd < 0)
        return;
    struct mail_index_file_header hdr;
    ssize_t n = pread(idx->cache_fd, &hdr, sizeof(hdr), 0);
    if (n != (ssize_t)sizeof(hdr) ||
        mail_index_file_header_check(&hdr, sizeof(hdr),
                                     MAIL_INDEX_CACHE_MAGIC, NULL) < 0 ||
        hdr.uidvalidity != idx->st.hdr.uidvalidity ||
        hdr.id != idx->st.hdr.cache_id)
        return; /* foreign or damaged: nothing cached until a rewrite */
    idx->cache_ok = 1;
    map_cache(idx);
}

/* One attempt at opening. Without the lock (final = 0) a log or cache
 * that does not belong to the base may be a compaction in progress:
 * *retry asks the caller to try again holding the lock. */
static enum mail_index_result open_once(struct mail_index *idx,
                                        uint32_t expected, int final,
                                        int *retry, struct buf *err)
{
    *retry = 0;
    int fd = open(idx->base_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errno == ENOENT ? MAIL_INDEX_MISSING : MAIL_INDEX_ERROR,
                    idx->base_path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fail(err, MAIL_INDEX_ERROR, idx->base_path, "not a regular file");
    }
    if ((size_t)sb.st_size < sizeof(struct mail_index_header)) {
        close(fd);
        return fail(err, MAIL_INDEX_CORRUPT, idx->base_path,
                    "index shorter than its header");
    }
    /* Populated at once (the checksum reads every page anyway), and
     * read-only while populating: populating a writable private mapping
     * would copy every page. Made writable after, so the log's changes
     * copy only the pages they touch; the rest stays shared. */
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ,
                     MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return fail(err, MAIL_INDEX_ERROR, idx->base_path, strerror(errno));
    if (mprotect(map, (size_t)sb.st_size, PROT_READ | PROT_WRITE) < 0) {
        munmap(map, (size_t)sb.st_size);
        return fail(err, MAIL_INDEX_ERROR, idx->base_path, strerror(errno));
    }
    idx->base_map = map;
    idx->base_len = (size_t)sb.st_size;
    idx->base_dev = sb.st_dev;
    idx->base_ino = sb.st_ino;
    if (mail_index_base_check(map, idx->base_len, &idx->scratch) < 0)
        return fail(err, MAIL_INDEX_CORRUPT, idx->base_path,
                    buf_cstr(&idx->scratch));
    struct mail_index_header hdr;
    memcpy(&hdr, map, sizeof(hdr));
    if (expected != 0 && hdr.uidvalidity != expected)
        return fail(err, MAIL_INDEX_STALE, idx->base_path,
                    "UIDVALIDITY differs from the mailbox's");
    mail_index_state_init(&idx->st, map, &hdr);

    idx->log_fd = open_rw(idx->log_path);
    if (idx->log_fd < 0) {
        *retry = !final && errno == ENOENT;
        return fail(err, errno == ENOENT ? MAIL_INDEX_CORRUPT : MAIL_INDEX_ERROR,
                    idx->log_path, strerror(errno));
    }
    if (fstat(idx->log_fd, &sb) < 0)
        return fail(err, MAIL_INDEX_ERROR, idx->log_path, strerror(errno));
    idx->log_dev = sb.st_dev;
    idx->log_ino = sb.st_ino;
    if (sb.st_size > LOG_SIZE_MAX)
        return fail(err, MAIL_INDEX_CORRUPT, idx->log_path, "log too large");
    if (read_range(idx->log_fd, 0, sb.st_size, &idx->scratch) < 0)
        return fail(err, MAIL_INDEX_ERROR, idx->log_path, strerror(errno));
    struct mail_index_file_header lh;
    struct buf why = BUF_INIT;
    if (mail_index_file_header_check(idx->scratch.data, idx->scratch.len,
                                     MAIL_INDEX_LOG_MAGIC, &why) < 0) {
        fail(err, MAIL_INDEX_CORRUPT, idx->log_path, buf_cstr(&why));
        buf_free(&why);
        return MAIL_INDEX_CORRUPT;
    }
    memcpy(&lh, idx->scratch.data, sizeof(lh));
    if (lh.uidvalidity != hdr.uidvalidity)
        return fail(err, MAIL_INDEX_CORRUPT, idx->log_path,
                    "log UIDVALIDITY differs from the index's");
    if (lh.id != hdr.log_generation) {
        if (!final) {
            *retry = 1;
            return MAIL_INDEX_CORRUPT;
        }
        if (lh.id > hdr.log_generation)
            return fail(err, MAIL_INDEX_CORRUPT, idx->log_path,
                        "log newer than the index");
        idx->log_obsolete = 1; /* a crash between the two renames */
        idx->log_end = (off_t)idx->scratch.len;
    } else {
        size_t used;
        enum mail_index_scan_result scan = mail_index_log_scan(
            &idx->st, idx->scratch.data + sizeof(lh),
            idx->scratch.len - sizeof(lh), &used, NULL, NULL, &why);
        if (scan == MAIL_INDEX_SCAN_CORRUPT) {
            fail(err, MAIL_INDEX_CORRUPT, idx->log_path, buf_cstr(&why));
            buf_free(&why);
            return MAIL_INDEX_CORRUPT;
        }
        idx->log_end = (off_t)(sizeof(lh) + used);
        idx->log_torn = scan == MAIL_INDEX_SCAN_TAIL;
    }
    buf_free(&why);

    open_cache(idx);
    if (!idx->cache_ok && !final && idx->cache_fd >= 0) {
        *retry = 1; /* perhaps a compaction renaming files */
        return MAIL_INDEX_CORRUPT;
    }
    idx->is_open = 1;
    return MAIL_INDEX_OK;
}

enum mail_index_result mail_index_open(struct mail_index *idx,
                                       uint32_t expected_uidvalidity,
                                       struct buf *err)
{
    int retry;
    mail_index_close(idx);
    idx->uidvalidity_expected = expected_uidvalidity;
    enum mail_index_result r =
        open_once(idx, expected_uidvalidity, idx->locked, &retry, err);
    if (retry) {
        mail_index_close(idx);
        int locked = mail_index_lock(idx, F_RDLCK, err) == 0;
        r = open_once(idx, expected_uidvalidity, 1, &retry, err);
        if (locked)
            mail_index_unlock(idx);
    }
    if (r != MAIL_INDEX_OK)
        mail_index_close(idx);
    return r;
}

static int same_file(const char *path, dev_t dev, ino_t ino)
{
    struct stat sb;
    return stat(path, &sb) == 0 && sb.st_dev == dev && sb.st_ino == ino;
}

enum mail_index_result mail_index_refresh(struct mail_index *idx,
                                          mail_index_change_fn *change,
                                          void *ctx, struct buf *err)
{
    struct stat sb;
    if (!idx->is_open || !same_file(idx->base_path, idx->base_dev, idx->base_ino) ||
        !same_file(idx->log_path, idx->log_dev, idx->log_ino) ||
        fstat(idx->log_fd, &sb) < 0 || sb.st_size < idx->log_end) {
        /* the UIDVALIDITY the caller expected, or the one it has seen:
         * an index re-created for another is STALE to this handle */
        uint32_t expected = idx->uidvalidity_expected;
        if (expected == 0 && idx->is_open)
            expected = idx->st.hdr.uidvalidity;
        enum mail_index_result r = mail_index_open(idx, expected, err);
        if (r == MAIL_INDEX_OK && change)
            change(ctx, MAIL_INDEX_CHANGE_RESET, NULL);
        return r;
    }
    if (!idx->log_obsolete && sb.st_size > idx->log_end) {
        if (sb.st_size > LOG_SIZE_MAX ||
            read_range(idx->log_fd, idx->log_end, sb.st_size, &idx->scratch) < 0) {
            mail_index_close(idx);
            return fail(err, MAIL_INDEX_ERROR, idx->log_path,
                        "cannot read the log");
        }
        size_t used;
        struct buf why = BUF_INIT;
        enum mail_index_scan_result scan =
            mail_index_log_scan(&idx->st, idx->scratch.data, idx->scratch.len,
                                &used, change, ctx, &why);
        if (scan == MAIL_INDEX_SCAN_CORRUPT) {
            fail(err, MAIL_INDEX_CORRUPT, idx->log_path, buf_cstr(&why));
            buf_free(&why);
            mail_index_close(idx);
            return MAIL_INDEX_CORRUPT;
        }
        buf_free(&why);
        idx->log_end += (off_t)used;
        idx->log_torn = scan == MAIL_INDEX_SCAN_TAIL;
    }
    map_cache(idx);
    return MAIL_INDEX_OK;
}

const struct mail_index_header *mail_index_header(const struct mail_index *idx)
{
    return &idx->st.hdr;
}

uint32_t mail_index_count(struct mail_index *idx)
{
    return idx->is_open ? mail_index_state_count(&idx->st) : 0;
}

const struct mail_index_record *mail_index_nth(struct mail_index *idx,
                                               uint32_t seq0)
{
    return idx->is_open ? mail_index_state_nth(&idx->st, seq0) : NULL;
}

const struct mail_index_record *mail_index_lookup(struct mail_index *idx,
                                                  uint32_t uid)
{
    if (!idx->is_open)
        return NULL;
    const struct mail_index_record *rec = mail_index_state_find(&idx->st, uid);
    return rec && !(rec->state & MAIL_INDEX_REC_EXPUNGED) ? rec : NULL;
}

const char *mail_index_name(const struct mail_index *idx,
                            const struct mail_index_record *rec)
{
    return mail_index_state_name(&idx->st, rec);
}

int mail_index_cached(struct mail_index *idx,
                      const struct mail_index_record *rec,
                      struct mail_index_cached *cached)
{
    if (!idx->cache_ok || rec->cache_offset == 0 ||
        rec->cache_offset < sizeof(struct mail_index_file_header) ||
        rec->cache_offset > idx->cache_len ||
        rec->cache_length > idx->cache_len - rec->cache_offset)
        return 0;
    uint8_t *checked = mail_index_state_cache_checked(&idx->st, rec);
    if (*checked == MAIL_INDEX_CACHE_BAD ||
        mail_index_cache_entry_read(idx->cache_map + rec->cache_offset,
                                    rec->cache_length, rec->uid,
                                    *checked != MAIL_INDEX_CACHE_OK,
                                    cached) < 0) {
        *checked = MAIL_INDEX_CACHE_BAD;
        return 0;
    }
    *checked = MAIL_INDEX_CACHE_OK;
    return 1;
}

uint64_t mail_index_modseq_floor(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
