/* mail_index_txn.c: write transactions on the mailbox index (see
 * mail_index.h). A transaction collects operations in memory; commit
 * appends its cache entries to the cache file, then the operations as
 * one checksummed log entry, applies that entry to the handle's state
 * with the same code readers use, and compacts when the log has grown
 * past 64 KiB and a quarter of the base. A transaction that big by
 * itself (a rebuild) is applied and written as a new base directly. */
#include "storage/mail_index_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "storage/crc32c.h"

#define COMPACT_LOG_MIN (64 * 1024) /* log bytes before compaction pays */

struct mail_index_txn {
    struct mail_index *idx;
    struct buf ops;      /* the entry's operations */
    struct buf cache;    /* cache entries, offsets relative to its start */
    size_t *patches;     /* where in ops a relative cache offset sits */
    size_t patch_count, patch_cap;
    uint32_t *expunged;  /* UIDs expunged by this transaction */
    size_t expunged_count, expunged_cap;
    uint32_t last_uid;
    uint32_t next_uid;
    int needs_modseq;
};

static void txn_free(struct mail_index_txn *txn)
{
    buf_free(&txn->ops);
    buf_free(&txn->cache);
    free(txn->patches);
    free(txn->expunged);
    free(txn);
}

void mail_index_rollback(struct mail_index_txn *txn)
{
    mail_index_unlock(txn->idx);
    txn_free(txn);
}

struct mail_index_txn *mail_index_begin(struct mail_index *idx, struct buf *err)
{
    if (mail_index_lock(idx, F_WRLCK, err) < 0)
        return NULL;
    enum mail_index_result r = mail_index_refresh(idx, NULL, NULL, err);
    if (r != MAIL_INDEX_OK)
        goto fail;
    if (idx->log_torn) {
        /* the tail of a write a crash interrupted: cut it off */
        if (ftruncate(idx->log_fd, idx->log_end) < 0) {
            buf_set_str(err, "");
            buf_appendf(err, "truncate %s: %s", idx->log_path, strerror(errno));
            goto fail;
        }
        idx->log_torn = 0;
    }
    if ((idx->log_obsolete || !idx->cache_ok) &&
        mail_index_compact_locked(idx, 0, err) < 0)
        goto fail;
    struct mail_index_txn *txn = xcalloc(1, sizeof(*txn));
    txn->idx = idx;
    buf_init(&txn->ops);
    buf_init(&txn->cache);
    txn->last_uid = idx->st.last_uid;
    txn->next_uid = idx->st.hdr.next_uid;
    return txn;
fail:
    mail_index_unlock(idx);
    return NULL;
}

static void put32(struct buf *b, uint32_t v)
{
    buf_append(b, &v, 4);
}

/* A message that existed before the transaction and is still there. */
static int existing(struct mail_index_txn *txn, uint32_t uid)
{
    if (mail_index_lookup(txn->idx, uid) == NULL)
        return 0;
    for (size_t i = 0; i < txn->expunged_count; i++)
        if (txn->expunged[i] == uid)
            return 0;
    return 1;
}

/* Appends a cache entry and returns its relative offset and length. */
static uint32_t add_cache(struct mail_index_txn *txn, uint32_t uid,
                          const struct mail_index_cached *cached,
                          uint64_t *relative)
{
    *relative = txn->cache.len;
    return mail_index_cache_entry_write(&txn->cache, uid, cached);
}

static void add_patch(struct mail_index_txn *txn, size_t at)
{
    if (txn->patch_count == txn->patch_cap) {
        txn->patch_cap = txn->patch_cap ? txn->patch_cap * 2 : 16;
        txn->patches = xreallocarray(txn->patches, txn->patch_cap,
                                     sizeof(*txn->patches));
    }
    txn->patches[txn->patch_count++] = at;
}

