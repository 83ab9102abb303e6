/* mail_index_private.h: the handle behind mail_index.h, shared by its
 * reading side (mail_index.c), its transactions (mail_index_txn.c) and
 * its file writing (mail_index_write.c). Not for other modules. */
#ifndef POSTERN_MAIL_INDEX_PRIVATE_H
#define POSTERN_MAIL_INDEX_PRIVATE_H

#include <sys/types.h>

#include "storage/mail_index.h"

struct mail_index {
    char *dir;
    char *base_path, *log_path, *cache_path, *lock_path;
    int fsync_enabled;
    int is_open;
    uint32_t uidvalidity_expected; /* of the last open; 0: any */
    struct mail_index_state st;
    /* the base file, mapped private and writable */
    void *base_map;
    size_t base_len;
    dev_t base_dev;
    ino_t base_ino;
    /* the log: fd, where the next unread entry starts, and whether a
     * torn tail follows it; obsolete: an older log a crash left beside
     * a newer base (its entries are in the base) */
    int log_fd;
    off_t log_end;
    int log_torn;
    int log_obsolete;
    dev_t log_dev;
    ino_t log_ino;
    /* the cache file, mapped shared read-only; cache_ok: its id is the
     * base's */
    int cache_fd;
    const char *cache_map;
    size_t cache_len;
    int cache_ok;
    /* the writers' lock */
    int lock_fd;
    int locked;
    struct buf scratch;
};

/* Closes the files and drops the state. */
void mail_index_close(struct mail_index *idx);

/* Takes (F_WRLCK) or waits for a shared (F_RDLCK) lock; 0 or -1 with err. */
int mail_index_lock(struct mail_index *idx, short type, struct buf *err);
void mail_index_unlock(struct mail_index *idx);

/* Writes data to path.tmp, fsyncs it (when enabled) and renames it to
 * path. 0 or -1 with err. */
int mail_index_write_file(struct mail_index *idx, const char *path,
                          const void *data, size_t len, struct buf *err);

/* Writes all of data at offset; 0 or -1 with errno. */
int mail_index_pwrite_all(int fd, const void *data, size_t len, off_t offset);

/* fsyncs the mailbox directory when enabled; 0 or -1 with err. */
int mail_index_sync_dir(struct mail_index *idx, struct buf *err);

/* Rewrites the files from the state (see mail_index_compact); the
 * caller holds the write lock. 0 or -1 with err. */
int mail_index_compact_locked(struct mail_index *idx, int cache,
                              struct buf *err);

#endif