int mail_index_txn_append(struct mail_index_txn *txn,
                          const struct mail_index_new *msg,
                          const struct mail_index_cached *cached)
{
    if (msg->uid <= txn->last_uid || msg->uid == UINT32_MAX ||
        (msg->flags & ~MAIL_INDEX_FLAGS_MASK) || msg->name_len == 0 ||
        msg->name_len > MAIL_INDEX_NAME_MAX ||
        memchr(msg->name, '\0', msg->name_len) != NULL)
        return -1;
    struct mail_index_record rec = {0};
    rec.uid = msg->uid;
    rec.flags = msg->flags;
    rec.name_len = (uint16_t)msg->name_len;
    rec.keywords = msg->keywords;
    rec.internal_date = msg->internal_date;
    rec.rfc822_size = msg->rfc822_size;
    rec.physical_size = msg->physical_size;
    if (cached) {
        rec.cache_length = add_cache(txn, msg->uid, cached, &rec.cache_offset);
        if (rec.cache_length == 0)
            rec.cache_offset = 0;
    }
    put32(&txn->ops, MAIL_INDEX_OP_APPEND);
    if (rec.cache_length)
        add_patch(txn, txn->ops.len + offsetof(struct mail_index_record,
                                               cache_offset));
    buf_append(&txn->ops, &rec, sizeof(rec));
    buf_append(&txn->ops, msg->name, msg->name_len);
    static const char zeros[4];
    buf_append(&txn->ops, zeros, (4 - msg->name_len % 4) % 4);
    txn->last_uid = msg->uid;
    if (txn->next_uid <= msg->uid)
        txn->next_uid = msg->uid + 1;
    txn->needs_modseq = 1;
    return 0;
}

int mail_index_txn_flags(struct mail_index_txn *txn, uint32_t uid,
                         uint8_t flags, uint32_t keywords)
{
    if ((flags & ~MAIL_INDEX_FLAGS_MASK) || !existing(txn, uid))
        return -1;
    put32(&txn->ops, MAIL_INDEX_OP_FLAGS);
    put32(&txn->ops, uid);
    put32(&txn->ops, flags);
    put32(&txn->ops, keywords);
    txn->needs_modseq = 1;
    return 0;
}

int mail_index_txn_expunge(struct mail_index_txn *txn, uint32_t uid)
{
    if (!existing(txn, uid))
        return -1;
    if (txn->expunged_count == txn->expunged_cap) {
        txn->expunged_cap = txn->expunged_cap ? txn->expunged_cap * 2 : 16;
        txn->expunged = xreallocarray(txn->expunged, txn->expunged_cap,
                                      sizeof(*txn->expunged));
    }
    txn->expunged[txn->expunged_count++] = uid;
    put32(&txn->ops, MAIL_INDEX_OP_EXPUNGE);
    put32(&txn->ops, uid);
    txn->needs_modseq = 1;
    return 0;
}

int mail_index_txn_cache(struct mail_index_txn *txn, uint32_t uid,
                         const struct mail_index_cached *cached)
{
    if (!existing(txn, uid))
        return -1;
    uint64_t relative;
    uint32_t length = add_cache(txn, uid, cached, &relative);
    if (length == 0)
        return -1;
    put32(&txn->ops, MAIL_INDEX_OP_CACHE);
    put32(&txn->ops, uid);
    put32(&txn->ops, length);
    add_patch(txn, txn->ops.len);
    buf_append(&txn->ops, &relative, 8);
    return 0;
}

int mail_index_txn_next_uid(struct mail_index_txn *txn, uint32_t next_uid)
{
    if (next_uid < txn->next_uid || next_uid == UINT32_MAX)
        return -1;
    txn->next_uid = next_uid;
    put32(&txn->ops, MAIL_INDEX_OP_NEXT_UID);
    put32(&txn->ops, next_uid);
    return 0;
}

int mail_index_txn_first_recent(struct mail_index_txn *txn, uint32_t uid)
{
    if (uid == 0 || uid > txn->next_uid)
        return -1;
    put32(&txn->ops, MAIL_INDEX_OP_RECENT);
    put32(&txn->ops, uid);
    return 0;
}

int mail_index_txn_sync_stamp(struct mail_index_txn *txn, uint64_t stamp0,
                              uint64_t stamp1)
{
    put32(&txn->ops, MAIL_INDEX_OP_SYNC_STAMP);
    buf_append(&txn->ops, &stamp0, 8);
    buf_append(&txn->ops, &stamp1, 8);
    return 0;
}

/* Appends the transaction's cache entries at the (4-aligned) end of the
 * cache file and turns their relative offsets into file offsets. */
static int write_cache(struct mail_index_txn *txn, struct buf *err)
{
    struct mail_index *idx = txn->idx;
    struct stat sb;
    if (fstat(idx->cache_fd, &sb) < 0) {
        buf_set_str(err, "");
        buf_appendf(err, "stat %s: %s", idx->cache_path, strerror(errno));
        return -1;
    }
    uint64_t base = ((uint64_t)sb.st_size + 3) & ~(uint64_t)3;
    if (mail_index_pwrite_all(idx->cache_fd, txn->cache.data, txn->cache.len,
                              (off_t)base) < 0) {
        buf_set_str(err, "");
        buf_appendf(err, "write %s: %s", idx->cache_path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < txn->patch_count; i++) {
        uint64_t offset;
        memcpy(&offset, txn->ops.data + txn->patches[i], 8);
        offset += base;
        memcpy(txn->ops.data + txn->patches[i], &offset, 8);
    }
    return 0;
}

/* Past this log size a compaction pays. */
static off_t compact_threshold(const struct mail_index *idx)
{
    return COMPACT_LOG_MIN + (off_t)(idx->base_len / 4);
}

/* An entry that would trigger a compaction at once (a rebuild, a big
 * import) goes straight into a new base: written to the log, it would
 * only be folded in. */
static int commit_folded(struct mail_index *idx, const struct buf *entry,
                         struct buf *err)
{
    size_t used;
    if (mail_index_log_scan(&idx->st, entry->data, entry->len, &used, NULL,
                            NULL, err) == MAIL_INDEX_SCAN_OK &&
        mail_index_compact_locked(idx, 0, err) == 0)
        return 0;
    /* nothing of it reached the base: back to what is on disk */
    struct buf ignored = BUF_INIT;
    (void)mail_index_open(idx, idx->st.hdr.uidvalidity, &ignored);
    buf_free(&ignored);
    return -1;
}

/* Appends the entry to the log, applies it, and compacts when the log
 * has grown past the threshold. */
static int commit_logged(struct mail_index *idx, const struct buf *entry,
                         struct buf *err)
{
    size_t used;
    if (mail_index_pwrite_all(idx->log_fd, entry->data, entry->len,
                              idx->log_end) < 0 ||
        (idx->fsync_enabled && fdatasync(idx->log_fd) < 0)) {
        buf_set_str(err, "");
        buf_appendf(err, "write %s: %s", idx->log_path, strerror(errno));
        (void)ftruncate(idx->log_fd, idx->log_end);
        return -1;
    }
    if (mail_index_log_scan(&idx->st, entry->data, entry->len, &used, NULL,
                            NULL, err) != MAIL_INDEX_SCAN_OK) {
        /* cannot happen: the operations were checked as they came */
        (void)ftruncate(idx->log_fd, idx->log_end);
        mail_index_close(idx);
        return -1;
    }
    idx->log_end += (off_t)entry->len;
    struct buf ignored = BUF_INIT;
    if (idx->log_end > compact_threshold(idx))
        (void)mail_index_compact_locked(idx, 0, &ignored);
    else
        (void)mail_index_refresh(idx, NULL, NULL, &ignored); /* maps the cache */
    buf_free(&ignored);
    return 0;
}

int mail_index_commit(struct mail_index_txn *txn, uint64_t *modseq_out,
                      struct buf *err)
{
    struct mail_index *idx = txn->idx;
    uint64_t modseq = txn->needs_modseq ? idx->st.hdr.highest_modseq + 1 : 0;
    if (modseq_out)
        *modseq_out = modseq;
    if (txn->ops.len == 0) {
        mail_index_rollback(txn);
        return 0;
    }
    if (txn->cache.len > 0 && write_cache(txn, err) < 0) {
        mail_index_rollback(txn);
        return -1;
    }
    struct buf entry = BUF_INIT;
    uint32_t length = (uint32_t)(MAIL_INDEX_LOG_ENTRY_HEAD + txn->ops.len);
    uint32_t head[4] = {length, length ^ 0xffffffffu, 0, 0};
    buf_reserve(&entry, length);
    buf_append(&entry, head, sizeof(head));
    buf_append(&entry, &modseq, 8);
    buf_append(&entry, txn->ops.data, txn->ops.len);
    uint32_t crc = crc32c(0, entry.data + 12, length - 12);
    memcpy(entry.data + 8, &crc, 4);

    int rc;
    if (txn->ops.len > MAIL_INDEX_LOG_ENTRY_MAX - MAIL_INDEX_LOG_ENTRY_HEAD) {
        buf_set_str(err, "index transaction too large");
        rc = -1;
    } else if (idx->log_end + (off_t)length > compact_threshold(idx)) {
        rc = commit_folded(idx, &entry, err);
    } else {
        rc = commit_logged(idx, &entry, err);
    }
    buf_free(&entry);
    mail_index_rollback(txn);
    return rc;
}
